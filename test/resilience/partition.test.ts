/**
 * Resilience campaign `partition` (issue 20): replicas cut from the sequencer while it is under load,
 * and gossip delivered out of order, in floods and with losses. Real processes only: a `--dev`
 * sequencer (1 s blocks, 100 ms mini-blocks) under a steady load of ETH transfers and Counter
 * increments, and three replicas:
 * - a full replica and a validator (`--replica.mode=validator`), each behind its own TCP proxy
 *   (test/helpers/tcp-proxy.ts: its bootnode is the proxy's address with the sequencer's peer id, so
 *   every byte between them crosses the proxy). A schedule of cuts (seeded) black-holes, resets or
 *   delays one or both proxies for a while, then heals them;
 * - a full replica whose only peer is the tampering relay, honest here, whose gossip delivery cycles
 *   through shuffled (announcements before their mini-blocks, mini-blocks out of order), held and
 *   flooded in one burst, lossy, and in order.
 * Properties: during a cut the cut replica imports nothing (the proxy is its only path); after each
 * heal it catches up and verifies up to where the sequencer was (the time is measured); at the end
 * every replica holds the sequencer's blocks hash for hash, counts every block as verified, has
 * raised no alarm (no verification failure, no rejected gossip, no peer penalized or banned,
 * `/readyz` 200), serves every acknowledged transaction's receipt exactly as the sequencer does, and
 * the flooded replica's RSS stays bounded.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { encodeFunctionData, type Address, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { contract } from '../helpers/contracts.ts'
import { DEV_CHAIN_ID, DEV_KEYS, freePort, rpc, startNode, waitFor, type NodeHandle, rpcBatch } from '../helpers/node-process.ts'
import { byForm, campaignSeed, isLongForm, writeCampaignReport } from '../helpers/resilience.ts'
import { rng } from '../helpers/rng.ts'
import { startValidator } from '../helpers/validator-process.ts'
import { TamperingRelay, type Delivery } from '../helpers/tampering-relay.ts'
import { TcpProxy, type ProxyMode } from '../helpers/tcp-proxy.ts'
import { metric, metricValue, rssMb, scrapeMetrics } from '../helpers/node-observations.ts'

/** MegaETH's EVM block time; 100 ms mini-blocks keep four node processes within two shared cores. */
const BLOCK_MS = 1_000
const MINI_BLOCK_MS = 100
const SEED = campaignSeed(20_003)
/** How many cuts, and how long each lasts (uniform in the range). */
const CUTS = byForm(4, 10)
const CUT_MS = byForm([3_000, 6_000] as const, [30_000, 45_000] as const)
/** Pause with everything connected between one heal's catch-up and the next cut. */
const CONNECTED_MS = byForm(1_000, 5_000)
/** How long a healed replica may take to catch up (a dead connection is found by libp2p's 10 s pings). */
const CATCH_UP_TIMEOUT_MS = byForm(120_000, 180_000)
/** How long each rough delivery lasts at the relay. */
const DELIVERY_MS = byForm(3_000, 20_000)
/** The flooded replica's RSS may grow this much between its first catch-up and the end. */
const RSS_GROWTH_LIMIT_MB = 400

const hex = (n: bigint | number): Hex => `0x${n.toString(16)}`

type Target = 'full' | 'validator' | 'both'
interface Cut {
  target: Target
  mode: Exclude<ProxyMode, 'pass'>
  /** drop: what becomes of black-holed connections at the heal. */
  heal: 'reset' | 'dead'
  ms: number
  delayMs: number
}

