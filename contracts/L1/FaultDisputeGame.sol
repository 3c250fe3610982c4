// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { GameStatus, LibPosition, VMStatus } from "../libraries/DisputeTypes.sol";
import { IAnchorStateRegistryReader, IBigStepper } from "../libraries/DisputeInterfaces.sol";

/// @title FaultDisputeGame
/// @notice OP's bisection game over an output root, with the op-contracts v3 `IDisputeGame`/`IFaultDisputeGame` ABI
///         (what viem, op-challenger-style tools and our prover read). Claims form a tree of positions
///         (`gindex = 2^depth + index`); above `splitDepth` they are output roots of L2 blocks between the anchor and
///         `l2BlockNumber`, below it they commit to the states of one block's execution trace, the top byte carrying
///         the VM status. Each side has a chess clock; the deepest claims are countered by `step` against `vm`.
///         Resolution runs bottom-up; every subgame's bond goes to the leftmost uncountered claim that countered it.
/// @dev    Deployed once per configuration; the factory clones it with immutable arguments appended to every call:
///         `gameCreator (20) ‖ rootClaim (32) ‖ l1Head (32) ‖ extraData ‖ uint16 length of those`. Departures from
///         OP: credits are held by the game and paid `creditDelaySeconds` after resolution (no DelayedWETH, no refund
///         mode); the bond scale is a parameter; there is no preimage oracle (the VM gets OP's local-context hash and
///         may read the game, its caller, for the rest).
contract FaultDisputeGame {
    /// @notice A claim in the game (OP's `ClaimData`, same field order).
    struct ClaimData {
        uint32 parentIndex;
        address counteredBy;
        address claimant;
        uint128 bond;
        bytes32 claim;
        uint128 position;
        uint128 clock;
    }

    /// @notice Where resolution of one subgame stands (OP's `ResolutionCheckpoint`).
    struct ResolutionCheckpoint {
        bool initialCheckpointComplete;
        uint32 subgameIndex;
        uint128 leftmostPosition;
        address counteredBy;
    }

    /// @notice An output root and its L2 block number.
    struct OutputRoot {
        bytes32 root;
        uint256 l2SequenceNumber;
    }

    /// @notice Constructor parameters.
    /// @custom:field gameType           The type this implementation is registered as.
    /// @custom:field absolutePrestate   Commitment to the execution trace's first state (the VM's program start).
    /// @custom:field maxGameDepth       Depth of the deepest claims (where `step` applies).
    /// @custom:field splitDepth         Depth of the last output-root claims.
    /// @custom:field clockExtension     Minimum time a side gets to answer a new claim (seconds).
    /// @custom:field maxClockDuration   Each side's total time (seconds).
    /// @custom:field vm                 The one-step verifier.
    /// @custom:field anchorStateRegistry Where the anchor and the respected game type come from.
    /// @custom:field l2ChainId          The L2 chain the outputs belong to.
    /// @custom:field bondBase           Bond of a depth-0 claim in wei (OP: 400,000 gas at 200 gwei = 0.08 ETH);
    ///                                  deeper bonds grow by OP's factor, 750x at `maxGameDepth`.
    /// @custom:field creditDelaySeconds Seconds after resolution before credits can be claimed.
    struct GameParams {
        uint32 gameType;
        bytes32 absolutePrestate;
        uint256 maxGameDepth;
        uint256 splitDepth;
        uint64 clockExtension;
        uint64 maxClockDuration;
        IBigStepper vm;
        IAnchorStateRegistryReader anchorStateRegistry;
        uint256 l2ChainId;
        uint256 bondBase;
        uint64 creditDelaySeconds;
    }

    uint256 internal constant WAD = 1e18;
    /// @notice OP's bond growth over the whole depth: 300,000,000 / 400,000 gas.
    uint256 internal constant BOND_GROWTH = 750;
    /// @notice Length of the immutable arguments with 32 bytes of extra data (the L2 block number).
    uint256 internal constant ARGS_LENGTH = 20 + 32 + 32 + 32;

    uint32 internal immutable GAME_TYPE;
    bytes32 internal immutable ABSOLUTE_PRESTATE;
    uint256 internal immutable MAX_GAME_DEPTH;
    uint256 internal immutable SPLIT_DEPTH;
    uint64 internal immutable CLOCK_EXTENSION;
    uint64 internal immutable MAX_CLOCK_DURATION;
    IBigStepper internal immutable VM;
    IAnchorStateRegistryReader internal immutable ANCHOR_STATE_REGISTRY;
    uint256 internal immutable L2_CHAIN_ID;
    uint256 internal immutable BOND_BASE;
    /// @notice Per-depth bond multiplier, `BOND_GROWTH^(1 / maxGameDepth)` in WAD.
    uint256 internal immutable BOND_MULTIPLIER;
    uint64 internal immutable CREDIT_DELAY;
    /// @notice The implementation's own address: only its clones can be initialized.
    address internal immutable SELF;

    /// @notice When the game was created.
    uint64 public createdAt;
    /// @notice When the game was resolved (zero while in progress).
    uint64 public resolvedAt;
    /// @notice The outcome.
    GameStatus public status;
    /// @notice Whether `initialize` ran.
    bool public initialized;
    /// @notice Whether this game's type was the respected one when it was created.
    bool public wasRespectedGameTypeWhenCreated;

    /// @notice Every claim, root first.
    ClaimData[] public claimData;
    /// @notice ETH each account can claim once the game is resolved and the credit delay passed.
    mapping(address => uint256) public credit;
    /// @notice `keccak256(abi.encode(claim, position, parentIndex))` of each claim made: no duplicates.
    mapping(bytes32 => bool) public claims;
    /// @notice Indices of the claims countering each claim.
    mapping(uint256 => uint256[]) public subgames;
    /// @notice Which subgames are resolved.
    mapping(uint256 => bool) public resolvedSubgames;
    /// @notice Resolution progress of each subgame.
    mapping(uint256 => ResolutionCheckpoint) public resolutionCheckpoints;
    /// @notice The anchor this game bisects from.
    OutputRoot public startingOutputRoot;

    /// @notice Emitted for every claim after the root.
    event Move(uint256 indexed parentIndex, bytes32 indexed claim, address indexed claimant);
    /// @notice Emitted when the game resolves.
    event Resolved(GameStatus indexed status);
    /// @notice Emitted when a subgame resolves: `recipient` is credited the subgame root's bond.
    event ClaimResolved(uint256 indexed claimIndex, address indexed recipient, uint256 bond);
    /// @notice Emitted when credit is paid out.
    event CreditClaimed(address indexed recipient, uint256 amount);

    error AlreadyInitialized();
    error AnchorRootNotFound();
    error BadExtraData();
    error UnexpectedRootClaim(bytes32 rootClaim);
    error GameNotInProgress();
    error GameNotResolved();
    error InvalidDisputedClaimIndex();
    error CannotDefendRootClaim();
    error GameDepthExceeded();
    error IncorrectBondAmount();
    error ClockTimeExceeded();
    error ClockNotExpired();
    error ClaimAlreadyExists();
    error ClaimAlreadyResolved();
    error ClaimAboveSplit();
    error InvalidParent();
    error InvalidPrestate();
    error ValidStep();
    error DuplicateStep();
    error OutOfOrderResolution();
    error InvalidSplitDepth();
    error InvalidClockExtension();
    error MaxDepthTooLarge();
    error NoCreditToClaim();
    error CreditNotClaimableYet();
    error BondTransferFailed();

    /// @param _params The game's configuration.
    constructor(GameParams memory _params) {
        if (_params.maxGameDepth > 125) revert MaxDepthTooLarge();
        if (_params.splitDepth + 1 >= _params.maxGameDepth || _params.splitDepth < 2) revert InvalidSplitDepth();
        if (uint256(_params.clockExtension) * 2 > _params.maxClockDuration) revert InvalidClockExtension();
        GAME_TYPE = _params.gameType;
        ABSOLUTE_PRESTATE = _params.absolutePrestate;
        MAX_GAME_DEPTH = _params.maxGameDepth;
        SPLIT_DEPTH = _params.splitDepth;
        CLOCK_EXTENSION = _params.clockExtension;
        MAX_CLOCK_DURATION = _params.maxClockDuration;
        VM = _params.vm;
        ANCHOR_STATE_REGISTRY = _params.anchorStateRegistry;
        L2_CHAIN_ID = _params.l2ChainId;
        BOND_BASE = _params.bondBase;
        CREDIT_DELAY = _params.creditDelaySeconds;
        SELF = address(this);
        BOND_MULTIPLIER = _nthRootWad(BOND_GROWTH * WAD, _params.maxGameDepth);
    }

    /// @notice Sets the game up (the factory calls it on creation with the root claim's bond): the anchor it
    ///         starts from, and the root claim. Reverts unless the extra data is exactly the 32-byte L2 block number
    ///         and that block is newer than the anchor's.
    function initialize() external payable {
        if (initialized || address(this) == SELF) revert AlreadyInitialized();
        (bytes32 root, uint256 anchorNumber) = ANCHOR_STATE_REGISTRY.getAnchorRoot();
        if (root == bytes32(0)) revert AnchorRootNotFound();
        if (_argsLength() != ARGS_LENGTH) revert BadExtraData();
        if (l2BlockNumber() <= anchorNumber) revert UnexpectedRootClaim(rootClaim());
        startingOutputRoot = OutputRoot({ root: root, l2SequenceNumber: anchorNumber });
        claimData.push(
            ClaimData({
                parentIndex: type(uint32).max,
                counteredBy: address(0),
                claimant: gameCreator(),
                bond: uint128(msg.value),
                claim: rootClaim(),
                position: 1,
                clock: _wrapClock(0, uint64(block.timestamp))
            })
        );
        initialized = true;
        createdAt = uint64(block.timestamp);
        wasRespectedGameTypeWhenCreated = ANCHOR_STATE_REGISTRY.respectedGameType() == GAME_TYPE;
    }

    /// @notice Counters the claim at `_challengeIndex` (whose value must be `_disputed`) with `_claim`: an attack
    ///         disagrees with it (position `2g`), a defense agrees with it and disputes the next half (`2(g + 1)`).
    ///         `msg.value` must be `getRequiredBond` of the new position. The root cannot be defended, nor can an
    ///         execution-trace root.
    /// @param _disputed       The value of the countered claim (guards against a reorg changing the index's claim).
    /// @param _challengeIndex Index of the countered claim.
    /// @param _claim          The new claim.
    /// @param _isAttack       Attack (true) or defense.
    function move(bytes32 _disputed, uint256 _challengeIndex, bytes32 _claim, bool _isAttack) public payable {
        if (status != GameStatus.IN_PROGRESS) revert GameNotInProgress();
        ClaimData storage parent = claimData[_challengeIndex];
        if (parent.claim != _disputed) revert InvalidDisputedClaimIndex();
        uint128 parentPos = parent.position;
        uint128 nextPosition = LibPosition.move(parentPos, _isAttack);
        uint256 nextDepth = LibPosition.depth(nextPosition);
        if ((_challengeIndex == 0 || nextDepth == SPLIT_DEPTH + 2) && !_isAttack) revert CannotDefendRootClaim();
        if (nextDepth > MAX_GAME_DEPTH) revert GameDepthExceeded();
        if (nextDepth == SPLIT_DEPTH + 1) _verifyExecBisectionRoot(_claim, _challengeIndex, parentPos, _isAttack);
        if (msg.value != getRequiredBond(nextPosition)) revert IncorrectBondAmount();

        uint64 nextDuration = getChallengerDuration(_challengeIndex);
        if (nextDuration == MAX_CLOCK_DURATION) revert ClockTimeExceeded();
        // The side that must answer the new claim gets at least the clock extension; twice that when its answer is
        // an execution-trace root (the new claim is at splitDepth - 1), which needs the trace computed first.
        uint64 extension = nextDepth == SPLIT_DEPTH - 1 ? CLOCK_EXTENSION * 2 : CLOCK_EXTENSION;
        if (nextDuration > MAX_CLOCK_DURATION - extension) nextDuration = MAX_CLOCK_DURATION - extension;

        bytes32 claimHash = keccak256(abi.encode(_claim, nextPosition, _challengeIndex));
        if (claims[claimHash]) revert ClaimAlreadyExists();
        claims[claimHash] = true;
        claimData.push(
            ClaimData({
                parentIndex: uint32(_challengeIndex),
                counteredBy: address(0),
                claimant: msg.sender,
                bond: uint128(msg.value),
                claim: _claim,
                position: nextPosition,
                clock: _wrapClock(nextDuration, uint64(block.timestamp))
            })
        );
        subgames[_challengeIndex].push(claimData.length - 1);
        emit Move(_challengeIndex, _claim, msg.sender);
    }

    /// @notice `move(_disputed, _parentIndex, _claim, true)`.
    /// @param _disputed    The countered claim's value.
    /// @param _parentIndex The countered claim's index.
    /// @param _claim       The new claim.
    function attack(bytes32 _disputed, uint256 _parentIndex, bytes32 _claim) external payable {
        move(_disputed, _parentIndex, _claim, true);
    }

    /// @notice `move(_disputed, _parentIndex, _claim, false)`.
    /// @param _disputed    The countered claim's value.
    /// @param _parentIndex The countered claim's index.
    /// @param _claim       The new claim.
    function defend(bytes32 _disputed, uint256 _parentIndex, bytes32 _claim) external payable {
        move(_disputed, _parentIndex, _claim, false);
    }

    /// @notice Counters the max-depth claim at `_claimIndex` by executing one step on the VM. Attack: `_stateData`
    ///         is the pre-state of the claim's trace index (the absolute prestate for the first index of a block's
    ///         trace) and the VM's post-state must differ from the claim. Defense: `_stateData` is the claim's own
    ///         state and the post-state must differ from the claim committing to the next index. The pre-state check
    ///         ignores the status byte.
    /// @param _claimIndex Index of a max-depth claim.
    /// @param _isAttack   Attack (true) or defense.
    /// @param _stateData  Preimage of the pre-state claim.
    /// @param _proof      Whatever the VM needs to execute the step.
    function step(uint256 _claimIndex, bool _isAttack, bytes calldata _stateData, bytes calldata _proof) external {
        (bytes32 postStateClaim, bool parentPostAgree) = _prepareStep(_claimIndex, _isAttack, keccak256(_stateData));
        bytes32 context = _findLocalContext(_claimIndex);
        // The step counters the claim when the VM's result contradicts it: an attack shows the claim's state is not
        // what its pre-state leads to; a defense shows the claim after it, which it agrees with when the two are an
        // even number of levels apart, is wrong.
        bool validStep = VM.step(_stateData, _proof, context) == postStateClaim;
        if (parentPostAgree == validStep) revert ValidStep();
        ClaimData storage parent = claimData[_claimIndex];
        if (parent.counteredBy != address(0)) revert DuplicateStep();
        parent.counteredBy = msg.sender;
    }

    /// @notice Resolves the subgame rooted at `_claimIndex` once its clock ran out and all its children are
    ///         resolved, processing at most `_numToResolve` children (0: all) per call. The subgame root's bond goes
    ///         to the leftmost uncountered child's claimant, or back to its own claimant if none stands (to the
    ///         stepper for a stepped leaf).
    /// @param _claimIndex   The subgame root.
    /// @param _numToResolve Children to process in this call (0: all).
    function resolveClaim(uint256 _claimIndex, uint256 _numToResolve) external {
        if (status != GameStatus.IN_PROGRESS) revert GameNotInProgress();
        ClaimData storage subgameRoot = claimData[_claimIndex];
        if (getChallengerDuration(_claimIndex) < MAX_CLOCK_DURATION) revert ClockNotExpired();
        if (resolvedSubgames[_claimIndex]) revert ClaimAlreadyResolved();

        uint256[] storage children = subgames[_claimIndex];
        uint256 childCount = children.length;
        if (childCount == 0) {
            address counteredBy = subgameRoot.counteredBy;
            _payBond(_claimIndex, counteredBy == address(0) ? subgameRoot.claimant : counteredBy, subgameRoot);
            resolvedSubgames[_claimIndex] = true;
            return;
        }

        ResolutionCheckpoint memory checkpoint = resolutionCheckpoints[_claimIndex];
        if (!checkpoint.initialCheckpointComplete) {
            checkpoint.leftmostPosition = type(uint128).max;
            checkpoint.initialCheckpointComplete = true;
            if (_numToResolve == 0) _numToResolve = childCount;
        }
        uint256 end = checkpoint.subgameIndex + _numToResolve;
        if (end > childCount) end = childCount;
        for (uint256 i = checkpoint.subgameIndex; i < end; i++) {
            uint256 childIndex = children[i];
            if (!resolvedSubgames[childIndex]) revert OutOfOrderResolution();
            ClaimData storage child = claimData[childIndex];
            if (child.counteredBy == address(0) && child.position < checkpoint.leftmostPosition) {
                checkpoint.counteredBy = child.claimant;
                checkpoint.leftmostPosition = child.position;
            }
        }
        checkpoint.subgameIndex = uint32(end);
        resolutionCheckpoints[_claimIndex] = checkpoint;

        if (end == childCount) {
            address countered = checkpoint.counteredBy;
            _payBond(_claimIndex, countered == address(0) ? subgameRoot.claimant : countered, subgameRoot);
            subgameRoot.counteredBy = countered;
            resolvedSubgames[_claimIndex] = true;
        }
    }

    /// @notice Ends the game once the root's subgame is resolved: `DEFENDER_WINS` if the root claim stands,
    ///         `CHALLENGER_WINS` otherwise.
    /// @return status_ The outcome.
    function resolve() external returns (GameStatus status_) {
        if (status != GameStatus.IN_PROGRESS) revert GameNotInProgress();
        if (!resolvedSubgames[0]) revert OutOfOrderResolution();
        status_ = claimData[0].counteredBy == address(0) ? GameStatus.DEFENDER_WINS : GameStatus.CHALLENGER_WINS;
        resolvedAt = uint64(block.timestamp);
        status = status_;
        emit Resolved(status_);
    }

    /// @notice Pays `_recipient` its credit, once the game is resolved and `creditDelaySeconds` have passed.
    /// @param _recipient Whose credit to pay.
    function claimCredit(address _recipient) external {
        if (status == GameStatus.IN_PROGRESS) revert GameNotResolved();
        if (block.timestamp < uint256(resolvedAt) + CREDIT_DELAY) revert CreditNotClaimableYet();
        uint256 amount = credit[_recipient];
        if (amount == 0) revert NoCreditToClaim();
        credit[_recipient] = 0;
        emit CreditClaimed(_recipient, amount);
        (bool success,) = _recipient.call{ value: amount }("");
        if (!success) revert BondTransferFailed();
    }

    /// @notice The bond a claim at `_position` requires: `bondBase × 750^(depth / maxGameDepth)` (OP's curve).
    /// @param _position A position in the game tree.
    function getRequiredBond(uint128 _position) public view returns (uint256 requiredBond_) {
        uint256 depth = LibPosition.depth(_position);
        if (depth > MAX_GAME_DEPTH) revert GameDepthExceeded();
        uint256 factor = WAD;
        for (uint256 i = 0; i < depth; i++) {
            factor = factor * BOND_MULTIPLIER / WAD;
        }
        return BOND_BASE * factor / WAD;
    }

    /// @notice Time the side countering the claim at `_claimIndex` has used: its previous claim's clock plus the
    ///         time since this claim was made, capped at `maxClockDuration`.
    /// @param _claimIndex A claim's index.
    function getChallengerDuration(uint256 _claimIndex) public view returns (uint64 duration_) {
        if (status != GameStatus.IN_PROGRESS) revert GameNotInProgress();
        ClaimData storage subject = claimData[_claimIndex];
        uint256 previous;
        if (subject.parentIndex != type(uint32).max) previous = claimData[subject.parentIndex].clock >> 64;
        uint256 total = previous + block.timestamp - uint64(subject.clock);
        duration_ = total > MAX_CLOCK_DURATION ? MAX_CLOCK_DURATION : uint64(total);
    }

    /// @notice Children of `_claimIndex` its resolution has not processed yet.
    /// @param _claimIndex A claim's index.
    function getNumToResolve(uint256 _claimIndex) external view returns (uint256 numRemainingChildren_) {
        return subgames[_claimIndex].length - resolutionCheckpoints[_claimIndex].subgameIndex;
    }

    /// @notice Number of claims.
    function claimDataLen() external view returns (uint256 len_) {
        return claimData.length;
    }

    /// @notice Who created the game (the root claimant).
    function gameCreator() public pure returns (address creator_) {
        return address(bytes20(_arg(0, 20)));
    }

    /// @notice The claim the game decides: an output root of `l2BlockNumber`.
    function rootClaim() public pure returns (bytes32 rootClaim_) {
        return bytes32(_arg(20, 32));
    }

    /// @notice Hash of the L1 block before the creation block: the L1 view the claims are judged against.
    function l1Head() public pure returns (bytes32 l1Head_) {
        return bytes32(_arg(52, 32));
    }

    /// @notice The extra data (the 32-byte L2 block number).
    function extraData() public pure returns (bytes memory extraData_) {
        uint256 n = _argsLength();
        return _arg(84, n > 84 ? n - 84 : 0);
    }

    /// @notice The L2 block the root claim is the output root of.
    function l2BlockNumber() public pure returns (uint256 l2BlockNumber_) {
        return uint256(bytes32(_arg(84, 32)));
    }

    /// @notice `l2BlockNumber` under its newer OP name (viem's `getGames` reads this one).
    function l2SequenceNumber() external pure returns (uint256 l2SequenceNumber_) {
        return l2BlockNumber();
    }

    /// @notice Type, root claim and extra data at once.
    function gameData() external view returns (uint32 gameType_, bytes32 rootClaim_, bytes memory extraData_) {
        return (GAME_TYPE, rootClaim(), extraData());
    }

    /// @notice L2 block number of the anchor the game started from.
    function startingBlockNumber() external view returns (uint256 startingBlockNumber_) {
        return startingOutputRoot.l2SequenceNumber;
    }

    /// @notice Output root of the anchor the game started from.
    function startingRootHash() external view returns (bytes32 startingRootHash_) {
        return startingOutputRoot.root;
    }

    /// @notice The game type.
    function gameType() external view returns (uint32 gameType_) {
        return GAME_TYPE;
    }

    /// @notice Commitment to the first state of every execution trace.
    function absolutePrestate() external view returns (bytes32 absolutePrestate_) {
        return ABSOLUTE_PRESTATE;
    }

    /// @notice Depth of the deepest claims.
    function maxGameDepth() external view returns (uint256 maxGameDepth_) {
        return MAX_GAME_DEPTH;
    }

    /// @notice Depth of the last output-root claims.
    function splitDepth() external view returns (uint256 splitDepth_) {
        return SPLIT_DEPTH;
    }

    /// @notice Each side's total time in seconds.
    function maxClockDuration() external view returns (uint64 maxClockDuration_) {
        return MAX_CLOCK_DURATION;
    }

    /// @notice The least time a side gets to answer a new claim.
    function clockExtension() external view returns (uint64 clockExtension_) {
        return CLOCK_EXTENSION;
    }

    /// @notice Seconds after resolution before credits can be claimed.
    function creditDelaySeconds() external view returns (uint64) {
        return CREDIT_DELAY;
    }

    /// @notice The one-step verifier.
    function vm() external view returns (IBigStepper vm_) {
        return VM;
    }

    /// @notice The anchor state registry.
    function anchorStateRegistry() external view returns (IAnchorStateRegistryReader registry_) {
        return ANCHOR_STATE_REGISTRY;
    }

    /// @notice The L2 chain id.
    function l2ChainId() external view returns (uint256 l2ChainId_) {
        return L2_CHAIN_ID;
    }

    /// @notice Semantic version (OP's v3 game line).
    function version() external pure returns (string memory) {
        return "1.4.1";
    }

    /// @notice The local context of the step against `_claimIndex` (OP's `_findLocalContext`): the hash of the
    ///         starting and disputed output roots and their positions, `keccak256(abi.encode(disputed, disputedPos))`
    ///         when the starting output is the anchor (position 0).
    /// @param _claimIndex A claim below the split depth.
    function localContext(uint256 _claimIndex) external view returns (bytes32) {
        return _findLocalContext(_claimIndex);
    }

    /// @notice The outputs bracketing the block whose execution trace the claim at `_claimIndex` is in: the starting
    ///         (agreed) output and its position (0 for the anchor), the disputed output and its position, and the
    ///         disputed L2 block number. A step verifier reads this from the game that calls it.
    /// @param _claimIndex A claim below the split depth.
    function startingAndDisputedOutputs(uint256 _claimIndex)
        public
        view
        returns (bytes32 starting_, uint128 startingPos_, bytes32 disputed_, uint128 disputedPos_, uint256 disputedBlock_)
    {
        ClaimData storage claim = claimData[_claimIndex];
        if (LibPosition.depth(claim.position) <= SPLIT_DEPTH) revert ClaimAboveSplit();
        uint128 execRootPos = claim.position;
        uint256 index = _claimIndex;
        while (LibPosition.depth(claim.position) > SPLIT_DEPTH) {
            execRootPos = claim.position;
            index = claim.parentIndex;
            claim = claimData[index];
        }
        uint128 outputPos = claim.position;
        if (execRootPos == LibPosition.move(outputPos, true)) {
            // An attack on the split-depth claim disputes it; it starts from the output before it.
            (disputed_, disputedPos_) = (claim.claim, outputPos);
            if (LibPosition.indexAtDepth(outputPos) == 0) {
                (starting_, startingPos_) = (startingOutputRoot.root, 0);
            } else {
                ClaimData storage s = _findTraceAncestor(outputPos - 1, claim.parentIndex, true);
                (starting_, startingPos_) = (s.claim, s.position);
            }
        } else {
            // A defense agrees with the split-depth claim and disputes the output after it.
            (starting_, startingPos_) = (claim.claim, outputPos);
            ClaimData storage d = _findTraceAncestor(outputPos + 1, claim.parentIndex, true);
            (disputed_, disputedPos_) = (d.claim, d.position);
        }
        disputedBlock_ = startingOutputRoot.l2SequenceNumber + LibPosition.traceIndex(disputedPos_, SPLIT_DEPTH) + 1;
        if (disputedBlock_ > l2BlockNumber()) disputedBlock_ = l2BlockNumber();
    }

    /// @notice When the disputed output claim of the trace the claim at `_claimIndex` is in was made (the block
    ///         timestamp of its move, the game's creation for the root claim). A step verifier that opens a disputed
    ///         output from a published preimage requires the preimage to have been published no later than this.
    /// @param _claimIndex A claim below the split depth.
    function disputedClaimCreatedAt(uint256 _claimIndex) external view returns (uint64 createdAt_) {
        ClaimData storage claim = claimData[_claimIndex];
        if (LibPosition.depth(claim.position) <= SPLIT_DEPTH) revert ClaimAboveSplit();
        uint128 execRootPos = claim.position;
        while (LibPosition.depth(claim.position) > SPLIT_DEPTH) {
            execRootPos = claim.position;
            claim = claimData[claim.parentIndex];
        }
        uint128 outputPos = claim.position;
        // As `startingAndDisputedOutputs`: an attack on the split-depth claim disputes that claim, a defense the
        // output after it (a claim on the path to the root).
        ClaimData storage disputed = execRootPos == LibPosition.move(outputPos, true)
            ? claim
            : _findTraceAncestor(outputPos + 1, claim.parentIndex, true);
        return uint64(disputed.clock);
    }

    /// @notice Checks a step against the claim at `_claimIndex` may be made with a pre-state hashing to
    ///         `_stateHash`; returns the post-state claim and whether it was made by the same side as the claim.
    function _prepareStep(uint256 _claimIndex, bool _isAttack, bytes32 _stateHash)
        internal
        view
        returns (bytes32 postStateClaim_, bool parentPostAgree_)
    {
        if (status != GameStatus.IN_PROGRESS) revert GameNotInProgress();
        ClaimData storage _parent = claimData[_claimIndex];
        uint128 parentPos = _parent.position;
        if (LibPosition.depth(parentPos) != MAX_GAME_DEPTH) revert InvalidParent();
        bytes32 preStateClaim_;
        ClaimData storage postState;
        if (_isAttack) {
            preStateClaim_ = LibPosition.indexAtDepth(parentPos) % (uint256(1) << (MAX_GAME_DEPTH - SPLIT_DEPTH)) == 0
                ? ABSOLUTE_PRESTATE
                : _findTraceAncestor(parentPos - 1, _parent.parentIndex, false).claim;
            postState = _parent;
        } else {
            preStateClaim_ = _parent.claim;
            postState = _findTraceAncestor(parentPos + 1, _parent.parentIndex, false);
        }
        // The status byte is not part of the state: it is set after hashing.
        if (_stateHash << 8 != preStateClaim_ << 8) revert InvalidPrestate();
        postStateClaim_ = postState.claim;
        parentPostAgree_ = (LibPosition.depth(parentPos) - LibPosition.depth(postState.position)) % 2 == 0;
    }

    function _findLocalContext(uint256 _claimIndex) internal view returns (bytes32) {
        (bytes32 starting, uint128 startingPos, bytes32 disputed, uint128 disputedPos,) =
            startingAndDisputedOutputs(_claimIndex);
        return startingPos == 0
            ? keccak256(abi.encode(disputed, disputedPos))
            : keccak256(abi.encode(starting, startingPos, disputed, disputedPos));
    }

    /// @notice An execution-trace root must say, in its status byte, whether the disputed output is wrong: INVALID or
    ///         PANIC when its maker disputes that output (always for an attack), VALID when it agrees with it.
    function _verifyExecBisectionRoot(bytes32 _rootClaim, uint256 _parentIndex, uint128 _parentPos, bool _isAttack)
        internal
        view
    {
        ClaimData storage disputed = _findTraceAncestor(_parentPos + 1, _parentIndex, true);
        uint8 vmStatus = uint8(_rootClaim[0]);
        if (_isAttack || LibPosition.depth(disputed.position) % 2 == SPLIT_DEPTH % 2) {
            if (vmStatus != VMStatus.INVALID && vmStatus != VMStatus.PANIC) revert UnexpectedRootClaim(_rootClaim);
        } else if (vmStatus != VMStatus.VALID) {
            revert UnexpectedRootClaim(_rootClaim);
        }
    }

    /// @notice The claim on the path from `_start` to the root that commits to the same trace index as `_pos`
    ///         (globally, or within the execution subtree when not `_global`). Such a claim always exists.
    function _findTraceAncestor(uint128 _pos, uint256 _start, bool _global)
        internal
        view
        returns (ClaimData storage ancestor_)
    {
        uint128 target = LibPosition.traceAncestor(_pos);
        if (!_global && LibPosition.depth(target) <= SPLIT_DEPTH) {
            target = LibPosition.rightIndex(target, SPLIT_DEPTH + 1);
        }
        ancestor_ = claimData[_start];
        while (ancestor_.position != target) ancestor_ = claimData[ancestor_.parentIndex];
    }

    function _payBond(uint256 _claimIndex, address _recipient, ClaimData storage _claim) internal {
        uint256 bond = _claim.bond;
        credit[_recipient] += bond;
        emit ClaimResolved(_claimIndex, _recipient, bond);
    }

    function _wrapClock(uint64 _duration, uint64 _timestamp) internal pure returns (uint128) {
        return (uint128(_duration) << 64) | _timestamp;
    }

    /// @notice Length of the immutable arguments the proxy appended (0 when called on the implementation).
    function _argsLength() internal pure returns (uint256) {
        if (msg.data.length < 2) return 0;
        return uint16(bytes2(msg.data[msg.data.length - 2:]));
    }

    /// @notice `_length` bytes of the immutable arguments from `_offset`.
    function _arg(uint256 _offset, uint256 _length) internal pure returns (bytes memory) {
        uint256 start = msg.data.length - 2 - _argsLength();
        return msg.data[start + _offset:start + _offset + _length];
    }

    /// @notice `_x^(1/_n)` in WAD, by bisection (constructor only).
    function _nthRootWad(uint256 _x, uint256 _n) internal pure returns (uint256) {
        uint256 lo = WAD;
        uint256 hi = _x;
        for (uint256 i = 0; i < 64; i++) {
            uint256 mid = (lo + hi) / 2;
            if (_powCapped(mid, _n, _x) > _x) hi = mid;
            else lo = mid;
        }
        return lo;
    }

    /// @notice `_b^_n` in WAD, or any value above `_cap` once it passes it (no overflow for `_b ≥ 1`).
    function _powCapped(uint256 _b, uint256 _n, uint256 _cap) internal pure returns (uint256 r_) {
        r_ = WAD;
        for (uint256 i = 0; i < _n; i++) {
            r_ = r_ * _b / WAD;
            if (r_ > _cap) return r_;
        }
    }
}
