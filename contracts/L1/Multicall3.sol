// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Multicall3
/// @notice Multicall3's `aggregate3` (its ABI, our code): viem's op-stack `getGames` (behind `waitToProve` and
///         `getWithdrawalStatus`) reads the games through multicall, and anvil has no Multicall3. The dev L1 installs
///         this runtime at Multicall3's canonical address, so chain definitions that name it work unchanged.
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
    /// @param _calls Target, whether its failure is allowed, and calldata of each call.
    /// @return results_ Success and return data of each call.
    function aggregate3(Call3[] calldata _calls) external payable returns (Result[] memory results_) {
        results_ = new Result[](_calls.length);
        for (uint256 i = 0; i < _calls.length; i++) {
            (bool success, bytes memory data) = _calls[i].target.call(_calls[i].callData);
            if (!success && !_calls[i].allowFailure) revert CallFailed(i);
            results_[i] = Result(success, data);
        }
    }
}
