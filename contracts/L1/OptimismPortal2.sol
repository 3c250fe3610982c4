// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { SuperchainConfig } from "./SuperchainConfig.sol";
import { AddressAliasHelper } from "../libraries/AddressAliasHelper.sol";
import { EOA } from "../libraries/EOA.sol";

/// @title OptimismPortal2
/// @notice The L1 entry of the rollup: deposits ETH and messages to L2 with OP Stack's `OptimismPortal2` ABI and event
///         encoding, so op-node-style derivation and viem's `viem/op-stack` actions work against it unmodified. The
///         deposited ETH stays here; it is minted on L2 by the deposit transaction.
/// @dev    Configuration is immutable (no proxy, no initializer). Slot 0 meters deposit gas per L1 block; the slots
///         after it are left to the withdrawal state (`l2Sender`, `finalizedWithdrawals`, `provenWithdrawals`,
///         `proofSubmitters`) that proving and finalizing will add. Of OP's ResourceMetering only the cap is kept (at
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

    /// @notice The contract holding the guardian's pause switch.
    SuperchainConfig public immutable superchainConfig;

    /// @notice L2 gas bought by deposits so far in L1 block `blockNumber` (slot 0).
    /// @custom:field blockNumber The L1 block the count is for.
    /// @custom:field bought      L2 gas bought in it.
    struct DepositGas {
        uint64 blockNumber;
        uint64 bought;
    }

    /// @notice Deposit gas bought in the current L1 block.
    DepositGas public depositGas;

    /// @notice Emitted for every deposit; the rollup node derives one deposit transaction (type 0x7E) from each.
    /// @param from       The L1 sender, aliased when it is a contract.
    /// @param to         The L2 recipient (zero for a contract creation).
    /// @param version    Layout version of `opaqueData` (0).
    /// @param opaqueData `abi.encodePacked(uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes data)`.
    event TransactionDeposited(address indexed from, address indexed to, uint256 indexed version, bytes opaqueData);

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

    /// @param _superchainConfig The contract holding the pause switch.
    constructor(SuperchainConfig _superchainConfig) {
        superchainConfig = _superchainConfig;
    }

    /// @notice Deposits the ETH sent to the caller's own address on L2, with a 100,000 gas limit. A contract sending ETH
    ///         here credits its aliased address: contracts should call `depositTransaction`.
    receive() external payable {
        depositTransaction(msg.sender, msg.value, RECEIVE_DEFAULT_GAS_LIMIT, false, bytes(""));
    }

    /// @notice Semantic version. Major 3: the fault-proof era `OptimismPortal2` interface (viem's `getPortalVersion`
    ///         branches on it).
    function version() external pure returns (string memory) {
        return "3.0.0";
    }

    /// @notice The guardian of the pause switch.
    function guardian() external view returns (address) {
        return superchainConfig.guardian();
    }

    /// @notice Whether the guardian has paused the system. As in OP, the pause never stops deposits (they must not be
    ///         censorable); it will stop proving and finalizing withdrawals.
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
