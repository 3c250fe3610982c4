// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { RLPWriter } from "./RLPWriter.sol";

/// @title MerkleTrieWriter
/// @notice Reads and writes one key of an Ethereum Merkle-Patricia trie given only its root and the proof of that
///         key, and returns the new root: what a stateless step verifier needs to apply a transaction's writes.
///
///         Proof format: `eth_getProof`'s. The nodes on the key's path from the root, in order, each one the node its
///         parent references by hash. Nodes shorter than 32 bytes are embedded in their parent and are NOT separate
///         proof elements: they are read from the parent and written back into it (only the root is hashed whatever
///         its size), so every shape works, including the short keys and values of the rlp(index)-keyed transactions
///         and receipts tries, whose leaves and even branches are often embedded. For a key that is absent, the path
///         ends where the key diverges: at a branch whose slot for the key's next nibble is empty (or whose value slot
///         is empty when the key ends there), or at the leaf or extension whose path differs from the key's. The empty
///         trie (root = EMPTY_TRIE_ROOT) has the empty proof (or `[0x80]`, its root node).
///
///         The walk is strict, so a key has one accepted proof under a root (the empty trie aside): a node that does not hash to its
///         parent's reference, a hashed node under 32 bytes, a proof that stops early, or one with nodes past the end
///         of the path reverts. Keys are raw: a secure trie's caller passes keccak256(key).
///
///         Values are never empty (an empty value is the absence of a key): `update` rejects one, and a proof that
///         shows an empty value reverts; deletions go through `remove`.
library MerkleTrieWriter {
    /// @notice keccak256(rlp("")), the root of the trie without keys.
    bytes32 internal constant EMPTY_TRIE_ROOT = 0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421;

    /// @notice A proof node does not hash to the reference its parent (or the root) holds, or is a hashed node
    ///         shorter than 32 bytes (those are embedded in their parent instead).
    error MerkleTrieWriter_BadNodeReference();
    /// @notice A node is not a trie node: malformed or non-canonical RLP, not a 2- or 17-item list, a bad hex-prefix
    ///         path, a followed reference that is neither a 32-byte hash nor an embedded node under 32 bytes, an empty
    ///         or list value, an extension without a path, or (found by `remove`, which relies on them) a leaf under
    ///         an extension or a branch with a single entry.
    error MerkleTrieWriter_BadNode();
    /// @notice The proof ends before the key's path does.
    error MerkleTrieWriter_MissingProofNode();
    /// @notice The proof has nodes past the end of the key's path (or, for `remove`, past the sibling it needs).
    error MerkleTrieWriter_ExtraProofNodes();
    /// @notice `update` with an empty value: tries store none; use `remove`.
    error MerkleTrieWriter_EmptyValue();
    /// @notice `remove` leaves a branch with one hash-referenced child, which must be merged into its parent, and the
    ///         proof does not end with that child's node.
    error MerkleTrieWriter_MissingSibling();

    uint256 private constant BRANCH = 0;
    uint256 private constant EXTENSION = 1;
    uint256 private constant LEAF = 2;

    /// @notice A decoded node, kept as its encoding plus where its items start: reading an item costs no copy, and a
    ///         node with one item replaced re-encodes with three memory copies.
    /// @dev `bounds[i]` is the offset in `encoded` of item i, `bounds[n]` the end of the last: a branch has 17 items
    ///      (16 child references, then the value), a leaf or extension 2 (its hex-prefix path, then its value or child
    ///      reference). `path` holds the nibbles of a leaf's or extension's path.
    struct Node {
        uint256 kind;
        bytes encoded;
        uint256[] bounds;
        bytes path;
    }

    /// @notice The nodes a key's path crosses, root first, embedded nodes included, and where it ended.
    /// @dev `slots[i]` is the slot the path takes through branch `nodes[i]` (16 when the key ends at the branch).
    ///      `keyIndex` is the number of key nibbles consumed above the last node. `found` says whether the last node
    ///      holds the key's value; `proofUsed` counts the proof elements read.
    struct Walk {
        Node[] nodes;
        uint256[] slots;
        uint256 depth;
        uint256 keyIndex;
        bool found;
        uint256 proofUsed;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Public operations

    /// @notice The value of `_key` in the trie with root `_root`, or its absence, proven by `_proof`.
    /// @param _key The raw key (a secure trie's caller hashes it first).
    /// @param _proof An inclusion or exclusion proof, as `eth_getProof` returns it.
    /// @param _root The trie's root.
    /// @return exists_ Whether the key is in the trie.
    /// @return value_ Its value (empty when absent).
    function get(bytes memory _key, bytes[] memory _proof, bytes32 _root)
        internal
        pure
        returns (bool exists_, bytes memory value_)
    {
        Walk memory w = _walk(_nibbles(_key), _proof, _root);
        if (w.proofUsed != _proof.length) revert MerkleTrieWriter_ExtraProofNodes();
        if (!w.found) return (false, "");
        Node memory node = w.nodes[w.depth - 1];
        return (true, _stringPayload(node, node.kind == BRANCH ? 16 : 1));
    }

    /// @notice Sets `_key` to `_value` in the trie with root `_root` and returns the new root. Replaces an existing
    ///         value, or inserts the key: into an empty branch slot or value, or by splitting the leaf or extension
    ///         whose path diverges from the key's into a branch (under a shortened extension when they share nibbles).
    /// @param _key The raw key.
    /// @param _value The new value; must not be empty.
    /// @param _proof The key's inclusion or exclusion proof under `_root`, as for `get`.
    /// @param _root The trie's root before the write.
    /// @return newRoot_ The root after the write.
    function update(bytes memory _key, bytes memory _value, bytes[] memory _proof, bytes32 _root)
        internal
        pure
        returns (bytes32 newRoot_)
    {
        if (_value.length == 0) revert MerkleTrieWriter_EmptyValue();
        bytes memory key = _nibbles(_key);
        Walk memory w = _walk(key, _proof, _root);
        if (w.proofUsed != _proof.length) revert MerkleTrieWriter_ExtraProofNodes();
        bytes memory valueItem = RLPWriter.writeBytes(_value);
        if (w.depth == 0) return keccak256(_encodeShort(LEAF, key, valueItem));

        uint256 last = w.depth - 1;
        Node memory node = w.nodes[last];
        bytes memory encoded;
        if (node.kind == BRANCH) {
            // Found or not, the key's slot (a value slot, or an empty child slot) takes the new value or leaf.
            uint256 slot = w.slots[last];
            encoded = _replace(
                node,
                slot,
                slot == 16 ? valueItem : _ref(_encodeShort(LEAF, _slice(key, w.keyIndex + 1, key.length), valueItem))
            );
        } else if (w.found) {
            encoded = _replace(node, 1, valueItem);
        } else {
            encoded = _split(node, key, w.keyIndex, valueItem);
        }
        return _rehash(w, last, encoded);
    }

    /// @notice Deletes `_key` from the trie with root `_root` and returns the new root (`_root` itself when the key
    ///         is absent). A branch left with a single entry collapses: into a leaf when the entry is its value, else
    ///         into its remaining child prefixed with that child's nibble, merged with an extension above it.
    /// @param _key The raw key.
    /// @param _proof The key's proof under `_root`, as for `get`; when the key is present and its deletion leaves a
    ///        branch with exactly one child referenced by hash (not embedded) and no value, followed by that child's
    ///        node (the "sibling": the node after the branch in any proof of a key under that child). With no such
    ///        branch, nothing may follow the proof.
    /// @param _root The trie's root before the deletion.
    /// @return newRoot_ The root after the deletion.
    function remove(bytes memory _key, bytes[] memory _proof, bytes32 _root) internal pure returns (bytes32 newRoot_) {
        Walk memory w = _walk(_nibbles(_key), _proof, _root);
        if (!w.found) {
            if (w.proofUsed != _proof.length) revert MerkleTrieWriter_ExtraProofNodes();
            return _root;
        }
        uint256 at = w.depth - 1;
        Node memory branch = w.nodes[at];
        if (branch.kind == LEAF) {
            if (at == 0) {
                if (w.proofUsed != _proof.length) revert MerkleTrieWriter_ExtraProofNodes();
                return EMPTY_TRIE_ROOT;
            }
            at -= 1;
            branch = w.nodes[at];
            if (branch.kind != BRANCH) revert MerkleTrieWriter_BadNode();
        }
        uint256 cleared = w.slots[at];

        (uint256 count, uint256 only) = _entries(branch, cleared);
        if (count == 0) revert MerkleTrieWriter_BadNode();
        if (count > 1) {
            if (w.proofUsed != _proof.length) revert MerkleTrieWriter_ExtraProofNodes();
            return _rehash(w, at, _replace(branch, cleared, hex"80"));
        }

        (uint256 kind, bytes memory path, bytes memory item) = _collapse(branch, only, _proof, w.proofUsed);
        // An extension above the collapsed branch now points at an extension or a leaf: the two paths join.
        if (at > 0 && w.nodes[at - 1].kind == EXTENSION) {
            at -= 1;
            path = bytes.concat(w.nodes[at].path, path);
        }
        return _rehash(w, at, _encodeShort(kind, path, item));
    }

    // ------------------------------------------------------------------------------------------------------------
    // The walk

    /// @notice Follows `_key` (nibbles) from `_root` through `_proof`, decoding every node on the way.
    function _walk(bytes memory _key, bytes[] memory _proof, bytes32 _root) private pure returns (Walk memory w_) {
        // A path has at most a branch and an extension per nibble plus the last node, and at most the proof's nodes
        // plus the embedded ones under the last of them (all within one node under 32 bytes, so fewer than 32).
        uint256 bound = 2 * _key.length + 2;
        if (_proof.length + 32 < bound) bound = _proof.length + 32;
        w_.nodes = _nodeArray(bound);
        w_.slots = new uint256[](bound);
        if (_root == EMPTY_TRIE_ROOT) {
            // The empty trie has no node; its root is the hash of the empty string's encoding, which a prover may
            // include.
            if (_proof.length > 0 && keccak256(_proof[0]) == EMPTY_TRIE_ROOT) w_.proofUsed = 1;
            return w_;
        }
        bool hashed = true;
        bytes32 expectedHash = _root;
        bytes memory encoded;
        uint256 k;
        while (true) {
            if (hashed) {
                if (w_.proofUsed == _proof.length) revert MerkleTrieWriter_MissingProofNode();
                encoded = _proof[w_.proofUsed];
                if (keccak256(encoded) != expectedHash) revert MerkleTrieWriter_BadNodeReference();
                if (w_.proofUsed > 0 && encoded.length < 32) revert MerkleTrieWriter_BadNodeReference();
                w_.proofUsed++;
            }
            Node memory node = _decode(encoded);
            uint256 d = w_.depth++;
            w_.nodes[d] = node;
            w_.keyIndex = k;
            uint256 next;
            if (node.kind == BRANCH) {
                if (k == _key.length) {
                    w_.slots[d] = 16;
                    w_.found = !_isEmpty(node, 16);
                    return w_;
                }
                next = uint8(_key[k]);
                w_.slots[d] = next;
                if (_isEmpty(node, next)) return w_;
                k += 1;
            } else {
                uint256 common = _commonPrefix(node.path, _key, k);
                if (node.kind == LEAF) {
                    w_.found = common == node.path.length && k + common == _key.length;
                    return w_;
                }
                if (common < node.path.length) return w_;
                k += common;
                next = 1;
            }
            (hashed, expectedHash, encoded) = _follow(node, next);
        }
    }

    /// @notice Where the non-empty child reference in item `_index` of `_node` leads: a hash (`hashed_`), or an
    ///         embedded node under 32 bytes (copied out).
    function _follow(Node memory _node, uint256 _index)
        private
        pure
        returns (bool hashed_, bytes32 hash_, bytes memory embedded_)
    {
        (uint256 ptr, uint256 length) = _itemSpan(_node, _index);
        uint256 first = _byteAt(ptr);
        if (length == 33 && first == 0xa0) {
            assembly ("memory-safe") {
                hash_ := mload(add(ptr, 1))
            }
            return (true, hash_, "");
        }
        if (length < 32 && first >= 0xc0) return (false, bytes32(0), _copy(ptr, length));
        revert MerkleTrieWriter_BadNode();
    }

    /// @notice Decodes a trie node: splits it into items and checks its shape (not the references it does not
    ///         follow). Lengths must fit exactly and use the short form where it suffices.
    function _decode(bytes memory _encoded) private pure returns (Node memory node_) {
        uint256 length = _encoded.length;
        uint256 base;
        assembly ("memory-safe") {
            base := add(_encoded, 0x20)
        }
        (uint256 offset, uint256 payload, bool isList) = _header(base, length);
        if (!isList || offset + payload != length) revert MerkleTrieWriter_BadNode();
        uint256[] memory bounds = new uint256[](18);
        uint256 count;
        bool malformed;
        // Splitting the payload into items is the walk's hot loop (17 items per branch), hence assembly. Each item's
        // length is read from its prefix; the canonical-form rules are RLPReader's; the items must end exactly at the
        // end of the node.
        assembly ("memory-safe") {
            let at := offset
            for {} lt(at, length) {} {
                if eq(count, 17) {
                    malformed := 1
                    break
                }
                count := add(count, 1)
                mstore(add(bounds, mul(count, 0x20)), at)
                let prefix := byte(0, mload(add(base, at)))
                switch lt(prefix, 0x80)
                case 1 { at := add(at, 1) }
                default {
                    let lengthOfLength := 0
                    let itemLength := 0
                    switch or(lt(prefix, 0xb8), and(gt(prefix, 0xbf), lt(prefix, 0xf8)))
                    case 1 {
                        // Short string or list; a one-byte string must not wrap a byte below 0x80.
                        itemLength := sub(prefix, add(0x80, mul(0x40, gt(prefix, 0xbf))))
                        if and(eq(prefix, 0x81), lt(byte(0, mload(add(base, add(at, 1)))), 0x80)) { malformed := 1 }
                    }
                    default {
                        lengthOfLength := sub(prefix, add(0xb7, mul(0x40, gt(prefix, 0xbf))))
                        if gt(lengthOfLength, 4) { malformed := 1 }
                        let word := mload(add(base, add(at, 1)))
                        if iszero(byte(0, word)) { malformed := 1 }
                        itemLength := shr(sub(256, mul(8, lengthOfLength)), word)
                        if lt(itemLength, 56) { malformed := 1 }
                    }
                    at := add(at, add(add(1, lengthOfLength), itemLength))
                }
            }
            if iszero(eq(at, length)) { malformed := 1 }
            mstore(add(bounds, mul(add(count, 1), 0x20)), at)
        }
        if (malformed) revert MerkleTrieWriter_BadNode();
        node_.encoded = _encoded;
        node_.bounds = bounds;
        if (count == 17) {
            node_.kind = BRANCH;
            if (_byteAt(base + bounds[16]) >= 0xc0) revert MerkleTrieWriter_BadNode();
            return node_;
        }
        if (count != 2) revert MerkleTrieWriter_BadNode();
        assembly ("memory-safe") {
            mstore(bounds, 3)
        }
        (bytes memory path, bool isLeaf) = _decodePath(base + bounds[0], bounds[1] - bounds[0]);
        node_.path = path;
        uint256 valueFirst = _byteAt(base + bounds[1]);
        if (isLeaf) {
            node_.kind = LEAF;
            if (valueFirst >= 0xc0 || (valueFirst == 0x80 && bounds[2] - bounds[1] == 1)) revert MerkleTrieWriter_BadNode();
        } else {
            node_.kind = EXTENSION;
            if (path.length == 0) revert MerkleTrieWriter_BadNode();
        }
    }

    /// @notice Decodes the hex-prefix path item at `_ptr`: a flag nibble (2 for a leaf, plus 1 for an odd length),
    ///         for an even length a zero pad nibble, then the path's nibbles.
    function _decodePath(uint256 _ptr, uint256 _available) private pure returns (bytes memory path_, bool isLeaf_) {
        (uint256 offset, uint256 length, bool isList) = _header(_ptr, _available);
        if (isList || length == 0) revert MerkleTrieWriter_BadNode();
        uint256 ptr = _ptr + offset;
        uint256 firstByte = _byteAt(ptr);
        uint256 flag = firstByte >> 4;
        uint256 odd = flag & 1;
        if (flag > 3 || (odd == 0 && firstByte & 0x0f != 0)) revert MerkleTrieWriter_BadNode();
        path_ = new bytes(length * 2 - 2 + odd);
        if (odd == 1) path_[0] = bytes1(uint8(firstByte & 0x0f));
        assembly ("memory-safe") {
            let dest := add(add(path_, 0x20), odd)
            for { let i := 1 } lt(i, length) { i := add(i, 1) } {
                let b := byte(0, mload(add(ptr, i)))
                let j := mul(sub(i, 1), 2)
                mstore8(add(dest, j), shr(4, b))
                mstore8(add(dest, add(j, 1)), and(b, 0x0f))
            }
        }
        isLeaf_ = flag >= 2;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Rewriting

    /// @notice Inserts the key whose nibbles from `_keyIndex` on diverge from the path of `_node` (a leaf or an
    ///         extension): a branch at the first differing nibble holds both, under an extension for the nibbles
    ///         they share. Returns the encoding of the node replacing `_node`.
    function _split(Node memory _node, bytes memory _key, uint256 _keyIndex, bytes memory _valueItem)
        private
        pure
        returns (bytes memory encoded_)
    {
        bytes memory path = _node.path;
        bytes memory item = _item(_node, 1);
        uint256 common = _commonPrefix(path, _key, _keyIndex);
        bytes[] memory branch = new bytes[](17);
        for (uint256 i = 0; i < 17; i++) branch[i] = hex"80";
        if (common == path.length) {
            // Only a leaf gets here (an extension's path is a prefix of the key, or the walk went on): the old key
            // ends at the new branch.
            branch[16] = item;
        } else {
            bytes memory rest = _slice(path, common + 1, path.length);
            uint256 slot = uint8(path[common]);
            if (_node.kind == LEAF) {
                branch[slot] = _ref(_encodeShort(LEAF, rest, item));
            } else {
                // An extension's child is a branch: with no nibbles left it hangs from the new branch directly.
                branch[slot] = rest.length == 0 ? item : _ref(_encodeShort(EXTENSION, rest, item));
            }
        }
        uint256 keyAt = _keyIndex + common;
        if (keyAt == _key.length) {
            branch[16] = _valueItem;
        } else {
            branch[uint8(_key[keyAt])] = _ref(_encodeShort(LEAF, _slice(_key, keyAt + 1, _key.length), _valueItem));
        }
        encoded_ = RLPWriter.writeList(branch);
        if (common > 0) encoded_ = _encodeShort(EXTENSION, _slice(path, 0, common), _ref(encoded_));
    }

    /// @notice The leaf or extension a branch with a single entry (`_only`) becomes, as (kind, path, item): a leaf
    ///         with an empty path for a value, or its child with the child's nibble prepended (an extension to a
    ///         child branch). A hashed child is read from the proof element at `_siblingIndex`, which must be the
    ///         proof's last.
    function _collapse(Node memory _branch, uint256 _only, bytes[] memory _proof, uint256 _siblingIndex)
        private
        pure
        returns (uint256 kind_, bytes memory path_, bytes memory item_)
    {
        bool needsSibling = false;
        if (_only == 16) {
            (kind_, item_) = (LEAF, _item(_branch, 16));
        } else {
            (bool hashed, bytes32 hash, bytes memory encoded) = _follow(_branch, _only);
            if (hashed) {
                needsSibling = true;
                if (_siblingIndex >= _proof.length) revert MerkleTrieWriter_MissingSibling();
                encoded = _proof[_siblingIndex];
                if (keccak256(encoded) != hash || encoded.length < 32) revert MerkleTrieWriter_BadNodeReference();
            }
            Node memory child = _decode(encoded);
            bytes memory nibble = new bytes(1);
            nibble[0] = bytes1(uint8(_only));
            if (child.kind == BRANCH) {
                (kind_, path_, item_) = (EXTENSION, nibble, _item(_branch, _only));
            } else {
                (kind_, path_, item_) = (child.kind, bytes.concat(nibble, child.path), _item(child, 1));
            }
        }
        if (_proof.length != _siblingIndex + (needsSibling ? 1 : 0)) revert MerkleTrieWriter_ExtraProofNodes();
    }

    /// @notice Replaces the node at `_index` of the walk with `_encoded`, re-encodes its ancestors with the new
    ///         references and returns the new root.
    function _rehash(Walk memory _w, uint256 _index, bytes memory _encoded) private pure returns (bytes32) {
        for (uint256 i = _index; i > 0; i--) {
            Node memory parent = _w.nodes[i - 1];
            _encoded = _replace(parent, parent.kind == BRANCH ? _w.slots[i - 1] : 1, _ref(_encoded));
        }
        return keccak256(_encoded);
    }

    /// @notice The number of non-empty slots of a branch other than `_cleared`, and the last one found.
    function _entries(Node memory _branch, uint256 _cleared) private pure returns (uint256 count_, uint256 only_) {
        for (uint256 i = 0; i < 17; i++) {
            if (i != _cleared && !_isEmpty(_branch, i)) {
                count_++;
                only_ = i;
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Encoding

    /// @notice How a parent references a node: embedded when its encoding is under 32 bytes, else by hash.
    function _ref(bytes memory _encoded) private pure returns (bytes memory) {
        if (_encoded.length < 32) return _encoded;
        return RLPWriter.writeBytes32(keccak256(_encoded));
    }

    /// @notice The encoding of `_node` with item `_index` replaced by `_newItem` (already encoded): the items before
    ///         and after are copied as they are.
    function _replace(Node memory _node, uint256 _index, bytes memory _newItem) private pure returns (bytes memory out_) {
        uint256[] memory bounds = _node.bounds;
        uint256 first = bounds[0];
        uint256 end = bounds[bounds.length - 1];
        uint256 before = bounds[_index] - first;
        uint256 afterStart = bounds[_index + 1];
        uint256 afterLength = end - afterStart;
        uint256 payload = before + _newItem.length + afterLength;
        bytes memory header = _listHeader(payload);
        out_ = new bytes(header.length + payload);
        bytes memory encoded = _node.encoded;
        uint256 newLength = _newItem.length;
        assembly ("memory-safe") {
            let dest := add(out_, 0x20)
            mcopy(dest, add(header, 0x20), mload(header))
            dest := add(dest, mload(header))
            let src := add(encoded, 0x20)
            mcopy(dest, add(src, first), before)
            dest := add(dest, before)
            mcopy(dest, add(_newItem, 0x20), newLength)
            dest := add(dest, newLength)
            mcopy(dest, add(src, afterStart), afterLength)
        }
    }

    /// @notice The RLP of a leaf or extension: its hex-prefix path, then its (encoded) value or child reference.
    function _encodeShort(uint256 _kind, bytes memory _path, bytes memory _child) private pure returns (bytes memory) {
        return RLPWriter.writeListPayload(bytes.concat(RLPWriter.writeBytes(_hexPrefix(_path, _kind == LEAF)), _child));
    }

    /// @notice Hex-prefix encoding: a flag nibble (2 for a leaf, plus 1 for an odd length), a zero pad nibble for an
    ///         even length, then the path's nibbles packed two per byte.
    function _hexPrefix(bytes memory _path, bool _leaf) private pure returns (bytes memory out_) {
        uint256 odd = _path.length % 2;
        out_ = new bytes(_path.length / 2 + 1);
        uint256 first = ((_leaf ? 2 : 0) + odd) << 4;
        if (odd == 1) first |= uint8(_path[0]);
        out_[0] = bytes1(uint8(first));
        unchecked {
            for (uint256 i = odd; i < _path.length; i += 2) {
                out_[(i + 2 - odd) / 2] = bytes1((uint8(_path[i]) << 4) | uint8(_path[i + 1]));
            }
        }
    }

    /// @notice The header of a list whose payload is `_length` bytes long.
    function _listHeader(uint256 _length) private pure returns (bytes memory) {
        if (_length < 56) return abi.encodePacked(bytes1(uint8(0xc0 + _length)));
        // Trie nodes are under 64 KiB: a branch of 16 hashes and a value holds at most 528 bytes plus the value.
        if (_length < 256) return abi.encodePacked(bytes1(0xf8), uint8(_length));
        if (_length < 65536) return abi.encodePacked(bytes1(0xf9), uint16(_length));
        return abi.encodePacked(bytes1(0xfa), uint24(_length));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Reading items

    /// @notice Memory address and length of item `_index` of `_node`.
    function _itemSpan(Node memory _node, uint256 _index) private pure returns (uint256 ptr_, uint256 length_) {
        bytes memory encoded = _node.encoded;
        uint256 start = _node.bounds[_index];
        length_ = _node.bounds[_index + 1] - start;
        assembly ("memory-safe") {
            ptr_ := add(add(encoded, 0x20), start)
        }
    }

    /// @notice A copy of item `_index` of `_node`, still encoded.
    function _item(Node memory _node, uint256 _index) private pure returns (bytes memory) {
        (uint256 ptr, uint256 length) = _itemSpan(_node, _index);
        return _copy(ptr, length);
    }

    /// @notice The payload of string item `_index` of `_node` (a value).
    function _stringPayload(Node memory _node, uint256 _index) private pure returns (bytes memory) {
        (uint256 ptr, uint256 length) = _itemSpan(_node, _index);
        (uint256 offset, uint256 payload,) = _header(ptr, length);
        return _copy(ptr + offset, payload);
    }

    /// @notice Whether item `_index` of `_node` is the empty string.
    function _isEmpty(Node memory _node, uint256 _index) private pure returns (bool) {
        (uint256 ptr, uint256 length) = _itemSpan(_node, _index);
        return length == 1 && _byteAt(ptr) == 0x80;
    }

    /// @notice Payload offset and length of the RLP item at `_ptr`, and whether it is a list, checked to fit in
    ///         `_available` bytes and to be canonical (no wrapped single byte, long forms only when needed).
    function _header(uint256 _ptr, uint256 _available)
        private
        pure
        returns (uint256 offset_, uint256 length_, bool isList_)
    {
        if (_available == 0) revert MerkleTrieWriter_BadNode();
        uint256 prefix = _byteAt(_ptr);
        if (prefix < 0x80) return (0, 1, false);
        if (prefix < 0xb8) {
            length_ = prefix - 0x80;
            if (length_ == 1 && _available > 1 && _byteAt(_ptr + 1) < 0x80) revert MerkleTrieWriter_BadNode();
            offset_ = 1;
        } else if (prefix < 0xc0) {
            (offset_, length_) = _longLength(_ptr, prefix - 0xb7, _available);
        } else if (prefix < 0xf8) {
            (offset_, length_, isList_) = (1, prefix - 0xc0, true);
        } else {
            (offset_, length_) = _longLength(_ptr, prefix - 0xf7, _available);
            isList_ = true;
        }
        if (offset_ + length_ > _available) revert MerkleTrieWriter_BadNode();
    }

    /// @notice A long form's length, written in `_lengthOfLength` bytes after the prefix at `_ptr`.
    function _longLength(uint256 _ptr, uint256 _lengthOfLength, uint256 _available)
        private
        pure
        returns (uint256 offset_, uint256 length_)
    {
        if (_lengthOfLength > 8 || 1 + _lengthOfLength > _available) revert MerkleTrieWriter_BadNode();
        if (_byteAt(_ptr + 1) == 0) revert MerkleTrieWriter_BadNode();
        for (uint256 i = 0; i < _lengthOfLength; i++) length_ = (length_ << 8) | _byteAt(_ptr + 1 + i);
        if (length_ < 56) revert MerkleTrieWriter_BadNode();
        offset_ = 1 + _lengthOfLength;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Memory

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

    /// @notice An array of `_length` node slots, left unset (every slot the walk reads it has written): Solidity
    ///         would build a default node for each.
    function _nodeArray(uint256 _length) private pure returns (Node[] memory nodes_) {
        assembly ("memory-safe") {
            nodes_ := mload(0x40)
            mstore(nodes_, _length)
            mstore(0x40, add(nodes_, mul(add(_length, 1), 0x20)))
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Nibbles

    /// @notice The number of nibbles `_path` shares with `_key` from `_keyIndex` on.
    function _commonPrefix(bytes memory _path, bytes memory _key, uint256 _keyIndex) private pure returns (uint256 n_) {
        uint256 max = _path.length;
        if (_key.length - _keyIndex < max) max = _key.length - _keyIndex;
        assembly ("memory-safe") {
            let path := add(_path, 0x20)
            let key := add(add(_key, 0x20), _keyIndex)
            for {} and(lt(n_, max), eq(byte(0, mload(add(path, n_))), byte(0, mload(add(key, n_))))) {} {
                n_ := add(n_, 1)
            }
        }
    }

    /// @notice The nibbles of `_bytes`, high nibble first, one per byte.
    function _nibbles(bytes memory _bytes) private pure returns (bytes memory nibbles_) {
        uint256 length = _bytes.length;
        nibbles_ = new bytes(length * 2);
        assembly ("memory-safe") {
            let src := add(_bytes, 0x20)
            let dest := add(nibbles_, 0x20)
            for { let i := 0 } lt(i, length) { i := add(i, 1) } {
                let b := byte(0, mload(add(src, i)))
                mstore8(add(dest, mul(i, 2)), shr(4, b))
                mstore8(add(dest, add(mul(i, 2), 1)), and(b, 0x0f))
            }
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
