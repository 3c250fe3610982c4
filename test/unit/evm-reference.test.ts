/**
 * The reference harness of the Solidity EVM interpreter (issue 18), checked on its own: its tables are complete (a
 * second ethereumjs run over only them gives the same outcome), its workloads do what their names say (with gas and
 * refund figures derived by hand from the EIPs, so the harness is checked against the specs and not only against
 * itself), and `diffResults` notices what it must.
 */
import assert from 'node:assert/strict'
import { MerkleStateManager } from '@ethereumjs/statemanager'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { Account, Address, bytesToBigInt, bytesToHex, hexToBytes } from '@ethereumjs/util'
import { createVM, runTx } from '@ethereumjs/vm'
import { describe, it } from 'node:test'
import {
  type Hex,
  decodeErrorResult,
  decodeFunctionData,
  decodeFunctionResult,
  encodeFunctionData,
  encodeFunctionResult,
  getAddress,
  keccak256,
  parseAbi,
} from 'viem'
import { compileFiles } from '../../scripts/compile-contracts.mjs'
import { createChainCommon } from '../../src/chain/config.ts'
import { blockForEnv } from '../../src/execution/block-env.ts'
import {
  DEFAULT_BLOCK,
  type ReferenceCase,
  type ReferenceRun,
  checkTablesComplete,
  defaultBlockHash,
  diffResults,
  runReference,
} from '../helpers/evm-reference.ts'
import { ALICE, BOB, C1, C2, C3, CAROL, DELEGATED, randomProgramCases, workloadCases } from '../helpers/evm-workloads.ts'

const cases = workloadCases()
const runs = new Map<string, ReferenceRun>()

async function run(name: string): Promise<ReferenceRun> {
  const found = runs.get(name)
  if (found !== undefined) return found
  const c = cases.find((x) => x.name === name)
  assert.ok(c, `no workload named ${name}`)
  const r = await runReference(c)
  runs.set(name, r)
  return r
}

function account(r: ReferenceRun, addr: Hex, after = true) {
  const rows = after ? r.expected.accounts : r.args.accounts
  const a = rows.find((x) => x.addr.toLowerCase() === addr.toLowerCase())
  assert.ok(a, `account ${addr} not in the tables`)
  return a
}

describe('evm reference: the tables are complete', () => {
  it('every workload: names are unique, and ethereumjs over only the recorded tables gives the same result', async () => {
    assert.equal(new Set(cases.map((c) => c.name)).size, cases.length)
    const failures: string[] = []
    for (const c of cases) {
      const r = await run(c.name)
      const problems = await checkTablesComplete(r)
      if (problems.length > 0) failures.push(`${c.name}: ${problems.join('; ')}`)
    }
    assert.deepEqual(failures, [])
  })

  it('200 random programs: ethereumjs over only the recorded tables gives the same result; faulty ones fail', async () => {
    const failures: string[] = []
    let succeeded = 0
    let withLogs = 0
    for (const c of randomProgramCases(18, 200)) {
      const r = await runReference(c)
      const problems = await checkTablesComplete(r)
      if (problems.length > 0) failures.push(`${c.name}: ${problems.join('; ')}`)
      if (c.name.endsWith('(with a fault)') && r.expected.success) failures.push(`${c.name}: succeeded despite its fault`)
      if (r.expected.success) succeeded++
      if (r.expected.logs.length > 0) withLogs++
    }
    assert.deepEqual(failures, [])
    // Mostly valid programs that do things (a generator producing only failures would test little).
    assert.ok(succeeded >= 140, `${succeeded} of 200 succeeded`)
    assert.ok(withLogs >= 40, `${withLogs} of 200 logged`)
  })

  it('the self-check fails when a table lacks an entry the execution needs', async () => {
    const r = await run('erc20: transfer to a holder')
    const withoutSlot = structuredClone(r)
    withoutSlot.args.slots.pop()
    assert.notDeepEqual(await checkTablesComplete(withoutSlot), [])
    const withoutAccount = structuredClone(r)
    withoutAccount.args.accounts = withoutAccount.args.accounts.filter((a) => a.addr.toLowerCase() !== ALICE.toLowerCase())
    assert.notDeepEqual(await checkTablesComplete(withoutAccount), [])
    const bh = await run('env: BLOCKHASH in and out of range (current, future, 256 back, 257 back, huge)')
    const withoutHash = structuredClone(bh)
    withoutHash.args.blockHashes.shift()
    assert.notDeepEqual(await checkTablesComplete(withoutHash), [])
  })

  it('the tables are minimal: an account or slot of the pre-state the message does not reach is left out', async () => {
    const c = cases.find((x) => x.name === 'sstore: 0 -> 1 (set, cold)')!
    const r = await runReference({
      ...c,
      pre: [
        ...c.pre.map((p) => (p.address === C1 ? { ...p, storage: { '0x05': '0x07' as Hex } } : p)),
        { address: C2, code: '0x00' },
      ],
    })
    assert.deepEqual(
      r.args.accounts.map((a) => a.addr.toLowerCase()),
      [ALICE, C1].map((a) => a.toLowerCase()),
    )
    assert.deepEqual(
      r.args.slots.map((s) => BigInt(s.key)),
      [0n],
    )
    // C1 has storage (slot 5) the message never reads: the flag says so (EIP-7610), the slot is not in the table.
    assert.equal(account(r, C1, false).hasStorage, true)
  })

  it('random programs are deterministic per seed and differ across seeds', () => {
    assert.deepEqual(randomProgramCases(7, 5), randomProgramCases(7, 5))
    assert.notDeepEqual(randomProgramCases(7, 5)[0]!.pre, randomProgramCases(8, 5)[0]!.pre)
  })
})

