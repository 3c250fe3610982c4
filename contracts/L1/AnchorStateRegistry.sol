// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { SuperchainConfig } from "./SuperchainConfig.sol";
import { GameStatus } from "../libraries/DisputeTypes.sol";
import { IDisputeGame, IDisputeGameFactoryReader } from "../libraries/DisputeInterfaces.sol";

/// @title AnchorStateRegistry
/// @notice Which dispute games count, with OP's op-contracts v3 `AnchorStateRegistry` ABI: the anchor (the newest
///         output root a finalized game proved, where new games start bisecting from), the respected game type, the
///         guardian's blacklist and retirement timestamp, and the finality delay after resolution. The portal asks it
///         whether a game's claim may back a withdrawal (`isGameClaimValid`).
/// @dev    No proxy and no initializer. The guardian is SuperchainConfig's.
contract AnchorStateRegistry {
    /// @notice The guardian's pause switch and identity.
    SuperchainConfig public immutable superchainConfig;

    /// @notice The factory whose games this registry judges.
    IDisputeGameFactoryReader public immutable disputeGameFactory;

    /// @notice Seconds a resolved game waits before it is final (OP's `DISPUTE_GAME_FINALITY_DELAY_SECONDS`).
    uint256 internal immutable DISPUTE_GAME_FINALITY_DELAY_SECONDS;

    /// @notice The starting anchor: output root and L2 block number (the L2 genesis output for a new chain).
    bytes32 internal startingAnchorRoot;
    uint256 internal startingAnchorL2SequenceNumber;

    /// @notice The game whose claim is the anchor now (zero: the starting anchor).
    IDisputeGame public anchorGame;

    /// @notice Games created at or before this time are retired (invalid for withdrawals and anchoring).
    uint64 public retirementTimestamp;

    /// @notice The game type withdrawals are proven against.
    uint32 public respectedGameType;

    /// @notice Games the guardian has blacklisted.
    mapping(address => bool) public disputeGameBlacklist;

    /// @notice Emitted when a game becomes the anchor.
    event AnchorUpdated(address indexed game);

    /// @notice Emitted when the respected game type changes.
    event RespectedGameTypeSet(uint32 gameType);

    /// @notice Emitted when the retirement timestamp moves.
    event RetirementTimestampSet(uint256 timestamp);

    /// @notice Emitted when the guardian blacklists a game.
    event DisputeGameBlacklisted(address indexed disputeGame);

    /// @notice Only the guardian may do this.
    error AnchorStateRegistry_Unauthorized();

    /// @notice The game cannot become the anchor (claim not valid, or not newer than the anchor).
    error AnchorStateRegistry_InvalidAnchorGame();

    /// @notice The anchor game has been blacklisted since it was set.
    error AnchorStateRegistry_AnchorGameBlacklisted();

    /// @param _superchainConfig      Guardian and pause switch.
    /// @param _disputeGameFactory    The factory.
    /// @param _startingAnchorRoot    Output root of the starting anchor.
    /// @param _startingL2BlockNumber Its L2 block number.
    /// @param _respectedGameType     The respected game type.
    /// @param _finalityDelaySeconds  Seconds after resolution until a game is final.
    constructor(
        SuperchainConfig _superchainConfig,
        IDisputeGameFactoryReader _disputeGameFactory,
        bytes32 _startingAnchorRoot,
        uint256 _startingL2BlockNumber,
        uint32 _respectedGameType,
        uint256 _finalityDelaySeconds
    ) {
        superchainConfig = _superchainConfig;
        disputeGameFactory = _disputeGameFactory;
        startingAnchorRoot = _startingAnchorRoot;
        startingAnchorL2SequenceNumber = _startingL2BlockNumber;
        respectedGameType = _respectedGameType;
        DISPUTE_GAME_FINALITY_DELAY_SECONDS = _finalityDelaySeconds;
        retirementTimestamp = uint64(block.timestamp);
        emit RespectedGameTypeSet(_respectedGameType);
        emit RetirementTimestampSet(block.timestamp);
    }

    /// @notice Semantic version (OP's v3 registry line).
    function version() external pure returns (string memory) {
        return "3.5.0";
    }

    /// @notice Seconds a resolved game waits before it is final.
    function disputeGameFinalityDelaySeconds() external view returns (uint256) {
        return DISPUTE_GAME_FINALITY_DELAY_SECONDS;
    }

    /// @notice Whether the guardian has paused the system.
    function paused() public view returns (bool) {
        return superchainConfig.paused();
    }

    /// @notice The guardian.
    function guardian() public view returns (address) {
        return superchainConfig.guardian();
    }

    /// @notice The anchor output root and its L2 block number. Reverts if the anchor game was blacklisted after
    ///         becoming the anchor (new games must not start from it).
    function getAnchorRoot() public view returns (bytes32 root_, uint256 l2SequenceNumber_) {
        if (address(anchorGame) == address(0)) return (startingAnchorRoot, startingAnchorL2SequenceNumber);
        if (disputeGameBlacklist[address(anchorGame)]) revert AnchorStateRegistry_AnchorGameBlacklisted();
        return (anchorGame.rootClaim(), anchorGame.l2SequenceNumber());
    }

    /// @notice The anchor, whatever the game type (OP's legacy `anchors(GameType)` view).
    /// @param _gameType Ignored: one anchor for all types, as in v3.
    function anchors(uint32 _gameType) external view returns (bytes32, uint256) {
        _gameType;
        return getAnchorRoot();
    }

    /// @notice Whether the factory created `_game` (and it points at this registry's factory entry).
    /// @param _game The game.
    function isGameRegistered(IDisputeGame _game) public view returns (bool) {
        (address registered,) = disputeGameFactory.games(_game.gameType(), _game.rootClaim(), _game.extraData());
        return registered == address(_game);
    }

    /// @notice Whether `_game` was of the respected type when it was created.
    /// @param _game The game.
    function isGameRespected(IDisputeGame _game) public view returns (bool) {
        return _game.wasRespectedGameTypeWhenCreated();
    }

    /// @notice Whether the guardian blacklisted `_game`.
    /// @param _game The game.
    function isGameBlacklisted(IDisputeGame _game) public view returns (bool) {
        return disputeGameBlacklist[address(_game)];
    }

    /// @notice Whether `_game` was created at or before the retirement timestamp.
    /// @param _game The game.
    function isGameRetired(IDisputeGame _game) public view returns (bool) {
        return _game.createdAt() <= retirementTimestamp;
    }

    /// @notice Whether `_game` may be used at all: registered, not blacklisted, not retired, system not paused.
    /// @param _game The game.
    function isGameProper(IDisputeGame _game) public view returns (bool) {
        return isGameRegistered(_game) && !isGameBlacklisted(_game) && !isGameRetired(_game) && !paused();
    }

    /// @notice Whether `_game` has resolved (either way).
    /// @param _game The game.
    function isGameResolved(IDisputeGame _game) public view returns (bool) {
        GameStatus status = _game.status();
        return _game.resolvedAt() != 0 && (status == GameStatus.DEFENDER_WINS || status == GameStatus.CHALLENGER_WINS);
    }

    /// @notice Whether `_game` resolved more than `disputeGameFinalityDelaySeconds` ago.
    /// @param _game The game.
    function isGameFinalized(IDisputeGame _game) public view returns (bool) {
        return isGameResolved(_game) && block.timestamp - _game.resolvedAt() > DISPUTE_GAME_FINALITY_DELAY_SECONDS;
    }

    /// @notice Whether `_game`'s root claim is valid: proper, respected, finalized and `DEFENDER_WINS`.
    /// @param _game The game.
    function isGameClaimValid(IDisputeGame _game) public view returns (bool) {
        return isGameProper(_game) && isGameRespected(_game) && isGameFinalized(_game)
            && _game.status() == GameStatus.DEFENDER_WINS;
    }

    /// @notice Makes `_game` the anchor: its claim must be valid and newer than the current anchor. Anyone may call.
    /// @param _game The game.
    function setAnchorState(IDisputeGame _game) external {
        if (!isGameClaimValid(_game)) revert AnchorStateRegistry_InvalidAnchorGame();
        (, uint256 anchorL2SequenceNumber) = getAnchorRoot();
        if (_game.l2SequenceNumber() <= anchorL2SequenceNumber) revert AnchorStateRegistry_InvalidAnchorGame();
        anchorGame = _game;
        emit AnchorUpdated(address(_game));
    }

    /// @notice Sets the respected game type. Only the guardian.
    /// @param _gameType The game type.
    function setRespectedGameType(uint32 _gameType) external {
        if (msg.sender != guardian()) revert AnchorStateRegistry_Unauthorized();
        respectedGameType = _gameType;
        emit RespectedGameTypeSet(_gameType);
    }

    /// @notice Retires every game created up to now. Only the guardian.
    function updateRetirementTimestamp() external {
        if (msg.sender != guardian()) revert AnchorStateRegistry_Unauthorized();
        retirementTimestamp = uint64(block.timestamp);
        emit RetirementTimestampSet(block.timestamp);
    }

    /// @notice Blacklists `_game`: it can no longer back withdrawals or the anchor. Only the guardian.
    /// @param _game The game.
    function blacklistDisputeGame(IDisputeGame _game) external {
        if (msg.sender != guardian()) revert AnchorStateRegistry_Unauthorized();
        disputeGameBlacklist[address(_game)] = true;
        emit DisputeGameBlacklisted(address(_game));
    }
}
