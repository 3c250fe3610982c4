/**
 * `npm run bench -- scale [--scale-sizes=100000,1000000] [--scale-before-dir=PATH]`: how a sequencer
 * with a big state starts and restarts (issue 23). Per size: a genesis of that many funded accounts
 * (addresses from keccak, no keys: nothing sends from them), then
 *
 *   1. first start on a new datadir → RPC ready (genesis state built and persisted), RSS;
 *   2. stop (SIGTERM) after a few blocks; datadir size (chaindata and the persisted trie);
 *   3. restart → RPC ready: the head's state root opened from `<datadir>/trie` (no rebuild), RSS;
 *   3b. transfers (200 senders × 100 rounds) into 20,000 existing genesis accounts on that datadir: throughput,
 *      CPU per transaction and the live state's cache misses (every recipient is a cold read);
 *   3c. followers over p2p: a full replica on a fresh datadir (its own genesis build) and a validator, their
 *      memory once both verified the restarted sequencer's head;
 *   4. restart without `<datadir>/trie` → RPC ready: the migration of an older datadir, i.e. a rebuild
 *      from the flat state plus writing the nodes — what every restart cost before persisted tries;
 *   5. with `--scale-before-dir` (a checkout from before this change, e.g. a `git archive` of main):
 *      restart with that build on a copy-free reopen of the same datadir (it ignores the trie dir).
 *
 * Between restarts the same accounts' balances and `eth_getProof` are compared: a restart that opens
 * the wrong state fails the run. Opt-in (not part of "all"): 1M accounts takes minutes. Writes
 * bench/results/scale.json.
 */
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { KECCAK256_NULL, bytesToHex, hexToBytes } from '@ethereumjs/util'
import { devGenesis } from '../../src/chain/genesis.ts'
import { keccak256 } from '../../src/crypto/native.ts'
import type { AccountDiff, Hex, StateDiff } from '../../src/primitives/state-diff.ts'
import { TrieNodeStore } from '../../src/storage/trie-node-store.ts'
import { StateTrie } from '../../src/trie/index.ts'
import { rng } from '../../test/helpers/rng.ts'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateIdentity } from '../../src/p2p/identity.ts'
import { freePort } from '../../test/helpers/ports.ts'
import { benchAccounts } from '../load/keys.ts'
import { diskUsage, startNode, type NodeProcess } from '../lib/nodes.ts'
import { writeJson, type Environment } from '../lib/report.ts'
import { sleep } from '../lib/stats.ts'
import { fmt, round, type BenchContext } from './context.ts'
import { runThroughput } from './throughput.ts'

export interface ScaleOptions {
  sizes: number[]
  /** A megaeth-node checkout from before persisted tries, restarted on the same datadir for the "before" number. */
  beforeDir: string | undefined
}

interface StartMeasure {
  /** Spawn → first eth_chainId answer. */
  readyMs: number
  /** RSS right after ready, and the peak (VmHWM) then. */
  rssMb: number
  peakRssMb: number
  /** From the node's "opened chain" log line: how the trie came up and how long that took. */
  stateTrie: string | undefined
  stateTrieMs: number | undefined
  /** Also from that line: the genesis check and the flat state's load (ms), and when it was logged (ms after spawn). */
  genesisCheckMs: number | undefined
  flatStateMs: number | undefined
  openedAtMs: number | undefined
  head: number
  loadavg1: number
}

/** Transfers into the big state after its restart: recipients are existing genesis accounts (cold reads). */
export interface ScaleTransfers {
  sustainedTps: number
  serverCpuUsPerTx: number
  /** Account reads the live state's cache sent to the store during the run. */
  accountMisses: number | undefined
  peakRssMb: number
  complete: boolean
}

/** A full replica (a datadir of its own: it builds the same genesis) and a validator following the restarted sequencer. */
export interface ScaleFollowers {
  /** The full replica's first start (its genesis build) and its memory once it verified the sequencer's head. */
  replica: StartMeasure & { rssAtHeadMb: number; peakAtHeadMb: number }
  validator: { readyMs: number; rssAtHeadMb: number; peakAtHeadMb: number }
  /** The sequencer head both reached (verified), and how long after the replica was ready. */
  head: number
  caughtUpMs: number
  /**
   * A full replica on a new datadir started from a snapshot (`--sync.snapshot=always`): spawn → RPC ready
   * covers fetching the state, building and checking its trie and the genesis check; then its memory at the head.
   */
  snapshot: StartMeasure & Partial<SnapshotSyncLine> & { rssAtHeadMb: number; peakAtHeadMb: number }
}

