// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { Types } from "./Types.sol";

/// @title Hashing
/// @notice OP Stack's hashes of cross-domain data.
library Hashing {
    /// @notice The withdrawal hash: `keccak256(abi.encode(nonce, sender, target, value, gasLimit, data))`. The message
    ///         passer marks it sent; the portal proves its storage slot against an output root.
    function hashWithdrawal(Types.WithdrawalTransaction memory _tx) internal pure returns (bytes32) {
        return keccak256(abi.encode(_tx.nonce, _tx.sender, _tx.target, _tx.value, _tx.gasLimit, _tx.data));
    }

    /// @notice An output root: `keccak256(abi.encode(version, stateRoot, messagePasserStorageRoot, latestBlockhash))`.
    function hashOutputRootProof(Types.OutputRootProof memory _proof) internal pure returns (bytes32) {
        return keccak256(abi.encode(_proof.version, _proof.stateRoot, _proof.messagePasserStorageRoot, _proof.latestBlockhash));
    }
}
