// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title SuperchainConfig
/// @notice The guardian's pause switch, as OP Stack's SuperchainConfig holds it (op-contracts v3): while paused, the
///         portal takes no deposits (and, once withdrawals exist, proves and finalizes none).
contract SuperchainConfig {
    /// @notice The only account that may pause and unpause.
    address public immutable guardian;

    /// @notice Whether the system is paused.
    bool public paused;

    /// @notice Emitted when the guardian pauses the system.
    /// @param identifier Free-form reason or incident id given by the guardian.
    event Paused(string identifier);

    /// @notice Emitted when the guardian unpauses the system.
    event Unpaused();

    /// @notice Thrown when anyone but the guardian calls `pause` or `unpause`.
    error SuperchainConfig_OnlyGuardian();

    /// @param _guardian The account allowed to pause and unpause.
    constructor(address _guardian) {
        guardian = _guardian;
    }

    /// @notice Pauses the system. Only the guardian.
    /// @param _identifier Reason or incident id, echoed in the `Paused` event.
    function pause(string calldata _identifier) external {
        if (msg.sender != guardian) revert SuperchainConfig_OnlyGuardian();
        paused = true;
        emit Paused(_identifier);
    }

    /// @notice Unpauses the system. Only the guardian.
    function unpause() external {
        if (msg.sender != guardian) revert SuperchainConfig_OnlyGuardian();
        paused = false;
        emit Unpaused();
    }

    /// @notice Semantic version.
    function version() external pure returns (string memory) {
        return "1.2.0";
    }
}
