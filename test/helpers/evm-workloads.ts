/**
 * Workloads for the EVM interpreter's differential tests (issue 18): named, deterministic `ReferenceCase`s that
 * exercise one behaviour each (`workloadCases`), and seeded random bytecode programs (`randomProgramCases`). No case
 * calls a precompile (0x01–0x11, 0x100): those are tested separately.
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
import { type AsmItem, asm, call, deployCode, mstoreBytes } from './evm-asm.ts'
import type { PreAccount, ReferenceCase } from './evm-reference.ts'
import { rng } from './rng.ts'

export const ALICE: Hex = '0xa11ce00000000000000000000000000000000a11'
export const BOB: Hex = '0xb0b0000000000000000000000000000000000b0b'
export const CAROL: Hex = '0xca201000000000000000000000000000000ca201'
/** Contracts of the hand-written cases. */
export const C1: Hex = '0xc100000000000000000000000000000000000001'
export const C2: Hex = '0xc200000000000000000000000000000000000002'
export const C3: Hex = '0xc300000000000000000000000000000000000003'
export const TOKEN0: Hex = '0x7000000000000000000000000000000000000000'
export const TOKEN1: Hex = '0x7100000000000000000000000000000000000001'
export const POOL: Hex = '0x9000000000000000000000000000000000000000'

const ETH = 10n ** 18n
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

/** Bytecode that calls `to` with `value` and stores the call's success flag at `slot`. */
function callAndRecord(
  op: 'CALL' | 'CALLCODE' | 'DELEGATECALL' | 'STATICCALL',
  to: Hex,
  slot: number,
  o: Parameters<typeof call>[2] = {},
): AsmItem[] {
  return [...call(op, BigInt(to), o), slot, 'SSTORE']
}