describe('evm reference: workloads do what their names say', () => {
  it('a top-level call: the caller row holds the bumped nonce, warm set has origin, recipient, coinbase and precompiles', async () => {
    const r = await run('erc20: transfer to a holder')
    assert.equal(account(r, ALICE, false).nonce, 1n)
    const warm = r.args.message.warmAddresses.map((a) => a.toLowerCase())
    assert.ok(warm.includes(ALICE.toLowerCase()))
    assert.ok(warm.includes(r.args.message.to.toLowerCase()))
    assert.ok(warm.includes(r.args.block.coinbase.toLowerCase()))
    assert.ok(warm.includes('0x0000000000000000000000000000000000000001'))
    assert.ok(warm.includes('0x0000000000000000000000000000000000000100'))
    assert.equal(r.expected.success, true)
    assert.equal(r.expected.logs.length, 1)
  })

  it('erc20 failing transfers revert with their reasons and leave balances as they were', async () => {
    const errorAbi = parseAbi(['error Error(string)'])
    for (const [name, reason] of [
      ['erc20: failing transfer (amount exceeds balance) reverts with reason', 'ERC20: transfer amount exceeds balance'],
      ['erc20: transferFrom beyond the allowance reverts with reason', 'ERC20: insufficient allowance'],
    ] as const) {
      const r = await run(name)
      assert.equal(r.expected.success, false, name)
      assert.equal(decodeErrorResult({ abi: errorAbi, data: r.expected.returnData }).args[0], reason)
      assert.deepEqual(r.expected.slots, r.args.slots)
      assert.equal(r.expected.logs.length, 0)
    }
  })

  it('sstore: gas and refunds are those of EIP-2200/2929/3529 (derived by hand)', async () => {
    // Each program: per write PUSH value (PUSH0 = 2 for zero, PUSH1 = 3), PUSH0 slot (2), SSTORE; then STOP; gas 100,000.
    // SSTORE: cold +2100 on first access; original == current != new: 20000 from zero, else 2900; otherwise 100.
    // Refunds: clearing a non-zero original +4800; un-clearing -4800; restoring the original +19900 (zero) or +2800.
    const expected: [string, bigint, bigint][] = [
      ['0 -> 1 (set, cold)', 3n + 2n + 22_100n, 0n],
      ['1 -> 0 (clear, refund)', 2n + 2n + 5_000n, 4_800n],
      ['1 -> 2 (reset)', 3n + 2n + 5_000n, 0n],
      ['1 -> 1 (no-op)', 3n + 2n + 2_200n, 0n],
      ['0 -> 0 (no-op on empty)', 2n + 2n + 2_200n, 0n],
      ['0 -> 1 -> 0 (restore original zero)', 5n + 22_100n + 4n + 100n, 19_900n],
      ['1 -> 2 -> 1 (restore original non-zero)', 5n + 5_000n + 5n + 100n, 2_800n],
      ['1 -> 0 -> 1 (clear then restore)', 4n + 5_000n + 5n + 100n, 4_800n - 4_800n + 2_800n],
      ['1 -> 0 -> 2 (clear then dirty)', 4n + 5_000n + 5n + 100n, 0n],
      ['1 -> 2 -> 0 (dirty then clear)', 5n + 5_000n + 4n + 100n, 4_800n],
      ['0 -> 1 -> 2 -> 3 (dirty writes)', 5n + 22_100n + 5n + 100n + 5n + 100n, 0n],
      ['1 -> 0 -> 2 -> 0 -> 1 (refund counter up and down)', 4n + 5_000n + 5n + 100n + 4n + 100n + 5n + 100n, 2_800n],
    ]
    for (const [name, used, refund] of expected) {
      const r = await run(`sstore: ${name}`)
      assert.equal(r.expected.success, true, name)
      assert.equal(100_000n - r.expected.gasLeft, used, `${name}: gas used`)
      assert.equal(r.expected.refund, refund, `${name}: refund`)
    }
    // EIP-2929 + value transfer: a cold CALL with value to a fresh account costs 2600 + 9000 + 25000 less the 2300
    // stipend the empty callee returns; a cold value-less CALL 2600. Pushes: 4 PUSH0 (8) + PUSH1 (3) + PUSH20 (3) + GAS
    // (2), then the flag's SSTORE (PUSH0 2 + cold set 22100); the second call 5 PUSH0 (10), PUSH20, GAS, PUSH1 1 (3).
    const fresh = await run(
      'calls: CALL with value to a fresh account (new-account charge) and to a precompile-free empty address without value',
    )
    const first = 8n + 3n + 3n + 2n + (2_600n + 9_000n + 25_000n - 2_300n) + 2n + 22_100n
    const second = 10n + 3n + 2n + 2_600n + 3n + 22_100n
    assert.equal(1_000_000n - fresh.expected.gasLeft, first + second)
    // EIP-3651: the coinbase is warm: COINBASE (2), BALANCE warm (100), PUSH0 (2), SSTORE 0 -> 0 cold (2200).
    const coinbase = await run('env: BALANCE of the coinbase is warm (EIP-3651)')
    assert.equal(1_000_000n - coinbase.expected.gasLeft, 2n + 100n + 2n + 2_200n)
    // EIP-2200: with gas left <= 2300 at the SSTORE, it fails (all gas consumed).
    const stipend = await run('sstore: with gas left at the stipend (2300) fails')
    assert.equal(stipend.expected.success, false)
    assert.equal(stipend.expected.gasLeft, 0n)
    // EIP-2930: a slot in the access list is warm: 1 -> 2 costs 2900, no cold surcharge.
    const warm = await run('sstore: a warm slot from the access list (1 -> 2)')
    assert.equal(1_000_000n - warm.expected.gasLeft, 3n + 2n + 2_900n)
    assert.equal(warm.args.message.warmSlots.length, 1)
  })

  it('create: a collision with an existing account or storage fails, the created address is reported on success', async () => {
    for (const name of [
      'create: CREATE2 collision with an existing account (nonce 1) fails',
      'create: CREATE2 collision with an account that has only storage (EIP-7610) fails',
    ]) {
      const r = await run(name)
      // The factory stores the CREATE2 result (0 on failure) at slot 0.
      const slot0 = r.expected.slots.find((s) => s.addr.toLowerCase() === C1.toLowerCase() && BigInt(s.key) === 0n)
      assert.equal(BigInt(slot0?.value ?? '0x0'), 0n, name)
    }
    const top = await run('create: top-level creation')
    assert.equal(top.args.message.isCreate, true)
    assert.equal(top.args.message.createNonce, 5n)
    assert.equal(account(top, ALICE, false).nonce, 6n)
    assert.notEqual(BigInt(top.expected.created), 0n)
    const created = account(top, top.expected.created)
    assert.deepEqual([created.exists, created.nonce, created.balance, created.code], [true, 1n, 3n, '0xab'])
    assert.equal(account(top, top.expected.created, false).exists, false)
    const deposit = await run('create: CREATE whose code deposit runs out of gas fails')
    assert.deepEqual([deposit.expected.success, slot(deposit, C1, 0n), account(deposit, C1).nonce], [true, 0n, 2n])
    const tooLong = await run('create: CREATE of an initcode over 49,152 bytes fails the creator')
    assert.deepEqual([tooLong.expected.success, tooLong.expected.gasLeft], [false, 0n])
    const maxInit = await run('create: CREATE of an initcode of exactly 49,152 bytes (zeros: STOPs) succeeds')
    assert.notEqual(slot(maxInit, C1, 0n), 0n)
    const maxNonce = await run('create: CREATE by a creator at the maximum nonce fails softly')
    assert.deepEqual([slot(maxNonce, C1, 0n), account(maxNonce, C1).nonce], [0n, 2n ** 64n - 1n])
    const ef = await run('create: top-level creation of code starting 0xEF fails')
    assert.deepEqual([ef.expected.success, ef.expected.gasLeft, BigInt(ef.expected.created)], [false, 0n, 0n])
  })
})

