// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    EvmAccount,
    EvmBlock,
    EvmBlockHash,
    EvmMessage,
    EvmResult,
    EvmSlot,
    EvmSlotKey,
    IEvmInterpreter
} from "../libraries/EvmTypes.sol";
import { PartialTrie } from "../libraries/PartialTrie.sol";
import { RLPReader } from "../libraries/RLPReader.sol";
import { RLPWriter } from "../libraries/RLPWriter.sol";
import { DecodedTx, EvmTxCodec, TxAuthorization } from "./EvmTxCodec.sol";

/// @title ContractTxStep
/// @notice The transaction-level step of ANY L2 transaction (issue 18): from the state root before it, proves the
///         accounts, slots and block hashes it touches out of ONE deduplicated trie node set (PartialTrie), does the
///         transaction-level work ethereumjs's runTx does (validity, nonce bump, gas purchase, EIP-7702
///         authorizations, warm sets), runs the message on `INTERPRETER` (IEvmInterpreter), then settles (refund cap,
///         EIP-7623 floor, unspent gas back, tip to the coinbase, base fee burned, EIP-161 cleanup) and writes what
///         changed back into the tries: the post-state root, the gas used and the consensus receipt. OP deposits
///         (0x7e) follow src/execution/deposit.ts: the mint is kept whatever happens, no signature, nonce or fee, an
///         invalid deposit only bumps the nonce and uses its whole gas limit.
///         Mirrors src/prover/trace/contract-step-proof.ts, which builds the arguments.
/// @dev    Helper contracts (immutables) keep it under EIP-170: `CODEC` (decoding, signatures, intrinsic gas) and
///         the interpreter.
contract ContractTxStep {
    using RLPReader for RLPReader.Item;

    /// @notice An account the transaction touches, with its code (which must hash to the proven code hash).
    struct StepAccount {
        address addr;
        bytes code;
    }

    /// @notice Everything the step reads. `blockNumbers`: the blocks whose hashes BLOCKHASH may ask for, proven
    ///         from EIP-2935's history contract storage (slot n % 8191) in the pre-state.
    struct StepInput {
        bytes32 preRoot;
        address coinbase;
        uint64 number;
        uint64 timestamp;
        uint64 gasLimit;
        uint256 baseFee;
        uint256 blobBaseFee;
        bytes32 prevRandao;
        uint64 cumulativeGasUsed;
        bytes rawTx;
        bytes[] nodes;
        StepAccount[] accounts;
        EvmSlotKey[] slots;
        uint64[] blockNumbers;
    }

    /// @notice The step's verdict. `valid == false`: the block cannot include the transaction (the other fields are
    ///         then zero). `gasUsed`: the transaction's; `receipt`: the consensus encoding (typed) with the
    ///         cumulative gas; `logsBloom`: the transaction's own bloom.
    struct StepOutput {
        bool valid;
        bytes32 postRoot;
        uint64 gasUsed;
        bytes receipt;
        bytes logsBloom;
    }

    /// @notice The proven tables and the tries they came from.
    struct State {
        PartialTrie.Trie trie;
        EvmAccount[] accounts;
        bytes32[] storageRoots;
        /// @dev Per account, its storage trie once a slot of it was read (kept for the writes: decoded once).
        PartialTrie.Trie[] tries;
        bool[] existed;
        bytes32[] original;
        uint256[] slotOwner;
        EvmSlot[] slots;
        bytes32[] slotOriginal;
        bool[] touched;
        address[] warm;
        uint256 warmCount;
    }

    /// @notice Settlement figures of a transaction.
    struct Gas {
        uint256 price;
        uint256 used;
        uint256 refund;
        uint256 sender;
        uint256 coinbase;
    }

    bytes32 internal constant EMPTY_TRIE_ROOT = 0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421;
    bytes32 internal constant EMPTY_CODE_HASH = 0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470;
    /// @notice EIP-2935's history contract and its ring size.
    address internal constant HISTORY = 0x0000F90827F1C53a10cb7A02335B175320002935;
    uint256 internal constant HISTORY_SERVE_WINDOW = 8191;
    /// @notice EIP-7825 (Osaka): the most gas a transaction may ask for.
    uint256 internal constant TX_GAS_CAP = 1 << 24;
    /// @notice EIP-7702: refunded per authorization whose authority already exists (25,000 − 12,500).
    uint256 internal constant AUTH_EXISTING_REFUND = 12_500;

    /// @notice The chain's id (signatures, EIP-7702 authorizations, CHAINID).
    uint256 public immutable CHAIN_ID;
    /// @notice The message interpreter.
    IEvmInterpreter public immutable INTERPRETER;
    /// @notice The transaction codec (decoding, signatures, intrinsic gas, receipts).
    EvmTxCodec public immutable CODEC;

    /// @notice An account's code does not hash to its proven code hash (or an absent account was given code).
    error BadCode(address addr);
    /// @notice An address the transaction-level work needs is not in the accounts table, or is twice in it.
    error BadAccounts(address addr);
    /// @notice A slot of the table belongs to no account of the table, or is twice in it.
    error BadSlots(address addr, bytes32 key);
    /// @notice A block number outside the 256 before the current block (BLOCKHASH reads no other).
    error BadBlockNumber(uint64 number);

    /// @param _chainId The L2's chain id.
    /// @param _interpreter The message interpreter.
    /// @param _codec The transaction codec.
    constructor(uint256 _chainId, IEvmInterpreter _interpreter, EvmTxCodec _codec) {
        CHAIN_ID = _chainId;
        INTERPRETER = _interpreter;
        CODEC = _codec;
    }

    /// @notice Executes the transaction `_in.rawTx` over the state `_in.preRoot` in the block `_in`.
    /// @dev    Reverts (a wrong input, not a verdict) when the node set lacks a node a walk needs
    ///         (`PartialTrie_MissingNode`), a code does not match its hash (`BadCode`), a table misses an entry the
    ///         execution needs (`BadAccounts`, `BadSlots`, the interpreter's `Missing*`).
    /// @param _in The pre-state root, the block context, the transaction and its witness.
    /// @return out_ Whether the block may include it; if so, the post-state root, its gas, receipt and bloom.
    function execute(StepInput calldata _in) external view returns (StepOutput memory out_) {
        DecodedTx memory t = CODEC.decode(_in.rawTx, CHAIN_ID);
        if (t.txType != 0x7e && !_statelessValid(t, _in)) return out_;
        State memory s = _load(_in);
        return t.txType == 0x7e ? _deposit(_in, t, s) : _transaction(_in, t, s);
    }

    /// @notice A deposit (deposit.ts): the mint first and kept; an invalid one only bumps the nonce and uses its
    ///         whole gas limit; else the message at gas price zero, no fees.
    function _deposit(StepInput calldata _in, DecodedTx memory _t, State memory _s)
        internal
        view
        returns (StepOutput memory)
    {
        uint256 si = _index(_s, _t.sender);
        EvmAccount memory sender = _s.accounts[si];
        _s.touched[si] = true;
        uint256 nonce = sender.nonce;
        sender.balance += _t.mint;
        if (
            _t.invalid || _t.isSystemTx || _t.intrinsicGas > _t.gasLimit || _t.floorGas > _t.gasLimit
                || _t.value > sender.balance
        ) {
            sender.nonce += 1;
            sender.exists = true;
            return _finish(_in, _s, _t, _invalidDeposit(_t), nonce, _t.gasLimit);
        }
        (EvmResult memory r, Gas memory g) = _run(_in, _t, _s, 0);
        return _finish(_in, _s, _t, r, nonce, g.used);
    }

    /// @notice A signed transaction: runTx's sender checks, the gas purchase, then the message and the settlement.
    function _transaction(StepInput calldata _in, DecodedTx memory _t, State memory _s)
        internal
        view
        returns (StepOutput memory out_)
    {
        uint256 si = _index(_s, _t.sender);
        EvmAccount memory sender = _s.accounts[si];
        if (!_senderValid(_t, sender)) return out_;
        _s.touched[si] = true;
        uint256 price = _t.txType >= 2 ? _effectivePrice(_t, _in.baseFee) : _t.maxFee;
        sender.balance -= _t.gasLimit * price;
        (EvmResult memory r, Gas memory g) = _run(_in, _t, _s, price);
        _settle(_s, _t, _in, g);
        _cleanup(_s);
        return _finish(_in, _s, _t, r, 0, g.used);
    }

    /// @notice The nonce bump, the warm sets, EIP-7702's authorizations (signed transactions), the message on the
    ///         interpreter, and its gas: the refund capped at a fifth, the EIP-7623 floor.
    function _run(StepInput calldata _in, DecodedTx memory _t, State memory _s, uint256 _price)
        internal
        view
        returns (EvmResult memory r_, Gas memory g_)
    {
        EvmAccount memory sender = _s.accounts[_index(_s, _t.sender)];
        EvmMessage memory m = _message(_s, _t, _in, _price, sender.nonce);
        sender.nonce += 1;
        sender.exists = true;
        g_.price = _price;
        if (_t.txType != 0x7e) g_.refund = _authorize(_s, _t);
        _warmDelegation(_s, m);
        m.warmAddresses = _warmList(_s);
        r_ = _interpret(abi.encodeCall(IEvmInterpreter.execute, (_block(_in), m, _s.accounts, _s.slots, _blockHashes(_s, _in))));
        _adopt(_s, r_);
        g_.used = _t.intrinsicGas + (m.gas - r_.gasLeft);
        g_.refund += r_.refund;
        if (g_.refund > g_.used / 5) g_.refund = g_.used / 5;
        g_.used -= g_.refund;
        if (g_.used < _t.floorGas) g_.used = _t.floorGas;
        if (_t.txType == 0x7e) _cleanup(_s);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Validity

    /// @notice The checks that need no state: the decoder's, EIP-7825's cap, the block's remaining gas, the fee cap
    ///         against the base fee.
    function _statelessValid(DecodedTx memory _t, StepInput calldata _in) internal pure returns (bool) {
        if (_t.invalid || _t.gasLimit > TX_GAS_CAP) return false;
        if (_in.cumulativeGasUsed + _t.gasLimit > _in.gasLimit) return false;
        return _t.maxFee >= _in.baseFee;
    }

    /// @notice runTx's checks on the sender: EIP-3607 (code other than a delegation), funds for the value and the
    ///         gas limit at the fee cap, the nonce.
    function _senderValid(DecodedTx memory _t, EvmAccount memory _sender) internal pure returns (bool) {
        if (_sender.code.length != 0 && !_isDelegation(_sender.code)) return false;
        // value + gasLimit × feeCap, compared without overflowing (a cost beyond 2^256 is beyond any balance);
        // gasLimit is at least 21,000 here (intrinsic gas).
        if (_t.maxFee > (type(uint256).max - _t.value) / _t.gasLimit) return false;
        if (_sender.balance < _t.value + _t.gasLimit * _t.maxFee) return false;
        return _sender.nonce == _t.nonce && _t.nonce < type(uint64).max;
    }

    function _effectivePrice(DecodedTx memory _t, uint256 _baseFee) internal pure returns (uint256) {
        uint256 tip = _t.maxFee - _baseFee;
        if (_t.maxPriorityFee < tip) tip = _t.maxPriorityFee;
        return _baseFee + tip;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Loading the tables

    /// @notice Proves every account (and its code) and slot of the tables against the pre-state root.
    function _load(StepInput calldata _in) internal pure returns (State memory s_) {
        s_.trie = PartialTrie.load(_in.preRoot, _in.nodes);
        uint256 n = _in.accounts.length;
        s_.accounts = new EvmAccount[](n);
        s_.storageRoots = new bytes32[](n);
        s_.existed = new bool[](n);
        s_.touched = new bool[](n);
        s_.warm = new address[](32 + n);
        s_.original = new bytes32[](n);
        for (uint256 i = 0; i < n; i++) {
            StepAccount calldata a = _in.accounts[i];
            for (uint256 j = 0; j < i; j++) {
                if (s_.accounts[j].addr == a.addr) revert BadAccounts(a.addr);
            }
            (bool exists, bytes memory rlp) = PartialTrie.get(s_.trie, _accountKey(a.addr));
            EvmAccount memory acc = s_.accounts[i];
            acc.addr = a.addr;
            acc.code = a.code;
            bytes32 codeHash = EMPTY_CODE_HASH;
            s_.storageRoots[i] = EMPTY_TRIE_ROOT;
            if (exists) {
                RLPReader.Item[] memory f = RLPReader.toItem(rlp).readList();
                acc.exists = true;
                acc.nonce = uint64(_uint(f[0]));
                acc.balance = _uint(f[1]);
                s_.storageRoots[i] = bytes32(f[2].readBytes());
                codeHash = bytes32(f[3].readBytes());
                acc.hasStorage = s_.storageRoots[i] != EMPTY_TRIE_ROOT;
                s_.existed[i] = true;
                s_.original[i] = keccak256(rlp);
            }
            if (keccak256(a.code) != codeHash) revert BadCode(a.addr);
        }
        _loadSlots(s_, _in);
    }

    function _loadSlots(State memory _s, StepInput calldata _in) internal pure {
        uint256 n = _in.slots.length;
        _s.slots = new EvmSlot[](n);
        _s.slotOriginal = new bytes32[](n);
        _s.slotOwner = new uint256[](n);
        PartialTrie.Trie[] memory tries = new PartialTrie.Trie[](_s.accounts.length);
        _s.tries = tries;
        for (uint256 i = 0; i < n; i++) {
            EvmSlotKey calldata k = _in.slots[i];
            for (uint256 j = 0; j < i; j++) {
                if (_s.slots[j].addr == k.addr && _s.slots[j].key == k.key) revert BadSlots(k.addr, k.key);
            }
            uint256 owner = _find(_s, k.addr);
            if (owner == type(uint256).max) revert BadSlots(k.addr, k.key);
            _s.slotOwner[i] = owner;
            if (tries[owner].hashes.length == 0) tries[owner] = PartialTrie.withRoot(_s.trie, _s.storageRoots[owner]);
            bytes32 value = _slotValue(tries[owner], k.key);
            _s.slots[i] = EvmSlot({ addr: k.addr, key: k.key, value: value });
            _s.slotOriginal[i] = value;
        }
    }

    function _slotValue(PartialTrie.Trie memory _t, bytes32 _key) internal pure returns (bytes32) {
        (bool exists, bytes memory rlp) = PartialTrie.get(_t, abi.encodePacked(keccak256(abi.encode(_key))));
        if (!exists) return bytes32(0);
        return bytes32(_uint(RLPReader.toItem(rlp)));
    }

    /// @notice The hashes of `_in.blockNumbers`, from EIP-2935's ring in the pre-state (block n at slot n % 8191,
    ///         which holds block n for the 8,191 blocks before the current one; BLOCKHASH reads the last 256).
    function _blockHashes(State memory _s, StepInput calldata _in) internal pure returns (EvmBlockHash[] memory h_) {
        uint256 n = _in.blockNumbers.length;
        h_ = new EvmBlockHash[](n);
        if (n == 0) return h_;
        (bool exists, bytes memory rlp) = PartialTrie.get(_s.trie, _accountKey(HISTORY));
        bytes32 root = EMPTY_TRIE_ROOT;
        if (exists) root = bytes32(RLPReader.toItem(rlp).readList()[2].readBytes());
        PartialTrie.Trie memory t = PartialTrie.withRoot(_s.trie, root);
        for (uint256 i = 0; i < n; i++) {
            uint64 number = _in.blockNumbers[i];
            if (number >= _in.number || number + 256 < _in.number) revert BadBlockNumber(number);
            h_[i] = EvmBlockHash({ number: number, hash: _slotValue(t, bytes32(uint256(number) % HISTORY_SERVE_WINDOW)) });
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // The message

    function _block(StepInput calldata _in) internal view returns (EvmBlock memory) {
        return EvmBlock({
            coinbase: _in.coinbase,
            number: _in.number,
            timestamp: _in.timestamp,
            gasLimit: _in.gasLimit,
            baseFee: _in.baseFee,
            blobBaseFee: _in.blobBaseFee,
            prevRandao: _in.prevRandao,
            chainId: CHAIN_ID
        });
    }

    /// @notice The message, and the warm set as runTx starts it: the precompiles, the sender, the recipient, the
    ///         coinbase (EIP-3651) and the access list (EIP-2930).
    function _message(State memory _s, DecodedTx memory _t, StepInput calldata _in, uint256 _price, uint256 _nonce)
        internal
        pure
        returns (EvmMessage memory m_)
    {
        m_.origin = _t.sender;
        m_.gasPrice = _price;
        m_.caller = _t.sender;
        m_.to = _t.to;
        m_.isCreate = _t.isCreate;
        m_.createNonce = uint64(_nonce);
        m_.value = _t.value;
        m_.data = _t.data;
        m_.gas = uint64(_t.gasLimit - _t.intrinsicGas);
        m_.warmSlots = _t.accessSlots;
        for (uint256 i = 1; i <= 0x11; i++) {
            _warmAdd(_s, address(uint160(i)));
        }
        _warmAdd(_s, address(0x100));
        _warmAdd(_s, _t.sender);
        if (!_t.isCreate) _warmAdd(_s, _t.to);
        _warmAdd(_s, _in.coinbase);
        for (uint256 i = 0; i < _t.accessAddresses.length; i++) {
            _warmAdd(_s, _t.accessAddresses[i]);
        }
    }

    /// @notice EIP-7702's authorizations, in order, as runTx's processAuthorizationList: a tuple whose signature
    ///         recovers warms its authority; one whose authority has code other than a delegation, or another nonce,
    ///         is skipped; else the authority's nonce is bumped and its code set to 0xef0100 ‖ target (cleared for
    ///         target zero), with 12,500 gas refunded when the authority existed. Returns the refund.
    function _authorize(State memory _s, DecodedTx memory _t) internal pure returns (uint256 refund_) {
        for (uint256 i = 0; i < _t.auths.length; i++) {
            TxAuthorization memory a = _t.auths[i];
            if (a.authority == address(0)) continue;
            _warmAdd(_s, a.authority);
            uint256 k = _index(_s, a.authority);
            EvmAccount memory acc = _s.accounts[k];
            if (acc.code.length != 0 && !_isDelegation(acc.code)) continue;
            if (acc.nonce != a.nonce) continue;
            if (acc.exists) refund_ += AUTH_EXISTING_REFUND;
            acc.exists = true;
            acc.nonce += 1;
            acc.code = a.target == address(0) ? bytes("") : abi.encodePacked(hex"ef0100", a.target);
            _s.touched[k] = true;
        }
    }

    /// @notice The interpreter's result for the encoded call (its revert bubbles up: a missing table entry).
    function _interpret(bytes memory _call) internal view returns (EvmResult memory) {
        (bool ok, bytes memory ret) = address(INTERPRETER).staticcall(_call);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return abi.decode(ret, (EvmResult));
    }

    /// @notice A delegated recipient's target is warm from the start (ethereumjs warms it as it loads the code).
    function _warmDelegation(State memory _s, EvmMessage memory _m) internal pure {
        if (_m.isCreate) return;
        uint256 k = _find(_s, _m.to);
        if (k == type(uint256).max) return;
        bytes memory code = _s.accounts[k].code;
        if (_isDelegation(code)) {
            address target;
            assembly ("memory-safe") {
                target := shr(96, mload(add(code, 0x23)))
            }
            _warmAdd(_s, target);
        }
    }

    function _warmAdd(State memory _s, address _a) internal pure {
        for (uint256 i = 0; i < _s.warmCount; i++) {
            if (_s.warm[i] == _a) return;
        }
        if (_s.warmCount == _s.warm.length) {
            address[] memory grown = new address[](_s.warm.length * 2);
            for (uint256 i = 0; i < _s.warmCount; i++) {
                grown[i] = _s.warm[i];
            }
            _s.warm = grown;
        }
        _s.warm[_s.warmCount++] = _a;
    }

    function _warmList(State memory _s) internal pure returns (address[] memory w_) {
        w_ = _s.warm;
        uint256 n = _s.warmCount;
        assembly ("memory-safe") {
            mstore(w_, n)
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // After the message

    /// @notice Takes the interpreter's tables after the message; its touched marks join the step's own.
    function _adopt(State memory _s, EvmResult memory _r) internal pure {
        _s.accounts = _r.accounts;
        _s.slots = _r.slots;
        for (uint256 i = 0; i < _r.touched.length; i++) {
            if (_r.touched[i]) _s.touched[i] = true;
        }
    }

    /// @notice Unspent gas back to the sender, the tip to the coinbase (touched even when it earns nothing, as
    ///         runTx's updateMinerBalance); the base fee is burned.
    function _settle(State memory _s, DecodedTx memory _t, StepInput calldata _in, Gas memory _g) internal pure {
        EvmAccount memory sender = _s.accounts[_index(_s, _t.sender)];
        sender.balance += (_t.gasLimit - _g.used) * _g.price;
        uint256 c = _index(_s, _in.coinbase);
        EvmAccount memory coinbase = _s.accounts[c];
        coinbase.balance += _g.used * (_g.price - _in.baseFee);
        coinbase.exists = true;
        _s.touched[c] = true;
    }

    /// @notice EIP-161: a touched account left empty (no nonce, balance or code) is deleted.
    function _cleanup(State memory _s) internal pure {
        for (uint256 i = 0; i < _s.accounts.length; i++) {
            EvmAccount memory a = _s.accounts[i];
            if (_s.touched[i] && a.exists && a.nonce == 0 && a.balance == 0 && a.code.length == 0) a.exists = false;
        }
    }

    /// @notice An invalid deposit's result: nothing ran, its whole gas limit used, status 0.
    function _invalidDeposit(DecodedTx memory _t) internal pure returns (EvmResult memory r_) {
        r_.gasLeft = uint64(_t.gasLimit);
    }

    /// @notice Writes the tables into the tries and builds the receipt.
    function _finish(
        StepInput calldata _in,
        State memory _s,
        DecodedTx memory _t,
        EvmResult memory _r,
        uint256 _nonce,
        uint256 _gasUsed
    ) internal view returns (StepOutput memory out_) {
        out_.valid = true;
        out_.postRoot = _write(_s);
        out_.gasUsed = uint64(_gasUsed);
        (out_.receipt, out_.logsBloom) =
            CODEC.receipt(_t.txType, _r.success, _in.cumulativeGasUsed + _gasUsed, _r.logs, _nonce);
    }

    /// @notice The writes, in the order contract-step-proof.ts builds the witness for: per account of the table,
    ///         its changed slots (table order) into its storage trie, then the account into the state trie (or its
    ///         deletion).
    function _write(State memory _s) internal pure returns (bytes32) {
        for (uint256 i = 0; i < _s.accounts.length; i++) {
            EvmAccount memory a = _s.accounts[i];
            if (!a.exists) {
                if (_s.existed[i]) PartialTrie.remove(_s.trie, _accountKey(a.addr));
                continue;
            }
            bytes32 storageRoot = _writeStorage(_s, i);
            bytes memory encoded = RLPWriter.writeListPayload(
                bytes.concat(
                    RLPWriter.writeUint(a.nonce),
                    RLPWriter.writeUint(a.balance),
                    RLPWriter.writeBytes32(storageRoot),
                    RLPWriter.writeBytes32(keccak256(a.code))
                )
            );
            // Unchanged accounts are not rewritten (same root, less hashing).
            if (keccak256(encoded) != _s.original[i]) PartialTrie.update(_s.trie, _accountKey(a.addr), encoded);
        }
        return PartialTrie.root(_s.trie);
    }

    function _writeStorage(State memory _s, uint256 _account) internal pure returns (bytes32) {
        PartialTrie.Trie memory t;
        bool changed;
        for (uint256 j = 0; j < _s.slots.length; j++) {
            if (_s.slotOwner[j] != _account || _s.slots[j].value == _s.slotOriginal[j]) continue;
            if (!changed) {
                // The trie the slot was read through (its nodes decoded already).
                t = _s.tries[_account];
                changed = true;
            }
            bytes memory key = abi.encodePacked(keccak256(abi.encode(_s.slots[j].key)));
            bytes32 value = _s.slots[j].value;
            if (value == bytes32(0)) PartialTrie.remove(t, key);
            else PartialTrie.update(t, key, RLPWriter.writeUint(uint256(value)));
        }
        return changed ? PartialTrie.root(t) : _s.storageRoots[_account];
    }

    // ------------------------------------------------------------------------------------------------------------
    // Helpers

    function _find(State memory _s, address _a) internal pure returns (uint256) {
        for (uint256 i = 0; i < _s.accounts.length; i++) {
            if (_s.accounts[i].addr == _a) return i;
        }
        return type(uint256).max;
    }

    function _index(State memory _s, address _a) internal pure returns (uint256 i_) {
        i_ = _find(_s, _a);
        if (i_ == type(uint256).max) revert BadAccounts(_a);
    }

    function _isDelegation(bytes memory _code) internal pure returns (bool) {
        return _code.length == 23 && _code[0] == 0xef && _code[1] == 0x01 && _code[2] == 0x00;
    }

    function _accountKey(address _a) internal pure returns (bytes memory) {
        return abi.encodePacked(keccak256(abi.encodePacked(_a)));
    }

    function _uint(RLPReader.Item memory _item) internal pure returns (uint256 v_) {
        bytes memory b = _item.readBytes();
        if (b.length > 32) revert BadCode(address(0));
        for (uint256 i = 0; i < b.length; i++) {
            v_ = (v_ << 8) | uint8(b[i]);
        }
    }
}
