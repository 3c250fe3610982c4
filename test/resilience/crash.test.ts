/**
 * Crash campaign (issue 20): `kill -9` of the sequencer at random moments and at exact failpoints
 * (mid mini-block, mid seal, after a pool-journal write, after a batch's L1 send) under mixed load,
 * then `kill -9` of a replica mid-verification. Nothing a client was told may be lost:
 * - every receipt any client received (from a sync send, a realtime send or a receipt poll) is
 *   present after the restarts with the same block, index, status, gas and logs; a preconfirmed
 *   (unsealed) receipt ends up in a sealed block at the same height and index;
 * - every transaction hash the node returned is included in the end (none silently dropped);
 * - the chain continues: sealed blocks never change, parent hashes link, new blocks follow;
 * - the p2p replica ends on the sequencer's chain, hash for hash, with no verification failure and
 *   no alarm; a replica killed mid-verification resumes and verifies every block.
 *
 * The L1 is an anvil this test owns (`startRollupL1`): `--dev`'s own L1 dies with the node and is
 * restored from a state file written every 10 s, which would roll L1 back under the batcher on every
 * kill. Fixed RPC and p2p ports keep the replica's bootnode address valid across restarts.
 *
 * Failpoints used (src): sequencer.miniblock.executed, sequencer.miniblock.durable,
 * sequencer.seal.before-write, sequencer.seal.after-write, pool-journal.after-write,
 * batcher.after-send, replica.import.after-write, replica.verify.before-mark.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { encodeDeployData, encodeFunctionData, keccak256, type Address, type Hex } from 'viem'
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'
import { unsealedBlockNumber } from '../../src/rpc/eth/format.ts'
import { contract } from '../helpers/contracts.ts'
import {
  DEV_CHAIN_ID,
  DEV_KEYS,
  freePort,
  makeTempDir,
  removeTempDir,
  rpc,
  rpcBatch,
  startNode,
  waitFor,
  type NodeHandle,
} from '../helpers/node-process.ts'
import { byForm, campaignSeed, isLongForm, writeCampaignReport } from '../helpers/resilience.ts'
import { durableReceiptFields, type RpcBlockHeader, type RpcReceipt } from '../helpers/receipts.ts'
import { rng as seededRng, type Rng } from '../helpers/rng.ts'
import { startRollupL1, type RollupL1 } from '../helpers/rollup-l1.ts'

const SEQUENCER_KILLS = byForm(10, 100)
const REPLICA_KILLS = byForm(2, 12)
const SEED = campaignSeed(20_001)
/** An armed failpoint that has not fired by then is given up on: the cycle ends with a plain kill -9. */
const FAILPOINT_CAP_MS = 8_000

const FEE = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 0n }
const TOKEN = contract('Token')
const COUNTER = contract('Counter')
const VALUE = 1_000n

/**
 * With an L1 (the long form's default; `RESILIENCE_CRASH_L1=1|0` chooses): the sequencer runs its batcher
 * on an anvil this test owns, and `batcher.after-send` joins the points. The CI form runs without it to
 * stay within its share of the CI budget (L1 adds ~70% to its time); `recovered-block-witness` covers
 * recovery with L1 in every CI run.
 */
const WITH_L1 = (process.env.RESILIENCE_CRASH_L1 ?? (isLongForm() ? '1' : '0')) === '1'
/** Where a sequencer cycle kills: an exact failpoint, or `random` (a plain kill -9 after a random delay). */
const ALL_SEQUENCER_POINTS = [
  'random',
  'sequencer.miniblock.executed',
  'sequencer.miniblock.durable',
  'sequencer.seal.before-write',
  'sequencer.seal.after-write',
  'pool-journal.after-write',
  'batcher.after-send',
] as const
type SequencerPoint = (typeof ALL_SEQUENCER_POINTS)[number]
const SEQUENCER_POINTS: readonly SequencerPoint[] = ALL_SEQUENCER_POINTS.filter((p) => WITH_L1 || p !== 'batcher.after-send')
const REPLICA_POINTS = ['random', 'replica.import.after-write', 'replica.verify.before-mark'] as const
type ReplicaPoint = (typeof REPLICA_POINTS)[number]

/**
 * The hit a failpoint fires at: late enough that the cycle has load in flight (mini-blocks come every
 * 10 ms, seals every second, journal writes per event-loop turn of submissions, batches every ~2 s).
 */