function slot(r: ReferenceRun, addr: Hex, key: bigint, after = true): bigint {
  const rows = after ? r.expected.slots : r.args.slots
  const s = rows.find((x) => x.addr.toLowerCase() === addr.toLowerCase() && BigInt(x.key) === key)
  assert.ok(s, `slot ${addr}/${key} not in the tables`)
  return BigInt(s.value)
}

function word(data: Hex, i: number): bigint {
  return BigInt(`0x${data.slice(2 + i * 64, 2 + (i + 1) * 64)}`)
}

describe('evm reference: call, create, selfdestruct, EIP-7702 and opcode workloads', () => {
  it('the four call kinds see the caller, value and address the specs give them', async () => {
    const r = await run(
      'calls: CALL with value into DELEGATECALL, CALLCODE with value, STATICCALL (fails on SSTORE) and CALL with value',
    )
    assert.equal(r.expected.success, true)
    // DELEGATECALL (base 0x100, in C2's storage): C1's call context (caller C1, value 100).
    assert.deepEqual([slot(r, C2, 0x100n), slot(r, C2, 0x101n), slot(r, C2, 0x102n)], [BigInt(C1), 100n, BigInt(C2)])
    // CALLCODE (0x200, C2's storage): caller C2, value 5, address C2.
    assert.deepEqual([slot(r, C2, 0x200n), slot(r, C2, 0x201n), slot(r, C2, 0x202n)], [BigInt(C2), 5n, BigInt(C2)])
    // STATICCALL fails on the SSTORE; CALL (0x400) writes C3's storage with value 7.
    assert.deepEqual([slot(r, C2, 0x10n), slot(r, C2, 0x11n), slot(r, C2, 0x12n), slot(r, C2, 0x13n)], [1n, 1n, 0n, 1n])
    assert.deepEqual([slot(r, C3, 0x400n), slot(r, C3, 0x401n), account(r, C3).balance], [BigInt(C2), 7n, 7n])
    assert.equal(account(r, C1).balance, 1000n + 1n - 100n)
  })

  it('a revert deep in the call tree undoes storage, transient storage, logs and balances', async () => {
    const r = await run('calls: a revert deep in the call tree undoes storage, transient storage, logs and balances')
    assert.equal(slot(r, C1, 0n), 0n, 'the reverting call failed')
    assert.equal(slot(r, C1, 1n), 0n, 'its transient write is undone')
    assert.equal(slot(r, C2, 0n), 1n)
    assert.equal(slot(r, C3, 0n), 0n)
    assert.deepEqual(
      r.expected.logs.map((l) => l.addr.toLowerCase()),
      [C1.toLowerCase()],
    )
    assert.deepEqual([account(r, C1).balance, account(r, C2).balance, account(r, C3).balance], [1000n, 0n, 0n])
    const top = await run('calls: the top frame reverts after nested writes, value and logs')
    assert.equal(top.expected.success, false)
    assert.deepEqual(top.expected.slots, top.args.slots)
    assert.deepEqual(top.expected.logs, [])
    assert.deepEqual(
      top.expected.accounts.map((a) => [a.addr, a.balance, a.nonce]),
      top.args.accounts.map((a) => [a.addr, a.balance, a.nonce]),
    )
  })

  it('a STATICCALL fails on SSTORE, LOG, value CALL, TSTORE, CREATE and SELFDESTRUCT, not on reads or a value-less CALL', async () => {
    const r = await run(
      'calls: STATICCALL that tries SSTORE, LOG, value CALL, TSTORE, CREATE, SELFDESTRUCT fails; reads and a value-less CALL succeed',
    )
    assert.deepEqual(
      [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n].map((k) => slot(r, C1, k)),
      [0n, 0n, 0n, 1n, 0n, 0n, 0n, 1n],
    )
  })

  it('out of gas in a sub-call: the caller keeps the rest (a limit) or 1/64 (EIP-150)', async () => {
    const limited = await run('calls: out of gas in a sub-call with a gas limit (the caller continues)')
    assert.deepEqual([limited.expected.success, slot(limited, C1, 0n)], [true, 0n])
    const all = await run('calls: out of gas in a sub-call given all gas (63/64 kept by the caller)')
    assert.equal(all.expected.success, true)
    assert.ok(all.expected.gasLeft < 300_000n / 64n, `${all.expected.gasLeft}`)
    const deep = await run('calls: recursion as deep as the gas allows')
    assert.ok(slot(deep, C1, 0n) > 100n, `depth ${slot(deep, C1, 0n)}`)
    // Frames at depths 0..1024 run (the recursion stores depth + 1): the CALL at depth 1024 fails.
    const limit = await run('calls: the call depth limit (1024) with gas beyond any transaction (2^38)')
    assert.equal(slot(limit, C1, 0n), 1025n)
  })

  it('selfdestruct: EIP-6780 deletes only an account created in the same message', async () => {
    const pre = await run('selfdestruct: a pre-existing contract sends its balance and stays (EIP-6780)')
    const c2 = account(pre, C2)
    assert.deepEqual([c2.exists, c2.balance, c2.code, c2.hasStorage], [true, 0n, account(pre, C2, false).code, true])
    assert.equal(account(pre, BOB).balance, 1001n)
    const toSelf = await run('selfdestruct: a pre-existing contract to itself keeps its balance')
    assert.equal(account(toSelf, C2).balance, 1001n)
    const created = await run('selfdestruct: a contract created in the same message is deleted (initcode self-destructs)')
    const child = getAddress(`0x${slot(created, C1, 0n).toString(16).padStart(40, '0')}`)
    assert.equal(account(created, child).exists, false)
    assert.equal(account(created, CAROL).balance, 5n)
    const called = await run('selfdestruct: a contract created then called in the same message is deleted')
    const child2 = getAddress(`0x${slot(called, C1, 0n).toString(16).padStart(40, '0')}`)
    assert.deepEqual([slot(called, C1, 1n), account(called, child2).exists, account(called, CAROL).balance], [1n, false, 10n])
    const again = await run(
      'selfdestruct: CREATE2, self-destruct, value sent after it, CREATE2 again at the same address collides',
    )
    const first = getAddress(`0x${slot(again, C1, 0n).toString(16).padStart(40, '0')}`)
    assert.deepEqual([slot(again, C1, 1n), slot(again, C1, 2n), slot(again, C1, 3n)], [1n, 1n, 0n])
    // Deleted at the end with the 3 wei sent after its SELFDESTRUCT (burned); C1 paid them.
    assert.equal(account(again, first).exists, false)
    assert.equal(account(again, C1).balance, 7n)
    const burned = await run('selfdestruct: a top-level creation that self-destructs to itself (balance burned)')
    assert.equal(burned.expected.success, true)
    assert.equal(
      BigInt(burned.expected.created),
      BigInt(burned.expected.accounts.find((a) => a.addr !== getAddress(ALICE))!.addr),
    )
    assert.equal(account(burned, burned.expected.created).exists, false)
  })

  it('eip-7702: a delegated EOA runs its target in its own context; EXTCODE* see the 23-byte designator', async () => {
    const top = await run('eip-7702: top-level call to a delegated EOA runs the target code in its context (target warm)')
    assert.ok(top.args.message.warmAddresses.map((a) => a.toLowerCase()).includes(C3.toLowerCase()))
    assert.deepEqual(
      [slot(top, DELEGATED, 0n), slot(top, DELEGATED, 1n), slot(top, DELEGATED, 2n)],
      [BigInt(ALICE), BigInt(DELEGATED), 4n],
    )
    assert.equal(account(top, DELEGATED).balance, 54n)
    const ext = await run('eip-7702: EXTCODESIZE, EXTCODEHASH, EXTCODECOPY and BALANCE of a delegated EOA see the designator')
    const designator = `0xef0100${C3.slice(2)}` as Hex
    assert.equal(slot(ext, C1, 0n), 23n)
    assert.equal(slot(ext, C1, 1n), BigInt(keccak256(designator)))
    assert.equal(slot(ext, C1, 2n), BigInt(`${designator}${'00'.repeat(9)}`))
    assert.equal(slot(ext, C1, 3n), 50n)
    const twice = await run('eip-7702: a delegation to a delegated account is not followed twice')
    assert.equal(slot(twice, C1, 5n), 0n, 'the second designator runs as code (0xef: invalid)')
  })

  it('env: the environment opcodes read the block, message and state given', async () => {
    const r = await run('env: every environment opcode (origin differs from caller, gas price, value, calldata)')
    const d = r.expected.returnData
    assert.deepEqual(
      [
        word(d, 0),
        word(d, 1),
        word(d, 2),
        word(d, 3),
        word(d, 4),
        word(d, 8),
        word(d, 9),
        word(d, 11),
        word(d, 14),
        word(d, 15),
        word(d, 16),
        word(d, 17),
      ],
      [BigInt(C1), BigInt(BOB), BigInt(ALICE), 6n, 33n, 13n, BigInt(r.args.block.coinbase), 4242n, 6342n, 83n, 11n, 3n],
    )
    // EXTCODEHASH: a missing account 0, an existing empty one keccak256 of nothing (EIP-1052).
    assert.equal(word(d, 21), 0n)
    assert.equal(word(d, 22), BigInt(keccak256('0x')))
  })

  it('BLOCKHASH serves the 256 blocks before the current one, from the table it reports', async () => {
    const r = await run('env: BLOCKHASH in and out of range (current, future, 256 back, 257 back, huge)')
    assert.deepEqual(
      r.args.blockHashes.map((b) => b.number),
      [744n, 900n, 999n],
    )
    assert.equal(slot(r, C1, 0n), BigInt(`0x${'99'.repeat(32)}`))
    assert.equal(slot(r, C1, 1n), BigInt(r.args.blockHashes[0]!.hash))
    assert.deepEqual(
      [2n, 3n, 4n, 5n, 6n, 7n].map((k) => slot(r, C1, k)),
      [0n, 0n, 0n, 0n, 0n, 0n],
    )
    const blob = await run('env: BLOBHASH with the index in and out of range')
    assert.deepEqual(
      [0n, 1n, 2n, 3n].map((k) => slot(blob, C1, k)),
      [BigInt(`0x01${'aa'.repeat(31)}`), BigInt(`0x01${'bb'.repeat(31)}`), 0n, 0n],
    )
  })

  it('CLZ, transient storage and the failure workloads behave as named', async () => {
    const clz = await run('opcodes: CLZ (EIP-7939) of zero, one, the top bit, all ones and others')
    assert.deepEqual(
      [0n, 1n, 2n, 3n, 4n, 5n, 6n].map((k) => slot(clz, C1, k)),
      [256n, 255n, 0n, 0n, 248n, 127n, 55n],
    )
    const reentrant = await run('transient: TSTORE/TLOAD across a re-entrant call')
    assert.deepEqual(
      [0n, 1n, 2n].map((k) => slot(reentrant, C1, k)),
      [1n, 1n, 2n],
    )
    const t = await run('transient: TSTORE/TLOAD across DELEGATECALL, STATICCALL and CALL, undone by a revert')
    assert.deepEqual(
      [1n, 2n, 3n, 4n, 5n].map((k) => slot(t, C1, k)),
      [0n, 42n, 0n, 1n, 42n],
    )
    for (const name of [
      'memory: MSTORE at 2^32 runs out of gas',
      'memory: MLOAD at 2^64 runs out of gas',
      'returndata: RETURNDATACOPY out of bounds fails',
      'returndata: RETURNDATACOPY at a huge offset of empty return data fails',
      'jumps: a JUMP to a non-JUMPDEST fails',
      'jumps: a JUMP into PUSH data fails',
      'jumps: a JUMPI to a huge destination fails',
      'stack: underflow fails',
      'stack: overflow at 1025 items fails',
      'opcodes: undefined 0x0c fails',
      'opcodes: undefined 0x21 fails',
      'opcodes: undefined 0xef fails',
      'opcodes: undefined 0xf6 fails',
      'opcodes: INVALID consumes all gas',
    ]) {
      const r = await run(name)
      assert.deepEqual([r.expected.success, r.expected.gasLeft], [false, 0n], name)
    }
    for (const name of [
      'stack: 1024 items are fine',
      'jumps: a JUMPI not taken ignores its bad destination',
      'returndata: RETURNDATACOPY within bounds',
    ]) {
      assert.equal((await run(name)).expected.success, true, name)
    }
    const revert = await run('opcodes: REVERT returns its data and keeps gas')
    assert.deepEqual([revert.expected.success, revert.expected.returnData], [false, '0x726561736f6e'])
    assert.ok(revert.expected.gasLeft > 999_000n)
  })
})

