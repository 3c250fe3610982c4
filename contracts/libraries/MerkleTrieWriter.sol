// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { RLPReader } from "./RLPReader.sol";
import { RLPWriter } from "./RLPWriter.sol";

/// @title MerkleTrieWriter
/// @notice Reads and writes one key of an Ethereum Merkle-Patricia trie given only its root and the proof of that
///         key, and returns the new root: what a stateless step verifier needs to apply a transaction's writes.
///
///         Proof format: `eth_getProof`'s. The nodes on the key's path from the root, in order, each one the node its
///         parent references by hash. Nodes shorter than 32 bytes are embedded in their parent and are NOT separate
///         proof elements: they are read from the parent (only the root is hashed whatever its size). For a key that
///         is absent, the path ends where the key diverges: at a branch whose slot for the key's next nibble is empty
///         (or whose value slot is empty when the key ends there), or at the leaf or extension whose path differs from
///         the key's. The empty trie (root = EMPTY_TRIE_ROOT) has the empty proof (or `[0x80]`, its root node).
///
///         The walk is strict, so a key has exactly one accepted proof under a root: a node that does not hash to its
///         parent's reference, a hashed node under 32 bytes, a proof that stops early, or one with nodes past the end
///         of the path reverts. Keys are raw: a secure trie's caller passes keccak256(key).
///
///         Values are never empty (an empty value is the absence of a key): `update` rejects one, and a proof that
///         shows an empty value reverts; deletions go through `remove`.
library MerkleTrieWriter {
    using RLPReader for RLPReader.Item;

    /// @notice keccak256(rlp("")), the root of the trie without keys.
    bytes32 internal constant EMPTY_TRIE_ROOT = 0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421;

    /// @notice A proof node does not hash to the reference its parent (or the root) holds, or is a hashed node
    ///         shorter than 32 bytes (those are embedded in their parent instead).
    error MerkleTrieWriter_BadNodeReference();
    /// @notice A node is not a trie node: not a 2- or 17-item list, a bad hex-prefix path, a reference that is
    ///         neither empty, nor a 32-byte hash, nor an embedded node under 32 bytes, an empty value, or a shape no
    ///         trie has (an extension without a path or above a leaf, a branch with a single entry).
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

    uint8 private constant BRANCH = 0;
    uint8 private constant EXTENSION = 1;
    uint8 private constant LEAF = 2;

    /// @notice A decoded node. `items` holds the raw RLP of what the node references: a branch's 17 slots (16 child
    ///         references, then the value string), an extension's child reference or a leaf's value string (one item).
    ///         Child references are kept encoded (0x80 empty, 0xa0‖hash, or the embedded node's list) so that a node
    ///         re-encodes by concatenation.
    struct Node {
        uint8 kind;
        bytes path;
        bytes[] items;
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
        return (true, _foundValue(w));
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
            node.items[slot] = slot == 16
                ? valueItem
                : _ref(_encodeShort(LEAF, _slice(key, w.keyIndex + 1, key.length), valueItem));
            encoded = _encode(node);
        } else if (w.found) {
            node.items[0] = valueItem;
            encoded = _encode(node);
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
        branch.items[w.slots[at]] = hex"80";

        (uint256 count, uint256 only) = _entries(branch);
        if (count == 0) revert MerkleTrieWriter_BadNode();
        if (count > 1) {
            if (w.proofUsed != _proof.length) revert MerkleTrieWriter_ExtraProofNodes();
            return _rehash(w, at, _encode(branch));
        }

        Node memory collapsed = _collapse(branch, only, _proof, w.proofUsed);
        // An extension above the collapsed branch now points at an extension or a leaf: the two paths join.
        if (at > 0 && w.nodes[at - 1].kind == EXTENSION) {
            at -= 1;
            collapsed.path = bytes.concat(w.nodes[at].path, collapsed.path);
        }
        return _rehash(w, at, _encode(collapsed));
    }

    // ------------------------------------------------------------------------------------------------------------
    // The walk

    /// @notice Follows `_key` (nibbles) from `_root` through `_proof`, decoding every node on the way.
    function _walk(bytes memory _key, bytes[] memory _proof, bytes32 _root) private pure returns (Walk memory w_) {
        // A path has at most a branch and an extension per nibble plus the last node, and at most the proof's nodes
        // plus the embedded ones under the last of them (all within one node under 32 bytes, so fewer than 32).
        uint256 bound = 2 * _key.length + 2;
        if (_proof.length + 32 < bound) bound = _proof.length + 32;
        w_.nodes = new Node[](bound);
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
            bytes memory next;
            if (node.kind == BRANCH) {
                if (k == _key.length) {
                    w_.slots[d] = 16;
                    w_.found = !_isEmpty(node.items[16]);
                    return w_;
                }
                uint256 nibble = uint8(_key[k]);
                w_.slots[d] = nibble;
                next = node.items[nibble];
                if (_isEmpty(next)) return w_;
                k += 1;
            } else {
                uint256 common = _commonPrefix(node.path, _key, k);
                if (node.kind == LEAF) {
                    w_.found = common == node.path.length && k + common == _key.length;
                    return w_;
                }
                if (common < node.path.length) return w_;
                k += common;
                next = node.items[0];
            }
            (hashed, expectedHash, encoded) = _follow(next);
        }
    }

    /// @notice The value the walk found (in a leaf, or in a branch's value slot).
    function _foundValue(Walk memory _w) private pure returns (bytes memory value_) {
        Node memory node = _w.nodes[_w.depth - 1];
        bytes memory item = node.kind == BRANCH ? node.items[16] : node.items[0];
        return RLPReader.toItem(item).readBytes();
    }

    /// @notice Where a non-empty child reference leads: a hash (`hashed_`), or an embedded node under 32 bytes.
    function _follow(bytes memory _reference)
        private
        pure
        returns (bool hashed_, bytes32 hash_, bytes memory embedded_)
    {
        if (_reference.length == 33 && uint8(_reference[0]) == 0xa0) {
            assembly ("memory-safe") {
                hash_ := mload(add(_reference, 0x21))
            }
            return (true, hash_, "");
        }
        if (_reference.length < 32 && uint8(_reference[0]) >= 0xc0) return (false, bytes32(0), _reference);
        revert MerkleTrieWriter_BadNode();
    }

    /// @notice Decodes a trie node, checking its shape (not the references it does not follow).
    function _decode(bytes memory _encoded) private pure returns (Node memory node_) {
        RLPReader.Item[] memory items = RLPReader.toItem(_encoded).readList();
        if (items.length == 17) {
            node_.kind = BRANCH;
            node_.items = new bytes[](17);
            for (uint256 i = 0; i < 17; i++) node_.items[i] = items[i].readRawBytes();
            if (items[16].isList()) revert MerkleTrieWriter_BadNode();
            return node_;
        }
        if (items.length != 2 || items[0].isList()) revert MerkleTrieWriter_BadNode();
        bytes memory encodedPath = items[0].readBytes();
        if (encodedPath.length == 0) revert MerkleTrieWriter_BadNode();
        uint8 flag = uint8(encodedPath[0]) >> 4;
        if (flag > 3 || (flag % 2 == 0 && uint8(encodedPath[0]) & 0x0f != 0)) revert MerkleTrieWriter_BadNode();
        bytes memory nibbles = _nibbles(encodedPath);
        // Hex-prefix: the flag nibble, then for an even path a zero pad nibble.
        node_.path = _slice(nibbles, flag % 2 == 0 ? 2 : 1, nibbles.length);
        node_.kind = flag >= 2 ? LEAF : EXTENSION;
        node_.items = new bytes[](1);
        node_.items[0] = items[1].readRawBytes();
        if (node_.kind == LEAF) {
            if (items[1].isList() || _isEmpty(node_.items[0])) {
                revert MerkleTrieWriter_BadNode();
            }
        } else if (node_.path.length == 0) {
            revert MerkleTrieWriter_BadNode();
        }
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
        uint256 common = _commonPrefix(path, _key, _keyIndex);
        Node memory branch = _emptyBranch();
        if (common == path.length) {
            // Only a leaf gets here (an extension's path is a prefix of the key, or the walk went on): the old key
            // ends at the new branch.
            branch.items[16] = _node.items[0];
        } else {
            bytes memory rest = _slice(path, common + 1, path.length);
            uint256 slot = uint8(path[common]);
            if (_node.kind == LEAF) {
                branch.items[slot] = _ref(_encodeShort(LEAF, rest, _node.items[0]));
            } else {
                // An extension's child is a branch: with no nibbles left it hangs from the new branch directly.
                branch.items[slot] = rest.length == 0 ? _node.items[0] : _ref(_encodeShort(EXTENSION, rest, _node.items[0]));
            }
        }
        uint256 keyAt = _keyIndex + common;
        if (keyAt == _key.length) {
            branch.items[16] = _valueItem;
        } else {
            branch.items[uint8(_key[keyAt])] = _ref(_encodeShort(LEAF, _slice(_key, keyAt + 1, _key.length), _valueItem));
        }
        encoded_ = _encode(branch);
        if (common > 0) encoded_ = _encodeShort(EXTENSION, _slice(path, 0, common), _ref(encoded_));
    }

    /// @notice The node a branch with a single entry (`_only`) becomes: a leaf with an empty path for a value, or
    ///         its child with the child's nibble prepended (an extension to a child branch). A hashed child is read
    ///         from the proof element at `_siblingIndex`, which must be the proof's last.
    function _collapse(Node memory _branch, uint256 _only, bytes[] memory _proof, uint256 _siblingIndex)
        private
        pure
        returns (Node memory node_)
    {
        bool needsSibling = false;
        if (_only == 16) {
            node_ = Node({ kind: LEAF, path: "", items: new bytes[](1) });
            node_.items[0] = _branch.items[16];
        } else {
            bytes memory ref = _branch.items[_only];
            (bool hashed, bytes32 hash, bytes memory encoded) = _follow(ref);
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
                node_ = Node({ kind: EXTENSION, path: nibble, items: new bytes[](1) });
                node_.items[0] = ref;
            } else {
                node_ = Node({ kind: child.kind, path: bytes.concat(nibble, child.path), items: child.items });
            }
        }
        if (_proof.length != _siblingIndex + (needsSibling ? 1 : 0)) revert MerkleTrieWriter_ExtraProofNodes();
    }

    /// @notice Replaces the node at `_index` of the walk with `_encoded`, re-encodes its ancestors with the new
    ///         references and returns the new root.
    function _rehash(Walk memory _w, uint256 _index, bytes memory _encoded) private pure returns (bytes32) {
        for (uint256 i = _index; i > 0; i--) {
            Node memory parent = _w.nodes[i - 1];
            parent.items[parent.kind == BRANCH ? _w.slots[i - 1] : 0] = _ref(_encoded);
            _encoded = _encode(parent);
        }
        return keccak256(_encoded);
    }

    /// @notice The number of non-empty slots of a branch and the last one found.
    function _entries(Node memory _branch) private pure returns (uint256 count_, uint256 only_) {
        for (uint256 i = 0; i < 17; i++) {
            if (!_isEmpty(_branch.items[i])) {
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

    /// @notice The RLP of a node.
    function _encode(Node memory _node) private pure returns (bytes memory) {
        if (_node.kind == BRANCH) return RLPWriter.writeList(_node.items);
        return _encodeShort(_node.kind, _node.path, _node.items[0]);
    }

    /// @notice The RLP of a leaf or extension: its hex-prefix path, then its (encoded) value or child reference.
    function _encodeShort(uint8 _kind, bytes memory _path, bytes memory _item) private pure returns (bytes memory) {
        return RLPWriter.writeListPayload(bytes.concat(RLPWriter.writeBytes(_hexPrefix(_path, _kind == LEAF)), _item));
    }

    /// @notice Hex-prefix encoding: a flag nibble (2 for a leaf, plus 1 for an odd length), a zero pad nibble for an
    ///         even length, then the path's nibbles packed two per byte.
    function _hexPrefix(bytes memory _path, bool _leaf) private pure returns (bytes memory out_) {
        uint256 odd = _path.length % 2;
        out_ = new bytes(_path.length / 2 + 1);
        uint256 first = ((_leaf ? 2 : 0) + odd) << 4;
        if (odd == 1) first |= uint8(_path[0]);
        out_[0] = bytes1(uint8(first));
        for (uint256 i = odd; i < _path.length; i += 2) {
            out_[(i + 1 + (1 - odd)) / 2] = bytes1((uint8(_path[i]) << 4) | uint8(_path[i + 1]));
        }
    }

    function _emptyBranch() private pure returns (Node memory branch_) {
        branch_.kind = BRANCH;
        branch_.items = new bytes[](17);
        for (uint256 i = 0; i < 17; i++) branch_.items[i] = hex"80";
    }

    // ------------------------------------------------------------------------------------------------------------
    // Nibbles

    /// @notice Whether an encoded reference or value is the empty string.
    function _isEmpty(bytes memory _item) private pure returns (bool) {
        return _item.length == 1 && uint8(_item[0]) == 0x80;
    }

    /// @notice The number of nibbles `_path` shares with `_key` from `_keyIndex` on.
    function _commonPrefix(bytes memory _path, bytes memory _key, uint256 _keyIndex) private pure returns (uint256 n_) {
        while (n_ < _path.length && _keyIndex + n_ < _key.length && _path[n_] == _key[_keyIndex + n_]) n_++;
    }

    /// @notice The nibbles of `_bytes`, high nibble first, one per byte.
    function _nibbles(bytes memory _bytes) private pure returns (bytes memory nibbles_) {
        nibbles_ = new bytes(_bytes.length * 2);
        for (uint256 i = 0; i < _bytes.length; i++) {
            nibbles_[2 * i] = bytes1(uint8(_bytes[i]) >> 4);
            nibbles_[2 * i + 1] = bytes1(uint8(_bytes[i]) & 0x0f);
        }
    }

    /// @notice A copy of `_b[_start:_end]`.
    function _slice(bytes memory _b, uint256 _start, uint256 _end) private pure returns (bytes memory out_) {
        out_ = new bytes(_end - _start);
        for (uint256 i = _start; i < _end; i++) out_[i - _start] = _b[i];
    }
}
