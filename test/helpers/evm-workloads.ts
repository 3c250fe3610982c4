/**
 * Workloads for the EVM interpreter's differential tests (issue 18): named, deterministic `ReferenceCase`s that
 * exercise one behaviour each (`workloadCases`), and seeded random bytecode programs (`randomProgramCases`). No case
 * calls a precompile (0x01–0x11, 0x100): those are tested separately. Hand-written bytecode is assembler text (see
 * evm-asm.ts): opcode names, numbers pushed with the shortest PUSH, `@label` and `&label`.
 */
import {
  type Hex,
  encodeAbiParameters,
  encodeFunctionData,
  getContractAddress,
  keccak256,
  numberToHex,
  parseAbi,
  toHex,
} from 'viem'
import { compileFiles } from '../../scripts/compile-contracts.mjs'
import { contract } from './contracts.ts'
import { type AsmItem, type CallOptions, asm, call, deployCode, mstoreBytes } from './evm-asm.ts'
import type { PreAccount, ReferenceCase } from './evm-reference.ts'
import { type Rng, rng } from './rng.ts'

export const ALICE: Hex = '0xa11ce00000000000000000000000000000000a11'
export const BOB: Hex = '0xb0b0000000000000000000000000000000000b0b'
export const CAROL: Hex = '0xca201000000000000000000000000000000ca201'
/** Contracts of the hand-written cases. */
export const C1: Hex = '0xc100000000000000000000000000000000000001'
export const C2: Hex = '0xc200000000000000000000000000000000000002'
export const C3: Hex = '0xc300000000000000000000000000000000000003'
export const C4: Hex = '0xc400000000000000000000000000000000000004'
/** An EOA delegated (EIP-7702), to C3 unless a case says otherwise. */
export const DELEGATED: Hex = '0xde1e000000000000000000000000000000000de1'
export const TOKEN0: Hex = '0x7000000000000000000000000000000000000000'
export const TOKEN1: Hex = '0x7100000000000000000000000000000000000001'
export const POOL: Hex = '0x9000000000000000000000000000000000000000'

const ETH = 10n ** 18n
const MAX = 2n ** 256n - 1n
const tokenAbi = parseAbi([
  'function transfer(address to, uint256 value) returns (bool)',
  'function transferFrom(address from, address to, uint256 value) returns (bool)',
  'function approve(address spender, uint256 value) returns (bool)',
])
const poolAbi = parseAbi([
  'function swap(address tokenIn, uint256 amountIn, uint256 minOut) returns (uint256)',
  'function addLiquidity(uint256 amount0, uint256 amount1) returns (uint256)',
])

/** Slot of `mapping(address => …)` at `slot`, key `a`. */
export function mappingSlot(a: Hex, slot: bigint | Hex): Hex {
  return keccak256(
    encodeAbiParameters([{ type: 'address' }, { type: typeof slot === 'bigint' ? 'uint256' : 'bytes32' }], [a, slot as never]),
  )
}

function w(v: bigint): Hex {
  return numberToHex(v, { size: 32 })
}

/** Byte length of bytecode. */
function size(code: Hex): number {
  return (code.length - 2) / 2
}

/** Token.sol's storage: balances (slot 3), allowances (slot 4), total supply (slot 2). */
function tokenStorage(balances: [Hex, bigint][], allowances: [Hex, Hex, bigint][] = []): Record<Hex, Hex> {
  const s: Record<Hex, Hex> = {}
  let total = 0n
  for (const [a, v] of balances) {
    s[mappingSlot(a, 3n)] = w(v)
    total += v
  }
  for (const [owner, spender, v] of allowances) s[mappingSlot(spender, mappingSlot(owner, 4n))] = w(v)
  s[w(2n)] = w(total)
  return s
}

let compiled: { token: { bytecode: Hex; runtime: Hex }; pool: { bytecode: Hex; runtime: Hex } } | undefined
/** Token.sol (contracts/) and the test pool (contracts/test/EvmRefPool.sol, compiled as `testContract` does). */
function contracts() {
  if (compiled === undefined) {
    const token = contract('Token')
    const [pool] = compileFiles(['test/EvmRefPool.sol'], 'cancun')
    compiled = {
      token: { bytecode: token.bytecode, runtime: token.deployedBytecode },
      pool: { bytecode: pool!.bytecode, runtime: pool!.deployedBytecode },
    }
  }
  return compiled
}

function eoa(address: Hex, balance = 10n * ETH, nonce = 0n): PreAccount {
  return { address, balance, nonce }
}

/** Text: a call whose success flag is stored at `slot`. */
function callAndRecord(op: Parameters<typeof call>[0], to: Hex | string, slot: number, o: CallOptions = {}): string {
  return `${call(op, to, o)} ${slot} SSTORE`
}

function erc20Cases(): ReferenceCase[] {
  const { token } = contracts()
  const tokenAt = (balances: [Hex, bigint][], allowances: [Hex, Hex, bigint][] = []): PreAccount => ({
    address: TOKEN0,
    code: token.runtime,
    storage: tokenStorage(balances, allowances),
  })
  const transfer = (to: Hex, v: bigint) => encodeFunctionData({ abi: tokenAbi, functionName: 'transfer', args: [to, v] })
  const transferFrom = (from: Hex, to: Hex, v: bigint) =>
    encodeFunctionData({ abi: tokenAbi, functionName: 'transferFrom', args: [from, to, v] })
  const constructorArgs = encodeAbiParameters(
    [{ type: 'string' }, { type: 'string' }, { type: 'uint256' }],
    ['Reference Token', 'REF', 10n ** 24n],
  )
  return [
    {
      name: 'erc20: deploy Token (constructor stores strings, mints, emits Transfer)',
      pre: [eoa(ALICE, ETH, 3n)],
      message: { caller: ALICE, data: `${token.bytecode}${constructorArgs.slice(2)}`, gas: 2_000_000n },
    },
    {
      name: 'erc20: transfer to a holder',
      pre: [
        eoa(ALICE),
        tokenAt([
          [ALICE, 1000n * ETH],
          [BOB, 5n],
        ]),
      ],
      message: { caller: ALICE, to: TOKEN0, data: transfer(BOB, 250n * ETH) },
    },
    {
      name: 'erc20: transfer to a fresh address (balance slot 0 -> x)',
      pre: [eoa(ALICE), tokenAt([[ALICE, 1000n * ETH]])],
      message: { caller: ALICE, to: TOKEN0, data: transfer(CAROL, 1n) },
    },
    {
      name: 'erc20: transfer of the whole balance (balance slot x -> 0, refund)',
      pre: [
        eoa(ALICE),
        tokenAt([
          [ALICE, 77n],
          [BOB, 1n],
        ]),
      ],
      message: { caller: ALICE, to: TOKEN0, data: transfer(BOB, 77n) },
    },
    {
      name: 'erc20: approve',
      pre: [eoa(ALICE), tokenAt([[ALICE, 1000n]])],
      message: {
        caller: ALICE,
        to: TOKEN0,
        data: encodeFunctionData({ abi: tokenAbi, functionName: 'approve', args: [BOB, 500n] }),
      },
    },
    {
      name: 'erc20: transferFrom with allowance',
      pre: [eoa(BOB), tokenAt([[ALICE, 1000n]], [[ALICE, BOB, 600n]])],
      message: { caller: BOB, to: TOKEN0, data: transferFrom(ALICE, CAROL, 400n) },
    },
    {
      name: 'erc20: transferFrom beyond the allowance reverts with reason',
      pre: [eoa(BOB), tokenAt([[ALICE, 1000n]], [[ALICE, BOB, 100n]])],
      message: { caller: BOB, to: TOKEN0, data: transferFrom(ALICE, CAROL, 400n) },
    },
    {
      name: 'erc20: failing transfer (amount exceeds balance) reverts with reason',
      pre: [eoa(ALICE), tokenAt([[ALICE, 10n]])],
      message: { caller: ALICE, to: TOKEN0, data: transfer(BOB, 11n) },
    },
  ]
}

