// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { RLPWriter } from "./RLPWriter.sol";

/// @title PartialTrie
/// @notice An Ethereum Merkle-Patricia trie in memory, built from a root and ONE deduplicated set of its nodes (the
///         witness): any number of keys are read and written against it and the new root is computed once. A step
///         verifier that reads and writes many accounts or slots of one trie so carries each upper node (the 532-byte
///         root branch, ...) once, instead of once per key as one-key proofs (MerkleTrieWriter) do, and hashes each
///         modified node once instead of once per write.
///
///         The witness: every node the operations cross, referenced by hash, in any order, with duplicates and
///         unrelated nodes allowed (for reads alone, the `eth_getProof` proofs of the keys, concatenated). Nodes
///         under 32 bytes are embedded in their parent and are read from it; only the root is referenced by hash
///         whatever its size. Nodes are found by keccak256 and the walk only follows hashes from the root, so a
///         node that hashes to no reference on a walked path is never used. A node a walk needs and the set lacks
///         reverts `PartialTrie_MissingNode(hash)`: the witness is wrong, which says nothing about the trie.
///
///         Operations apply in the order they are called; deleting removes entries eagerly, as Ethereum clients do:
///         a branch left with one entry collapses at once (into a leaf for a value, else merged with its only child,
///         which must therefore be in the witness when it is referenced by hash: the "sibling" of the deletion).
///         `src/trie/partial-trie-witness.ts` builds the witness of an ordered list of operations.
///
///         Nodes are decoded lazily, once, into mutable `Node`s; `root` encodes and hashes only the nodes changed
///         since the last `root`, reusing the encodings (and hashes) of the others.
///
///         Keys are raw bytes of any length (a secure trie's caller passes keccak256(key)); values are non-empty byte
///         strings (the RLP payload of a leaf, e.g. an account's RLP), kept and returned by reference: a caller must
///         not modify a value it passed to `update` or got from `get`.
library PartialTrie {
    /// @notice keccak256(rlp("")), the root of the trie without keys.
    bytes32 internal constant EMPTY_TRIE_ROOT = 0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421;

    /// @notice A walk needs the node with this hash and the witness does not have it.
    error PartialTrie_MissingNode(bytes32 hash);
    /// @notice A node on a walked path is not a trie node: malformed RLP, not a 2- or 17-item list, a bad hex-prefix
    ///         path, a child reference neither a 32-byte hash nor an embedded list under 32 bytes, a list value.
    error PartialTrie_BadNode();
    /// @notice `update` with an empty value: tries store none; use `remove`.
    error PartialTrie_EmptyValue();

    uint256 private constant BRANCH = 0;
    uint256 private constant EXTENSION = 1;
    uint256 private constant LEAF = 2;

    /// @dev A child reference ("ref") is one word: 0 for none; HASH_TAG | address of the 32-byte hash (in the
    ///      parent's encoding) for an unresolved hashed child; EMBED_TAG | address of the RLP list (in the parent's
    ///      encoding) for an unresolved embedded child; else the memory address of a decoded `Node`. Resolving a
    ///      child replaces its reference in the parent by the `Node`'s address, so that every later walk and write
    ///      goes through the same `Node`.
    uint256 private constant HASH_TAG = 0x8000000000000000000000000000000000000000000000000000000000000000;
    uint256 private constant EMBED_TAG = 0x4000000000000000000000000000000000000000000000000000000000000000;
    uint256 private constant TAGS = HASH_TAG | EMBED_TAG;
    /// @dev Memory addresses fit in 64 bits (memory costs gas quadratically long before).
    uint256 private constant ADDRESS_MASK = 0xffffffffffffffff;

    /// @notice A decoded node.
    /// @dev `encoded` is the node's encoding while `dirty` is false (and `hash` its keccak256 when the encoding is 32
    ///      bytes or more); a changed node is dirty until `root` re-encodes it. `path`: a leaf's or extension's
    ///      nibbles, one per byte. `value`: a leaf's value, or a branch's (empty for none), as the RLP string's
    ///      payload. `children`: a branch's 16 child refs, or an extension's one.
    struct Node {
        uint256 kind;
        bool dirty;
        bytes32 hash;
        bytes encoded;
        bytes path;
        bytes value;
        uint256[] children;
    }

    /// @notice The trie: its root ref and the witness, indexed by hash.
    /// @dev `table` is an open-addressing hash table of 2^k slots (at least twice the nodes): slot i holds a node's
    ///      hash in `hashes[i]` and the memory address of its encoding in `table[i]`, probed linearly from the hash's
    ///      low bits. keccak256 outputs are uniform, so probes are short; an empty slot has hash 0.
    struct Trie {
        uint256 root;
        bytes32[] hashes;
        uint256[] table;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Public operations

    /// @notice The trie with root `_root` whose nodes are (among) `_nodes`. Hashes every node once to index it; the
    ///         nodes are decoded later, when a walk reaches them.
    /// @param _root The trie's root (EMPTY_TRIE_ROOT for the empty trie, which needs no node).
    /// @param _nodes The witness: RLP-encoded trie nodes, in any order.
    /// @return t_ The trie handle, in memory.
    function load(bytes32 _root, bytes[] memory _nodes) internal pure returns (Trie memory t_) {
        uint256 count = _nodes.length;
        uint256 size = 2;
        while (size < 2 * count) size <<= 1;
        t_.hashes = new bytes32[](size);
        t_.table = new uint256[](size);
        bytes32[] memory hashes = t_.hashes;
        uint256[] memory table = t_.table;
        // Indexing is the loop every node of the witness goes through, hence assembly: hash the node, probe from
        // its low bits to a free slot or to its own hash (a duplicate keeps the first copy: they are equal).
        assembly ("memory-safe") {
            let mask := sub(size, 1)
            let hashesData := add(hashes, 0x20)
            let tableData := add(table, 0x20)
            for { let i := 0 } lt(i, count) { i := add(i, 1) } {
                let node := mload(add(add(_nodes, 0x20), mul(i, 0x20)))
                let h := keccak256(add(node, 0x20), mload(node))
                for { let slot := and(h, mask) } 1 { slot := and(add(slot, 1), mask) } {
                    let at := mload(add(hashesData, mul(slot, 0x20)))
                    if iszero(at) {
                        mstore(add(hashesData, mul(slot, 0x20)), h)
                        mstore(add(tableData, mul(slot, 0x20)), node)
                        break
                    }
                    if eq(at, h) { break }
                }
            }
        }
        if (_root != EMPTY_TRIE_ROOT) t_.root = _hashRef(_root);
    }

    /// @notice Another trie whose nodes are in the same witness: the index is shared, not rebuilt (the state trie
    ///         and the storage tries of one step can so come in one node set, hashed once). Decoded nodes are not
    ///         shared: each trie decodes what it walks.
    /// @param _t A trie from `load`.
    /// @param _root The other trie's root.
    /// @return t_ The other trie's handle.
    function withRoot(Trie memory _t, bytes32 _root) internal pure returns (Trie memory t_) {
        t_.hashes = _t.hashes;
        t_.table = _t.table;
        if (_root != EMPTY_TRIE_ROOT) t_.root = _hashRef(_root);
    }

    /// @notice The value of `_key`, or its absence.
    /// @param _t The trie.
    /// @param _key The raw key (a secure trie's caller hashes it first).
    /// @return exists_ Whether the key is in the trie.
    /// @return value_ Its value (empty when absent); shared with the trie, not to be modified.
    function get(Trie memory _t, bytes memory _key) internal pure returns (bool exists_, bytes memory value_) {
        bytes memory key = _nibbles(_key);
        uint256 ref = _t.root;
        if (ref == 0) return (false, "");
        Node memory node = _resolve(_t, ref);
        _t.root = _addr(node);
        uint256 k = 0;
        while (true) {
            if (node.kind == BRANCH) {
                if (k == key.length) return (node.value.length > 0, node.value);
                uint256 nibble = uint8(key[k]);
                if (node.children[nibble] == 0) return (false, "");
                node = _child(_t, node, nibble);
                k += 1;
            } else {
                uint256 common = _commonPrefix(node.path, key, k);
                if (node.kind == LEAF) {
                    if (common == node.path.length && k + common == key.length) return (true, node.value);
                    return (false, "");
                }
                if (common < node.path.length) return (false, "");
                k += common;
                node = _child(_t, node, 0);
            }
        }
    }

    /// @notice Sets `_key` to `_value`: replaces its value, or inserts it (into an empty branch slot or value, or by
    ///         splitting the leaf or extension whose path diverges from the key's into a branch, under a shortened
    ///         extension for the nibbles they share).
    /// @param _t The trie.
    /// @param _key The raw key.
    /// @param _value The value; must not be empty. Kept by reference: not to be modified afterwards.
    function update(Trie memory _t, bytes memory _key, bytes memory _value) internal pure {
        if (_value.length == 0) revert PartialTrie_EmptyValue();
        _t.root = _insert(_t, _t.root, _nibbles(_key), 0, _value);
    }

    /// @notice Deletes `_key`; a no-op when the key is absent (the walk that shows its absence still needs its
    ///         nodes). A branch left with one entry collapses at once: into a leaf when the entry is its value, else
    ///         into its only child (which the witness must hold when hashed), merged with an extension above it.
    /// @param _t The trie.
    /// @param _key The raw key.
    function remove(Trie memory _t, bytes memory _key) internal pure {
        if (_t.root == 0) return;
        // Unchanged, the ref is the decoded root: keeping it saves decoding it again.
        (_t.root,) = _remove(_t, _t.root, _nibbles(_key), 0);
    }

    /// @notice The root after every operation so far. Encodes and hashes each node changed since the last call
    ///         once; embedded nodes (under 32 bytes) go into their parent, the root is hashed whatever its size.
    /// @param _t The trie.
    /// @return root_ The root hash.
    function root(Trie memory _t) internal pure returns (bytes32 root_) {
        uint256 ref = _t.root;
        if (ref == 0) return EMPTY_TRIE_ROOT;
        if (ref & HASH_TAG != 0) {
            assembly ("memory-safe") {
                root_ := mload(and(ref, ADDRESS_MASK))
            }
            return root_;
        }
        Node memory node = _nodeAt(ref);
        _seal(node);
        if (node.encoded.length >= 32) return node.hash;
        return keccak256(node.encoded);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Writes

    /// @notice Inserts `_key[_k:]` (nibbles) with `_value` under the node `_ref`; returns the ref replacing it.
    function _insert(Trie memory _t, uint256 _ref, bytes memory _key, uint256 _k, bytes memory _value)
        private
        pure
        returns (uint256)
    {
        if (_ref == 0) return _addr(_newLeaf(_slice(_key, _k, _key.length), _value));
        Node memory node = _resolve(_t, _ref);
        if (node.kind == BRANCH) {
            if (_k == _key.length) {
                node.value = _value;
            } else {
                uint256 nibble = uint8(_key[_k]);
                node.children[nibble] = _insert(_t, node.children[nibble], _key, _k + 1, _value);
            }
            node.dirty = true;
            return _addr(node);
        }
        uint256 common = _commonPrefix(node.path, _key, _k);
        if (common == node.path.length) {
            if (node.kind == LEAF) {
                if (_k + common == _key.length) {
                    node.value = _value;
                    node.dirty = true;
                    return _addr(node);
                }
            } else {
                node.children[0] = _insert(_t, node.children[0], _key, _k + common, _value);
                node.dirty = true;
                return _addr(node);
            }
        }
        return _split(node, common, _key, _k, _value);
    }

    /// @notice Inserts the key whose nibbles from `_k` on share `_common` nibbles with the path of `_node` (a leaf or
    ///         extension) and then diverge from it: a new branch at the first differing nibble holds both, under an
    ///         extension for the shared nibbles. Returns the ref replacing `_node`.
    function _split(Node memory _node, uint256 _common, bytes memory _key, uint256 _k, bytes memory _value)
        private
        pure
        returns (uint256)
    {
        Node memory branch = _newBranch();
        bytes memory path = _node.path;
        if (_common == path.length) {
            // Only a leaf gets here (an extension whose path the key continues was walked through): its key ends at
            // the new branch.
            branch.value = _node.value;
        } else {
            uint256 nibble = uint8(path[_common]);
            if (_node.kind == EXTENSION && _common + 1 == path.length) {
                // No nibble left: the extension's child branch hangs from the new branch directly.
                branch.children[nibble] = _node.children[0];
            } else {
                _node.path = _slice(path, _common + 1, path.length);
                _node.dirty = true;
                branch.children[nibble] = _addr(_node);
            }
        }
        uint256 at = _k + _common;
        if (at == _key.length) {
            branch.value = _value;
        } else {
            branch.children[uint8(_key[at])] = _addr(_newLeaf(_slice(_key, at + 1, _key.length), _value));
        }
        if (_common == 0) return _addr(branch);
        Node memory extension = _newNode(EXTENSION, _slice(path, 0, _common), "", 1);
        extension.children[0] = _addr(branch);
        return _addr(extension);
    }

    /// @notice Deletes `_key[_k:]` under the node `_ref`; returns the ref replacing it (0 when nothing is left) and
    ///         whether anything changed (not when the key is absent).
    function _remove(Trie memory _t, uint256 _ref, bytes memory _key, uint256 _k)
        private
        pure
        returns (uint256 ref_, bool changed_)
    {
        Node memory node = _resolve(_t, _ref);
        if (node.kind == LEAF) {
            if (_k + node.path.length == _key.length && _commonPrefix(node.path, _key, _k) == node.path.length) {
                return (0, true);
            }
            return (_addr(node), false);
        }
        if (node.kind == EXTENSION) {
            uint256 length = node.path.length;
            if (_commonPrefix(node.path, _key, _k) < length) return (_addr(node), false);
            (uint256 childRef, bool changed) = _remove(_t, node.children[0], _key, _k + length);
            if (!changed) {
                // The child is decoded now: keep it so that later walks do not decode it again.
                node.children[0] = childRef;
                return (_addr(node), false);
            }
            // A branch under an extension never empties (it had two entries or more): it stays a branch, or
            // collapsed into a leaf or an extension, which absorbs this extension's path.
            Node memory child = _nodeAt(childRef);
            if (child.kind == BRANCH) {
                node.children[0] = childRef;
                node.dirty = true;
                return (_addr(node), true);
            }
            child.path = bytes.concat(node.path, child.path);
            child.dirty = true;
            return (childRef, true);
        }
        if (_k == _key.length) {
            if (node.value.length == 0) return (_addr(node), false);
            node.value = "";
        } else {
            uint256 nibble = uint8(_key[_k]);
            uint256 childRef = node.children[nibble];
            if (childRef == 0) return (_addr(node), false);
            (uint256 newRef, bool changed) = _remove(_t, childRef, _key, _k + 1);
            // Unchanged, the child is decoded now: kept so that later walks do not decode it again.
            node.children[nibble] = newRef;
            if (!changed) return (_addr(node), false);
        }
        node.dirty = true;
        return (_collapse(_t, node), true);
    }

    /// @notice The ref replacing a branch that lost an entry: itself while it has two entries or more, else a leaf
    ///         for its value alone, or its only child with the child's nibble prepended (an extension of that one
    ///         nibble when the child is a branch).
    function _collapse(Trie memory _t, Node memory _branch) private pure returns (uint256) {
        uint256[] memory children = _branch.children;
        uint256 count = _branch.value.length > 0 ? 1 : 0;
        uint256 only = 16;
        for (uint256 i = 0; i < 16; i++) {
            if (children[i] != 0) {
                count++;
                only = i;
            }
        }
        if (count > 1) return _addr(_branch);
        if (count == 0) return 0;
        if (only == 16) return _addr(_newLeaf("", _branch.value));
        // The survivor has to be read to know whether it can absorb the nibble: the deletion's sibling.
        Node memory child = _child(_t, _branch, only);
        bytes memory nibble = new bytes(1);
        nibble[0] = bytes1(uint8(only));
        if (child.kind == BRANCH) {
            Node memory extension = _newNode(EXTENSION, nibble, "", 1);
            extension.children[0] = _addr(child);
            return _addr(extension);
        }
        child.path = bytes.concat(nibble, child.path);
        child.dirty = true;
        return _addr(child);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Resolving and decoding

    /// @notice Child `_index` of `_parent` (which must not be empty), decoded and cached in the parent.
    function _child(Trie memory _t, Node memory _parent, uint256 _index) private pure returns (Node memory child_) {
        child_ = _resolve(_t, _parent.children[_index]);
        _parent.children[_index] = _addr(child_);
    }

    /// @notice The node a non-empty ref designates, decoded when it is a hash (from the witness) or an embedded
    ///         encoding.
    function _resolve(Trie memory _t, uint256 _ref) private pure returns (Node memory node_) {
        if (_ref & TAGS == 0) return _nodeAt(_ref);
        uint256 ptr = _ref & ADDRESS_MASK;
        if (_ref & HASH_TAG != 0) {
            bytes32 h;
            assembly ("memory-safe") {
                h := mload(ptr)
            }
            node_ = _decode(_lookup(_t, h));
            node_.hash = h;
        } else {
            // An embedded node is a short list: one header byte (0xc0 + length) and under 31 bytes of payload.
            node_ = _decode(_copy(ptr, _byteAt(ptr) - 0xbf));
        }
    }

    /// @notice The witness node with hash `_hash`.
    function _lookup(Trie memory _t, bytes32 _hash) private pure returns (bytes memory node_) {
        bytes32[] memory hashes = _t.hashes;
        uint256[] memory table = _t.table;
        bool found;
        assembly ("memory-safe") {
            let mask := sub(mload(hashes), 1)
            for { let slot := and(_hash, mask) } 1 { slot := and(add(slot, 1), mask) } {
                let at := mload(add(add(hashes, 0x20), mul(slot, 0x20)))
                if eq(at, _hash) {
                    node_ := mload(add(add(table, 0x20), mul(slot, 0x20)))
                    found := 1
                    break
                }
                if iszero(at) { break }
            }
        }
        if (!found) revert PartialTrie_MissingNode(_hash);
    }

    /// @notice Decodes a trie node into a clean `Node` whose child refs point into `_encoded`. Checks the RLP shape
    ///         (lengths fit exactly, short forms where they suffice) and the child references.
    function _decode(bytes memory _encoded) private pure returns (Node memory node_) {
        node_.encoded = _encoded;
        uint256 base;
        uint256 length = _encoded.length;
        assembly ("memory-safe") {
            base := add(_encoded, 0x20)
        }
        if (length == 0 || _byteAt(base) < 0xc0) revert PartialTrie_BadNode();
        (uint256 first, uint256 end, bool bad) = _span(base, base + length);
        if (bad || end != base + length) revert PartialTrie_BadNode();
        uint256[] memory children = new uint256[](17);
        (uint256 count, uint256 lastAt, uint256 flags) = _scan(first, end, children);
        if (flags & 1 != 0) revert PartialTrie_BadNode();
        if (count == 17) {
            if (flags & 2 != 0) revert PartialTrie_BadNode();
            assembly ("memory-safe") {
                mstore(children, 16)
            }
            node_.kind = BRANCH;
            node_.children = children;
            node_.value = _stringPayload(lastAt, end - lastAt);
            return node_;
        }
        if (count != 2) revert PartialTrie_BadNode();
        (bytes memory path, bool isLeaf) = _decodePath(first, lastAt - first);
        node_.path = path;
        if (isLeaf) {
            node_.kind = LEAF;
            node_.value = _stringPayload(lastAt, end - lastAt);
            if (node_.value.length == 0) revert PartialTrie_BadNode();
        } else {
            if (path.length == 0) revert PartialTrie_BadNode();
            node_.kind = EXTENSION;
            children[0] = _childRef(lastAt, end - lastAt, false);
            assembly ("memory-safe") {
                mstore(children, 1)
            }
            node_.children = children;
        }
    }

    /// @notice Splits the items of a node's payload (memory `[_at, _end)`): counts them, notes where the last one
    ///         starts (`lastAt_`: a branch's value, or a leaf's value or an extension's child), and writes to
    ///         `_children` (room for 17) the child ref each item would be in a branch. `flags_`: bit 0 malformed
    ///         RLP or more than 17 items, bit 1 one of the first 16 items is no child reference (which matters for a
    ///         branch only).
    /// @dev Every node is decoded once and a witness holds dozens, hence assembly, with the fast paths first: what
    ///      branches are made of, empty slots and hashes.
    function _scan(uint256 _at, uint256 _end, uint256[] memory _children)
        private
        pure
        returns (uint256 count_, uint256 lastAt_, uint256 flags_)
    {
        assembly ("memory-safe") {
            let start := add(_children, 0x20)
            let slot := start
            let lastChild := add(start, 0x200)
            let limit := add(start, 0x220)
            let at := _at
            for {} lt(at, _end) {} {
                if eq(slot, limit) {
                    flags_ := 1
                    break
                }
                lastAt_ := at
                let prefix := byte(0, mload(at))
                let ref := 0
                switch prefix
                case 0x80 { at := add(at, 1) }
                case 0xa0 {
                    ref := or(HASH_TAG, add(at, 1))
                    at := add(at, 33)
                }
                default {
                    // An embedded node is a list of under 32 bytes, header included.
                    if and(lt(slot, lastChild), or(lt(prefix, 0xc0), gt(prefix, 0xde))) { flags_ := or(flags_, 2) }
                    ref := or(EMBED_TAG, at)
                    // The general case, with RLPReader's canonical-form rules.
                    switch lt(prefix, 0x80)
                    case 1 { at := add(at, 1) }
                    default {
                        switch or(lt(prefix, 0xb8), and(gt(prefix, 0xbf), lt(prefix, 0xf8)))
                        case 1 {
                            if and(eq(prefix, 0x81), lt(byte(0, mload(add(at, 1))), 0x80)) { flags_ := or(flags_, 1) }
                            at := add(add(at, 1), sub(prefix, add(0x80, mul(0x40, gt(prefix, 0xbf)))))
                        }
                        default {
                            let lengthOfLength := sub(prefix, add(0xb7, mul(0x40, gt(prefix, 0xbf))))
                            if gt(lengthOfLength, 4) { flags_ := or(flags_, 1) }
                            let word := mload(add(at, 1))
                            if iszero(byte(0, word)) { flags_ := or(flags_, 1) }
                            let itemLength := shr(sub(256, mul(8, lengthOfLength)), word)
                            if lt(itemLength, 56) { flags_ := or(flags_, 1) }
                            at := add(add(add(at, 1), lengthOfLength), itemLength)
                        }
                    }
                }
                mstore(slot, ref)
                slot := add(slot, 0x20)
            }
            if iszero(eq(at, _end)) { flags_ := or(flags_, 1) }
            count_ := shr(5, sub(slot, start))
        }
    }

    /// @notice Where the payload of the RLP item at memory `_at` starts and where the item ends, and whether it is
    ///         malformed: past `_limit`, or not canonical (a wrapped single byte, a long form under 56 bytes, a
    ///         length with a leading zero).
    function _span(uint256 _at, uint256 _limit) private pure returns (uint256 payload_, uint256 end_, bool bad_) {
        assembly ("memory-safe") {
            let prefix := byte(0, mload(_at))
            switch lt(prefix, 0x80)
            case 1 {
                payload_ := _at
                end_ := add(_at, 1)
            }
            default {
                switch or(lt(prefix, 0xb8), and(gt(prefix, 0xbf), lt(prefix, 0xf8)))
                case 1 {
                    payload_ := add(_at, 1)
                    end_ := add(payload_, sub(prefix, add(0x80, mul(0x40, gt(prefix, 0xbf)))))
                    if and(eq(prefix, 0x81), lt(byte(0, mload(payload_)), 0x80)) { bad_ := 1 }
                }
                default {
                    let lengthOfLength := sub(prefix, add(0xb7, mul(0x40, gt(prefix, 0xbf))))
                    if gt(lengthOfLength, 4) { bad_ := 1 }
                    let word := mload(add(_at, 1))
                    if iszero(byte(0, word)) { bad_ := 1 }
                    let itemLength := shr(sub(256, mul(8, lengthOfLength)), word)
                    if lt(itemLength, 56) { bad_ := 1 }
                    payload_ := add(add(_at, 1), lengthOfLength)
                    end_ := add(payload_, itemLength)
                }
            }
            if gt(end_, _limit) { bad_ := 1 }
        }
    }

    /// @notice The ref of the child reference item at `_ptr` (`_length` bytes): empty (only in a branch), a 32-byte
    ///         hash, or an embedded list under 32 bytes.
    function _childRef(uint256 _ptr, uint256 _length, bool _mayBeEmpty) private pure returns (uint256) {
        uint256 first = _byteAt(_ptr);
        if (_length == 33 && first == 0xa0) return HASH_TAG | (_ptr + 1);
        if (_length < 32 && first >= 0xc0) return EMBED_TAG | _ptr;
        if (_mayBeEmpty && _length == 1 && first == 0x80) return 0;
        revert PartialTrie_BadNode();
    }

    /// @notice A copy of the payload of the string item at `_ptr` (a value).
    function _stringPayload(uint256 _ptr, uint256 _available) private pure returns (bytes memory) {
        (uint256 payload, uint256 end, bool bad) = _span(_ptr, _ptr + _available);
        if (bad || _byteAt(_ptr) >= 0xc0) revert PartialTrie_BadNode();
        return _copy(payload, end - payload);
    }

    /// @notice Decodes the hex-prefix path item at `_ptr`: a flag nibble (2 for a leaf, plus 1 for an odd length),
    ///         for an even length a zero pad nibble, then the path's nibbles.
    function _decodePath(uint256 _ptr, uint256 _available) private pure returns (bytes memory path_, bool isLeaf_) {
        (uint256 ptr, uint256 end, bool bad) = _span(_ptr, _ptr + _available);
        uint256 length = end - ptr;
        if (bad || _byteAt(_ptr) >= 0xc0 || length == 0) revert PartialTrie_BadNode();
        uint256 firstByte = _byteAt(ptr);
        uint256 flag = firstByte >> 4;
        uint256 odd = flag & 1;
        if (flag > 3 || (odd == 0 && firstByte & 0x0f != 0)) revert PartialTrie_BadNode();
        path_ = _allocate(length * 2 - 2 + odd);
        uint256 dest;
        assembly ("memory-safe") {
            dest := add(path_, 0x20)
            mstore8(dest, and(firstByte, 0x0f))
        }
        _spread(ptr + 1, length - 1, dest + odd);
        isLeaf_ = flag >= 2;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Encoding

    /// @notice Encodes `_node` and its dirty descendants (once each) and marks them clean with their encodings and
    ///         hashes.
    function _seal(Node memory _node) private pure {
        if (!_node.dirty) return;
        bytes memory encoded;
        if (_node.kind == BRANCH) {
            encoded = _encodeBranch(_node);
        } else if (_node.kind == LEAF) {
            encoded = _encodeShort(_hexPrefix(_node.path, true), _node.value, true);
        } else {
            encoded = _encodeShort(_hexPrefix(_node.path, false), _refItem(_node.children[0]), false);
        }
        _node.encoded = encoded;
        _node.hash = encoded.length >= 32 ? keccak256(encoded) : bytes32(0);
        _node.dirty = false;
    }

    /// @notice The encoding of a leaf or extension, written into one buffer: the list header, the hex-prefix path
    ///         `_hp` as a string, then `_last`: a leaf's value, encoded here as a string (`_encodeLast`), or an
    ///         extension's child reference item, copied as it is.
    function _encodeShort(bytes memory _hp, bytes memory _last, bool _encodeLast)
        private
        pure
        returns (bytes memory out_)
    {
        uint256 hpLength = _hp.length;
        // The flag nibble keeps the first byte of a hex-prefix path under 0x80: alone, it is its own encoding.
        uint256 hpHeader = hpLength == 1 ? 0 : 1;
        uint256 lastLength = _last.length;
        uint256 lastHeader = 0;
        if (_encodeLast && !(lastLength == 1 && uint8(_last[0]) < 0x80)) lastHeader = _headerLength(lastLength);
        uint256 payload = hpHeader + hpLength + lastHeader + lastLength;
        uint256 listHeader = _headerLength(payload);
        out_ = _allocate(listHeader + payload);
        assembly ("memory-safe") {
            // A header of `size` bytes: none, a short form `base + n`, or a long form `base + 55 + k` then n in k
            // bytes.
            function header(dest, size, n, base) -> next {
                next := add(dest, size)
                switch size
                case 0 {}
                case 1 { mstore8(dest, add(base, n)) }
                case 2 {
                    mstore8(dest, add(base, 56))
                    mstore8(add(dest, 1), n)
                }
                default {
                    let k := sub(size, 1)
                    mstore8(dest, add(add(base, 55), k))
                    for { let i := 0 } lt(i, k) { i := add(i, 1) } {
                        mstore8(add(add(dest, 1), i), byte(add(sub(32, k), i), n))
                    }
                }
            }
            let dest := header(add(out_, 0x20), listHeader, payload, 0xc0)
            dest := header(dest, hpHeader, hpLength, 0x80)
            mcopy(dest, add(_hp, 0x20), hpLength)
            dest := header(add(dest, hpLength), lastHeader, lastLength, 0x80)
            mcopy(dest, add(_last, 0x20), lastLength)
            mstore(add(dest, lastLength), 0)
        }
    }

    /// @notice The encoding of a branch: its 16 child references and its value, written into one buffer.
    function _encodeBranch(Node memory _node) private pure returns (bytes memory out_) {
        uint256 payload = 0;
        uint256[] memory children = _node.children;
        for (uint256 i = 0; i < 16; i++) {
            uint256 ref = children[i];
            if (ref == 0) {
                payload += 1;
            } else if (ref & HASH_TAG != 0) {
                payload += 33;
            } else if (ref & EMBED_TAG != 0) {
                payload += _byteAt(ref & ADDRESS_MASK) - 0xbf;
            } else {
                Node memory child = _nodeAt(ref);
                _seal(child);
                uint256 length = child.encoded.length;
                payload += length < 32 ? length : 33;
            }
        }
        bytes memory value = _node.value.length == 0 ? bytes(hex"80") : RLPWriter.writeBytes(_node.value);
        payload += value.length;
        uint256 headerLength = _headerLength(payload);
        out_ = _allocate(headerLength + payload);
        // Each reference is written from its ref: 0x80 for none, 0xa0 and the hash for a hash (unresolved, or a
        // node's of 32 bytes or more, sealed above), the encoding itself for an embedded one. Node fields are read
        // at their offsets in the struct: hash 0x40, encoded 0x60.
        assembly ("memory-safe") {
            let dest := add(out_, 0x20)
            switch headerLength
            case 1 { mstore8(dest, add(0xc0, payload)) }
            case 3 {
                // The usual size of a branch of hashes: 0xf9 and two bytes.
                mstore8(dest, 0xf9)
                mstore8(add(dest, 1), shr(8, payload))
                mstore8(add(dest, 2), and(payload, 0xff))
            }
            default {
                // The long form: 0xf7 + k, then the payload's length in k bytes.
                let k := sub(headerLength, 1)
                mstore8(dest, add(0xf7, k))
                for { let j := 0 } lt(j, k) { j := add(j, 1) } {
                    mstore8(add(add(dest, 1), j), byte(add(sub(32, k), j), payload))
                }
            }
            dest := add(dest, headerLength)
            for { let i := 0 } lt(i, 16) { i := add(i, 1) } {
                let ref := mload(add(add(children, 0x20), shl(5, i)))
                switch iszero(ref)
                case 1 {
                    mstore8(dest, 0x80)
                    dest := add(dest, 1)
                }
                default {
                    let ptr := and(ref, ADDRESS_MASK)
                    // The tag bits: 0 a node, 2 a hash, 1 an embedded encoding.
                    switch shr(254, ref)
                    case 0 {
                        let encoded := mload(add(ptr, 0x60))
                        let n := mload(encoded)
                        switch lt(n, 32)
                        case 1 {
                            mcopy(dest, add(encoded, 0x20), n)
                            dest := add(dest, n)
                        }
                        default {
                            mstore8(dest, 0xa0)
                            mstore(add(dest, 1), mload(add(ptr, 0x40)))
                            dest := add(dest, 33)
                        }
                    }
                    case 2 {
                        mstore8(dest, 0xa0)
                        mstore(add(dest, 1), mload(ptr))
                        dest := add(dest, 33)
                    }
                    default {
                        let n := sub(byte(0, mload(ptr)), 0xbf)
                        mcopy(dest, ptr, n)
                        dest := add(dest, n)
                    }
                }
            }
            mcopy(dest, add(value, 0x20), mload(value))
            // Clean bytes after the end, as Solidity expects of a bytes array's last word.
            mstore(add(add(out_, 0x20), mload(out_)), 0)
        }
    }

    /// @notice The reference item a parent holds for the non-empty child `_ref`: its encoding when under 32 bytes,
    ///         else 0xa0 and its hash. Seals a dirty child first.
    function _refItem(uint256 _ref) private pure returns (bytes memory) {
        if (_ref & HASH_TAG != 0) {
            bytes32 h;
            assembly ("memory-safe") {
                h := mload(and(_ref, ADDRESS_MASK))
            }
            return RLPWriter.writeBytes32(h);
        }
        if (_ref & EMBED_TAG != 0) {
            uint256 ptr = _ref & ADDRESS_MASK;
            return _copy(ptr, _byteAt(ptr) - 0xbf);
        }
        Node memory node = _nodeAt(_ref);
        _seal(node);
        if (node.encoded.length < 32) return node.encoded;
        return RLPWriter.writeBytes32(node.hash);
    }

    /// @notice The size of the RLP header of a payload of `_length` bytes: one byte under 56, else one plus the
    ///         length's own bytes.
    function _headerLength(uint256 _length) private pure returns (uint256 size_) {
        if (_length < 56) return 1;
        if (_length < 256) return 2;
        if (_length < 65536) return 3;
        size_ = 1;
        for (uint256 v = _length; v != 0; v >>= 8) size_++;
    }

    /// @notice Hex-prefix encoding: a flag nibble (2 for a leaf, plus 1 for an odd length), a zero pad nibble for an
    ///         even length, then the path's nibbles packed two per byte.
    function _hexPrefix(bytes memory _path, bool _leaf) private pure returns (bytes memory out_) {
        uint256 length = _path.length;
        uint256 odd = length % 2;
        out_ = _allocate(length / 2 + 1);
        uint256 first = ((_leaf ? 2 : 0) + odd) << 4;
        if (odd == 1) first |= uint8(_path[0]);
        // Packs the nibbles after the first odd one two per byte, 32 nibbles (one word) at a time: the reverse of
        // `_spread`. Nibbles past the path's end only reach bytes past the output's end (within its padding).
        assembly ("memory-safe") {
            let dest := add(out_, 0x20)
            mstore8(dest, first)
            dest := add(dest, 1)
            let src := add(add(_path, 0x20), odd)
            let n := sub(length, odd)
            for { let i := 0 } lt(i, n) { i := add(i, 32) } {
                let x := mload(add(src, i))
                x := and(or(shr(4, x), x), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff)
                x := and(or(shr(8, x), x), 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff)
                x := and(or(shr(16, x), x), 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff)
                x := and(or(shr(32, x), x), 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff)
                x := and(or(shr(64, x), x), 0xffffffffffffffffffffffffffffffff)
                mstore(add(dest, shr(1, i)), shl(128, x))
            }
            // Clean bytes after the end, as Solidity expects of a bytes array's last word.
            mstore(add(add(out_, 0x20), mload(out_)), 0)
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Nodes and memory

    /// @notice A new (dirty) node with `_children` empty child refs.
    function _newNode(uint256 _kind, bytes memory _path, bytes memory _value, uint256 _children)
        private
        pure
        returns (Node memory node_)
    {
        node_.kind = _kind;
        node_.dirty = true;
        node_.path = _path;
        node_.value = _value;
        if (_children > 0) node_.children = new uint256[](_children);
    }

    /// @notice A new leaf.
    function _newLeaf(bytes memory _path, bytes memory _value) private pure returns (Node memory) {
        return _newNode(LEAF, _path, _value, 0);
    }

    /// @notice A new branch without entries.
    function _newBranch() private pure returns (Node memory) {
        return _newNode(BRANCH, "", "", 16);
    }

    /// @notice A ref to a 32-byte word holding `_hash` (the root's, which no parent encoding holds).
    function _hashRef(bytes32 _hash) private pure returns (uint256 ref_) {
        assembly ("memory-safe") {
            ref_ := mload(0x40)
            mstore(ref_, _hash)
            mstore(0x40, add(ref_, 0x20))
        }
        ref_ |= HASH_TAG;
    }

    /// @notice The memory address of `_node`: its ref.
    function _addr(Node memory _node) private pure returns (uint256 ref_) {
        assembly ("memory-safe") {
            ref_ := _node
        }
    }

    /// @notice The node at memory address `_ref`.
    function _nodeAt(uint256 _ref) private pure returns (Node memory node_) {
        assembly ("memory-safe") {
            node_ := _ref
        }
    }

    /// @notice The byte at memory address `_ptr`.
    function _byteAt(uint256 _ptr) private pure returns (uint256 b_) {
        assembly ("memory-safe") {
            b_ := byte(0, mload(_ptr))
        }
    }

    /// @notice A copy of `_length` bytes at memory address `_src`.
    function _copy(uint256 _src, uint256 _length) private pure returns (bytes memory out_) {
        out_ = new bytes(_length);
        assembly ("memory-safe") {
            mcopy(add(out_, 0x20), _src, _length)
        }
    }

    /// @notice The number of nibbles `_path` shares with `_key` from `_k` on, compared a word (32 nibbles) at a time.
    function _commonPrefix(bytes memory _path, bytes memory _key, uint256 _k) private pure returns (uint256 n_) {
        uint256 max = _path.length;
        if (_key.length - _k < max) max = _key.length - _k;
        assembly ("memory-safe") {
            let path := add(_path, 0x20)
            let key := add(add(_key, 0x20), _k)
            for {} lt(n_, max) {} {
                let x := xor(mload(add(path, n_)), mload(add(key, n_)))
                let rest := sub(max, n_)
                // Only the first `rest` bytes of the last word count.
                if lt(rest, 32) { x := and(x, not(shr(mul(rest, 8), not(0)))) }
                if iszero(x) {
                    n_ := add(n_, 32)
                    continue
                }
                for {} iszero(byte(0, x)) {} {
                    x := shl(8, x)
                    n_ := add(n_, 1)
                }
                break
            }
            if gt(n_, max) { n_ := max }
        }
    }

    /// @notice The nibbles of `_bytes`, high nibble first, one per byte.
    function _nibbles(bytes memory _bytes) private pure returns (bytes memory nibbles_) {
        uint256 length = _bytes.length;
        nibbles_ = _allocate(length * 2);
        uint256 src;
        uint256 dest;
        assembly ("memory-safe") {
            src := add(_bytes, 0x20)
            dest := add(nibbles_, 0x20)
        }
        _spread(src, length, dest);
    }

    /// @notice Writes the nibbles of the `_length` bytes at `_src` to `_dest`, one per byte, high nibble first, 16
    ///         bytes (one word of nibbles) at a time: each byte moves to its own 16-bit lane by halving shifts, then
    ///         its high nibble to the lane's first byte. Writes up to 31 bytes past the end (`_allocate`'s padding).
    function _spread(uint256 _src, uint256 _length, uint256 _dest) private pure {
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, _length) { i := add(i, 16) } {
                let x := shr(128, mload(add(_src, i)))
                x := and(or(shl(64, x), x), 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff)
                x := and(or(shl(32, x), x), 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff)
                x := and(or(shl(16, x), x), 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff)
                x := and(or(shl(8, x), x), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff)
                x := or(
                    and(shl(4, x), 0x0f000f000f000f000f000f000f000f000f000f000f000f000f000f000f000f00),
                    and(x, 0x000f000f000f000f000f000f000f000f000f000f000f000f000f000f000f000f)
                )
                mstore(add(_dest, shl(1, i)), x)
            }
        }
    }

    /// @notice A new bytes array of `_length` bytes, its contents unset, followed by 32 bytes of padding that word
    ///         writes past its end may use (the end itself is zeroed after them where it matters).
    function _allocate(uint256 _length) private pure returns (bytes memory out_) {
        assembly ("memory-safe") {
            out_ := mload(0x40)
            mstore(out_, _length)
            mstore(0x40, add(out_, and(add(_length, 0x5f), not(0x1f))))
        }
    }

    /// @notice A copy of `_b[_start:_end]`.
    function _slice(bytes memory _b, uint256 _start, uint256 _end) private pure returns (bytes memory) {
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := add(add(_b, 0x20), _start)
        }
        return _copy(ptr, _end - _start);
    }
}
