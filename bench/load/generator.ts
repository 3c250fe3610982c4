/**
 * Load-generator child process. `prepare`: derive its senders' keys, pre-sign every tx, and
 * pre-serialize the JSON-RPC batch bodies; `go`: submit them over keep-alive HTTP, either as fast
 * as the server answers (`max`, a fixed number of requests in flight) or open-loop at a rate.
 * Rejected txs that can succeed later (pool full, nonce gap from reordering) are resubmitted in
 * nonce order until the retry deadline.
 */
import { hexToBytes } from '@ethereumjs/util'
import { RpcClient, type RpcResponse } from '../lib/rpc.ts'
import { benchAccounts } from './keys.ts'
import type { FromChild, LoadReport, LoadSpec, ToChild } from './protocol.ts'
import { signNative, toHexString, txHash } from './sign.ts'

const send = (msg: FromChild): void => {
  process.send?.(msg)
}

interface Prepared {
  spec: LoadSpec
  /** raw tx hex, in submission order */
  raws: string[]
  bodies: Buffer[]
  /** index of each body's first tx in `raws` */
  bodyStart: number[]
  lastHashes: string[]
}

const TRANSFER_SELECTOR = hexToBytes('0xa9059cbb')

function erc20Transfer(to: Uint8Array, amount: bigint): Uint8Array {
  const data = new Uint8Array(68)
  data.set(TRANSFER_SELECTOR, 0)
  data.set(to, 16)
  const amt = hexToBytes(`0x${amount.toString(16).padStart(64, '0')}`)
  data.set(amt, 36)
  return data
}

function bodyOf(raws: string[], from: number, to: number, method: string): Buffer {
  const parts: string[] = []
  for (let i = from; i < to; i++) parts.push(`{"jsonrpc":"2.0","id":${i},"method":"${method}","params":["${raws[i]}"]}`)
  return Buffer.from(`[${parts.join(',')}]`)
}

function prepare(spec: LoadSpec): Prepared {
  const senders = benchAccounts(spec.senders.set, spec.senders.from, spec.senders.count)
  const shared = spec.recipients.set === spec.senders.set
  // Disjoint recipients: each of this generator's txs gets its own slice of the recipient set.
  const recipients =
    shared && spec.recipients.from === spec.senders.from && spec.recipients.count === spec.senders.count
      ? senders
      : benchAccounts(
          spec.recipients.set,
          spec.recipients.from + (shared ? 0 : spec.senders.from * spec.rounds),
          shared ? spec.recipients.count : spec.senders.count * spec.rounds,
        )
  const chainId = BigInt(spec.chainId)
  const maxFeePerGas = BigInt(spec.maxFeePerGas)
  const maxPriorityFeePerGas = BigInt(spec.maxPriorityFeePerGas)
  const gasLimit = BigInt(spec.gasLimit)
  const token = spec.token === undefined ? undefined : hexToBytes(spec.token as `0x${string}`)
  const empty = new Uint8Array(0)
  const raws: string[] = []
  const lastHashes: string[] = []
  // Round-robin: round r holds every sender's nonce startNonce + r, so consecutive nonces of one
  // sender are `senders.count` txs apart and reordering between in-flight requests stays small.
  for (let r = 0; r < spec.rounds; r++) {
    for (let i = 0; i < senders.length; i++) {
      const s = senders[i]!
      const rcpt = shared
        ? recipients[(i + r + 1) % recipients.length]!
        : recipients[(r * senders.length + i) % recipients.length]!
      if (spec.dummy === true) {
        raws.push(
          '0x02f86c8218c680808477359400825208940000000000000000000000000000000000000000018080c080a0' +
            '11'.repeat(32) +
            'a0' +
            '22'.repeat(32),
        )
        continue
      }
      const raw = signNative(
        {
          chainId,
          nonce: spec.startNonce + r,
          maxPriorityFeePerGas,
          maxFeePerGas,
          gasLimit,
          to: spec.kind === 'erc20' ? token! : rcpt.address,
          value: spec.kind === 'erc20' ? 0n : 1n,
          data: spec.kind === 'erc20' ? erc20Transfer(rcpt.address, 1n) : empty,
        },
        s.privateKey,
      )
      raws.push(toHexString(raw))
      if (r === spec.rounds - 1) lastHashes.push(txHash(raw))
    }
  }
  const bodies: Buffer[] = []
  const bodyStart: number[] = []
  for (let i = 0; i < raws.length; i += spec.batchSize) {
    bodyStart.push(i)
    bodies.push(bodyOf(raws, i, Math.min(raws.length, i + spec.batchSize), 'eth_sendRawTransaction'))
  }
  return { spec, raws, bodies, bodyStart, lastHashes }
}

/** "nonce too low: next nonce 5, tx nonce 3" → "nonce too low: next nonce N, tx nonce N" */
function normalize(message: string): string {
  return message
    .replace(/0x[0-9a-fA-F]+/g, '0x…')
    .replace(/\d+/g, 'N')
    .slice(0, 120)
}

const RETRYABLE =
  /txpool is full|nonce too high|account limit|missing from batch|timed out|ECONNRESET|EPIPE|socket hang up|HTTP 5|too many|rate limit|exceeds|queue/i
const DONE_ALREADY = /already known|already imported|nonce too low/i

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

let stopRequested = false

