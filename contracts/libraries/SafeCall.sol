// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title SafeCall
/// @notice A call that gives its target at least a given amount of gas or does not happen: a relayer finalizing a
///         withdrawal must not be able to make it fail by sending too little gas (the withdrawal would be marked
///         finalized with a failed call, its ETH stuck).
library SafeCall {
    /// @notice Gas kept for the CALL itself: value transfer (9,000), a cold new account (25,000) and slack.
    uint256 internal constant CALL_OVERHEAD = 40_000;

    /// @notice The caller sent too little gas for the target to get `minGas`.
    error SafeCall_NotEnoughGas();

    /// @notice Calls `_target` with `_value` and `_calldata`, reverting unless the target is sure to receive at least
    ///         `_minGas` (EIP-150 forwards at most 63/64 of what is left). Returns whether the call succeeded.
    function callWithMinGas(address _target, uint256 _minGas, uint256 _value, bytes memory _calldata)
        internal
        returns (bool success_)
    {
        if (gasleft() * 63 < (_minGas + CALL_OVERHEAD) * 64) revert SafeCall_NotEnoughGas();
        assembly ("memory-safe") {
            success_ := call(gas(), _target, _value, add(_calldata, 0x20), mload(_calldata), 0, 0)
        }
    }
}
