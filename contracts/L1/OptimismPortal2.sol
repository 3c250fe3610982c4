// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { SuperchainConfig } from "./SuperchainConfig.sol";
import { AnchorStateRegistry } from "./AnchorStateRegistry.sol";
import { AddressAliasHelper } from "../libraries/AddressAliasHelper.sol";
import { EOA } from "../libraries/EOA.sol";
import { GameStatus } from "../libraries/DisputeTypes.sol";
import { IAnchorStateRegistryReader, IDisputeGame, IDisputeGameFactoryReader } from "../libraries/DisputeInterfaces.sol";
import { Hashing } from "../libraries/Hashing.sol";
import { MerkleTrie } from "../libraries/MerkleTrie.sol";
import { SafeCall } from "../libraries/SafeCall.sol";
import { Types } from "../libraries/Types.sol";

/// @title OptimismPortal2
/// @notice The L1 entry of the rollup: deposits ETH and messages to L2 with OP Stack's `OptimismPortal2` ABI and event
///         encoding, so op-node-style derivation and viem's `viem/op-stack` actions work against it unmodified. The
///         deposited ETH stays here; it is minted on L2 by the deposit transaction. Withdrawals (L2ToL1MessagePasser
///         messages) are proven against a dispute game's output root and finalized after the proof matured and the
///         game's claim became valid (OP's v4 `checkWithdrawal` rules, custom errors viem maps to statuses); they are
///         paid from the deposited ETH.
/// @dev    Configuration is immutable (no proxy, no initializer). Slot 0 meters deposit gas per L1 block; the
///         withdrawal state follows it. Of OP's ResourceMetering only the cap is kept (at
///         most 20,000,000 L2 gas of deposits per L1 block, OP's `maxResourceLimit`), not its L1-gas-burning fee
///         market: the cap is what lets derivation fit an L1 block's deposits into one L2 block.
contract OptimismPortal2 {
    /// @notice Version of the `TransactionDeposited` event's `opaqueData` layout.
    uint256 internal constant DEPOSIT_VERSION = 0;

    /// @notice L2 gas limit of a deposit made by sending ETH to `receive()`.
    uint64 internal constant RECEIVE_DEFAULT_GAS_LIMIT = 100_000;

    /// @notice Largest `_data` a deposit may carry: deposits then fit OP's 128 KiB p2p block policy.
    uint256 internal constant MAX_DEPOSIT_DATA_BYTES = 120_000;

    /// @notice Most L2 gas the deposits of one L1 block may buy together (OP's default `maxResourceLimit`).
    uint64 public constant MAX_DEPOSIT_GAS_PER_BLOCK = 20_000_000;

    /// @notice `l2Sender` outside a withdrawal's call (OP's `DEFAULT_L2_SENDER`).
    address internal constant DEFAULT_L2_SENDER = 0x000000000000000000000000000000000000dEaD;

    /// @notice `tx.origin` of gas estimation: a failed withdrawal call reverts there so estimates cover the call.
    address internal constant ESTIMATION_ADDRESS = address(1);

    /// @notice The contract holding the guardian's pause switch.
    SuperchainConfig public immutable superchainConfig;

    /// @notice The factory whose games withdrawals are proven against.
    IDisputeGameFactoryReader public immutable disputeGameFactory;

    /// @notice Decides which games' claims are valid.
    IAnchorStateRegistryReader public immutable anchorStateRegistry;

    /// @notice Seconds a proof must age before its withdrawal can be finalized.
    uint256 internal immutable PROOF_MATURITY_DELAY_SECONDS;

    /// @notice A proof of a withdrawal by one submitter.
    /// @custom:field disputeGameProxy The game whose root claim the proof is against.
    /// @custom:field timestamp        When it was proven.
    struct ProvenWithdrawal {
        IDisputeGame disputeGameProxy;
        uint64 timestamp;
    }

    /// @notice L2 gas bought by deposits so far in L1 block `blockNumber` (slot 0).
    /// @custom:field blockNumber The L1 block the count is for.
    /// @custom:field bought      L2 gas bought in it.
    struct DepositGas {
        uint64 blockNumber;
        uint64 bought;
    }

    /// @notice Deposit gas bought in the current L1 block.
    DepositGas public depositGas;

    /// @notice The L2 sender of the withdrawal being finalized, `0x…dEaD` otherwise: targets read it to authenticate
    ///         the L2 caller.
    address public l2Sender;

    /// @notice Withdrawals finalized (paid or failed), by hash.
    mapping(bytes32 => bool) public finalizedWithdrawals;

    /// @notice Proofs by withdrawal hash and proof submitter.
    mapping(bytes32 => mapping(address => ProvenWithdrawal)) public provenWithdrawals;

    /// @notice Everyone who proved each withdrawal, in order (repeats included).
    mapping(bytes32 => address[]) public proofSubmitters;

    /// @notice Emitted for every deposit; the rollup node derives one deposit transaction (type 0x7E) from each.
    /// @param from       The L1 sender, aliased when it is a contract.
    /// @param to         The L2 recipient (zero for a contract creation).
    /// @param version    Layout version of `opaqueData` (0).
    /// @param opaqueData `abi.encodePacked(uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes data)`.
    event TransactionDeposited(address indexed from, address indexed to, uint256 indexed version, bytes opaqueData);

    /// @notice Emitted when a withdrawal is proven.
    event WithdrawalProven(bytes32 indexed withdrawalHash, address indexed from, address indexed to);

    /// @notice Emitted with `WithdrawalProven`: who proved it.
    event WithdrawalProvenExtension1(bytes32 indexed withdrawalHash, address indexed proofSubmitter);

    /// @notice Emitted when a withdrawal is finalized; `success` is whether its call succeeded.
    event WithdrawalFinalized(bytes32 indexed withdrawalHash, bool success);

    /// @notice Thrown when a creation deposit names a recipient.
    error OptimismPortal_BadTarget();

    /// @notice Thrown when a deposit's data exceeds 120,000 bytes.
    error OptimismPortal_CalldataTooLarge();

    /// @notice Thrown when a deposit's gas limit is below `minimumGasLimit(data.length)`.
    error OptimismPortal_GasLimitTooLow();

    /// @notice Thrown when a deposit would take this L1 block's deposits past `MAX_DEPOSIT_GAS_PER_BLOCK`.
    /// @param requested The deposit's gas limit.
    /// @param available L2 gas still available to deposits in this L1 block.
    error OptimismPortal_DepositGasExceeded(uint64 requested, uint64 available);

    /// @notice Thrown while the guardian has paused proving and finalizing.
    error OptimismPortal_CallPaused();

    /// @notice Thrown when the game is not proper, not respected, or lost by its root claim.
    error OptimismPortal_InvalidDisputeGame();

    /// @notice Thrown when the output root proof does not hash to the game's root claim.
    error OptimismPortal_InvalidOutputRootProof();

    /// @notice Thrown when the storage proof does not show the withdrawal in the message passer.
    error OptimismPortal_InvalidMerkleProof();

    /// @notice Thrown when the withdrawal was finalized already.
    error OptimismPortal_AlreadyFinalized();

    /// @notice Thrown when the submitter has not proven the withdrawal.
    error OptimismPortal_Unproven();

    /// @notice Thrown when the proof is not newer than the game it was proven against.
    error OptimismPortal_InvalidProofTimestamp();

    /// @notice Thrown when the proof has not aged `proofMaturityDelaySeconds`.
    error OptimismPortal_ProofNotOldEnough();

    /// @notice Thrown when the game's claim is not valid (unresolved, lost, not final, blacklisted, retired).
    error OptimismPortal_InvalidRootClaim();

    /// @notice Thrown when a withdrawal's call tries to finalize another withdrawal.
    error OptimismPortal_NoReentrancy();

    /// @notice Thrown when a withdrawal's call fails during gas estimation.
    error OptimismPortal_GasEstimation();

    /// @param _superchainConfig          The contract holding the pause switch.
    /// @param _disputeGameFactory        The dispute game factory.
    /// @param _anchorStateRegistry       The anchor state registry.
    /// @param _proofMaturityDelaySeconds Seconds a proof ages before finalization.
    constructor(
        SuperchainConfig _superchainConfig,
        IDisputeGameFactoryReader _disputeGameFactory,
        IAnchorStateRegistryReader _anchorStateRegistry,
        uint256 _proofMaturityDelaySeconds
    ) {
        superchainConfig = _superchainConfig;
        disputeGameFactory = _disputeGameFactory;
        anchorStateRegistry = _anchorStateRegistry;
        PROOF_MATURITY_DELAY_SECONDS = _proofMaturityDelaySeconds;
        l2Sender = DEFAULT_L2_SENDER;
    }

    /// @notice Accepts ETH without depositing it (OP's `donateETH`).
    function donateETH() external payable { }

    /// @notice Seconds a proof must age before its withdrawal can be finalized.
    function proofMaturityDelaySeconds() external view returns (uint256) {
        return PROOF_MATURITY_DELAY_SECONDS;
    }

    /// @notice The game type withdrawals are proven against (the registry's).
    function respectedGameType() external view returns (uint32) {
        return anchorStateRegistry.respectedGameType();
    }

    /// @notice Seconds a resolved game waits before it is final (the registry's).
    function disputeGameFinalityDelaySeconds() external view returns (uint256) {
        return AnchorStateRegistry(address(anchorStateRegistry)).disputeGameFinalityDelaySeconds();
    }

    /// @notice Whether the guardian blacklisted `_game` (the registry's list).
    /// @param _game The game.
    function disputeGameBlacklist(address _game) external view returns (bool) {
        return AnchorStateRegistry(address(anchorStateRegistry)).disputeGameBlacklist(_game);
    }

    /// @notice Number of proofs of `_withdrawalHash` (repeats included).
    /// @param _withdrawalHash The withdrawal hash.
    function numProofSubmitters(bytes32 _withdrawalHash) external view returns (uint256) {
        return proofSubmitters[_withdrawalHash].length;
    }

    /// @notice Proves that the withdrawal `_tx` was sent on L2: `_outputRootProof` must hash to the root claim of the
    ///         game at `_disputeGameIndex` (proper, respected, not lost) and `_withdrawalProof` must show the
    ///         withdrawal hash's `sentMessages` slot set to 1 in its `messagePasserStorageRoot`. Records the proof
    ///         for `msg.sender` (proving again replaces it).
    /// @param _tx               The withdrawal.
    /// @param _disputeGameIndex Index of the game in the factory.
    /// @param _outputRootProof  Preimage of the game's root claim.
    /// @param _withdrawalProof  Storage proof nodes of the message passer's slot.
    function proveWithdrawalTransaction(
        Types.WithdrawalTransaction memory _tx,
        uint256 _disputeGameIndex,
        Types.OutputRootProof calldata _outputRootProof,
        bytes[] calldata _withdrawalProof
    )
        external
    {
        if (superchainConfig.paused()) revert OptimismPortal_CallPaused();
        if (_tx.target == address(this)) revert OptimismPortal_BadTarget();
        (,, address game) = disputeGameFactory.gameAtIndex(_disputeGameIndex);
        if (!anchorStateRegistry.isGameProper(game) || !anchorStateRegistry.isGameRespected(game)) {
            revert OptimismPortal_InvalidDisputeGame();
        }
        if (IDisputeGame(game).status() == GameStatus.CHALLENGER_WINS) revert OptimismPortal_InvalidDisputeGame();
        if (Hashing.hashOutputRootProof(_outputRootProof) != IDisputeGame(game).rootClaim()) {
            revert OptimismPortal_InvalidOutputRootProof();
        }
        bytes32 withdrawalHash = Hashing.hashWithdrawal(_tx);
        // `sentMessages[withdrawalHash]` of the message passer (mapping at slot 0), set to true (RLP 0x01).
        bytes32 storageKey = keccak256(abi.encode(withdrawalHash, uint256(0)));
        if (
            !MerkleTrie.verifySecureInclusionProof(
                abi.encode(storageKey), hex"01", _withdrawalProof, _outputRootProof.messagePasserStorageRoot
            )
        ) revert OptimismPortal_InvalidMerkleProof();

        provenWithdrawals[withdrawalHash][msg.sender] =
            ProvenWithdrawal({ disputeGameProxy: IDisputeGame(game), timestamp: uint64(block.timestamp) });
        proofSubmitters[withdrawalHash].push(msg.sender);
        emit WithdrawalProven(withdrawalHash, _tx.sender, _tx.target);
        emit WithdrawalProvenExtension1(withdrawalHash, msg.sender);
    }

    /// @notice Finalizes a withdrawal the caller proved.
    /// @param _tx The withdrawal.
    function finalizeWithdrawalTransaction(Types.WithdrawalTransaction memory _tx) external {
        finalizeWithdrawalTransactionExternalProof(_tx, msg.sender);
    }

    /// @notice Finalizes a withdrawal proven by `_proofSubmitter` once `checkWithdrawal` passes: marks it finalized,
    ///         then calls its target with its value and data and at least its gas limit, `l2Sender` set to its L2
    ///         sender during the call. A failed call still finalizes the withdrawal (as in OP).
    /// @param _tx             The withdrawal.
    /// @param _proofSubmitter Whose proof to use.
    function finalizeWithdrawalTransactionExternalProof(Types.WithdrawalTransaction memory _tx, address _proofSubmitter)
        public
    {
        if (superchainConfig.paused()) revert OptimismPortal_CallPaused();
        if (l2Sender != DEFAULT_L2_SENDER) revert OptimismPortal_NoReentrancy();
        if (_tx.target == address(this)) revert OptimismPortal_BadTarget();
        bytes32 withdrawalHash = Hashing.hashWithdrawal(_tx);
        checkWithdrawal(withdrawalHash, _proofSubmitter);
        finalizedWithdrawals[withdrawalHash] = true;

        l2Sender = _tx.sender;
        bool success = SafeCall.callWithMinGas(_tx.target, _tx.gasLimit, _tx.value, _tx.data);
        l2Sender = DEFAULT_L2_SENDER;
        emit WithdrawalFinalized(withdrawalHash, success);
        if (!success && tx.origin == ESTIMATION_ADDRESS) revert OptimismPortal_GasEstimation();
    }

    /// @notice Reverts unless the withdrawal proven by `_proofSubmitter` can be finalized now, with the error viem's
    ///         `getWithdrawalStatus` maps: not finalized, proven, proven after the game was created, proof older
    ///         than `proofMaturityDelaySeconds`, game claim valid (`AnchorStateRegistry.isGameClaimValid`).
    /// @param _withdrawalHash The withdrawal hash.
    /// @param _proofSubmitter Whose proof to check.
    function checkWithdrawal(bytes32 _withdrawalHash, address _proofSubmitter) public view {
        if (finalizedWithdrawals[_withdrawalHash]) revert OptimismPortal_AlreadyFinalized();
        ProvenWithdrawal memory proven = provenWithdrawals[_withdrawalHash][_proofSubmitter];
        if (proven.timestamp == 0) revert OptimismPortal_Unproven();
        if (proven.timestamp <= proven.disputeGameProxy.createdAt()) revert OptimismPortal_InvalidProofTimestamp();
        if (block.timestamp - proven.timestamp <= PROOF_MATURITY_DELAY_SECONDS) revert OptimismPortal_ProofNotOldEnough();
        if (!anchorStateRegistry.isGameClaimValid(address(proven.disputeGameProxy))) {
            revert OptimismPortal_InvalidRootClaim();
        }
    }

    /// @notice Deposits the ETH sent to the caller's own address on L2, with a 100,000 gas limit. A contract sending ETH
    ///         here credits its aliased address: contracts should call `depositTransaction`.
    receive() external payable {
        depositTransaction(msg.sender, msg.value, RECEIVE_DEFAULT_GAS_LIMIT, false, bytes(""));
    }

    /// @notice Semantic version. Major 3: the fault-proof era `OptimismPortal2` interface (viem's `getPortalVersion`
    ///         branches on it; 3.x with `checkWithdrawal`'s `OptimismPortal_*` errors is what its status mapping reads).
    function version() external pure returns (string memory) {
        return "3.0.0";
    }

    /// @notice The guardian of the pause switch.
    function guardian() external view returns (address) {
        return superchainConfig.guardian();
    }

    /// @notice Whether the guardian has paused the system. As in OP, the pause never stops deposits (they must not be
    ///         censorable); it stops proving and finalizing withdrawals.
    function paused() external view returns (bool) {
        return superchainConfig.paused();
    }

    /// @notice The smallest L2 gas limit a deposit with `_byteCount` bytes of data may ask for: 21,000 plus 40 gas per
    ///         byte (OP's current rule), so L2 resource use is paid for with L1 gas.
    /// @param _byteCount Length of the deposit's data.
    function minimumGasLimit(uint64 _byteCount) public pure returns (uint64) {
        return _byteCount * 40 + 21_000;
    }

    /// @notice Deposits a transaction to L2. `msg.value` is minted to the sender on L2, then `_value` of it is sent to
    ///         `_to` with `_data`, or a contract is created from `_data` when `_isCreation`. A contract caller's L2
    ///         sender is its aliased address.
    /// @param _to         L2 recipient; must be zero for a creation.
    /// @param _value      ETH (wei) the L2 call carries, out of the minted amount and the L2 balance.
    /// @param _gasLimit   L2 gas limit, at least `minimumGasLimit(_data.length)`; the deposits of one L1 block may buy
    ///                    `MAX_DEPOSIT_GAS_PER_BLOCK` together.
    /// @param _isCreation Whether the deposit creates a contract.
    /// @param _data       L2 calldata, or init code for a creation; at most 120,000 bytes.
    function depositTransaction(
        address _to,
        uint256 _value,
        uint64 _gasLimit,
        bool _isCreation,
        bytes memory _data
    )
        public
        payable
    {
        if (_isCreation && _to != address(0)) revert OptimismPortal_BadTarget();
        if (_gasLimit < minimumGasLimit(uint64(_data.length))) revert OptimismPortal_GasLimitTooLow();
        if (_data.length > MAX_DEPOSIT_DATA_BYTES) revert OptimismPortal_CalldataTooLarge();
        _buyDepositGas(_gasLimit);

        address from = msg.sender;
        if (!EOA.isSenderEOA()) from = AddressAliasHelper.applyL1ToL2Alias(msg.sender);

        bytes memory opaqueData = abi.encodePacked(msg.value, _value, _gasLimit, _isCreation, _data);
        emit TransactionDeposited(from, _to, DEPOSIT_VERSION, opaqueData);
    }

    /// @notice Counts `_gasLimit` against this L1 block's deposit gas; reverts past the cap.
    function _buyDepositGas(uint64 _gasLimit) internal {
        DepositGas memory current = depositGas;
        uint64 bought = current.blockNumber == block.number ? current.bought : 0;
        if (_gasLimit > MAX_DEPOSIT_GAS_PER_BLOCK - bought) {
            revert OptimismPortal_DepositGasExceeded(_gasLimit, MAX_DEPOSIT_GAS_PER_BLOCK - bought);
        }
        depositGas = DepositGas({ blockNumber: uint64(block.number), bought: bought + _gasLimit });
    }
}