async function run(p: Prepared): Promise<LoadReport> {
  const { spec } = p
  const rpc = new RpcClient(spec.url, Math.max(1, spec.concurrency))
  const errors: Record<string, number> = {}
  const requestMs: number[] = []
  let accepted = 0
  let sent = 0
  let retried = 0
  let requests = 0
  let lastResponseMs = 0
  let lastSubmitMs = 0
  const retry: number[] = [] // tx indices
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const firstSubmitMs = performance.timeOrigin + t0

  const handle = (text: string | undefined, from: number, to: number, firstAttempt: boolean, indices?: number[]): void => {
    const idx = (k: number): number => (indices === undefined ? from + k : indices[k]!)
    const n = indices === undefined ? to - from : indices.length
    if (text === undefined) {
      for (let k = 0; k < n; k++) retry.push(idx(k))
      errors['request failed'] = (errors['request failed'] ?? 0) + 1
      return
    }
    let res: Array<RpcResponse<string>>
    try {
      const parsed = JSON.parse(text) as Array<RpcResponse<string>> | RpcResponse<string>
      if (!Array.isArray(parsed)) throw new Error(parsed.error?.message ?? 'not a batch response')
      res = parsed
    } catch (e) {
      const key = `batch: ${normalize(e instanceof Error ? e.message : String(e))}`
      errors[key] = (errors[key] ?? 0) + 1
      for (let k = 0; k < n; k++) retry.push(idx(k))
      return
    }
    const byId = res.length === n && res.every((r, k) => r.id === idx(k)) ? undefined : new Map(res.map((r) => [r.id, r]))
    for (let k = 0; k < n; k++) {
      const i = idx(k)
      const r = byId === undefined ? res[k]! : byId.get(i)
      if (r !== undefined && r.error === undefined) {
        accepted++
        continue
      }
      const message = r?.error?.message ?? 'missing from batch response'
      const key = normalize(message)
      errors[key] = (errors[key] ?? 0) + 1
      if (!firstAttempt && DONE_ALREADY.test(message)) accepted++
      else if (RETRYABLE.test(message) && spec.mode === 'max') retry.push(i)
    }
  }

  const post = async (body: Buffer): Promise<string | undefined> => {
    const t = performance.now()
    requests++
    lastSubmitMs = performance.timeOrigin + t
    try {
      const text = await rpc.postRaw(body, 120_000)
      requestMs.push(performance.now() - t)
      lastResponseMs = performance.timeOrigin + performance.now()
      return text
    } catch {
      return undefined
    }
  }

  if (spec.mode === 'max') {
    let next = 0
    const lane = async (): Promise<void> => {
      while (!stopRequested) {
        const b = next++
        if (b >= p.bodies.length) return
        const from = p.bodyStart[b]!
        const to = Math.min(p.raws.length, from + spec.batchSize)
        sent += to - from
        handle(await post(p.bodies[b]!), from, to, true)
      }
    }
    await Promise.all(Array.from({ length: spec.concurrency }, lane))
    const deadline = performance.now() + spec.retryDeadlineMs
    while (retry.length > 0 && !stopRequested && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
      const batch = retry.splice(0, retry.length).sort((a, b) => a - b)
      retried += batch.length
      for (let k = 0; k < batch.length; k += spec.batchSize) {
        const indices = batch.slice(k, k + spec.batchSize)
        const body = Buffer.from(
          `[${indices.map((i) => `{"jsonrpc":"2.0","id":${i},"method":"eth_sendRawTransaction","params":["${p.raws[i]}"]}`).join(',')}]`,
        )
        handle(await post(body), 0, 0, false, indices)
      }
    }
  } else {
    const rate = spec.rate ?? 100
    const intervalMs = (spec.batchSize / rate) * 1000
    const inflight = new Set<Promise<void>>()
    for (let b = 0; b < p.bodies.length && !stopRequested; b++) {
      const due = t0 + b * intervalMs
      const wait = due - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      if (inflight.size >= 256) await Promise.race(inflight)
      const from = p.bodyStart[b]!
      const to = Math.min(p.raws.length, from + spec.batchSize)
      sent += to - from
      const pr: Promise<void> = post(p.bodies[b]!).then((text) => {
        handle(text, from, to, true)
        inflight.delete(pr)
      })
      inflight.add(pr)
    }
    await Promise.all(inflight)
  }
  const cpu = process.cpuUsage(cpu0)
  rpc.close()
  requestMs.sort((a, b) => a - b)
  return {
    txs: p.raws.length,
    sent,
    accepted,
    errors,
    retried,
    failed: p.raws.length - accepted,
    firstSubmitMs,
    lastSubmitMs,
    lastResponseMs,
    requests,
    requestMs: {
      p50: Number(percentile(requestMs, 50).toFixed(2)),
      p99: Number(percentile(requestMs, 99).toFixed(2)),
      max: Number((requestMs.at(-1) ?? 0).toFixed(2)),
    },
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wallSeconds: (performance.now() - t0) / 1000,
    lastHashes: p.lastHashes,
  }
}

let prepared: Prepared | undefined
process.on('message', (msg: ToChild) => {
  void (async () => {
    try {
      if (msg.type === 'prepare') {
        const t = performance.now()
        prepared = prepare(msg.spec)
        send({
          type: 'ready',
          txs: prepared.raws.length,
          bodies: prepared.bodies.length,
          prepMs: performance.now() - t,
          bodyBytes: prepared.bodies.reduce((a, b) => a + b.length, 0),
        })
      } else if (msg.type === 'go') {
        if (prepared === undefined) throw new Error('go before prepare')
        const report = await run(prepared)
        send({ type: 'done', report })
      } else if (msg.type === 'stop') {
        stopRequested = true
      }
    } catch (error) {
      send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
    }
  })()
})
process.on('disconnect', () => process.exit(0))
