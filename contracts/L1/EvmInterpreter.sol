// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    EvmAccount,
    EvmBlock,
    EvmBlockHash,
    EvmLog,
    EvmMessage,
    EvmResult,
    EvmSlot,
    IEvmInterpreter,
    IEvmPrecompiles
} from "../libraries/EvmTypes.sol";

/// @title EvmInterpreter
/// @notice Executes one L2 message with the L2's EVM rules (ethereumjs 10.1.3, Osaka) over the given tables, in
///         memory (issue 18). The machine is one inline-assembly block: EIP-170 bounds the contract, and a
///         Solidity-level interpreter would not fit. Everything mutable (balances, nonces, code, storage, warm flags,
///         touched flags, the refund counter, the log and transient-storage lists) lives in memory words written
///         through a journal (`jset`), so a reverted frame undoes exactly what it changed by walking the journal back
///         to its snapshot; ethereumjs reverts warm addresses/slots and touched marks with the frame too.
/// @dev    Memory map (fixed addresses, so the machine needs no base pointer):
///         0x80 accounts table, 0xa0 count, 0xc0 slots table, 0xe0 count, 0x100 journal head, 0x120 refund,
///         0x140 logs head, 0x160 transient head, 0x180 bump pointer, 0x1a0 block (calldata), 0x1c0 message
///         (calldata), 0x1e0 block hashes (calldata), 0x200 count, 0x220 end of the stack region, 0x240 the empty
///         blob, 0x2a0 precompiles, 0x2c0 warm addresses outside the table, 0x2e0.. results. 0x800: the opcode table
///         `OPS`, 8 bytes an opcode: the least and the most stack bytes it may start with (least 0xffff: undefined),
///         its static gas, and for the opcodes on the push fast path (environment words, PC, GAS, POP) a kind
///         (1 frame word, 2 block word, 3 message word, 4 length of a frame blob, 5 POP, 6 PC, 7 GAS) and an offset / 32.
///         Precompiles: `isPrecompile` is asked only for addresses 1..0xffff (Osaka's are 0x01–0x11 and 0x100).
///         A blob is [aux][length][bytes][64 zero bytes]; its pointer is the length word (aux: a code's jumpdest map).
///         Account record (0x140): addr, exists, nonce, balance, code blob, hasStorage, touched, warm, created in
///         this transaction, self-destructed. Slot record (0xa0): addr, key, value, original, warm.
///         Frame record (0x2c0): parent, pc, gas, stack base, sp, memory, capacity, size, code, address, caller,
///         value, calldata, static, depth, returndata, journal snapshot, kind (1 creation), out offset, out length,
///         child, output.
contract EvmInterpreter is IEvmInterpreter {
    /// @notice The message needs an account the tables lack.
    error MissingAccount(address addr);
    /// @notice The message needs a storage slot the tables lack.
    error MissingSlot(address addr, bytes32 key);
    /// @notice BLOCKHASH needs a block hash the tables lack.
    error MissingBlockHash(uint64 number);
    /// @notice A frame would start where the interpreter's stack region (3,072 words, shared by the frames) cannot
    ///         hold its 1,024 words: the ancestors' stacks hold more than 2,048 words.
    error StackRegionFull();
    /// @notice The precompiles contract did not answer a call.
    error PrecompileCallFailed(address addr);

    /// @notice The L2's precompiles, run on L1.
    IEvmPrecompiles public immutable precompiles;

    bytes private constant OPS =
        hex"000080000000000000408000000300000040800000050000004080000003000000408000000500000040800000050000004080000005000000408000000500000060800000080000006080000008000000408000000a00000040800000050000ffff800000000000ffff800000000000ffff800000000000ffff800000000000004080000003000000408000000300000040800000030000004080000003000000408000000300000020800000030000004080000003000000408000000300000040800000030000002080000003000000408000000300000040800000030000004080000003000000408000000300000020800000050000ffff80000000000000408000001e0000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff80000000000000007fe000020109002080000000000000007fe00002030000007fe00002010a00007fe00002010b002080000003000000007fe00002040c006080000003000000007fe000020408006080000003000000007fe0000203010020800000000000008080000000000000007fe00002040f00608000000300000020800000000000002080000014000000007fe00002020000007fe00002020200007fe00002020100007fe00002020600007fe00002020300007fe00002020700007fe00005000000007fe000020204002080000003000000007fe000020205ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000002080000002050000208000000300000040800000030000004080000003000000208000000000000040800000000000002080000008000000408000000a000000007fe00002060000007fe00002010700007fe000020700000080000001000000208000006400000040800000640000006080000003000000007fe00002000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000007fe00003000000207fe00003000000407fe00003000000607fe00003000000807fe00003000000a07fe00003000000c07fe00003000000e07fe00003000001007fe00003000001207fe00003000001407fe00003000001607fe00003000001807fe00003000001a07fe00003000001c07fe00003000001e07fe00003000002007fe00003000000408000000300000060800000030000008080000003000000a080000003000000c080000003000000e08000000300000100800000030000012080000003000001408000000300000160800000030000018080000003000001a080000003000001c080000003000001e08000000300000200800000030000022080000003000000408000017700000060800001770000008080000177000000a080000177000000c0800001770000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000ffff800000000000006080007d00000000e080000000000000e0800000000000004080000000000000c0800000000000008080007d000000ffff800000000000ffff800000000000ffff800000000000ffff80000000000000c0800000000000ffff800000000000ffff8000000000000040800000000000ffff8000000000000020800013880000";

    /// @param _precompiles The contract running the L2's precompiles.
    constructor(IEvmPrecompiles _precompiles) {
        precompiles = _precompiles;
    }

    /// @inheritdoc IEvmInterpreter
    function execute(
        EvmBlock calldata _block,
        EvmMessage calldata _message,
        EvmAccount[] calldata _accounts,
        EvmSlot[] calldata _slots,
        EvmBlockHash[] calldata _blockHashes
    ) external view returns (EvmResult memory) {
        assembly {
            mstore(0x40, 0x800)
        }
        bytes memory ops = OPS;
        address pre = address(precompiles);
        uint256 blockOff;
        uint256 msgOff;
        assembly {
            blockOff := _block
            msgOff := _message
        }
        _run(ops, pre, blockOff, msgOff, _accounts, _slots, _blockHashes);
        return _result();
    }

    /// @dev The machine: loads the tables into memory, runs the message, leaves the outcome at 0x2e0...
    function _run(
        bytes memory _ops,
        address _pre,
        uint256 _blockOff,
        uint256 _msgOff,
        EvmAccount[] calldata _accounts,
        EvmSlot[] calldata _slots,
        EvmBlockHash[] calldata _blockHashes
    ) private view {
        assembly {
            // ---------------------------------------------------------------- allocation, journal, tables
            function alloc(n) -> p {
                p := mload(0x180)
                mstore(0x180, add(p, and(add(n, 31), not(31))))
            }
            function newBlob(len) -> b {
                b := add(alloc(add(128, len)), 32)
                mstore(b, len)
            }
            function blobFrom(src, len) -> b {
                b := newBlob(len)
                mcopy(add(b, 32), src, len)
            }
            function jset(p, v) {
                if iszero(eq(mload(p), v)) {
                    let e := alloc(96)
                    mstore(e, mload(0x100))
                    mstore(add(e, 32), p)
                    mstore(add(e, 64), mload(p))
                    mstore(0x100, e)
                    mstore(p, v)
                }
            }
            function jrevert(snap) {
                for { let e := mload(0x100) } iszero(eq(e, snap)) { e := mload(e) } {
                    mstore(mload(add(e, 32)), mload(add(e, 64)))
                }
                mstore(0x100, snap)
            }
            function findAcct(a) -> r {
                let p := mload(0x80)
                for { let end := add(p, mul(mload(0xa0), 0x140)) } lt(p, end) { p := add(p, 0x140) } {
                    if eq(mload(p), a) {
                        r := p
                        leave
                    }
                }
            }
            function acct(a) -> r {
                r := findAcct(a)
                if iszero(r) {
                    mstore(0, shl(224, 0x99edaf79))
                    mstore(4, a)
                    revert(0, 36)
                }
            }
            function slotRec(a, k) -> r {
                let p := mload(0xc0)
                for { let end := add(p, mul(mload(0xe0), 0xa0)) } lt(p, end) { p := add(p, 0xa0) } {
                    if and(eq(mload(p), a), eq(mload(add(p, 32)), k)) {
                        r := p
                        leave
                    }
                }
                mstore(0, shl(224, 0xd90c619a))
                mstore(4, a)
                mstore(36, k)
                revert(0, 68)
            }
            // SLOAD's slot, or 0 when it runs out of gas before ethereumjs reads the slot: a slot the tables lack was
            // never accessed, so it is cold (2,100) unless the access list warmed it (100).
            function sloadRec(a, k, gl) -> r {
                let p := mload(0xc0)
                for { let end := add(p, mul(mload(0xe0), 0xa0)) } lt(p, end) { p := add(p, 0xa0) } {
                    if and(eq(mload(p), a), eq(mload(add(p, 32)), k)) {
                        r := p
                        leave
                    }
                }
                if lt(gl, 100) { leave }
                if lt(gl, 2100) {
                    let m := mload(0x1c0)
                    let ws := add(m, calldataload(add(m, 0x140)))
                    let listed := 0
                    for { let i := 0 } lt(i, calldataload(ws)) { i := add(i, 1) } {
                        if and(
                            eq(calldataload(add(ws, add(32, shl(6, i)))), a),
                            eq(calldataload(add(ws, add(64, shl(6, i)))), k)
                        ) { listed := 1 }
                    }
                    if iszero(listed) { leave }
                }
                r := slotRec(a, k)
            }
            function isEmpty(r) -> e {
                e := iszero(or(or(mload(add(r, 0x40)), mload(add(r, 0x60))), mload(mload(add(r, 0x80)))))
            }
            // EIP-161 touch (ethereumjs: every putAccount); putting a missing account creates it.
            // ethereumjs keeps RIPEMD-160 (0x03) touched when the touching frame reverts (the mainnet quirk of block
            // 2,675,119), so its mark bypasses the journal.
            function touch(r) {
                jset(add(r, 0x20), 1)
                switch eq(mload(r), 3)
                case 1 { mstore(add(r, 0xc0), 1) }
                default { jset(add(r, 0xc0), 1) }
            }
            function isWarm(a) -> w {
                let r := findAcct(a)
                if r {
                    w := mload(add(r, 0xe0))
                    leave
                }
                for { let e := mload(0x2c0) } e { e := mload(e) } {
                    if eq(mload(add(e, 32)), a) {
                        w := 1
                        leave
                    }
                }
            }
            function warm(a) {
                let r := findAcct(a)
                if r {
                    jset(add(r, 0xe0), 1)
                    leave
                }
                if iszero(isWarm(a)) {
                    let e := alloc(64)
                    mstore(e, mload(0x2c0))
                    mstore(add(e, 32), a)
                    jset(0x2c0, e)
                }
            }
            // EIP-2929 account access: 100 warm, 2600 cold (and warms it).
            function accessCost(a) -> c {
                c := 100
                if iszero(isWarm(a)) {
                    c := 2600
                    warm(a)
                }
            }
            // The delegate of an EIP-7702 designator (0xef0100 ‖ address), else 0 in `isDel`.
            function delegateOf(cb) -> isDel, d {
                if eq(mload(cb), 23) {
                    let w := mload(add(cb, 32))
                    if eq(shr(232, w), 0xef0100) {
                        isDel := 1
                        d := and(shr(72, w), 0xffffffffffffffffffffffffffffffffffffffff)
                    }
                }
            }
            function isPre(a) -> p {
                if and(gt(a, 0), lt(a, 0x10000)) {
                    mstore(0, shl(224, 0x446b450e))
                    mstore(4, a)
                    if iszero(staticcall(gas(), mload(0x2a0), 0, 36, 0, 32)) { preFail(a) }
                    if iszero(eq(returndatasize(), 32)) { preFail(a) }
                    p := mload(0)
                }
            }
            function preFail(a) {
                mstore(0, shl(224, 0x6f99e793))
                mstore(4, a)
                revert(0, 36)
            }
            // Runs precompile `a` with `lim` gas: success, gas left, output blob (a failure consumes all, outputs nothing).
            function runPre(a, inp, inLen, lim) -> okp, left, out {
                let p := alloc(add(inLen, 0xa4))
                mstore(p, shl(224, 0x712f5fe0))
                mstore(add(p, 4), a)
                mstore(add(p, 0x24), 0x60)
                mstore(add(p, 0x44), lim)
                mstore(add(p, 0x64), inLen)
                mcopy(add(p, 0x84), inp, inLen)
                if iszero(staticcall(gas(), mload(0x2a0), p, add(inLen, 0x84), 0, 0)) { preFail(a) }
                if lt(returndatasize(), 0x80) { preFail(a) }
                returndatacopy(0, 0, 64)
                out := mload(0x240)
                okp := iszero(iszero(mload(0)))
                if okp {
                    left := sub(lim, mload(32))
                    returndatacopy(0, 0x60, 32)
                    let n := mload(0)
                    out := newBlob(n)
                    returndatacopy(add(out, 32), 0x80, n)
                }
            }
            // ---------------------------------------------------------------- memory
            // Charges the expansion of the frame's memory to cover [off, off+len) and expands it.
            function mcharge(f, gl, off, len) -> g, ok {
                g := gl
                ok := 1
                if len {
                    if or(gt(off, 0xffffffff), gt(len, 0xffffffff)) {
                        ok := 0
                        leave
                    }
                    let w := shr(5, add(add(off, len), 31))
                    let size := mload(add(f, 0xe0))
                    let w0 := shr(5, size)
                    if gt(w, w0) {
                        let c := sub(add(mul(w, 3), shr(9, mul(w, w))), add(mul(w0, 3), shr(9, mul(w0, w0))))
                        if gt(c, gl) {
                            ok := 0
                            leave
                        }
                        g := sub(gl, c)
                        let nsize := shl(5, w)
                        let cap := mload(add(f, 0xc0))
                        if gt(nsize, cap) {
                            let m := mload(add(f, 0xa0))
                            let ncap := add(nsize, and(shr(1, nsize), not(31)))
                            switch and(gt(m, 0), eq(add(m, cap), mload(0x180)))
                            case 1 { mstore(0x180, add(m, ncap)) }
                            default {
                                let nm := alloc(ncap)
                                mcopy(nm, m, size)
                                mstore(add(f, 0xa0), nm)
                            }
                            mstore(add(f, 0xc0), ncap)
                        }
                        mstore(add(f, 0xe0), nsize)
                    }
                }
            }
            function words(len) -> w {
                w := shr(5, add(len, 31))
            }
            // Copies [off, off+len) of blob `b` to `dst`, zero beyond the blob.
            function copyPad(dst, b, off, len) {
                if len {
                    calldatacopy(dst, calldatasize(), len)
                    let bl := mload(b)
                    if lt(off, bl) {
                        let n := sub(bl, off)
                        if gt(n, len) { n := len }
                        mcopy(dst, add(add(b, 32), off), n)
                    }
                }
            }
            function jmap(cb) -> m {
                m := mload(sub(cb, 32))
                if iszero(m) {
                    let len := mload(cb)
                    m := alloc(add(len, 32))
                    let c := add(cb, 32)
                    for { let i := 0 } lt(i, len) { i := add(i, 1) } {
                        let o := byte(0, mload(add(c, i)))
                        if eq(o, 0x5b) { mstore8(add(m, i), 1) }
                        if and(gt(o, 0x5f), lt(o, 0x80)) { i := add(i, sub(o, 0x5f)) }
                    }
                    mstore(sub(cb, 32), m)
                }
            }
            function clz(x) -> n {
                if iszero(x) {
                    n := 256
                    leave
                }
                if iszero(shr(128, x)) {
                    n := 128
                    x := shl(128, x)
                }
                if iszero(shr(192, x)) {
                    n := add(n, 64)
                    x := shl(64, x)
                }
                if iszero(shr(224, x)) {
                    n := add(n, 32)
                    x := shl(32, x)
                }
                if iszero(shr(240, x)) {
                    n := add(n, 16)
                    x := shl(16, x)
                }
                if iszero(shr(248, x)) {
                    n := add(n, 8)
                    x := shl(8, x)
                }
                if iszero(shr(252, x)) {
                    n := add(n, 4)
                    x := shl(4, x)
                }
                if iszero(shr(254, x)) {
                    n := add(n, 2)
                    x := shl(2, x)
                }
                if iszero(shr(255, x)) { n := add(n, 1) }
            }
            function createAddr(a, nonce) -> r {
                mstore(0, 0)
                mstore(32, 0)
                let nlen := 1
                switch lt(nonce, 0x80)
                case 1 {
                    let v := nonce
                    if iszero(v) { v := 0x80 }
                    mstore8(22, v)
                }
                default {
                    let k := 0
                    for { let x := nonce } x { x := shr(8, x) } { k := add(k, 1) }
                    mstore(23, shl(sub(256, shl(3, k)), nonce))
                    mstore8(22, add(0x80, k))
                    nlen := add(k, 1)
                }
                mstore(2, or(shl(96, a), and(mload(2), 0xffffffffffffffffffffffff)))
                mstore8(0, add(0xc0, add(21, nlen)))
                mstore8(1, 0x94)
                r := and(keccak256(0, add(22, nlen)), 0xffffffffffffffffffffffffffffffffffffffff)
            }
            function create2Addr(a, salt, cb) -> r {
                let p := alloc(96)
                mstore(add(p, 1), shl(96, a))
                mstore(add(p, 0x15), salt)
                mstore(add(p, 0x35), keccak256(add(cb, 32), mload(cb)))
                mstore8(p, 0xff)
                r := and(keccak256(p, 0x55), 0xffffffffffffffffffffffffffffffffffffffff)
            }
            // ---------------------------------------------------------------- frames
            function newFrame(parent, gl, cb, sb) -> f {
                // A frame may use 1024 words from its base: refuse to start one the stack region cannot hold.
                if gt(add(sb, 0x8000), mload(0x220)) {
                    mstore(0, shl(224, 0x86bf0e39))
                    revert(0, 4)
                }
                f := alloc(0x2c0)
                mstore(f, parent)
                mstore(add(f, 0x40), gl)
                mstore(add(f, 0x60), sb)
                mstore(add(f, 0x80), sb)
                mstore(add(f, 0x100), cb)
                mstore(add(f, 0x1e0), mload(0x240))
                mstore(add(f, 0x2a0), mload(0x240))
                mstore(add(f, 0x200), mload(0x100))
            }
            // CALL, CALLCODE, DELEGATECALL, STATICCALL: st 0 (done, result pushed), 3 (halt), 4 (child to run).
            function opCall(f, op, sp, gl) -> st, g, nsp {
                g := gl
                let a := sub(sp, 96) // the in offset (no value argument)
                let value := 0
                if or(eq(op, 0xf1), eq(op, 0xf2)) {
                    value := mload(a)
                    a := sub(a, 32)
                }
                nsp := sub(a, 64)
                if and(eq(op, 0xf1), and(gt(value, 0), gt(mload(add(f, 0x1a0)), 0))) {
                    st := 3
                    leave
                }
                {
                    let ok
                    g, ok := mcharge(f, g, mload(a), mload(sub(a, 32)))
                    if iszero(ok) {
                        st := 3
                        leave
                    }
                    g, ok := mcharge(f, g, mload(sub(a, 64)), mload(sub(a, 96)))
                    if iszero(ok) {
                        st := 3
                        leave
                    }
                    let c := callCost(and(mload(sub(sp, 64)), 0xffffffffffffffffffffffffffffffffffffffff), op, value)
                    if gt(c, g) {
                        st := 3
                        leave
                    }
                    g := sub(g, c)
                }
                let lim := sub(g, div(g, 64))
                if lt(mload(sub(sp, 32)), lim) { lim := mload(sub(sp, 32)) }
                g := sub(g, lim)
                if value { lim := add(lim, 2300) }
                mstore(add(f, 0x1e0), mload(0x240))
                let left
                st, left := callRun(f, op, a, value, lim, and(mload(sub(sp, 64)), 0xffffffffffffffffffffffffffffffffffffffff))
                g := add(g, left)
            }
            // The call's gas beyond memory: EIP-2929 access, value transfer, new account, EIP-7702 delegate access.
            function callCost(to, op, value) -> c {
                c := accessCost(to)
                if value {
                    c := add(c, 9000)
                    if eq(op, 0xf1) { if isEmpty(acct(to)) { c := add(c, 25000) } }
                }
                let isDel, d := delegateOf(mload(add(acct(to), 0x80)))
                if isDel { c := add(c, accessCost(d)) }
            }
            // The code a call to `to` runs (an EIP-7702 designator's delegate's).
            function codeOf(to) -> cb {
                cb := mload(add(acct(to), 0x80))
                let isDel, d := delegateOf(cb)
                if isDel { cb := mload(add(acct(d), 0x80)) }
            }
            // The call after its gas: `left` is the gas handed back now (all of `lim` unless a child frame runs).
            function callRun(f, op, a, value, lim, to) -> st, left {
                let self := mload(add(f, 0x120))
                let nsp := sub(a, 64)
                left := lim
                if or(eq(mload(add(f, 0x1c0)), 1024), lt(mload(add(acct(self), 0x60)), value)) {
                    mstore(sub(nsp, 32), 0)
                    leave
                }
                let snap := mload(0x100)
                if iszero(eq(op, 0xf4)) {
                    let sr := acct(self)
                    jset(add(sr, 0x60), sub(mload(add(sr, 0x60)), value))
                    touch(sr)
                    let tgt := to
                    if eq(op, 0xf2) { tgt := self }
                    let tr := acct(tgt)
                    jset(add(tr, 0x60), add(mload(add(tr, 0x60)), value))
                    touch(tr)
                }
                if isPre(to) {
                    let okp, pleft, out := runPre(to, add(mload(add(f, 0xa0)), mload(a)), mload(sub(a, 32)), lim)
                    left := pleft
                    if iszero(okp) { jrevert(snap) }
                    mstore(add(f, 0x1e0), out)
                    copyOut(f, out, mload(sub(a, 64)), mload(sub(a, 96)))
                    mstore(sub(nsp, 32), okp)
                    leave
                }
                let cb := codeOf(to)
                if iszero(mload(cb)) {
                    mstore(sub(nsp, 32), 1)
                    leave
                }
                left := 0
                let cf := newFrame(f, lim, cb, nsp)
                mstore(add(cf, 0x200), snap)
                switch or(eq(op, 0xf2), eq(op, 0xf4))
                case 1 { mstore(add(cf, 0x120), self) }
                default { mstore(add(cf, 0x120), to) }
                switch eq(op, 0xf4)
                case 1 {
                    mstore(add(cf, 0x140), mload(add(f, 0x140)))
                    mstore(add(cf, 0x160), mload(add(f, 0x160)))
                }
                default {
                    mstore(add(cf, 0x140), self)
                    mstore(add(cf, 0x160), value)
                }
                mstore(add(cf, 0x180), blobFrom(add(mload(add(f, 0xa0)), mload(a)), mload(sub(a, 32))))
                mstore(add(cf, 0x1a0), or(mload(add(f, 0x1a0)), eq(op, 0xfa)))
                mstore(add(cf, 0x1c0), add(mload(add(f, 0x1c0)), 1))
                mstore(add(cf, 0x240), mload(sub(a, 64)))
                mstore(add(cf, 0x260), mload(sub(a, 96)))
                mstore(add(f, 0x280), cf)
                st := 4
            }
            function copyOut(f, out, off, len) {
                if len {
                    let n := mload(out)
                    if gt(n, len) { n := len }
                    mcopy(add(mload(add(f, 0xa0)), off), add(out, 32), n)
                }
            }
            // CREATE, CREATE2: st 0 (done, result pushed), 3 (halt), 4 (child to run).
            function opCreate(f, op, sp, gl) -> st, g, nsp {
                g := gl
                nsp := sub(sp, 64)
                if eq(op, 0xf5) { nsp := sub(sp, 96) }
                if mload(add(f, 0x1a0)) {
                    st := 3
                    leave
                }
                let len := mload(sub(sp, 96))
                let ok
                g, ok := mcharge(f, g, mload(sub(sp, 64)), len)
                if iszero(ok) {
                    st := 3
                    leave
                }
                let c := shl(1, words(len))
                if eq(op, 0xf5) { c := add(c, mul(6, words(len))) }
                if or(gt(c, g), gt(len, 49152)) {
                    st := 3
                    leave
                }
                g := sub(g, c)
                let lim := sub(g, div(g, 64))
                st := createRun(f, op, sp, nsp, lim)
                if iszero(eq(st, 9)) { g := sub(g, lim) }
                if eq(st, 9) { st := 0 }
            }
            // The creation after its gas, `lim` the child's: st 0 (done, `lim` spent), 4 (child), 9 (done, `lim` kept).
            function createRun(f, op, sp, nsp, lim) -> st {
                let value := mload(sub(sp, 32))
                let sr := acct(mload(add(f, 0x120)))
                let cb := blobFrom(add(mload(add(f, 0xa0)), mload(sub(sp, 64))), mload(sub(sp, 96)))
                let addr
                switch eq(op, 0xf5)
                case 1 { addr := create2Addr(mload(sr), mload(sub(sp, 128)), cb) }
                default { addr := createAddr(mload(sr), mload(add(sr, 0x40))) }
                mstore(add(f, 0x1e0), mload(0x240))
                mstore(sub(nsp, 32), 0)
                st := 9
                if or(
                    or(eq(mload(add(f, 0x1c0)), 1024), lt(mload(add(sr, 0x60)), value)),
                    or(
                        iszero(lt(mload(add(sr, 0x40)), 0xffffffffffffffff)),
                        and(gt(mload(cb), 1), eq(shr(240, mload(add(cb, 32))), 0xef00))
                    )
                ) { leave }
                st := 0
                // ethereumjs warms the new address when the creation message starts (not on a fail-fast above), in
                // the creator's frame (before the child's snapshot).
                warm(addr)
                jset(add(sr, 0x40), add(mload(add(sr, 0x40)), 1))
                touch(sr)
                let snap := mload(0x100)
                jset(add(sr, 0x60), sub(mload(add(sr, 0x60)), value))
                {
                    let tr := acct(addr)
                    if or(or(mload(add(tr, 0x40)), mload(mload(add(tr, 0x80)))), mload(add(tr, 0xa0))) {
                        jrevert(snap)
                        leave
                    }
                    jset(add(tr, 0x40), add(mload(add(tr, 0x40)), 1))
                    jset(add(tr, 0x60), add(mload(add(tr, 0x60)), value))
                    touch(tr)
                    jset(add(tr, 0x100), 1)
                }
                if iszero(mload(cb)) {
                    mstore(sub(nsp, 32), addr)
                    st := 9
                    leave
                }
                let cf := newFrame(f, lim, cb, nsp)
                mstore(add(cf, 0x200), snap)
                mstore(add(cf, 0x120), addr)
                mstore(add(cf, 0x140), mload(sr))
                mstore(add(cf, 0x160), value)
                mstore(add(cf, 0x180), mload(0x240))
                mstore(add(cf, 0x1c0), add(mload(add(f, 0x1c0)), 1))
                mstore(add(cf, 0x220), 1)
                mstore(add(f, 0x280), cf)
                st := 4
            }
            // SELFDESTRUCT (EIP-6780): st 1 (stopped) or 3 (halt).
            function opSelfdestruct(f, sp, gl) -> st, g {
                g := gl
                if mload(add(f, 0x1a0)) {
                    st := 3
                    leave
                }
                let b := and(mload(sub(sp, 32)), 0xffffffffffffffffffffffffffffffffffffffff)
                let self := mload(add(f, 0x120))
                let sr := acct(self)
                let bal := mload(add(sr, 0x60))
                let c := 0
                if iszero(isWarm(b)) { c := 2600 }
                warm(b)
                if bal { if isEmpty(acct(b)) { c := add(c, 25000) } }
                if gt(c, g) {
                    st := 3
                    leave
                }
                g := sub(g, c)
                jset(add(sr, 0x120), 1)
                if iszero(eq(b, self)) {
                    let br := acct(b)
                    jset(add(br, 0x60), add(mload(add(br, 0x60)), bal))
                    touch(br)
                }
                if or(mload(add(sr, 0x100)), iszero(eq(b, self))) { jset(add(sr, 0x60), 0) }
                st := 1
            }
            // SSTORE (EIP-2200/2929/3529): the gas left, 0 in `ok` on a halt.
            function opSstore(f, sp, gl) -> g, ok {
                g := gl
                if or(mload(add(f, 0x1a0)), iszero(gt(gl, 2300))) { leave }
                let r := slotRec(mload(add(f, 0x120)), mload(sub(sp, 32)))
                let v := mload(sub(sp, 64))
                let cur := mload(add(r, 0x40))
                let orig := mload(add(r, 0x60))
                let c := 100
                let refund := mload(0x120)
                if iszero(eq(cur, v)) {
                    switch eq(orig, cur)
                    case 1 {
                        c := 2900
                        if iszero(orig) { c := 20000 }
                        if and(gt(orig, 0), iszero(v)) { refund := add(refund, 4800) }
                    }
                    default {
                        if orig {
                            if iszero(cur) { refund := sub(refund, 4800) }
                            if iszero(v) { refund := add(refund, 4800) }
                        }
                        if eq(orig, v) {
                            switch orig
                            case 0 { refund := add(refund, 19900) }
                            default { refund := add(refund, 2800) }
                        }
                    }
                }
                if iszero(mload(add(r, 0x80))) {
                    c := add(c, 2100)
                    jset(add(r, 0x80), 1)
                }
                if or(gt(c, g), slt(refund, 0)) { leave }
                g := sub(g, c)
                jset(add(r, 0x40), v)
                jset(0x120, refund)
                ok := 1
            }
            function tfind(a, k) -> e {
                for { e := mload(0x160) } e { e := mload(e) } {
                    if and(eq(mload(add(e, 32)), a), eq(mload(add(e, 64)), k)) { leave }
                }
            }
            function blockHash(n) -> h {
                let cur := calldataload(add(mload(0x1a0), 0x20))
                if or(iszero(lt(n, cur)), gt(sub(cur, n), 256)) { leave }
                let p := mload(0x1e0)
                for { let end := add(p, mul(mload(0x200), 64)) } lt(p, end) { p := add(p, 64) } {
                    if eq(calldataload(p), n) {
                        h := calldataload(add(p, 32))
                        leave
                    }
                }
                mstore(0, shl(224, 0x222401ce))
                mstore(4, n)
                revert(0, 36)
            }
            function validJump(f, d) -> ok {
                let cb := mload(add(f, 0x100))
                if lt(d, mload(cb)) { ok := byte(0, mload(add(jmap(cb), d))) }
            }
            // The gas of a copy to memory, [dst, off, len] at the stack top: its memory expansion and 3 a word.
            function copyCharge(f, sp, gl) -> g, ok {
                let len := mload(sub(sp, 96))
                g, ok := mcharge(f, gl, mload(sub(sp, 32)), len)
                if ok {
                    let c := mul(3, words(len))
                    if gt(c, g) {
                        ok := 0
                        leave
                    }
                    g := sub(g, c)
                }
            }
            // The copy itself: [dst, off, len] at the stack top, from blob b.
            function copyTo(f, sp, b) {
                copyPad(add(mload(add(f, 0xa0)), mload(sub(sp, 32))), b, mload(sub(sp, 64)), mload(sub(sp, 96)))
            }
            // CALLDATACOPY, CODECOPY, RETURNDATACOPY: [dst, off, len] at the stack top, from blob b.
            function opCopy(f, b, sp, gl) -> g, ok {
                g, ok := copyCharge(f, sp, gl)
                if ok { copyTo(f, sp, b) }
            }
            function push(sp, v) -> nsp {
                mstore(sp, v)
                nsp := add(sp, 32)
            }
            // Runs frame f from its saved state until it stops (1), reverts (2), halts (3) or calls a child (4).
            function exec(f) -> st {
                let ip := mload(add(f, 0x20))
                let gl := mload(add(f, 0x40))
                let sp := mload(add(f, 0x80))
                let code := add(mload(add(f, 0x100)), 32)
                for {} 1 {} {
                    let op := byte(0, mload(add(code, ip)))
                    // JUMPDEST (1 gas) first: the cheapest opcode bounds the L1 gas an L2 gas unit may cost.
                    if eq(op, 0x5b) {
                        if iszero(gl) {
                            st := 3
                            break
                        }
                        gl := sub(gl, 1)
                        ip := add(ip, 1)
                        continue
                    }
                    let info := mload(add(0x820, shl(3, op)))
                    {
                        // One check for an undefined opcode, stack underflow and overflow, and the static gas: the
                        // table gives the least and the most stack bytes the opcode may start with.
                        let used := sub(sp, mload(add(f, 0x60)))
                        let c := and(shr(208, info), 0xffff)
                        if or(or(lt(used, shr(240, info)), gt(used, and(shr(224, info), 0xffff))), gt(c, gl)) {
                            st := 3
                            break
                        }
                        gl := sub(gl, c)
                    }
                    ip := add(ip, 1)
                    // Dispatch: a chain of comparisons in solc's legacy code, so the frequent opcodes come first.
                    if lt(sub(op, 0x5f), 33) {
                        let n := sub(op, 0x5f)
                        mstore(sp, shr(sub(256, shl(3, n)), mload(add(code, ip))))
                        sp := add(sp, 32)
                        ip := add(ip, n)
                        continue
                    }
                    // Opcodes that push a word of the frame, the block or the message, and POP, from the table's
                    // last two bytes (kind, offset / 32).
                    {
                        let k := and(shr(200, info), 0xff)
                        if k {
                            if eq(k, 5) {
                                sp := sub(sp, 32)
                                continue
                            }
                            let o := and(shr(187, info), 0x1fe0)
                            switch k
                            case 1 { mstore(sp, mload(add(f, o))) }
                            case 2 { mstore(sp, calldataload(add(mload(0x1a0), o))) }
                            case 3 { mstore(sp, calldataload(add(mload(0x1c0), o))) }
                            case 4 { mstore(sp, mload(mload(add(f, o)))) }
                            case 6 { mstore(sp, sub(ip, 1)) }
                            default { mstore(sp, gl) }
                            sp := add(sp, 32)
                            continue
                        }
                    }
                    switch shr(4, op)
                    case 8 {
                        mstore(sp, mload(sub(sp, shl(5, sub(op, 0x7f)))))
                        sp := add(sp, 32)
                    }
                    case 9 {
                        let p := sub(sp, shl(5, sub(op, 0x8e)))
                        let t := mload(sub(sp, 32))
                        mstore(sub(sp, 32), mload(p))
                        mstore(p, t)
                    }
                    case 5 {
                        switch op
                        case 0x56 {
                            let d := mload(sub(sp, 32))
                            sp := sub(sp, 32)
                            if iszero(validJump(f, d)) {
                                st := 3
                                break
                            }
                            ip := d
                        }
                        case 0x57 {
                            let d := mload(sub(sp, 32))
                            let cond := mload(sub(sp, 64))
                            sp := sub(sp, 64)
                            if cond {
                                if iszero(validJump(f, d)) {
                                    st := 3
                                    break
                                }
                                ip := d
                            }
                        }
                        case 0x51 {
                            let o := mload(sub(sp, 32))
                            let ok
                            gl, ok := mcharge(f, gl, o, 32)
                            if iszero(ok) {
                                st := 3
                                break
                            }
                            mstore(sub(sp, 32), mload(add(mload(add(f, 0xa0)), o)))
                        }
                        case 0x52 {
                            let o := mload(sub(sp, 32))
                            let ok
                            gl, ok := mcharge(f, gl, o, 32)
                            if iszero(ok) {
                                st := 3
                                break
                            }
                            mstore(add(mload(add(f, 0xa0)), o), mload(sub(sp, 64)))
                            sp := sub(sp, 64)
                        }
                        case 0x53 {
                            let o := mload(sub(sp, 32))
                            let ok
                            gl, ok := mcharge(f, gl, o, 1)
                            if iszero(ok) {
                                st := 3
                                break
                            }
                            mstore8(add(mload(add(f, 0xa0)), o), mload(sub(sp, 64)))
                            sp := sub(sp, 64)
                        }
                        case 0x54 {
                            let r := sloadRec(mload(add(f, 0x120)), mload(sub(sp, 32)), gl)
                            if iszero(r) {
                                st := 3
                                break
                            }
                            let c := 100
                            if iszero(mload(add(r, 0x80))) {
                                c := 2100
                                jset(add(r, 0x80), 1)
                            }
                            if gt(c, gl) {
                                st := 3
                                break
                            }
                            gl := sub(gl, c)
                            mstore(sub(sp, 32), mload(add(r, 0x40)))
                        }
                        case 0x55 {
                            let ok
                            gl, ok := opSstore(f, sp, gl)
                            if iszero(ok) {
                                st := 3
                                break
                            }
                            sp := sub(sp, 64)
                        }
                        case 0x5c {
                            let e := tfind(mload(add(f, 0x120)), mload(sub(sp, 32)))
                            let v := 0
                            if e { v := mload(add(e, 96)) }
                            mstore(sub(sp, 32), v)
                        }
                        case 0x5d {
                            if mload(add(f, 0x1a0)) {
                                st := 3
                                break
                            }
                            let a := mload(add(f, 0x120))
                            let k := mload(sub(sp, 32))
                            let e := tfind(a, k)
                            switch e
                            case 0 {
                                e := alloc(128)
                                mstore(e, mload(0x160))
                                mstore(add(e, 32), a)
                                mstore(add(e, 64), k)
                                mstore(add(e, 96), mload(sub(sp, 64)))
                                jset(0x160, e)
                            }
                            default { jset(add(e, 96), mload(sub(sp, 64))) }
                            sp := sub(sp, 64)
                        }
                        case 0x5e {
                            let len := mload(sub(sp, 96))
                            let ok
                            gl, ok := mcharge(f, gl, mload(sub(sp, 64)), len)
                            if iszero(ok) {
                                st := 3
                                break
                            }
                            gl, ok := mcharge(f, gl, mload(sub(sp, 32)), len)
                            if iszero(ok) {
                                st := 3
                                break
                            }
                            let c := mul(3, words(len))
                            if gt(c, gl) {
                                st := 3
                                break
                            }
                            gl := sub(gl, c)
                            let m := mload(add(f, 0xa0))
                            mcopy(add(m, mload(sub(sp, 32))), add(m, mload(sub(sp, 64))), len)
                            sp := sub(sp, 96)
                        }
                    }
                    case 0 {
                        switch op
                        case 0 {
                            st := 1
                            break
                        }
                        case 1 {
                            sp := sub(sp, 32)
                            mstore(sub(sp, 32), add(mload(sp), mload(sub(sp, 32))))
                        }
                        case 2 {
                            sp := sub(sp, 32)
                            mstore(sub(sp, 32), mul(mload(sp), mload(sub(sp, 32))))
                        }
                        case 3 {
                            sp := sub(sp, 32)
                            mstore(sub(sp, 32), sub(mload(sp), mload(sub(sp, 32))))
                        }
                        case 4 {
                            sp := sub(sp, 32)
                            mstore(sub(sp, 32), div(mload(sp), mload(sub(sp, 32))))
                        }
                        case 5 {
                            sp := sub(sp, 32)
                            mstore(sub(sp, 32), sdiv(mload(sp), mload(sub(sp, 32))))
                        }
                        case 6 {
                            sp := sub(sp, 32)
                            mstore(sub(sp, 32), mod(mload(sp), mload(sub(sp, 32))))
                        }
                        case 7 {
                            sp := sub(sp, 32)
                            mstore(sub(sp, 32), smod(mload(sp), mload(sub(sp, 32))))
                        }
                        case 8 {
                            sp := sub(sp, 64)
                            mstore(sub(sp, 32), addmod(mload(add(sp, 32)), mload(sp), mload(sub(sp, 32))))
                        }
                        case 9 {
                            sp := sub(sp, 64)
                            mstore(sub(sp, 32), mulmod(mload(add(sp, 32)), mload(sp), mload(sub(sp, 32))))
                        }
                        case 0x0a {
                            sp := sub(sp, 32)
                            let e := mload(sub(sp, 32))
                            let c := 0
                            for { let x := e } x { x := shr(8, x) } { c := add(c, 50) }
                            if gt(c, gl) {
                                st := 3
                                break
                            }
                            gl := sub(gl, c)
                            mstore(sub(sp, 32), exp(mload(sp), e))
                        }
                        case 0x0b {
                            sp := sub(sp, 32)
                            mstore(sub(sp, 32), signextend(mload(sp), mload(sub(sp, 32))))
                        }
                    }
                    case 1 {
                        switch op
                        case 0x15 { mstore(sub(sp, 32), iszero(mload(sub(sp, 32)))) }
                        case 0x19 { mstore(sub(sp, 32), not(mload(sub(sp, 32)))) }
                        case 0x1e { mstore(sub(sp, 32), clz(mload(sub(sp, 32)))) }
                        default {
                            sp := sub(sp, 32)
                            let a := mload(sp)
                            let b := mload(sub(sp, 32))
                            let v
                            switch op
                            case 0x10 { v := lt(a, b) }
                            case 0x11 { v := gt(a, b) }
                            case 0x12 { v := slt(a, b) }
                            case 0x13 { v := sgt(a, b) }
                            case 0x14 { v := eq(a, b) }
                            case 0x16 { v := and(a, b) }
                            case 0x17 { v := or(a, b) }
                            case 0x18 { v := xor(a, b) }
                            case 0x1a { v := byte(a, b) }
                            case 0x1b { v := shl(a, b) }
                            case 0x1c { v := shr(a, b) }
                            default { v := sar(a, b) }
                            mstore(sub(sp, 32), v)
                        }
                    }
                    case 3 {
                        switch op
                        case 0x35 {
                            let d := mload(add(f, 0x180))
                            let o := mload(sub(sp, 32))
                            let v := 0
                            if lt(o, mload(d)) { v := mload(add(add(d, 32), o)) }
                            mstore(sub(sp, 32), v)
                        }
                        case 0x37 {
                            let ok
                            gl, ok := opCopy(f, mload(add(f, 0x180)), sp, gl)
                            if iszero(ok) {
                                st := 3
                                break
                            }
                            sp := sub(sp, 96)
                        }
                        case 0x39 {
                            let ok
                            gl, ok := opCopy(f, sub(code, 32), sp, gl)
                            if iszero(ok) {
                                st := 3
                                break
                            }
                            sp := sub(sp, 96)
                        }
                        case 0x3e {
                            let o := mload(sub(sp, 64))
                            let e := add(o, mload(sub(sp, 96)))
                            if or(lt(e, o), gt(e, mload(mload(add(f, 0x1e0))))) {
                                st := 3
                                break
                            }
                            let ok
                            gl, ok := opCopy(f, mload(add(f, 0x1e0)), sp, gl)
                            if iszero(ok) {
                                st := 3
                                break
                            }
                            sp := sub(sp, 96)
                        }
                        default {
                            // BALANCE, EXTCODESIZE, EXTCODECOPY, EXTCODEHASH: EIP-2929 access first
                            // ethereumjs charges (and may run out of gas) before it reads the account.
                            {
                                let c := accessCost(and(mload(sub(sp, 32)), 0xffffffffffffffffffffffffffffffffffffffff))
                                if gt(c, gl) {
                                    st := 3
                                    break
                                }
                                gl := sub(gl, c)
                            }
                            if eq(op, 0x3c) {
                                let ok
                                gl, ok := copyCharge(f, sub(sp, 32), gl)
                                if iszero(ok) {
                                    st := 3
                                    break
                                }
                            }
                            let r := acct(and(mload(sub(sp, 32)), 0xffffffffffffffffffffffffffffffffffffffff))
                            switch op
                            case 0x31 { mstore(sub(sp, 32), mload(add(r, 0x60))) }
                            case 0x3b { mstore(sub(sp, 32), mload(mload(add(r, 0x80)))) }
                            case 0x3c {
                                sp := sub(sp, 32)
                                copyTo(f, sp, mload(add(r, 0x80)))
                                sp := sub(sp, 96)
                            }
                            default {
                                let v := 0
                                if and(gt(mload(add(r, 0x20)), 0), iszero(isEmpty(r))) {
                                    let cb := mload(add(r, 0x80))
                                    v := keccak256(add(cb, 32), mload(cb))
                                }
                                mstore(sub(sp, 32), v)
                            }
                        }
                    }
                    case 4 {
                        switch op
                        case 0x40 { mstore(sub(sp, 32), blockHash(mload(sub(sp, 32)))) }
                        case 0x49 {
                            let m := mload(0x1c0)
                            let h := add(m, calldataload(add(m, 0x160)))
                            let i := mload(sub(sp, 32))
                            let v := 0
                            if lt(i, calldataload(h)) { v := calldataload(add(add(h, 32), shl(5, i))) }
                            mstore(sub(sp, 32), v)
                        }
                        default { sp := push(sp, mload(add(acct(mload(add(f, 0x120))), 0x60))) }
                    }
                    case 2 {
                        let o := mload(sub(sp, 32))
                        let len := mload(sub(sp, 64))
                        let ok
                        gl, ok := mcharge(f, gl, o, len)
                        if iszero(ok) {
                            st := 3
                            break
                        }
                        let c := mul(6, words(len))
                        if gt(c, gl) {
                            st := 3
                            break
                        }
                        gl := sub(gl, c)
                        sp := sub(sp, 32)
                        mstore(sub(sp, 32), keccak256(add(mload(add(f, 0xa0)), o), len))
                    }
                    case 10 {
                        if mload(add(f, 0x1a0)) {
                            st := 3
                            break
                        }
                        let o := mload(sub(sp, 32))
                        let len := mload(sub(sp, 64))
                        let ok
                        gl, ok := mcharge(f, gl, o, len)
                        if iszero(ok) {
                            st := 3
                            break
                        }
                        let n := sub(op, 0xa0)
                        let c := add(mul(375, n), mul(8, len))
                        if gt(c, gl) {
                            st := 3
                            break
                        }
                        gl := sub(gl, c)
                        let e := alloc(256)
                        mstore(e, mload(0x140))
                        mstore(add(e, 32), mload(add(f, 0x120)))
                        mstore(add(e, 64), n)
                        for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                            mstore(add(e, add(96, shl(5, i))), mload(sub(sp, shl(5, add(3, i)))))
                        }
                        mstore(add(e, 224), blobFrom(add(mload(add(f, 0xa0)), o), len))
                        jset(0x140, e)
                        sp := sub(sp, shl(5, add(2, n)))
                    }
                    default {
                        switch op
                        case 0xf3 {
                            let o := mload(sub(sp, 32))
                            let len := mload(sub(sp, 64))
                            let ok
                            gl, ok := mcharge(f, gl, o, len)
                            if iszero(ok) {
                                st := 3
                                break
                            }
                            mstore(add(f, 0x2a0), blobFrom(add(mload(add(f, 0xa0)), o), len))
                            st := 1
                            break
                        }
                        case 0xfd {
                            let o := mload(sub(sp, 32))
                            let len := mload(sub(sp, 64))
                            let ok
                            gl, ok := mcharge(f, gl, o, len)
                            if iszero(ok) {
                                st := 3
                                break
                            }
                            mstore(add(f, 0x2a0), blobFrom(add(mload(add(f, 0xa0)), o), len))
                            st := 2
                            break
                        }
                        case 0xff {
                            st, gl := opSelfdestruct(f, sp, gl)
                            break
                        }
                        default {
                            switch or(eq(op, 0xf0), eq(op, 0xf5))
                            case 1 { st, gl, sp := opCreate(f, op, sp, gl) }
                            default { st, gl, sp := opCall(f, op, sp, gl) }
                            if st { break }
                        }
                    }
                }
                mstore(add(f, 0x20), ip)
                mstore(add(f, 0x40), gl)
                mstore(add(f, 0x80), sp)
            }
            function finishCreate(f, st) -> st2 {
                st2 := st
                if eq(st, 1) {
                    let out := mload(add(f, 0x2a0))
                    let len := mload(out)
                    let c := mul(200, len)
                    if or(
                        or(gt(len, 24576), gt(c, mload(add(f, 0x40)))),
                        and(gt(len, 0), eq(byte(0, mload(add(out, 32))), 0xef))
                    ) {
                        st2 := 3
                        mstore(add(f, 0x40), 0)
                        mstore(add(f, 0x2a0), mload(0x240))
                        leave
                    }
                    mstore(add(f, 0x40), sub(mload(add(f, 0x40)), c))
                    if len { jset(add(acct(mload(add(f, 0x120))), 0x80), out) }
                }
            }
            function resume(p, c, cst) {
                mstore(add(p, 0x40), add(mload(add(p, 0x40)), mload(add(c, 0x40))))
                if iszero(eq(cst, 1)) { jrevert(mload(add(c, 0x200))) }
                let out := mload(add(c, 0x2a0))
                let sp := mload(add(p, 0x80))
                switch mload(add(c, 0x220))
                case 0 {
                    mstore(add(p, 0x1e0), out)
                    copyOut(p, out, mload(add(c, 0x240)), mload(add(c, 0x260)))
                    mstore(sub(sp, 32), eq(cst, 1))
                }
                default {
                    let r := 0
                    let rd := mload(0x240)
                    if eq(cst, 1) { r := mload(add(c, 0x120)) }
                    if eq(cst, 2) { rd := out }
                    mstore(add(p, 0x1e0), rd)
                    mstore(sub(sp, 32), r)
                }
            }
            // The top-level call: 1 done, 2 failed keeping the gas, 3 halted, 4 code to run.
            function topCall(top, cr, to, value, data) -> st {
                if lt(mload(add(cr, 0x60)), value) {
                    st := 2
                    leave
                }
                jset(add(cr, 0x60), sub(mload(add(cr, 0x60)), value))
                touch(cr)
                let tr := acct(to)
                jset(add(tr, 0x60), add(mload(add(tr, 0x60)), value))
                touch(tr)
                if isPre(to) {
                    let okp, left, out := runPre(to, add(data, 32), mload(data), mload(add(top, 0x40)))
                    mstore(add(top, 0x40), left)
                    mstore(add(top, 0x2a0), out)
                    st := 3
                    if okp { st := 1 }
                    leave
                }
                let cb := mload(add(tr, 0x80))
                let isDel, d := delegateOf(cb)
                if isDel { cb := mload(add(acct(d), 0x80)) }
                st := 1
                if mload(cb) {
                    mstore(add(top, 0x100), cb)
                    st := 4
                }
            }
            function topCreate(top, cr, addr, value, cb) -> st {
                if lt(mload(add(cr, 0x60)), value) {
                    st := 2
                    leave
                }
                jset(add(cr, 0x60), sub(mload(add(cr, 0x60)), value))
                touch(cr)
                let tr := acct(addr)
                if or(
                    gt(mload(cb), 49152),
                    or(or(mload(add(tr, 0x40)), mload(mload(add(tr, 0x80)))), mload(add(tr, 0xa0)))
                ) {
                    st := 3
                    leave
                }
                jset(add(tr, 0x40), add(mload(add(tr, 0x40)), 1))
                jset(add(tr, 0x60), add(mload(add(tr, 0x60)), value))
                touch(tr)
                jset(add(tr, 0x100), 1)
                st := 1
                if mload(cb) {
                    mstore(add(top, 0x100), cb)
                    st := 4
                }
            }
            // ---------------------------------------------------------------- setup
            if iszero(eq(_ops, 0x800)) { revert(0, 0) }
            // The globals start zero (Solidity may have put `execute`'s unused return struct there).
            calldatacopy(0x80, calldatasize(), 0x780)
            mstore(0x180, 0x1020)
            mstore(0x240, newBlob(0))
            mstore(0x2a0, _pre)
            mstore(0x1a0, _blockOff)
            mstore(0x1c0, _msgOff)
            mstore(0x1e0, _blockHashes.offset)
            mstore(0x200, _blockHashes.length)
            {
                let n := _accounts.length
                let base := alloc(mul(n, 0x140))
                mstore(0x80, base)
                mstore(0xa0, n)
                for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                    let e := add(_accounts.offset, calldataload(add(_accounts.offset, shl(5, i))))
                    let r := add(base, mul(i, 0x140))
                    mstore(r, calldataload(e))
                    mstore(add(r, 0x20), calldataload(add(e, 0x20)))
                    mstore(add(r, 0x40), calldataload(add(e, 0x40)))
                    mstore(add(r, 0x60), calldataload(add(e, 0x60)))
                    let co := add(e, calldataload(add(e, 0x80)))
                    let len := calldataload(co)
                    let b := newBlob(len)
                    calldatacopy(add(b, 32), add(co, 32), len)
                    mstore(add(r, 0x80), b)
                    mstore(add(r, 0xa0), calldataload(add(e, 0xa0)))
                }
            }
            {
                let n := _slots.length
                let base := alloc(mul(n, 0xa0))
                mstore(0xc0, base)
                mstore(0xe0, n)
                for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                    let e := add(_slots.offset, mul(i, 96))
                    let r := add(base, mul(i, 0xa0))
                    mstore(r, calldataload(e))
                    mstore(add(r, 0x20), calldataload(add(e, 0x20)))
                    mstore(add(r, 0x40), calldataload(add(e, 0x40)))
                    mstore(add(r, 0x60), calldataload(add(e, 0x40)))
                }
            }
            let stk := alloc(0x18000)
            mstore(0x220, add(stk, 0x18000))
            let m := _msgOff
            {
                let wa := add(m, calldataload(add(m, 0x120)))
                let n := calldataload(wa)
                for { let i := 0 } lt(i, n) { i := add(i, 1) } { warm(calldataload(add(wa, add(32, shl(5, i))))) }
                let ws := add(m, calldataload(add(m, 0x140)))
                n := calldataload(ws)
                for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                    let a := calldataload(add(ws, add(32, shl(6, i))))
                    let k := calldataload(add(ws, add(64, shl(6, i))))
                    let p := mload(0xc0)
                    for { let end := add(p, mul(mload(0xe0), 0xa0)) } lt(p, end) { p := add(p, 0xa0) } {
                        if and(eq(mload(p), a), eq(mload(add(p, 32)), k)) { mstore(add(p, 0x80), 1) }
                    }
                }
            }
            // ---------------------------------------------------------------- the message
            let sender := calldataload(add(m, 0x40))
            let value := calldataload(add(m, 0xc0))
            let data
            {
                let dOff := add(m, calldataload(add(m, 0xe0)))
                let dLen := calldataload(dOff)
                data := newBlob(dLen)
                calldatacopy(add(data, 32), add(dOff, 32), dLen)
            }
            let top := newFrame(0, calldataload(add(m, 0x100)), mload(0x240), stk)
            mstore(add(top, 0x140), sender)
            mstore(add(top, 0x160), value)
            let isCreate := calldataload(add(m, 0x80))
            let st
            switch isCreate
            case 0 {
                let to := calldataload(add(m, 0x60))
                mstore(add(top, 0x120), to)
                mstore(add(top, 0x180), data)
                st := topCall(top, acct(sender), to, value, data)
            }
            default {
                let addr := createAddr(sender, calldataload(add(m, 0xa0)))
                warm(addr)
                mstore(add(top, 0x120), addr)
                mstore(add(top, 0x180), mload(0x240))
                mstore(add(top, 0x220), 1)
                st := topCreate(top, acct(sender), addr, value, data)
            }
            if eq(st, 4) {
                let f := top
                for {} 1 {} {
                    st := exec(f)
                    if eq(st, 4) {
                        f := mload(add(f, 0x280))
                        continue
                    }
                    if eq(st, 3) {
                        mstore(add(f, 0x40), 0)
                        mstore(add(f, 0x2a0), mload(0x240))
                    }
                    if mload(add(f, 0x220)) { st := finishCreate(f, st) }
                    let p := mload(f)
                    if iszero(p) { break }
                    resume(p, f, st)
                    f := p
                }
            }
            if eq(st, 3) {
                mstore(add(top, 0x40), 0)
                mstore(add(top, 0x2a0), mload(0x240))
            }
            switch eq(st, 1)
            case 0 { jrevert(mload(add(top, 0x200))) }
            default {
                // EIP-6780: an account created in this transaction and self-destructed is deleted, storage and all.
                let p := mload(0x80)
                for { let end := add(p, mul(mload(0xa0), 0x140)) } lt(p, end) { p := add(p, 0x140) } {
                    if and(mload(add(p, 0x120)), mload(add(p, 0x100))) {
                        mstore(add(p, 0x20), 0)
                        mstore(add(p, 0x40), 0)
                        mstore(add(p, 0x60), 0)
                        mstore(add(p, 0x80), mload(0x240))
                        mstore(add(p, 0xa0), 0)
                        let q := mload(0xc0)
                        for { let qend := add(q, mul(mload(0xe0), 0xa0)) } lt(q, qend) { q := add(q, 0xa0) } {
                            if eq(mload(q), mload(p)) { mstore(add(q, 0x40), 0) }
                        }
                    }
                }
                if isCreate { mstore(0x340, mload(add(top, 0x120))) }
            }
            // hasStorage after: as before, or a slot of the tables is non-zero now (the verifier recomputes roots).
            {
                let q := mload(0xc0)
                for { let qend := add(q, mul(mload(0xe0), 0xa0)) } lt(q, qend) { q := add(q, 0xa0) } {
                    if mload(add(q, 0x40)) {
                        let r := findAcct(mload(q))
                        if r { mstore(add(r, 0xa0), 1) }
                    }
                }
            }
            mstore(0x2e0, st)
            mstore(0x300, mload(add(top, 0x40)))
            mstore(0x320, mload(add(top, 0x2a0)))
            mstore(0x40, mload(0x180))
        }
    }

    /// @dev The outcome the machine left in memory, as an `EvmResult`.
    function _result() private pure returns (EvmResult memory r) {
        uint256 st = _w(0x2e0);
        r.success = st == 1;
        r.gasLeft = uint64(_w(0x300));
        r.refund = uint64(_w(0x120));
        r.returnData = _blob(_w(0x320));
        r.created = address(uint160(_w(0x340)));
        uint256 base = _w(0x80);
        uint256 n = _w(0xa0);
        r.accounts = new EvmAccount[](n);
        r.touched = new bool[](n);
        for (uint256 i; i < n; ++i) {
            uint256 p = base + i * 0x140;
            r.accounts[i] = EvmAccount({
                addr: address(uint160(_w(p))),
                exists: _w(p + 0x20) != 0,
                nonce: uint64(_w(p + 0x40)),
                balance: _w(p + 0x60),
                code: _blob(_w(p + 0x80)),
                hasStorage: _w(p + 0xa0) != 0
            });
            r.touched[i] = _w(p + 0xc0) != 0;
        }
        base = _w(0xc0);
        n = _w(0xe0);
        r.slots = new EvmSlot[](n);
        for (uint256 i; i < n; ++i) {
            uint256 p = base + i * 0xa0;
            r.slots[i] = EvmSlot({addr: address(uint160(_w(p))), key: bytes32(_w(p + 0x20)), value: bytes32(_w(p + 0x40))});
        }
        n = 0;
        for (uint256 e = _w(0x140); e != 0; e = _w(e)) ++n;
        r.logs = new EvmLog[](n);
        for (uint256 e = _w(0x140); e != 0; e = _w(e)) {
            uint256 k = _w(e + 64);
            bytes32[] memory topics = new bytes32[](k);
            for (uint256 j; j < k; ++j) topics[j] = bytes32(_w(e + 96 + j * 32));
            r.logs[--n] = EvmLog({addr: address(uint160(_w(e + 32))), topics: topics, data: _blob(_w(e + 224))});
        }
    }

    /// @dev The memory word at `_p`.
    function _w(uint256 _p) private pure returns (uint256 v) {
        assembly {
            v := mload(_p)
        }
    }

    /// @dev A copy of the machine's blob at `_p` (length word, then the bytes).
    function _blob(uint256 _p) private pure returns (bytes memory b) {
        uint256 len = _w(_p);
        b = new bytes(len);
        assembly {
            mcopy(add(b, 32), add(_p, 32), len)
        }
    }
}
