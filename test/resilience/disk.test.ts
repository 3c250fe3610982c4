/**
 * Disk-fault campaign (issue 20): a sequencer whose disk fills up or whose writes and fsyncs fail must
 * stop producing with a clear error and an alarm — fatal log line with `alarm: true`, the
 * `megaeth_sequencer_halted` gauge at 1, /readyz 503, sends answered with -32002 — instead of
 * acknowledging what it cannot keep, stay up (reads still served, no crash loop), and, restarted once
 * the disk is healthy, come back with every acknowledged receipt and transaction hash intact.
 *
 * Documented behaviour (asserted): a failed write halts production until a restart, even when the
 * fault was a single one (`error`, not `error-always`): after a failed fsync the page cache may have
 * dropped the data and LevelDB's log writer is past a half-written record, so the node never retries
 * on the same database handle (src/storage/db.ts); a restart reopens it and replays what is whole.
 *
 * One datadir on a small tmpfs goes through every phase in turn; each phase's restart verifies all the
 * acknowledgements of all phases before it:
 * - `disk-full`: a filler file takes the tmpfs's free space under load; freed before the restart;
 * - failpoints (`MEGAETH_FAILPOINTS`): `wal.fsync` (a mini-block's fsync), `pool-journal.write` (a
 *   transaction's journal append), `seal.fsync` (a seal batch's fsync), each `error` (once) or
 *   `error-always`, firing at a hit number drawn from the seed.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { keccak256, type Address, type Hex } from 'viem'
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'
import { byForm, campaignSeed, writeCampaignReport } from '../helpers/resilience.ts'
import { DEV_CHAIN_ID, DEV_KEYS, freePort, rpc, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'
import { rng as makeRng } from '../helpers/rng.ts'
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.ts'
import { durableReceiptFields, type RpcReceipt } from '../helpers/receipts.ts'

const FEE = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 0n }
/** EIP-1474 "resource unavailable": what a halted sequencer answers to a send. */
const HALTED_CODE = -32002

type Fault = { kind: 'disk-full' } | { kind: 'failpoint'; point: string; action: 'error' | 'error-always'; at: number }

/** Progress on stderr: a long form runs for many minutes. */
const progress = (line: string): void => void process.stderr.write(`[disk ${new Date().toISOString().slice(11, 19)}] ${line}\n`)

const describeFault = (f: Fault): string => (f.kind === 'disk-full' ? 'disk-full' : `${f.point}=${f.action}@${f.at}`)

/** Everything any client was told, across phases: checked after every restart. */
interface Acks {
  receipts: Map<Hex, RpcReceipt>
  hashes: Set<Hex>
}

interface PhaseResult {
  sends: number
  rejectedHalted: number
  otherErrors: number
}

const seed = campaignSeed(0xd15c)
const random = makeRng(seed)
const pick = (lo: number, hi: number): number => lo + random.int(hi - lo + 1)

function faultPlan(): Fault[] {
  const failpoints: Fault[] = [
    { kind: 'failpoint', point: 'wal.fsync', action: 'error', at: pick(150, 300) },
    { kind: 'failpoint', point: 'pool-journal.write', action: 'error-always', at: pick(20, 60) },
    { kind: 'failpoint', point: 'seal.fsync', action: 'error', at: pick(3, 5) },
  ]
  if (byForm(true, false)) return [{ kind: 'disk-full' }, ...failpoints]
  const all: Fault[] = []
  for (let round = 0; round < 2; round++) {
    all.push({ kind: 'disk-full' })
    for (const point of ['wal.fsync', 'pool-journal.write', 'seal.fsync'])
      for (const action of ['error', 'error-always'] as const) {
        const at = point === 'wal.fsync' ? pick(100, 400) : point === 'seal.fsync' ? pick(2, 6) : pick(10, 80)
        all.push({ kind: 'failpoint', point, action, at })
      }
  }
  return all
}