function hitFor(point: Exclude<SequencerPoint | ReplicaPoint, 'random'>, random: Rng): number {
  switch (point) {
    case 'sequencer.miniblock.executed':
    case 'sequencer.miniblock.durable':
      return 80 + random.int(220)
    case 'sequencer.seal.before-write':
    case 'sequencer.seal.after-write':
      return 1 + random.int(3)
    case 'pool-journal.after-write':
      return 20 + random.int(150)
    case 'batcher.after-send':
      return 1 + random.int(2)
    case 'replica.import.after-write':
    case 'replica.verify.before-mark':
      return 1 + random.int(4)
  }
}

// --- JSON-RPC with a clear line between "the node answered" and "the node is gone" -----------------

/** The request never got an answer (refused, reset, aborted): its outcome is unknown. */
class NodeGone extends Error {}

interface RpcAnswer<T> {
  result?: T
  error?: { code: number; message: string; data?: unknown }
}

async function call<T>(url: string, method: string, params: unknown[], signal?: AbortSignal): Promise<RpcAnswer<T>> {
  let text: string
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      // A signal of its own per call: undici keeps each fetch's abort listener on the signal it is
      // given, so thousands of calls on the load's one signal tripped MaxListenersExceededWarning.
      signal: signal === undefined ? AbortSignal.timeout(20_000) : AbortSignal.any([signal, AbortSignal.timeout(60_000)]),
    })
    text = await res.text()
  } catch (error) {
    throw new NodeGone(`${method}: ${error instanceof Error ? error.message : String(error)}`)
  }
  return JSON.parse(text) as RpcAnswer<T>
}

/** A JSON-RPC batch (chunks of 200), answers in call order; throws `NodeGone` when the node is gone. */
async function batch<T>(url: string, calls: ReadonlyArray<readonly [string, readonly unknown[]]>): Promise<Array<RpcAnswer<T>>> {
  try {
    return await rpcBatch<T>(url, calls)
  } catch (error) {
    throw new NodeGone(`batch: ${error instanceof Error ? error.message : String(error)}`)
  }
}

// --- what clients were told ------------------------------------------------------------------------

/** Unsealed receipts carry no block hash (sync sends) or a placeholder (the zero-padded block number). */
const isSealed = (r: RpcReceipt): boolean => r.blockHash !== null && unsealedBlockNumber(r.blockHash) === undefined

/**
 * Compares a receipt a client got with the node's answer now; returns what differs (undefined: the same).
 * `sealedHash`: the hash the node now has at the receipt's height, when known.
 */
function receiptProblem(got: RpcReceipt, now: RpcReceipt | null, sealedHash?: Hex): string | undefined {
  if (now === null) return `${got.transactionHash}: receipt lost (was in block ${BigInt(got.blockNumber)})`
  if (JSON.stringify(durableReceiptFields(now)) !== JSON.stringify(durableReceiptFields(got)))
    return `${got.transactionHash}: receipt changed\n  got ${JSON.stringify(durableReceiptFields(got))}\n  now ${JSON.stringify(durableReceiptFields(now))}`
  if (isSealed(got) && now.blockHash !== got.blockHash)
    return `${got.transactionHash}: sealed in block ${got.blockHash}, now in ${now.blockHash}`
  if (sealedHash !== undefined && isSealed(now) && now.blockHash !== sealedHash)
    return `${got.transactionHash}: receipt names block ${now.blockHash}, the chain has ${sealedHash} at ${BigInt(now.blockNumber)}`
  return undefined
}

// --- the load ----------------------------------------------------------------------------------------

type Method = 'eth_sendRawTransactionSync' | 'realtime_sendRawTransaction' | 'eth_sendRawTransaction'
type Kind = 'eth' | 'erc20' | 'deploy'

interface Sender {
  name: string
  account: PrivateKeyAccount
  kind: Kind
  method: Method
  recipient: Address
  /** The next nonce to sign. */
  nonce: number
  /** A signed transaction whose outcome is unknown (the node died mid-request): sent again, byte for byte. */
  unsettled?: { raw: Hex; hash: Hex }
  /** An accepted transaction (hash only) whose receipt this client is still polling for. */
  polling?: Hex
}

