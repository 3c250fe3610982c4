/**
 * Issue 22, item 1: a looping eth_call froze the sequencer (13–22 s without a mini-block, eth_chainId
 * waiting as long). Calls now run in worker threads with a wall-clock limit (geth's
 * --rpc.evmtimeout) and a per-client bound. Against a real `--dev` sequencer: mini-blocks keep their
 * cadence and eth_chainId answers while looping calls run, each call ends with geth's timeout error,
 * and a client over its bound is refused while another client is served.
 *
 * The node's limits are set through environment variables, so the same test runs (and fails on the
 * freeze, not on an unknown flag) against a node without them.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hexToBigInt, type Hex } from 'viem'
import { devGenesis } from '../../src/chain/genesis.ts'
import { rpc, rpcRaw, startNode, WsRpc, type NodeHandle, type RpcResponse } from '../helpers/node-process.ts'

/** JUMPDEST; PUSH1 0; JUMP: loops until the gas runs out. */
const JUMPDEST_LOOP = '0x5b600056'
/** The same loop with an MSTORE in it (slower per gas: ~80 s of main thread before). */
const MSTORE_LOOP = '0x5b6001600052600056'
/** A dev account without code: a call to it answers `0x` at once. */
const EOA = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8'
const TIMEOUT_MESSAGE = 'execution aborted (timeout = 1s)'
/** The bar: p99 of the intervals between consecutive mini-blocks while a call runs. */
const P99_LIMIT_MS = 25
/**
 * When the machine is so loaded that the idle node itself misses the bar, the bar becomes this
 * multiple of its idle p99: still far below the 13 s freeze this test exists for.
 */
const IDLE_MARGIN = 3
/** eth_chainId must answer well within this while a call runs (it waited 14 s before). */
const CHAIN_ID_LIMIT_MS = 500

let node: NodeHandle
let genesisDir: string

before(async () => {
  // The dev chain on Prague without Osaka: Osaka's per-transaction cap (EIP-7825, 2^24 gas) also bounds a call, and
  // these loops burn 2^24 gas in under a second; the time limit is what must stop a call on a chain without that
  // cap, so the node here runs one, with a gas cap as large as its blocks (what the loop got before: the block's limit).
  genesisDir = await mkdtemp(join(tmpdir(), 'megaeth-call-isolation-'))
  const genesis = devGenesis()
  const { osakaTime: _osaka, ...pragueOnly } = genesis.config
  const genesisFile = join(genesisDir, 'genesis.json')
  await writeFile(genesisFile, JSON.stringify({ ...genesis, config: pragueOnly }))
  node = await startNode({
    env: {
      MEGAETH_GENESIS: genesisFile,
      MEGAETH_RPC_GASCAP: '2000000000',
      MEGAETH_RPC_EVMTIMEOUT: '1s',
      MEGAETH_RPC_CALL_WORKERS: '3',
      MEGAETH_RPC_CALLS_PER_CLIENT: '2',
    },
  })
  // Answered once the call workers have booted (start-up does not wait for them).
  await rpc(node.rpcUrl, 'eth_call', [{ to: EOA }, 'latest'])
})

after(async () => {
  await node?.stop()
  await rm(genesisDir, { recursive: true, force: true })
})

/** Sorted intervals between consecutive µs timestamps, in ms. */
function intervalsOf(timestampsUs: readonly number[]): number[] {
  return timestampsUs
    .slice(1)
    .map((us, i) => (us - timestampsUs[i]!) / 1000)
    .sort((a, b) => a - b)
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

/** A JSON-RPC call over HTTP from a chosen loopback source address: another client, as the node sees it. */
function rpcFrom(localAddress: string, method: string, params: unknown[]): Promise<RpcResponse> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })
  const url = new URL(node.rpcUrl)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/',
        localAddress,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve(JSON.parse(text) as RpcResponse))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

