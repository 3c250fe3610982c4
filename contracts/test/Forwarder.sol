// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Forwarder
/// @notice Test helper: makes a call from a contract (e.g. a deposit whose sender must be aliased).
contract Forwarder {
    /// @notice Thrown with the callee's revert data when the forwarded call fails.
    error Forwarder_CallFailed(bytes revertData);

    /// @notice Calls `_target` with `_data` and the ETH sent.
    /// @param _target Account to call.
    /// @param _data   Calldata.
    function forward(address _target, bytes calldata _data) external payable returns (bytes memory result_) {
        bool ok;
        (ok, result_) = _target.call{ value: msg.value }(_data);
        if (!ok) revert Forwarder_CallFailed(result_);
    }
}