interface Campaign {
  /** Hash → sender and nonce, for every transaction hash a node returned (or a receipt proved accepted). */
  accepted: Map<Hex, { sender: string; nonce: number }>
  /** Every receipt handed to a client, as it was handed. */
  receipts: RpcReceipt[]
  /** Receipts not yet compared with a restarted node. */
  unchecked: RpcReceipt[]
  /** Sealed blocks seen (number → hash): a crash must never change one. */
  sealed: Map<bigint, Hex>
  /** Answers no client should get (a sender stops on the first). */
  unexpected: string[]
  problems: string[]
  checked: { receipts: number; blocks: number; acceptedIncluded: number; replicaBlocks: number }
}

function newCampaign(): Campaign {
  return {
    accepted: new Map(),
    receipts: [],
    unchecked: [],
    sealed: new Map(),
    unexpected: [],
    problems: [],
    checked: { receipts: 0, blocks: 0, acceptedIncluded: 0, replicaBlocks: 0 },
  }
}

async function sign(s: Sender, token: Address): Promise<Hex> {
  const base = { chainId: DEV_CHAIN_ID, type: 'eip1559' as const, nonce: s.nonce, ...FEE }
  switch (s.kind) {
    case 'eth':
      return s.account.signTransaction({ ...base, to: s.recipient, value: VALUE, gas: 21_000n })
    case 'erc20':
      return s.account.signTransaction({
        ...base,
        to: token,
        data: encodeFunctionData({ abi: TOKEN.abi, functionName: 'transfer', args: [s.recipient, VALUE] }),
        gas: 100_000n,
      })
    case 'deploy':
      return s.account.signTransaction({ ...base, data: COUNTER.bytecode, gas: 500_000n })
  }
}

function recordReceipt(c: Campaign, r: RpcReceipt): void {
  c.receipts.push(r)
  c.unchecked.push(r)
}

/**
 * One sender's loop against `url` until `signal` aborts or the node is gone. Each answer is recorded the
 * moment the client holds it; a request cut by the crash leaves its transaction `unsettled`, and the next
 * cycle sends the same bytes again (accepted then, "already known", or included: "nonce too low").
 */
async function senderLoop(c: Campaign, s: Sender, url: string, token: Address, signal: AbortSignal): Promise<void> {
  try {
    while (!signal.aborted) {
      if (s.polling !== undefined) {
        const answer = await call<RpcReceipt | null>(url, 'eth_getTransactionReceipt', [s.polling], signal)
        if (answer.result !== null && answer.result !== undefined) {
          recordReceipt(c, answer.result)
          s.polling = undefined
        } else await sleep(20)
        continue
      }
      if (s.unsettled === undefined) {
        const raw = await sign(s, token)
        s.unsettled = { raw, hash: keccak256(raw) }
      }
      const { raw, hash } = s.unsettled
      const params =
        s.method === 'eth_sendRawTransaction' ? [raw] : s.method === 'eth_sendRawTransactionSync' ? [raw, 5_000] : [raw]
      const answer = await call<RpcReceipt | Hex>(url, s.method, params, signal)
      const settle = (): void => {
        c.accepted.set(hash, { sender: s.name, nonce: s.nonce })
        s.unsettled = undefined
        s.nonce++
      }
      if (answer.error === undefined) {
        settle()
        if (s.method === 'eth_sendRawTransaction') {
          assert.equal(answer.result, hash, `${s.name}: eth_sendRawTransaction returned another hash`)
          s.polling = hash
        } else recordReceipt(c, answer.result as RpcReceipt)
        continue
      }
      const { code, message } = answer.error
      // Code 4 (EIP-7966) and "realtime transaction expired": pooled, not in a mini-block in time.
      if (/already known/.test(message) || code === 4 || /realtime transaction expired/.test(message)) {
        // Pooled before (a resend after a crash) or accepted and not yet in a mini-block: poll for it.
        settle()
        s.polling = hash
        continue
      }
      if (/nonce too low/.test(message)) {
        // A resend whose first copy made it into a mini-block before the crash.
        const receipt = await call<RpcReceipt | null>(url, 'eth_getTransactionReceipt', [hash], signal)
        if (receipt.result === null || receipt.result === undefined) {
          c.unexpected.push(`${s.name}: nonce ${s.nonce} too low, yet its transaction ${hash} has no receipt (${message})`)
          return
        }
        settle()
        recordReceipt(c, receipt.result)
        continue
      }
      c.unexpected.push(`${s.name}: ${s.method} nonce ${s.nonce}: [${code}] ${message}`)
      return
    }
  } catch (error) {
    if (error instanceof NodeGone) return
    throw error
  }
}