function ammCases(): ReferenceCase[] {
  const { token, pool } = contracts()
  const r0 = 1000n * ETH
  const r1 = 4000n * ETH
  const pre = (): PreAccount[] => [
    eoa(ALICE),
    {
      address: TOKEN0,
      code: token.runtime,
      storage: tokenStorage(
        [
          [ALICE, 100n * ETH],
          [POOL, r0],
        ],
        [[ALICE, POOL, MAX]],
      ),
    },
    {
      address: TOKEN1,
      code: token.runtime,
      storage: tokenStorage(
        [
          [ALICE, 100n * ETH],
          [POOL, r1],
        ],
        [[ALICE, POOL, 50n * ETH]],
      ),
    },
    {
      address: POOL,
      code: pool.runtime,
      storage: {
        [w(0n)]: w(BigInt(TOKEN0)),
        [w(1n)]: w(BigInt(TOKEN1)),
        [w(2n)]: w(r0),
        [w(3n)]: w(r1),
        [w(4n)]: w(2000n * ETH),
        [mappingSlot(CAROL, 5n)]: w(2000n * ETH),
      },
    },
  ]
  const swap = (tokenIn: Hex, amountIn: bigint, minOut: bigint) =>
    encodeFunctionData({ abi: poolAbi, functionName: 'swap', args: [tokenIn, amountIn, minOut] })
  return [
    {
      name: 'amm: swap token0 for token1',
      pre: pre(),
      message: { caller: ALICE, to: POOL, data: swap(TOKEN0, 10n * ETH, 1n), gas: 500_000n },
    },
    {
      name: 'amm: swap token1 for token0 (finite allowance decreases)',
      pre: pre(),
      message: { caller: ALICE, to: POOL, data: swap(TOKEN1, 20n * ETH, 1n), gas: 500_000n },
    },
    {
      name: 'amm: swap below the minimum out reverts with a custom error',
      pre: pre(),
      message: { caller: ALICE, to: POOL, data: swap(TOKEN0, 10n * ETH, 100n * ETH), gas: 500_000n },
    },
    {
      name: 'amm: add liquidity',
      pre: pre(),
      message: {
        caller: ALICE,
        to: POOL,
        data: encodeFunctionData({ abi: poolAbi, functionName: 'addLiquidity', args: [5n * ETH, 20n * ETH] }),
        gas: 500_000n,
      },
    },
    {
      name: 'amm: deploy the pool (constructor with arguments)',
      pre: [eoa(ALICE, ETH, 9n)],
      message: {
        caller: ALICE,
        data: `${pool.bytecode}${encodeAbiParameters([{ type: 'address' }, { type: 'address' }], [TOKEN0, TOKEN1]).slice(2)}`,
        gas: 1_500_000n,
      },
    },
  ]
}

/** One slot (0 of C1) with `original` before the message; the code writes `writes` to it in order, then stops. */
export function sstoreCase(name: string, original: bigint, writes: bigint[], gas = 100_000n): ReferenceCase {
  return {
    name: `sstore: ${name}`,
    pre: [
      eoa(ALICE),
      {
        address: C1,
        code: asm(...writes.map((v) => `${v} 0 SSTORE`), 'STOP'),
        storage: original === 0n ? {} : { [w(0n)]: w(original) },
      },
    ],
    message: { caller: ALICE, to: C1, gas },
  }
}

function sstoreCases(): ReferenceCase[] {
  return [
    sstoreCase('0 -> 1 (set, cold)', 0n, [1n]),
    sstoreCase('1 -> 0 (clear, refund)', 1n, [0n]),
    sstoreCase('1 -> 2 (reset)', 1n, [2n]),
    sstoreCase('1 -> 1 (no-op)', 1n, [1n]),
    sstoreCase('0 -> 0 (no-op on empty)', 0n, [0n]),
    sstoreCase('0 -> 1 -> 0 (restore original zero)', 0n, [1n, 0n]),
    sstoreCase('1 -> 2 -> 1 (restore original non-zero)', 1n, [2n, 1n]),
    sstoreCase('1 -> 0 -> 1 (clear then restore)', 1n, [0n, 1n]),
    sstoreCase('1 -> 0 -> 2 (clear then dirty)', 1n, [0n, 2n]),
    sstoreCase('1 -> 2 -> 0 (dirty then clear)', 1n, [2n, 0n]),
    sstoreCase('0 -> 1 -> 2 -> 3 (dirty writes)', 0n, [1n, 2n, 3n]),
    sstoreCase('1 -> 0 -> 2 -> 0 -> 1 (refund counter up and down)', 1n, [0n, 2n, 0n, 1n]),
    // EIP-2200: SSTORE fails when gas left is at most the call stipend (2300).
    sstoreCase('with gas left at the stipend (2300) fails', 0n, [1n], 2_302n),
    sstoreCase('with gas for the check but not the write fails out of gas', 0n, [1n], 2_400n),
    {
      name: 'sstore: a warm slot from the access list (1 -> 2)',
      pre: [eoa(ALICE), { address: C1, code: asm('2 0 SSTORE STOP'), storage: { [w(0n)]: w(1n) } }],
      message: { caller: ALICE, to: C1, accessList: [{ address: C1, storageKeys: [w(0n)] }] },
    },
    {
      name: 'sstore: SLOAD then SSTORE, and a slot written in a reverted sub-call keeps its original',
      pre: [
        eoa(ALICE),
        { address: C1, code: asm(`0 SLOAD 1 ADD 0 SSTORE ${callAndRecord('CALL', C2, 1)} STOP`), storage: { [w(0n)]: w(5n) } },
        { address: C2, code: asm('9 0 SSTORE 0 0 REVERT'), storage: { [w(0n)]: w(3n) } },
      ],
      message: { caller: ALICE, to: C1 },
    },
  ]
}

/** A runtime that returns `n` bytes, the first being `first` (for code-size and 0xEF checks). */
function returnsBytes(n: number, first: number): Hex {
  return asm(`${first} 0 MSTORE8 ${n} 0 RETURN`)
}

