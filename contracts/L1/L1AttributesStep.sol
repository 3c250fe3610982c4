// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { MerkleTrieWriter } from "../libraries/MerkleTrieWriter.sol";
import { RLPReader } from "../libraries/RLPReader.sol";
import { RLPWriter } from "../libraries/RLPWriter.sol";
import { StateAccount } from "../libraries/StateAccount.sol";
import { StepFields } from "../libraries/StepFields.sol";

/// @title L1AttributesStep
/// @notice Executes the L1-attributes deposit (transaction 0 of every L2 block) for TxStepVerifier against proven
///         state, without an EVM: the call's callee is our own L1Block predeploy, fixed at genesis, whose runtime code
///         hash is an immutable here, so what the call does is known — `setL1BlockValuesIsthmus()` stores seven words
///         cut out of its calldata (contracts/L2/L1Block.sol) — and so is its gas: a fixed part for everything but the
///         SSTOREs (`SETTER_GAS`, an immutable measured from the compiled code and checked against the node's
///         executor) plus each SSTORE's EIP-2929/2200/3529 cost, which depends only on the slot's value before the
///         transaction (zero, the same, another). Anything else — another callee or selector, mint, value, a
///         different L1Block — reverts `NotProvableHere` (a general interpreter is issue 18's). It also judges the
///         block's L1 origin (`originValid`): OP's epoch rule between L1Block's values before and after, and the
///         origin's L1 header, given in the step, against the values the deposit stores and the L2 header's mixHash.
/// @dev    Its own contract, called by TxStepVerifier, to keep the verifier under EIP-170's size limit.
contract L1AttributesStep {
    using RLPReader for RLPReader.Item;

    /// @notice The system account the L1-attributes deposit comes from (L1Block's only accepted caller).
    address internal constant DEPOSITOR = 0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001;
    /// @notice The L1Block predeploy.
    address internal constant L1_BLOCK = 0x4200000000000000000000000000000000000015;
    /// @notice `setL1BlockValuesIsthmus()`: what every builder here writes (every OP fork is active from genesis).
    bytes4 internal constant SET_ISTHMUS = 0x098999be;
    /// @notice The Isthmus calldata's length, selector included.
    uint256 internal constant ISTHMUS_LENGTH = 176;
    /// @notice The deposit's gas limit since Regolith (op-node's `RegolithSystemTxGas`).
    uint256 internal constant DEPOSIT_GAS = 1_000_000;
    /// @notice The slots the setter writes (each once).
    uint256 internal constant SLOT_COUNT = 7;

    uint256 internal constant TX_GAS = 21_000;
    uint256 internal constant ZERO_BYTE_GAS = 4;
    uint256 internal constant NON_ZERO_BYTE_GAS = 16;
    /// @notice EIP-7623's floor: 10 gas per token, a zero byte one token, any other four.
    uint256 internal constant FLOOR_TOKEN_GAS = 10;
    /// @notice EIP-2929: the first access to a slot in a transaction.
    uint256 internal constant COLD_SLOAD = 2_100;
    /// @notice EIP-2200 with EIP-2929: a store of the value already there.
    uint256 internal constant SSTORE_NOOP = 100;
    /// @notice A store into a slot that was zero.
    uint256 internal constant SSTORE_SET = 20_000;
    /// @notice A store into a slot that held another non-zero value (5,000 less the cold access).
    uint256 internal constant SSTORE_RESET = 2_900;
    /// @notice EIP-3529: the refund for clearing a slot that held a value.
    uint256 internal constant CLEAR_REFUND = 4_800;
    /// @notice EIP-3529: at most a fifth of the gas used is refunded.
    uint256 internal constant MAX_REFUND_QUOTIENT = 5;

    /// @notice EIP-4844's minimum blob base fee (the factor of `fake_exponential`).
    uint256 internal constant MIN_BLOB_BASE_FEE = 1;
    /// @notice The L1 header fields the origin check reads (positions in the RLP list).
    uint256 internal constant L1_PARENT_HASH = 0;
    uint256 internal constant L1_NUMBER = 8;
    uint256 internal constant L1_TIMESTAMP = 11;
    uint256 internal constant L1_MIX_HASH = 13;
    uint256 internal constant L1_BASE_FEE = 15;
    uint256 internal constant L1_EXCESS_BLOB_GAS = 18;

    /// @notice keccak256 of L1Block's runtime code: the only callee this step interprets.
    bytes32 public immutable L1_BLOCK_CODE_HASH;
    /// @notice The setter's execution gas besides its SSTOREs (dispatch, caller check, calldata loads, shifts).
    uint256 public immutable SETTER_GAS;
    /// @notice The L1's blob base fee update fraction (EIP-7691's 5,007,716 from Prague; Osaka keeps it): the one the
    ///         node's attributes builder computes the deposit's blob base fee with (bridge/l1-fetch.ts).
    uint256 public immutable BLOB_BASE_FEE_UPDATE_FRACTION;
    /// @notice The rollup's genesis L1 block (number, hash): the L2 genesis block's origin, with sequence number 0, which
    ///         the first block's epoch rule starts from (L1Block is empty until that block's deposit).
    uint64 public immutable GENESIS_L1_NUMBER;
    bytes32 public immutable GENESIS_L1_HASH;

    /// @notice As TxStepVerifier's: the transaction is valid but cannot be executed on L1 by this verifier.
    error NotProvableHere(uint8 txType, string reason);
    /// @notice The origin's L1 header is needed (the epoch rule holds) and the one given does not hash to the L1 hash
    ///         the deposit stores. Reverts rather than judging: a real origin always has its header, so only a wrong
    ///         step input gets here.
    error BadOriginHeader();

    /// @param _l1BlockCodeHash keccak256 of L1Block's runtime code (the genesis alloc's).
    /// @param _setterGas       `setL1BlockValuesIsthmus()`'s execution gas besides its SSTOREs.
    /// @param _blobFeeFraction The L1's blob base fee update fraction.
    /// @param _genesisL1Number The rollup's genesis L1 block number.
    /// @param _genesisL1Hash   Its hash.
    constructor(
        bytes32 _l1BlockCodeHash,
        uint256 _setterGas,
        uint256 _blobFeeFraction,
        uint64 _genesisL1Number,
        bytes32 _genesisL1Hash
    ) {
        L1_BLOCK_CODE_HASH = _l1BlockCodeHash;
        SETTER_GAS = _setterGas;
        BLOB_BASE_FEE_UPDATE_FRACTION = _blobFeeFraction;
        GENESIS_L1_NUMBER = _genesisL1Number;
        GENESIS_L1_HASH = _genesisL1Hash;
    }

    /// @notice Applies the L1-attributes deposit `_raw` (its canonical 0x7E encoding) to the state with root `_root`.
    /// @param _proofs [0] the depositor's account proof; [1] L1Block's, against the root the depositor's write left;
    ///        [2 … 8] the proofs of slots 0, 1, 2, 3, 4, 7, 8 of L1Block's storage, each against the storage root the
    ///        previous slot's write left; [9] one entry per slot: the node `MerkleTrieWriter.remove` needs when the
    ///        slot is cleared and its branch collapses into a hash-referenced child, else empty; [10] the origin's L1
    ///        header (RLP) as its one entry, or no entry when the epoch rule already fails.
    /// @param _mixHash The L2 header's mixHash (its PREVRANDAO), which must be the origin's.
    /// @return root_ The state root after the deposit.
    /// @return gasUsed_ The deposit's gas (its receipt's share of the cumulative gas).
    /// @return depositNonce_ The depositor's nonce before it (the receipt's `depositNonce`).
    /// @return originValid_ Whether the block's L1 origin passes `originValid` (else the block is invalid).
    function execute(bytes32 _root, bytes memory _raw, bytes[][] memory _proofs, bytes32 _mixHash)
        external
        view
        returns (bytes32 root_, uint256 gasUsed_, uint256 depositNonce_, bool originValid_)
    {
        bytes memory data = _calldata(_raw);
        if (_proofs.length != SLOT_COUNT + 4 || _proofs[SLOT_COUNT + 2].length != SLOT_COUNT) revert StepFields.BadStep();
        // The depositor: its nonce moves, nothing else (no mint, no value, no fee for a deposit).
        (, StateAccount.Account memory depositor) = StateAccount.load(_root, DEPOSITOR, _proofs[0]);
        depositNonce_ = depositor.nonce;
        depositor.nonce += 1;
        root_ = StateAccount.store(_root, DEPOSITOR, depositor, _proofs[0]);
        Tally memory t;
        root_ = _call(root_, data, _proofs, t);
        gasUsed_ = gasUsed(data, t.gas, t.refund, SETTER_GAS);
        originValid_ = originValid(data, t.prior, _proofs[SLOT_COUNT + 3], _mixHash);
    }

    /// @notice Whether the L1 origin the deposit's calldata `_data` records may follow L1Block's values before it
    ///         (`_prior`, in `slotValue` order) in a block whose header has mixHash `_mixHash`:
    ///         1. OP's epoch rule: the same origin (number and hash) with the sequence number + 1, or the next L1 block
    ///            (number + 1) with sequence number 0 — a skipped L1 block is never valid. While L1Block was never
    ///            written (the first block after the L2 genesis) the previous origin is the rollup's genesis L1 block
    ///            with sequence number 0, as the sequencer and derivation take it.
    ///         2. The origin's header `_header[0]`, which must hash to the recorded L1 hash (else `BadOriginHeader`):
    ///            a child of the previous origin when the epoch moves on, and its number, timestamp, base fee, blob
    ///            base fee (`fake_exponential` of its excessBlobGas; 1 without blob fields) and mixHash are the ones
    ///            the deposit records and the L2 header carries.
    function originValid(bytes memory _data, uint256[SLOT_COUNT] memory _prior, bytes[] memory _header, bytes32 _mixHash)
        public
        view
        returns (bool)
    {
        (, uint256 times) = slotValue(_data, 0);
        (, uint256 hashWord) = slotValue(_data, 2);
        bytes32 prevHash = bytes32(_prior[2]);
        if (prevHash == bytes32(0)) (_prior[0], _prior[3], prevHash) = (GENESIS_L1_NUMBER, 0, GENESIS_L1_HASH);
        bool advance;
        {
            (, uint256 scalars) = slotValue(_data, 3);
            uint64 sequence = uint64(scalars);
            if (uint64(times) == uint64(_prior[0]) && bytes32(hashWord) == prevHash && sequence == uint64(_prior[3]) + 1) {
                advance = false;
            } else if (uint64(times) == uint64(_prior[0]) + 1 && sequence == 0) {
                advance = true;
            } else {
                return false;
            }
        }
        if (_header.length != 1 || keccak256(_header[0]) != bytes32(hashWord)) revert BadOriginHeader();
        OriginHeader memory h = _readOrigin(_header[0]);
        if (!h.ok || (advance && h.parentHash != prevHash)) return false;
        (, uint256 l1BaseFee) = slotValue(_data, 1);
        (, uint256 blobBaseFee) = slotValue(_data, 5);
        return h.number == uint64(times) && h.timestamp == uint64(times >> 64) && h.baseFee == l1BaseFee
            && h.mixHash == _mixHash && h.blobBaseFee == blobBaseFee;
    }

    /// @notice The origin header's fields `originValid` compares; ok = false when one is malformed.
    struct OriginHeader {
        bool ok;
        bytes32 parentHash;
        bytes32 mixHash;
        uint256 number;
        uint256 timestamp;
        uint256 baseFee;
        uint256 blobBaseFee;
    }

    function _readOrigin(bytes memory _rlp) internal view returns (OriginHeader memory h_) {
        RLPReader.Item[] memory f = RLPReader.readLongList(RLPReader.toItem(_rlp));
        if (f.length <= L1_BASE_FEE) return h_;
        bool ok;
        bool fine;
        (h_.parentHash, ok) = StepFields.word(f[L1_PARENT_HASH]);
        (h_.mixHash, fine) = StepFields.word(f[L1_MIX_HASH]);
        ok = ok && fine;
        (h_.number, fine) = StepFields.canonicalUint(f[L1_NUMBER]);
        ok = ok && fine;
        (h_.timestamp, fine) = StepFields.canonicalUint(f[L1_TIMESTAMP]);
        ok = ok && fine;
        (h_.baseFee, fine) = StepFields.canonicalUint(f[L1_BASE_FEE]);
        h_.ok = ok && fine;
        h_.blobBaseFee = _blobBaseFee(f);
    }

    /// @notice The header's blob base fee: `fake_exponential(1, excessBlobGas, fraction)` (EIP-4844), 1 without blob
    ///         fields (bridge/l1-fetch.ts's `blobBaseFeeOf`); max uint for a malformed field (no fee equals it).
    function _blobBaseFee(RLPReader.Item[] memory _f) internal view returns (uint256) {
        if (_f.length <= L1_EXCESS_BLOB_GAS) return MIN_BLOB_BASE_FEE;
        (uint256 excess, bool ok) = StepFields.canonicalUint(_f[L1_EXCESS_BLOB_GAS]);
        if (!ok || excess > type(uint64).max) return type(uint256).max;
        return fakeExponential(MIN_BLOB_BASE_FEE, excess, BLOB_BASE_FEE_UPDATE_FRACTION);
    }

    /// @notice EIP-4844's integer approximation of `_factor · e^(_numerator / _denominator)`.
    function fakeExponential(uint256 _factor, uint256 _numerator, uint256 _denominator) public pure returns (uint256) {
        uint256 output;
        uint256 accumulator = _factor * _denominator;
        for (uint256 i = 1; accumulator > 0; i++) {
            output += accumulator;
            accumulator = accumulator * _numerator / (_denominator * i);
        }
        return output / _denominator;
    }

    /// @notice The deposit's gas as the node's executor reports it (execution/deposit.ts): intrinsic gas, plus the
    ///         setter's fixed part and its SSTOREs, less the EIP-3529-capped refund, at least EIP-7623's floor.
    function gasUsed(bytes memory _data, uint256 _storeGas, uint256 _refund, uint256 _setterGas)
        public
        pure
        returns (uint256 gas_)
    {
        uint256 tokens;
        gas_ = TX_GAS + _setterGas + _storeGas;
        for (uint256 i = 0; i < _data.length; i++) {
            if (_data[i] == 0) {
                gas_ += ZERO_BYTE_GAS;
                tokens += 1;
            } else {
                gas_ += NON_ZERO_BYTE_GAS;
                tokens += 4;
            }
        }
        uint256 cap = gas_ / MAX_REFUND_QUOTIENT;
        gas_ -= _refund < cap ? _refund : cap;
        uint256 floor = TX_GAS + FLOOR_TOKEN_GAS * tokens;
        if (gas_ < floor) gas_ = floor;
    }

    /// @notice The deposit's calldata, after checking the transaction is the L1-attributes deposit every builder here
    ///         writes: from the depositor to L1Block, no mint, no value, Regolith's gas, not a system transaction,
    ///         `setL1BlockValuesIsthmus()` with its exact length. (The setter then cannot fail: the caller is the
    ///         depositor and the gas covers any prior values.)
    function _calldata(bytes memory _raw) internal pure returns (bytes memory data_) {
        RLPReader.Item[] memory f = StepFields.envelope(_raw, 1);
        if (f.length != 8) revert StepFields.BadStep();
        data_ = f[7].readBytes();
        bool shaped = StepFields.addressOf(f[1].readBytes()) == DEPOSITOR
            && StepFields.addressOf(f[2].readBytes()) == L1_BLOCK && StepFields.uintOf(f[3]) == 0 && StepFields.uintOf(f[4]) == 0
            && StepFields.uintOf(f[5]) == DEPOSIT_GAS && f[6].readBytes().length == 0 && data_.length == ISTHMUS_LENGTH
            && bytes4(data_) == SET_ISTHMUS;
        if (!shaped) revert NotProvableHere(0x7e, "calldata");
    }

    /// @notice The SSTOREs' gas and refund so far, and each slot's value before (`last`: the latest store's).
    struct Tally {
        uint256 gas;
        uint256 refund;
        uint256 last;
        uint256[SLOT_COUNT] prior;
    }

    /// @notice The call into L1Block, given the state root after the depositor's write: its code checked, its seven
    ///         slots written. Returns the state root after it; the SSTOREs' gas, refund and prior values go to `_t`.
    function _call(bytes32 _root, bytes memory _data, bytes[][] memory _proofs, Tally memory _t)
        internal
        view
        returns (bytes32 root_)
    {
        (bool exists, StateAccount.Account memory l1Block) = StateAccount.load(_root, L1_BLOCK, _proofs[1]);
        if (!exists || l1Block.codeHash != L1_BLOCK_CODE_HASH) revert NotProvableHere(0x7e, "l1 block code");
        for (uint256 i = 0; i < SLOT_COUNT; i++) {
            (uint256 slot, uint256 value) = slotValue(_data, i);
            l1Block.storageRoot = _sstore(l1Block.storageRoot, slot, value, _proofs[i + 2], _proofs[SLOT_COUNT + 2][i], _t);
            _t.prior[i] = _t.last;
        }
        root_ = StateAccount.store(_root, L1_BLOCK, l1Block, _proofs[1]);
    }

    /// @notice One SSTORE of `_value` into `_slot`, the first access to it in the transaction (EIP-2929 cold), from
    ///         the value before proven by `_proof` against the storage root `_root`: returns the new storage root and
    ///         adds its gas and refund (EIP-2200, EIP-3529) to `_t` and sets `_t.last` to the value before.
    function _sstore(
        bytes32 _root,
        uint256 _slot,
        uint256 _value,
        bytes[] memory _proof,
        bytes memory _sibling,
        Tally memory _t
    ) internal pure returns (bytes32) {
        bytes memory key = abi.encodePacked(keccak256(abi.encode(_slot)));
        bytes memory next = RLPWriter.writeUint(_value);
        bool exists;
        bool same;
        {
            bytes memory prior;
            (exists, prior) = MerkleTrieWriter.get(key, _proof, _root);
            _t.last = exists ? StepFields.uintOf(RLPReader.toItem(prior)) : 0;
            same = exists ? _value != 0 && keccak256(prior) == keccak256(next) : _value == 0;
        }
        _t.gas += COLD_SLOAD;
        if (same) {
            _t.gas += SSTORE_NOOP;
            return _root;
        }
        if (!exists) {
            _t.gas += SSTORE_SET;
            return MerkleTrieWriter.update(key, next, _proof, _root);
        }
        _t.gas += SSTORE_RESET;
        if (_value != 0) return MerkleTrieWriter.update(key, next, _proof, _root);
        _t.refund += CLEAR_REFUND;
        return MerkleTrieWriter.remove(key, _withSibling(_proof, _sibling), _root);
    }

    /// @notice The `_i`-th slot the setter writes (ascending: 0, 1, 2, 3, 4, 7, 8) and its value out of the Isthmus
    ///         calldata, as L1Block.sol's assembly cuts it: slot 0 bytes 20–35 (timestamp ‖ number), 1 the L1 base
    ///         fee, 2 the L1 hash, 3 bytes 4–19 (base fee scalar ‖ blob base fee scalar ‖ sequence number), 4 the
    ///         batcher hash, 7 the blob base fee, 8 bytes 164–175 (operator fee scalar ‖ constant).
    function slotValue(bytes memory _data, uint256 _i) public pure returns (uint256 slot_, uint256 value_) {
        uint256 offset;
        uint256 shift;
        if (_i == 0) (slot_, offset, shift) = (0, 20, 128);
        else if (_i == 1) (slot_, offset, shift) = (1, 36, 0);
        else if (_i == 2) (slot_, offset, shift) = (2, 100, 0);
        else if (_i == 3) (slot_, offset, shift) = (3, 4, 128);
        else if (_i == 4) (slot_, offset, shift) = (4, 132, 0);
        else if (_i == 5) (slot_, offset, shift) = (7, 68, 0);
        else (slot_, offset, shift) = (8, 164, 160);
        if (offset + 32 - shift / 8 > _data.length) revert StepFields.BadStep();
        assembly ("memory-safe") {
            value_ := shr(shift, mload(add(add(_data, 0x20), offset)))
        }
    }

    /// @notice `_proof` followed by `_sibling` when there is one.
    function _withSibling(bytes[] memory _proof, bytes memory _sibling) internal pure returns (bytes[] memory out_) {
        if (_sibling.length == 0) return _proof;
        out_ = new bytes[](_proof.length + 1);
        for (uint256 i = 0; i < _proof.length; i++) {
            out_[i] = _proof[i];
        }
        out_[_proof.length] = _sibling;
    }
}