let mount: Tmpfs | undefined
let mountDir: string | undefined
let node: NodeHandle | undefined

after(async () => {
  await node?.stop(10_000)
  await mount?.unmount()
  if (mountDir !== undefined) await rm(mountDir, { recursive: true, force: true })
})

async function readyz(url: string): Promise<{ status: number; body: { ready: boolean; reason?: string } }> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) })
  return { status: res.status, body: (await res.json()) as { ready: boolean; reason?: string } }
}

async function haltedGauge(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })).text()
  const line = text.split('\n').find((l) => l.startsWith('megaeth_sequencer_halted'))
  assert.ok(line !== undefined, 'the megaeth_sequencer_halted gauge is exported')
  return Number(line.slice(line.lastIndexOf(' ') + 1))
}

async function send(
  url: string,
  method: string,
  params: unknown[],
): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(15_000),
  })
  return (await res.json()) as { result?: unknown; error?: { code: number; message: string } }
}

const signTransfer = (account: PrivateKeyAccount, nonce: number, to: Address): Promise<Hex> =>
  account.signTransaction({ chainId: DEV_CHAIN_ID, type: 'eip1559', nonce, gas: 21_000n, to, value: 1_000n, ...FEE })

/** A tiny contract deploy (init code storing one word and returning 1 byte of code): state and code writes. */
const signDeploy = (account: PrivateKeyAccount, nonce: number): Promise<Hex> =>
  account.signTransaction({
    chainId: DEV_CHAIN_ID,
    type: 'eip1559',
    nonce,
    gas: 100_000n,
    // PUSH1 0x2a PUSH1 0 SSTORE; PUSH1 1 PUSH1 0 RETURN (code = 0x00: STOP)
    data: '0x602a60005560016000f3',
    ...FEE,
  })

/**
 * Mixed load until `stop` or the first error per sender: sync transfers, sync deploys, async
 * transfers. Every receipt and every hash returned is recorded as acknowledged.
 */
function startLoad(url: string, acks: Acks, result: PhaseResult, stop: AbortSignal): Promise<void>[] {
  const senders = [1, 2, 3, 4].map((i) => ({ i, account: privateKeyToAccount(DEV_KEYS[i]!) }))
  return senders.map(async ({ i, account }) => {
    let nonce = Number(BigInt(await rpc<Hex>(url, 'eth_getTransactionCount', [account.address, 'pending'])))
    const to = `0x${(0xd15c00 + i).toString(16).padStart(40, '0')}` as Address
    while (!stop.aborted) {
      const mode = i === 4 ? 'async' : i === 3 && nonce % 4 === 0 ? 'deploy' : 'sync'
      const raw = mode === 'deploy' ? await signDeploy(account, nonce) : await signTransfer(account, nonce, to)
      result.sends++
      let body: Awaited<ReturnType<typeof send>>
      try {
        body =
          mode === 'async'
            ? await send(url, 'eth_sendRawTransaction', [raw])
            : await send(url, 'eth_sendRawTransactionSync', [raw, 3_000])
      } catch {
        result.otherErrors++
        return
      }
      if (body.error !== undefined) {
        if (body.error.code === HALTED_CODE) result.rejectedHalted++
        else result.otherErrors++
        return // outcome unknown for this nonce: the sender stops for this phase
      }
      if (mode === 'async') {
        assert.equal(body.result, keccak256(raw), 'eth_sendRawTransaction returns the hash')
        acks.hashes.add(body.result as Hex)
      } else {
        const receipt = body.result as RpcReceipt
        assert.equal(receipt.status, '0x1', `sender ${i} nonce ${nonce}`)
        acks.receipts.set(receipt.transactionHash, receipt)
      }
      nonce++
      if (mode === 'async') await new Promise((r) => setTimeout(r, 5))
    }
  })
}