function createCases(): ReferenceCase[] {
  // A factory: CREATE (or CREATE2 with salt 7) of the calldata as initcode, value 1 wei; stores the address at slot 0
  // and RETURNDATASIZE at slot 1.
  const factory = (create2: boolean) =>
    asm(
      'CALLDATASIZE 0 0 CALLDATACOPY',
      create2 ? '7 CALLDATASIZE 0 1 CREATE2' : 'CALLDATASIZE 0 1 CREATE',
      '0 SSTORE RETURNDATASIZE 1 SSTORE STOP',
    )
  const child = asm('42 0 SSTORE 0xab 0 MSTORE8 1 0 RETURN') // runtime: 0xab
  const reverting = asm(`1 0 SSTORE ${mstoreBytes(toHex('no'))} 2 0 REVERT`)
  const tooLarge = returnsBytes(24_577, 0x60)
  const maxSize = returnsBytes(24_576, 0x60)
  const ef = returnsBytes(1, 0xef)
  const fromCreate = asm(`${mstoreBytes(child)} ${size(child)} 0 0 CREATE 0 SSTORE STOP`)
  const factoryPre = (create2: boolean, extra: PreAccount[] = []): PreAccount[] => [
    eoa(ALICE),
    { address: C1, code: factory(create2), balance: 10n, nonce: 1n },
    ...extra,
  ]
  const collideAt = getContractAddress({ from: C1, opcode: 'CREATE2', salt: numberToHex(7, { size: 32 }), bytecode: child })
  const cases: ReferenceCase[] = []
  for (const create2 of [false, true]) {
    const op = create2 ? 'CREATE2' : 'CREATE'
    const viaFactory = (name: string, data: Hex, gas?: bigint): ReferenceCase => ({
      name: `create: ${op} ${name}`,
      pre: factoryPre(create2),
      message: { caller: ALICE, to: C1, data, gas },
    })
    cases.push(
      viaFactory('of a child that stores and returns code', child),
      viaFactory('of an initcode that reverts with data', reverting),
      viaFactory('of a too-large code (24,577 bytes) fails', tooLarge, 6_000_000n),
      viaFactory('of code at the size limit (24,576 bytes)', maxSize, 6_000_000n),
      viaFactory('of code starting 0xEF fails', ef),
      viaFactory('of an initcode that itself CREATEs', fromCreate),
    )
  }
  cases.push(
    {
      name: 'create: CREATE2 collision with an existing account (nonce 1) fails',
      pre: factoryPre(true, [{ address: collideAt, nonce: 1n }]),
      message: { caller: ALICE, to: C1, data: child },
    },
    {
      name: 'create: CREATE2 collision with an account that has only storage (EIP-7610) fails',
      pre: factoryPre(true, [{ address: collideAt, storage: { [w(1n)]: w(1n) } }]),
      message: { caller: ALICE, to: C1, data: child },
    },
    {
      name: 'create: CREATE2 onto an account with only a balance succeeds',
      pre: factoryPre(true, [{ address: collideAt, balance: 5n }]),
      message: { caller: ALICE, to: C1, data: child },
    },
    { name: 'create: top-level creation', pre: [eoa(ALICE, ETH, 5n)], message: { caller: ALICE, data: child, value: 3n } },
    { name: 'create: top-level creation that reverts', pre: [eoa(ALICE, ETH, 5n)], message: { caller: ALICE, data: reverting } },
    {
      name: 'create: top-level creation of code starting 0xEF fails',
      pre: [eoa(ALICE, ETH, 0n)],
      message: { caller: ALICE, data: ef },
    },
    { name: 'create: top-level creation that CREATEs', pre: [eoa(ALICE, ETH, 1n)], message: { caller: ALICE, data: fromCreate } },
    {
      name: 'create: top-level creation onto an existing contract collides',
      pre: [eoa(ALICE, ETH, 0n), { address: getContractAddress({ from: ALICE, nonce: 0n }), code: '0x00' }],
      message: { caller: ALICE, data: deployCode(child) },
    },
    {
      // Depositing 24,576 bytes costs 200 gas a byte (4.9M): the creation fails, the factory goes on with its 1/64.
      name: 'create: CREATE whose code deposit runs out of gas fails',
      pre: factoryPre(false),
      message: { caller: ALICE, to: C1, data: maxSize, gas: 1_000_000n },
    },
    {
      // EIP-3860: CREATE of more than 49,152 bytes of initcode halts the creating frame exceptionally.
      name: 'create: CREATE of an initcode over 49,152 bytes fails the creator',
      pre: [eoa(ALICE), { address: C1, code: asm('49153 0 0 CREATE 0 SSTORE STOP') }],
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'create: CREATE of an initcode of exactly 49,152 bytes (zeros: STOPs) succeeds',
      pre: [eoa(ALICE), { address: C1, code: asm('49152 0 0 CREATE 0 SSTORE STOP') }],
      message: { caller: ALICE, to: C1 },
    },
    {
      // EIP-2681: a creator whose nonce is 2^64 - 1 cannot create (the CREATE returns 0, the nonce stays).
      name: 'create: CREATE by a creator at the maximum nonce fails softly',
      pre: [
        eoa(ALICE),
        { address: C1, code: asm(`${mstoreBytes(child)} ${size(child)} 0 0 CREATE 0 SSTORE STOP`), nonce: 2n ** 64n - 1n },
      ],
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'create: CREATE with more value than the creator holds fails softly',
      pre: [
        eoa(ALICE),
        { address: C1, code: asm(`${mstoreBytes(child)} ${size(child)} 0 1000 CREATE 0 SSTORE STOP`), balance: 999n },
      ],
      message: { caller: ALICE, to: C1 },
    },
  )
  return cases
}

/** Code that stores CALLER, CALLVALUE, ADDRESS and SELFBALANCE at slots base..base+3, base = the first calldata word. */
const recorder = asm(
  'CALLER 0 CALLDATALOAD SSTORE',
  'CALLVALUE 0 CALLDATALOAD 1 ADD SSTORE',
  'ADDRESS 0 CALLDATALOAD 2 ADD SSTORE',
  'SELFBALANCE 0 CALLDATALOAD 3 ADD SSTORE',
  'STOP',
)

/** Text: `base` in memory word 0, then the call with it as calldata and a gas limit (a failing call consumes what it
 *  is given, and the next calls still need some); the success flag stored at `flagSlot`. */
function callWithBase(op: Parameters<typeof call>[0], to: Hex, base: number, flagSlot: number, value = 0): string {
  return `${base} 0 MSTORE ${callAndRecord(op, to, flagSlot, { value, argsSize: 32, gas: 150_000 })}`
}

