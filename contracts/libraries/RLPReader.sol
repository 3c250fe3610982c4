// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title RLPReader
/// @notice Reads RLP from memory without copying: an item is a pointer and a length into the encoded bytes. Strict
///         where malformed input could be read two ways: lengths must fit the input exactly, long forms must be
///         needed (no leading zero length bytes, no long form under 56 bytes), single bytes below 0x80 must not be
///         wrapped.
library RLPReader {
    /// @notice An encoded item: `ptr` is the memory address of its first (prefix) byte, `len` its whole length.
    struct Item {
        uint256 ptr;
        uint256 len;
    }

    error RLPReader_Malformed();
    error RLPReader_NotAList();
    error RLPReader_NotAString();

    /// @notice The item spanning `_encoded`, which must hold exactly one item.
    function toItem(bytes memory _encoded) internal pure returns (Item memory item_) {
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := add(_encoded, 0x20)
        }
        item_ = Item({ ptr: ptr, len: _encoded.length });
        (uint256 offset, uint256 length,) = _header(item_);
        if (offset + length != item_.len) revert RLPReader_Malformed();
    }

    /// @notice The children of a list item.
    function readList(Item memory _item) internal pure returns (Item[] memory items_) {
        (uint256 offset, uint256 length, bool list) = _header(_item);
        if (!list) revert RLPReader_NotAList();
        items_ = new Item[](17);
        uint256 count;
        uint256 cursor = offset;
        uint256 end = offset + length;
        while (cursor < end) {
            if (count == 17) revert RLPReader_Malformed();
            Item memory child = Item({ ptr: _item.ptr + cursor, len: end - cursor });
            (uint256 childOffset, uint256 childLength,) = _header(child);
            child.len = childOffset + childLength;
            items_[count++] = child;
            cursor += child.len;
        }
        assembly ("memory-safe") {
            mstore(items_, count)
        }
    }

    /// @notice The children of a list item of any length (a block header has 20+ fields; `readList` is capped at a
    ///         trie node's 17).
    function readLongList(Item memory _item) internal pure returns (Item[] memory items_) {
        (uint256 offset, uint256 length, bool list) = _header(_item);
        if (!list) revert RLPReader_NotAList();
        uint256 count;
        uint256 cursor = offset;
        uint256 end = offset + length;
        while (cursor < end) {
            (uint256 childOffset, uint256 childLength,) = _header(Item({ ptr: _item.ptr + cursor, len: end - cursor }));
            cursor += childOffset + childLength;
            count++;
        }
        items_ = new Item[](count);
        cursor = offset;
        for (uint256 i = 0; i < count; i++) {
            Item memory child = Item({ ptr: _item.ptr + cursor, len: end - cursor });
            (uint256 childOffset, uint256 childLength,) = _header(child);
            child.len = childOffset + childLength;
            items_[i] = child;
            cursor += child.len;
        }
    }

    /// @notice The payload of a string item.
    function readBytes(Item memory _item) internal pure returns (bytes memory) {
        (uint256 offset, uint256 length, bool list) = _header(_item);
        if (list) revert RLPReader_NotAString();
        return _copy(_item.ptr + offset, length);
    }

    /// @notice The whole encoding of an item, prefix included.
    function readRawBytes(Item memory _item) internal pure returns (bytes memory) {
        return _copy(_item.ptr, _item.len);
    }

    /// @notice Whether the item is a list.
    function isList(Item memory _item) internal pure returns (bool isList_) {
        (,, isList_) = _header(_item);
    }

    /// @notice Payload offset and length of the item at `_item.ptr`, checked to fit in `_item.len` bytes.
    function _header(Item memory _item) private pure returns (uint256 offset_, uint256 length_, bool isList_) {
        if (_item.len == 0) revert RLPReader_Malformed();
        uint256 ptr = _item.ptr;
        uint256 prefix;
        assembly ("memory-safe") {
            prefix := byte(0, mload(ptr))
        }
        if (prefix < 0x80) return (0, 1, false);
        if (prefix < 0xb8) {
            length_ = prefix - 0x80;
            if (length_ == 1 && _item.len > 1 && _byteAt(ptr + 1) < 0x80) revert RLPReader_Malformed();
            offset_ = 1;
        } else if (prefix < 0xc0) {
            (offset_, length_) = _longLength(ptr, prefix - 0xb7, _item.len);
        } else if (prefix < 0xf8) {
            (offset_, length_, isList_) = (1, prefix - 0xc0, true);
        } else {
            (offset_, length_) = _longLength(ptr, prefix - 0xf7, _item.len);
            isList_ = true;
        }
        if (offset_ + length_ > _item.len) revert RLPReader_Malformed();
    }

    function _longLength(uint256 _ptr, uint256 _lengthOfLength, uint256 _available)
        private
        pure
        returns (uint256 offset_, uint256 length_)
    {
        if (_lengthOfLength > 8 || 1 + _lengthOfLength > _available) revert RLPReader_Malformed();
        if (_byteAt(_ptr + 1) == 0) revert RLPReader_Malformed();
        for (uint256 i = 0; i < _lengthOfLength; i++) {
            length_ = (length_ << 8) | _byteAt(_ptr + 1 + i);
        }
        if (length_ < 56) revert RLPReader_Malformed();
        offset_ = 1 + _lengthOfLength;
    }

    function _byteAt(uint256 _ptr) private pure returns (uint256 b_) {
        assembly ("memory-safe") {
            b_ := byte(0, mload(_ptr))
        }
    }

    function _copy(uint256 _src, uint256 _length) private pure returns (bytes memory out_) {
        out_ = new bytes(_length);
        uint256 dest;
        assembly ("memory-safe") {
            dest := add(out_, 0x20)
            mcopy(dest, _src, _length)
        }
    }
}