export interface ScaleRun {
  accounts: number
  genesisFileMb: number
  genesisWriteS: number
  first: StartMeasure
  datadirMb: { total: number; trie: number; chaindata: number }
  restart: StartMeasure
  /** Undefined past `MIGRATION_MAX_ACCOUNTS`. */
  migration: StartMeasure | undefined
  before: StartMeasure | undefined
  transfers: ScaleTransfers
  followers: ScaleFollowers
  sealCost: SealCost
}

/**
 * The recipients of the transfer run, funded in the genesis beside the keccak-derived accounts: bench keys
 * (`scale-recipients`), so the load generator can name them. Each receives one transfer.
 */
const TRANSFER_SENDERS = 200
const TRANSFER_ROUNDS = 100
const RECIPIENT_SET = 'scale-recipients'
/** The largest state whose trie rebuild (an older datadir's migration) the bench measures. */
const MIGRATION_MAX_ACCOUNTS = 2_000_000

/** What persisting costs a block, measured in-process on the stopped node's trie (see `measureSealCost`). */
export interface SealCost {
  blocks: number
  updatesPerBlock: number
  /** Per block: the trie update (node loads from the store included) and the fsynced write of its new nodes. */
  applyMs: number[]
  writeMs: number[]
  nodesWritten: number[]
  kbWritten: number[]
  /** Store reads that missed the read cache (LevelDB `getSync`), per block. */
  dbReads: number[]
}

const mb = (bytes: number): number => round(bytes / 2 ** 20, 1)

/** The dev genesis plus `count` accounts at keccak-derived addresses, streamed (a 1M-entry JSON string is ~90 MB). */
export async function writeScaleGenesis(path: string, count: number): Promise<number> {
  const genesis = devGenesis()
  const out = createWriteStream(path)
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await once(out, 'drain')
  }
  const { alloc, ...rest } = genesis
  await write(`${JSON.stringify(rest).slice(0, -1)},"alloc":{`)
  let first = true
  for (const [address, account] of Object.entries(alloc)) {
    await write(`${first ? '' : ','}${JSON.stringify(address)}:${JSON.stringify(account)}`)
    first = false
  }
  const seed = new Uint8Array(8)
  const view = new DataView(seed.buffer)
  let chunk = ''
  for (const recipient of benchAccounts(RECIPIENT_SET, 0, TRANSFER_SENDERS * TRANSFER_ROUNDS))
    chunk += `,"${recipient.addressHex}":{"balance":"0x1"}`
  for (let i = 0; i < count; i++) {
    view.setBigUint64(0, BigInt(i))
    const address = bytesToHex(keccak256(seed).subarray(12))
    chunk += `,"${address}":{"balance":"0x${(1_000_000_000_000_000_000n + BigInt(i)).toString(16)}"}`
    if (chunk.length > 1 << 20) {
      await write(chunk)
      chunk = ''
    }
  }
  await write(`${chunk}}}`)
  out.end()
  await once(out, 'finish')
  return out.bytesWritten
}

function scaleAddress(i: number): string {
  const seed = new Uint8Array(8)
  new DataView(seed.buffer).setBigUint64(0, BigInt(i))
  return bytesToHex(keccak256(seed).subarray(12))
}

/** The "opened chain" line of a node's JSON log. */
interface OpenedChainLine {
  time?: number
  stateTrie?: string
  stateTrieMs?: number
  genesisCheckMs?: number
  flatStateMs?: number
}

/** The first line of a node's JSON log with message `msg`, parsed ({} when there is none). */
async function logLine<T extends object>(logFile: string, msg: string): Promise<Partial<T>> {
  const text = await readFile(logFile, 'utf8')
  for (const line of text.split('\n')) {
    if (!line.includes(`"msg":"${msg}"`)) continue
    try {
      return JSON.parse(line) as Partial<T>
    } catch {
      /* a torn line */
    }
  }
  return {}
}