function callCases(): ReferenceCase[] {
  // C2: the four call kinds into the recorder C3, with value where the kind carries one.
  const c2 = asm(
    callWithBase('DELEGATECALL', C3, 0x100, 0x10),
    callWithBase('CALLCODE', C3, 0x200, 0x11, 5),
    callWithBase('STATICCALL', C3, 0x300, 0x12),
    callWithBase('CALL', C3, 0x400, 0x13, 7),
    'STOP',
  )
  // Revert deep: C2 (called with value) writes storage and transient storage, logs, sends value to C3 (which does the
  // same), then reverts; called with calldata it returns its transient slot 0 instead.
  const writer = (tag: number) => `${tag} 0 SSTORE ${tag} 0 TSTORE ${tag} 0 MSTORE ${tag} 32 0 LOG1`
  const deepC2 = asm(
    'CALLDATASIZE &read JUMPI',
    writer(0x22),
    `${call('CALL', C3, { value: 10 })} POP 0 0 REVERT`,
    '@read 0 TLOAD 0 MSTORE 32 0 RETURN',
  )
  const deepC3 = asm(writer(0x33), 'STOP')
  const deepC1 = asm(
    '0x11 0 MSTORE 0x11 32 0 LOG1',
    callAndRecord('CALL', C2, 0, { value: 50 }),
    `${call('CALL', C2, { argsSize: 1, retSize: 32 })} POP 0 MLOAD 1 SSTORE`,
    'STOP',
  )
  const loop = asm('@top &top JUMP')
  // Static context violations: C4 does what calldata word 0 selects; C1 STATICCALLs it once per selector.
  const violations = [
    '1 0 SSTORE',
    '0 0 LOG0',
    `${call('CALL', C3, { value: 1 })} POP`,
    `${call('CALL', C3)} POP`,
    '1 0 TSTORE',
    '0 0 0 CREATE POP',
    `${BOB} SELFDESTRUCT`,
    '0 SLOAD POP 0 TLOAD POP',
  ]
  const c4 = asm(
    ...violations.map((_, i) => `0 CALLDATALOAD ${i} EQ &v${i} JUMPI`),
    'STOP',
    ...violations.map((v, i) => `@v${i} ${v} STOP`),
  )
  const c1Static = asm(...violations.map((_, i) => callWithBase('STATICCALL', C4, i, i)), 'STOP')
  // Recursion as deep as the gas allows (EIP-150's 63/64 runs out long before depth 1024 under EIP-7825's cap):
  // each frame calls itself with depth + 1 and records the deepest depth in transient storage; the top frame stores it.
  const recursive = asm(
    '0 CALLDATALOAD 1 ADD DUP1 0 MSTORE DUP1 0 TSTORE',
    call('CALL', 'ADDRESS', { argsSize: 32 }),
    'POP 0 CALLDATALOAD &end JUMPI 0 TLOAD 0 SSTORE @end STOP',
  )
  return [
    {
      name: 'calls: CALL with value into DELEGATECALL, CALLCODE with value, STATICCALL (fails on SSTORE) and CALL with value',
      pre: [
        eoa(ALICE),
        { address: C1, code: asm(callAndRecord('CALL', C2, 0, { value: 100 }), 'STOP'), balance: 1000n },
        { address: C2, code: c2 },
        { address: C3, code: recorder },
      ],
      message: { caller: ALICE, to: C1, value: 1n },
    },
    {
      name: 'calls: a revert deep in the call tree undoes storage, transient storage, logs and balances',
      pre: [
        eoa(ALICE),
        { address: C1, code: deepC1, balance: 1000n },
        { address: C2, code: deepC2, storage: { [w(0n)]: w(1n) } },
        { address: C3, code: deepC3 },
      ],
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'calls: the top frame reverts after nested writes, value and logs',
      pre: [
        eoa(ALICE),
        {
          address: C1,
          code: asm(callAndRecord('CALL', C3, 0, { value: 9 }), '0x77 0 SSTORE 0 0 LOG0 0 0 REVERT'),
          balance: 100n,
        },
        { address: C3, code: deepC3 },
      ],
      message: { caller: ALICE, to: C1, value: 5n },
    },
    {
      name: 'calls: out of gas in a sub-call with a gas limit (the caller continues)',
      pre: [
        eoa(ALICE),
        { address: C1, code: asm(callAndRecord('CALL', C2, 0, { gas: 5000 }), 'GAS 1 SSTORE STOP') },
        { address: C2, code: loop },
      ],
      message: { caller: ALICE, to: C1, gas: 200_000n },
    },
    {
      name: 'calls: out of gas in a sub-call given all gas (63/64 kept by the caller)',
      pre: [eoa(ALICE), { address: C1, code: asm(callAndRecord('CALL', C2, 0), 'STOP') }, { address: C2, code: loop }],
      message: { caller: ALICE, to: C1, gas: 300_000n },
    },
    {
      name: 'calls: CALL with more value than the caller holds fails softly',
      pre: [
        eoa(ALICE),
        { address: C1, code: asm(callAndRecord('CALL', C3, 0, { value: 2000 }), 'STOP'), balance: 1999n },
        { address: C3, code: deepC3 },
      ],
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'calls: CALL with value to a fresh account (new-account charge) and to a precompile-free empty address without value',
      pre: [
        eoa(ALICE),
        {
          address: C1,
          code: asm(callAndRecord('CALL', CAROL, 0, { value: 1 }), callAndRecord('CALL', BOB, 1), 'STOP'),
          balance: 10n,
        },
      ],
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'calls: recursion as deep as the gas allows',
      pre: [eoa(ALICE), { address: C1, code: recursive }],
      message: { caller: ALICE, to: C1, gas: 10_000_000n },
    },
    {
      // The 1025th nested frame (depth 1024, counting the top frame as 0) is the last that runs: its CALL fails.
      // EIP-150's 63/64 rule lets a message reach it only with ~2^37 gas, far beyond EIP-7825's 2^24 cap per
      // transaction: a valid interpreter input all the same.
      name: 'calls: the call depth limit (1024) with gas beyond any transaction (2^38)',
      pre: [eoa(ALICE), { address: C1, code: recursive }],
      message: { caller: ALICE, to: C1, gas: 2n ** 38n },
    },
    {
      name: 'calls: STATICCALL that tries SSTORE, LOG, value CALL, TSTORE, CREATE, SELFDESTRUCT fails; reads and a value-less CALL succeed',
      pre: [
        eoa(ALICE),
        { address: C1, code: c1Static },
        { address: C3, code: asm('STOP') },
        { address: C4, code: c4, balance: 5n },
      ],
      message: { caller: ALICE, to: C1, gas: 2_000_000n },
    },
    {
      name: 'calls: CALL to itself with value, BALANCE and SELFBALANCE after',
      pre: [
        eoa(ALICE),
        {
          address: C1,
          code: asm(
            'CALLDATASIZE &inner JUMPI',
            call('CALL', 'ADDRESS', { value: 3, argsSize: 1 }),
            '0 SSTORE ADDRESS BALANCE 1 SSTORE STOP @inner SELFBALANCE 2 SSTORE STOP',
          ),
          balance: 10n,
        },
      ],
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'calls: LOG0 to LOG4 with large data and KECCAK256 over it',
      pre: [
        eoa(ALICE),
        {
          address: C1,
          code: asm(
            '1 2000 MSTORE',
            '2000 0 LOG0 1 1000 10 LOG1 1 2 300 20 LOG2 1 2 3 0 30 LOG3 1 2 3 4 4000 0 LOG4',
            '4000 0 KECCAK256 0 SSTORE STOP',
          ),
        },
      ],
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'calls: EXTCODECOPY, EXTCODESIZE and EXTCODEHASH of a missing account',
      pre: [
        eoa(ALICE),
        {
          address: C1,
          code: asm(
            `32 0 0 ${CAROL} EXTCODECOPY 0 MLOAD 0 SSTORE ${CAROL} EXTCODESIZE 1 SSTORE ${CAROL} EXTCODEHASH 2 SSTORE STOP`,
          ),
        },
      ],
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'calls: top-level call to an account without code, with value',
      pre: [eoa(ALICE)],
      message: { caller: ALICE, to: BOB, value: 12345n },
    },
    {
      name: 'calls: top-level call to a fresh account without value (touched, stays empty)',
      pre: [eoa(ALICE)],
      message: { caller: ALICE, to: CAROL },
    },
  ]
}

