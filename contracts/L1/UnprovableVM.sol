// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IBigStepper } from "../libraries/DisputeInterfaces.sol";

/// @title UnprovableVM
/// @notice The dev deployment's step verifier until the real transaction verifier exists: every step reverts, so no
///         max-depth claim can be countered by a step. Disputes still play out above max depth (and clocks still
///         decide games), but a dishonest claimant who reaches max depth cannot be stepped against. Honest about it
///         rather than a verifier that accepts anything.
contract UnprovableVM is IBigStepper {
    /// @notice Every step: this deployment has no one-step verifier yet.
    error NotProvableHere();

    /// @notice Always reverts with `NotProvableHere`.
    function step(bytes calldata, bytes calldata, bytes32) external pure returns (bytes32) {
        revert NotProvableHere();
    }
}
