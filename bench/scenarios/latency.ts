/**
 * `latency`: round trip of eth_sendRawTransactionSync (EIP-7966: the call returns the receipt),
 * one call at a time from one sender, first on an idle server, then under a ~500 tx/s background
 * load. anvil 1.7.1 implements eth_sendRawTransactionSync too (checked at run time; if a server
 * lacks it, the fallback is eth_sendRawTransaction + eth_getTransactionReceipt polled every 2 ms).
 */
import { RpcClient, RpcCallError } from '../lib/rpc.ts'
import { startServer, type ServerKind, type Server } from '../lib/servers.ts'
import { sleep, summarize, type Summary } from '../lib/stats.ts'
import { fundAccounts, sign, type SignedTx } from '../load/fund.ts'
import { startBackground, prepareBackground } from './background.ts'
import { fmt, round, type BenchContext } from './context.ts'

export interface LatencyResult {
  server: string
  command: string
  method: string
  idleMs: Summary
  loadedMs: Summary
  backgroundTps: number
  backgroundRejected: number
  timeouts: number
  peakRssMb: number
}

async function measure(
  server: Server,
  rpc: RpcClient,
  txs: SignedTx[],
  mode: 'sync' | 'poll',
  timeoutMs: number,
): Promise<{ ms: number[]; timeouts: number }> {
  const ms: number[] = []
  let timeouts = 0
  for (const tx of txs) {
    const t = performance.now()
    if (mode === 'sync') {
      try {
        // No timeout argument: anvil 1.7.1 accepts only [rawTx]; megaeth-node then waits its default 2 s.
        const rc = await rpc.call<{ status: string } | null>('eth_sendRawTransactionSync', [tx.raw], timeoutMs + 5_000)
        if (rc?.status !== '0x1') throw new Error(`tx ${tx.hash} failed: ${JSON.stringify(rc)}`)
      } catch (error) {
        if (error instanceof RpcCallError && error.code === 4) {
          timeouts++
          continue
        }
        throw error
      }
    } else {
      await rpc.call('eth_sendRawTransaction', [tx.raw])
      while ((await rpc.call<unknown>('eth_getTransactionReceipt', [tx.hash])) === null) await sleep(2)
    }
    ms.push(performance.now() - t)
  }
  void server
  return { ms, timeouts }
}

export async function runLatency(ctx: BenchContext, kind: ServerKind): Promise<LatencyResult> {
  const { log } = ctx
  const idleN = ctx.quick ? 100 : 200
  const loadedN = ctx.quick ? 200 : 500
  const rate = 500
  log(`  [${kind}] starting server`)
  const server = await startServer(kind, 'latency', ctx.serverOpts)
  const rpc = new RpcClient(server.rpcUrl, 1)
  try {
    const [sender] = await fundAccounts(server, 'latency-fg', 1, 10n ** 18n)
    const txs: SignedTx[] = []
    for (let n = 0; n < idleN + loadedN + 20; n++)
      txs.push(sign(server, sender!, { nonce: n, gasLimit: 21_000n, to: sender!.address, value: 0n, data: new Uint8Array(0) }))
    // Longest expected run: loadedN calls at ≤ 60 ms each, plus warm-up.
    const bgPool = await prepareBackground(server, 'latency-bg', rate, Math.ceil(loadedN * 0.06 + 15))
    let mode: 'sync' | 'poll' = 'sync'
    try {
      await rpc.call('eth_sendRawTransactionSync', [txs[0]!.raw], 15_000)
    } catch (error) {
      if (error instanceof RpcCallError && (error.code === -32601 || error.code === -32004)) {
        mode = 'poll'
        log(`    ${kind} has no eth_sendRawTransactionSync (${error.message}): using send + receipt polling`)
        await rpc.call('eth_sendRawTransaction', [txs[0]!.raw])
      } else throw error
    }
    // warm-up
    await measure(server, rpc, txs.slice(1, 20), mode, 10_000)
    const idle = await measure(server, rpc, txs.slice(20, 20 + idleN), mode, 10_000)
    const idleMs = summarize(idle.ms)
    log(
      `    idle: ${idleN} × ${mode === 'sync' ? 'eth_sendRawTransactionSync' : 'send+poll'}: p50 ${idleMs.p50} ms, p99 ${idleMs.p99} ms`,
    )
    const bg = startBackground(bgPool)
    await sleep(1_000)
    const loaded = await measure(server, rpc, txs.slice(20 + idleN), mode, 10_000)
    const bgRep = await bg.stop()
    const bgTps = Math.round(bgRep.accepted / ((bgRep.lastSubmitMs - bgRep.firstSubmitMs) / 1000))
    const loadedMs = summarize(loaded.ms)
    log(
      `    under ~${rate} tx/s background (${fmt(bgTps)} tx/s achieved): p50 ${loadedMs.p50} ms, p99 ${loadedMs.p99} ms${loaded.timeouts + idle.timeouts > 0 ? `, ${loaded.timeouts + idle.timeouts} timeouts` : ''}`,
    )
    const rejected = Object.values(bgRep.errors).reduce((a, b) => a + b, 0)
    if (rejected > 0) log(`    background rejections: ${JSON.stringify(bgRep.errors)}`)
    return {
      server: server.label,
      command: server.command,
      method: mode === 'sync' ? 'eth_sendRawTransactionSync' : 'eth_sendRawTransaction + eth_getTransactionReceipt poll (2 ms)',
      idleMs,
      loadedMs,
      backgroundTps: bgTps,
      backgroundRejected: rejected,
      timeouts: idle.timeouts + loaded.timeouts,
      peakRssMb: round(server.peakRssKb() / 1024, 1),
    }
  } finally {
    rpc.close()
    await server.stop()
  }
}
