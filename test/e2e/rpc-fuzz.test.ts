/**
 * Property-based hostile input against a real `--dev` sequencer (issue 22): every registered method
 * (the node's own `rpc_methods` list) gets generated parameters — wrong types, huge and negative
 * numbers, long strings, deep nesting, nulls, extra params — alone and in batches, plus the
 * reproductions of the bugs (filters, fee-history percentiles and response size, storage
 * keys, receipt lookups, a burst of HTTP requests). Throughout:
 * - no answer is -32603, and every response is well-formed JSON-RPC 2.0 (id echoed, exactly one of
 *   result/error, an integer code and a string message);
 * - `/healthz` is polled in parallel and always answers within 1 s;
 * - the node's RSS (VmRSS) grows by less than 150 MB.
 * Fixed seed (printed; `RPC_FUZZ_SEED` overrides it) and bounded runs keep it well under 2 minutes.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import fc from 'fast-check'
import { keccak256, numberToHex, padHex, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { DEV_CHAIN_ID, DEV_KEYS, postRaw, rpc, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'
import { setTimeout as sleep } from 'node:timers/promises'
import { rssMb } from '../helpers/node-observations.ts'

const SEED = Number(process.env['RPC_FUZZ_SEED'] ?? 22_2026)
/** Generated parameter lists per registered method, and generated batches. */
const RUNS_PER_METHOD = 12
const BATCH_RUNS = 25
const RESPONSE_LIMIT = 1_000_000
const RSS_GROWTH_LIMIT_MB = 150
const HEALTH_DEADLINE_MS = 1_000

let node: NodeHandle
let methods: string[] = []
let nextId = 1

// --- health and memory, watched in parallel ------------------------------------------------------

interface Watch {
  stop(): Promise<{ probes: number; slowest: number; failures: string[]; rssBaseline: number; rssPeak: number }>
}

function watchNode(target: NodeHandle): Watch {
  const rssBaseline = rssMb(target.pid)
  let rssPeak = rssBaseline
  let probes = 0
  let slowest = 0
  const failures: string[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      const started = performance.now()
      try {
        const res = await fetch(`${target.rpcUrl}/healthz`, { signal: AbortSignal.timeout(HEALTH_DEADLINE_MS) })
        await res.text()
        if (res.status !== 200) failures.push(`healthz answered ${res.status}`)
      } catch (error) {
        failures.push(
          `healthz: ${error instanceof Error ? error.message : String(error)} after ${Math.round(performance.now() - started)} ms`,
        )
      }
      const elapsed = performance.now() - started
      probes++
      slowest = Math.max(slowest, elapsed)
      if (elapsed > HEALTH_DEADLINE_MS) failures.push(`healthz took ${Math.round(elapsed)} ms`)
      if (!target.exited) rssPeak = Math.max(rssPeak, rssMb(target.pid))
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return { probes, slowest, failures, rssBaseline, rssPeak }
    },
  }
}

// --- well-formedness ---------------------------------------------------------------------------

interface Request {
  jsonrpc: '2.0'
  id: number
  method: string
  params: unknown[]
}

function request(method: string, params: unknown[]): Request {
  return { jsonrpc: '2.0', id: nextId++, method, params }
}

/** Checks one response object against its request; returns what is wrong with it, or undefined. */
function problem(req: Request, value: unknown): string | undefined {
  const where = `${req.method}(${JSON.stringify(req.params).slice(0, 200)})`
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `${where}: not an object: ${JSON.stringify(value)?.slice(0, 200)}`
  const r = value as Record<string, unknown>
  if (r['jsonrpc'] !== '2.0') return `${where}: jsonrpc is ${JSON.stringify(r['jsonrpc'])}`
  if (r['id'] !== req.id) return `${where}: id ${JSON.stringify(r['id'])}, sent ${req.id}`
  if ('result' in r === 'error' in r) return `${where}: needs exactly one of result and error: ${JSON.stringify(r).slice(0, 200)}`
  if ('error' in r) {
    const e = r['error'] as Record<string, unknown> | null
    if (typeof e !== 'object' || e === null) return `${where}: error is not an object`
    if (!Number.isInteger(e['code'])) return `${where}: error code ${JSON.stringify(e['code'])} is not an integer`
    if (typeof e['message'] !== 'string') return `${where}: error message is not a string`
    if (e['code'] === -32603) return `${where}: -32603 ${String(e['message'])}`
  }
  return undefined
}

