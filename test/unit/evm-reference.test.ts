/**
 * The reference harness of the Solidity EVM interpreter (issue 18), checked on its own: its tables are complete (a
 * second ethereumjs run over only them gives the same outcome), its workloads do what their names say (with gas and
 * refund figures derived by hand from the EIPs, so the harness is checked against the specs and not only against
 * itself), and `diffResults` notices what it must.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Hex, decodeErrorResult, getAddress, parseAbi } from 'viem'
import { type ReferenceRun, checkTablesComplete, diffResults, runReference } from '../helpers/evm-reference.ts'
import { ALICE, BOB, C1, randomProgramCases, workloadCases } from '../helpers/evm-workloads.ts'

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

  it('200 random programs: ethereumjs over only the recorded tables gives the same result', async () => {
    const failures: string[] = []
    for (const c of randomProgramCases(18, 200)) {
      const r = await runReference(c)
      const problems = await checkTablesComplete(r)
      if (problems.length > 0) failures.push(`${c.name}: ${problems.join('; ')}`)
    }
    assert.deepEqual(failures, [])
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
    const ef = await run('create: top-level creation of code starting 0xEF fails')
    assert.deepEqual([ef.expected.success, ef.expected.gasLeft, BigInt(ef.expected.created)], [false, 0n, 0n])
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