function selfdestructCases(): ReferenceCase[] {
  const kill = (to: Hex) => asm(`${to} SELFDESTRUCT`)
  const killInit = kill(CAROL) // as initcode: self-destructs during its own creation
  const runtimeKill = deployCode(kill(CAROL))
  return [
    {
      name: 'selfdestruct: a pre-existing contract sends its balance and stays (EIP-6780)',
      pre: [eoa(ALICE), { address: C2, code: kill(BOB), balance: 1000n, storage: { [w(0n)]: w(1n) } }, eoa(BOB, 1n)],
      message: { caller: ALICE, to: C2 },
    },
    {
      name: 'selfdestruct: a pre-existing contract to itself keeps its balance',
      pre: [eoa(ALICE), { address: C2, code: asm('ADDRESS SELFDESTRUCT'), balance: 1000n }],
      message: { caller: ALICE, to: C2, value: 1n },
    },
    {
      name: 'selfdestruct: a pre-existing contract to a fresh beneficiary (new account)',
      pre: [eoa(ALICE), { address: C2, code: kill(CAROL), balance: 1000n }],
      message: { caller: ALICE, to: C2 },
    },
    {
      name: 'selfdestruct: a contract created in the same message is deleted (initcode self-destructs)',
      pre: [
        eoa(ALICE),
        { address: C1, code: asm(`${mstoreBytes(killInit)} ${size(killInit)} 0 5 CREATE 0 SSTORE STOP`), balance: 10n },
      ],
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'selfdestruct: a contract created then called in the same message is deleted',
      pre: [
        eoa(ALICE),
        {
          // CREATE (value 7) the self-destructing runtime, store its address, CALL it (address from DUP6), store the flag.
          code: asm(
            `${mstoreBytes(runtimeKill)} ${size(runtimeKill)} 0 7 CREATE DUP1 0 SSTORE 0 0 0 0 3 DUP6 GAS CALL 1 SSTORE STOP`,
          ),
          address: C1,
          balance: 10n,
        },
      ],
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'selfdestruct: CREATE2, self-destruct, value sent after it, CREATE2 again at the same address collides',
      pre: [
        eoa(ALICE),
        {
          // Slot 0: the first CREATE2's address; 1: the call that self-destructs it; 2: a value call to it after;
          // 3: the second CREATE2 (0: the account still has its nonce and code until the transaction ends).
          code: asm(
            `${mstoreBytes(runtimeKill)}`,
            `9 ${size(runtimeKill)} 0 0 CREATE2 DUP1 0 SSTORE`,
            '0 0 0 0 0 DUP6 GAS CALL 1 SSTORE',
            '0 0 0 0 3 DUP6 GAS CALL 2 SSTORE',
            `9 ${size(runtimeKill)} 0 0 CREATE2 3 SSTORE POP STOP`,
          ),
          address: C1,
          balance: 10n,
        },
      ],
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'selfdestruct: a top-level creation that self-destructs to itself (balance burned)',
      pre: [eoa(ALICE, ETH, 2n)],
      message: { caller: ALICE, data: asm('ADDRESS SELFDESTRUCT'), value: 99n },
    },
  ]
}

function delegationCases(): ReferenceCase[] {
  const designator = (target: Hex): Hex => `0xef0100${target.slice(2)}`
  const c3 = asm('CALLER 0 SSTORE ADDRESS 1 SSTORE CALLVALUE 2 SSTORE 0 0 LOG0 STOP')
  const ext = asm(
    `${DELEGATED} EXTCODESIZE 0 SSTORE`,
    `${DELEGATED} EXTCODEHASH 1 SSTORE`,
    `23 0 0 ${DELEGATED} EXTCODECOPY 0 MLOAD 2 SSTORE`,
    `${DELEGATED} BALANCE 3 SSTORE`,
    'STOP',
  )
  const delegated = (target: Hex = C3): PreAccount => ({ address: DELEGATED, nonce: 1n, balance: 50n, code: designator(target) })
  return [
    {
      name: 'eip-7702: top-level call to a delegated EOA runs the target code in its context (target warm)',
      pre: [eoa(ALICE), delegated(), { address: C3, code: c3 }],
      message: { caller: ALICE, to: DELEGATED, value: 4n },
    },
    {
      name: 'eip-7702: a contract calls a delegated EOA (cold target)',
      pre: [
        eoa(ALICE),
        delegated(),
        { address: C3, code: c3 },
        { address: C1, code: asm(callAndRecord('CALL', DELEGATED, 5, { value: 1 }), 'STOP'), balance: 3n },
      ],
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'eip-7702: EXTCODESIZE, EXTCODEHASH, EXTCODECOPY and BALANCE of a delegated EOA see the designator',
      pre: [eoa(ALICE), delegated(), { address: C3, code: c3 }, { address: C1, code: ext }],
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'eip-7702: a delegation to a delegated account is not followed twice',
      pre: [
        eoa(ALICE),
        delegated(C4),
        { address: C4, nonce: 1n, code: designator(C3) },
        { address: C3, code: c3 },
        { address: C1, code: asm(callAndRecord('CALL', DELEGATED, 5, { gas: 100_000 }), 'GAS 6 SSTORE STOP') },
      ],
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'eip-7702: a delegation to an empty account runs no code',
      pre: [eoa(ALICE), delegated(CAROL)],
      message: { caller: ALICE, to: DELEGATED, value: 1n },
    },
    {
      name: 'eip-7702: a delegated EOA as the caller (sender) of a call',
      pre: [
        { ...delegated(), balance: ETH },
        { address: C3, code: c3 },
        { address: C1, code: recorder },
      ],
      message: { caller: DELEGATED, to: C1, data: w(0n) },
    },
  ]
}

