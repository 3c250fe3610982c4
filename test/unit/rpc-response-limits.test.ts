/**
 * Issue 22, item 3: `eth_feeHistory` accepted any number of reward percentiles (50,000 zeros: a
 * 139 MB answer; a batch of 22 crashed serialization with `RangeError: Invalid string length`,
 * answered -32603). Percentiles are now capped at 100 and must ascend strictly within [0, 100] with
 * geth's messages, and every response — and a batch's responses together — is bounded in size with
 * a -32005 answer; a serialization that overflows V8's string limit is answered the same way.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTxFromRLP } from '@ethereumjs/tx'
import { pino } from 'pino'
import { createChainCommon } from '../../src/chain/config.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import { RpcError } from '../../src/rpc/errors.ts'
import { DEFAULT_ETH_RPC_OPTIONS } from '../../src/rpc/eth/backend.ts'
import { registerFeeMethods } from '../../src/rpc/eth/fee-methods.ts'
import { Dispatcher, MethodRegistry, type RpcContext } from '../../src/rpc/index.ts'
import { openChain, type OpenedChain } from '../../src/node/bootstrap.ts'
import { TestBackend } from '../helpers/eth-backend.ts'

const CTX: RpcContext = { transport: 'http', signal: new AbortController().signal, remoteAddress: '127.0.0.1' }

interface Reply {
  jsonrpc: '2.0'
  id: unknown
  result?: unknown
  error?: { code: number; message: string }
}

describe('response size limit', () => {
  const limit = 1_000_000
  const registry = new MethodRegistry()
    .register('sized', (params) => 'x'.repeat(Number(params[0])))
    // What JSON.stringify throws past V8's longest string (~512 MB), without building one here.
    .register('unserializable', () => ({
      toJSON: () => {
        throw new RangeError('Invalid string length')
      },
    }))
  const dispatcher = new Dispatcher(registry, pino({ level: 'silent' }), undefined, 500, limit)
  const call = async (body: unknown): Promise<unknown> =>
    JSON.parse((await dispatcher.handle(JSON.stringify(body), CTX))!) as unknown

  test('a response over the limit is -32005 naming the limit; one under it is answered', async () => {
    const ok = (await call({ jsonrpc: '2.0', id: 1, method: 'sized', params: [limit - 100] })) as Reply
    assert.equal((ok.result as string).length, limit - 100)
    const tooLarge = (await call({ jsonrpc: '2.0', id: 2, method: 'sized', params: [limit + 1] })) as Reply
    assert.equal(tooLarge.id, 2)
    assert.equal(tooLarge.error?.code, -32005)
    assert.match(tooLarge.error?.message ?? '', /^response too large: .*max 1000000 bytes/)
  })

  test('a serialization that overflows the string limit is -32005, not -32603', async () => {
    const reply = (await call({ jsonrpc: '2.0', id: 3, method: 'unserializable' })) as Reply
    assert.equal(reply.error?.code, -32005)
    assert.match(reply.error?.message ?? '', /^response too large/)
  })

  test("a batch's responses together are bounded: the calls past the budget get -32005, in batch order", async () => {
    const third = Math.floor(limit * 0.4)
    const batch = (await call([1, 2, 3].map((id) => ({ jsonrpc: '2.0', id, method: 'sized', params: [third] })))) as Reply[]
    assert.deepEqual(
      batch.map((r) => r.id),
      [1, 2, 3],
    )
    assert.equal(typeof batch[0]!.result, 'string')
    assert.equal(typeof batch[1]!.result, 'string')
    assert.equal(batch[2]!.error?.code, -32005)
    assert.match(batch[2]!.error?.message ?? '', /batch/)
  })
})

describe('eth_feeHistory reward percentiles (geth rules)', () => {
  let dir: string
  let opened: OpenedChain
  let feeHistory: (percentiles: unknown) => Promise<unknown>

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'megaeth-fee-history-'))
    const genesis = devGenesis()
    const config = chainConfigFromGenesis(genesis, 'dev')
    const common = createChainCommon(config)
    opened = await openChain(dir, genesis, config, common)
    const registry = new MethodRegistry()
    registerFeeMethods(
      registry,
      new TestBackend(opened.chain, config, common, DEFAULT_ETH_RPC_OPTIONS, (raw) => createTxFromRLP(raw, { common })),
    )
    const handler = registry.get('eth_feeHistory')!
    feeHistory = async (percentiles) => handler(['0x400', 'latest', percentiles], CTX)
  })

  after(async () => {
    await opened.close()
    await rm(dir, { recursive: true, force: true })
  })

  const rejects = async (percentiles: unknown, message: string): Promise<void> => {
    await assert.rejects(feeHistory(percentiles), (error: unknown) => {
      assert.ok(error instanceof RpcError)
      assert.equal(error.code, -32602)
      assert.equal(error.message, message)
      return true
    })
  }

  test('more than 100 percentiles are refused (the 50,000-zero request answered 139 MB)', async () => {
    await rejects(
      new Array(101).fill(0).map((_, i) => i / 2),
      'invalid reward percentile: over the query limit 100',
    )
    await rejects(new Array(50_000).fill(0), 'invalid reward percentile: over the query limit 100')
  })

  test('each percentile is a number in [0, 100], strictly ascending', async () => {
    await rejects([101], 'invalid reward percentile: 101.000000')
    await rejects([-0.5], 'invalid reward percentile: -0.500000')
    await rejects([20, 10], 'invalid reward percentile: #0:20.000000 >= #1:10.000000')
    await rejects([0, 0], 'invalid reward percentile: #0:0.000000 >= #1:0.000000')
    await rejects(['50'], 'invalid argument 2: reward percentiles must be numbers')
  })

  test('100 ascending percentiles are answered, one reward per percentile per block', async () => {
    const percentiles = Array.from({ length: 100 }, (_, i) => i + 0.5)
    const result = (await feeHistory(percentiles)) as { reward: string[][] }
    assert.equal(result.reward.length, 1)
    assert.equal(result.reward[0]!.length, 100)
  })
})
