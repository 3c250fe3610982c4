// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice A game's outcome (OP's `GameStatus`, same order: tools decode the `uint8`).
enum GameStatus {
    IN_PROGRESS,
    CHALLENGER_WINS,
    DEFENDER_WINS
}

/// @notice VM status byte carried in the top byte of an execution-trace claim (OP's `VMStatuses`).
library VMStatus {
    uint8 internal constant VALID = 0;
    uint8 internal constant INVALID = 1;
    uint8 internal constant PANIC = 2;
    uint8 internal constant UNFINISHED = 3;
}

/// @notice Game types (OP's numbering: 0 = CANNON is the slot the respected output-root game uses).
library GameTypes {
    uint32 internal constant CANNON = 0;
}

/// @title LibPosition
/// @notice Positions in the game tree as generalized indices, `gindex = 2^depth + indexAtDepth` (root = 1), as OP's
///         `LibPosition`. A claim at a position commits to the trace index of the rightmost leaf under it.
library LibPosition {
    /// @notice Depth of `_position`: the index of its highest set bit.
    function depth(uint128 _position) internal pure returns (uint256 depth_) {
        uint256 p = _position;
        while (p > 1) {
            p >>= 1;
            depth_++;
        }
    }

    /// @notice Index of `_position` among the positions at its depth.
    function indexAtDepth(uint128 _position) internal pure returns (uint256) {
        return uint256(_position) - (uint256(1) << depth(_position));
    }

    /// @notice The position a move against `_position` takes: attack → `2g`, defend → `2(g | 1)` (the next sibling's
    ///         left child, since every claimed position but the root is even).
    function move(uint128 _position, bool _isAttack) internal pure returns (uint128) {
        return (_isAttack ? _position : _position | 1) << 1;
    }

    /// @notice The rightmost descendant of `_position` at depth `_maxDepth`.
    function rightIndex(uint128 _position, uint256 _maxDepth) internal pure returns (uint128) {
        uint256 remaining = _maxDepth - depth(_position);
        return uint128(((uint256(_position) + 1) << remaining) - 1);
    }

    /// @notice The trace index `_position` commits to in a tree of depth `_maxDepth`.
    function traceIndex(uint128 _position, uint256 _maxDepth) internal pure returns (uint256) {
        return indexAtDepth(rightIndex(_position, _maxDepth));
    }

    /// @notice The highest ancestor committing to the same trace index as `_position`: climb while it is a right
    ///         child; the root (which commits to the last index) stops the climb.
    function traceAncestor(uint128 _position) internal pure returns (uint128 ancestor_) {
        ancestor_ = _position;
        while (ancestor_ > 1 && ancestor_ & 1 == 1) ancestor_ >>= 1;
    }
}