describe('evm reference: the values have EvmTypes.sol types', () => {
  it("every workload's arguments and result encode with EvmTypes.sol's ABI and decode back unchanged", async () => {
    // EvmReferenceEcho's `echo` takes execute's arguments and returns an EvmResult: its ABI is EvmTypes.sol's types.
    const [echo] = compileFiles(['test/EvmReferenceEcho.sol'], 'cancun')
    const abi = echo!.abi
    for (const c of cases) {
      const { args, expected } = await run(c.name)
      const callArgs = [args.block, args.message, args.accounts, args.slots, args.blockHashes, expected] as const
      const data = encodeFunctionData({ abi, functionName: 'echo', args: callArgs })
      assert.deepEqual(decodeFunctionData({ abi, data }).args, callArgs, c.name)
      const out = encodeFunctionResult({ abi, functionName: 'echo', result: expected })
      assert.deepEqual(decodeFunctionResult({ abi, functionName: 'echo', data: out }), expected, c.name)
    }
  })
})

/**
 * The same case as a real transaction through ethereumjs's runTx (what the node runs): its pre-state in a Merkle state
 * (real storage roots), a signed-looking EIP-1559 transaction with the message's gas plus intrinsic gas. Returns the
 * differences from the harness's run in what the message decides (runTx adds the fees, the refund cap and EIP-161).
 */