/** Sends one request or a batch; asserts every response is well-formed and none is -32603; returns them. */
async function send(body: Request | Request[]): Promise<Record<string, unknown>[]> {
  const { status, text } = await postRaw(node.rpcUrl, JSON.stringify(body))
  assert.equal(status, 200, `HTTP ${status}: ${text.slice(0, 300)}`)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    assert.fail(`not JSON: ${text.slice(0, 300)}`)
  }
  const requests = Array.isArray(body) ? body : [body]
  const responses = Array.isArray(body) ? parsed : [parsed]
  assert.ok(
    Array.isArray(responses) && responses.length === requests.length,
    `expected ${requests.length} responses, got ${text.slice(0, 300)}`,
  )
  const wrong = requests.map((req, i) => problem(req, responses[i])).filter((p): p is string => p !== undefined)
  assert.deepEqual(wrong, [], wrong.join('\n'))
  return responses as Record<string, unknown>[]
}

// --- generators ----------------------------------------------------------------------------------

const hexOf = (bytes: Uint8Array): string => `0x${Buffer.from(bytes).toString('hex')}`
const nested = (depth: number): unknown => {
  let value: unknown = 1
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value }
  return value
}

/** One parameter value: plausible ones (so handlers get past their first check) and hostile ones. */
const param: fc.Arbitrary<unknown> = fc.oneof(
  // plausible
  fc.constantFrom('latest', 'pending', 'earliest', 'safe', 'finalized', '0x0', '0x1', '0x00', '0x01', '0x', true, false),
  fc.bigInt({ min: 0n, max: (1n << 300n) - 1n }).map((n) => `0x${n.toString(16)}`),
  fc.uint8Array({ minLength: 0, maxLength: 40 }).map(hexOf),
  fc.uint8Array({ minLength: 20, maxLength: 20 }).map(hexOf),
  fc.uint8Array({ minLength: 32, maxLength: 33 }).map(hexOf),
  fc.record(
    {
      from: fc.uint8Array({ minLength: 20, maxLength: 20 }).map(hexOf),
      to: fc.oneof(fc.uint8Array({ minLength: 20, maxLength: 20 }).map(hexOf), fc.constant(null)),
      // Random code, looping included: bounded by the node's --rpc.gascap below.
      data: fc.uint8Array({ maxLength: 64 }).map(hexOf),
      gas: fc.bigInt({ min: 0n, max: 1n << 70n }).map((n) => `0x${n.toString(16)}`),
      value: fc.bigInt({ min: 0n, max: 1n << 260n }).map((n) => `0x${n.toString(16)}`),
      fromBlock: fc.constantFrom('0x0', 'latest', 'earliest', '0x1'),
      toBlock: fc.constantFrom('latest', 'pending', '0xffffffffffff'),
      address: fc.array(fc.uint8Array({ minLength: 20, maxLength: 20 }).map(hexOf), { maxLength: 3 }),
      topics: fc.array(fc.oneof(fc.constant(null), fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hexOf)), { maxLength: 5 }),
    },
    { requiredKeys: [] },
  ),
  fc.array(fc.double({ min: -10, max: 110, noNaN: true }), { maxLength: 120 }),
  // hostile
  fc.integer(),
  fc.constantFrom(-1, 2 ** 53 + 1, 1e300, -1e300, 0.5, Number.MAX_SAFE_INTEGER, null),
  fc.string({ maxLength: 200 }),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => `0x${'f'.repeat(n)}`),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 10, max: 3_000 }).map(nested),
  fc.jsonValue({ maxDepth: 4 }),
)

const params = fc.array(param, { maxLength: 5 })

// --- the suite -----------------------------------------------------------------------------------

let watch: Watch