/** The log line of a finished snapshot sync (`node/snapshot-datadir.ts`). */
interface SnapshotSyncLine {
  pivot: string
  entries: number
  mb: number
  fetchMs: number
  trieMs: number
  /** What was left of the genesis check (it runs beside the fetch) once the trie was built. */
  genesisWaitMs: number
}

async function measureStart(
  name: string,
  args: string[],
  nodeDir: string | undefined,
): Promise<{ node: NodeProcess; m: StartMeasure }> {
  const node = await startNode(name, ['--log.level=info', ...args], {
    timeoutMs: 1_800_000,
    ...(nodeDir === undefined ? {} : { nodeDir }),
  })
  const readyMs = node.readyMs - node.spawnedMs
  const rssMb = round(node.rssKb() / 1024, 0)
  const peakRssMb = round(node.peakRssKb() / 1024, 0)
  const head = Number(BigInt(await node.rpc.call<string>('eth_blockNumber', [])))
  const line = await logLine<OpenedChainLine>(node.logFile, 'opened chain')
  return {
    node,
    m: {
      readyMs,
      rssMb,
      peakRssMb,
      stateTrie: line.stateTrie,
      stateTrieMs: line.stateTrieMs,
      genesisCheckMs: line.genesisCheckMs,
      flatStateMs: line.flatStateMs,
      openedAtMs: line.time === undefined ? undefined : line.time - node.spawnedMs,
      head,
      loadavg1: Number(loadavg()[0]!.toFixed(2)),
    },
  }
}

interface ProofAnswer {
  balance: string
  nonce: string
  codeHash: string
  storageHash: string
  accountProof: string[]
}

/**
 * Balances and proofs of a few genesis accounts at the head: what every restart must serve
 * identically. Every block changes the root (the EIP-2935 system call), so of each proof only the
 * account's leaf is compared, with the fields it proves.
 */
async function probe(node: NodeProcess, count: number): Promise<string> {
  const picks = [0, 1, Math.floor(count / 2), count - 1].map(scaleAddress)
  const answers: unknown[] = []
  for (const address of picks) {
    const balance = await node.rpc.call<string>('eth_getBalance', [address, 'latest'])
    const proof = await node.rpc.call<ProofAnswer>('eth_getProof', [address, [], 'latest'])
    answers.push([balance, proof.balance, proof.nonce, proof.codeHash, proof.storageHash, proof.accountProof.at(-1)])
  }
  return JSON.stringify(answers)
}