describe('a looping call does not stall the node', () => {
  const cases: Array<[string, string, unknown[]]> = [
    ['eth_call, JUMPDEST loop', 'eth_call', [{ data: JUMPDEST_LOOP }, 'latest']],
    ['eth_call, MSTORE loop', 'eth_call', [{ data: MSTORE_LOOP }, 'latest']],
    ['eth_estimateGas, MSTORE loop', 'eth_estimateGas', [{ data: MSTORE_LOOP }, 'latest']],
  ]
  for (const [name, method, params] of cases) {
    test(`${name}: mini-blocks keep their cadence, eth_chainId answers, the call ends with "${TIMEOUT_MESSAGE}"`, async (t) => {
      const ws = await WsRpc.connect(node.wsUrl)
      try {
        const subscription = await ws.subscribe(['miniBlocks'])
        const producedBetween = (fromUs: number, toUs: number) =>
          (ws.resultsOf(subscription) as Array<{ mini_block_timestamp: Hex }>)
            .map((mb) => Number(hexToBigInt(mb.mini_block_timestamp)))
            .filter((us) => us >= fromUs && us <= toUs)
        // The same node idle for a second first: on a loaded machine the bar is what it manages idle.
        const idleFromUs = Date.now() * 1000
        await new Promise((resolve) => setTimeout(resolve, 1_000))
        const idleP99 = percentile(intervalsOf(producedBetween(idleFromUs, Date.now() * 1000)), 99)
        const bar = Math.max(P99_LIMIT_MS, IDLE_MARGIN * idleP99)

        const startedUs = Date.now() * 1000
        const call = rpcRaw(node.rpcUrl, method, params)
        let settled = false
        void call.finally(() => (settled = true))
        const chainIdMs: number[] = []
        while (!settled) {
          const sent = performance.now()
          assert.equal(await rpc<Hex>(node.rpcUrl, 'eth_chainId'), '0x18c6')
          chainIdMs.push(performance.now() - sent)
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        const response = await call
        const endedUs = Date.now() * 1000
        await new Promise((resolve) => setTimeout(resolve, 100))
        // The node's own timestamps of the mini-blocks it produced while the call ran.
        const produced = producedBetween(startedUs, endedUs)
        const intervalsMs = intervalsOf(produced)
        const p99 = percentile(intervalsMs, 99)
        const windowMs = (endedUs - startedUs) / 1000
        const context = `call took ${windowMs.toFixed(0)} ms; ${produced.length} mini-blocks, p99 interval ${p99.toFixed(1)} ms, longest ${intervalsMs.at(-1)?.toFixed(1)} ms (idle p99 ${idleP99.toFixed(1)} ms); eth_chainId max ${Math.max(...chainIdMs).toFixed(0)} ms`
        t.diagnostic(context)

        assert.deepEqual(response.error, { code: -32000, message: TIMEOUT_MESSAGE }, context)
        assert.ok(windowMs >= 950 && windowMs < 3_000, `answered at the 1 s limit: ${context}`)
        assert.ok(p99 < bar, `p99 interval under ${bar.toFixed(1)} ms: ${context}`)
        assert.ok(
          chainIdMs.length >= 3 && Math.max(...chainIdMs) < CHAIN_ID_LIMIT_MS,
          `eth_chainId answered promptly: ${context}`,
        )
      } finally {
        await ws.close()
      }
    })
  }

  test('eth_estimateGas on the JUMPDEST loop ends: out of gas at the 50M cap, or the limit on a slow machine', async () => {
    const response = await rpcRaw(node.rpcUrl, 'eth_estimateGas', [{ data: JUMPDEST_LOOP }, 'latest'])
    assert.ok(
      response.error?.message === 'gas required exceeds allowance (50000000)' || response.error?.message === TIMEOUT_MESSAGE,
      JSON.stringify(response),
    )
  })
})

describe('per-client bound on concurrent calls', () => {
  test('a client over its bound gets -32005 at once while another client still gets answers', async () => {
    // Client A (127.0.0.1) holds two looping calls, its bound; a third is refused.
    const loops = [0, 1].map(() => rpcFrom('127.0.0.1', 'eth_call', [{ data: JUMPDEST_LOOP }, 'latest']))
    await new Promise((resolve) => setTimeout(resolve, 100))
    const refusedAt = performance.now()
    const refused = await rpcFrom('127.0.0.1', 'eth_call', [{ data: JUMPDEST_LOOP }, 'latest'])
    assert.equal(refused.error?.code, -32005, JSON.stringify(refused))
    assert.match(refused.error?.message ?? '', /too many concurrent calls from this client \(limit 2\)/)
    assert.ok(performance.now() - refusedAt < 500, 'refused at once, not after a wait')

    // Client B (127.0.0.2, another address on loopback) is served at once: A never holds every worker.
    const servedAt = performance.now()
    const served = await rpcFrom('127.0.0.2', 'eth_call', [{ to: EOA }, 'latest'])
    const servedMs = performance.now() - servedAt
    assert.equal(served.error, undefined, JSON.stringify(served))
    assert.equal(typeof served.result, 'string')
    assert.ok(servedMs < 800, `another client's call answered in ${servedMs.toFixed(0)} ms, before A's calls hit their 1 s limit`)

    for (const response of await Promise.all(loops)) assert.deepEqual(response.error, { code: -32000, message: TIMEOUT_MESSAGE })
    // A's slots are free again.
    const after = await rpcFrom('127.0.0.1', 'eth_call', [{ to: EOA }, 'latest'])
    assert.equal(after.error, undefined, JSON.stringify(after))
  })
})