before(async () => {
  console.log(`rpc-fuzz seed ${SEED} (set RPC_FUZZ_SEED to replay another)`)
  // A modest gas cap: random call data can loop, and eth_call / eth_estimateGas / eth_createAccessList run on
  // the main thread until issue 22's item 1 (--rpc.evmtimeout) lands; 1,000,000 gas ends any loop in milliseconds.
  node = await startNode({ args: ['--rpc.gascap=1000000', `--rpc.response-limit=${RESPONSE_LIMIT}`, '--log.level=warn'] })
  const listed = await rpc<{ methods: string[] }>(node.rpcUrl, 'rpc_methods')
  methods = listed.methods
  assert.ok(methods.length > 40, `rpc_methods lists ${methods.length} methods`)
  console.log(`fuzzing ${methods.length} methods × ${RUNS_PER_METHOD} parameter lists, then ${BATCH_RUNS} batches`)
  // Two sealed blocks, so block-number and fee-history paths see a chain.
  await waitFor('block 2', async () => BigInt(await rpc<Hex>(node.rpcUrl, 'eth_blockNumber')) >= 2n, 30_000)
  watch = watchNode(node)
})

after(async () => {
  await node?.stop()
})

// First, while no generated call has installed a filter yet: the count below is exact.
test('reproduction, filters: installs past the per-client cap are -32005, not memory', async () => {
  const batch = Array.from({ length: 400 }, () => request('eth_newBlockFilter', []))
  const answers = [
    ...(await send(batch)),
    ...(await send(batch.map(() => request('eth_newPendingTransactionFilter', [])))),
    ...(await send(batch.map(() => request('eth_newBlockFilter', [])))),
  ]
  const refused = answers.filter((a) => (a['error'] as { code?: number } | undefined)?.code === -32005)
  assert.equal(answers.length - refused.length, 1_000, 'the default cap of 1,000 filters per client')
  assert.match((refused[0]!['error'] as { message: string }).message, /^limit exceeded/)
  const ids = answers.map((a) => a['result']).filter((id): id is string => typeof id === 'string')
  for (let i = 0; i < ids.length; i += 250) await send(ids.slice(i, i + 250).map((id) => request('eth_uninstallFilter', [id])))
})

test('every registered method, with generated parameters, answers well-formed JSON-RPC and never -32603', async () => {
  for (const [i, method] of methods.entries()) {
    await fc.assert(
      fc.asyncProperty(params, async (p) => {
        await send(request(method, p))
      }),
      { seed: SEED + i, numRuns: RUNS_PER_METHOD },
    )
  }
})

test('generated batches: answered in order, item by item, never -32603', async () => {
  const call = fc.tuple(fc.constantFrom(...methods), params).map(([method, p]) => request(method, p))
  await fc.assert(
    fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 20 }), async (batch) => {
      await send(batch)
    }),
    { seed: SEED, numRuns: BATCH_RUNS },
  )
})

test('reproduction, eth_feeHistory: 50,000 percentiles are refused, a batch of them too, and a batch past the response limit is -32005', async () => {
  const zeros = new Array(50_000).fill(0)
  const [one] = await send(request('eth_feeHistory', ['0x400', 'latest', zeros]))
  assert.deepEqual(one!['error'], { code: -32602, message: 'invalid reward percentile: over the query limit 100' })
  const batch = await send(Array.from({ length: 22 }, () => request('eth_feeHistory', ['0x400', 'latest', zeros])))
  assert.ok(batch.every((r) => (r['error'] as { code: number }).code === -32602))
  // 100 percentiles over every block so far, in a batch that adds up to over the node's 1 MB response budget: as many
  // calls as that takes, within the 500-call batch limit (a young chain's answer is short: wait for a few blocks).
  const percentiles = Array.from({ length: 100 }, (_, i) => i)
  const feeHistory = () => request('eth_feeHistory', ['0x400', 'latest', percentiles])
  let oneSize = 0
  for (let attempt = 0; attempt < 60; attempt++) {
    oneSize = JSON.stringify((await send(feeHistory()))[0]).length
    if (oneSize * 400 > 1.5 * RESPONSE_LIMIT) break
    await sleep(500)
  }
  const calls = Math.min(500, Math.ceil((1.5 * RESPONSE_LIMIT) / oneSize))
  const big = await send(Array.from({ length: calls }, feeHistory))
  const tooLarge = big.filter((r) => (r['error'] as { code?: number } | undefined)?.code === -32005)
  assert.ok(tooLarge.length > 0, 'some calls of the batch are over the budget')
  assert.match((tooLarge[0]!['error'] as { message: string }).message, /^response too large/)
  assert.ok(
    big.some((r) => 'result' in r),
    'the calls within the budget are answered',
  )
})