async function runSize(ctx: BenchContext, accounts: number, options: ScaleOptions): Promise<ScaleRun> {
  const work = await mkdtemp(join(tmpdir(), `megaeth-scale-${accounts}-`))
  try {
    const genesisFile = join(work, 'genesis.json')
    const t = performance.now()
    const bytes = await writeScaleGenesis(genesisFile, accounts)
    const genesisWriteS = round((performance.now() - t) / 1000, 1)
    ctx.log(`  genesis: ${fmt(accounts)} accounts, ${fmt(mb(bytes), 1)} MB written in ${genesisWriteS} s`)
    const datadir = join(work, 'datadir')
    const args = ['--dev', '--dev.l1=false', `--genesis=${genesisFile}`, `--datadir=${datadir}`, '--block-ms=1000']

    const first = await measureStart(`scale-${accounts}-first`, args, undefined)
    ctx.log(
      `  first start: RPC ready ${fmt(first.m.readyMs)} ms (trie ${first.m.stateTrie} ${fmt(first.m.stateTrieMs ?? Number.NaN)} ms), RSS ${fmt(first.m.rssMb)} MB (peak ${fmt(first.m.peakRssMb)})`,
    )
    await sleep(3_000)
    await first.node.stop()
    const total = diskUsage(datadir).allocatedBytes
    const trie = diskUsage(join(datadir, 'trie')).allocatedBytes
    const chaindata = diskUsage(join(datadir, 'chaindata')).allocatedBytes
    ctx.log(`  datadir: ${fmt(mb(total), 1)} MB (trie ${fmt(mb(trie), 1)} MB, chaindata ${fmt(mb(chaindata), 1)} MB)`)

    const restart = await measureStart(`scale-${accounts}-restart`, args, undefined)
    const expected = await probe(restart.node, accounts)
    ctx.log(
      `  restart: RPC ready ${fmt(restart.m.readyMs)} ms (chain opened at ${fmt(restart.m.openedAtMs ?? Number.NaN)} ms: genesis check ${fmt(restart.m.genesisCheckMs ?? Number.NaN)}, flat state ${fmt(restart.m.flatStateMs ?? Number.NaN)}, trie ${restart.m.stateTrie} ${fmt(restart.m.stateTrieMs ?? Number.NaN)} ms), RSS ${fmt(restart.m.rssMb)} MB (peak ${fmt(restart.m.peakRssMb)})`,
    )
    await restart.node.stop()

    // Transfers from funded dev-derived senders to existing genesis accounts: every recipient is a cold read.
    const tps = await runThroughput(
      {
        ...ctx,
        serverOpts: {
          ...ctx.serverOpts,
          extraArgs: [...(ctx.serverOpts.extraArgs ?? []), ...args.filter((a) => a !== '--dev' && !a.startsWith('--block-ms'))],
        },
      },
      'megaeth',
      `scale-${accounts}`,
      {
        kind: 'transfer',
        senders: TRANSFER_SENDERS,
        rounds: TRANSFER_ROUNDS,
        recipients: 'disjoint',
        recipientSet: RECIPIENT_SET,
      },
    )
    const transfers: ScaleTransfers = {
      sustainedTps: tps.sustainedTps,
      serverCpuUsPerTx: tps.serverCpuUsPerTx,
      accountMisses: tps.nodeMetrics?.stateCacheMisses.account,
      peakRssMb: tps.peakRssMb,
      complete: tps.complete,
    }
    ctx.log(
      `  transfers to existing accounts: ${fmt(transfers.sustainedTps)} tx/s, ${fmt(transfers.serverCpuUsPerTx)} µs CPU/tx, ${fmt(transfers.accountMisses ?? Number.NaN)} account reads from the store, peak RSS ${fmt(transfers.peakRssMb)} MB`,
    )

    const followers = await measureFollowers(work, args, genesisFile)
    const snap = followers.snapshot
    ctx.log(
      `  snapshot sync: RPC ready ${fmt(snap.readyMs)} ms (pivot ${snap.pivot}: ${fmt(snap.entries ?? Number.NaN)} entries, ${fmt(snap.mb ?? Number.NaN)} MB fetched in ${fmt(snap.fetchMs ?? Number.NaN)} ms, trie ${fmt(snap.trieMs ?? Number.NaN)} ms, then waited ${fmt(snap.genesisWaitMs ?? Number.NaN)} ms for the genesis check), at head RSS ${fmt(snap.rssAtHeadMb)} MB (peak ${fmt(snap.peakAtHeadMb)})`,
    )
    ctx.log(
      `  followers over p2p: full replica first start ${fmt(followers.replica.readyMs)} ms (trie ${followers.replica.stateTrie} ${fmt(followers.replica.stateTrieMs ?? Number.NaN)} ms), at head ${followers.head} RSS ${fmt(followers.replica.rssAtHeadMb)} MB (peak ${fmt(followers.replica.peakAtHeadMb)}); validator RSS ${fmt(followers.validator.rssAtHeadMb)} MB (peak ${fmt(followers.validator.peakAtHeadMb)}); both verified it ${fmt(followers.caughtUpMs)} ms after the replica was ready`,
    )

    let before: StartMeasure | undefined
    if (options.beforeDir !== undefined) {
      // The build from before persisted tries ignores <datadir>/trie and rebuilds (and seals blocks
      // whose nodes it does not write: the migration below covers that).
      const old = await measureStart(`scale-${accounts}-before`, args, options.beforeDir)
      before = old.m
      ctx.log(
        `  restart with ${options.beforeDir} (rebuild, before persisted tries): RPC ready ${fmt(before.readyMs)} ms, RSS ${fmt(before.rssMb)} MB (peak ${fmt(before.peakRssMb)})`,
      )
      await old.node.stop()
    }

    // An older datadir: no persisted trie. The start rebuilds from the flat state (and persists). The rebuild
    // holds the whole trie in memory (~4.4 GB at 1M accounts): not tried past MIGRATION_MAX_ACCOUNTS.
    let migration: StartMeasure | undefined
    if (accounts <= MIGRATION_MAX_ACCOUNTS) {
      await rm(join(datadir, 'trie'), { recursive: true, force: true })
      const migrated = await measureStart(`scale-${accounts}-migration`, args, undefined)
      migration = migrated.m
      if ((await probe(migrated.node, accounts)) !== expected)
        throw new Error('the migrated trie serves other balances or proofs')
      ctx.log(
        `  restart without a trie (rebuild + persist): RPC ready ${fmt(migration.readyMs)} ms (trie ${migration.stateTrie} ${fmt(migration.stateTrieMs ?? Number.NaN)} ms), RSS ${fmt(migration.rssMb)} MB (peak ${fmt(migration.peakRssMb)})`,
      )
      await migrated.node.stop()
    } else
      ctx.log(
        `  restart without a trie: skipped (the rebuild holds the whole trie in memory; up to ${fmt(MIGRATION_MAX_ACCOUNTS)} accounts)`,
      )

    // And the persisted path once more, after the migration wrote the nodes.
    const again = await measureStart(`scale-${accounts}-restart2`, args, undefined)
    if ((await probe(again.node, accounts)) !== expected) throw new Error('a restart serves other balances or proofs')
    if (again.m.stateTrie !== 'persisted') throw new Error(`the restart after the migration ${again.m.stateTrie} the trie`)
    const headRoot = (await again.node.rpc.call<{ stateRoot: string }>('eth_getBlockByNumber', ['latest', false])).stateRoot
    await again.node.stop()

    const sealCost = await measureSealCost(join(datadir, 'trie'), hexToBytes(headRoot as Hex), accounts)
    ctx.log(
      `  persisting a block of ${fmt(sealCost.updatesPerBlock)} account updates: update ${sealCost.applyMs.join('/')} ms, fsynced write ${sealCost.writeMs.join('/')} ms, ${sealCost.nodesWritten.join('/')} nodes (${sealCost.kbWritten.join('/')} KB), store misses ${sealCost.dbReads.join('/')}`,
    )
    return {
      accounts,
      genesisFileMb: mb(bytes),
      genesisWriteS,
      first: first.m,
      datadirMb: { total: mb(total), trie: mb(trie), chaindata: mb(chaindata) },
      restart: restart.m,
      migration,
      before,
      transfers,
      followers,
      sealCost,
    }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/**
 * The sequencer restarted with a fixed p2p identity, a full replica on a fresh datadir and a validator
 * (no datadir) following it on loopback; memory is read once both verified the sequencer's head as it
 * was when the replica came up (the sequencer seals an empty block a second meanwhile).
 */
async function measureFollowers(work: string, sequencerArgs: string[], genesisFile: string): Promise<ScaleFollowers> {
  const keyFile = join(work, 'sequencer-p2p.key')
  const peerId = peerIdFromPrivateKey(await loadOrCreateIdentity(keyFile)).toString()
  const p2pPort = await freePort()
  const bootnode = `/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${peerId}`
  const nodes: NodeProcess[] = []
  try {
    const sequencer = await startNode('scale-followed', [...sequencerArgs, `--p2p.port=${p2pPort}`, `--p2p.key-file=${keyFile}`])
    nodes.push(sequencer)
    const follow = ['--dev', '--dev.l1=false', '--role=replica', `--genesis=${genesisFile}`, `--p2p.bootnodes=${bootnode}`]
    const validator = await startNode('scale-validator', [...follow, '--replica.mode=validator'], { timeoutMs: 1_800_000 })
    nodes.push(validator)
    const replica = await measureStart(
      'scale-replica',
      [...follow, `--datadir=${join(work, 'replica')}`, '--p2p.port=0'],
      undefined,
    )
    nodes.push(replica.node)
    const readyAt = performance.now()
    const head = Number(BigInt(await sequencer.rpc.call<string>('eth_blockNumber', [])))
    for (const follower of [replica.node, validator]) await waitForBlock(follower, head, readyAt)
    const mbOf = (kb: number): number => round(kb / 1024, 0)
    const caughtUpMs = Math.round(performance.now() - readyAt)
    const replicaAtHead = { rssAtHeadMb: mbOf(replica.node.rssKb()), peakAtHeadMb: mbOf(replica.node.peakRssKb()) }
    // One replica at a time: the snapshot's fetch shares the two cores with the sequencer serving it.
    await replica.node.stop()
    const synced = await measureStart(
      'scale-snapshot-replica',
      [...follow, `--datadir=${join(work, 'snapshot-replica')}`, '--p2p.port=0', '--sync.snapshot=always'],
      undefined,
    )
    nodes.push(synced.node)
    const snapshotLine = await logLine<SnapshotSyncLine>(
      synced.node.logFile,
      'snapshot sync: state verified against the pivot header; following from there',
    )
    if (snapshotLine.pivot === undefined) throw new Error('the snapshot replica did not start from a snapshot')
    const target = Number(BigInt(await sequencer.rpc.call<string>('eth_blockNumber', [])))
    await waitForBlock(synced.node, target, performance.now())
    return {
      replica: { ...replica.m, ...replicaAtHead },
      validator: {
        readyMs: validator.readyMs - validator.spawnedMs,
        rssAtHeadMb: mbOf(validator.rssKb()),
        peakAtHeadMb: mbOf(validator.peakRssKb()),
      },
      head,
      caughtUpMs,
      snapshot: {
        ...synced.m,
        ...snapshotLine,
        rssAtHeadMb: mbOf(synced.node.rssKb()),
        peakAtHeadMb: mbOf(synced.node.peakRssKb()),
      },
    }
  } finally {
    for (const node of nodes.reverse()) await node.stop()
  }
}

/** Waits until `node` reports block `head` (a replica: imported; a validator: verified); 10 minutes from `since` at most. */
async function waitForBlock(node: NodeProcess, head: number, since: number): Promise<void> {
  while (Number(BigInt(await node.rpc.call<string>('eth_blockNumber', []))) < head) {
    if (performance.now() - since > 600_000) throw new Error(`${node.name} did not reach block ${head} in 10 minutes`)
    await sleep(200)
  }
}

/**
 * Opens the persisted trie at `root` in this process and applies `blocks` transfer-like diffs of
 * `updates` balance changes to random genesis accounts, timing the update and the fsynced write of the
 * new nodes per block: the seal-side cost of persisting (the first block reads cold nodes).
 */
async function measureSealCost(
  trieDir: string,
  root: Uint8Array,
  accounts: number,
  blocks = 8,
  updates = 5_000,
): Promise<SealCost> {
  const store = await TrieNodeStore.open(trieDir)
  const cost: SealCost = {
    blocks,
    updatesPerBlock: updates,
    applyMs: [],
    writeMs: [],
    nodesWritten: [],
    kbWritten: [],
    dbReads: [],
  }
  try {
    const state = new StateTrie({ open: { root, source: store } })
    const r = rng(accounts)
    for (let b = 0; b < blocks; b++) {
      const changes = new Map<Hex, AccountDiff>()
      for (let i = 0; i < updates; i++) {
        const account = { nonce: 1n, balance: BigInt(1 + r.int(1e9)), codeHash: KECCAK256_NULL }
        changes.set(scaleAddress(r.int(accounts)) as Hex, { account, storageCleared: false, storage: new Map() })
      }
      const diff: StateDiff = { accounts: changes, codes: new Map() }
      const reads = store.stats().dbReads
      const t0 = performance.now()
      state.applyDiff(diff)
      const nodes = state.commit()
      const t1 = performance.now()
      await store.putNodes(nodes, true)
      const t2 = performance.now()
      cost.applyMs.push(round(t1 - t0, 1))
      cost.writeMs.push(round(t2 - t1, 1))
      cost.nodesWritten.push(nodes.length)
      cost.kbWritten.push(Math.round(nodes.reduce((n, [, rlp]) => n + rlp.length, 0) / 1024))
      cost.dbReads.push(store.stats().dbReads - reads)
    }
  } finally {
    await store.close()
  }
  return cost
}

export async function runScale(ctx: BenchContext, env: Environment, options: ScaleOptions): Promise<ScaleRun[]> {
  const runs: ScaleRun[] = []
  const errors: Array<{ accounts: number; error: string }> = []
  for (const accounts of options.sizes) {
    ctx.log(`\n== scale: ${fmt(accounts)} accounts ==`)
    try {
      runs.push(await runSize(ctx, accounts, options))
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      ctx.log(`  FAILED: ${message}`)
      errors.push({ accounts, error: message })
    }
    writeJson('scale.json', { ...env, scenario: 'scale', parameters: options, results: runs, errors })
  }
  return runs
}
