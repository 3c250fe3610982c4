// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title EOA
/// @notice Whether the caller is an externally owned account, as OP's portal decides it: the transaction's origin, or an
///         account whose code is an EIP-7702 delegation designator (`0xef0100 ‖ address`, 23 bytes). A delegated EOA
///         still holds its key, so its deposits are not aliased.
library EOA {
    /// @notice True when `msg.sender` is an EOA, delegated (EIP-7702) or not.
    function isSenderEOA() internal view returns (bool isEOA_) {
        if (msg.sender == tx.origin) return true;
        address sender = msg.sender;
        if (sender.code.length != 23) return false;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            extcodecopy(sender, ptr, 0, 3)
            isEOA_ := eq(shr(232, mload(ptr)), 0xef0100)
        }
    }
}