async function runTxDifferences(c: ReferenceCase, run: ReferenceRun): Promise<string[]> {
  const common = createChainCommon({ chainId: 6342n, name: 'megaeth-dev' })
  const sm = new MerkleStateManager({ common })
  const m = c.message
  const b = { ...DEFAULT_BLOCK, ...c.block }
  const gasPrice = m.gasPrice ?? b.baseFee
  const txData = (gasLimit: bigint) => ({
    nonce: c.pre.find((p) => p.address.toLowerCase() === m.caller.toLowerCase())?.nonce ?? 0n,
    to: m.to,
    value: m.value ?? 0n,
    data: m.data ?? '0x',
    gasLimit,
    maxFeePerGas: gasPrice,
    maxPriorityFeePerGas: gasPrice - b.baseFee,
    accessList: (m.accessList ?? []).map((i) => ({
      address: i.address,
      storageKeys: i.storageKeys.map((k) => `0x${k.slice(2).padStart(64, '0')}` as Hex),
    })),
  })
  const intrinsic = createFeeMarket1559Tx(txData(16_000_000n), { common }).getIntrinsicGas()
  const gasLimit = intrinsic + (m.gas ?? 1_000_000n)
  for (const p of c.pre) {
    const address = new Address(hexToBytes(p.address))
    // A case's balances are those the message starts with: after the gas purchase, which runTx makes.
    const purchase = p.address.toLowerCase() === m.caller.toLowerCase() ? gasLimit * gasPrice : 0n
    await sm.putAccount(address, new Account(p.nonce ?? 0n, (p.balance ?? 0n) + purchase))
    if (p.code !== undefined && p.code !== '0x') await sm.putCode(address, hexToBytes(p.code))
    for (const [k, v] of Object.entries(p.storage ?? {}))
      if (BigInt(v) !== 0n) await sm.putStorage(address, hexToBytes(k as Hex), hexToBytes(v))
  }
  const blockchain = {
    async getBlock(n: number) {
      const hash = hexToBytes(c.blockHashes?.[String(n)] ?? defaultBlockHash(BigInt(n)))
      return { hash: () => hash }
    },
    async putBlock() {},
    shallowCopy() {
      return blockchain
    },
  }
  const vm = await createVM({ common, stateManager: sm, blockchain: blockchain as never })
  const block = blockForEnv(
    {
      number: b.number,
      timestamp: b.timestamp,
      coinbase: b.coinbase,
      baseFeePerGas: b.baseFee,
      gasLimit: b.gasLimit,
      prevRandao: hexToBytes(b.prevRandao),
      excessBlobGas: 0n,
      parentBeaconBlockRoot: new Uint8Array(32),
    },
    common,
  )
  const tx = createFeeMarket1559Tx(txData(gasLimit), { common, freeze: false })
  // The sender without a key: runTx asks the transaction for it (the signature is never checked when it does).
  Object.assign(tx, { getSenderAddress: () => new Address(hexToBytes(m.caller)) })
  const res = await runTx(vm, { tx, block, skipHardForkValidation: true })
  const x = res.execResult
  const out: string[] = []
  const e = run.expected
  const eq = (what: string, a: unknown, b: unknown) => {
    if (a !== b) out.push(`${what}: runTx ${String(a)}, harness ${String(b)}`)
  }
  eq('gas used', x.executionGasUsed, run.args.message.gas - e.gasLeft)
  eq('success', x.exceptionError === undefined, e.success)
  eq('returnData', bytesToHex(x.returnValue), e.returnData)
  eq('refund', x.gasRefund ?? 0n, e.refund)
  eq(
    'created',
    x.exceptionError === undefined && res.createdAddress !== undefined
      ? res.createdAddress.toString()
      : '0x0000000000000000000000000000000000000000',
    e.created.toLowerCase(),
  )
  eq(
    'logs',
    JSON.stringify((x.logs ?? []).map(([a, t, d]) => [bytesToHex(a), t.map((y) => bytesToHex(y)), bytesToHex(d)])),
    JSON.stringify(e.logs.map((l) => [l.addr.toLowerCase(), l.topics, l.data])),
  )
  for (const s of e.slots) {
    const v = bytesToBigInt(await sm.getStorage(new Address(hexToBytes(s.addr)), hexToBytes(s.key)))
    eq(`slot ${s.addr}/${s.key}`, v, BigInt(s.value))
  }
  for (const [i, a] of e.accounts.entries()) {
    if (a.addr.toLowerCase() === b.coinbase.toLowerCase()) continue
    const acc = await sm.getAccount(new Address(hexToBytes(a.addr)))
    const empty = a.nonce === 0n && a.balance === 0n && a.code === '0x' && !a.hasStorage
    eq(`account ${a.addr} exists`, acc !== undefined, a.exists && !(e.touched[i] === true && empty))
    if (acc === undefined || !a.exists) continue
    eq(`account ${a.addr} nonce`, acc.nonce, a.nonce)
    eq(`account ${a.addr} code`, bytesToHex(await sm.getCode(new Address(hexToBytes(a.addr)))), a.code)
    // The sender's balance also pays the fees (runTx's, not the message's).
    if (a.addr.toLowerCase() !== m.caller.toLowerCase()) eq(`account ${a.addr} balance`, acc.balance, a.balance)
  }
  return out
}

