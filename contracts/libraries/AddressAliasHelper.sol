// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title AddressAliasHelper
/// @notice The L1→L2 address alias of OP Stack (and Arbitrum): a contract on L1 and the contract at the same address
///         on L2 are different code, so an L1 contract's deposits arrive on L2 from `address + 0x1111…1111` and cannot
///         impersonate the L2 contract.
library AddressAliasHelper {
    uint160 internal constant OFFSET = uint160(0x1111000000000000000000000000000000001111);

    /// @notice The L2 sender a deposit made by the L1 contract `_l1Address` carries.
    function applyL1ToL2Alias(address _l1Address) internal pure returns (address l2Address_) {
        unchecked {
            l2Address_ = address(uint160(_l1Address) + OFFSET);
        }
    }

    /// @notice The L1 contract an aliased L2 sender stands for.
    function undoL1ToL2Alias(address _l2Address) internal pure returns (address l1Address_) {
        unchecked {
            l1Address_ = address(uint160(_l2Address) - OFFSET);
        }
    }
}
