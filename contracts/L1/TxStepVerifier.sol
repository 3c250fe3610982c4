// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import { IBigStepper } from "../libraries/DisputeInterfaces.sol";
import { VMStatus } from "../libraries/DisputeTypes.sol";
import { MerkleTrieWriter } from "../libraries/MerkleTrieWriter.sol";
import { RLPReader } from "../libraries/RLPReader.sol";
import { RLPWriter } from "../libraries/RLPWriter.sol";
import { StateAccount } from "../libraries/StateAccount.sol";
import { StepFields } from "../libraries/StepFields.sol";
import { ContractTxStep } from "./ContractTxStep.sol";
import { L1AttributesStep } from "./L1AttributesStep.sol";
import { OutputRootRegistry } from "./OutputRootRegistry.sol";

/// @notice What the verifier reads from the game that calls it.
interface IExecutionTraceGame {
    function startingAndDisputedOutputs(uint256 _claimIndex)
        external
        view
        returns (bytes32 starting_, uint128 startingPos_, bytes32 disputed_, uint128 disputedPos_, uint256 disputedBlock_);
    function disputedClaimCreatedAt(uint256 _claimIndex) external view returns (uint64);
    /// @notice The L1 block the game was created at (OP's `l1Head`): the L1 history every origin must be in.
    function l1Head() external view returns (bytes32);
}