function envCases(): ReferenceCase[] {
  // Each pushes one word; word i of the returned data is the i-th.
  const ops = [
    'ADDRESS',
    'ORIGIN',
    'CALLER',
    'CALLVALUE',
    'CALLDATASIZE',
    '0 CALLDATALOAD',
    '30 CALLDATALOAD',
    'CODESIZE',
    'GASPRICE',
    'COINBASE',
    'TIMESTAMP',
    'NUMBER',
    'PREVRANDAO',
    'GASLIMIT',
    'CHAINID',
    'SELFBALANCE',
    'BASEFEE',
    'BLOBBASEFEE',
    `${ALICE} BALANCE`,
    `${C2} EXTCODESIZE`,
    `${C2} EXTCODEHASH`,
    `${CAROL} EXTCODEHASH`,
    `${BOB} EXTCODEHASH`,
    `${BOB} BALANCE`,
    'GAS',
    'PC',
    'MSIZE',
    'RETURNDATASIZE',
    `${C2} BALANCE`,
    'ADDRESS BALANCE',
  ]
  const n = ops.length * 32
  const code = asm(
    ...ops.map((op, i) => `${op} ${i * 32} MSTORE`),
    `40 2 ${n} CALLDATACOPY`,
    `50 3 ${n + 64} CODECOPY`,
    `64 0 ${n + 128} ${C2} EXTCODECOPY`,
    `10 1000 ${n + 200} CODECOPY`, // past the end of the code: zeros
    `${n + 256} 0 RETURN`,
  )
  const blocks = [999n, 744n, 743n, 1000n, 1001n, 0n, 2n ** 64n + 5n, MAX, 900n]
  return [
    {
      name: 'env: every environment opcode (origin differs from caller, gas price, value, calldata)',
      pre: [eoa(ALICE), eoa(BOB, 0n, 1n), { address: C1, code, balance: 77n }, { address: C2, code: recorder, balance: 3n }],
      block: { number: 4242n, timestamp: 1_800_000_000n, baseFee: 11n, blobBaseFee: 3n, gasLimit: 36_000_000n },
      message: {
        caller: ALICE,
        origin: BOB,
        to: C1,
        value: 6n,
        gasPrice: 13n,
        data: '0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021',
      },
    },
    {
      // The sender's balance is the case's: the state the message starts from, after the gas purchase.
      name: "env: the sender's balance seen from the message (BALANCE of CALLER and ORIGIN)",
      pre: [eoa(ALICE, 12345n * ETH), { address: C1, code: asm('CALLER BALANCE 0 SSTORE ORIGIN BALANCE 1 SSTORE STOP') }],
      message: { caller: ALICE, to: C1, value: 5n, gasPrice: 9n },
    },
    {
      name: 'env: BALANCE of the coinbase is warm (EIP-3651)',
      pre: [eoa(ALICE), { address: C1, code: asm('COINBASE BALANCE 0 SSTORE STOP') }],
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'env: BLOCKHASH in and out of range (current, future, 256 back, 257 back, huge)',
      pre: [eoa(ALICE), { address: C1, code: asm(...blocks.map((b, i) => `${b} BLOCKHASH ${i} SSTORE`), 'STOP') }],
      block: { number: 1000n },
      blockHashes: { '999': `0x${'99'.repeat(32)}` },
      message: { caller: ALICE, to: C1 },
    },
    {
      name: 'env: BLOBHASH with the index in and out of range',
      pre: [
        eoa(ALICE),
        { address: C1, code: asm(...[0n, 1n, 2n, 2n ** 255n].map((b, i) => `${b} BLOBHASH ${i} SSTORE`), 'STOP') },
      ],
      message: { caller: ALICE, to: C1, blobHashes: [`0x01${'aa'.repeat(31)}`, `0x01${'bb'.repeat(31)}`] },
    },
  ]
}

function memoryAndFailureCases(): ReferenceCase[] {
  /** C1 runs `items`; C2 returns 32 bytes 0xab…. */
  const mc = (name: string, ...items: AsmItem[]): ReferenceCase => ({
    name,
    pre: [
      eoa(ALICE),
      { address: C1, code: asm(...items) },
      { address: C2, code: asm(mstoreBytes(`0x${'ab'.repeat(32)}`), '32 0 RETURN') },
    ],
    message: { caller: ALICE, to: C1, gas: 1_000_000n },
  })
  const clzInputs = [0n, 1n, 2n ** 255n, MAX, 0xffn, 2n ** 128n, 2n ** 200n + 12345n]
  return [
    mc(
      'opcodes: CLZ (EIP-7939) of zero, one, the top bit, all ones and others',
      ...clzInputs.map((v, i) => `${v} CLZ ${i} SSTORE`),
    ),
    mc(
      'opcodes: MCOPY overlapping both ways, zero length at a huge offset, with expansion',
      mstoreBytes(`0x${'0102030405060708090a0b0c0d0e0f10'.repeat(4)}`),
      '32 0 8 MCOPY', // overlapping, forward
      '32 8 0 MCOPY', // overlapping, backward
      `0 ${2n ** 64n} 5 MCOPY`, // zero length at a huge offset: no expansion
      '64 0 200 MCOPY', // expands memory
      'MSIZE 0 SSTORE 300 0 RETURN',
    ),
    mc(
      'transient: TSTORE/TLOAD across a re-entrant call',
      'CALLDATASIZE &reenter JUMPI',
      '1 0 TSTORE 0 TLOAD 0 SSTORE',
      callAndRecord('CALL', 'ADDRESS', 1, { argsSize: 1 }),
      '0 TLOAD 2 SSTORE STOP',
      // Re-entered (calldata non-empty): sees the outer frame's value and bumps it.
      '@reenter 0 TLOAD 1 ADD 0 TSTORE STOP',
    ),
    mc(
      'memory: expansion at large offsets (64 KiB, 128 KiB)',
      '7 0x10000 MSTORE MSIZE 0 SSTORE 0x20000 MLOAD 1 SSTORE MSIZE 2 SSTORE',
    ),
    mc('memory: MSTORE at 2^32 runs out of gas', `7 ${2n ** 32n} MSTORE STOP`),
    mc('memory: MLOAD at 2^64 runs out of gas', `1 ${2n ** 64n} MLOAD`),
    mc('returndata: RETURNDATACOPY within bounds', `${call('CALL', C2)} POP 16 16 0 RETURNDATACOPY 32 0 RETURN`),
    mc('returndata: RETURNDATACOPY out of bounds fails', `${call('CALL', C2)} POP 32 16 0 RETURNDATACOPY STOP`),
    mc('returndata: RETURNDATACOPY at a huge offset of empty return data fails', `1 ${2n ** 64n} 0 RETURNDATACOPY STOP`),
    mc('jumps: a JUMP to a non-JUMPDEST fails', '5 JUMP STOP STOP STOP JUMPDEST'),
    // PUSH1 4, JUMP, PUSH2 0x5b5b, STOP: offset 4 is a 0x5b inside push data.
    mc('jumps: a JUMP into PUSH data fails', { raw: '0x600456615b5b00' }),
    mc('jumps: a JUMPI not taken ignores its bad destination', '0 100 JUMPI 1 0 SSTORE'),
    mc('jumps: a JUMPI to a huge destination fails', `1 ${2n ** 255n} JUMPI`),
    mc('stack: underflow fails', '1 ADD'),
    mc('stack: overflow at 1025 items fails', 'PUSH0 '.repeat(1025)),
    mc('stack: 1024 items are fine', 'PUSH0 '.repeat(1024), 'STOP'),
    mc('opcodes: undefined 0x0c fails', { raw: '0x0c' }),
    mc('opcodes: undefined 0x21 fails', { raw: '0x21' }),
    mc('opcodes: undefined 0xef fails', { raw: '0xef' }),
    mc('opcodes: undefined 0xf6 fails', { raw: '0xf6' }),
    mc('opcodes: INVALID consumes all gas', 'INVALID'),
    mc('opcodes: REVERT returns its data and keeps gas', mstoreBytes(toHex('reason')), '6 0 REVERT'),
    mc(
      'returndata: a sub-call return larger than asked',
      call('CALL', C2, { retOffset: 0, retSize: 64 }),
      '0 MLOAD 32 MLOAD ADD 0 SSTORE RETURNDATASIZE 1 SSTORE',
    ),
    mc(
      'opcodes: EXP, SDIV overflow, SIGNEXTEND, SAR edge values',
      `3 ${MAX} EXP 0 SSTORE ${2n ** 255n} ${MAX} SDIV 1 SSTORE 1 255 SIGNEXTEND 2 SSTORE 7 ${MAX} SAR 3 SSTORE`,
    ),
    mc(
      'storage: forty slots written (and their keccak)',
      ...Array.from({ length: 40 }, (_, i) => `${i} 0 MSTORE 32 0 KECCAK256 ${i} SSTORE`),
    ),
  ]
}