// --- checks -----------------------------------------------------------------------------------------

/**
 * Compares the receipts not yet checked with the node at `url`; stops (keeping the rest) if the node
 * dies meanwhile — they are checked against the next one.
 */
async function checkReceipts(c: Campaign, url: string): Promise<void> {
  while (c.unchecked.length > 0) {
    const chunk = c.unchecked.slice(0, 200)
    let answers: Array<RpcAnswer<RpcReceipt | null>>
    try {
      answers = await batch<RpcReceipt | null>(
        url,
        chunk.map((r) => ['eth_getTransactionReceipt', [r.transactionHash]] as const),
      )
    } catch (error) {
      if (error instanceof NodeGone) return
      throw error
    }
    for (let i = 0; i < chunk.length; i++) {
      const answer = answers[i]!
      if (answer.error !== undefined) {
        c.problems.push(`${chunk[i]!.transactionHash}: eth_getTransactionReceipt failed: ${answer.error.message}`)
        continue
      }
      const problem = receiptProblem(chunk[i]!, answer.result ?? null)
      if (problem !== undefined) c.problems.push(problem)
      c.checked.receipts++
    }
    c.unchecked.splice(0, chunk.length)
  }
}

/** Records the sequencer's sealed head (a crash must never change a sealed block); false if the node is gone. */
async function sampleHead(c: Campaign, url: string): Promise<void> {
  try {
    const answer = await call<RpcBlockHeader>(url, 'eth_getBlockByNumber', ['latest', false])
    if (answer.result === undefined || unsealedBlockNumber(answer.result.hash) !== undefined) return
    const number = BigInt(answer.result.number)
    const seen = c.sealed.get(number)
    if (seen !== undefined && seen !== answer.result.hash)
      c.problems.push(`block ${number} changed: was ${seen}, now ${answer.result.hash}`)
    c.sealed.set(number, answer.result.hash)
  } catch (error) {
    if (!(error instanceof NodeGone)) throw error
  }
}

/** Blocks 0..head by number (hash and parent), in one pass of batches. */
async function chainOf(url: string, head: bigint): Promise<RpcBlockHeader[]> {
  const calls = []
  for (let n = 0n; n <= head; n++) calls.push(['eth_getBlockByNumber', [`0x${n.toString(16)}`, false]] as const)
  const answers = await batch<RpcBlockHeader>(url, calls)
  return answers.map((a, i) => {
    assert.ok(a.result !== undefined && a.result !== null, `block ${i}: ${JSON.stringify(a.error)}`)
    return a.result
  })
}

interface NodeInfo {
  p2pAddrs: string[]
  peers: number
  verified?: { block: Hex; failures: number; failure?: { block: Hex; code: string; message: string } }
}

/** Lines of a node's log that raise an alarm (a replica's failed verification, a halted sequencer, …). */
function alarms(node: NodeHandle): string[] {
  return node
    .logs()
    .stdout.split('\n')
    .filter((l) => l.includes('"alarm":true') || l.includes('"level":50') || l.includes('"level":60'))
}

// --- the campaign -----------------------------------------------------------------------------------

let dir: string
let l1: RollupL1 | undefined
let tokenAddress: Address
let sequencer: NodeHandle | undefined
let replica: NodeHandle | undefined
const stopped: NodeHandle[] = []
const campaign = newCampaign()
const random = seededRng(SEED)
const senders: Sender[] = []
const tried = { sequencerKills: 0, sequencerFailpointKills: 0, killsInRecovery: 0, failpointMisses: 0, replicaKills: 0 }
const killsByPoint: Record<string, number> = {}
const findings: string[] = []
const startedAt = Date.now()
let rpcPort = 0
let p2pPort = 0
let replicaMetricsPort = 0
let bootnode = ''

const sequencerArgs = (): string[] => [
  ...(l1 === undefined ? [] : [...l1.l1Args(0), ...l1.batcherArgs()]),
  `--p2p.port=${p2pPort}`,
]
const replicaArgs = (): string[] => [
  '--role=replica',
  `--p2p.bootnodes=${bootnode}`,
  '--replica.verify-workers=1',
  `--metrics.port=${replicaMetricsPort}`,
  ...(l1 === undefined ? [] : l1.l1Args(0)),
]

