// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { MerkleTrie } from "../libraries/MerkleTrie.sol";

/// @title MerkleTrieHarness
/// @notice Exposes the MerkleTrie library to tests.
contract MerkleTrieHarness {
    /// @notice `MerkleTrie.get`.
    function get(bytes calldata _key, bytes[] calldata _proof, bytes32 _root) external pure returns (bytes memory) {
        return MerkleTrie.get(_key, _proof, _root);
    }

    /// @notice `MerkleTrie.verifySecureInclusionProof`.
    function verifySecure(bytes calldata _key, bytes calldata _value, bytes[] calldata _proof, bytes32 _root)
        external
        pure
        returns (bool)
    {
        return MerkleTrie.verifySecureInclusionProof(_key, _value, _proof, _root);
    }
}
