/**
 * Where does stateless verification spend its time? Captures one full block of ETH transfers over a
 * 100,000-account state (a sequencer on the `replica` scenario's genesis, loaded with pre-signed
 * transfers; the block and its witness are cached under $TMPDIR/megaeth-bench-cache/), then runs the
 * replica's verification task (src/replica/verify-worker.ts, the code a verify worker runs) on it
 * in this process: timings, and a CPU profile split by verification step.
 *
 *   node --import tsx bench/verify-profile.ts [--runs=N] [--txs=N] [--recapture]
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { DEV_SEQUENCER_KEY } from '../src/chain/dev.ts'
import { chainConfigFromGenesis, devGenesis } from '../src/chain/genesis.ts'
import { encodeWitness } from '../src/stateless/witness.ts'
import verifyTask from '../src/replica/verify-worker.ts'
import { freePort } from '../test/helpers/ports.ts'
import { writeBigGenesis } from './lib/genesis.ts'
import { startNode } from './lib/nodes.ts'
import { toHex } from './lib/rpc.ts'
import { CHAIN_ID, FEES } from './lib/servers.ts'
import { summarize } from './lib/stats.ts'
import { BlockWatcher } from './lib/watch.ts'
import { GeneratorPool } from './load/pool.ts'
import { topSelfTime } from './profile.ts'

interface Sample {
  number: number
  header: string
  transactions: string[]
  witness: string
}

const CACHE = join(tmpdir(), 'megaeth-bench-cache')

async function capture(txs: number): Promise<Sample> {
  const work = mkdtempSync(join(tmpdir(), 'megaeth-verify-profile-'))
  const senders = 2_000
  const rounds = Math.max(1, Math.ceil(txs / senders))
  const genesis = writeBigGenesis(join(work, 'genesis.json'), [
    { set: 'replica-senders', count: senders, balanceWei: 10n ** 18n },
    { set: 'replica-recipients', count: 100_000 - senders, balanceWei: 10n ** 16n },
  ])
  const keyFile = join(work, 'sequencer.key')
  writeFileSync(keyFile, `${DEV_SEQUENCER_KEY}\n`)
  const port = await freePort()
  const pool = GeneratorPool.prepare(
    {
      url: `http://127.0.0.1:${port}`,
      chainId: CHAIN_ID.megaeth.toString(),
      maxFeePerGas: FEES.megaeth.maxFeePerGas.toString(),
      maxPriorityFeePerGas: '0',
      gasLimit: 21_000,
      kind: 'transfer',
      senders: { set: 'replica-senders', from: 0, count: senders },
      recipients: { set: 'replica-recipients', from: 0, count: senders * rounds },
      rounds,
      startNonce: 0,
      batchSize: 100,
      mode: 'max',
      concurrency: 32,
      retryDeadlineMs: 60_000,
    },
    1,
  )
  const seq = await startNode(
    'verify-profile-sequencer',
    [`--genesis=${genesis.path}`, `--datadir=${join(work, 'data')}`, `--sequencer.key-file=${keyFile}`, '--p2p.port=0'],
    { port },
  )
  const p = await pool
  try {
    const watcher = await BlockWatcher.start(seq.rpc, 20)
    p.go()
    const rep = await p.finished()
    await watcher.waitFor(rep.accepted, 120_000)
    watcher.stop()
    const best = [...watcher.blocks].sort((a, b) => b.txs - a.txs)[0]!
    const raw = await seq.rpc.call<string>('debug_getRawBlock', [toHex(best.number)])
    const w = await seq.rpc.call<{ state: string[]; codes: string[]; keys: string[]; headers: string[] }>(
      'debug_executionWitness',
      [toHex(best.number)],
      60_000,
    )
    const [header, transactions] = RLP.decode(hexToBytes(raw as `0x${string}`)) as unknown as [Uint8Array[], Uint8Array[]]
    const b = (items: string[]): Uint8Array[] => items.map((h) => hexToBytes(h as `0x${string}`))
    return {
      number: best.number,
      header: bytesToHex(RLP.encode(header)),
      transactions: transactions.map((t) => bytesToHex(t)),
      witness: bytesToHex(encodeWitness({ state: b(w.state), codes: b(w.codes), keys: b(w.keys), headers: b(w.headers) })),
    }
  } finally {
    await p.close()
    await seq.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

/**
 * Verification steps. A sample counts for the first step (in this order) with a frame anywhere on its
 * stack: async continuations lose their outer frames, so steps are recognized by what they call.
 */
