// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { GameStatus } from "./DisputeTypes.sol";

/// @title IDisputeGame
/// @notice What the factory, the anchor state registry and the portal read from any dispute game (OP's v3
///         `IDisputeGame`).
interface IDisputeGame {
    function initialize() external payable;
    function createdAt() external view returns (uint64);
    function resolvedAt() external view returns (uint64);
    function status() external view returns (GameStatus);
    function gameType() external view returns (uint32);
    function gameCreator() external view returns (address);
    function rootClaim() external view returns (bytes32);
    function l1Head() external view returns (bytes32);
    function l2SequenceNumber() external view returns (uint256);
    function extraData() external view returns (bytes memory);
    function wasRespectedGameTypeWhenCreated() external view returns (bool);
}

/// @title IBigStepper
/// @notice A one-step verifier at the bottom of the game: from the pre-state preimage `_stateData` and `_proof`,
///         the post-state commitment (OP's `IBigStepper.step`). `_localContext` identifies the disputed transition
///         (starting and disputed outputs) so a verifier can tell which block it is checking.
interface IBigStepper {
    function step(bytes calldata _stateData, bytes calldata _proof, bytes32 _localContext) external returns (bytes32);
}

/// @title IDisputeGameFactoryReader
/// @notice The factory as the registry and the portal use it.
interface IDisputeGameFactoryReader {
    function games(uint32 _gameType, bytes32 _rootClaim, bytes calldata _extraData)
        external
        view
        returns (address proxy_, uint64 timestamp_);
    function gameAtIndex(uint256 _index) external view returns (uint32 gameType_, uint64 timestamp_, address proxy_);
}

/// @title IAnchorStateRegistryReader
/// @notice The registry as games and the portal use it.
interface IAnchorStateRegistryReader {
    function getAnchorRoot() external view returns (bytes32 root_, uint256 l2SequenceNumber_);
    function respectedGameType() external view returns (uint32);
    function isGameProper(address _game) external view returns (bool);
    function isGameRespected(address _game) external view returns (bool);
    function isGameClaimValid(address _game) external view returns (bool);
}