describe('evm reference: the message as a transaction through runTx', () => {
  it('every workload a transaction can carry, and 60 random programs, do the same through runTx', async () => {
    // Left out: an origin other than the caller, blob hashes (the chain has no blob transactions), a blob base fee
    // other than the minimum, and gas beyond EIP-7825's 2^24 per transaction.
    const eligible = (c: ReferenceCase) =>
      c.message.origin === undefined &&
      c.message.blobHashes === undefined &&
      c.block?.blobBaseFee === undefined &&
      (c.message.gas ?? 0n) < 16_000_000n
    const all = [...cases.filter(eligible), ...randomProgramCases(1800, 60)]
    assert.ok(all.length >= 150, `${all.length} cases`)
    const failures: string[] = []
    for (const c of all) {
      const r = runs.get(c.name) ?? (await runReference(c))
      const d = await runTxDifferences(c, r)
      if (d.length > 0) failures.push(`${c.name}: ${d.join('; ')}`)
    }
    assert.deepEqual(failures, [])
  })
})

describe('evm reference: diffResults', () => {
  const base = async () => run('erc20: transfer to a holder')

  it('is empty for an identical result', async () => {
    const r = await base()
    assert.deepEqual(diffResults(structuredClone(r.expected), r.expected), [])
  })

  it('reports a changed balance, a missing log and a wrong gasLeft', async () => {
    const r = await base()
    const actual = structuredClone(r.expected)
    actual.accounts[0]!.balance += 1n
    actual.logs.pop()
    actual.gasLeft -= 3n
    const diffs = diffResults(actual, r.expected)
    assert.equal(diffs.length, 3, diffs.join('\n'))
    assert.match(diffs.join('\n'), /balance/)
    assert.match(diffs.join('\n'), /log 0: missing/)
    assert.match(diffs.join('\n'), /gasLeft/)
  })

  it('treats a touched empty account as deleted (EIP-161) and reports a touch that matters', async () => {
    const empty = getAddress(BOB)
    const row = { addr: empty, exists: true, nonce: 0n, balance: 0n, code: '0x' as Hex, hasStorage: false }
    const expected = { ...(await base()).expected, accounts: [{ ...row, exists: false }], slots: [], touched: [false] }
    assert.deepEqual(diffResults({ ...expected, accounts: [row], touched: [true] }, expected), [])
    assert.equal(diffResults({ ...expected, accounts: [row], touched: [false] }, expected).length, 1)
  })
})