const STEPS: Array<[string, RegExp]> = [
  ['(profiler)', /node:inspector/],
  ['sender recovery (ecrecover + keccak of the signing hash)', /^(ecrecover|ecdsaRecover|getSenderPublicKey) /],
  ['decode txs (createTxFromRLP: RLP + Common param copies)', /^(createTxFromRLP|decodeTransaction) /],
  ['index witness nodes by keccak (WitnessNodes constructor)', /^WitnessNodes src\/stateless\/witness-nodes/],
  [
    'witness reachability walk (assertAllReachable)',
    /^(assertAllReachable|walk|visitNode|visitReference|accountStorageRoot|\(anonymous\)) src\/stateless\/witness-nodes/,
  ],
  ['state root: applyDiff on the partial trie (updates, node decode, keccak)', /^applyDiff src\/trie\//],
  ['receipts root / bloom / receipts digest', /^(compareResults|executionReceiptsDigest|orBlooms) |^orderedTrieRoot /],
  ['witness state reads (partial-trie lookups of accounts)', /src\/stateless\/witness-state/],
  [
    'EVM execution (runTx, evm, journaled state, receipts)',
    /node_modules\/@ethereumjs\/(vm|evm)\/|src\/execution\/(executor|block-execution)|src\/state\//,
  ],
  ['decode witness RLP', /^decodeWitness /],
]

interface Profile {
  startTime: number
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>
  samples: number[]
  timeDeltas: number[]
}

function steps(profile: Profile): Array<{ step: string; ms: number; share: number }> {
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id)
  const byId = new Map(profile.nodes.map((x) => [x.id, x]))
  const totals = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000
    const frames: string[] = []
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame
      frames.push(
        `${f.functionName === '' ? '(anonymous)' : f.functionName} ${f.url.replace(/^.*\/(node_modules\/|src\/)/, '$1')}`,
      )
    }
    const leaf = frames[0] ?? ''
    if (leaf.startsWith('(idle)') || leaf.startsWith('(program)')) return
    let step = leaf.startsWith('(garbage collector)')
      ? 'garbage collection'
      : STEPS.find(([, re]) => frames.some((fr) => re.test(fr)))?.[0]
    if (step === '(profiler)') return
    total += dt
    step ??= 'other'
    totals.set(step, (totals.get(step) ?? 0) + dt)
  })
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([step, ms]) => ({ step, ms: Math.round(ms), share: Number(((ms / total) * 100).toFixed(1)) }))
}

async function main(): Promise<void> {
  const arg = (name: string, dflt: number): number =>
    Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt)
  const runs = arg('runs', 5)
  const txs = arg('txs', 4_000)
  mkdirSync(CACHE, { recursive: true })
  const file = join(CACHE, `verify-sample-${txs}.json`)
  if (process.argv.includes('--recapture') || !existsSync(file)) {
    console.log(`capturing a block: sequencer on the replica genesis (100,000 accounts), ${txs} transfers…`)
    writeFileSync(file, JSON.stringify(await capture(txs)))
  }
  const sample = JSON.parse(readFileSync(file, 'utf8')) as Sample
  const task = {
    config: chainConfigFromGenesis(devGenesis(), 'megaeth'),
    header: hexToBytes(sample.header as `0x${string}`),
    transactions: sample.transactions.map((t) => hexToBytes(t as `0x${string}`)),
    witness: hexToBytes(sample.witness as `0x${string}`),
  }
  const n = task.transactions.length
  console.log(
    `block ${sample.number}: ${n} transfers, witness ${(task.witness.length / 1e6).toFixed(2)} MB (${Math.round(task.witness.length / n)} bytes/tx); verifying ${runs}× in this process (one thread)`,
  )
  const first = await verifyTask(task)
  if (!first.ok) throw new Error(`verification failed: ${first.error.code}: ${first.error.message}`)
  const ms: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage()
    const t = performance.now()
    const r = await verifyTask(task)
    ms.push(performance.now() - t)
    const c = process.cpuUsage(c0)
    cpu.push((c.user + c.system) / 1000)
    if (!r.ok) throw new Error(`verification failed: ${r.error.code}`)
  }
  const s = summarize(ms, 1)
  const c = summarize(cpu, 1)
  console.log(
    `first run ${first.ms.toFixed(0)} ms; warm: p50 ${s.p50} ms (CPU ${c.p50} ms) → ${Math.round((s.p50 * 1000) / n)} µs/tx, ${Math.round((n * 1000) / s.p50)} tx/s per worker`,
  )

  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 200 })
  await session.post('Profiler.start')
  for (let i = 0; i < runs; i++) await verifyTask(task)
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile }
  session.disconnect()
  console.log('\nsteps (inclusive, outermost match):')
  for (const r of steps(profile)) console.log(`${String(r.share).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.step}`)
  console.log('\ntop self time:')
  for (const r of topSelfTime(profile, 30))
    console.log(`${String(r.share).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.fn}`)
  const dir = mkdtempSync(join(tmpdir(), 'megaeth-verify-prof-'))
  writeFileSync(join(dir, 'verify.cpuprofile'), JSON.stringify(profile))
  console.log(`\nprofile: ${join(dir, 'verify.cpuprofile')}`)
}

await main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
