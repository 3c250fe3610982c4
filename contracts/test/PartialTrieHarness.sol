// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { MerkleTrieWriter } from "../libraries/MerkleTrieWriter.sol";
import { PartialTrie } from "../libraries/PartialTrie.sol";

/// @title PartialTrieHarness
/// @notice Exposes PartialTrie to tests: a batch of operations on one witness, and (for the gas comparison) the same
///         reads and writes done one proof at a time with MerkleTrieWriter.
contract PartialTrieHarness {
    /// @notice Operation kinds of `run`.
    uint8 internal constant GET = 0;
    uint8 internal constant UPDATE = 1;
    uint8 internal constant REMOVE = 2;

    /// @notice One operation: a read (`GET`), a write of a non-empty value (`UPDATE`) or a deletion (`REMOVE`).
    struct Op {
        uint8 kind;
        bytes key;
        bytes value;
    }

    /// @notice Loads the trie `_root` from `_nodes`, applies `_ops` in order and returns the new root, with what
    ///         each operation read (`exists`/`values` at a `GET`'s index; false and empty elsewhere).
    /// @param _root The trie's root.
    /// @param _nodes The witness.
    /// @param _ops The operations.
    /// @return root_ The root after the operations.
    /// @return exists_ Per operation, whether a `GET` found its key.
    /// @return values_ Per operation, the value a `GET` found.
    function run(bytes32 _root, bytes[] calldata _nodes, Op[] calldata _ops)
        external
        pure
        returns (bytes32 root_, bool[] memory exists_, bytes[] memory values_)
    {
        PartialTrie.Trie memory t = PartialTrie.load(_root, _nodes);
        exists_ = new bool[](_ops.length);
        values_ = new bytes[](_ops.length);
        for (uint256 i = 0; i < _ops.length; i++) {
            Op calldata op = _ops[i];
            if (op.kind == GET) {
                (exists_[i], values_[i]) = PartialTrie.get(t, op.key);
            } else if (op.kind == UPDATE) {
                PartialTrie.update(t, op.key, op.value);
            } else {
                PartialTrie.remove(t, op.key);
            }
        }
        root_ = PartialTrie.root(t);
    }

    /// @notice Two tries from one node set (`load` then `withRoot`): `_opsA` on the first, `_opsB` on the second,
    ///         interleaved one by one.
    /// @param _rootA The first trie's root.
    /// @param _rootB The second trie's root.
    /// @param _nodes The witness of both.
    /// @param _opsA The first trie's operations (reads are done, their results dropped).
    /// @param _opsB The second trie's operations.
    /// @return rootA_ The first trie's new root.
    /// @return rootB_ The second trie's new root.
    function runShared(bytes32 _rootA, bytes32 _rootB, bytes[] calldata _nodes, Op[] calldata _opsA, Op[] calldata _opsB)
        external
        pure
        returns (bytes32 rootA_, bytes32 rootB_)
    {
        PartialTrie.Trie memory a = PartialTrie.load(_rootA, _nodes);
        PartialTrie.Trie memory b = PartialTrie.withRoot(a, _rootB);
        uint256 n = _opsA.length > _opsB.length ? _opsA.length : _opsB.length;
        for (uint256 i = 0; i < n; i++) {
            if (i < _opsA.length) _apply(a, _opsA[i]);
            if (i < _opsB.length) _apply(b, _opsB[i]);
        }
        return (PartialTrie.root(a), PartialTrie.root(b));
    }

    /// @notice Applies one operation, dropping what a read finds.
    function _apply(PartialTrie.Trie memory _t, Op calldata _op) private pure {
        if (_op.kind == GET) PartialTrie.get(_t, _op.key);
        else if (_op.kind == UPDATE) PartialTrie.update(_t, _op.key, _op.value);
        else PartialTrie.remove(_t, _op.key);
    }

    /// @notice The gas baseline for reads: `MerkleTrieWriter.get` of each key with its own proof.
    /// @param _root The trie's root.
    /// @param _keys The keys.
    /// @param _proofs The proof of each key.
    /// @return found_ How many keys were present.
    function writerGets(bytes32 _root, bytes[] calldata _keys, bytes[][] calldata _proofs)
        external
        pure
        returns (uint256 found_)
    {
        for (uint256 i = 0; i < _keys.length; i++) {
            (bool exists,) = MerkleTrieWriter.get(_keys[i], _proofs[i], _root);
            if (exists) found_++;
        }
    }

    /// @notice The gas baseline for writes: `MerkleTrieWriter.update` of each key in turn, each with its proof
    ///         under the root the previous write left.
    /// @param _root The trie's root before the writes.
    /// @param _keys The keys.
    /// @param _values Their new values.
    /// @param _proofs The proof of each key under the intermediate root.
    /// @return root_ The root after the writes.
    function writerUpdates(bytes32 _root, bytes[] calldata _keys, bytes[] calldata _values, bytes[][] calldata _proofs)
        external
        pure
        returns (bytes32 root_)
    {
        root_ = _root;
        for (uint256 i = 0; i < _keys.length; i++) {
            root_ = MerkleTrieWriter.update(_keys[i], _values[i], _proofs[i], root_);
        }
    }
}
