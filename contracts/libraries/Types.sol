// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Types
/// @notice Structures shared by the L1 and L2 contracts, with OP Stack's field order (the ABI of the withdrawal proving
///         functions depends on it).
library Types {
    /// @notice An L2→L1 message, as L2ToL1MessagePasser records it and the portal proves and finalizes it.
    struct WithdrawalTransaction {
        uint256 nonce;
        address sender;
        address target;
        uint256 value;
        uint256 gasLimit;
        bytes data;
    }

    /// @notice The preimage of an output root (version 0), in OP's field order: the portal checks a withdrawal's
    ///         storage proof against `messagePasserStorageRoot` once this hashes to a game's root claim.
    struct OutputRootProof {
        bytes32 version;
        bytes32 stateRoot;
        bytes32 messagePasserStorageRoot;
        bytes32 latestBlockhash;
    }
}