/** The cut schedule: a fixed tour of every kind in CI, seeded draws in the long form. */
function schedule(seed: number): Cut[] {
  const random = rng(seed)
  const span = (): number => CUT_MS[0] + random.int(CUT_MS[1] - CUT_MS[0] + 1)
  if (!isLongForm())
    return [
      { target: 'full', mode: 'drop', heal: 'reset', ms: span(), delayMs: 0 },
      { target: 'validator', mode: 'reset', heal: 'reset', ms: span(), delayMs: 0 },
      { target: 'both', mode: 'delay', heal: 'reset', ms: span(), delayMs: 300 },
      { target: 'both', mode: 'drop', heal: 'dead', ms: span(), delayMs: 0 },
    ]
  return Array.from({ length: CUTS }, (_, i) => {
    const mode = (['drop', 'drop', 'reset', 'delay'] as const)[i % 4]!
    return {
      target: random.pick(['full', 'validator', 'both'] as const),
      mode,
      heal: random.next() < 0.5 ? 'reset' : 'dead',
      ms: span(),
      delayMs: mode === 'delay' ? 200 + random.int(2_800) : 0,
    }
  })
}

// --- node helpers ---------------------------------------------------------------------------------

interface NodeInfo {
  peers: number
  p2pAddrs: string[]
  /** Absent on a validator (it keeps no chain; its verified head is its head). */
  head?: { block: Hex; miniBlock: Hex }
  verified: { block: Hex; failures: number; failure?: { block: Hex; code: string; message: string } }
}

const nodeInfo = (url: string): Promise<NodeInfo> => rpc<NodeInfo>(url, 'mega_nodeInfo')
const blockNumber = async (url: string): Promise<bigint> => BigInt(await rpc<Hex>(url, 'eth_blockNumber'))

/** A replica's verified head and the number of blocks it counted as verified, from one scrape. */
async function verification(r: { metricsUrl: string }): Promise<{ verifiedHead: number; verifiedBlocks: number }> {
  const text = await scrapeMetrics(r.metricsUrl)
  return {
    verifiedHead: metricValue(text, 'megaeth_replica_verified_block'),
    verifiedBlocks: metricValue(text, 'megaeth_replica_verified_blocks_total'),
  }
}

/** The newest block a replica took in (a validator: handed to its verifier), from its metrics. */
async function importedHead(r: { metricsUrl: string }): Promise<bigint> {
  return BigInt(await metric(r.metricsUrl, 'megaeth_replica_head_block'))
}

/** One of the replicas: a `startNode` full replica or the validator spawned here. */
interface Replica {
  name: string
  rpcUrl: string
  metricsUrl: string
  pid: number
  logs(): { stdout: string; stderr: string }
  stop(): Promise<unknown>
}

function logTail(node: Replica | NodeHandle | undefined, name: string, chars = 3_000): string {
  if (node === undefined) return `\n--- ${name}: not started`
  const { stdout, stderr } = node.logs()
  return `\n--- ${name} stderr:\n${stderr.slice(-chars)}\n--- ${name} stdout:\n${stdout.slice(-chars)}`
}

async function startFullReplica(name: string, bootnode: string): Promise<Replica> {
  const metricsPort = await freePort()
  const node = await startNode({
    args: ['--role=replica', `--p2p.bootnodes=${bootnode}`, '--replica.verify-workers=1', `--metrics.port=${metricsPort}`],
    readyTimeoutMs: 180_000,
  })
  return {
    name,
    rpcUrl: node.rpcUrl,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    pid: node.pid,
    logs: () => node.logs(),
    stop: () => node.stop(10_000),
  }
}

/** The validator (`test/helpers/validator-process.ts`) as one of this campaign's replicas; up to 3 minutes to answer under load. */
async function startPartitionValidator(bootnode: string): Promise<Replica> {
  const validator = await startValidator(bootnode, ['--dev.l1=false'], 180_000)
  return {
    name: 'validator',
    rpcUrl: validator.rpcUrl,
    metricsUrl: validator.metricsUrl,
    pid: validator.child.pid!,
    logs: validator.logs,
    stop: validator.stop,
  }
}

function validatorCheckpoint(validator: Replica): { block: bigint; hash: Hex } | undefined {
  for (const line of validator.logs().stdout.split('\n')) {
    if (!line.includes('validator checkpoint')) continue
    const entry = JSON.parse(line) as { block: string; hash: Hex }
    return { block: BigInt(entry.block), hash: entry.hash }
  }
  return undefined
}