/** Every receipt any client got is there, identical; every acknowledged hash gets its receipt. Returns the count checked. */
async function verifyAcks(url: string, acks: Acks): Promise<{ receipts: number; hashes: number; lost: number }> {
  let lost = 0
  for (const [hash, before] of acks.receipts) {
    const now = await rpc<RpcReceipt | null>(url, 'eth_getTransactionReceipt', [hash])
    if (now === null) lost++
    assert.ok(now !== null, `acknowledged receipt ${hash} is missing after the restart`)
    assert.deepEqual(
      durableReceiptFields(now, { miniBlock: true }),
      durableReceiptFields(before, { miniBlock: true }),
      `acknowledged receipt ${hash} changed after the restart`,
    )
  }
  for (const hash of acks.hashes) {
    // Journaled before its hash was returned: restored into the pool and included after the restart.
    const receipt = await waitFor(
      `acknowledged transaction ${hash} included after the restart`,
      async () => (await rpc<RpcReceipt | null>(url, 'eth_getTransactionReceipt', [hash])) ?? undefined,
      30_000,
      100,
    ).catch(() => undefined)
    if (receipt === undefined) lost++
    assert.ok(receipt !== undefined, `acknowledged transaction ${hash} was lost: no receipt 30 s after the restart`)
  }
  return { receipts: acks.receipts.size, hashes: acks.hashes.size, lost }
}

