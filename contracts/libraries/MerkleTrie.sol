// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { RLPReader } from "./RLPReader.sol";

/// @title MerkleTrie
/// @notice Inclusion proofs against an Ethereum Merkle-Patricia trie root, as `eth_getProof` returns them: the nodes
///         on the path from the root, in order. Every node must be referenced by its parent (by hash when its
///         encoding is 32 bytes or more, embedded otherwise), the path must consume the key exactly, the last node
///         must hold the value and no node may follow it. Anything else reverts.
library MerkleTrie {
    using RLPReader for RLPReader.Item;

    error MerkleTrie_BadNodeReference();
    error MerkleTrie_KeyNotFound();
    error MerkleTrie_PathMismatch();
    error MerkleTrie_BadNode();
    error MerkleTrie_ExtraProofNodes();
    error MerkleTrie_EmptyValue();

    /// @notice Whether the secure trie (keys hashed with keccak256, as account and storage tries) under `_root`
    ///         maps `_key` to `_value`.
    function verifySecureInclusionProof(bytes memory _key, bytes memory _value, bytes[] memory _proof, bytes32 _root)
        internal
        pure
        returns (bool)
    {
        return keccak256(get(abi.encodePacked(keccak256(_key)), _proof, _root)) == keccak256(_value);
    }

    /// @notice Where a walk down the trie stands: the key nibbles consumed, and what the next node must be (its hash
    ///         when `expectedRaw` is empty, else its embedded encoding).
    struct Cursor {
        uint256 keyIndex;
        bytes32 expectedHash;
        bytes expectedRaw;
    }

    /// @notice The value under `_key` in the trie with root `_root`, proven by `_proof`.
    function get(bytes memory _key, bytes[] memory _proof, bytes32 _root) internal pure returns (bytes memory value_) {
        bytes memory key = _nibbles(_key);
        Cursor memory cursor = Cursor({ keyIndex: 0, expectedHash: _root, expectedRaw: "" });
        for (uint256 i = 0; i < _proof.length; i++) {
            (bool found, bytes memory value) = _visit(_proof[i], key, cursor, i == 0);
            if (found) return _finish(value, i, _proof.length);
        }
        revert MerkleTrie_KeyNotFound();
    }

    /// @notice Checks `_node` is the node `_cursor` expects and walks through it: returns the value if the key ends
    ///         here, otherwise moves `_cursor` to the child on the key's path.
    function _visit(bytes memory _node, bytes memory _key, Cursor memory _cursor, bool _isRoot)
        private
        pure
        returns (bool found_, bytes memory value_)
    {
        if (_cursor.expectedRaw.length == 0) {
            // Only the root may be hashed while shorter than 32 bytes; any other short node is embedded in its parent.
            if (_node.length < 32 && !_isRoot) revert MerkleTrie_BadNodeReference();
            if (keccak256(_node) != _cursor.expectedHash) revert MerkleTrie_BadNodeReference();
        } else if (keccak256(_node) != keccak256(_cursor.expectedRaw)) {
            revert MerkleTrie_BadNodeReference();
        }
        RLPReader.Item[] memory items = RLPReader.toItem(_node).readList();
        RLPReader.Item memory next;
        if (items.length == 17) {
            if (_cursor.keyIndex == _key.length) return (true, items[16].readBytes());
            next = items[uint8(_key[_cursor.keyIndex])];
            _cursor.keyIndex += 1;
        } else if (items.length == 2) {
            bool isLeaf = _consumePath(items[0].readBytes(), _key, _cursor);
            if (isLeaf) {
                if (_cursor.keyIndex != _key.length) revert MerkleTrie_PathMismatch();
                return (true, items[1].readBytes());
            }
            next = items[1];
        } else {
            revert MerkleTrie_BadNode();
        }
        // Follow the reference: a 32-byte string is a hash, a list an embedded node, the empty string nothing.
        if (next.isList()) {
            _cursor.expectedRaw = next.readRawBytes();
        } else {
            bytes memory ref = next.readBytes();
            if (ref.length == 0) revert MerkleTrie_KeyNotFound();
            if (ref.length != 32) revert MerkleTrie_BadNode();
            _cursor.expectedHash = bytes32(ref);
            _cursor.expectedRaw = "";
        }
    }

    /// @notice Matches a leaf's or extension's hex-prefix path against the key from the cursor on, advancing it;
    ///         returns whether the node is a leaf.
    function _consumePath(bytes memory _encodedPath, bytes memory _key, Cursor memory _cursor)
        private
        pure
        returns (bool isLeaf_)
    {
        bytes memory path = _nibbles(_encodedPath);
        if (path.length == 0) revert MerkleTrie_BadNode();
        uint8 flag = uint8(path[0]);
        if (flag > 3) revert MerkleTrie_BadNode();
        // Hex-prefix: an even path carries a zero padding nibble after the flag.
        uint256 skip = flag % 2 == 0 ? 2 : 1;
        if (skip == 2 && uint8(path[1]) != 0) revert MerkleTrie_BadNode();
        uint256 pathLength = path.length - skip;
        uint256 keyIndex = _cursor.keyIndex;
        if (keyIndex + pathLength > _key.length) revert MerkleTrie_PathMismatch();
        for (uint256 j = 0; j < pathLength; j++) {
            if (path[skip + j] != _key[keyIndex + j]) revert MerkleTrie_PathMismatch();
        }
        _cursor.keyIndex = keyIndex + pathLength;
        return flag >= 2;
    }

    /// @notice A found value must be non-empty (tries store no empty values) and come from the last proof node.
    function _finish(bytes memory _value, uint256 _index, uint256 _proofLength) private pure returns (bytes memory) {
        if (_value.length == 0) revert MerkleTrie_EmptyValue();
        if (_index + 1 != _proofLength) revert MerkleTrie_ExtraProofNodes();
        return _value;
    }

    /// @notice The nibbles of `_bytes`, high nibble first.
    function _nibbles(bytes memory _bytes) private pure returns (bytes memory nibbles_) {
        nibbles_ = new bytes(_bytes.length * 2);
        for (uint256 i = 0; i < _bytes.length; i++) {
            nibbles_[2 * i] = bytes1(uint8(_bytes[i]) >> 4);
            nibbles_[2 * i + 1] = bytes1(uint8(_bytes[i]) & 0x0f);
        }
    }
}
