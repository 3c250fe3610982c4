// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { MerkleTrieWriter } from "./MerkleTrieWriter.sol";
import { RLPReader } from "./RLPReader.sol";
import { RLPWriter } from "./RLPWriter.sol";

/// @title StateAccount
/// @notice An account of the state trie, `rlp([nonce, balance, storageRoot, codeHash])` under keccak256(address), and
///         its reads and writes through MerkleTrieWriter proofs (the account proofs of `eth_getProof`).
library StateAccount {
    using RLPReader for RLPReader.Item;

    /// @notice keccak256(rlp("")): the storage root of an account without storage.
    bytes32 internal constant EMPTY_TRIE_ROOT = 0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421;
    /// @notice keccak256(""): the code hash of an account without code.
    bytes32 internal constant EMPTY_CODE_HASH = 0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470;

    /// @notice The fields of an account.
    struct Account {
        uint256 nonce;
        uint256 balance;
        bytes32 storageRoot;
        bytes32 codeHash;
    }

    /// @notice An account encoding that is not a 4-item list of two canonical integers and two 32-byte strings.
    error StateAccount_Malformed();

    /// @notice The account of an address that has none: zero nonce and balance, no storage, no code.
    /// @return account_ The empty account.
    function empty() internal pure returns (Account memory account_) {
        return Account({ nonce: 0, balance: 0, storageRoot: EMPTY_TRIE_ROOT, codeHash: EMPTY_CODE_HASH });
    }

    /// @notice Whether an account is empty in EIP-161's sense (no nonce, no balance, no code), the kind a touch deletes.
    /// @param _account The account.
    /// @return isEmpty_ True when nonce and balance are zero and the code hash is the empty code's.
    function isEmpty(Account memory _account) internal pure returns (bool isEmpty_) {
        return _account.nonce == 0 && _account.balance == 0 && _account.codeHash == EMPTY_CODE_HASH;
    }

    /// @notice Decodes a state trie value; strict, so that one account has one accepted encoding.
    /// @param _encoded `rlp([nonce, balance, storageRoot, codeHash])`.
    /// @return account_ The account.
    function decode(bytes memory _encoded) internal pure returns (Account memory account_) {
        RLPReader.Item[] memory items = RLPReader.toItem(_encoded).readList();
        if (items.length != 4) revert StateAccount_Malformed();
        account_.nonce = _readUint(items[0]);
        account_.balance = _readUint(items[1]);
        account_.storageRoot = _readBytes32(items[2]);
        account_.codeHash = _readBytes32(items[3]);
    }

    /// @notice Encodes an account as the state trie stores it.
    /// @param _account The account.
    /// @return encoded_ `rlp([nonce, balance, storageRoot, codeHash])`.
    function encode(Account memory _account) internal pure returns (bytes memory encoded_) {
        return RLPWriter.writeListPayload(
            bytes.concat(
                RLPWriter.writeUint(_account.nonce),
                RLPWriter.writeUint(_account.balance),
                RLPWriter.writeBytes32(_account.storageRoot),
                RLPWriter.writeBytes32(_account.codeHash)
            )
        );
    }

    /// @notice The account of `_address` in the state with root `_stateRoot`, proven by its account proof.
    /// @param _stateRoot The state root.
    /// @param _address The account's address.
    /// @param _proof The account proof (inclusion or exclusion) under key keccak256(_address), as `eth_getProof`.
    /// @return exists_ Whether the state holds the account.
    /// @return account_ The account; `empty()` when it does not exist.
    function load(bytes32 _stateRoot, address _address, bytes[] memory _proof)
        internal
        pure
        returns (bool exists_, Account memory account_)
    {
        bytes memory value;
        (exists_, value) = MerkleTrieWriter.get(_key(_address), _proof, _stateRoot);
        account_ = exists_ ? decode(value) : empty();
    }

    /// @notice Writes `_account` as the account of `_address` and returns the new state root. The account is stored
    ///         as given, empty or not: deleting accounts (EIP-161) is the caller's decision, via `erase`.
    /// @param _stateRoot The state root before the write.
    /// @param _address The account's address.
    /// @param _account The account's new fields.
    /// @param _proof The account proof under `_stateRoot` (the same one `load` took).
    /// @return newStateRoot_ The state root after the write.
    function store(bytes32 _stateRoot, address _address, Account memory _account, bytes[] memory _proof)
        internal
        pure
        returns (bytes32 newStateRoot_)
    {
        return MerkleTrieWriter.update(_key(_address), encode(_account), _proof, _stateRoot);
    }

    /// @notice Deletes the account of `_address` (a no-op when it does not exist) and returns the new state root.
    /// @param _stateRoot The state root before the deletion.
    /// @param _address The account's address.
    /// @param _proof The account proof under `_stateRoot`, followed by the sibling node MerkleTrieWriter.remove asks
    ///        for when the deletion collapses a branch into a hash-referenced child.
    /// @return newStateRoot_ The state root after the deletion.
    function erase(bytes32 _stateRoot, address _address, bytes[] memory _proof)
        internal
        pure
        returns (bytes32 newStateRoot_)
    {
        return MerkleTrieWriter.remove(_key(_address), _proof, _stateRoot);
    }

    /// @notice The state trie key of an address.
    function _key(address _address) private pure returns (bytes memory) {
        return abi.encodePacked(keccak256(abi.encodePacked(_address)));
    }

    /// @notice A canonical RLP integer: at most 32 bytes, no leading zero byte.
    function _readUint(RLPReader.Item memory _item) private pure returns (uint256 value_) {
        bytes memory b = _item.readBytes();
        if (b.length > 32 || (b.length > 0 && b[0] == 0)) revert StateAccount_Malformed();
        for (uint256 i = 0; i < b.length; i++) value_ = (value_ << 8) | uint8(b[i]);
    }

    /// @notice A 32-byte string.
    function _readBytes32(RLPReader.Item memory _item) private pure returns (bytes32 value_) {
        bytes memory b = _item.readBytes();
        if (b.length != 32) revert StateAccount_Malformed();
        value_ = bytes32(b);
    }
}
