// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { RLPReader } from "../libraries/RLPReader.sol";
import { RLPWriter } from "../libraries/RLPWriter.sol";
import { StepFields } from "../libraries/StepFields.sol";

/// @notice A plain transfer's fields, whatever its envelope.
struct Transfer {
    address sender;
    address to;
    uint256 nonce;
    uint256 gasLimit;
    uint256 maxFee;
    uint256 maxPriorityFee;
    uint256 value;
    bool badSignature;
}

/// @title TransferDecoder
/// @notice Decodes a plain transfer (types 0 with or without EIP-155, 1 and 2) and recovers its sender, for
///         TxStepVerifier: its own contract so the verifier stays under EIP-170's code size limit (the verifier holds
///         its address as an immutable). Stateless; one deployment serves any chain (the chain id is an argument).
contract TransferDecoder {
    using RLPReader for RLPReader.Item;

    /// @notice secp256k1's order over 2 (EIP-2: higher `s` values are refused).
    uint256 internal constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// @notice As TxStepVerifier's: the transaction is valid but cannot be executed on L1 by this verifier.
    error NotProvableHere(uint8 txType, string reason);

    /// @notice The fields of a type `_type` (0, 1 or 2) transfer and its signer, recovered with ecrecover over the
    ///         re-encoded signing payload (the unsigned fields' raw encodings, re-listed). `badSignature` when the
    ///         chain id, `s` or the recovery fails (the block is then invalid). Reverts `NotProvableHere` for what is
    ///         not a plain transfer (creation, precompile recipient, calldata, access list).
    function decode(bytes memory _raw, uint8 _type, uint256 _chainId) external pure returns (Transfer memory t_) {
        RLPReader.Item[] memory f = StepFields.envelope(_raw, _type == 0 ? 0 : 1);
        // Field positions: legacy [nonce, gasPrice, gas, to, value, data, v, r, s]; 2930 [chainId, nonce, gasPrice,
        // gas, to, value, data, accessList, y, r, s]; 1559 [chainId, nonce, tip, feeCap, gas, to, value, data,
        // accessList, y, r, s].
        uint256 o = _type == 0 ? 0 : 1;
        uint256 fees = _type == 2 ? 2 : 1;
        if (f.length != (_type == 0 ? 9 : _type == 1 ? 11 : 12)) revert StepFields.BadStep();
        if (_type != 0 && StepFields.uintOf(f[0]) != _chainId) {
            t_.badSignature = true;
            return t_;
        }
        t_.nonce = StepFields.uintOf(f[o]);
        t_.maxPriorityFee = StepFields.uintOf(f[o + 1]);
        t_.maxFee = StepFields.uintOf(f[o + fees]);
        t_.gasLimit = StepFields.uintOf(f[o + fees + 1]);
        bytes memory to = f[o + fees + 2].readBytes();
        if (to.length == 0) revert NotProvableHere(_type, "creation");
        t_.to = StepFields.addressOf(to);
        if (StepFields.isLowAddress(t_.to)) revert NotProvableHere(_type, "precompile");
        t_.value = StepFields.uintOf(f[o + fees + 3]);
        if (f[o + fees + 4].readBytes().length != 0) revert NotProvableHere(_type, "calldata");
        if (_type != 0 && f[o + fees + 5].readRawBytes().length != 1) revert NotProvableHere(_type, "access list");
        t_.sender = _recover(f, _type, _chainId);
        t_.badSignature = t_.sender == address(0);
    }

    /// @notice The signer of a transfer, or zero when the signature is not valid (chain id, high s, no recovery).
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
}