/**
 * Starts the sequencer on its datadir and ports with `failpoints` armed. A failpoint can fire during
 * recovery (a seal of the WAL's mini-blocks), before the node ever answers: that is a kill too, and
 * undefined is returned.
 */
async function startSequencer(failpoints?: string): Promise<NodeHandle | undefined> {
  try {
    const node = await startNode({
      readyTimeoutMs: 180_000,
      datadir: join(dir, 'sequencer'),
      port: rpcPort,
      args: sequencerArgs(),
      ...(failpoints === undefined ? {} : { env: { MEGAETH_FAILPOINTS: failpoints } }),
    })
    return node
  } catch (error) {
    if (failpoints !== undefined && error instanceof Error && /exited before it answered.*signal SIGKILL/.test(error.message))
      return undefined
    throw error
  }
}

async function startReplica(failpoints?: string): Promise<NodeHandle | undefined> {
  try {
    return await startNode({
      readyTimeoutMs: 180_000,
      datadir: join(dir, 'replica'),
      args: replicaArgs(),
      ...(failpoints === undefined ? {} : { env: { MEGAETH_FAILPOINTS: failpoints } }),
    })
  } catch (error) {
    if (failpoints !== undefined && error instanceof Error && /exited before it answered.*signal SIGKILL/.test(error.message))
      return undefined
    throw error
  }
}

async function runLoad(url: string, signal: AbortSignal): Promise<void> {
  await Promise.all(senders.map((s) => senderLoop(campaign, s, url, tokenAddress, signal)))
}

/** Waits until `node` exits by itself (a failpoint fired) or `ms` pass; true if it exited. */
async function exitedWithin(node: NodeHandle, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (node.exited) return true
    await sleep(20)
  }
  return node.exited
}

async function replicaInfo(): Promise<NodeInfo | undefined> {
  if (replica === undefined) return undefined
  return rpc<NodeInfo>(replica.rpcUrl, 'mega_nodeInfo').catch(() => undefined)
}

/** Fails on any sign of a false alarm on the replica (a verification failure, an alarm line in its log). */
async function assertReplicaCalm(when: string): Promise<void> {
  const info = await replicaInfo()
  assert.equal(info?.verified?.failures ?? 0, 0, `${when}: replica verification failure: ${JSON.stringify(info?.verified)}`)
  if (replica !== undefined) assert.deepEqual(alarms(replica), [], `${when}: replica alarm in its log`)
}

before(async () => {
  dir = await makeTempDir('megaeth-resil-crash-')
  // A sequencing window of an hour of L1 blocks: a restart on a loaded machine once took 165 s, longer
  // than the dev rollup's 40 blocks, and L1 then overruled the sequencer's unbatched blocks (by design,
  // receipts of unsafe blocks are void then): this campaign is about crashes, not about the window.
  if (WITH_L1) l1 = await startRollupL1(dir, { seqWindowSize: 3_600n })
  rpcPort = await freePort()
  p2pPort = await freePort()
  replicaMetricsPort = await freePort()
  sequencer = await startSequencer()
  assert.ok(sequencer !== undefined)
  bootnode = (await rpc<NodeInfo>(sequencer.rpcUrl, 'mega_nodeInfo')).p2pAddrs[0]!
  replica = await startReplica()

  // One token, deployed once; its senders are funded with it.
  const deployer = privateKeyToAccount(DEV_KEYS[0]!)
  let nonce = Number(BigInt(await rpc<Hex>(sequencer.rpcUrl, 'eth_getTransactionCount', [deployer.address, 'pending'])))
  const send = async (tx: { to?: Address; data: Hex; gas: bigint }): Promise<RpcReceipt> =>
    rpc<RpcReceipt>(sequencer!.rpcUrl, 'eth_sendRawTransactionSync', [
      await deployer.signTransaction({ chainId: DEV_CHAIN_ID, type: 'eip1559', nonce: nonce++, value: 0n, ...FEE, ...tx }),
    ])
  const deployed = await send({
    data: encodeDeployData({ abi: TOKEN.abi, bytecode: TOKEN.bytecode, args: ['Crash', 'CR', 10n ** 24n] }),
    gas: 2_000_000n,
  })
  tokenAddress = deployed.contractAddress!

  // Key 1 is the batcher's. Two of each load kind, one per send method where it applies.
  const plan: Array<[number, Kind, Method]> = [
    [2, 'eth', 'eth_sendRawTransactionSync'],
    [3, 'eth', 'eth_sendRawTransaction'],
    [4, 'erc20', 'realtime_sendRawTransaction'],
    [5, 'erc20', 'eth_sendRawTransactionSync'],
    [6, 'deploy', 'eth_sendRawTransaction'],
    [7, 'deploy', 'realtime_sendRawTransaction'],
    [8, 'eth', 'realtime_sendRawTransaction'],
  ]
  for (const [key, kind, method] of plan) {
    const account = privateKeyToAccount(DEV_KEYS[key]!)
    if (kind === 'erc20')
      await send({
        to: tokenAddress,
        data: encodeFunctionData({ abi: TOKEN.abi, functionName: 'transfer', args: [account.address, 10n ** 22n] }),
        gas: 100_000n,
      })
    senders.push({
      name: `key${key}:${kind}:${method}`,
      account,
      kind,
      method,
      recipient: `0x${(0xc4a500 + key).toString(16).padStart(40, '0')}`,
      nonce: Number(BigInt(await rpc<Hex>(sequencer.rpcUrl, 'eth_getTransactionCount', [account.address, 'pending']))),
    })
  }
})

