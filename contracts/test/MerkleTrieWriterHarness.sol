// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { MerkleTrieWriter } from "../libraries/MerkleTrieWriter.sol";
import { RLPWriter } from "../libraries/RLPWriter.sol";
import { StateAccount } from "../libraries/StateAccount.sol";

/// @title MerkleTrieWriterHarness
/// @notice Exposes MerkleTrieWriter, RLPWriter and StateAccount to tests.
contract MerkleTrieWriterHarness {
    /// @notice `MerkleTrieWriter.get`.
    function get(bytes calldata _key, bytes[] calldata _proof, bytes32 _root) external pure returns (bool, bytes memory) {
        return MerkleTrieWriter.get(_key, _proof, _root);
    }

    /// @notice `MerkleTrieWriter.update`.
    function update(bytes calldata _key, bytes calldata _value, bytes[] calldata _proof, bytes32 _root)
        external
        pure
        returns (bytes32)
    {
        return MerkleTrieWriter.update(_key, _value, _proof, _root);
    }

    /// @notice `MerkleTrieWriter.remove`.
    function remove(bytes calldata _key, bytes[] calldata _proof, bytes32 _root) external pure returns (bytes32) {
        return MerkleTrieWriter.remove(_key, _proof, _root);
    }

    /// @notice `RLPWriter.writeBytes`.
    function writeBytes(bytes calldata _in) external pure returns (bytes memory) {
        return RLPWriter.writeBytes(_in);
    }

    /// @notice `RLPWriter.writeUint`.
    function writeUint(uint256 _x) external pure returns (bytes memory) {
        return RLPWriter.writeUint(_x);
    }

    /// @notice `RLPWriter.writeAddress`.
    function writeAddress(address _a) external pure returns (bytes memory) {
        return RLPWriter.writeAddress(_a);
    }

    /// @notice `RLPWriter.writeList`.
    function writeList(bytes[] calldata _items) external pure returns (bytes memory) {
        return RLPWriter.writeList(_items);
    }

    /// @notice `StateAccount.decode`.
    function decodeAccount(bytes calldata _encoded) external pure returns (StateAccount.Account memory) {
        return StateAccount.decode(_encoded);
    }

    /// @notice `StateAccount.encode`.
    function encodeAccount(StateAccount.Account calldata _account) external pure returns (bytes memory) {
        return StateAccount.encode(_account);
    }

    /// @notice `StateAccount.load`.
    function loadAccount(bytes32 _stateRoot, address _address, bytes[] calldata _proof)
        external
        pure
        returns (bool, StateAccount.Account memory)
    {
        return StateAccount.load(_stateRoot, _address, _proof);
    }

    /// @notice `StateAccount.store`.
    function storeAccount(
        bytes32 _stateRoot,
        address _address,
        StateAccount.Account calldata _account,
        bytes[] calldata _proof
    ) external pure returns (bytes32) {
        return StateAccount.store(_stateRoot, _address, _account, _proof);
    }

    /// @notice `StateAccount.erase`.
    function eraseAccount(bytes32 _stateRoot, address _address, bytes[] calldata _proof) external pure returns (bytes32) {
        return StateAccount.erase(_stateRoot, _address, _proof);
    }
}
