// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { RLPReader } from "./RLPReader.sol";

/// @title StepFields
/// @notice The field readers the transaction step verifier and its helper contracts share (TxStepVerifier,
///         TransferDecoder, L1AttributesStep): canonical integers, 32-byte words and addresses out of RLP items, and a
///         typed envelope's fields. A malformed transaction field reverts `BadStep` (the block's transactions are the
///         node's own encodings: a malformed one is no honest step); a malformed header field is reported, not
///         reverted (a claimant's header is judged).
library StepFields {
    using RLPReader for RLPReader.Item;

    /// @notice A transaction field is not what its position requires (same signature as TxStepVerifier's).
    error BadStep();

    /// @notice A 32-byte string, or ok = false.
    function word(RLPReader.Item memory _item) internal pure returns (bytes32 w_, bool ok_) {
        if (_item.isList()) return (w_, false);
        bytes memory b = _item.readBytes();
        if (b.length != 32) return (w_, false);
        return (bytes32(b), true);
    }

    /// @notice A canonical integer (at most 32 bytes, no leading zero byte), or ok = false.
    function canonicalUint(RLPReader.Item memory _item) internal pure returns (uint256 v_, bool ok_) {
        if (_item.isList()) return (0, false);
        bytes memory b = _item.readBytes();
        if (b.length > 32 || (b.length > 0 && b[0] == 0)) return (0, false);
        for (uint256 i = 0; i < b.length; i++) {
            v_ = (v_ << 8) | uint8(b[i]);
        }
        return (v_, true);
    }

    /// @notice A transaction's integer field; reverts `BadStep` unless canonical.
    function uintOf(RLPReader.Item memory _item) internal pure returns (uint256 v_) {
        bool ok;
        (v_, ok) = canonicalUint(_item);
        if (!ok) revert BadStep();
    }

    /// @notice A 20-byte address; reverts `BadStep` for any other length.
    function addressOf(bytes memory _b) internal pure returns (address) {
        if (_b.length != 20) revert BadStep();
        return address(bytes20(_b));
    }

    /// @notice The fields of a typed envelope (`_skip` type bytes before the list).
    function envelope(bytes memory _raw, uint256 _skip) internal pure returns (RLPReader.Item[] memory) {
        bytes memory list = _raw;
        if (_skip == 1) {
            list = new bytes(_raw.length - 1);
            assembly ("memory-safe") {
                mcopy(add(list, 0x20), add(_raw, 0x21), mload(list))
            }
        }
        return RLPReader.readLongList(RLPReader.toItem(list));
    }

    /// @notice 0x00…00xx and 0x00…01xx: precompiles and their neighbours run code (native-transfer.ts).
    function isLowAddress(address _a) internal pure returns (bool) {
        return uint160(_a) < 0x200;
    }
}
