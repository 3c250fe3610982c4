// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IPortalL2Sender {
    function l2Sender() external view returns (address);
}

/// @title L2SenderProbe
/// @notice A withdrawal target for tests: records the portal's `l2Sender` and the gas it was called with, and burns
///         gas on request so the portal's minimum-gas rule can be checked.
contract L2SenderProbe {
    /// @notice `l2Sender` seen during the last call.
    address public seenSender;
    /// @notice `gasleft()` at the start of the last call.
    uint256 public seenGas;
    /// @notice ETH received so far.
    uint256 public received;

    /// @notice Records the caller's `l2Sender`, the gas left and the value.
    function probe() external payable {
        seenGas = gasleft();
        seenSender = IPortalL2Sender(msg.sender).l2Sender();
        received += msg.value;
    }
}
