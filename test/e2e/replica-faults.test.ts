/**
 * Fault injection: a real dev sequencer (`--block-ms=300`) under light load (ETH transfers to fresh
 * addresses and Counter increments, so blocks carry transactions and state changes), and per fault
 * a fresh full replica whose only peer is a tampering relay (test/helpers/tampering-relay.ts) in
 * front of the sequencer. The relay is honest until the replica has verified a few blocks, then
 * tampers with everything about blocks ≥ N, N chosen so no mini-block of N has passed yet.
 *
 * For each fault the replica must keep every honest block (verified, never rejected), refuse the
 * first tampered block with the precise code in `mega_nodeInfo`, `/readyz` and its metrics, stop
 * importing, and stay up answering RPC. A forged signature is refused at the gossip validator and
 * the sync client: nothing forged is applied and nothing is recorded as a verification failure.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { DEV_CHAIN_ID, DEV_KEYS, freePort, rpc, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'
import { TamperingRelay, type TamperMode } from '../helpers/tampering-relay.ts'
import { startLightLoad, type LightLoad } from '../helpers/light-load.ts'
import { metric } from '../helpers/node-observations.ts'

const BLOCK_MS = 300
/**
 * 50 ms rather than the default 10: six mini-blocks per block still exercise everything (live
 * application, chaining, re-sealing), at a fifth of the gossip seven relays and replicas must carry
 * on two cores.
 */
const MINI_BLOCK_MS = 50
/** Blocks a replica verifies through the honest relay before the relay turns. */
const HONEST_VERIFIED = 3n

const hex = (n: bigint | number): Hex => `0x${n.toString(16)}`

interface NodeInfo {
  peers: number
  p2pAddrs: string[]
  head: { block: Hex; miniBlock: Hex }
  verified: { block: Hex; failures: number; failure?: { block: Hex; code: string; message: string } }
}

const nodeInfo = (url: string): Promise<NodeInfo> => rpc<NodeInfo>(url, 'mega_nodeInfo')

async function readyz(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) })
  return { status: res.status, body: await res.text() }
}

// --- one relay and one replica per fault ---------------------------------------------------------

/**
 * In start order: those whose verifier must reach the tampering point first (a fresh replica verifies
 * from genesis, so the shorter the chain the better); the import-time faults, refused as soon as the
 * replica imports up to the tampering point whatever its verifier does, after them.
 */
const SCENARIOS = [
  'witness-missing-node',
  'witness-bogus-node',
  'forged-signature',
  'honest',
  'wrong-state-root',
  'tampered-state-diff',
  'tampered-transaction',
] as const satisfies readonly TamperMode[]
type Scenario = (typeof SCENARIOS)[number]
/** Scenarios (each a relay and a replica process) running at once. */
const PARALLEL_SCENARIOS = 4

const EXPECTED_CODES = {
  'wrong-state-root': 'STATE_ROOT_MISMATCH',
  'tampered-state-diff': 'STATE_DIFF_MISMATCH',
  'tampered-transaction': 'TRANSACTIONS_ROOT_MISMATCH',
  'witness-missing-node': 'WITNESS_MISSING_NODE',
  'witness-bogus-node': 'WITNESS_BOGUS_NODE',
} as const satisfies Record<Exclude<Scenario, 'honest' | 'forged-signature'>, string>

interface Setup {
  relay: TamperingRelay
  replica: NodeHandle
  metricsUrl: string
  /** Replica state, relay stats and log tails, for assertion messages. */
  context(): Promise<string>
}

