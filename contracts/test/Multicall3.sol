// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Multicall3
/// @notice `aggregate3` with Multicall3's ABI, for tests: viem's `getGames` reads games through multicall and anvil
///         has none deployed.
contract Multicall3 {
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    error CallFailed(uint256 index);

    /// @notice Runs each call, reverting on a failure that is not allowed.
    function aggregate3(Call3[] calldata _calls) external payable returns (Result[] memory results_) {
        results_ = new Result[](_calls.length);
        for (uint256 i = 0; i < _calls.length; i++) {
            (bool success, bytes memory data) = _calls[i].target.call(_calls[i].callData);
            if (!success && !_calls[i].allowFailure) revert CallFailed(i);
            results_[i] = Result(success, data);
        }
    }
}