/** JSON-RPC batches of up to 200 calls; results in call order, any error thrown. */
async function batch(url: string, calls: ReadonlyArray<readonly [string, unknown[]]>): Promise<unknown[]> {
  return (await rpcBatch(url, calls)).map((answer, i) => {
    if (answer.error !== undefined) throw new Error(`${calls[i]![0]} at ${url}: ${JSON.stringify(answer.error)}`)
    return answer.result
  })
}

// --- load -----------------------------------------------------------------------------------------

interface Load {
  /** Hashes the sequencer acknowledged (answered eth_sendRawTransaction with). */
  acknowledged: Hex[]
  errors: string[]
  stop(): Promise<void>
}

/** Every ~100 ms one ETH transfer to a fresh address and one Counter increment, each from its own dev account. */
async function startLoad(url: string): Promise<Load> {
  const deployer = privateKeyToAccount(DEV_KEYS[0]!)
  const fees = { maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 6n }
  const sign = async (account: typeof deployer, nonce: number, tx: { to?: Address; value?: bigint; data?: Hex; gas: bigint }) =>
    account.signTransaction({ chainId: DEV_CHAIN_ID, type: 'eip1559', nonce, ...fees, ...tx })
  const deployNonce = Number(await rpc<Hex>(url, 'eth_getTransactionCount', [deployer.address, 'pending']))
  const receipt = await rpc<{ status: Hex; contractAddress: Address; transactionHash: Hex }>(url, 'eth_sendRawTransactionSync', [
    await sign(deployer, deployNonce, { data: contract('Counter').bytecode, gas: 1_000_000n }),
    10_000,
  ])
  assert.equal(receipt.status, '0x1', 'Counter deployment failed')
  const increment = encodeFunctionData({ abi: contract('Counter').abi, functionName: 'increment' })
  const senders = [privateKeyToAccount(DEV_KEYS[1]!), privateKeyToAccount(DEV_KEYS[2]!)]
  const nonces = await Promise.all(
    senders.map(async (s) => Number(await rpc<Hex>(url, 'eth_getTransactionCount', [s.address, 'pending']))),
  )
  const load: Load = { acknowledged: [receipt.transactionHash], errors: [], stop: async () => undefined }
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const txs = [
        { to: `0x${randomBytes(20).toString('hex')}` as Address, value: 10n ** 12n, gas: 21_000n },
        { to: receipt.contractAddress, data: increment, gas: 200_000n },
      ]
      for (let i = 0; i < txs.length; i++) {
        try {
          const hash = await rpc<Hex>(url, 'eth_sendRawTransaction', [await sign(senders[i]!, nonces[i]!, txs[i]!)])
          load.acknowledged.push(hash)
          nonces[i]!++
        } catch (error) {
          if (stopped) break
          load.errors.push(error instanceof Error ? error.message : String(error))
          nonces[i] = Number(
            await rpc<Hex>(url, 'eth_getTransactionCount', [senders[i]!.address, 'pending']).catch(() => hex(nonces[i]!)),
          )
        }
      }
      await sleep(100)
    }
  })()
  load.stop = async () => {
    stopped = true
    await loop
  }
  return load
}

// --- the campaign ---------------------------------------------------------------------------------

