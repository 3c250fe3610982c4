// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title RLPWriter
/// @notice Canonical RLP encodings: a single byte below 0x80 stands for itself, lengths take the short form below 56
///         bytes and the shortest long form above, integers are big-endian without leading zeros (zero is the empty
///         string). Exactly what RLPReader accepts, so a value written here reads back the same, and what Ethereum
///         hashes: transactions, receipts, accounts and trie nodes re-encoded here hash like the originals.
library RLPWriter {
    /// @notice The encoding of the byte string `_in`.
    /// @param _in The bytes to encode.
    /// @return out_ `_in` itself when it is one byte below 0x80, else a string header followed by `_in`.
    function writeBytes(bytes memory _in) internal pure returns (bytes memory out_) {
        if (_in.length == 1 && uint8(_in[0]) < 0x80) return bytes.concat(_in);
        return bytes.concat(_header(_in.length, 0x80), _in);
    }

    /// @notice The encoding of the integer `_x`: its big-endian bytes without leading zeros, as a string.
    /// @param _x The integer to encode.
    /// @return out_ The encoding; 0x80 for zero.
    function writeUint(uint256 _x) internal pure returns (bytes memory out_) {
        return writeBytes(_minimalBytes(_x));
    }

    /// @notice The encoding of an address: its 20 bytes as a string.
    /// @param _a The address to encode.
    /// @return out_ 0x94 followed by the address.
    function writeAddress(address _a) internal pure returns (bytes memory out_) {
        return abi.encodePacked(bytes1(0x94), _a);
    }

    /// @notice The encoding of a 32-byte word as a 32-byte string (hashes, roots: leading zeros kept).
    /// @param _b The word to encode.
    /// @return out_ 0xa0 followed by the word.
    function writeBytes32(bytes32 _b) internal pure returns (bytes memory out_) {
        return abi.encodePacked(bytes1(0xa0), _b);
    }

    /// @notice The encoding of a list whose items are already encoded.
    /// @param _items The encoded items, in order.
    /// @return out_ A list header followed by the items' concatenation.
    function writeList(bytes[] memory _items) internal pure returns (bytes memory out_) {
        return writeListPayload(_concat(_items));
    }

    /// @notice The encoding of a list given the concatenation of its encoded items (its payload).
    /// @param _payload The encoded items, concatenated.
    /// @return out_ A list header followed by `_payload`.
    function writeListPayload(bytes memory _payload) internal pure returns (bytes memory out_) {
        return bytes.concat(_header(_payload.length, 0xc0), _payload);
    }

    /// @notice The header of a string (`_offset` 0x80) or list (0xc0) whose payload is `_length` bytes long.
    function _header(uint256 _length, uint8 _offset) private pure returns (bytes memory header_) {
        if (_length < 56) return abi.encodePacked(bytes1(uint8(_offset + _length)));
        bytes memory lengthBytes = _minimalBytes(_length);
        // A long form's prefix counts the length's own bytes from offset + 55 on (0xb8.., 0xf8..).
        return bytes.concat(bytes1(uint8(_offset + 55 + lengthBytes.length)), lengthBytes);
    }

    /// @notice The big-endian bytes of `_x` without leading zeros (none for zero).
    function _minimalBytes(uint256 _x) private pure returns (bytes memory out_) {
        uint256 n;
        for (uint256 v = _x; v != 0; v >>= 8) n++;
        out_ = new bytes(n);
        for (uint256 i = 0; i < n; i++) {
            out_[n - 1 - i] = bytes1(uint8(_x >> (8 * i)));
        }
    }

    /// @notice The concatenation of `_parts`, copied once into a buffer of the total length.
    function _concat(bytes[] memory _parts) private pure returns (bytes memory out_) {
        uint256 total;
        for (uint256 i = 0; i < _parts.length; i++) total += _parts[i].length;
        out_ = new bytes(total);
        uint256 dest;
        assembly ("memory-safe") {
            dest := add(out_, 0x20)
        }
        for (uint256 i = 0; i < _parts.length; i++) {
            bytes memory part = _parts[i];
            uint256 length = part.length;
            assembly ("memory-safe") {
                mcopy(dest, add(part, 0x20), length)
            }
            dest += length;
        }
    }
}
