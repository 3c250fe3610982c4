// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { EvmLog, EvmSlotKey } from "../libraries/EvmTypes.sol";
import { RLPReader } from "../libraries/RLPReader.sol";
import { RLPWriter } from "../libraries/RLPWriter.sol";
import { StepFields } from "../libraries/StepFields.sol";

/// @notice One EIP-7702 authorization tuple, its authority recovered (zero when the tuple is to be skipped for its
///         chain id, nonce, `s`, y parity or a signature that does not recover).
struct TxAuthorization {
    address target;
    uint256 nonce;
    address authority;
}

/// @notice Any transaction of the chain, decoded: legacy (with or without EIP-155), 0x01, 0x02, 0x04 and OP's 0x7e
///         deposit. `invalid`: what makes the block invalid whatever the state (a signature that does not recover,
///         a tip cap above the fee cap, intrinsic gas or the EIP-7623 floor above the gas limit, initcode over
///         EIP-3860's size, a set-code transaction without authorizations). A deposit's fields are in the same
///         places (`sender` = from, `maxFee` = 0); its own validity rules are the step's.
struct DecodedTx {
    uint8 txType;
    bool invalid;
    address sender;
    uint256 nonce;
    uint256 gasLimit;
    uint256 maxFee;
    uint256 maxPriorityFee;
    bool isCreate;
    address to;
    uint256 value;
    bytes data;
    address[] accessAddresses;
    EvmSlotKey[] accessSlots;
    TxAuthorization[] auths;
    uint256 mint;
    bool isSystemTx;
    uint256 intrinsicGas;
    uint256 floorGas;
}