describe('partition campaign: replicas cut from the sequencer under load, and rough gossip', {
  timeout: byForm(420_000, 1_800_000),
}, () => {
  const started = Date.now()
  let sequencer: NodeHandle | undefined
  let load: Load | undefined
  const proxies = new Map<'full' | 'validator', TcpProxy>()
  const replicas = new Map<'full' | 'validator' | 'flooded', Replica>()
  let relay: TamperingRelay | undefined
  /** The flooded replica's run, kicked off by `before`, awaited by its test. */
  let flooding: Promise<void> | undefined
  let partitionsOver = false
  const findings: string[] = []
  const measured: Record<string, number> = {}
  const tried: Record<string, number> = { cuts: 0, cutMs: 0, drops: 0, resets: 0, delays: 0, deadHeals: 0, deliveries: 0 }
  const checked: Record<string, number> = {}
  let lost = 0
  const catchUps: number[] = []

  const replica = (name: 'full' | 'validator' | 'flooded'): Replica => replicas.get(name)!
  const context = async (): Promise<string> => {
    const infos = await Promise.all(
      [...replicas].map(async ([name, r]) => {
        const info = await nodeInfo(r.rpcUrl).then(
          (i) => JSON.stringify({ head: i.head, verified: i.verified, peers: i.peers }),
          (e: unknown) => `nodeInfo failed: ${String(e)}`,
        )
        return `${name}: ${info}`
      }),
    )
    const head = sequencer === undefined ? 'n/a' : await blockNumber(sequencer.rpcUrl).then(String, String)
    const proxyStats = [...proxies].map(([name, p]) => `${name} proxy ${p.currentMode} ${JSON.stringify(p.stats)}`)
    return `\nsequencer head ${head}\n${infos.join('\n')}\n${proxyStats.join('\n')}\nrelay ${JSON.stringify(relay?.deliveryStats)}${[...replicas].map(([name, r]) => logTail(r, name, 2_000)).join('')}`
  }

  before(async () => {
    sequencer = await startNode({ args: [`--block-ms=${BLOCK_MS}`, `--miniblock-ms=${MINI_BLOCK_MS}`], readyTimeoutMs: 180_000 })
    const address = (await nodeInfo(sequencer.rpcUrl)).p2pAddrs[0]!
    const match = /^\/ip4\/127\.0\.0\.1\/tcp\/(\d+)\/p2p\/(\w+)$/.exec(address)
    assert.ok(match !== null, `sequencer p2p address ${address}`)
    const [, p2pPort, peerId] = match
    for (const name of ['full', 'validator'] as const) proxies.set(name, await TcpProxy.start({ targetPort: Number(p2pPort) }))
    const through = (name: 'full' | 'validator'): string => `/ip4/127.0.0.1/tcp/${proxies.get(name)!.port}/p2p/${peerId}`
    relay = await TamperingRelay.start({ sequencer: address })
    // Replicas first, while the chain is short: each verifies every block from its start on.
    // Each replica joins `replicas` as soon as it is up, so `after` stops it even if another failed to start.
    const starting = await Promise.allSettled([
      startFullReplica('full', through('full')).then((r) => replicas.set('full', r)),
      startPartitionValidator(through('validator')).then((r) => replicas.set('validator', r)),
      startFullReplica('flooded', relay.bootnode).then((r) => replicas.set('flooded', r)),
    ])
    for (const outcome of starting) if (outcome.status === 'rejected') throw outcome.reason
    load = await startLoad(sequencer.rpcUrl)
    flooding = flood()
    flooding.catch(() => undefined) // reported by its test
  })

  after(async () => {
    partitionsOver = true
    await load?.stop().catch(() => undefined)
    await Promise.allSettled([...replicas.values()].map((r) => r.stop()))
    await relay?.stop()
    await Promise.allSettled([...proxies.values()].map((p) => p.stop()))
    await sequencer?.stop()
  })

  /** Waits until `r` has imported and verified block `target`, with no failure; returns how long it took. */
  async function catchUp(r: Replica, target: bigint, timeoutMs: number): Promise<number> {
    const since = Date.now()
    let last: NodeInfo | undefined
    try {
      await waitFor(
        `${r.name} to verify block ${target}`,
        async () => {
          last = await nodeInfo(r.rpcUrl)
          if (last.verified.failures !== 0) throw new Error(`${r.name} raised an alarm: ${JSON.stringify(last.verified.failure)}`)
          return BigInt(last.head?.block ?? last.verified.block) >= target && BigInt(last.verified.block) >= target
        },
        timeoutMs,
        50,
      )
    } catch (error) {
      assert.fail(`${error instanceof Error ? error.message : String(error)} (last ${JSON.stringify(last)})${await context()}`)
    }
    return Date.now() - since
  }

  /** No alarm of any kind on `r`: no verification failure, no gossip rejected, no peer penalized or banned, ready. */
  async function noFalseAlarm(r: Replica): Promise<void> {
    const info = await nodeInfo(r.rpcUrl)
    const ctx = `${r.name}: ${JSON.stringify(info.verified)}`
    assert.equal(info.verified.failures, 0, ctx)
    assert.equal(await metric(r.metricsUrl, 'megaeth_replica_verification_failures_total'), 0, `${ctx}: failures metric`)
    assert.equal(
      await metric(r.metricsUrl, 'megaeth_p2p_gossip_received_total', { result: 'reject' }),
      0,
      `${ctx}: rejected gossip`,
    )
    assert.equal(await metric(r.metricsUrl, 'megaeth_p2p_peer_penalties_total'), 0, `${ctx}: the honest sequencer was penalized`)
    assert.equal(await metric(r.metricsUrl, 'megaeth_p2p_peer_bans_total'), 0, `${ctx}: the honest sequencer was banned`)
    const ready = await fetch(`${r.rpcUrl}/readyz`, { signal: AbortSignal.timeout(5_000) })
    assert.equal(ready.status, 200, `${ctx}: /readyz ${await ready.text()}`)
  }

  async function phase(name: string, what: () => Promise<void>): Promise<void> {
    const t = Date.now()
    await what()
    console.log(`# ${name}: ${Date.now() - t} ms`)
  }

  test('partitions during load: each healed replica catches up and verifies, no false alarm', async () => {
    try {
      await partitions()
    } finally {
      // The flooded replica's relay goes back to in-order delivery whatever happened here.
      partitionsOver = true
    }
  })

  async function partitions(): Promise<void> {
    const head0 = await blockNumber(sequencer!.rpcUrl)
    await phase('first catch-up', async () => {
      await Promise.all(['full', 'validator'].map((n) => catchUp(replica(n as 'full'), head0, CATCH_UP_TIMEOUT_MS)))
    })
    for (const [i, cut] of schedule(SEED).entries()) {
      const names = cut.target === 'both' ? (['full', 'validator'] as const) : ([cut.target] as const)
      const before = new Map<string, bigint>()
      for (const n of names) proxies.get(n)!.setMode(cut.mode, cut.delayMs)
      for (const n of names) before.set(n, await importedHead(replica(n)))
      await sleep(cut.ms)
      // A real cut: nothing reached the replica but what was already on its way (one sync answer at most).
      if (cut.mode !== 'delay')
        for (const n of names) {
          const now = await importedHead(replica(n))
          assert.ok(
            now <= before.get(n)! + 1n,
            `cut ${i} (${cut.mode}): ${n} imported blocks ${before.get(n)}→${now} while cut off${await context()}`,
          )
        }
      const target = await blockNumber(sequencer!.rpcUrl)
      for (const n of names) proxies.get(n)!.heal(cut.heal)
      const times = await Promise.all(names.map((n) => catchUp(replica(n), target, CATCH_UP_TIMEOUT_MS)))
      for (const n of names) await noFalseAlarm(replica(n))
      catchUps.push(...times)
      tried.cuts++
      tried.cutMs += cut.ms
      if (cut.mode === 'drop') tried.drops++
      if (cut.mode === 'reset') tried.resets++
      if (cut.mode === 'delay') tried.delays++
      if (cut.mode === 'drop' && cut.heal === 'dead') tried.deadHeals++
      console.log(
        `# cut ${i}: ${cut.mode}${cut.mode === 'delay' ? ` ${cut.delayMs} ms` : ''} of ${names.join('+')} for ${cut.ms} ms` +
          `${cut.mode === 'drop' ? `, heal ${cut.heal}` : ''}; caught up to block ${target} in ${times.join(' / ')} ms`,
      )
      await sleep(CONNECTED_MS)
    }
  }

  /**
   * The flooded replica's run, alongside the partitions: its relay cycles through rough deliveries
   * until the partitions are over, each for `DELIVERY_MS`, then delivers in order again.
   */
  async function flood(): Promise<void> {
    const r = replica('flooded')
    await catchUp(r, await blockNumber(sequencer!.rpcUrl), CATCH_UP_TIMEOUT_MS)
    measured.floodedRssBeforeMb = Math.round(rssMb(r.pid))
    const random = rng(SEED ^ 0x5eed)
    const deliveries: Delivery[] = [
      { kind: 'shuffle', window: 8, seed: random.int(2 ** 31) },
      { kind: 'burst', holdMs: 1_500 },
      { kind: 'lossy', fraction: 0.2, seed: random.int(2 ** 31) },
      { kind: 'shuffle', window: 32, flushMs: 500, seed: random.int(2 ** 31) },
    ]
    let round = 0
    while (!partitionsOver || round < deliveries.length) {
      relay!.setDelivery(deliveries[round % deliveries.length]!)
      tried.deliveries++
      round++
      await sleep(DELIVERY_MS)
    }
    relay!.setDelivery({ kind: 'in-order' })
  }

  test('gossip shuffled, flooded and lossy: the replica stays on the sequencer chain, verifies all, memory bounded', async () => {
    await flooding
    const r = replica('flooded')
    await catchUp(r, await blockNumber(sequencer!.rpcUrl), CATCH_UP_TIMEOUT_MS)
    await noFalseAlarm(r)
    measured.floodedRssAfterMb = Math.round(rssMb(r.pid))
    const stats = relay!.deliveryStats
    console.log(
      `# flooded replica: ${JSON.stringify(stats)}, relay published ${JSON.stringify(relay!.stats.published)}, RSS ${measured.floodedRssBeforeMb} → ${measured.floodedRssAfterMb} MB`,
    )
    assert.ok(stats.reordered > 0 && stats.bursts > 0 && stats.lost > 0, `the relay was not rough: ${JSON.stringify(stats)}`)
    assert.ok(
      measured.floodedRssAfterMb - measured.floodedRssBeforeMb < RSS_GROWTH_LIMIT_MB,
      `flooded replica RSS ${measured.floodedRssBeforeMb} → ${measured.floodedRssAfterMb} MB`,
    )
    Object.assign(measured, {
      reorderedMessages: stats.reordered,
      bursts: stats.bursts,
      largestBurst: stats.largestBurst,
      lostGossip: stats.lost,
    })
  })

  test('at the end: every replica holds the sequencer chain, verified block for block, and every receipt', async () => {
    await load!.stop()
    // A refused send is no acknowledged transaction lost (it was never acknowledged), but worth saying.
    if (load!.errors.length > 0) findings.push(`${load!.errors.length} sends refused by the sequencer, e.g. ${load!.errors[0]}`)
    // Every acknowledged transaction is in the sequencer's chain; every replica verifies past the last one.
    const receipts = (await waitFor(
      'receipts of every acknowledged transaction at the sequencer',
      async () => {
        const all = (await batch(
          sequencer!.rpcUrl,
          load!.acknowledged.map((h) => ['eth_getTransactionReceipt', [h]] as const),
        )) as Array<{ blockNumber: Hex } | null>
        return all.every((x) => x !== null) ? all : undefined
      },
      30_000,
      200,
    )) as Array<{ blockNumber: Hex }>
    // A receipt is served from its mini-block, before its EVM block is sealed: the last ones may sit in
    // the block after the sealed head, so the replicas must catch up to the highest receipt's block.
    const lastReceiptBlock = receipts.reduce((max, r) => (BigInt(r.blockNumber) > max ? BigInt(r.blockNumber) : max), 0n)
    const end = await waitFor(
      `the sequencer to seal block ${lastReceiptBlock}`,
      async () => {
        const head = await blockNumber(sequencer!.rpcUrl)
        return head >= lastReceiptBlock ? head : undefined
      },
      30_000,
      100,
    )
    await Promise.all([...replicas.values()].map((r) => catchUp(r, end, CATCH_UP_TIMEOUT_MS)))
    const sequencerHashes = (
      (await batch(
        sequencer!.rpcUrl,
        Array.from({ length: Number(end) }, (_, i) => ['eth_getBlockByNumber', [hex(i + 1), false]] as const),
      )) as Array<{
        hash: Hex
      }>
    ).map((b) => b.hash)
    let blocksChecked = 0
    let receiptsChecked = 0
    for (const name of ['full', 'flooded'] as const) {
      const r = replica(name)
      const hashes = (
        (await batch(
          r.rpcUrl,
          Array.from({ length: Number(end) }, (_, i) => ['eth_getBlockByNumber', [hex(i + 1), false]] as const),
        )) as Array<{
          hash: Hex
        } | null>
      ).map((b) => b?.hash)
      const differing = hashes.flatMap((h, i) => (h === sequencerHashes[i] ? [] : [i + 1]))
      lost += differing.length
      assert.deepEqual(differing, [], `${name}: blocks that differ from the sequencer's${await context()}`)
      blocksChecked += hashes.length
      // A fresh full replica verifies every block from 1 on, each once (one scrape: it goes on verifying).
      const { verifiedHead, verifiedBlocks } = await verification(r)
      assert.ok(verifiedHead >= Number(end), `${name}: verified head ${verifiedHead}`)
      assert.equal(verifiedBlocks, verifiedHead, `${name}: blocks counted as verified`)
      // Every acknowledged transaction's receipt, exactly as the sequencer serves it.
      const theirs = await batch(
        sequencer!.rpcUrl,
        load!.acknowledged.map((h) => ['eth_getTransactionReceipt', [h]] as const),
      )
      const ours = await batch(
        r.rpcUrl,
        load!.acknowledged.map((h) => ['eth_getTransactionReceipt', [h]] as const),
      )
      const missing = load!.acknowledged.filter((_, i) => JSON.stringify(ours[i]) !== JSON.stringify(theirs[i]))
      lost += missing.length
      const firstMissing = load!.acknowledged.indexOf(missing[0] as Hex)
      assert.deepEqual(
        missing,
        [],
        `${name}: receipts missing or different (sealed head ${end}; the first one, ours then the sequencer's: ${JSON.stringify(ours[firstMissing])} ${JSON.stringify(theirs[firstMissing])})`,
      )
      receiptsChecked += ours.length
      await noFalseAlarm(r)
    }
    // The validator verified every block after its checkpoint, which is the sequencer's own block.
    const validator = replica('validator')
    const checkpoint = validatorCheckpoint(validator)
    assert.ok(checkpoint !== undefined, `no checkpoint in the validator's log${logTail(validator, 'validator')}`)
    assert.equal(checkpoint.hash, sequencerHashes[Number(checkpoint.block) - 1] ?? checkpoint.hash, 'validator checkpoint')
    const { verifiedHead, verifiedBlocks } = await verification(validator)
    assert.ok(verifiedHead >= Number(end), `validator: verified head ${verifiedHead}`)
    assert.equal(verifiedBlocks, verifiedHead - Number(checkpoint.block), 'validator: blocks verified after its checkpoint')
    blocksChecked += verifiedBlocks
    await noFalseAlarm(validator)
    const rss = Object.fromEntries([...replicas].map(([name, r]) => [`${name}RssEndMb`, Math.round(rssMb(r.pid))]))
    const sorted = [...catchUps].sort((a, b) => a - b)
    Object.assign(measured, rss, {
      catchUpMsMin: sorted[0] ?? 0,
      catchUpMsP50: sorted[Math.floor(sorted.length / 2)] ?? 0,
      catchUpMsMax: sorted.at(-1) ?? 0,
      sequencerBlocks: Number(end),
    })
    Object.assign(checked, {
      blocks: blocksChecked,
      receipts: receiptsChecked,
      acknowledgedTransactions: receipts.length,
      catchUps: catchUps.length,
    })
    console.log(
      `# checked ${JSON.stringify(checked)}, measured ${JSON.stringify(measured)}, catch-ups ${JSON.stringify(catchUps)}`,
    )
    assert.equal(lost, 0)
    writeCampaignReport({
      campaign: 'partition',
      seed: SEED,
      tried,
      checked,
      lost,
      findings,
      measured: { ...measured, ...Object.fromEntries(catchUps.map((ms, i) => [`catchUpMs${i}`, ms])) },
      durationMs: Date.now() - started,
    })
  })
})