function erc20Cases(): ReferenceCase[] {
  const { token } = contracts()
  const deploy: ReferenceCase = {
    name: 'erc20: deploy Token (constructor stores strings, mints, emits Transfer)',
    pre: [eoa(ALICE, ETH, 3n)],
    message: {
      caller: ALICE,
      data: `${token.bytecode}${encodeAbiParameters([{ type: 'string' }, { type: 'string' }, { type: 'uint256' }], ['Reference Token', 'REF', 10n ** 24n]).slice(2)}`,
      gas: 2_000_000n,
    },
  }
  const tokenAt = (balances: [Hex, bigint][], allowances: [Hex, Hex, bigint][] = []): PreAccount => ({
    address: TOKEN0,
    code: token.runtime,
    storage: tokenStorage(balances, allowances),
  })
  return [
    deploy,
    {
      name: 'erc20: transfer to a holder',
      pre: [
        eoa(ALICE),
        tokenAt([
          [ALICE, 1000n * ETH],
          [BOB, 5n],
        ]),
      ],
      message: {
        caller: ALICE,
        to: TOKEN0,
        data: encodeFunctionData({ abi: tokenAbi, functionName: 'transfer', args: [BOB, 250n * ETH] }),
      },
    },
    {
      name: 'erc20: transfer to a fresh address (balance slot 0 -> x)',
      pre: [eoa(ALICE), tokenAt([[ALICE, 1000n * ETH]])],
      message: {
        caller: ALICE,
        to: TOKEN0,
        data: encodeFunctionData({ abi: tokenAbi, functionName: 'transfer', args: [CAROL, 1n] }),
      },
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
      message: {
        caller: ALICE,
        to: TOKEN0,
        data: encodeFunctionData({ abi: tokenAbi, functionName: 'transfer', args: [BOB, 77n] }),
      },
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
      message: {
        caller: BOB,
        to: TOKEN0,
        data: encodeFunctionData({ abi: tokenAbi, functionName: 'transferFrom', args: [ALICE, CAROL, 400n] }),
      },
    },
    {
      name: 'erc20: transferFrom beyond the allowance reverts with reason',
      pre: [eoa(BOB), tokenAt([[ALICE, 1000n]], [[ALICE, BOB, 100n]])],
      message: {
        caller: BOB,
        to: TOKEN0,
        data: encodeFunctionData({ abi: tokenAbi, functionName: 'transferFrom', args: [ALICE, CAROL, 400n] }),
      },
    },
    {
      name: 'erc20: failing transfer (amount exceeds balance) reverts with reason',
      pre: [eoa(ALICE), tokenAt([[ALICE, 10n]])],
      message: {
        caller: ALICE,
        to: TOKEN0,
        data: encodeFunctionData({ abi: tokenAbi, functionName: 'transfer', args: [BOB, 11n] }),
      },
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
        [[ALICE, POOL, 2n ** 256n - 1n]],
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
  return [
    {
      name: 'amm: swap token0 for token1',
      pre: pre(),
      message: {
        caller: ALICE,
        to: POOL,
        data: encodeFunctionData({ abi: poolAbi, functionName: 'swap', args: [TOKEN0, 10n * ETH, 1n] }),
        gas: 500_000n,
      },
    },
    {
      name: 'amm: swap token1 for token0 (finite allowance decreases)',
      pre: pre(),
      message: {
        caller: ALICE,
        to: POOL,
        data: encodeFunctionData({ abi: poolAbi, functionName: 'swap', args: [TOKEN1, 20n * ETH, 1n] }),
        gas: 500_000n,
      },
    },
    {
      name: 'amm: swap below the minimum out reverts with a custom error',
      pre: pre(),
      message: {
        caller: ALICE,
        to: POOL,
        data: encodeFunctionData({ abi: poolAbi, functionName: 'swap', args: [TOKEN0, 10n * ETH, 100n * ETH] }),
        gas: 500_000n,
      },
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
        code: asm(...writes.flatMap((v) => [v, 0, 'SSTORE']), 'STOP'),
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
      pre: [eoa(ALICE), { address: C1, code: asm(2, 0, 'SSTORE', 'STOP'), storage: { [w(0n)]: w(1n) } }],
      message: { caller: ALICE, to: C1, accessList: [{ address: C1, storageKeys: [w(0n)] }] },
    },
    {
      name: 'sstore: SLOAD then SSTORE, and a slot written in a reverted sub-call keeps its original',
      pre: [
        eoa(ALICE),
        {
          address: C1,
          code: asm(0, 'SLOAD', 1, 'ADD', 0, 'SSTORE', ...callAndRecord('CALL', C2, 1), 'STOP'),
          storage: { [w(0n)]: w(5n) },
        },
        { address: C2, code: asm(9, 0, 'SSTORE', 0, 0, 'REVERT'), storage: { [w(0n)]: w(3n) } },
      ],
      message: { caller: ALICE, to: C1 },
    },
  ]
}

/** A runtime that returns `n` bytes of `byte` (for code-size and 0xEF checks). */
function returnsBytes(n: number, first: number): Hex {
  return asm(first, 0, 'MSTORE8', n, 0, 'RETURN')
}

function createCases(): ReferenceCase[] {
  // A factory: CREATE (or CREATE2 with salt 7) of the calldata as initcode, value 1 wei; stores the address at slot 0
  // and RETURNDATASIZE at slot 1.
  const factory = (create2: boolean) =>
    asm(
      'CALLDATASIZE',
      0,
      0,
      'CALLDATACOPY',
      ...(create2 ? [7, 'CALLDATASIZE', 0, 1, 'CREATE2'] : ['CALLDATASIZE', 0, 1, 'CREATE']),
      0,
      'SSTORE',
      'RETURNDATASIZE',
      1,
      'SSTORE',
      'STOP',
    )
  const child = asm(42, 0, 'SSTORE', 0xab, 0, 'MSTORE8', 1, 0, 'RETURN') // runtime 0xab
  const reverting = asm(1, 0, 'SSTORE', ...mstoreBytes(toHex('no')), 2, 0, 'REVERT')
  const tooLarge = returnsBytes(24_577, 0x60)
  const maxSize = returnsBytes(24_576, 0x60)
  const ef = returnsBytes(1, 0xef)
  const fromCreate = asm(...mstoreBytes(child), (child.length - 2) / 2, 0, 0, 'CREATE', 0, 'SSTORE', 'STOP')
  const factoryPre = (create2: boolean, extra: PreAccount[] = []): PreAccount[] => [
    eoa(ALICE),
    { address: C1, code: factory(create2), balance: 10n, nonce: 1n },
    ...extra,
  ]
  const collideAt = getContractAddress({ from: C1, opcode: 'CREATE2', salt: numberToHex(7, { size: 32 }), bytecode: child })
  const cases: ReferenceCase[] = []
  for (const create2 of [false, true]) {
    const op = create2 ? 'CREATE2' : 'CREATE'
    cases.push(
      {
        name: `create: ${op} of a child that stores and returns code`,
        pre: factoryPre(create2),
        message: { caller: ALICE, to: C1, data: child },
      },
      {
        name: `create: ${op} of an initcode that reverts with data`,
        pre: factoryPre(create2),
        message: { caller: ALICE, to: C1, data: reverting },
      },
      {
        name: `create: ${op} of a too-large code (24,577 bytes) fails`,
        pre: factoryPre(create2),
        message: { caller: ALICE, to: C1, data: tooLarge, gas: 6_000_000n },
      },
      {
        name: `create: ${op} of code at the size limit (24,576 bytes)`,
        pre: factoryPre(create2),
        message: { caller: ALICE, to: C1, data: maxSize, gas: 6_000_000n },
      },
      {
        name: `create: ${op} of code starting 0xEF fails`,
        pre: factoryPre(create2),
        message: { caller: ALICE, to: C1, data: ef },
      },
      {
        name: `create: ${op} of an initcode that itself CREATEs`,
        pre: factoryPre(create2),
        message: { caller: ALICE, to: C1, data: fromCreate },
      },
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
    {
      name: 'create: top-level creation that CREATEs',
      pre: [eoa(ALICE, ETH, 1n)],
      message: { caller: ALICE, data: fromCreate },
    },
    {
      name: 'create: top-level creation onto an existing contract collides',
      pre: [eoa(ALICE, ETH, 0n), { address: getContractAddress({ from: ALICE, nonce: 0n }), code: '0x00' }],
      message: { caller: ALICE, data: deployCode(child) },
    },
    {
      name: 'create: CREATE with more value than the creator holds fails softly',
      pre: [
        eoa(ALICE),
        {
          address: C1,
          code: asm(...mstoreBytes(child), (child.length - 2) / 2, 0, 1000, 'CREATE', 0, 'SSTORE', 'STOP'),
          balance: 999n,
        },
      ],
      message: { caller: ALICE, to: C1 },
    },
  )
  return cases
}

export function workloadCases(): ReferenceCase[] {
  return [...erc20Cases(), ...ammCases(), ...sstoreCases(), ...createCases()]
}

/** Random bytecode programs (not written yet in this first version beyond a placeholder generator). */
export function randomProgramCases(seed: number, count: number): ReferenceCase[] {
  const r = rng(seed)
  const out: ReferenceCase[] = []
  for (let i = 0; i < count; i++) {
    const items: AsmItem[] = []
    for (let j = 0; j < 10; j++) items.push(r.int(1000), r.int(4), 'SSTORE')
    out.push({
      name: `random ${seed}/${i}`,
      pre: [eoa(ALICE), { address: C1, code: asm(...items) }],
      message: { caller: ALICE, to: C1 },
    })
  }
  return out
}