/// @title TxStepVerifier
/// @notice The one-step verifier of a disputed L2 block's execution trace (docs/DESIGN.md, "The execution trace of a
///         disputed block"). Leaf 0 opens the block from the disputed output's preimage, published in
///         `outputRegistry()` no later than the disputed claim (else the trace is the UNOPENED constant), and applies
///         the start-of-block system calls; leaf i executes transaction i − 1: transaction 0, the L1-attributes
///         deposit, on `L1AttributesStep` (which also judges the block's L1 origin), every other one (deposits,
///         transfers, calls, creations, set-code) on `ContractTxStep` (any transaction, re-executed over a
///         PartialTrie witness); the leaf after the last transaction seals the block against the disputed header and
///         output. Mirrors src/prover/trace/block-trace.ts, which the prover runs. The two step contracts are
///         immutables here (EIP-170).
/// @dev    The chain's fork is Osaka from genesis (EIP-4788, EIP-2935, EIP-7623 and EIP-7825 active), and the header
///         shape (21 fields, `requestsHash` last) it opens.
contract TxStepVerifier is IBigStepper {
    using RLPReader for RLPReader.Item;

    /// @notice A leaf of the trace (`stateData = abi.encode(TraceState)`).
    struct TraceState {
        uint8 phase;
        bytes32 disputedOutput;
        bytes32 headerHash;
        bytes32 stateRoot;
        uint64 txIndex;
        uint64 gasUsed;
        bytes32 receiptsRoot;
        bytes32 logsBloomHash;
    }

    /// @notice A system contract's account proof (against the state root before its writes) and its slot writes,
    ///         each slot's proof against the storage root the previous write left.
    struct SystemWrite {
        address account;
        bytes[] accountProof;
        bytes32[] slots;
        bytes[][] slotProofs;
    }

    /// @notice The opening step's body.
    struct OpenBody {
        bytes startingHeader;
        bytes32 startingPasserRoot;
        bytes disputedHeader;
        bytes32 disputedPasserRoot;
        /// @dev `abi.encode(SystemWrite)` of EIP-4788's contract, then of EIP-2935's (nested dynamic structs decoded
        ///      in one go run out of stack without the IR pipeline).
        bytes[] systemWrites;
    }

    /// @notice The seal step's body.
    struct SealBody {
        bytes header;
        bytes[] transactionExclusionProof;
        bytes[] passerAccountProof;
        bytes32 disputedPasserRoot;
    }

    /// @notice The header fields the trace reads.
    struct Header {
        bool ok;
        bytes32 parentHash;
        address coinbase;
        bytes32 stateRoot;
        bytes32 transactionsRoot;
        bytes32 receiptsRoot;
        bytes32 logsBloomHash;
        uint256 number;
        uint256 gasLimit;
        uint256 gasUsed;
        uint256 timestamp;
        uint256 baseFee;
        bytes32 parentBeaconRoot;
        /// @dev The L1 origin's mixHash (OP's PREVRANDAO rule), checked by the L1-attributes step.
        bytes32 mixHash;
        /// @dev The fields the trace does not otherwise tie down are the constants every builder writes.
        bool canonical;
    }

    /// @notice The step's game context.
    struct Context {
        uint256 claimIndex;
        bytes32 starting;
        bytes32 disputed;
        uint256 disputedBlock;
    }

    /// @notice Chain parameters (immutable).
    struct ChainParams {
        /// @dev Not read here: `deployTxStepVerifier` gives it to ContractTxStep (signatures, CHAINID).
        uint256 chainId;
        uint64 blockTime;
        uint64 gasLimit;
        address feeRecipient;
        uint64 elasticityMultiplier;
        uint64 baseFeeMaxChangeDenominator;
        uint256 minBaseFee;
    }

    uint8 internal constant UNOPENED = 0;
    uint8 internal constant EXECUTING = 1;
    uint8 internal constant SEALED_VALID = 2;
    uint8 internal constant INVALID = 3;

    uint8 internal constant KIND_OPEN = 0;
    uint8 internal constant KIND_TRANSACTION = 1;
    uint8 internal constant KIND_SEAL = 2;

    /// @notice keccak256 of `abi.encode("megaeth-node tx trace v1")`: the game's absolute prestate, status aside.
    bytes32 public constant ABSOLUTE_PRESTATE_HASH = keccak256(abi.encode("megaeth-node tx trace v1"));
    bytes32 internal constant EMPTY_TRIE_ROOT = 0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421;
    bytes32 internal constant EMPTY_CODE_HASH = 0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470;
    /// @notice keccak256 of 256 zero bytes: the bloom of no logs.
    bytes32 internal constant EMPTY_BLOOM_HASH = keccak256(new bytes(256));
    address internal constant MESSAGE_PASSER = 0x4200000000000000000000000000000000000016;
    address internal constant BEACON_ROOTS = 0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02;
    address internal constant HISTORY_STORAGE = 0x0000F90827F1C53a10cb7A02335B175320002935;
    uint256 internal constant RING = 8191;
    /// @notice The blob base fee of a canonical header (excessBlobGas zero): EIP-4844's minimum.
    uint256 internal constant BLOB_BASE_FEE = 1;
    /// @notice The canonical header shape (src/chain/header.ts's `buildHeader`), as hashes of raw RLP items: the
    ///         ommers hash of no uncles; zero difficulty and empty extraData; an 8-byte zero nonce; then, contiguous, the
    ///         empty withdrawals root, zero blob gas used and excess blob gas, a zero parent beacon block root and the
    ///         requests hash of no requests (sha256 of nothing).
    bytes32 internal constant OMMERS_ITEM = keccak256(hex"a01dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347");
    bytes32 internal constant ZERO_ITEM = keccak256(hex"80");
    bytes32 internal constant NONCE_ITEM = keccak256(hex"880000000000000000");
    bytes32 internal constant TAIL_ITEMS = keccak256(
        hex"a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b4218080a00000000000000000000000000000000000000000000000000000000000000000a0e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );

    OutputRootRegistry internal immutable REGISTRY;
    ContractTxStep internal immutable CONTRACT_STEP;
    L1AttributesStep internal immutable L1_ATTRIBUTES;
    uint64 internal immutable BLOCK_TIME;
    uint64 internal immutable GAS_LIMIT;
    address internal immutable FEE_RECIPIENT;
    uint64 internal immutable ELASTICITY;
    uint64 internal immutable DENOMINATOR;
    uint256 internal immutable MIN_BASE_FEE;

    /// @notice `L1AttributesStep`'s: transaction 0 is not the L1-attributes deposit our builder writes, or L1Block's
    ///         code is not the genesis code (declared here so that clients decoding the verifier's reverts know it).
    error NotProvableHere(uint8 txType, string reason);
    /// @notice `localContext` is not the calling game's context of `claimIndex`.
    error BadLocalContext();
    /// @notice A preimage does not hash to the output root it must open.
    error BadOutputPreimage();
    /// @notice The header given is not the one the trace committed to.
    error BadHeader();
    /// @notice The transaction (or its absence) is not proven at the trace's index.
    error BadTransactionProof();
    /// @notice The receipt slot at the trace's index is already taken.
    error BadReceiptProof();
    /// @notice The proof's kind is not the step the pre-state calls for, or its parts do not fit.
    error BadStep();
    /// @notice `L1AttributesStep`'s: the origin header given does not hash to the deposit's L1 hash (declared here so
    ///         that clients decoding the verifier's reverts know it).
    error BadOriginHeader();

    /// @param _registry     Where output preimages are published.
    /// @param _params       The chain's parameters.
    /// @param _contractStep Executes every transaction but the L1-attributes deposit.
    /// @param _l1Attributes Executes the L1-attributes deposit.
    constructor(
        OutputRootRegistry _registry,
        ChainParams memory _params,
        ContractTxStep _contractStep,
        L1AttributesStep _l1Attributes
    ) {
        REGISTRY = _registry;
        CONTRACT_STEP = _contractStep;
        L1_ATTRIBUTES = _l1Attributes;
        BLOCK_TIME = _params.blockTime;
        GAS_LIMIT = _params.gasLimit;
        FEE_RECIPIENT = _params.feeRecipient;
        ELASTICITY = _params.elasticityMultiplier;
        DENOMINATOR = _params.baseFeeMaxChangeDenominator;
        MIN_BASE_FEE = _params.minBaseFee;
    }

    /// @notice The output-preimage registry claimants must publish in before claiming.
    function outputRegistry() external view returns (OutputRootRegistry) {
        return REGISTRY;
    }

    /// @notice One step of the trace: from `_stateData` (the pre-state's preimage) and `_proof`
    ///         (`abi.encode(uint256 claimIndex, uint8 kind, bytes body)`), the post-state's claim.
    function step(bytes calldata _stateData, bytes calldata _proof, bytes32 _localContext)
        external
        view
        returns (bytes32)
    {
        (uint256 claimIndex, uint8 kind, bytes memory body) = abi.decode(_proof, (uint256, uint8, bytes));
        Context memory ctx = _context(claimIndex, _localContext);
        if (keccak256(_stateData) == ABSOLUTE_PRESTATE_HASH) return commit(_open(ctx, kind, body));
        TraceState memory s = abi.decode(_stateData, (TraceState));
        // A terminal state steps to itself.
        if (s.phase != EXECUTING) return commit(s);
        if (s.disputedOutput != ctx.disputed) revert BadStep();
        if (kind == KIND_TRANSACTION) return commit(_transaction(s, body));
        if (kind == KIND_SEAL) return commit(_seal(s, body));
        revert BadStep();
    }

    /// @notice The claim of a state: keccak256 of its encoding, the VM status as top byte.
    function commit(TraceState memory _s) internal pure returns (bytes32) {
        uint8 status = _s.phase == EXECUTING ? VMStatus.UNFINISHED : _s.phase == SEALED_VALID ? VMStatus.VALID : VMStatus.INVALID;
        bytes32 h = keccak256(abi.encode(_s));
        return (h & bytes32(uint256(type(uint248).max))) | bytes32(uint256(status) << 248);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Context

    function _context(uint256 _claimIndex, bytes32 _localContext) internal view returns (Context memory ctx_) {
        (bytes32 starting, uint128 startingPos, bytes32 disputed, uint128 disputedPos, uint256 disputedBlock) =
            IExecutionTraceGame(msg.sender).startingAndDisputedOutputs(_claimIndex);
        bytes32 expected = startingPos == 0
            ? keccak256(abi.encode(disputed, disputedPos))
            : keccak256(abi.encode(starting, startingPos, disputed, disputedPos));
        if (expected != _localContext) revert BadLocalContext();
        ctx_ = Context({ claimIndex: _claimIndex, starting: starting, disputed: disputed, disputedBlock: disputedBlock });
    }

    // ------------------------------------------------------------------------------------------------------------
    // Opening

    function _open(Context memory _ctx, uint8 _kind, bytes memory _body) internal view returns (TraceState memory s_) {
        uint64 publishedAt = REGISTRY.publishedAt(_ctx.disputed);
        if (publishedAt == 0 || publishedAt > IExecutionTraceGame(msg.sender).disputedClaimCreatedAt(_ctx.claimIndex)) {
            return s_; // UNOPENED: all zero
        }
        if (_kind != KIND_OPEN) revert BadStep();
        OpenBody memory b = abi.decode(_body, (OpenBody));
        if (REGISTRY.outputRootOf(b.startingHeader, b.startingPasserRoot) != _ctx.starting) revert BadOutputPreimage();
        if (REGISTRY.outputRootOf(b.disputedHeader, b.disputedPasserRoot) != _ctx.disputed) revert BadOutputPreimage();
        Header memory parent = _readHeader(b.startingHeader);
        if (!parent.ok) revert BadOutputPreimage();
        Header memory h = _readHeader(b.disputedHeader);
        s_ = TraceState({
            phase: INVALID,
            disputedOutput: _ctx.disputed,
            headerHash: keccak256(b.disputedHeader),
            stateRoot: parent.stateRoot,
            txIndex: 0,
            gasUsed: 0,
            receiptsRoot: EMPTY_TRIE_ROOT,
            logsBloomHash: EMPTY_BLOOM_HASH
        });
        // Past the game's block (the game caps the disputed block at its root's): nothing to execute, the honest
        // output is the starting one (OP's rule for claims beyond the proposal's block).
        if (parent.number >= _ctx.disputedBlock) {
            if (_ctx.disputed == _ctx.starting) s_.phase = SEALED_VALID;
            return s_;
        }
        if (!h.ok || !h.canonical || !_followsParent(h, parent, keccak256(b.startingHeader), _ctx.disputedBlock)) {
            return s_;
        }
        s_.stateRoot = _systemCalls(parent.stateRoot, h, b.systemWrites);
        s_.phase = EXECUTING;
    }

    /// @notice The chain's rules between a header and its parent (mixHash and the L1 origin are judged at transaction
    ///         0, the L1-attributes deposit: `L1AttributesStep.originValid`).
    function _followsParent(Header memory _h, Header memory _parent, bytes32 _parentHash, uint256 _block)
        internal
        view
        returns (bool)
    {
        if (_h.parentHash != _parentHash || _h.number != _block || _h.number != _parent.number + 1) return false;
        if (_h.timestamp != _parent.timestamp + BLOCK_TIME || _h.gasLimit != GAS_LIMIT || _h.coinbase != FEE_RECIPIENT) {
            return false;
        }
        return _h.baseFee == nextBaseFee(_parent.gasUsed, _parent.gasLimit, _parent.baseFee);
    }

    /// @notice EIP-1559's base fee after a parent, with the chain's parameters and floor (src/chain/header.ts).
    function nextBaseFee(uint256 _gasUsed, uint256 _gasLimit, uint256 _baseFee) internal view returns (uint256 next_) {
        uint256 target = _gasLimit / ELASTICITY;
        next_ = _baseFee;
        if (_gasUsed > target) {
            uint256 delta = _baseFee * (_gasUsed - target) / target / DENOMINATOR;
            next_ = _baseFee + (delta > 1 ? delta : 1);
        } else if (_gasUsed < target) {
            next_ = _baseFee - _baseFee * (target - _gasUsed) / target / DENOMINATOR;
        }
        if (next_ < MIN_BASE_FEE) next_ = MIN_BASE_FEE;
    }

    /// @notice EIP-4788's and EIP-2935's writes, for contracts with code (a call to one without is a no-op).
    function _systemCalls(bytes32 _root, Header memory _h, bytes[] memory _encoded) internal pure returns (bytes32) {
        if (_encoded.length != 2) revert BadStep();
        SystemWrite[] memory _writes = new SystemWrite[](2);
        _writes[0] = abi.decode(_encoded[0], (SystemWrite));
        _writes[1] = abi.decode(_encoded[1], (SystemWrite));
        if (_writes[0].account != BEACON_ROOTS || _writes[1].account != HISTORY_STORAGE) revert BadStep();
        uint256 index = _h.timestamp % RING;
        bytes32[] memory slots = new bytes32[](2);
        bytes32[] memory values = new bytes32[](2);
        (slots[0], values[0], slots[1], values[1]) = (bytes32(index), bytes32(_h.timestamp), bytes32(index + RING), _h.parentBeaconRoot);
        _root = _writeSlots(_root, _writes[0], slots, values);
        slots = new bytes32[](1);
        values = new bytes32[](1);
        (slots[0], values[0]) = (bytes32((_h.number - 1) % RING), _h.parentHash);
        return _writeSlots(_root, _writes[1], slots, values);
    }

    function _writeSlots(bytes32 _root, SystemWrite memory _w, bytes32[] memory _slots, bytes32[] memory _values)
        internal
        pure
        returns (bytes32)
    {
        (bool exists, StateAccount.Account memory account) = StateAccount.load(_root, _w.account, _w.accountProof);
        if (!exists || account.codeHash == EMPTY_CODE_HASH) {
            if (_w.slots.length != 0) revert BadStep();
            return _root;
        }
        if (_w.slots.length != _slots.length || _w.slotProofs.length != _slots.length) revert BadStep();
        for (uint256 i = 0; i < _slots.length; i++) {
            if (_w.slots[i] != _slots[i]) revert BadStep();
            bytes memory key = abi.encodePacked(keccak256(abi.encode(_slots[i])));
            account.storageRoot = _values[i] == bytes32(0)
                ? MerkleTrieWriter.remove(key, _w.slotProofs[i], account.storageRoot)
                : MerkleTrieWriter.update(key, RLPWriter.writeUint(uint256(_values[i])), _w.slotProofs[i], account.storageRoot);
        }
        return StateAccount.store(_root, _w.account, account, _w.accountProof);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Transactions

    /// @notice A transaction step's body. `bloom`: the block's logs bloom before the transaction (256 bytes, its
    ///         hash is the pre-state's `logsBloomHash`). Transaction 0 (the L1-attributes deposit) carries
    ///         `accountProofs` (L1AttributesStep's layout) and no `step`; every other one `step`, the
    ///         `abi.encode(ContractTxStep.StepInput)` whose block context, pre-state root, cumulative gas and raw
    ///         transaction this contract overwrites from the header and the pre-state (only its witness is read).
    struct TxBody {
        bytes header;
        bytes raw;
        bytes[] txProof;
        bytes[] receiptProof;
        bytes bloom;
        bytes[][] accountProofs;
        bytes step;
    }

    function _transaction(TraceState memory _s, bytes memory _body) internal view returns (TraceState memory) {
        TxBody memory b = abi.decode(_body, (TxBody));
        if (keccak256(b.header) != _s.headerHash) revert BadHeader();
        if (b.bloom.length != 256 || keccak256(b.bloom) != _s.logsBloomHash) revert BadStep();
        Header memory h = _readHeader(b.header);
        bytes memory key = RLPWriter.writeUint(_s.txIndex);
        {
            (bool exists, bytes memory value) = MerkleTrieWriter.get(key, b.txProof, h.transactionsRoot);
            if (!exists || keccak256(value) != keccak256(b.raw)) revert BadTransactionProof();
            (bool receiptTaken,) = MerkleTrieWriter.get(key, b.receiptProof, _s.receiptsRoot);
            if (receiptTaken) revert BadReceiptProof();
        }
        bytes memory receipt;
        bool ok;
        if (_s.txIndex == 0) {
            (ok, receipt) = _attributesDeposit(_s, b.raw, b.accountProofs, h.mixHash);
            // The setter emits no log: the bloom is unchanged.
        } else {
            ContractTxStep.StepOutput memory out = CONTRACT_STEP.execute(_stepInput(_s, h, b));
            ok = out.valid;
            if (ok) {
                _s.stateRoot = out.postRoot;
                _s.gasUsed += out.gasUsed;
                receipt = out.receipt;
                _s.logsBloomHash = _orBloom(b.bloom, out.logsBloom);
            }
        }
        if (!ok) {
            _s.phase = INVALID;
            return _s;
        }
        _s.receiptsRoot = MerkleTrieWriter.update(key, receipt, b.receiptProof, _s.receiptsRoot);
        _s.txIndex += 1;
        return _s;
    }

    /// @notice ContractTxStep's input: the prover's witness, everything else from the header and the pre-state (the
    ///         block's remaining gas is `gasLimit − cumulativeGasUsed`, which ContractTxStep checks the transaction's
    ///         gas limit against; a canonical header has no excess blob gas).
    function _stepInput(TraceState memory _s, Header memory _h, TxBody memory _b)
        internal
        pure
        returns (ContractTxStep.StepInput memory in_)
    {
        if (_b.step.length == 0) revert BadStep();
        in_ = abi.decode(_b.step, (ContractTxStep.StepInput));
        in_.preRoot = _s.stateRoot;
        in_.coinbase = _h.coinbase;
        in_.number = uint64(_h.number);
        in_.timestamp = uint64(_h.timestamp);
        in_.gasLimit = uint64(_h.gasLimit);
        in_.baseFee = _h.baseFee;
        in_.blobBaseFee = BLOB_BASE_FEE;
        in_.prevRandao = _h.mixHash;
        in_.cumulativeGasUsed = _s.gasUsed;
        in_.rawTx = _b.raw;
    }

    /// @notice keccak256 of the OR of two 256-byte blooms.
    function _orBloom(bytes memory _a, bytes memory _b) internal pure returns (bytes32 h_) {
        if (_b.length != 256) revert BadStep();
        for (uint256 i = 0; i < 256; i += 32) {
            assembly ("memory-safe") {
                let p := add(add(_a, 32), i)
                mstore(p, or(mload(p), mload(add(add(_b, 32), i))))
            }
        }
        h_ = keccak256(_a);
    }

    /// @notice The L1-attributes deposit (`L1AttributesStep`, which reverts `NotProvableHere` for any other
    ///         transaction): receipt with depositNonce and version 1. It also judges the block's L1 origin (epoch rule,
    ///         origin header, mixHash): a bad one makes the block invalid (ok = false, after the deposit's writes and
    ///         gas).
    function _attributesDeposit(TraceState memory _s, bytes memory _raw, bytes[][] memory _proofs, bytes32 _mixHash)
        internal
        view
        returns (bool ok_, bytes memory receipt_)
    {
        uint256 nonce;
        uint256 gas;
        (_s.stateRoot, gas, nonce, ok_) = L1_ATTRIBUTES.execute(_s.stateRoot, _raw, _proofs, _mixHash);
        _s.gasUsed += uint64(gas);
        receipt_ = bytes.concat(
            bytes1(0x7e),
            RLPWriter.writeListPayload(
                bytes.concat(
                    RLPWriter.writeUint(1),
                    RLPWriter.writeUint(_s.gasUsed),
                    RLPWriter.writeBytes(new bytes(256)),
                    hex"c0",
                    RLPWriter.writeUint(nonce),
                    RLPWriter.writeUint(1)
                )
            )
        );
    }

    // ------------------------------------------------------------------------------------------------------------
    // Seal

    function _seal(TraceState memory _s, bytes memory _body) internal view returns (TraceState memory) {
        SealBody memory b = abi.decode(_body, (SealBody));
        if (keccak256(b.header) != _s.headerHash) revert BadHeader();
        Header memory h = _readHeader(b.header);
        (bool exists,) = MerkleTrieWriter.get(RLPWriter.writeUint(_s.txIndex), b.transactionExclusionProof, h.transactionsRoot);
        if (exists) revert BadTransactionProof();
        if (REGISTRY.outputRootOf(b.header, b.disputedPasserRoot) != _s.disputedOutput) revert BadOutputPreimage();
        (bool passerExists, StateAccount.Account memory passer) =
            StateAccount.load(_s.stateRoot, MESSAGE_PASSER, b.passerAccountProof);
        bytes32 executedPasserRoot = passerExists ? passer.storageRoot : EMPTY_TRIE_ROOT;
        bool valid = _s.stateRoot == h.stateRoot && _s.gasUsed == h.gasUsed && _s.receiptsRoot == h.receiptsRoot
            && _s.logsBloomHash == h.logsBloomHash && executedPasserRoot == b.disputedPasserRoot;
        _s.phase = valid ? SEALED_VALID : INVALID;
        return _s;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Decoding

    /// @notice The header's fields; `ok` false when a field is malformed (the output is then invalid), `canonical`
    ///         whether it has the canonical shape (`_canonical`).
    function _readHeader(bytes memory _rlp) internal pure returns (Header memory h_) {
        RLPReader.Item[] memory f = RLPReader.readLongList(RLPReader.toItem(_rlp));
        if (f.length < 20) return h_;
        bool ok = true;
        bool fine;
        (h_.parentHash, fine) = StepFields.word(f[0]);
        ok = ok && fine;
        bytes memory coinbase = f[2].readBytes();
        ok = ok && coinbase.length == 20;
        if (coinbase.length == 20) h_.coinbase = StepFields.addressOf(coinbase);
        (h_.stateRoot, fine) = StepFields.word(f[3]);
        ok = ok && fine;
        (h_.transactionsRoot, fine) = StepFields.word(f[4]);
        ok = ok && fine;
        (h_.receiptsRoot, fine) = StepFields.word(f[5]);
        ok = ok && fine;
        bytes memory bloom = f[6].readBytes();
        ok = ok && bloom.length == 256;
        h_.logsBloomHash = keccak256(bloom);
        (h_.number, fine) = StepFields.canonicalUint(f[8]);
        ok = ok && fine;
        (h_.gasLimit, fine) = StepFields.canonicalUint(f[9]);
        ok = ok && fine;
        (h_.gasUsed, fine) = StepFields.canonicalUint(f[10]);
        ok = ok && fine;
        (h_.timestamp, fine) = StepFields.canonicalUint(f[11]);
        ok = ok && fine;
        (h_.mixHash,) = StepFields.word(f[13]);
        (h_.baseFee, fine) = StepFields.canonicalUint(f[15]);
        ok = ok && fine;
        (h_.parentBeaconRoot, fine) = StepFields.word(f[19]);
        h_.ok = ok && fine;
        h_.canonical = _canonical(f);
    }

    /// @notice Whether a header's fields that no step otherwise ties down are the constants every builder here writes
    ///         (src/chain/header.ts): 21 fields (Osaka), a 32-byte mixHash, and the items of `OMMERS_ITEM` …
    ///         `TAIL_ITEMS`, raw (so a non-canonical encoding of the same value is not canonical either). A header
    ///         differing only there hashes differently, so its output root differs, while every executed value matches:
    ///         without this rule its trace would seal VALID.
    function _canonical(RLPReader.Item[] memory _f) internal pure returns (bool) {
        if (_f.length != 21) return false;
        (, bool mixHash) = StepFields.word(_f[13]);
        return mixHash && _span(_f[1], _f[1]) == OMMERS_ITEM && _span(_f[7], _f[7]) == ZERO_ITEM
            && _span(_f[12], _f[12]) == ZERO_ITEM && _span(_f[14], _f[14]) == NONCE_ITEM && _span(_f[16], _f[20]) == TAIL_ITEMS;
    }

    /// @notice keccak256 of the raw encodings of the list items `_first` … `_last` (contiguous in the list).
    function _span(RLPReader.Item memory _first, RLPReader.Item memory _last) internal pure returns (bytes32 h_) {
        uint256 start = _first.ptr;
        uint256 length = _last.ptr + _last.len - start;
        assembly ("memory-safe") {
            h_ := keccak256(start, length)
        }
    }
}