describe('disk faults (resilience campaign)', { timeout: byForm(300_000, 1_500_000) }, () => {
  it('a full disk or failed fsync halts the sequencer loudly, acknowledges nothing it cannot keep, and a restart resumes with nothing lost', async () => {
    const started = performance.now()
    mountDir = await mkdtemp(join(tmpdir(), 'megaeth-disk-'))
    mount = await mountTmpfs(mountDir, 64)
    const datadir = join(mountDir, 'datadir')
    const acks: Acks = { receipts: new Map(), hashes: new Set() }
    const plan = faultPlan()
    const tried = { faults: 0, sends: 0, restarts: 0, rejectedSends: 0, fillerBytes: 0 }
    const checked = { receipts: 0, hashes: 0, haltedChecks: 0 }
    const findings: string[] = []
    let lost = 0
    const metricsPort = await freePort()
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`
    const nodeArgs = ['--block-ms=500', `--metrics.port=${metricsPort}`]
    const probe = privateKeyToAccount(DEV_KEYS[9]!)

    for (const [index, fault] of [...plan, undefined].entries()) {
      const env = fault?.kind === 'failpoint' ? { MEGAETH_FAILPOINTS: `${fault.point}=${fault.action}@${fault.at}` } : undefined
      progress(`phase ${index}: starting the node${fault === undefined ? ' (healthy disk)' : ` for ${describeFault(fault)}`}`)
      node = await startNode({ datadir, args: nodeArgs, readyTimeoutMs: 180_000, ...(env === undefined ? {} : { env }) })
      tried.restarts++
      progress(`phase ${index}: node up; verifying ${acks.receipts.size} receipts and ${acks.hashes.size} hashes`)
      // Each start first proves the previous phases: all their acknowledgements survived.
      const v = await verifyAcks(node.rpcUrl, acks)
      checked.receipts += v.receipts
      checked.hashes += v.hashes
      lost += v.lost
      if (fault === undefined) {
        // The final start, with a healthy disk: production resumed, ready, gauge cleared.
        const r = await rpc<RpcReceipt>(node.rpcUrl, 'eth_sendRawTransactionSync', [
          await signTransfer(
            probe,
            Number(BigInt(await rpc<Hex>(node.rpcUrl, 'eth_getTransactionCount', [probe.address, 'pending']))),
            probe.address,
          ),
          5_000,
        ])
        assert.equal(r.status, '0x1', 'the chain continues after the last restart')
        assert.equal((await readyz(node.rpcUrl)).status, 200, '/readyz is ready again after the restart')
        assert.equal(await haltedGauge(metricsUrl), 0, 'megaeth_sequencer_halted is 0 after the restart')
        break
      }
      const label = `phase ${index} (${describeFault(fault)})`
      tried.faults++
      const result: PhaseResult = { sends: 0, rejectedHalted: 0, otherErrors: 0 }
      const stopLoad = new AbortController()
      const load = startLoad(node.rpcUrl, acks, result, stopLoad.signal)
      if (fault.kind === 'disk-full') {
        await new Promise((r) => setTimeout(r, byForm(1_500, 3_000)))
        tried.fillerBytes += await mount.fill()
      }
      progress(`${label}: load running, waiting for the halt`)
      // The alarm: /readyz 503 with the reason, then the gauge, the log line, the refused send.
      const reason = await waitFor(
        `${label}: /readyz reports the halt`,
        async () => {
          const r = await readyz(node!.rpcUrl)
          return r.status === 503 ? r.body.reason : undefined
        },
        30_000,
        100,
      )
      assert.match(reason ?? '', /block production halted: database write failed/, `${label}: /readyz names the cause`)
      assert.equal(await haltedGauge(metricsUrl), 1, `${label}: megaeth_sequencer_halted is 1`)
      const halted = await send(node.rpcUrl, 'eth_sendRawTransaction', [await signTransfer(probe, 1_000_000, probe.address)])
      assert.equal(
        halted.error?.code,
        HALTED_CODE,
        `${label}: a send after the halt is refused with ${HALTED_CODE}: ${JSON.stringify(halted)}`,
      )
      assert.match(halted.error?.message ?? '', /sequencer halted/, `${label}: the refusal says why`)
      stopLoad.abort()
      await Promise.all(load)
      tried.sends += result.sends
      tried.rejectedSends += result.rejectedHalted
      // Stopped producing, and stays stopped even after a one-off fault (no retry on the same handle).
      const head = await rpc<Hex>(node.rpcUrl, 'eth_blockNumber')
      await new Promise((r) => setTimeout(r, 1_500))
      assert.equal(await rpc<Hex>(node.rpcUrl, 'eth_blockNumber'), head, `${label}: no block is produced after the halt`)
      assert.equal((await readyz(node.rpcUrl)).status, 503, `${label}: still halted (a failed write is never retried)`)
      assert.ok(!node.exited, `${label}: the node stays up (no crash) and serves reads`)
      checked.haltedChecks++
      const logs = node.logs().stdout
      assert.match(
        logs,
        /"alarm":true[^\n]*block production halts|block production halts[^\n]*"alarm":true/,
        `${label}: a fatal log line with alarm: true`,
      )
      assert.match(logs, /STORAGE_WRITE_FAILED|database write failed/, `${label}: the log names the failed write`)
      if (fault.kind === 'disk-full') {
        assert.match(logs, /No space left on device|ENOSPC/, `${label}: the log says the disk is full`)
        await mount.free()
      }
      progress(`${label}: halted after ${result.sends} sends (${result.rejectedHalted} refused); stopping`)
      const exit = await node.stop(15_000)
      assert.notEqual(exit.signal, 'SIGKILL', `${label}: a halted node still shuts down on SIGTERM`)
      node = undefined
      if (result.sends > 0 && result.rejectedHalted + result.otherErrors === 0)
        findings.push(`${label}: the load saw no refused send (the fault hit between sends)`)
    }

    assert.equal(lost, 0, 'nothing acknowledged was lost')
    const durationMs = Math.round(performance.now() - started)
    writeCampaignReport({
      campaign: 'disk',
      seed,
      tried: { ...tried, faultsByKind: plan.length },
      checked,
      lost,
      findings: [
        'a failed database write (ENOSPC on a full tmpfs, or an EIO failpoint at the WAL fsync, the pool-journal append or the seal fsync) poisons the database handle: production halts until a restart, sends get -32002, /readyz 503, megaeth_sequencer_halted 1',
        ...findings,
      ],
      measured: { durationMs, phases: plan.length },
      durationMs,
    })
  })
})
