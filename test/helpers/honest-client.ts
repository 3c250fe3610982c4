/**
 * An honest client watching a node while an attack runs: what "other clients are still served"
 * means, measured from the outside.
 * - `eth_blockNumber` over HTTP in a loop: latency of each call;
 * - transfers sent with `eth_sendRawTransactionSync` one after the other: send→receipt latency, and
 *   the hash of every transaction whose receipt the client received (to check none is lost later);
 * - a WebSocket `miniBlocks` subscription: when each mini-block arrived (the chain keeps moving);
 * - the node's resident memory (VmRSS from /proc), sampled throughout: baseline and peak.
 * Failures (errors, timeouts, a closed subscription) are collected, never thrown, so the attack
 * and the watch run side by side and the test asserts on the summary.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { DEV_CHAIN_ID, WsRpc, rpc } from './node-process.ts'
import type { NodeHandle } from './node-process.ts'
import { rssMb } from './node-observations.ts'

/** The q-quantile (0..1) of `values` (nearest rank); 0 for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

export interface HonestSummary {
  blockNumberMs: number[]
  receiptMs: number[]
  /** The transactions whose receipt came back (acknowledged), as the receipt said. */
  acknowledged: Array<{ transactionHash: Hex; status: Hex }>
  /** Arrival times (performance.now) of miniBlocks notifications. */
  miniBlockArrivals: number[]
  rssBaselineMb: number
  rssPeakMb: number
  /** eth_sendRawTransactionSync answers "no receipt yet" (code 4): waited out, counted in `receiptMs`. */
  syncTimeouts: number
  failures: string[]
}

export interface HonestClient {
  /** Stops every loop and returns what was measured since `startHonestClient`. */
  stop(): Promise<HonestSummary>
  /** A snapshot of the measurements so far (the loops keep running). */
  snapshot(): HonestSummary
}

const CALL_TIMEOUT_MS = 10_000

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Starts the watch; `key` funds the honest transfers (use a dev key no other part of the test uses). */
export async function startHonestClient(node: NodeHandle, key: Hex): Promise<HonestClient> {
  const account = privateKeyToAccount(key)
  const summary: HonestSummary = {
    blockNumberMs: [],
    receiptMs: [],
    acknowledged: [],
    miniBlockArrivals: [],
    rssBaselineMb: rssMb(node.pid),
    rssPeakMb: 0,
    syncTimeouts: 0,
    failures: [],
  }
  summary.rssPeakMb = summary.rssBaselineMb
  let running = true

  const ws = await WsRpc.connect(node.wsUrl)
  await ws.subscribe(['miniBlocks'], () => summary.miniBlockArrivals.push(performance.now()))

  const timed = async <T>(what: string, into: number[], call: () => Promise<T>): Promise<T | undefined> => {
    const started = performance.now()
    try {
      const value = await call()
      into.push(performance.now() - started)
      return value
    } catch (error) {
      summary.failures.push(`${what}: ${describe(error)} after ${Math.round(performance.now() - started)} ms`)
      return undefined
    }
  }

  const post = async (method: string, params: unknown[]): Promise<unknown> => {
    const res = await fetch(node.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    })
    const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string } }
    if (body.error !== undefined) throw new Error(`${method}: [${body.error.code}] ${body.error.message}`)
    return body.result
  }

  const blockNumberLoop = (async () => {
    while (running) {
      await timed('eth_blockNumber', summary.blockNumberMs, () => post('eth_blockNumber', []))
      await sleep(50)
    }
  })()

  let nonce = Number(await rpc<Hex>(node.rpcUrl, 'eth_getTransactionCount', [account.address, 'pending']))
  const transferLoop = (async () => {
    while (running) {
      const raw = await account.signTransaction({
        chainId: DEV_CHAIN_ID,
        to: account.address,
        value: 1n,
        nonce,
        gas: 21_000n,
        maxFeePerGas: 10_000_000_000n,
        maxPriorityFeePerGas: 0n,
      })
      const sent = performance.now()
      let receipt: { transactionHash: Hex; status: Hex } | undefined
      try {
        receipt = (await post('eth_sendRawTransactionSync', [raw])) as { transactionHash: Hex; status: Hex }
        summary.receiptMs.push(performance.now() - sent)
      } catch (error) {
        const elapsed = performance.now() - sent
        if (/\[4\]/.test(describe(error))) {
          // EIP-7966's timeout: accepted into the pool, no receipt within the node's sync timeout. Slow,
          // not failed: it counts as a latency sample of what the client waited (the p99 shows it).
          summary.receiptMs.push(elapsed)
          summary.syncTimeouts++
        } else {
          summary.failures.push(`eth_sendRawTransactionSync: ${describe(error)} after ${Math.round(elapsed)} ms`)
        }
      }
      if (receipt !== undefined) {
        summary.acknowledged.push({ transactionHash: receipt.transactionHash, status: receipt.status })
        nonce++
      } else {
        // Unknown whether it landed: resynchronize the nonce before the next one.
        nonce = Number(await rpc<Hex>(node.rpcUrl, 'eth_getTransactionCount', [account.address, 'pending']).catch(() => nonce))
      }
      await sleep(100)
    }
  })()

  const rssLoop = (async () => {
    while (running) {
      if (!node.exited) summary.rssPeakMb = Math.max(summary.rssPeakMb, rssMb(node.pid))
      await sleep(100)
    }
  })()

  const copy = (): HonestSummary => ({
    ...summary,
    blockNumberMs: [...summary.blockNumberMs],
    receiptMs: [...summary.receiptMs],
    acknowledged: [...summary.acknowledged],
    miniBlockArrivals: [...summary.miniBlockArrivals],
    failures: [...summary.failures],
  })

  return {
    snapshot: copy,
    async stop() {
      running = false
      await Promise.all([blockNumberLoop, transferLoop, rssLoop])
      if (ws.closed !== undefined) summary.failures.push(`miniBlocks subscription closed: ${ws.closed.code} ${ws.closed.reason}`)
      await ws.close()
      return copy()
    },
  }
}