after(async () => {
  // RESILIENCE_LOG_DIR=<dir> keeps every node's log of the run (to study a failure).
  const logDir = process.env.RESILIENCE_LOG_DIR
  if (logDir !== undefined && logDir !== '') {
    mkdirSync(logDir, { recursive: true })
    for (const [i, node] of [...stopped, sequencer, replica].entries()) {
      if (node === undefined) continue
      const { stdout, stderr } = node.logs()
      const role = node.datadir.endsWith('replica') ? 'replica' : 'sequencer'
      writeFileSync(join(logDir, `${String(i).padStart(3, '0')}-${role}.log`), `${stdout}\n--- stderr\n${stderr}`)
    }
  }
  for (const node of [sequencer, replica, ...stopped]) await node?.stop()
  await l1?.anvil.stop()
  if (dir !== undefined) await removeTempDir(dir)
})

describe(`crash campaign (${isLongForm() ? 'long' : 'CI'} form, seed ${SEED})`, { timeout: byForm(900_000, 3_600_000) }, () => {
  test(`kill -9 of the sequencer ${SEQUENCER_KILLS} times under mixed load: nothing acknowledged lost, the replica follows`, async (t) => {
    let node: NodeHandle | undefined = sequencer
    sequencer = undefined
    for (let cycle = 0; cycle < SEQUENCER_KILLS; ) {
      // Every point in turn, in a seeded order per round: each is exercised ⌊kills / points⌋ times or more.
      // The node the setup started has no failpoint armed: its cycle is a random kill.
      const point: SequencerPoint = node !== undefined ? 'random' : SEQUENCER_POINTS[(cycle + SEED) % SEQUENCER_POINTS.length]!
      const armed = point === 'random' ? undefined : `${point}=kill@${hitFor(point, random)}`
      const cycleStarted = Date.now()
      if (node === undefined) {
        node = await startSequencer(armed)
        if (node === undefined) {
          // The failpoint fired while the node recovered from the last crash (sealing its WAL): a kill too.
          tried.sequencerKills++
          tried.sequencerFailpointKills++
          tried.killsInRecovery++
          killsByPoint[point] = (killsByPoint[point] ?? 0) + 1
          cycle++
          continue
        }
      }
      // The previous cycle's receipts, against the restarted node (any left when it dies: against the next).
      const stopLoad = new AbortController()
      const load = runLoad(node.rpcUrl, stopLoad.signal)
      await checkReceipts(campaign, node.rpcUrl)
      await sampleHead(campaign, node.rpcUrl)
      let byFailpoint = false
      if (armed === undefined) {
        await sleep(300 + random.int(2_000))
        await sampleHead(campaign, node.rpcUrl)
      } else {
        byFailpoint = await exitedWithin(node, FAILPOINT_CAP_MS)
        if (!byFailpoint) tried.failpointMisses++
      }
      await node.kill9()
      stopped.push(node)
      stopLoad.abort()
      await load
      assert.deepEqual(campaign.unexpected, [], `cycle ${cycle} (${point}): unexpected answers`)
      tried.sequencerKills++
      if (byFailpoint) tried.sequencerFailpointKills++
      const key = byFailpoint || armed === undefined ? point : `${point} (missed: random)`
      killsByPoint[key] = (killsByPoint[key] ?? 0) + 1
      cycle++
      node = undefined
      t.diagnostic(
        `kill ${cycle}: ${key} at ${Math.round((Date.now() - cycleStarted) / 100) / 10} s; ${campaign.receipts.length} receipts, ${campaign.accepted.size} accepted so far`,
      )
      await assertReplicaCalm(`after sequencer kill ${cycle} (${point})`)
      assert.deepEqual(campaign.problems, [], `after sequencer kill ${cycle} (${point})`)
    }

    // A clean start: every received receipt, every accepted transaction, the chain, the replica.
    node = await startSequencer()
    assert.ok(node !== undefined)
    sequencer = node
    await checkReceipts(campaign, node.rpcUrl)
    assert.equal(campaign.unchecked.length, 0, 'every receipt compared')
    const stopLoad = new AbortController()
    const load = runLoad(node.rpcUrl, stopLoad.signal)
    await sleep(1_000)
    stopLoad.abort()
    await load
    assert.deepEqual(campaign.unexpected, [], 'unexpected answers after the last restart')
    await finalChecks(t.diagnostic.bind(t), 'after the sequencer kills')
  })

  test(`kill -9 of the replica ${REPLICA_KILLS} times mid-verification: it resumes and verifies every block`, async (t) => {
    assert.ok(sequencer !== undefined, 'the sequencer is up')
    const seq = sequencer
    const stopLoad = new AbortController()
    const load = runLoad(seq.rpcUrl, stopLoad.signal)
    try {
      for (let k = 0; k < REPLICA_KILLS; k++) {
        const point = REPLICA_POINTS[(k + SEED) % REPLICA_POINTS.length]!
        const armed = point === 'random' ? undefined : `${point}=kill@${hitFor(point, random)}`
        if (replica !== undefined) {
          await replica.kill9()
          stopped.push(replica)
          replica = undefined
        }
        // Restarted with the point armed: it resumes verifying what it imported and dies at the point.
        replica = await startReplica(armed)
        let byFailpoint = replica === undefined
        if (replica !== undefined) {
          if (armed === undefined) await sleep(500 + random.int(2_000))
          else byFailpoint = await exitedWithin(replica, FAILPOINT_CAP_MS)
          if (armed !== undefined && !byFailpoint) tried.failpointMisses++
          await replica.kill9()
          stopped.push(replica)
          replica = undefined
        }
        tried.replicaKills++
        const key = byFailpoint || armed === undefined ? `replica ${point}` : `replica ${point} (missed: random)`
        killsByPoint[key] = (killsByPoint[key] ?? 0) + 1
        // Let blocks pile up while it is down.
        await sleep(300 + random.int(1_000))
      }
    } finally {
      stopLoad.abort()
      await load
    }
    assert.deepEqual(campaign.unexpected, [], 'unexpected answers during the replica kills')
    replica = await startReplica()
    await finalChecks(t.diagnostic.bind(t), 'after the replica kills')

    const measured = { durationS: Math.round((Date.now() - startedAt) / 1000), withL1: WITH_L1 ? 1 : 0 }
    const lost = campaign.problems.length
    assert.equal(lost, 0)
    writeCampaignReport({
      campaign: 'crash',
      seed: SEED,
      tried: { ...tried, ...Object.fromEntries(Object.entries(killsByPoint).map(([k, v]) => [`kills:${k}`, v])) },
      checked: {
        receiptsCompared: campaign.checked.receipts,
        receiptsReceived: campaign.receipts.length,
        acceptedIncluded: campaign.checked.acceptedIncluded,
        blocksLinked: campaign.checked.blocks,
        replicaBlocksMatched: campaign.checked.replicaBlocks,
        sealedHeadsStable: campaign.sealed.size,
      },
      lost,
      findings,
      measured,
      durationMs: Date.now() - startedAt,
    })
  })
})