function transientCases(): ReferenceCase[] {
  // C1: TSTORE 42, then a DELEGATECALL into C2 (which sees 42 in C1's context, TSTOREs 43 and reverts), a STATICCALL
  // into C2 (whose TSTORE fails), a CALL into C3 (its own, empty transient storage), then stores what it sees.
  const c2 = asm('0 TLOAD 0x20 SSTORE 43 0 TSTORE 0 0 REVERT')
  const c1 = asm(
    '42 0 TSTORE',
    callAndRecord('DELEGATECALL', C2, 1, { gas: 100_000 }),
    '0 TLOAD 2 SSTORE',
    callAndRecord('STATICCALL', C2, 3, { gas: 100_000 }),
    callAndRecord('CALL', C3, 4, { gas: 100_000 }),
    '0 TLOAD 5 SSTORE STOP',
  )
  const c3 = asm('0 TLOAD 0x30 SSTORE 9 0 TSTORE STOP')
  return [
    {
      name: 'transient: TSTORE/TLOAD across DELEGATECALL, STATICCALL and CALL, undone by a revert',
      pre: [eoa(ALICE), { address: C1, code: c1 }, { address: C2, code: c2 }, { address: C3, code: c3 }],
      message: { caller: ALICE, to: C1 },
    },
  ]
}

/** The named workloads (deterministic; ~90 cases). */
export function workloadCases(): ReferenceCase[] {
  return [
    ...erc20Cases(),
    ...ammCases(),
    ...sstoreCases(),
    ...createCases(),
    ...callCases(),
    ...selfdestructCases(),
    ...delegationCases(),
    ...envCases(),
    ...memoryAndFailureCases(),
    ...transientCases(),
  ]
}

/** Helper contracts the random programs call. H1 writes storage, transient storage and a log, and returns 64 bytes;
 *  H2 reverts with data; H3 burns gas in a loop until it runs out; H4 (a DELEGATECALL target) bumps slot 1. */
export const H1: Hex = '0x4100000000000000000000000000000000000001'
export const H2: Hex = '0x4200000000000000000000000000000000000002'
export const H3: Hex = '0x4300000000000000000000000000000000000003'
export const H4: Hex = '0x4400000000000000000000000000000000000004'
/** H5 self-destructs to its caller (pre-existing: EIP-6780 moves its balance only). */
export const H5: Hex = '0x4500000000000000000000000000000000000005'
/** H6 is an EOA delegated to H1 (EIP-7702): H1's code over H6's storage. */
export const H6: Hex = '0x4600000000000000000000000000000000000006'
const helpers: PreAccount[] = [
  {
    address: H1,
    code: asm('0 CALLDATALOAD DUP1 0 SSTORE DUP1 1 TSTORE CALLVALUE ADD 0 MSTORE 32 0 LOG0 64 0 RETURN'),
    storage: { [w(0n)]: w(3n) },
  },
  { address: H2, code: asm('0 CALLDATALOAD 0 MSTORE 1 1 SSTORE 40 0 REVERT') },
  { address: H3, code: asm('@top 1 SLOAD POP &top JUMP') },
  { address: H4, code: asm('1 SLOAD 1 ADD 1 SSTORE ADDRESS 0 MSTORE 32 0 RETURN') },
  { address: H5, code: asm('CALLER SELFDESTRUCT'), balance: 100n },
  { address: H6, code: `0xef0100${H1.slice(2)}`, nonce: 1n },
]

const BINARY = ['ADD', 'MUL', 'SUB', 'DIV', 'SDIV', 'MOD', 'SMOD', 'EXP', 'SIGNEXTEND', 'LT', 'GT', 'SLT', 'SGT', 'EQ'].concat([
  'AND',
  'OR',
  'XOR',
  'BYTE',
  'SHL',
  'SHR',
  'SAR',
])
const UNARY = ['ISZERO', 'NOT', 'CLZ']
const NULLARY = ['ADDRESS', 'ORIGIN', 'CALLER', 'CALLVALUE', 'CALLDATASIZE', 'CODESIZE', 'GASPRICE', 'RETURNDATASIZE']
  .concat(['COINBASE', 'TIMESTAMP', 'NUMBER', 'PREVRANDAO', 'GASLIMIT', 'CHAINID', 'SELFBALANCE', 'BASEFEE'])
  .concat(['BLOBBASEFEE', 'PC', 'MSIZE', 'GAS'])
const ADDRESSES = [ALICE, BOB, C1, H1, H2, H3, H4, H5, H6]

/**
 * One random program: straight-line code with bounded loops and forward jumps, its stack depth tracked so pushes,
 * operations and jumps stay valid; mixes arithmetic, memory, storage, transient storage, logs, calls into the helpers,
 * and ends with STOP, RETURN or REVERT. A `failing` program also gets one deliberate fault (a bad jump, an undefined
 * opcode, a stack underflow, an out-of-bounds RETURNDATACOPY, a huge memory offset, an endless loop).
 */
