// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IEvmPrecompiles } from "../libraries/EvmTypes.sol";

/// @title EvmPrecompiles
/// @notice The L2's precompiles for L1 re-execution (issue 18): Osaka's set as ethereumjs 10.1.3 activates it under
///         the chain's Common (0x01–0x11, and P256VERIFY at 0x100 by EIP-7951). The gas of a call is computed here,
///         exactly as ethereumjs computes it; the result comes from L1's own precompile at the same address, which
///         on an Osaka L1 has the same semantics. Stateless; one deployment serves every verifier.
/// @dev    A failed precompile call consumes all the gas it was given, whatever failed (out of gas, a length rule, an
///         invalid point), so the order in which ethereumjs applies its gas and input checks does not show in the
///         result: every failure is `(false, _gas, "")`. The input rules checked here are the ones the gas formula
///         needs (a pair count) or that decide failure before any arithmetic; the rest is L1's precompile's verdict.
contract EvmPrecompiles is IEvmPrecompiles {
    /// @notice `_addr` is not one of the L2's precompiles.
    error NotAPrecompile(address addr);

    /// @notice This call has too little gas left to give L1's precompile what the L2 charges: the precompile would
    ///         fail for lack of gas, which must not pass for a verdict on the input. Retry with more gas.
    error L1GasTooLow(uint256 needed, uint256 available);

    /// @notice EIP-2537's MSM discounts (per mille) for 1..128 pairs, two bytes each, big-endian; beyond 128 pairs
    ///         the last entry applies. G1: 1000, 949, 848, …, 519. G2: 1000, 1000, 923, …, 524.
    bytes internal constant G1_DISCOUNTS =
        hex"03e803b50350031d02fc02ee02e202d802cf02c802c102ba02b402af02aa02a502a1029d029902950292028e028b0288028502820280027d027b0278027602730271026f026d026b026902670265026302610260025e025c025b0259025702560254025302510250024f024d024c024a02490248024602450244024302410240023f023e023d023c023a0239023802370236023502340233023202310230022f022e022d022c022b022a02290228022702260225022402230223022202210220021f021e021d021c021c021b021a0219021802180217021602150214021402130212021102100210020f020e020d020d020c020b020a020a0209020802080207";
    bytes internal constant G2_DISCOUNTS =
        hex"03e803e8039b037403570340032c031c030e030202f702ed02e402dc02d402cd02c702c002bb02b502b002ab02a702a2029e029a02970293028f028c0289028602830280027d027a0278027502730270026e026c026a0267026502630261025f025e025c025a025802560255025302510250024e024d024b024a0248024702460244024302420240023f023e023d023b023a023902380237023602350233023202310230022f022e022d022c022b022a022902280228022702260225022402230222022102210220021f021e021d021d021c021b021a021902190218021702170216021502140214021302120212021102100210020f020e020e020d020c020c";

    /// @notice The gas L1's CALL itself needs on top of what it forwards (a warm precompile's access, the opcode):
    ///         a margin for the 63/64 check before the call.
    uint256 internal constant CALL_MARGIN = 1_000;

    /// @inheritdoc IEvmPrecompiles
    function isPrecompile(address _addr) public pure returns (bool) {
        uint160 a = uint160(_addr);
        return (a >= 0x01 && a <= 0x11) || a == 0x100;
    }

    /// @inheritdoc IEvmPrecompiles
    /// @dev Reverts `NotAPrecompile` for any other address, `L1GasTooLow` when this call cannot forward the cost.
    function run(address _addr, bytes calldata _input, uint64 _gas)
        external
        view
        returns (bool success, uint64 gasUsed, bytes memory output)
    {
        if (!isPrecompile(_addr)) revert NotAPrecompile(_addr);
        (bool valid, uint256 cost) = _cost(uint160(_addr), _input);
        if (!valid || cost > _gas) return (false, _gas, "");
        (bool ok, bytes memory out) = _call(_addr, _input, cost);
        if (!ok) return (false, _gas, "");
        return (true, uint64(cost), out);
    }

    /// @notice The gas precompile `_a` charges for `_input` (ethereumjs's formula under Osaka), and `valid == false`
    ///         when ethereumjs fails the call whatever the gas (a length rule; EIP-7823's modexp bounds).
    /// @dev    Every cost fits well in 64 bits for a valid input but blake2f's (rounds, a uint32) and pairings of
    ///         calldata no transaction could carry; the caller compares with a uint64, in 256 bits.
    function _cost(uint160 _a, bytes calldata _input) internal pure returns (bool valid, uint256 cost) {
        uint256 len = _input.length;
        uint256 words = (len + 31) / 32;
        if (_a == 0x01) return (true, 3_000);
        if (_a == 0x02) return (true, 60 + 12 * words);
        if (_a == 0x03) return (true, 600 + 120 * words);
        if (_a == 0x04) return (true, 15 + 3 * words);
        if (_a == 0x05) return _modexpCost(_input);
        if (_a == 0x06) return (true, 150);
        if (_a == 0x07) return (true, 6_000);
        // bn254 pairing: whole 192-byte pairs only (none: the empty product, which holds).
        if (_a == 0x08) return (len % 192 == 0, 45_000 + 34_000 * (len / 192));
        if (_a == 0x09) return _blake2fCost(_input);
        if (_a == 0x0a) return (len == 192, 50_000);
        if (_a == 0x0b) return (len == 256, 375);
        if (_a == 0x0c) return (len != 0 && len % 160 == 0, _msmCost(len / 160, 12_000, G1_DISCOUNTS));
        if (_a == 0x0d) return (len == 512, 600);
        if (_a == 0x0e) return (len != 0 && len % 288 == 0, _msmCost(len / 288, 22_500, G2_DISCOUNTS));
        if (_a == 0x0f) return (len != 0 && len % 384 == 0, 37_700 + 32_600 * (len / 384));
        if (_a == 0x10) return (len == 64, 5_500);
        if (_a == 0x11) return (len == 128, 23_800);
        // P256VERIFY (EIP-7951): a wrong length is a successful call with empty output, which L1's answers alike.
        return (true, 6_900);
    }

    /// @notice MODEXP's gas by EIP-2565 as Osaka changes it (EIP-7883: a 500 minimum, 16 per word of a short
    ///         operand, twice the squared words of a long one, 16 per byte of exponent beyond 32), and EIP-7823's
    ///         bound (each length at most 1,024 bytes, else the call fails).
    /// @dev    Lengths and the exponent's head read zeros past the end of the input, as the precompile reads them.
    function _modexpCost(bytes calldata _input) internal pure returns (bool, uint256) {
        uint256 bLen = _word(_input, 0);
        uint256 eLen = _word(_input, 32);
        uint256 mLen = _word(_input, 64);
        if (bLen > 1024 || eLen > 1024 || mLen > 1024) return (false, 0);
        // The exponent's first 32 bytes (all of it when shorter) as a number: its highest set bit counts.
        uint256 head = _word(_input, 96 + bLen);
        if (eLen < 32) head >>= 8 * (32 - eLen);
        uint256 iterations = eLen > 32 ? (eLen - 32) * 16 : 0;
        uint256 bit = _highestBit(head);
        if (bit != type(uint256).max) iterations += bit;
        if (iterations == 0) iterations = 1;
        uint256 maxLen = bLen > mLen ? bLen : mLen;
        uint256 words = (maxLen + 7) / 8;
        uint256 cost = iterations * (maxLen > 32 ? 2 * words * words : 16);
        return (true, cost < 500 ? 500 : cost);
    }

    /// @notice BLAKE2f: exactly 213 bytes with a final flag of 0 or 1, one gas per round (the first 4 bytes).
    function _blake2fCost(bytes calldata _input) internal pure returns (bool, uint256) {
        if (_input.length != 213) return (false, 0);
        uint8 f = uint8(_input[212]);
        if (f > 1) return (false, 0);
        return (true, uint256(uint32(bytes4(_input[0:4]))));
    }

    /// @notice An EIP-2537 MSM's gas for `_pairs` pairs: pairs × per-pair cost × discount / 1000.
    function _msmCost(uint256 _pairs, uint256 _perPair, bytes memory _discounts) internal pure returns (uint256) {
        if (_pairs == 0) return 0;
        uint256 i = (_pairs > 128 ? 128 : _pairs) - 1;
        uint256 discount = (uint256(uint8(_discounts[2 * i])) << 8) | uint8(_discounts[2 * i + 1]);
        return (_pairs * _perPair * discount) / 1000;
    }

    /// @notice The 32 bytes of `_data` at `_offset`, zeros past its end.
    function _word(bytes calldata _data, uint256 _offset) internal pure returns (uint256 w) {
        uint256 len = _data.length;
        if (_offset >= len) return 0;
        assembly {
            w := calldataload(add(_data.offset, _offset))
        }
        // calldataload reads past `_data` into whatever calldata follows: clear the bytes beyond its end.
        uint256 avail = len - _offset;
        if (avail < 32) w &= ~(type(uint256).max >> (8 * avail));
    }

    /// @notice The index of `_x`'s highest set bit; `type(uint256).max` for zero.
    function _highestBit(uint256 _x) internal pure returns (uint256 r) {
        if (_x == 0) return type(uint256).max;
        for (uint256 s = 128; s > 0; s >>= 1) {
            if (_x >> s != 0) {
                _x >>= s;
                r += s;
            }
        }
    }

    /// @notice Calls L1's precompile `_addr` on `_input` with exactly `_gas` (what an Osaka L1 charges too, so a
    ///         failure there is the input's, not a lack of gas; forwarding no more keeps a failure's cost to L1 at
    ///         the L2's price), and returns its success and output.
    function _call(address _addr, bytes calldata _input, uint256 _gas) internal view returns (bool ok, bytes memory out) {
        uint256 ptr;
        uint256 available;
        // The input is copied to memory once and so is the output: Solidity's `staticcall(bytes)` would copy the
        // input twice, and memory expansion is quadratic (an MSM input runs to tens of kilobytes).
        assembly ("memory-safe") {
            ptr := mload(0x40)
            calldatacopy(ptr, _input.offset, _input.length)
            mstore(0x40, add(ptr, and(add(_input.length, 31), not(31))))
            available := gas()
        }
        // EIP-150: a call forwards at most 63/64 of what is left after its own cost.
        if (available - available / 64 < _gas + CALL_MARGIN) revert L1GasTooLow(_gas + CALL_MARGIN, available);
        assembly ("memory-safe") {
            ok := staticcall(_gas, _addr, ptr, _input.length, 0, 0)
            out := mload(0x40)
            mstore(out, returndatasize())
            returndatacopy(add(out, 0x20), 0, returndatasize())
            mstore(0x40, add(add(out, 0x20), and(add(returndatasize(), 31), not(31))))
        }
    }
}