/**
 * On a live sequencer (`sequencer`) and replica: every received receipt identical and in the block the
 * chain holds at its height; every accepted transaction included; sealed blocks unchanged and linked;
 * the replica on the same chain, hash for hash, with no failure and no alarm.
 */
async function finalChecks(diagnostic: (msg: string) => void, when: string): Promise<void> {
  const url = sequencer!.rpcUrl
  // Accepted transactions still pooled land within a few mini-blocks.
  const missing = await waitFor(
    `${when}: every accepted transaction included`,
    async () => {
      const hashes = [...campaign.accepted.keys()]
      const answers = await batch<RpcReceipt | null>(
        url,
        hashes.map((h) => ['eth_getTransactionReceipt', [h]] as const),
      )
      const notYet = hashes.filter((_, i) => answers[i]!.result === null || answers[i]!.result === undefined)
      return notYet.length === 0 ? [] : undefined
    },
    30_000,
    250,
  ).catch(async (error: unknown) => {
    const hashes = [...campaign.accepted.keys()]
    const answers = await batch<RpcReceipt | null>(
      url,
      hashes.map((h) => ['eth_getTransactionReceipt', [h]] as const),
    )
    const notYet = hashes.filter((_, i) => answers[i]!.result === null || answers[i]!.result === undefined)
    return notYet.length > 0 ? notYet : Promise.reject(error)
  })
  for (const hash of missing) {
    const who = campaign.accepted.get(hash)!
    campaign.problems.push(`accepted transaction ${hash} (${who.sender}, nonce ${who.nonce}) never included`)
  }
  campaign.checked.acceptedIncluded = campaign.accepted.size - missing.length

  // The chain: sealed blocks seen before are unchanged, parents link, every receipt names the chain's block.
  const head = BigInt(await rpc<Hex>(url, 'eth_blockNumber'))
  const chain = await chainOf(url, head)
  for (let n = 1; n < chain.length; n++)
    if (chain[n]!.parentHash !== chain[n - 1]!.hash) campaign.problems.push(`block ${n} does not link to block ${n - 1}`)
  for (const [n, hash] of campaign.sealed)
    if (n <= head && chain[Number(n)]!.hash !== hash)
      campaign.problems.push(`sealed block ${n} changed: was ${hash}, now ${chain[Number(n)]!.hash}`)
  campaign.checked.blocks = chain.length
  const now = await batch<RpcReceipt | null>(
    url,
    campaign.receipts.map((r) => ['eth_getTransactionReceipt', [r.transactionHash]] as const),
  )
  for (let i = 0; i < campaign.receipts.length; i++) {
    const got = campaign.receipts[i]!
    const current = now[i]!.result ?? null
    const number = Number(BigInt(got.blockNumber))
    const problem = receiptProblem(got, current, number <= Number(head) ? chain[number]!.hash : undefined)
    if (problem !== undefined) campaign.problems.push(problem)
    else if (current !== null && number <= Number(head) && !chain[number]!.transactions.includes(got.transactionHash))
      campaign.problems.push(`${got.transactionHash}: block ${number} does not list it`)
    if (current !== null && current.status !== '0x1') campaign.problems.push(`${got.transactionHash}: load transaction reverted`)
  }
  campaign.checked.receipts += campaign.receipts.length
  assert.deepEqual(campaign.problems, [], `${when}: acknowledged data lost or changed`)

  // The chain continues.
  await waitFor(`${when}: a new block`, async () => BigInt(await rpc<Hex>(url, 'eth_blockNumber')) > head, 15_000, 100)

  // The replica: same chain through the sequencer's head, verified, no alarm.
  const target = head
  await waitFor(
    `${when}: the replica to verify block ${target}`,
    async () => {
      const info = await replicaInfo()
      if (info?.verified !== undefined && info.verified.failures > 0)
        throw new Error(`replica verification failure: ${JSON.stringify(info.verified)}`)
      return info?.verified !== undefined && BigInt(info.verified.block) >= target
    },
    60_000,
    200,
  )
  const replicaChain = await chainOf(replica!.rpcUrl, target)
  for (let n = 0; n <= Number(target); n++) assert.equal(replicaChain[n]!.hash, chain[n]!.hash, `${when}: replica block ${n}`)
  campaign.checked.replicaBlocks = replicaChain.length
  await assertReplicaCalm(when)
  const metrics = await (await fetch(`http://127.0.0.1:${replicaMetricsPort}/metrics`)).text()
  assert.ok(
    !/^megaeth_replica_verification_failures_total(\{[^}]*\})? [1-9]/m.test(metrics),
    `${when}: replica metrics count verification failures`,
  )
  diagnostic(
    `${when}: ${campaign.receipts.length} receipts received and identical, ${campaign.accepted.size} accepted transactions included, ` +
      `${chain.length} blocks linked, replica verified through ${target}; kills ${JSON.stringify(tried)} ${JSON.stringify(killsByPoint)}`,
  )
}