/// @title EvmTxCodec
/// @notice Decodes a raw transaction of any of the chain's types, recovers its sender and its EIP-7702 authorities and
///         computes its intrinsic gas and EIP-7623 floor, for ContractTxStep: its own contract to keep the step under
///         EIP-170. Generalizes TransferDecoder (same signing payloads). Stateless; the chain id is an argument.
contract EvmTxCodec {
    using RLPReader for RLPReader.Item;

    /// @notice secp256k1's order over 2 (EIP-2: higher `s` values are refused, for transactions and authorizations).
    uint256 internal constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    /// @notice EIP-3860: the largest initcode a creation may carry.
    uint256 internal constant MAX_INITCODE_SIZE = 49_152;

    /// @notice The transaction is not one of the chain's types, or its encoding is malformed.
    error BadTransaction();

    /// @notice Decodes `_raw` (the canonical typed encoding) for the chain `_chainId`.
    /// @param _raw The transaction as the block carries it.
    /// @param _chainId The chain's id (signatures for another chain are invalid).
    /// @return t_ Its fields, sender, authorities, intrinsic gas and floor.
    function decode(bytes calldata _raw, uint256 _chainId) external pure returns (DecodedTx memory t_) {
        if (_raw.length == 0) revert BadTransaction();
        uint8 first = uint8(_raw[0]);
        t_.txType = first >= 0xc0 ? 0 : first;
        if (t_.txType == 0x7e) {
            _deposit(_raw, t_);
        } else if (t_.txType <= 2 || t_.txType == 4) {
            _signed(_raw, _chainId, t_);
        } else {
            revert BadTransaction();
        }
        _gas(t_);
    }

    /// @notice A deposit: [sourceHash, from, to, mint, value, gas, isSystemTx, data].
    function _deposit(bytes calldata _raw, DecodedTx memory _t) internal pure {
        RLPReader.Item[] memory f = StepFields.envelope(_raw, 1);
        if (f.length != 8) revert BadTransaction();
        _t.sender = StepFields.addressOf(f[1].readBytes());
        _setTo(_t, f[2].readBytes());
        _t.mint = StepFields.uintOf(f[3]);
        _t.value = StepFields.uintOf(f[4]);
        _t.gasLimit = StepFields.uintOf(f[5]);
        _t.isSystemTx = f[6].readBytes().length != 0;
        _t.data = f[7].readBytes();
    }

    /// @notice A signed transaction. Field positions: legacy [nonce, gasPrice, gas, to, value, data, v, r, s]; 2930
    ///         [chainId, nonce, gasPrice, gas, to, value, data, accessList, y, r, s]; 1559 [chainId, nonce, tip,
    ///         feeCap, gas, to, value, data, accessList, y, r, s]; 7702: 1559's with authorizationList before y.
    function _signed(bytes calldata _raw, uint256 _chainId, DecodedTx memory _t) internal pure {
        uint8 ty = _t.txType;
        RLPReader.Item[] memory f = StepFields.envelope(_raw, ty == 0 ? 0 : 1);
        if (f.length != (ty == 0 ? 9 : ty == 1 ? 11 : ty == 2 ? 12 : 13)) revert BadTransaction();
        uint256 o = ty == 0 ? 0 : 1;
        uint256 fees = ty >= 2 ? 2 : 1;
        _t.nonce = StepFields.uintOf(f[o]);
        _t.maxPriorityFee = StepFields.uintOf(f[o + 1]);
        _t.maxFee = StepFields.uintOf(f[o + fees]);
        _t.gasLimit = StepFields.uintOf(f[o + fees + 1]);
        _setTo(_t, f[o + fees + 2].readBytes());
        _t.value = StepFields.uintOf(f[o + fees + 3]);
        _t.data = f[o + fees + 4].readBytes();
        if (ty != 0) _accessList(f[o + fees + 5], _t);
        if (ty == 4) {
            _authorizations(f[o + fees + 6], _chainId, _t);
            // EIP-7702: a set-code transaction names a recipient and at least one authorization.
            if (_t.isCreate || _t.auths.length == 0) _t.invalid = true;
        }
        if (_t.maxPriorityFee > _t.maxFee) _t.invalid = true;
        bool wrongChain = ty != 0 && StepFields.uintOf(f[0]) != _chainId;
        _t.sender = wrongChain ? address(0) : _recover(f, ty, _chainId);
        if (_t.sender == address(0)) _t.invalid = true;
    }

    function _setTo(DecodedTx memory _t, bytes memory _to) internal pure {
        if (_to.length == 0) _t.isCreate = true;
        else _t.to = StepFields.addressOf(_to);
    }

    /// @notice [[address, [key, ...]], ...]: every address and key as listed (duplicates count for gas and warm
    ///         nothing twice).
    function _accessList(RLPReader.Item memory _item, DecodedTx memory _t) internal pure {
        RLPReader.Item[] memory entries = _item.readLongList();
        uint256 keys;
        RLPReader.Item[][] memory split = new RLPReader.Item[][](entries.length);
        for (uint256 i = 0; i < entries.length; i++) {
            split[i] = entries[i].readList();
            if (split[i].length != 2) revert BadTransaction();
            keys += split[i][1].readLongList().length;
        }
        _t.accessAddresses = new address[](entries.length);
        _t.accessSlots = new EvmSlotKey[](keys);
        uint256 n;
        for (uint256 i = 0; i < entries.length; i++) {
            address a = StepFields.addressOf(split[i][0].readBytes());
            _t.accessAddresses[i] = a;
            RLPReader.Item[] memory ks = split[i][1].readLongList();
            for (uint256 j = 0; j < ks.length; j++) {
                (bytes32 key, bool ok) = StepFields.word(ks[j]);
                if (!ok) revert BadTransaction();
                _t.accessSlots[n++] = EvmSlotKey({ addr: a, key: key });
            }
        }
    }

    /// @notice [[chainId, address, nonce, y, r, s], ...]; an authority that does not count is zero (ethereumjs
    ///         runTx's `processAuthorizationList` skips it without effect).
    function _authorizations(RLPReader.Item memory _item, uint256 _chainId, DecodedTx memory _t) internal pure {
        RLPReader.Item[] memory list = _item.readLongList();
        _t.auths = new TxAuthorization[](list.length);
        for (uint256 i = 0; i < list.length; i++) {
            RLPReader.Item[] memory a = list[i].readList();
            if (a.length != 6) revert BadTransaction();
            TxAuthorization memory auth = _t.auths[i];
            uint256 chainId = StepFields.uintOf(a[0]);
            auth.target = StepFields.addressOf(a[1].readBytes());
            auth.nonce = StepFields.uintOf(a[2]);
            uint256 y = StepFields.uintOf(a[3]);
            uint256 r = StepFields.uintOf(a[4]);
            uint256 s = StepFields.uintOf(a[5]);
            if ((chainId != 0 && chainId != _chainId) || auth.nonce >= type(uint64).max || s > HALF_N || y > 1) continue;
            bytes32 digest = keccak256(
                bytes.concat(
                    bytes1(0x05),
                    RLPWriter.writeListPayload(bytes.concat(a[0].readRawBytes(), a[1].readRawBytes(), a[2].readRawBytes()))
                )
            );
            auth.authority = ecrecover(digest, uint8(y + 27), bytes32(r), bytes32(s));
        }
    }

    /// @notice The signer, or zero when the signature is not valid (high s, bad v, no recovery).
    function _recover(RLPReader.Item[] memory _f, uint8 _type, uint256 _chainId) internal pure returns (address) {
        uint256 n = _f.length - 3;
        bytes memory payload;
        for (uint256 i = 0; i < n; i++) {
            payload = bytes.concat(payload, _f[i].readRawBytes());
        }
        uint256 v = StepFields.uintOf(_f[n]);
        uint256 r = StepFields.uintOf(_f[n + 1]);
        uint256 sv = StepFields.uintOf(_f[n + 2]);
        if (sv == 0 || sv > HALF_N || r == 0) return address(0);
        bytes32 digest;
        if (_type == 0) {
            if (v == 27 || v == 28) {
                digest = keccak256(RLPWriter.writeListPayload(payload));
            } else if (v == _chainId * 2 + 35 || v == _chainId * 2 + 36) {
                v -= _chainId * 2 + 8;
                digest = keccak256(RLPWriter.writeListPayload(bytes.concat(payload, RLPWriter.writeUint(_chainId), hex"8080")));
            } else {
                return address(0);
            }
        } else {
            if (v > 1) return address(0);
            v += 27;
            digest = keccak256(bytes.concat(bytes1(_type), RLPWriter.writeListPayload(payload)));
        }
        return ecrecover(digest, uint8(v), bytes32(r), bytes32(sv));
    }

    /// @notice Intrinsic gas (21,000 or 53,000 for a creation, calldata 4/16 per byte, EIP-3860 2 per initcode word,
    ///         EIP-2930 2,400 per address and 1,900 per key, EIP-7702 25,000 per authorization) and EIP-7623's floor
    ///         (21,000 + 10 per token; a zero byte is 1 token, any other 4).
    function _gas(DecodedTx memory _t) internal pure {
        bytes memory data = _t.data;
        uint256 zeros;
        for (uint256 i = 0; i < data.length; i++) {
            if (data[i] == 0) zeros++;
        }
        uint256 nonZeros = data.length - zeros;
        uint256 gas = 21_000 + zeros * 4 + nonZeros * 16;
        if (_t.isCreate) {
            gas += 32_000 + 2 * ((data.length + 31) / 32);
            if (data.length > MAX_INITCODE_SIZE) _t.invalid = true;
        }
        gas += _t.accessAddresses.length * 2_400 + _t.accessSlots.length * 1_900 + _t.auths.length * 25_000;
        _t.intrinsicGas = gas;
        _t.floorGas = 21_000 + 10 * (zeros + 4 * nonZeros);
        if (_t.txType != 0x7e && (gas > _t.gasLimit || _t.floorGas > _t.gasLimit)) _t.invalid = true;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Receipt

    /// @notice A transaction's consensus receipt (typed: the type byte before the RLP list, none for legacy) and
    ///         its logs bloom: rlp([status, cumulativeGasUsed, bloom, logs]), with [depositNonce, 1] after for a
    ///         deposit (Canyon's receipt version 1), as src/chain/receipt.ts encodes it.
    /// @param _type The transaction's type.
    /// @param _status Whether its message succeeded.
    /// @param _cumulativeGas The block's gas used up to and with it.
    /// @param _logs Its logs.
    /// @param _depositNonce A deposit's sender nonce before it (ignored for other types).
    /// @return receipt_ The receipt.
    /// @return bloom_ Its bloom.
    function receipt(uint8 _type, bool _status, uint256 _cumulativeGas, EvmLog[] calldata _logs, uint256 _depositNonce)
        external
        pure
        returns (bytes memory receipt_, bytes memory bloom_)
    {
        bloom_ = _bloom(_logs);
        bytes memory extra;
        if (_type == 0x7e) extra = bytes.concat(RLPWriter.writeUint(_depositNonce), RLPWriter.writeUint(1));
        bytes memory payload = RLPWriter.writeListPayload(
            bytes.concat(
                RLPWriter.writeUint(_status ? 1 : 0),
                RLPWriter.writeUint(_cumulativeGas),
                RLPWriter.writeBytes(bloom_),
                _encodeLogs(_logs),
                extra
            )
        );
        receipt_ = _type == 0 ? payload : bytes.concat(bytes1(_type), payload);
    }

    /// @notice rlp([[address, [topics…], data], …]).
    function _encodeLogs(EvmLog[] calldata _logs) internal pure returns (bytes memory) {
        bytes memory all;
        for (uint256 i = 0; i < _logs.length; i++) {
            bytes memory topics;
            for (uint256 j = 0; j < _logs[i].topics.length; j++) {
                topics = bytes.concat(topics, RLPWriter.writeBytes32(_logs[i].topics[j]));
            }
            all = bytes.concat(
                all,
                RLPWriter.writeListPayload(
                    bytes.concat(
                        RLPWriter.writeAddress(_logs[i].addr),
                        RLPWriter.writeListPayload(topics),
                        RLPWriter.writeBytes(_logs[i].data)
                    )
                )
            );
        }
        return RLPWriter.writeListPayload(all);
    }

    /// @notice The 2048-bit bloom of the logs' addresses and topics (three bits per item, from keccak256's first
    ///         three 16-bit words, each mod 2048).
    function _bloom(EvmLog[] calldata _logs) internal pure returns (bytes memory bloom_) {
        bloom_ = new bytes(256);
        for (uint256 i = 0; i < _logs.length; i++) {
            _bloomAdd(bloom_, keccak256(abi.encodePacked(_logs[i].addr)));
            for (uint256 j = 0; j < _logs[i].topics.length; j++) {
                _bloomAdd(bloom_, keccak256(abi.encodePacked(_logs[i].topics[j])));
            }
        }
    }

    function _bloomAdd(bytes memory _bits, bytes32 _h) internal pure {
        for (uint256 i = 0; i < 3; i++) {
            uint256 bit = ((uint256(uint8(_h[2 * i])) << 8) | uint8(_h[2 * i + 1])) & 2047;
            uint256 at = 255 - bit / 8;
            _bits[at] = bytes1(uint8(_bits[at]) | uint8(1 << (bit % 8)));
        }
    }

}