function randomProgram(r: Rng, failing: boolean): Hex {
  const items: AsmItem[] = []
  let depth = 0
  let labels = 0
  const value = (): bigint => {
    switch (r.int(6)) {
      case 0:
        return BigInt(r.int(8))
      case 1:
        return BigInt(r.int(300))
      case 2:
        return r.pick([2n ** 255n, MAX, 2n ** 128n, 2n ** 64n - 1n, 255n, 256n, 31n, 32n])
      case 3:
        return BigInt(r.pick(ADDRESSES))
      default:
        return BigInt(`0x${Buffer.from(r.bytes(1 + r.int(32))).toString('hex')}`)
    }
  }
  const slot = () => r.int(6)
  const off = () => r.int(8) * 16 + r.int(4)
  /** Appends `text` that changes the stack depth by `delta`. */
  const emit = (text: AsmItem, delta: number) => {
    items.push(text)
    depth += delta
  }
  /** A stack-neutral snippet (for loop bodies and skipped blocks). */
  const neutral = (): string =>
    r.pick([
      () => `${value()} ${off()} MSTORE`,
      () => `${value()} ${slot()} SSTORE`,
      () => `${value()} ${slot()} TSTORE`,
      () => `${slot()} SLOAD ${off()} MSTORE`,
      () => `${slot()} TLOAD ${slot()} SSTORE`,
      () => `${r.int(64)} ${off()} LOG0`,
      () => `${r.int(40)} ${off()} ${off()} MCOPY`,
    ])()
  // Each fails whatever ran before (the helpers return at most 64 bytes).
  const fault = (): AsmItem =>
    r.pick<() => AsmItem>([
      () => ({ raw: '0x0c' }),
      () => 'INVALID',
      () => `${2n ** 32n} JUMP`,
      () => 'POP '.repeat(depth + 1 + r.int(3)),
      () => '65 0 0 RETURNDATACOPY',
      () => `1 ${2n ** 40n} MSTORE`,
      () => '@spin &spin JUMP',
    ])()
  const steps = 10 + r.int(50)
  const faultAt = failing ? r.int(steps) : -1
  for (let step = 0; step < steps; step++) {
    if (step === faultAt) items.push(fault())
    const k = r.int(100)
    if (depth > 900) emit('POP', -1)
    else if (k < 15 || depth === 0) emit(`${value()}`, 1)
    else if (k < 18) {
      // A PUSH wider than its value needs (PUSH1..PUSH32 with leading zeros), so every width appears.
      const n = 1 + r.int(32)
      emit({ push: `0x${Buffer.from(r.bytes(n)).toString('hex').replace(/^../, '00')}` as Hex }, 1)
    } else if (k < 30 && depth >= 2) emit(r.pick(BINARY), -1)
    else if (k < 34) emit(r.pick(UNARY), 0)
    else if (k < 38 && depth >= 3) emit(r.pick(['ADDMOD', 'MULMOD']), -2)
    else if (k < 42) emit(r.pick(NULLARY), 1)
    else if (k < 46) emit(`DUP${1 + r.int(Math.min(16, depth))}`, 1)
    else if (k < 50 && depth >= 2) emit(`SWAP${1 + r.int(Math.min(16, depth - 1))}`, 0)
    else if (k < 53) emit('POP', -1)
    else if (k < 58) emit(`${off()} ${r.pick(['MSTORE', 'MSTORE8'])}`, -1)
    else if (k < 61) emit(`${off()} MLOAD`, 1)
    else if (k < 66) emit(`${slot()} ${r.pick(['SSTORE', 'TSTORE'])}`, -1)
    else if (k < 70) emit(`${slot()} ${r.pick(['SLOAD', 'TLOAD'])}`, 1)
    else if (k < 73) emit(`${r.int(64)} ${off()} KECCAK256`, 1)
    else if (k < 76) emit(neutral(), 0)
    else if (k < 79) {
      const n = 1 + r.int(3)
      emit(`${Array.from({ length: n }, () => value()).join(' ')} ${r.int(48)} ${off()} LOG${n}`, 0)
    } else if (k < 83) {
      // A call into a helper (or the program itself, re-entered with little gas).
      const op = r.pick(['CALL', 'CALL', 'DELEGATECALL', 'STATICCALL', 'CALLCODE'] as const)
      const to = op === 'DELEGATECALL' ? r.pick([H4, H1, H2]) : r.pick([H1, H1, H2, H3, H4, H5, H6, C1])
      const o = { gas: 5_000 + r.int(60_000), value: r.int(3), argsOffset: r.int(4) * 32, argsSize: 32 }
      emit(call(op, to, { ...o, retOffset: r.int(8) * 16, retSize: r.int(64) }), 1)
    } else if (k < 84) emit(`${r.int(40)} ${r.int(8)} ${off()} CALLDATACOPY`, 0)
    else if (k < 85) emit(`RETURNDATASIZE 0 ${off()} RETURNDATACOPY`, 0)
    else if (k < 87) emit(`${90 + r.int(15)} BLOCKHASH`, 1)
    else if (k < 89) emit(`${value()} BALANCE`, 1)
    else if (k < 91) emit(`${r.pick(ADDRESSES)} ${r.pick(['EXTCODESIZE', 'EXTCODEHASH'])}`, 1)
    else if (k < 93) {
      // A creation from whatever memory holds (often zeros: an empty contract; or random code that fails).
      emit(
        r.int(2) === 0 ? `${r.int(48)} ${off()} ${r.int(2)} CREATE` : `${value()} ${r.int(48)} ${off()} ${r.int(2)} CREATE2`,
        1,
      )
    } else if (k < 96) {
      // A bounded loop: counter on the stack, a stack-neutral body.
      const l = `l${labels++}`
      emit(`${1 + r.int(6)} @${l} ${neutral()} 1 SWAP1 SUB DUP1 &${l} JUMPI POP`, 0)
    } else {
      // A forward conditional jump over a stack-neutral block.
      const l = `f${labels++}`
      emit(`${r.int(2)} &${l} JUMPI ${neutral()} ${neutral()} @${l}`, 0)
    }
  }
  const end = r.int(4)
  if (end === 0) items.push(`${r.int(96)} ${off()} RETURN`)
  else if (end === 1 && r.int(3) === 0) items.push(`${r.int(64)} ${off()} REVERT`)
  else items.push('STOP')
  return asm(...items)
}

/** `count` random bytecode programs from `seed` (deterministic); about one in eight has a deliberate fault. */
export function randomProgramCases(seed: number, count: number): ReferenceCase[] {
  const r = rng(seed)
  const out: ReferenceCase[] = []
  for (let i = 0; i < count; i++) {
    const failing = r.int(8) === 0
    const code = randomProgram(r, failing)
    const storage: Record<Hex, Hex> = {}
    for (let k = 0; k < 6; k++) if (r.int(2) === 0) storage[w(BigInt(k))] = w(BigInt(r.int(3)))
    // One in ten runs as a top-level creation: the program is the initcode, what it returns the code.
    const create = r.int(10) === 0
    out.push({
      name: `random ${seed}/${i}${create ? ' (creation)' : ''}${failing ? ' (with a fault)' : ''}`,
      pre: [
        eoa(ALICE, 10n * ETH, BigInt(r.int(3))),
        { address: C1, code, storage, balance: BigInt(r.int(3) * 1000) },
        ...helpers,
      ],
      message: {
        caller: ALICE,
        to: create ? undefined : C1,
        value: BigInt(r.int(2) * 7),
        data: create ? code : `0x${Buffer.from(r.bytes(r.int(70))).toString('hex')}`,
        gas: 200_000n + BigInt(r.int(1_800_000)),
        accessList: r.int(4) === 0 ? [{ address: C1, storageKeys: [w(BigInt(r.int(6)))] }] : undefined,
      },
    })
  }
  return out
}
