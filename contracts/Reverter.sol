// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Every way a call can fail, for error-surfacing tests.
contract Reverter {
    error Unauthorized(address caller, uint256 code);

    uint256 public value;

    event Stored(uint256 value);

    function ok() external pure returns (uint256) {
        return 42;
    }

    /// revert("...") -> Error(string)
    function revertWithReason() external pure {
        revert("Reverter: nope");
    }

    /// custom error -> Unauthorized(address,uint256)
    function revertCustom(uint256 code) external view {
        revert Unauthorized(msg.sender, code);
    }

    /// require(cond, "...") -> Error(string)
    function requireAbove(uint256 x) external pure returns (uint256) {
        require(x > 10, "Reverter: x must exceed 10");
        return x;
    }

    /// assert(false) -> Panic(0x01)
    function assertFail() external pure {
        assert(false);
    }

    /// division by zero -> Panic(0x12)
    function divide(uint256 a, uint256 b) external pure returns (uint256) {
        return a / b;
    }

    /// revert() without data
    function revertEmpty() external pure {
        revert();
    }

    /// State-changing: stores then reverts when asked (a reverting transaction, not just a call).
    function store(uint256 v, bool fail) external {
        value = v;
        emit Stored(v);
        require(!fail, "Reverter: store failed");
    }
}