describe('replica fault detection through a tampering relay', { timeout: 150_000 }, () => {
  let sequencer: NodeHandle | undefined
  let sequencerAddr = ''
  let load: LightLoad | undefined
  const relays: TamperingRelay[] = []
  const replicas: NodeHandle[] = []
  /**
   * Each scenario runs start to end on its own (relay and replica up, honest blocks verified, relay
   * turned, outcome checked, both stopped), up to `PARALLEL_SCENARIOS` at once, all kicked off by
   * `before`; a scenario's test awaits its outcome. A fresh replica verifies every block from
   * genesis, so scenarios start early rather than one after the other on an ever longer chain.
   */
  const outcomes = new Map<Scenario, Promise<void>>()
  let ending = false

  before(async () => {
    // Each scenario compares the halted replica with the sequencer's state at the replica's last verified
    // block, which a fresh replica's slow verifier may leave hundreds of 300 ms blocks behind.
    sequencer = await startNode({ args: [`--block-ms=${BLOCK_MS}`, `--miniblock-ms=${MINI_BLOCK_MS}`, '--state.history=4096'] })
    sequencerAddr = (await nodeInfo(sequencer.rpcUrl)).p2pAddrs[0]!
    load = await startLightLoad(sequencer.rpcUrl)
    const slot = semaphore(PARALLEL_SCENARIOS)
    for (const scenario of SCENARIOS) {
      const outcome = slot(() => run(scenario))
      outcome.catch(() => undefined) // reported by the scenario's test
      outcomes.set(scenario, outcome)
    }
  })

  after(async () => {
    // Normally every scenario is over; after a failure or a timeout some may not be: nothing new
    // starts, everything started is stopped (which ends their waits), then they are given a moment.
    ending = true
    const stopAll = async (): Promise<void> => {
      await Promise.allSettled(replicas.map((replica) => replica.stop(10_000)))
      await Promise.allSettled(relays.map((relay) => relay.stop()))
    }
    await stopAll()
    await Promise.race([Promise.allSettled(outcomes.values()), sleep(15_000, undefined, { ref: false })])
    await stopAll()
    await load?.stop().catch(() => undefined)
    await sequencer?.stop()
  })

  const outcome = (scenario: Scenario): Promise<void> =>
    outcomes.get(scenario) ?? Promise.reject(new Error(`${scenario} never started (see the before hook)`))

  const sequencerHead = async (): Promise<bigint> => BigInt(await rpc<Hex>(sequencer!.rpcUrl, 'eth_blockNumber'))

  async function run(scenario: Scenario): Promise<void> {
    if (ending) throw new Error(`${scenario}: not started, the suite is ending`)
    const setup = await setUp(scenario)
    try {
      switch (scenario) {
        case 'honest':
          return await staysHonest(setup)
        case 'forged-signature':
          return await refusesForgeries(setup)
        default:
          return await detects(setup, scenario, EXPECTED_CODES[scenario], {
            foundByVerifier: scenario === 'witness-missing-node' || scenario === 'witness-bogus-node',
          })
      }
    } finally {
      // Stopped as soon as checked, leaving the CPU to the scenarios still running.
      await setup.replica.stop(10_000)
      await setup.relay.stop()
    }
  }

  async function setUp(scenario: Scenario): Promise<Setup> {
    const relay = await TamperingRelay.start({ sequencer: sequencerAddr })
    relays.push(relay)
    const metricsPort = await freePort()
    let replica: NodeHandle
    try {
      replica = await startNode({
        args: [
          '--role=replica',
          `--p2p.bootnodes=${relay.bootnode}`,
          '--replica.verify-workers=1',
          // Its `latest` after a refusal is the freeze point, as far behind its newest block as the sequencer's.
          '--state.history=4096',
          `--metrics.port=${metricsPort}`,
        ],
      })
    } catch (error) {
      await relay.stop()
      throw error
    }
    replicas.push(replica)
    if (ending) {
      // The suite's `after` may have swept already: stop what this late start brought up.
      await replica.stop(10_000)
      await relay.stop()
      throw new Error(`${scenario}: stopped, the suite is ending`)
    }
    const context = async (): Promise<string> => {
      const info = await nodeInfo(replica.rpcUrl).then(
        (i) => JSON.stringify({ head: i.head, verified: i.verified, peers: i.peers }),
        (e: unknown) => `nodeInfo failed: ${String(e)}`,
      )
      const sequencerAt = await sequencerHead().then(String, (e: unknown) => String(e))
      const { stdout, stderr } = replica.logs()
      const { mode, from } = relay.currentMode
      const stats = {
        ...relay.stats,
        tamperedBlocks: [...relay.stats.tamperedBlocks].map(String),
        firstTamperedMiniBlock: String(relay.stats.firstTamperedMiniBlock),
        mode,
        from: String(from),
      }
      return `\n[${scenario}] sequencer head ${sequencerAt}; replica: ${info}\nrelay: ${JSON.stringify(stats)}\nload: sent ${load?.sent()}, errors ${JSON.stringify(load?.errors().slice(-3))}\n--- replica stderr:\n${stderr.slice(-2_000)}\n--- replica stdout:\n${stdout.slice(-4_000)}`
    }
    return { relay, replica, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, context }
  }

  /**
   * Honest blocks first, through the relay while it passes everything on untouched: waits until the
   * replica has verified `HONEST_VERIFIED` blocks and imported up to within two blocks of the
   * sequencer's head, so it follows the chain live. Its verifier may still be behind (a fresh replica
   * verifies every block from genesis, slowly on a busy machine): the relay is turned then, and the
   * verifier catches up on honest blocks only. Returns the verified head.
   */
  async function followsHonestly(setup: Setup): Promise<bigint> {
    const verified = await verifiesHonestly(setup, async () => HONEST_VERIFIED, 60_000)
    let head = 0n
    try {
      await waitFor(
        "the replica to import up to the sequencer's head",
        async () => {
          const [info, sequencerAt] = await Promise.all([nodeInfo(setup.replica.rpcUrl), sequencerHead()])
          head = BigInt(info.head.block)
          return head >= sequencerAt - 2n
        },
        60_000,
        50,
      )
    } catch (error) {
      assert.fail(`${error instanceof Error ? error.message : String(error)} (head ${head})${await setup.context()}`)
    }
    return verified
  }

  /** Waits until the replica has verified up to block `target()` (re-evaluated each poll) with no failure; returns its verified head. */
  async function verifiesHonestly(setup: Setup, target: () => Promise<bigint>, timeoutMs: number): Promise<bigint> {
    let last: NodeInfo | undefined
    let wanted = 0n
    try {
      await waitFor(
        'the replica to verify honest blocks',
        async () => {
          ;[last, wanted] = await Promise.all([nodeInfo(setup.replica.rpcUrl), target()])
          if (last.verified.failures !== 0) throw new Error(`verification failed: ${JSON.stringify(last.verified.failure)}`)
          return BigInt(last.verified.block) >= wanted
        },
        timeoutMs,
        50,
      )
    } catch (error) {
      assert.fail(
        `verifying up to block ${wanted}: ${error instanceof Error ? error.message : String(error)}${await setup.context()}`,
      )
    }
    assert.equal(last!.verified.failures, 0)
    return BigInt(last!.verified.block)
  }

  /** The replica refuses the first tampered block with `expectedCode`, halts there, says so, and stays up. */
  async function detects(
    setup: Setup,
    mode: TamperMode,
    expectedCode: string,
    { foundByVerifier }: { foundByVerifier: boolean },
  ): Promise<void> {
    const { relay, replica } = setup
    const honestVerified = await followsHonestly(setup)
    const first = relay.armAfterLatest(mode)
    const armedAt = Date.now()
    let info: NodeInfo | undefined
    try {
      await waitFor(
        `the replica to refuse a block (${mode} from block ${first})`,
        async () => {
          info = await nodeInfo(replica.rpcUrl)
          return info.verified.failures > 0
        },
        // A witness fault waits for the verifier to reach the block.
        foundByVerifier ? 90_000 : 30_000,
        100,
      )
    } catch (error) {
      assert.fail(`${error instanceof Error ? error.message : String(error)}${await setup.context()}`)
    }
    const detectedMs = Date.now() - armedAt
    const failure = info!.verified.failure!
    const failed = BigInt(failure.block)
    const ctx = await setup.context()
    assert.equal(info!.verified.failures, 1, ctx)
    assert.equal(failure.code, expectedCode, `${failure.message}${ctx}`)
    // Honest blocks are never refused: the refused block is the first one the relay altered.
    assert.ok(failed >= first, `refused honest block ${failed} (tampering starts at ${first})${ctx}`)
    assert.equal(
      failed,
      minOf(relay.stats.tamperedBlocks),
      `refused block ${failed}, but the first tampered one is ${minOf(relay.stats.tamperedBlocks)}${ctx}`,
    )
    // Honest blocks were verified, nothing from the refused one on. The verifier works in block order:
    // for a witness fault it verified every block before the refused one; an import check refuses
    // the block wherever the verifier is, and the verifier stops there.
    const verified = BigInt(info!.verified.block)
    assert.ok(
      verified >= honestVerified && verified < failed,
      `verified head ${verified} (was ${honestVerified} before tampering; refused ${failed})${ctx}`,
    )
    if (foundByVerifier) assert.equal(verified, failed - 1n, `verified head${ctx}`)

    // What it serves is frozen at its last verified block: the chain view ends there (nothing from the
    // refused block or the mini-blocks applied after it), whatever it had imported before the alarm.
    const headAtFailure = await waitFor(
      'the replica to serve its last verified block',
      async () => {
        const now = await nodeInfo(replica.rpcUrl)
        return now.head.block === now.verified.block ? BigInt(now.head.block) : undefined
      },
      5_000,
      20,
    )
    assert.equal(headAtFailure, verified, `head ${headAtFailure} vs verified ${verified}${ctx}`)
    assert.ok(headAtFailure < failed, `head ${headAtFailure} reached the refused block ${failed}${ctx}`)
    for (const key of [DEV_KEYS[1]!, DEV_KEYS[2]!]) {
      const address = privateKeyToAccount(key).address
      const [ours, theirs] = await Promise.all([
        rpc<Hex>(replica.rpcUrl, 'eth_getBalance', [address, 'latest']),
        rpc<Hex>(sequencer!.rpcUrl, 'eth_getBalance', [address, hex(headAtFailure)]),
      ])
      assert.equal(
        ours,
        theirs,
        `${address}: the halted replica's latest balance is the sequencer's at block ${headAtFailure}${ctx}`,
      )
    }
    assert.equal(
      await rpc(replica.rpcUrl, 'eth_getBlockByNumber', [hex(failed), false]),
      null,
      `the refused block is not served${ctx}`,
    )
    // It stays there: no more imports, nothing verified at or past the refused block.
    const target = (await sequencerHead()) + 3n
    await waitFor('the sequencer to seal 3 more blocks', async () => (await sequencerHead()) >= target, 15_000, 50)
    const later = await nodeInfo(replica.rpcUrl)
    assert.equal(BigInt(later.head.block), headAtFailure, `the halted replica kept importing${await setup.context()}`)
    assert.ok(BigInt(later.verified.block) < failed, `verified ${later.verified.block} after the failure at ${failed}`)
    assert.deepEqual(later.verified.failure, failure)
    assert.equal(later.verified.failures, 1)

    // What it imported is the sequencer's own chain.
    const [ours, theirs] = await Promise.all(
      [replica.rpcUrl, sequencer!.rpcUrl].map((url) =>
        rpc<{ hash: Hex }>(url, 'eth_getBlockByNumber', [hex(headAtFailure), false]),
      ),
    )
    assert.equal(ours!.hash, theirs!.hash, `block ${headAtFailure}${ctx}`)

    // Every place an operator looks says so.
    const ready = await readyz(replica.rpcUrl)
    assert.equal(ready.status, 503, ready.body)
    assert.match(ready.body, new RegExp(`verification failed at block ${failed}: ${expectedCode}`))
    assert.equal(await metric(setup.metricsUrl, 'megaeth_replica_verification_failures_total', { code: expectedCode }), 1)
    assert.equal(await metric(setup.metricsUrl, 'megaeth_replica_verification_failures_total'), 1)
    assert.match(replica.logs().stdout, new RegExp(`"code":"${expectedCode}".*VERIFICATION FAILED`))
    // And the process is alive, answering RPC.
    assert.equal(replica.exited, false)
    assert.equal(BigInt(await rpc<Hex>(replica.rpcUrl, 'eth_blockNumber')), headAtFailure)
    assert.equal(await rpc<Hex>(replica.rpcUrl, 'eth_chainId'), hex(DEV_CHAIN_ID))
    console.log(
      `# ${mode}: ${failure.code} at block ${failed} (tampered from ${first}; verified ${verified}, head ${headAtFailure}), seen ${detectedMs} ms after the relay turned — ${failure.message}`,
    )
  }

  async function staysHonest(setup: Setup): Promise<void> {
    const start = await followsHonestly(setup)
    // Five more blocks, and at least five under load.
    const wanted = start + 5n > load!.startBlock + 5n ? start + 5n : load!.startBlock + 5n
    const verified = await verifiesHonestly(setup, async () => wanted, 60_000)
    assert.ok(verified >= 5n)
    const info = await nodeInfo(setup.replica.rpcUrl)
    assert.equal(info.verified.failures, 0)
    const ready = await readyz(setup.replica.rpcUrl)
    assert.equal(ready.status, 200, `${ready.body}${await setup.context()}`)
    assert.equal(await metric(setup.metricsUrl, 'megaeth_replica_verification_failures_total'), 0)
    assert.equal(await metric(setup.metricsUrl, 'megaeth_p2p_gossip_received_total', { result: 'reject' }), 0)
    assert.equal(setup.relay.stats.tamperedBlocks.size, 0)
    assert.ok(setup.relay.stats.published.miniBlocks > 0 && setup.relay.stats.published.announcements > 0, await setup.context())
    // The same blocks as the sequencer's, carrying the load's transactions.
    let transactions = 0
    for (let n = verified - 4n; n <= verified; n++) {
      const [ours, theirs] = await Promise.all(
        [setup.replica.rpcUrl, sequencer!.rpcUrl].map((url) =>
          rpc<{ hash: Hex; transactions: Hex[] }>(url, 'eth_getBlockByNumber', [hex(n), false]),
        ),
      )
      assert.equal(ours!.hash, theirs!.hash)
      transactions += ours!.transactions.length
    }
    assert.ok(transactions > 0, `no transactions in blocks ${verified - 4n}…${verified}${await setup.context()}`)
    console.log(
      `# honest: verified blocks 1…${verified} (${transactions} transactions in the last 5), failures 0, relay published ${JSON.stringify(setup.relay.stats.published)}`,
    )
  }

  async function refusesForgeries(setup: Setup): Promise<void> {
    const { relay, replica } = setup
    const honestVerified = await followsHonestly(setup)
    const headAtArming = BigInt((await nodeInfo(replica.rpcUrl)).head.block)
    const rejectedBefore = await metric(setup.metricsUrl, 'megaeth_p2p_gossip_received_total', { result: 'reject' })
    const first = relay.armAfterLatest('forged-signature')
    const target = first + 4n
    await waitFor(
      'the sequencer to seal 4 blocks past the forgery point',
      async () => (await sequencerHead()) >= target,
      15_000,
      50,
    )
    // The replica verifies every honest block it imported (normally all of them up to the forgery
    // point) and then has nothing left to do: nothing forged reaches its chain or its verifier. The
    // relay also forges sync answers, and enough bad answers get it banned: when that happens before
    // the replica fetched the witnesses of its last honest blocks (a busy machine), those wait for an
    // honest peer, which this replica does not have — still no failure, and nothing forged applied.
    let info: NodeInfo | undefined
    const bannedItsPeer = async (current: NodeInfo): Promise<boolean> =>
      current.peers === 0 && (await metric(setup.metricsUrl, 'megaeth_p2p_peer_bans_total')) > 0
    try {
      await waitFor(
        'the replica to verify every block it imported, or to have banned the forging relay',
        async () => {
          info = await nodeInfo(replica.rpcUrl)
          if (info.verified.failures !== 0) throw new Error(`verification failed: ${JSON.stringify(info.verified.failure)}`)
          return info.verified.block === info.head.block || (await bannedItsPeer(info))
        },
        90_000,
        100,
      )
    } catch (error) {
      assert.fail(`${error instanceof Error ? error.message : String(error)}${await setup.context()}`)
    }
    await sleep(2 * BLOCK_MS)
    const later = await nodeInfo(replica.rpcUrl)
    const ctx = await setup.context()
    const head = BigInt(later.head.block)
    assert.ok(relay.stats.tampered.miniBlocks > 0 && relay.stats.tampered.announcements > 0, `the relay forged nothing${ctx}`)
    assert.ok(
      head <= first - 1n && head >= headAtArming,
      `head ${head} (${headAtArming} when the relay turned; forging from ${first})${ctx}`,
    )
    assert.equal(later.head.block, info!.head.block, `head moved${ctx}`)
    if (later.verified.block !== later.head.block)
      assert.ok(
        await bannedItsPeer(later),
        `verified ${BigInt(later.verified.block)} of ${head} imported blocks without having banned the forging relay${ctx}`,
      )
    assert.ok(BigInt(later.verified.block) >= honestVerified)
    assert.equal(later.verified.failures, 0, ctx)
    assert.equal(later.verified.failure, undefined)
    // No forged mini-block was applied: the newest one the replica has precedes the first forged one.
    const firstForged = relay.stats.firstTamperedMiniBlock!
    assert.ok(
      BigInt(later.head.miniBlock) < firstForged,
      `replica's newest mini-block ${BigInt(later.head.miniBlock)}, first forged ${firstForged}${ctx}`,
    )
    const rejected = await metric(setup.metricsUrl, 'megaeth_p2p_gossip_received_total', { result: 'reject' })
    assert.ok(rejected > rejectedBefore, `gossip rejections ${rejectedBefore} → ${rejected}${ctx}`)
    assert.equal(await metric(setup.metricsUrl, 'megaeth_replica_verification_failures_total'), 0)
    // Alive and answering.
    assert.equal(replica.exited, false)
    assert.equal(BigInt(await rpc<Hex>(replica.rpcUrl, 'eth_blockNumber')), head)
    console.log(
      `# forged-signature: head and verified stay at ${head} (forged from ${first}), ${rejected - rejectedBefore} gossip messages rejected, no failure recorded`,
    )
  }

  test('honest relay: the replica follows and verifies, no failure', () => outcome('honest'))

  test('wrong state root in the signed header → STATE_ROOT_MISMATCH', () => outcome('wrong-state-root'))

  test('tampered state diff in re-signed mini-blocks → STATE_DIFF_MISMATCH', () => outcome('tampered-state-diff'))

  // The swapped transaction is validly signed and the mini-block is re-sealed with the sequencer's key,
  // so it is applied live; the first check at import — its transactions against the signed header's
  // transactions root — refuses the block before anything is executed or merkleized.
  test('swapped transaction in re-signed mini-blocks → TRANSACTIONS_ROOT_MISMATCH', () => outcome('tampered-transaction'))

  test('witness without the parent state root node → WITNESS_MISSING_NODE', () => outcome('witness-missing-node'))

  test('witness with a node that hashes into nothing → WITNESS_BOGUS_NODE', () => outcome('witness-bogus-node'))

  test('forged signatures: nothing forged is applied, gossip is rejected, no verification failure', () =>
    outcome('forged-signature'))
})

/** Runs at most `limit` of the functions given to it at once, in the order given. */
function semaphore(limit: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0
  const waiting: Array<() => void> = []
  return async (fn) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve))
    active++
    try {
      return await fn()
    } finally {
      active--
      waiting.shift()?.()
    }
  }
}

function minOf(values: Iterable<bigint>): bigint | undefined {
  let min: bigint | undefined
  for (const v of values) if (min === undefined || v < min) min = v
  return min
}
