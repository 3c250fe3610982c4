// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title L1Block
/// @notice L2 predeploy at 0x4200000000000000000000000000000000000015: the attributes of the L1 block the current L2
///         block derives from (its epoch), written by the L1-attributes deposit at the start of every L2 block. The
///         storage layout is OP's, slot for slot: execution clients read the fee inputs straight from storage
///         (basefee slot 1, scalars slot 3, blobBaseFee slot 7, operator fee slot 8).
/// @dev    The setters take OP's packed calldata, not ABI-encoded arguments (164 bytes for Ecotone, 176 for Isthmus,
///         178 for Jovian, selector included).
contract L1Block {
    /// @notice The system account the L1-attributes deposit comes from.
    address internal constant DEPOSITOR = 0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001;

    /// @notice L1 block number (slot 0, low 8 bytes).
    uint64 public number;

    /// @notice L1 block timestamp (slot 0, next 8 bytes).
    uint64 public timestamp;

    /// @notice L1 base fee (slot 1).
    uint256 public basefee;

    /// @notice L1 block hash (slot 2).
    bytes32 public hash;

    /// @notice Number of L2 blocks since the epoch started (slot 3, low 8 bytes).
    uint64 public sequenceNumber;

    /// @notice Scalar on the L1 blob base fee in the L1 data fee (slot 3).
    uint32 public blobBaseFeeScalar;

    /// @notice Scalar on the L1 base fee in the L1 data fee (slot 3).
    uint32 public baseFeeScalar;

    /// @notice Versioned batcher identity (slot 4).
    bytes32 public batcherHash;

    /// @notice Pre-Ecotone fee overhead (slot 5); never written since Ecotone, kept for the layout.
    uint256 public l1FeeOverhead;

    /// @notice Pre-Ecotone fee scalar (slot 6); never written since Ecotone, kept for the layout.
    uint256 public l1FeeScalar;

    /// @notice L1 blob base fee (slot 7).
    uint256 public blobBaseFee;

    /// @notice Operator fee constant (slot 8, low 8 bytes; Isthmus).
    uint64 public operatorFeeConstant;

    /// @notice Operator fee scalar (slot 8, next 4 bytes; Isthmus).
    uint32 public operatorFeeScalar;

    /// @notice DA footprint gas scalar (slot 8, next 2 bytes; Jovian).
    uint16 public daFootprintGasScalar;

    /// @notice Thrown when anyone but the depositor account calls a setter. Selector 0x3cc50b45, as OP's.
    error NotDepositor();

    /// @notice Semantic version.
    function version() external pure returns (string memory) {
        return "1.6.0";
    }

    /// @notice The system account allowed to set the L1 attributes.
    function DEPOSITOR_ACCOUNT() external pure returns (address) {
        return DEPOSITOR;
    }

    /// @notice Sets the Ecotone attributes from packed calldata: selector 0x440a5e20, then baseFeeScalar (uint32),
    ///         blobBaseFeeScalar (uint32), sequenceNumber (uint64), timestamp (uint64), number (uint64), basefee,
    ///         blobBaseFee, hash, batcherHash (32 bytes each). Only the depositor account.
    function setL1BlockValuesEcotone() public {
        _setEcotoneValues();
    }

    /// @notice Sets the Isthmus attributes: the Ecotone layout followed by operatorFeeScalar (uint32) and
    ///         operatorFeeConstant (uint64). Selector 0x098999be. Only the depositor account.
    function setL1BlockValuesIsthmus() external {
        _setEcotoneValues();
        assembly {
            // Bytes 164..175 → scalar in bits 64..95, constant in bits 0..63 of slot 8; daFootprintGasScalar → 0.
            sstore(operatorFeeConstant.slot, shr(160, calldataload(164)))
        }
    }

    /// @notice Sets the Jovian attributes: the Isthmus layout followed by daFootprintGasScalar (uint16). Selector
    ///         0x3db6be2b. Only the depositor account.
    function setL1BlockValuesJovian() external {
        _setEcotoneValues();
        assembly {
            sstore(operatorFeeConstant.slot, or(shl(96, shr(240, calldataload(176))), shr(160, calldataload(164))))
        }
    }

    /// @notice Checks the caller and stores the Ecotone fields, whose packed order matches the storage packing.
    function _setEcotoneValues() internal {
        if (msg.sender != DEPOSITOR) revert NotDepositor();
        assembly {
            // Bytes 4..19: baseFeeScalar ‖ blobBaseFeeScalar ‖ sequenceNumber → slot 3 as packed by solc.
            sstore(sequenceNumber.slot, shr(128, calldataload(4)))
            // Bytes 20..35: timestamp ‖ number → slot 0.
            sstore(number.slot, shr(128, calldataload(20)))
            sstore(basefee.slot, calldataload(36))
            sstore(blobBaseFee.slot, calldataload(68))
            sstore(hash.slot, calldataload(100))
            sstore(batcherHash.slot, calldataload(132))
        }
    }
}