test('reproduction, storage keys: 0x0, 0x01, 32-byte keys with leading zeros and keccak slots starting with 0', async () => {
  const address = '0x4e59b44847b379578588920ca78fbf26c0b4956c' // the CREATE2 deployer predeploy
  let mappingSlot: Hex = '0x'
  for (let i = 0n; !mappingSlot.startsWith('0x0'); i++) mappingSlot = keccak256(padHex(numberToHex(i), { size: 32 }))
  const keys = ['0x0', '0x01', padHex('0x1', { size: 32 }), mappingSlot]
  for (const key of keys) {
    const [r] = await send(request('eth_getStorageAt', [address, key, 'latest']))
    assert.equal(r!['result'], padHex('0x0', { size: 32 }), key)
  }
  const [long] = await send(request('eth_getStorageAt', [address, `0x${'f'.repeat(1_000_000)}`, 'latest']))
  assert.deepEqual(long!['error'], { code: -32602, message: 'invalid argument 1: storage key too long (want at most 32 bytes)' })
  const proof = await waitFor('a proof at the sealed head', async () => {
    const head = await rpc<Hex>(node.rpcUrl, 'eth_blockNumber')
    const [r] = await send(request('eth_getProof', [address, keys, head]))
    return 'result' in r! ? (r['result'] as { storageProof: { key: string }[] }) : undefined
  })
  assert.deepEqual(
    proof.storageProof.map((p) => p.key),
    ['0x0', '0x1', padHex('0x1', { size: 32 }), mappingSlot],
  )
})

test("reproduction, receipts: a transaction's receipt from its mini-block, then from its sealed block", async () => {
  const account = privateKeyToAccount(DEV_KEYS[7]!)
  const nonce = BigInt(await rpc<Hex>(node.rpcUrl, 'eth_getTransactionCount', [account.address, 'pending']))
  const raw = await account.signTransaction({
    chainId: DEV_CHAIN_ID,
    to: account.address,
    value: 1n,
    nonce: Number(nonce),
    gas: 21_000n,
    maxFeePerGas: 10_000_000_000n,
    maxPriorityFeePerGas: 0n,
  })
  const hash = keccak256(raw)
  const [sent] = await send(request('eth_sendRawTransactionSync', [raw]))
  assert.equal((sent!['result'] as { transactionHash: string }).transactionHash, hash)
  // Right away: usually from its mini-block (placeholder block hash), or already sealed.
  const [early] = await send(request('eth_getTransactionReceipt', [hash]))
  assert.equal((early!['result'] as { transactionHash: string } | null)?.transactionHash, hash)
  const sealed = await waitFor(
    'the receipt from the sealed block',
    async () => {
      const [r] = await send(request('eth_getTransactionReceipt', [hash]))
      const receipt = r!['result'] as { blockHash: Hex; blockNumber: Hex } | null
      return receipt !== null && !/^0x0{48}/.test(receipt.blockHash) ? receipt : undefined
    },
    10_000,
  )
  const block = await rpc<{ hash: Hex }>(node.rpcUrl, 'eth_getBlockByNumber', [sealed.blockNumber, false])
  assert.equal(sealed.blockHash, block.hash)
})

test('reproduction, HTTP requests: a burst of 3,000 leaves the node healthy', async () => {
  for (let i = 0; i < 3_000; i += 50) await Promise.all(Array.from({ length: 50 }, () => send(request('eth_chainId', []))))
})

test(`health answered within ${HEALTH_DEADLINE_MS} ms throughout; RSS grew by less than ${RSS_GROWTH_LIMIT_MB} MB`, async (t) => {
  const { probes, slowest, failures, rssBaseline, rssPeak } = await watch.stop()
  t.diagnostic(
    `${probes} /healthz probes, slowest ${Math.round(slowest)} ms; VmRSS ${Math.round(rssBaseline)} → peak ${Math.round(rssPeak)} MB`,
  )
  assert.equal(node.exited, false)
  assert.ok(probes > 10, `${probes} probes`)
  assert.deepEqual(failures, [])
  assert.ok(
    rssPeak - rssBaseline < RSS_GROWTH_LIMIT_MB,
    `RSS grew ${Math.round(rssPeak - rssBaseline)} MB (${Math.round(rssBaseline)} → ${Math.round(rssPeak)})`,
  )
})
