// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { SuperchainConfig } from "./SuperchainConfig.sol";

/// @title SystemConfig
/// @notice The rollup's L1-side configuration, with OP Stack's `SystemConfig` ABI: every change is a `ConfigUpdate` log
///         that derivation reads from L1 (batcher, fee scalars, gas limit, EIP-1559, operator fee, min base fee, DA
///         footprint), in OP's `UpdateType` order and data encodings.
/// @dev    Addresses and identity are immutable (no proxy, no initializer). The unsafe block signer lives at OP's
///         fixed slot, since op-node reads it with a storage proof.
contract SystemConfig {
    /// @notice Kinds of `ConfigUpdate`, in OP's order (the numeric value is the event's second topic).
    enum UpdateType {
        BATCHER,
        FEE_SCALARS,
        GAS_LIMIT,
        UNSAFE_BLOCK_SIGNER,
        EIP_1559_PARAMS,
        OPERATOR_FEE_PARAMS,
        MIN_BASE_FEE,
        DA_FOOTPRINT_GAS_SCALAR
    }

    /// @notice Version of the `ConfigUpdate` encodings.
    uint256 public constant VERSION = 0;

    /// @notice Storage slot of the unsafe block signer: `keccak256("systemconfig.unsafeblocksigner")`.
    bytes32 public constant UNSAFE_BLOCK_SIGNER_SLOT = keccak256("systemconfig.unsafeblocksigner");

    /// @notice Smallest L2 block gas limit: room for the L1-attributes transaction and a block of deposits.
    uint64 internal constant MIN_GAS_LIMIT = 21_000_000;

    /// @notice Largest L2 block gas limit. MegaETH-sized blocks (the dev chain uses 2,000,000,000) are far above OP's
    ///         500,000,000 cap.
    uint64 internal constant MAX_GAS_LIMIT = 10_000_000_000;

    /// @notice The L2 chain this contract configures.
    uint256 public immutable l2ChainId;

    /// @notice L1 block this contract was deployed in: derivation starts reading its logs there.
    uint256 public immutable startBlock;

    /// @notice Address the batcher posts L2 data to.
    address public immutable batchInbox;

    /// @notice The L1 portal deposits go through.
    address public immutable optimismPortal;

    /// @notice The factory of the dispute games that resolve output roots (zero until one is deployed).
    address public immutable disputeGameFactory;

    /// @notice The contract holding the guardian's pause switch.
    SuperchainConfig public immutable superchainConfig;

    /// @notice The account allowed to change the configuration.
    address public owner;

    /// @notice Ecotone-versioned fee scalar: `0x01 ‖ 0… ‖ blobbasefeeScalar (4 bytes) ‖ basefeeScalar (4 bytes)`.
    uint256 public scalar;

    /// @notice Versioned batcher identity; version 0 is `bytes32(uint256(uint160(batcher)))`.
    bytes32 public batcherHash;

    /// @notice L2 block gas limit.
    uint64 public gasLimit;

    /// @notice Scalar on the L1 base fee in the L1 data fee (Ecotone).
    uint32 public basefeeScalar;

    /// @notice Scalar on the L1 blob base fee in the L1 data fee (Ecotone).
    uint32 public blobbasefeeScalar;

    /// @notice EIP-1559 base fee max change denominator on L2 (0: the L2's default).
    uint32 public eip1559Denominator;

    /// @notice EIP-1559 elasticity multiplier on L2 (0: the L2's default).
    uint32 public eip1559Elasticity;

    /// @notice Operator fee scalar (Isthmus).
    uint32 public operatorFeeScalar;

    /// @notice Operator fee constant (Isthmus).
    uint64 public operatorFeeConstant;

    /// @notice DA footprint gas scalar (Jovian).
    uint16 public daFootprintGasScalar;

    /// @notice Minimum L2 base fee in wei (Jovian; 0 disables it).
    uint64 public minBaseFee;

    /// @notice Emitted for every configuration change derivation must apply.
    /// @param version    Encoding version (0).
    /// @param updateType What changed.
    /// @param data       ABI-encoded new value(s), per `updateType`.
    event ConfigUpdate(uint256 indexed version, UpdateType indexed updateType, bytes data);

    /// @notice Emitted when ownership moves.
    /// @param previousOwner The former owner.
    /// @param newOwner      The new owner.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice Thrown when anyone but the owner calls a setter.
    error SystemConfig_OnlyOwner();

    /// @notice Thrown when a gas limit is outside `[minimumGasLimit(), maximumGasLimit()]`.
    error SystemConfig_GasLimitOutOfRange(uint64 gasLimit, uint64 minimum, uint64 maximum);

    /// @notice Thrown when an EIP-1559 denominator or elasticity is zero.
    error SystemConfig_InvalidEIP1559Params();

    /// @notice Thrown when the new owner is the zero address.
    error SystemConfig_ZeroOwner();

    /// @notice Everything the constructor sets.
    /// @custom:field owner              Account allowed to change the configuration.
    /// @custom:field basefeeScalar      Initial Ecotone base fee scalar.
    /// @custom:field blobbasefeeScalar  Initial Ecotone blob base fee scalar.
    /// @custom:field batcherHash        Initial batcher identity.
    /// @custom:field gasLimit           Initial L2 block gas limit.
    /// @custom:field unsafeBlockSigner  Key that signs unsafe (pre-L1) blocks on p2p.
    /// @custom:field batchInbox         Address the batcher posts to.
    /// @custom:field l2ChainId          The L2 chain id.
    /// @custom:field optimismPortal     The deposit portal.
    /// @custom:field disputeGameFactory Factory of the output dispute games (may be zero).
    /// @custom:field superchainConfig   Pause switch.
    struct Init {
        address owner;
        uint32 basefeeScalar;
        uint32 blobbasefeeScalar;
        bytes32 batcherHash;
        uint64 gasLimit;
        address unsafeBlockSigner;
        address batchInbox;
        uint256 l2ChainId;
        address optimismPortal;
        address disputeGameFactory;
        SuperchainConfig superchainConfig;
    }

    /// @notice Deploys the configuration; emits one `ConfigUpdate` per initial value, in `UpdateType` order.
    /// @param _init Initial configuration.
    constructor(Init memory _init) {
        if (_init.owner == address(0)) revert SystemConfig_ZeroOwner();
        owner = _init.owner;
        emit OwnershipTransferred(address(0), _init.owner);
        l2ChainId = _init.l2ChainId;
        startBlock = block.number;
        batchInbox = _init.batchInbox;
        optimismPortal = _init.optimismPortal;
        disputeGameFactory = _init.disputeGameFactory;
        superchainConfig = _init.superchainConfig;
        _setBatcherHash(_init.batcherHash);
        _setGasConfigEcotone(_init.basefeeScalar, _init.blobbasefeeScalar);
        _setGasLimit(_init.gasLimit);
        _setUnsafeBlockSigner(_init.unsafeBlockSigner);
    }

    /// @notice Reverts unless the owner calls.
    modifier onlyOwner() {
        if (msg.sender != owner) revert SystemConfig_OnlyOwner();
        _;
    }

    /// @notice Semantic version.
    function version() external pure returns (string memory) {
        return "2.5.0";
    }

    /// @notice Moves ownership. Only the owner.
    /// @param _newOwner The new owner (not zero).
    function transferOwnership(address _newOwner) external onlyOwner {
        if (_newOwner == address(0)) revert SystemConfig_ZeroOwner();
        emit OwnershipTransferred(owner, _newOwner);
        owner = _newOwner;
    }

    /// @notice The key that signs unsafe blocks on p2p.
    function unsafeBlockSigner() external view returns (address signer_) {
        bytes32 slot = UNSAFE_BLOCK_SIGNER_SLOT;
        assembly ("memory-safe") {
            signer_ := sload(slot)
        }
    }

    /// @notice The guardian of the pause switch.
    function guardian() external view returns (address) {
        return superchainConfig.guardian();
    }

    /// @notice Whether the guardian has paused the system.
    function paused() external view returns (bool) {
        return superchainConfig.paused();
    }

    /// @notice Smallest L2 block gas limit `setGasLimit` accepts.
    function minimumGasLimit() public pure returns (uint64) {
        return MIN_GAS_LIMIT;
    }

    /// @notice Largest L2 block gas limit `setGasLimit` accepts.
    function maximumGasLimit() public pure returns (uint64) {
        return MAX_GAS_LIMIT;
    }

    /// @notice Sets the batcher identity. Only the owner. `ConfigUpdate(BATCHER, abi.encode(bytes32))`.
    /// @param _batcherHash New versioned batcher hash.
    function setBatcherHash(bytes32 _batcherHash) external onlyOwner {
        _setBatcherHash(_batcherHash);
    }

    /// @notice Sets the Ecotone fee scalars. Only the owner.
    ///         `ConfigUpdate(FEE_SCALARS, abi.encode(uint256 overhead = 0, uint256 scalar))`, scalar version 1.
    /// @param _basefeeScalar     New base fee scalar.
    /// @param _blobbasefeeScalar New blob base fee scalar.
    function setGasConfigEcotone(uint32 _basefeeScalar, uint32 _blobbasefeeScalar) external onlyOwner {
        _setGasConfigEcotone(_basefeeScalar, _blobbasefeeScalar);
    }

    /// @notice Sets the L2 block gas limit. Only the owner. `ConfigUpdate(GAS_LIMIT, abi.encode(uint64))`.
    /// @param _gasLimit New gas limit, within `[minimumGasLimit(), maximumGasLimit()]`.
    function setGasLimit(uint64 _gasLimit) external onlyOwner {
        _setGasLimit(_gasLimit);
    }

    /// @notice Sets the unsafe block signer. Only the owner. `ConfigUpdate(UNSAFE_BLOCK_SIGNER, abi.encode(address))`.
    /// @param _unsafeBlockSigner New signer.
    function setUnsafeBlockSigner(address _unsafeBlockSigner) external onlyOwner {
        _setUnsafeBlockSigner(_unsafeBlockSigner);
    }

    /// @notice Sets the L2's EIP-1559 parameters. Only the owner.
    ///         `ConfigUpdate(EIP_1559_PARAMS, abi.encode(uint256(denominator) << 32 | elasticity))`.
    /// @param _denominator Base fee max change denominator (≥ 1).
    /// @param _elasticity  Elasticity multiplier (≥ 1).
    function setEIP1559Params(uint32 _denominator, uint32 _elasticity) external onlyOwner {
        if (_denominator == 0 || _elasticity == 0) revert SystemConfig_InvalidEIP1559Params();
        eip1559Denominator = _denominator;
        eip1559Elasticity = _elasticity;
        emit ConfigUpdate(VERSION, UpdateType.EIP_1559_PARAMS, abi.encode(uint256(_denominator) << 32 | _elasticity));
    }

    /// @notice Sets the operator fee parameters. Only the owner.
    ///         `ConfigUpdate(OPERATOR_FEE_PARAMS, abi.encode(uint256(scalar) << 64 | constant))`.
    /// @param _operatorFeeScalar   New operator fee scalar.
    /// @param _operatorFeeConstant New operator fee constant.
    function setOperatorFeeScalars(uint32 _operatorFeeScalar, uint64 _operatorFeeConstant) external onlyOwner {
        operatorFeeScalar = _operatorFeeScalar;
        operatorFeeConstant = _operatorFeeConstant;
        bytes memory data = abi.encode(uint256(_operatorFeeScalar) << 64 | _operatorFeeConstant);
        emit ConfigUpdate(VERSION, UpdateType.OPERATOR_FEE_PARAMS, data);
    }

    /// @notice Sets the minimum L2 base fee. Only the owner. `ConfigUpdate(MIN_BASE_FEE, abi.encode(uint64))`.
    /// @param _minBaseFee New minimum base fee in wei (0 disables it).
    function setMinBaseFee(uint64 _minBaseFee) external onlyOwner {
        minBaseFee = _minBaseFee;
        emit ConfigUpdate(VERSION, UpdateType.MIN_BASE_FEE, abi.encode(_minBaseFee));
    }

    /// @notice Sets the DA footprint gas scalar. Only the owner.
    ///         `ConfigUpdate(DA_FOOTPRINT_GAS_SCALAR, abi.encode(uint16))`.
    /// @param _daFootprintGasScalar New scalar.
    function setDAFootprintGasScalar(uint16 _daFootprintGasScalar) external onlyOwner {
        daFootprintGasScalar = _daFootprintGasScalar;
        emit ConfigUpdate(VERSION, UpdateType.DA_FOOTPRINT_GAS_SCALAR, abi.encode(_daFootprintGasScalar));
    }

    /// @notice Stores the batcher hash and logs it.
    function _setBatcherHash(bytes32 _batcherHash) internal {
        batcherHash = _batcherHash;
        emit ConfigUpdate(VERSION, UpdateType.BATCHER, abi.encode(_batcherHash));
    }

    /// @notice Stores the Ecotone scalars and the versioned `scalar`, and logs them as OP does (overhead is always 0).
    function _setGasConfigEcotone(uint32 _basefeeScalar, uint32 _blobbasefeeScalar) internal {
        basefeeScalar = _basefeeScalar;
        blobbasefeeScalar = _blobbasefeeScalar;
        scalar = (uint256(0x01) << 248) | (uint256(_blobbasefeeScalar) << 32) | _basefeeScalar;
        emit ConfigUpdate(VERSION, UpdateType.FEE_SCALARS, abi.encode(uint256(0), scalar));
    }

    /// @notice Checks the gas limit's range, stores it and logs it.
    function _setGasLimit(uint64 _gasLimit) internal {
        if (_gasLimit < MIN_GAS_LIMIT || _gasLimit > MAX_GAS_LIMIT) {
            revert SystemConfig_GasLimitOutOfRange(_gasLimit, MIN_GAS_LIMIT, MAX_GAS_LIMIT);
        }
        gasLimit = _gasLimit;
        emit ConfigUpdate(VERSION, UpdateType.GAS_LIMIT, abi.encode(_gasLimit));
    }

    /// @notice Stores the unsafe block signer at its fixed slot and logs it.
    function _setUnsafeBlockSigner(address _unsafeBlockSigner) internal {
        bytes32 slot = UNSAFE_BLOCK_SIGNER_SLOT;
        assembly ("memory-safe") {
            sstore(slot, _unsafeBlockSigner)
        }
        emit ConfigUpdate(VERSION, UpdateType.UNSAFE_BLOCK_SIGNER, abi.encode(_unsafeBlockSigner));
    }
}
