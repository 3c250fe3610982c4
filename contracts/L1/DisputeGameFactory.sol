// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IDisputeGame } from "../libraries/DisputeInterfaces.sol";

/// @title DisputeGameFactory
/// @notice Creates dispute games and records them, with OP's op-contracts v3 `DisputeGameFactory` ABI and events so
///         viem's `getGames`/`getWithdrawalStatus` and OP's tooling find them. One game per (type, root claim, extra
///         data). A game is a small proxy with immutable arguments (see `_cloneWithArgs`): a proposal every few minutes
///         forever must not redeploy the whole game.
/// @dev    No proxy and no initializer (configuration starts in the constructor, the owner changes it afterwards).
contract DisputeGameFactory {
    /// @notice A game found by `findLatestGames` (OP's `GameSearchResult`).
    /// @custom:field index     Index of the game in `gameAtIndex`.
    /// @custom:field metadata  `gameType (32 bits) ‖ createdAt (64 bits) ‖ proxy (160 bits)` (OP's `GameId`).
    /// @custom:field timestamp When it was created.
    /// @custom:field rootClaim Its root claim.
    /// @custom:field extraData Its extra data.
    struct GameSearchResult {
        uint256 index;
        bytes32 metadata;
        uint64 timestamp;
        bytes32 rootClaim;
        bytes extraData;
    }

    /// @notice May set implementations and bonds, and hand the factory over.
    address public owner;

    /// @notice The game implementation each game type clones.
    mapping(uint32 => IDisputeGame) public gameImpls;

    /// @notice The exact ETH `create` takes for each game type (the root claim's bond).
    mapping(uint32 => uint256) public initBonds;

    /// @notice GameId (packed type, time, proxy) of each game by UUID.
    mapping(bytes32 => bytes32) internal _disputeGames;

    /// @notice GameId of every game, in creation order.
    bytes32[] internal _disputeGameList;

    /// @notice Emitted for every new game.
    event DisputeGameCreated(address indexed disputeProxy, uint32 indexed gameType, bytes32 indexed rootClaim);

    /// @notice Emitted when a game type gets a new implementation.
    event ImplementationSet(address indexed impl, uint32 indexed gameType);

    /// @notice Emitted when a game type's creation bond changes.
    event InitBondUpdated(uint32 indexed gameType, uint256 indexed newBond);

    /// @notice Emitted when ownership moves.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice No implementation is registered for the game type.
    error NoImplementation(uint32 gameType);

    /// @notice `msg.value` is not the game type's `initBonds`.
    error IncorrectBondAmount();

    /// @notice A game with the same type, root claim and extra data exists.
    error GameAlreadyExists(bytes32 uuid);

    /// @notice Only the owner may do this.
    error Unauthorized();

    /// @notice Deploying the game's proxy failed.
    error CloneFailed();

    /// @param _owner The owner.
    constructor(address _owner) {
        owner = _owner;
        emit OwnershipTransferred(address(0), _owner);
    }

    /// @notice Semantic version (OP's v3 factory line).
    function version() external pure returns (string memory) {
        return "1.0.1";
    }

    /// @notice Hands the factory to `_newOwner`. Only the owner.
    /// @param _newOwner The next owner.
    function transferOwnership(address _newOwner) external {
        if (msg.sender != owner) revert Unauthorized();
        emit OwnershipTransferred(owner, _newOwner);
        owner = _newOwner;
    }

    /// @notice Number of games created.
    function gameCount() external view returns (uint256 gameCount_) {
        return _disputeGameList.length;
    }

    /// @notice Creates a game of `_gameType` for `_rootClaim` with `_extraData` (for output-root games: the L2 block
    ///         number, 32 bytes). `msg.value` must equal `initBonds(_gameType)`; it becomes the root claim's bond.
    /// @param _gameType  The game type (an implementation must be set).
    /// @param _rootClaim The claim the game decides.
    /// @param _extraData The game's extra data.
    /// @return proxy_ The new game.
    function create(uint32 _gameType, bytes32 _rootClaim, bytes calldata _extraData)
        external
        payable
        returns (IDisputeGame proxy_)
    {
        IDisputeGame impl = gameImpls[_gameType];
        if (address(impl) == address(0)) revert NoImplementation(_gameType);
        if (msg.value != initBonds[_gameType]) revert IncorrectBondAmount();
        bytes32 uuid = getGameUUID(_gameType, _rootClaim, _extraData);
        if (_disputeGames[uuid] != bytes32(0)) revert GameAlreadyExists(uuid);

        // The parent block's hash is the L1 head the game's claims are judged against (as OP's factory records it).
        bytes memory args = abi.encodePacked(msg.sender, _rootClaim, blockhash(block.number - 1), _extraData);
        proxy_ = IDisputeGame(_cloneWithArgs(address(impl), args));
        proxy_.initialize{ value: msg.value }();

        bytes32 id = _packGameId(_gameType, uint64(block.timestamp), address(proxy_));
        _disputeGames[uuid] = id;
        _disputeGameList.push(id);
        emit DisputeGameCreated(address(proxy_), _gameType, _rootClaim);
    }

    /// @notice The game created for (`_gameType`, `_rootClaim`, `_extraData`), if any, and when.
    /// @param _gameType  The game type.
    /// @param _rootClaim The root claim.
    /// @param _extraData The extra data.
    /// @return proxy_     The game (zero if none).
    /// @return timestamp_ Its creation time (zero if none).
    function games(uint32 _gameType, bytes32 _rootClaim, bytes calldata _extraData)
        external
        view
        returns (IDisputeGame proxy_, uint64 timestamp_)
    {
        (, timestamp_, proxy_) = _unpackGameId(_disputeGames[getGameUUID(_gameType, _rootClaim, _extraData)]);
    }

    /// @notice The `_index`-th game created.
    /// @param _index Index in creation order.
    /// @return gameType_  Its type.
    /// @return timestamp_ Its creation time.
    /// @return proxy_     The game.
    function gameAtIndex(uint256 _index)
        external
        view
        returns (uint32 gameType_, uint64 timestamp_, IDisputeGame proxy_)
    {
        return _unpackGameId(_disputeGameList[_index]);
    }

    /// @notice The UUID a game is registered under: `keccak256(abi.encode(gameType, rootClaim, extraData))`.
    /// @param _gameType  The game type.
    /// @param _rootClaim The root claim.
    /// @param _extraData The extra data.
    function getGameUUID(uint32 _gameType, bytes32 _rootClaim, bytes calldata _extraData)
        public
        pure
        returns (bytes32 uuid_)
    {
        return keccak256(abi.encode(_gameType, _rootClaim, _extraData));
    }

    /// @notice Up to `_n` games of `_gameType`, newest first, searching from index `_start` down to 0 (viem's
    ///         `getGames` reads the latest games this way).
    /// @param _gameType The game type.
    /// @param _start    Index to search from (inclusive).
    /// @param _n        Most games to return.
    function findLatestGames(uint32 _gameType, uint256 _start, uint256 _n)
        external
        view
        returns (GameSearchResult[] memory games_)
    {
        if (_start >= _disputeGameList.length || _n == 0) return games_;
        games_ = new GameSearchResult[](_n);
        uint256 found;
        for (uint256 i = _start + 1; i > 0 && found < _n; i--) {
            bytes32 id = _disputeGameList[i - 1];
            (uint32 gameType, uint64 timestamp, IDisputeGame proxy) = _unpackGameId(id);
            if (gameType != _gameType) continue;
            games_[found++] = GameSearchResult({
                index: i - 1,
                metadata: id,
                timestamp: timestamp,
                rootClaim: proxy.rootClaim(),
                extraData: proxy.extraData()
            });
        }
        assembly ("memory-safe") {
            mstore(games_, found)
        }
    }

    /// @notice Sets the implementation `_gameType` clones. Only the owner.
    /// @param _gameType The game type.
    /// @param _impl     The implementation (zero disables the type).
    function setImplementation(uint32 _gameType, IDisputeGame _impl) external {
        if (msg.sender != owner) revert Unauthorized();
        gameImpls[_gameType] = _impl;
        emit ImplementationSet(address(_impl), _gameType);
    }

    /// @notice Sets the bond `create` takes for `_gameType`. Only the owner.
    /// @param _gameType The game type.
    /// @param _initBond The bond in wei.
    function setInitBond(uint32 _gameType, uint256 _initBond) external {
        if (msg.sender != owner) revert Unauthorized();
        initBonds[_gameType] = _initBond;
        emit InitBondUpdated(_gameType, _initBond);
    }

    function _packGameId(uint32 _gameType, uint64 _timestamp, address _proxy) internal pure returns (bytes32) {
        return bytes32((uint256(_gameType) << 224) | (uint256(_timestamp) << 160) | uint256(uint160(_proxy)));
    }

    function _unpackGameId(bytes32 _id) internal pure returns (uint32 gameType_, uint64 timestamp_, IDisputeGame proxy_) {
        uint256 id = uint256(_id);
        gameType_ = uint32(id >> 224);
        timestamp_ = uint64(id >> 160);
        proxy_ = IDisputeGame(address(uint160(id)));
    }

    /// @notice Deploys a 56-byte delegating proxy followed by `_args` and their length (uint16): every call is
    ///         forwarded to `_impl` with calldata ‖ args ‖ length appended, so the game reads its immutable arguments
    ///         from the end of its calldata. Runtime (hand-assembled, Cancun's PUSH0):
    ///         CALLDATACOPY(0, 0, cds); CODECOPY(cds, 56, n + 2); DELEGATECALL(gas, impl, 0, cds + n + 2, 0, 0);
    ///         RETURNDATACOPY(0, 0, rds); success ? RETURN(0, rds) : REVERT(0, rds).
    ///         Creation copies the runtime out of the init code (10 bytes) and returns it.
    function _cloneWithArgs(address _impl, bytes memory _args) internal returns (address instance_) {
        uint16 tail = uint16(_args.length + 2);
        uint16 runtimeLength = 56 + tail;
        bytes memory code = abi.encodePacked(
            hex"61",
            runtimeLength,
            hex"80600a5f395ff3", // init: PUSH2 len DUP1 PUSH1 10 PUSH0 CODECOPY PUSH0 RETURN
            hex"365f5f3761", // CALLDATASIZE PUSH0 PUSH0 CALLDATACOPY PUSH2 tail
            tail,
            hex"61003836395f5f61", // PUSH2 56 CALLDATASIZE CODECOPY PUSH0 PUSH0 PUSH2 tail
            tail
        );
        code = abi.encodePacked(
            code,
            hex"36015f73", // CALLDATASIZE ADD PUSH0 PUSH20 impl
            _impl,
            hex"5af43d5f5f3e3d5f82603657fd5bf3", // GAS DELEGATECALL, copy return data, JUMPI 54 to RETURN else REVERT
            _args,
            uint16(_args.length)
        );
        assembly ("memory-safe") {
            instance_ := create(0, add(code, 0x20), mload(code))
        }
        if (instance_ == address(0)) revert CloneFailed();
    }
}
