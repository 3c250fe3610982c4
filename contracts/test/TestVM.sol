// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IBigStepper } from "../libraries/DisputeInterfaces.sol";

/// @title TestVM
/// @notice A trivial one-step verifier for testing the game on its own (OP's AlphabetVM idea): the state after `k`
///         steps is `abi.encode(k)`, committed as `keccak256(abi.encode(k))` with the top byte set to the status
///         INVALID (1), so the honest trace of every block is known: leaf `r` of a block commits to `k = r + 1`.
contract TestVM is IBigStepper {
    /// @notice Calls seen, so tests can check the local context the game passed.
    bytes32 public lastLocalContext;

    /// @notice `k` → commitment of `k + 1`.
    function step(bytes calldata _stateData, bytes calldata, bytes32 _localContext) external returns (bytes32) {
        lastLocalContext = _localContext;
        uint256 k = abi.decode(_stateData, (uint256));
        return commit(k + 1);
    }

    /// @notice Commitment of the state after `_k` steps.
    function commit(uint256 _k) public pure returns (bytes32) {
        bytes32 h = keccak256(abi.encode(_k));
        return (h & bytes32(uint256(type(uint248).max))) | bytes32(uint256(1) << 248);
    }
}
