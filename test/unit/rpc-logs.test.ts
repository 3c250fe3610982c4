import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createFeeMarket1559Tx, createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes, KECCAK256_NULL, KECCAK256_RLP } from '@ethereumjs/util'
import { pino } from 'pino'
import type { SealedBlock } from '../../src/chain/block.ts'
import { createChainCommon, type ChainConfig } from '../../src/chain/config.ts'
import { DEV_SEQUENCER_KEY, deriveDevAccounts } from '../../src/chain/dev.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import { buildHeader } from '../../src/chain/header.ts'
import { sealMiniBlock, type MiniBlock } from '../../src/chain/mini-block.ts'
import type { Log, TxReceipt } from '../../src/chain/receipt.ts'
import { emptyStateDiff, type Hex, type StateDiff } from '../../src/primitives/state-diff.ts'
import { MethodRegistry } from '../../src/rpc/registry.ts'
import { RpcServer } from '../../src/rpc/server.ts'
import { RpcError } from '../../src/rpc/errors.ts'
import { DEFAULT_ETH_RPC_OPTIONS, type EthRpcOptions } from '../../src/rpc/eth/backend.ts'
import { FilterManager } from '../../src/rpc/eth/filters.ts'
import { matchesLog, parseLogFilter, type LogCriteria } from '../../src/rpc/eth/log-filter.ts'
import { registerLogAndSubscriptionMethods } from '../../src/rpc/eth/logs-and-subscriptions.ts'
import { unsealedBlockNumber } from '../../src/rpc/eth/format.ts'
import { storedContents } from '../../src/storage/block-store.ts'
import { getTxCodec } from '../../src/sequencer/ingest/index.ts'
import type { Sequencer } from '../../src/sequencer/sequencer.ts'
import { openChain, type OpenedChain } from '../../src/node/bootstrap.ts'
import { TestBackend } from '../helpers/eth-backend.ts'
import { DEV_COMMON, DEV_CONFIG, DEV_GENESIS, startDevSequencer } from '../helpers/dev-sequencer.ts'

// --- ws client (no type declarations for `ws` are installed: describe what we use) ---

interface WsClient {
  send(data: string): void
  close(): void
  on(event: 'open', listener: () => void): unknown
  on(event: 'message', listener: (data: Buffer) => void): unknown
  on(event: 'close', listener: () => void): unknown
  on(event: 'error', listener: (err: Error) => void): unknown
}
type WsClientCtor = new (url: string) => WsClient
const WebSocket = createRequire(import.meta.url)('ws') as WsClientCtor

// --- constants -----------------------------------------------------------------

const ADDR_A = '0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' as Hex
const ADDR_B = '0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' as Hex
const ADDR_C = '0xcccccccccccccccccccccccccccccccccccccccc' as Hex
const topic = (n: number): Hex => `0x${n.toString(16).padStart(64, '0')}` as Hex
const T1 = topic(1)
const T2 = topic(2)
const T3 = topic(3)
const log = (address: Hex, ...topics: Hex[]): Log => ({ address, topics, data: '0x' })
/** The peer address filters installed directly (not over RPC) are accounted to. */
const CLIENT = '127.0.0.1'

// --- log-filter unit tests ----------------------------------------------------------

function criteria(raw: Record<string, unknown>): LogCriteria {
  return parseLogFilter(raw, 0)
}

function rpcCode(fn: () => unknown): { code: number; message: string } {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${String(error)}`)
    return { code: error.code, message: error.message }
  }
  assert.fail('expected an error')
}

describe('log-filter: parsing', () => {
  test('defaults to latest..latest with no constraints', () => {
    const f = parseLogFilter({}, 0)
    assert.equal(f.kind, 'range')
    assert.ok(f.kind === 'range')
    assert.deepEqual(f.fromBlock, { kind: 'tag', tag: 'latest' })
    assert.deepEqual(f.toBlock, { kind: 'tag', tag: 'latest' })
    assert.deepEqual(f.addresses, [])
    assert.deepEqual(f.topics, [])
  })

  test('addresses: a single string or an array, lower-cased and de-duplicated', () => {
    assert.deepEqual(criteria({ address: ADDR_A.toUpperCase().replace('0X', '0x') }).addresses, [ADDR_A])
    assert.deepEqual(criteria({ address: [ADDR_A, ADDR_B, ADDR_A] }).addresses, [ADDR_A, ADDR_B])
    assert.deepEqual(criteria({ address: null }).addresses, [])
  })

  test('topics: null, a topic, an OR-list; null or [] inside a position is a wildcard', () => {
    assert.deepEqual(criteria({ topics: [null, T1, [T2, T3]] }).topics, [null, [T1], [T2, T3]])
    assert.deepEqual(criteria({ topics: [[T1, null]] }).topics, [null])
    assert.deepEqual(criteria({ topics: [[]] }).topics, [null])
  })

  test('block bounds: tags and numbers', () => {
    const f = parseLogFilter({ fromBlock: '0x10', toBlock: 'pending' }, 0)
    assert.ok(f.kind === 'range')
    assert.deepEqual(f.fromBlock, { kind: 'number', number: 16n })
    assert.deepEqual(f.toBlock, { kind: 'tag', tag: 'pending' })
  })

  test('blockHash excludes fromBlock/toBlock (-32602)', () => {
    const hash = topic(9)
    const f = parseLogFilter({ blockHash: hash }, 0)
    assert.deepEqual(f.kind === 'hash' ? f.blockHash : undefined, hash)
    const err = rpcCode(() => parseLogFilter({ blockHash: hash, fromBlock: '0x1' }, 0))
    assert.equal(err.code, -32602)
    assert.match(err.message, /blockHash|BlockHash/)
  })

  test('rejects malformed input with -32602', () => {
    for (const bad of [
      'not an object',
      [],
      { address: '0x1234' },
      { address: 42 },
      { topics: T1 },
      { topics: ['0x1234'] },
      { topics: [null, null, null, null, null] },
      { fromBlock: 'newest' },
      { fromBlock: '0x01' },
      { toBlock: topic(1) },
      { toBlock: { blockNumber: '0x1' } },
    ]) {
      assert.equal(rpcCode(() => parseLogFilter(bad, 0)).code, -32602, JSON.stringify(bad))
    }
  })
})

describe('log-filter: matchesLog (Ethereum topic semantics)', () => {
  const l = log(ADDR_A, T1, T2)

  test('empty filter matches everything', () => {
    assert.equal(matchesLog(criteria({}), l), true)
    assert.equal(matchesLog(criteria({}), log(ADDR_B)), true)
  })

  test('address: any of the listed', () => {
    assert.equal(matchesLog(criteria({ address: ADDR_A }), l), true)
    assert.equal(matchesLog(criteria({ address: [ADDR_B, ADDR_A] }), l), true)
    assert.equal(matchesLog(criteria({ address: ADDR_B }), l), false)
  })

  test('position-wise, null = wildcard, array = OR', () => {
    assert.equal(matchesLog(criteria({ topics: [T1] }), l), true)
    assert.equal(matchesLog(criteria({ topics: [T2] }), l), false)
    assert.equal(matchesLog(criteria({ topics: [null, T2] }), l), true)
    assert.equal(matchesLog(criteria({ topics: [null, T1] }), l), false)
    assert.equal(
      matchesLog(
        criteria({
          topics: [
            [T3, T1],
            [T2, T3],
          ],
        }),
        l,
      ),
      true,
    )
    assert.equal(matchesLog(criteria({ topics: [[T3, T2]] }), l), false)
  })

  test('fewer filter positions than log topics match; more never do, even as wildcards', () => {
    assert.equal(matchesLog(criteria({ topics: [T1, T2] }), l), true)
    assert.equal(matchesLog(criteria({ topics: [T1, T2, null] }), l), false)
    assert.equal(matchesLog(criteria({ topics: [null] }), log(ADDR_A)), false)
  })

  test('address and topics together', () => {
    assert.equal(matchesLog(criteria({ address: ADDR_A, topics: [T1] }), l), true)
    assert.equal(matchesLog(criteria({ address: ADDR_B, topics: [T1] }), l), false)
  })

  test('tolerates mixed-case data on the log side', () => {
    const upper = log(ADDR_A.replace(/a/g, 'A') as Hex, T1)
    assert.equal(matchesLog(criteria({ address: ADDR_A, topics: [T1] }), upper), true)
  })
})

// --- a real chain, driven by hand ------------------------------------------------------

const DEV = deriveDevAccounts(1)[0]!

interface TxSpec {
  logs?: Log[]
}

/**
 * Produces mini-blocks and seals EVM blocks the way the sequencer does (signed mini-blocks with
 * real signed transactions, sealed blocks written to LevelDB with their log index, then published
 * through ChainView), with receipts whose logs we choose.
 */
class ChainDriver {
  private nonce = 0n
  private miniNumber: bigint
  private index = 0
  private parentMini: Uint8Array = new Uint8Array(32)
  private minis: MiniBlock[] = []
  readonly decode: (raw: Uint8Array) => TypedTransaction

  constructor(
    private readonly opened: OpenedChain,
    private readonly config: ChainConfig,
    private readonly common: ReturnType<typeof createChainCommon>,
  ) {
    const head = opened.chain.head
    this.miniNumber = head.miniBlocks.first + BigInt(head.miniBlocks.count)
    const options = getTxCodec(common).txOptions
    this.decode = (raw) => createTxFromRLP(raw, options)
  }

  get blockNumber(): bigint {
    return this.opened.chain.head.header.number + 1n
  }

  private signTx(): TypedTransaction {
    const tx = createFeeMarket1559Tx(
      {
        nonce: this.nonce++,
        maxFeePerGas: 10n ** 9n,
        maxPriorityFeePerGas: 1n,
        gasLimit: 21_000n,
        to: ADDR_C,
        value: 1n,
        chainId: this.config.chainId,
      },
      { common: this.common },
    )
    return tx.sign(hexToBytes(DEV.privateKey))
  }

  /**
   * `passTxs: false` publishes without decoded transactions; `publish: false` keeps the mini-block
   * from ChainView (as a replica that only receives the sealed block would), so only `seal()` shows it.
   */
  miniBlock(
    specs: TxSpec[],
    {
      stateDiff = emptyStateDiff(),
      passTxs = true,
      publish = true,
    }: { stateDiff?: StateDiff; passTxs?: boolean; publish?: boolean } = {},
  ): MiniBlock {
    const blockNumber = this.blockNumber
    const earlier = this.minis.flatMap((mb) => mb.receipts)
    let logIndex = earlier.reduce((n, r) => n + r.logs.length, 0)
    let cumulative = earlier.length === 0 ? 0n : earlier[earlier.length - 1]!.cumulativeGasUsed
    const txs = specs.map(() => this.signTx())
    const receipts: TxReceipt[] = specs.map((spec, i) => {
      cumulative += 21_000n
      const receipt: TxReceipt = {
        transactionHash: bytesToHex(txs[i]!.hash()) as Hex,
        type: 2,
        status: 1,
        cumulativeGasUsed: cumulative,
        gasUsed: 21_000n,
        effectiveGasPrice: 1_000_001n,
        logsBloom: new Uint8Array(256),
        logs: spec.logs ?? [],
        from: DEV.address,
        to: ADDR_C,
        contractAddress: null,
        blockNumber,
        transactionIndex: earlier.length + i,
        logIndexStart: logIndex,
        miniBlockNumber: this.miniNumber,
      }
      logIndex += receipt.logs.length
      return receipt
    })
    const mb = sealMiniBlock(
      {
        number: this.miniNumber++,
        blockNumber,
        index: this.index++,
        timestampUs: 1_700_000_000_000_000n + this.miniNumber * 10_000n,
        blockTimestamp: 1_700_000_000n + blockNumber,
        baseFeePerGas: 1_000_000n,
        parentHash: this.parentMini,
        transactions: txs.map((tx) => tx.serialize()),
        receipts,
        gasUsed: 21_000n * BigInt(specs.length),
        stateDiff,
      },
      this.config.chainId,
      hexToBytes(DEV_SEQUENCER_KEY),
    )
    this.parentMini = mb.hash
    this.minis.push(mb)
    if (publish) this.opened.chain.addMiniBlock(mb, passTxs ? txs.map((tx) => ({ tx })) : [])
    return mb
  }

  async seal(): Promise<SealedBlock> {
    const { chain, db, blocks } = this.opened
    const parent = chain.head
    const receipts = this.minis.flatMap((mb) => mb.receipts)
    const header = buildHeader(
      {
        parentHash: parent.header.hash(),
        number: parent.header.number + 1n,
        timestamp: 1_700_000_000n + parent.header.number + 1n,
        gasLimit: this.config.blockGasLimit,
        gasUsed: receipts.length === 0 ? 0n : receipts[receipts.length - 1]!.cumulativeGasUsed,
        baseFeePerGas: 1_000_000n,
        stateRoot: parent.header.stateRoot,
        transactionsRoot: KECCAK256_RLP,
        receiptsRoot: KECCAK256_RLP,
        logsBloom: new Uint8Array(256),
        coinbase: this.config.feeRecipient,
        prevRandao: new Uint8Array(32),
        extraData: new Uint8Array(0),
      },
      this.common,
    )
    const first = this.minis[0]?.number ?? this.miniNumber
    const block: SealedBlock = {
      header,
      hash: bytesToHex(header.hash()) as Hex,
      transactions: this.minis.flatMap((mb) => mb.transactions),
      receipts,
      miniBlocks: { first, count: this.minis.length },
    }
    await db.write(blocks.sealOps(block, storedContents(block)), true)
    chain.addSealedBlock(block)
    this.minis = []
    this.index = 0
    return block
  }
}

// --- JSON-RPC clients ---------------------------------------------------------------

type RpcLog = {
  address: Hex
  topics: Hex[]
  blockNumber: Hex
  blockHash: Hex | null
  logIndex: Hex
  transactionIndex: Hex
  transactionHash: Hex
}
interface RpcReply {
  result?: unknown
  error?: { code: number; message: string }
}

class HttpClient {
  private id = 0
  constructor(private readonly url: string) {}
  async call(method: string, params: unknown[] = []): Promise<RpcReply> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++this.id, method, params }),
    })
    return (await res.json()) as RpcReply
  }
  async result<T>(method: string, params: unknown[] = []): Promise<T> {
    const reply = await this.call(method, params)
    assert.equal(reply.error, undefined, `${method} failed: ${JSON.stringify(reply.error)}`)
    return reply.result as T
  }
  async error(method: string, params: unknown[] = []): Promise<{ code: number; message: string }> {
    const reply = await this.call(method, params)
    assert.ok(reply.error !== undefined, `${method} should fail, got ${JSON.stringify(reply.result)}`)
    return reply.error
  }
}

class WsRpc {
  private id = 0
  private readonly replies = new Map<number, (reply: RpcReply) => void>()
  /** Notifications per subscription id, in arrival order. */
  readonly notifications = new Map<string, unknown[]>()
  private waiters: Array<() => void> = []
  private closed: Promise<void>

  private constructor(private readonly socket: WsClient) {
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()))
    socket.on('message', (data) => {
      const msg = JSON.parse(data.toString('utf8')) as {
        id?: number
        method?: string
        params?: { subscription: string; result: unknown }
      } & RpcReply
      if (msg.method === 'eth_subscription' && msg.params !== undefined) {
        const list = this.notifications.get(msg.params.subscription) ?? []
        list.push(msg.params.result)
        this.notifications.set(msg.params.subscription, list)
        for (const wake of this.waiters.splice(0)) wake()
      } else if (msg.id !== undefined) {
        this.replies.get(msg.id)?.(msg)
        this.replies.delete(msg.id)
      }
    })
  }

  static connect(url: string): Promise<WsRpc> {
    const socket = new WebSocket(url)
    return new Promise((resolve, reject) => {
      socket.on('open', () => resolve(new WsRpc(socket)))
      socket.on('error', reject)
    })
  }

  call(method: string, params: unknown[] = []): Promise<RpcReply> {
    const id = ++this.id
    return new Promise((resolve) => {
      this.replies.set(id, resolve)
      this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    })
  }

  async subscribe(params: unknown[]): Promise<string> {
    const reply = await this.call('eth_subscribe', params)
    assert.equal(reply.error, undefined, JSON.stringify(reply.error))
    assert.equal(typeof reply.result, 'string')
    return reply.result as string
  }

  received(id: string): unknown[] {
    return this.notifications.get(id) ?? []
  }

  /** Waits until subscription `id` has at least `count` notifications. */
  async waitFor(id: string, count: number, timeoutMs = 2000): Promise<unknown[]> {
    const deadline = Date.now() + timeoutMs
    while (this.received(id).length < count) {
      const left = deadline - Date.now()
      if (left <= 0) assert.fail(`timed out waiting for ${count} notifications on ${id}; have ${this.received(id).length}`)
      // A cancellable timer: a pending sleep() would keep the test process alive after the suite ends.
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        timer = setTimeout(resolve, left)
      })
      clearTimeout(timer)
    }
    return this.received(id)
  }

  async close(): Promise<void> {
    this.socket.close()
    await this.closed
  }
}

// --- integration: eth_getLogs, filters, subscriptions over the real server ---------------

describe('logs, filters and subscriptions on a real chain and server', () => {
  let dir: string
  let opened: OpenedChain
  let driver: ChainDriver
  let backend: TestBackend
  let server: RpcServer
  let filters: FilterManager
  let http: HttpClient
  let wsUrl: string
  const sealed: SealedBlock[] = []
  let pendingLogTx: Hex

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'megaeth-rpc-logs-'))
    const genesis = devGenesis()
    const config = chainConfigFromGenesis(genesis, 'dev')
    const common = createChainCommon(config)
    opened = await openChain(dir, genesis, config, common)
    driver = new ChainDriver(opened, config, common)
    const options: EthRpcOptions = { ...DEFAULT_ETH_RPC_OPTIONS, maxLogsRange: 4n, maxLogsResults: 5 }
    backend = new TestBackend(opened.chain, config, common, options, driver.decode)
    const registry = new MethodRegistry()
    filters = registerLogAndSubscriptionMethods(registry, backend)
    filters.start()
    server = new RpcServer({ host: '127.0.0.1', port: 0 }, registry, { logger: pino({ level: 'silent' }) })
    const { port } = await server.start()
    http = new HttpClient(`http://127.0.0.1:${port}/`)
    wsUrl = `ws://127.0.0.1:${port}/`

    // Block 1: two mini-blocks; block 2: one; block 3: a tx without logs then one with; then an unsealed mini-block of block 4.
    driver.miniBlock([{ logs: [log(ADDR_A, T1, T2), log(ADDR_B, T1)] }])
    driver.miniBlock([{ logs: [log(ADDR_A, T3)] }])
    sealed.push(await driver.seal())
    driver.miniBlock([{ logs: [log(ADDR_B, T2)] }])
    sealed.push(await driver.seal())
    driver.miniBlock([{}, { logs: [log(ADDR_A, T1)] }])
    sealed.push(await driver.seal())
    const pending = driver.miniBlock([{ logs: [log(ADDR_A, T2)] }])
    pendingLogTx = pending.receipts[0]!.transactionHash
  })

  after(async () => {
    filters.stop()
    await server.stop()
    await opened.close()
    await rm(dir, { recursive: true, force: true })
  })

  const positions = (logs: RpcLog[]): string[] => logs.map((l) => `${BigInt(l.blockNumber)}:${BigInt(l.logIndex)}`)

  describe('eth_getLogs', () => {
    test('by address, ascending (block, logIndex), with block hash and transaction index', async () => {
      const logs = await http.result<RpcLog[]>('eth_getLogs', [{ fromBlock: '0x0', address: ADDR_A }])
      assert.deepEqual(positions(logs), ['1:0', '1:2', '3:0'])
      assert.deepEqual(
        logs.map((l) => l.blockHash),
        [sealed[0]!.hash, sealed[0]!.hash, sealed[2]!.hash],
      )
      assert.deepEqual(
        logs.map((l) => BigInt(l.transactionIndex)),
        [0n, 1n, 1n],
      )
      assert.equal(logs[2]!.transactionHash, sealed[2]!.receipts[1]!.transactionHash)
    })

    test('by topics: position-wise, OR-lists and wildcards', async () => {
      assert.deepEqual(positions(await http.result<RpcLog[]>('eth_getLogs', [{ fromBlock: '0x1', topics: [T1] }])), [
        '1:0',
        '1:1',
        '3:0',
      ])
      assert.deepEqual(positions(await http.result<RpcLog[]>('eth_getLogs', [{ fromBlock: '0x1', topics: [[T2, T3]] }])), [
        '1:2',
        '2:0',
      ])
      assert.deepEqual(positions(await http.result<RpcLog[]>('eth_getLogs', [{ fromBlock: 'earliest', topics: [null, T2] }])), [
        '1:0',
      ])
      assert.deepEqual(
        positions(await http.result<RpcLog[]>('eth_getLogs', [{ fromBlock: '0x1', address: [ADDR_B], topics: [T1] }])),
        ['1:1'],
      )
    })

    test('by range, and latest excludes the unsealed mini-block', async () => {
      assert.deepEqual(positions(await http.result<RpcLog[]>('eth_getLogs', [{ fromBlock: '0x2', toBlock: '0x3' }])), [
        '2:0',
        '3:0',
      ])
      assert.deepEqual(positions(await http.result<RpcLog[]>('eth_getLogs', [{ fromBlock: '0x3', toBlock: 'latest' }])), ['3:0'])
      assert.deepEqual(positions(await http.result<RpcLog[]>('eth_getLogs', [{}])), ['3:0'])
    })

    test('pending includes logs of unsealed mini-blocks, with the placeholder blockHash', async () => {
      const logs = await http.result<RpcLog[]>('eth_getLogs', [{ fromBlock: '0x1', toBlock: 'pending', address: ADDR_A }])
      assert.deepEqual(positions(logs), ['1:0', '1:2', '3:0', '4:0'])
      assert.notEqual(unsealedBlockNumber(logs[3]!.blockHash as `0x${string}`), undefined)
      assert.equal(logs[3]!.transactionHash, pendingLogTx)
      const only = await http.result<RpcLog[]>('eth_getLogs', [{ fromBlock: 'pending', toBlock: 'pending' }])
      assert.deepEqual(positions(only), ['4:0'])
      // A bound past the pending block is clamped, not an error.
      assert.deepEqual(positions(await http.result<RpcLog[]>('eth_getLogs', [{ fromBlock: '0x4', toBlock: '0xffff' }])), ['4:0'])
    })

    test('by blockHash; an unknown hash is -32001 unknown block', async () => {
      const logs = await http.result<RpcLog[]>('eth_getLogs', [{ blockHash: sealed[0]!.hash }])
      assert.deepEqual(positions(logs), ['1:0', '1:1', '1:2'])
      const err = await http.error('eth_getLogs', [{ blockHash: topic(0xdead) }])
      assert.deepEqual(err, { code: -32001, message: 'unknown block' })
      assert.equal((await http.error('eth_getLogs', [{ blockHash: sealed[0]!.hash, toBlock: '0x1' }])).code, -32602)
    })

    test('reversed range is -32602; over maxLogsRange is -32005 naming the limit', async () => {
      assert.deepEqual(await http.error('eth_getLogs', [{ fromBlock: '0x3', toBlock: '0x1' }]), {
        code: -32602,
        message: 'invalid block range params',
      })
      const tooWide = await http.error('eth_getLogs', [{ fromBlock: '0x0', toBlock: 'pending', address: ADDR_A }])
      assert.equal(tooWide.code, -32005)
      assert.match(tooWide.message, /max 4\b/)
    })

    test('more results than maxLogsResults is -32005', async () => {
      const err = await http.error('eth_getLogs', [{ fromBlock: '0x1', toBlock: 'pending' }])
      assert.deepEqual(err, { code: -32005, message: 'query returned more than 5 results' })
    })
  })

  describe('filters', () => {
    test('a log filter sees each log once: when its mini-block lands, not again at seal', async () => {
      const id = await http.result<string>('eth_newFilter', [{ address: ADDR_A }])
      // The unsealed log that predates the filter is not a change.
      assert.deepEqual(await http.result<RpcLog[]>('eth_getFilterChanges', [id]), [])
      const mb = driver.miniBlock([{ logs: [log(ADDR_A, T3), log(ADDR_B, T3)] }])
      const first = await http.result<RpcLog[]>('eth_getFilterChanges', [id])
      assert.deepEqual(positions(first), ['4:1'])
      assert.notEqual(unsealedBlockNumber(first[0]!.blockHash as `0x${string}`), undefined)
      assert.equal(first[0]!.transactionHash, mb.receipts[0]!.transactionHash)
      const block = await driver.seal()
      sealed.push(block)
      assert.deepEqual(await http.result<RpcLog[]>('eth_getFilterChanges', [id]), [])
      driver.miniBlock([{ logs: [log(ADDR_A, T1)] }])
      assert.deepEqual(positions(await http.result<RpcLog[]>('eth_getFilterChanges', [id])), ['5:0'])
      // eth_getFilterLogs runs the query: the sealed A logs of the latest block range.
      const all = await http.result<RpcLog[]>('eth_getFilterLogs', [id])
      assert.deepEqual(positions(all), ['4:0', '4:1'])
      assert.ok(all.every((l) => l.blockHash === block.hash))
      // A block whose mini-blocks this node never saw (a replica catching up) still reports its logs, once, with the block hash.
      driver.miniBlock([{ logs: [log(ADDR_A, T2)] }], { publish: false })
      const unseen = await driver.seal()
      sealed.push(unseen)
      const caughtUp = await http.result<RpcLog[]>('eth_getFilterChanges', [id])
      assert.deepEqual(positions(caughtUp), ['5:1'])
      assert.equal(caughtUp[0]!.blockHash, unseen.hash)
      assert.deepEqual(await http.result<RpcLog[]>('eth_getFilterChanges', [id]), [])
      assert.equal(await http.result<boolean>('eth_uninstallFilter', [id]), true)
      assert.equal(await http.result<boolean>('eth_uninstallFilter', [id]), false)
      assert.deepEqual(await http.error('eth_getFilterChanges', [id]), { code: -32000, message: 'filter not found' })
    })

    test('block filter reports sealed block hashes; pending-transaction filter reports pool hashes', async () => {
      const blocksId = await http.result<string>('eth_newBlockFilter')
      const txsId = await http.result<string>('eth_newPendingTransactionFilter')
      const block = await driver.seal()
      sealed.push(block)
      backend.pendingTxs.emit('tx', topic(0x77))
      assert.deepEqual(await http.result<Hex[]>('eth_getFilterChanges', [blocksId]), [block.hash])
      assert.deepEqual(await http.result<Hex[]>('eth_getFilterChanges', [blocksId]), [])
      assert.deepEqual(await http.result<Hex[]>('eth_getFilterChanges', [txsId]), [topic(0x77)])
      // eth_getFilterLogs is for log filters only.
      assert.deepEqual(await http.error('eth_getFilterLogs', [blocksId]), { code: -32000, message: 'filter not found' })
      await http.result('eth_uninstallFilter', [blocksId])
      await http.result('eth_uninstallFilter', [txsId])
    })

    test('unknown ids and bad filters', async () => {
      assert.deepEqual(await http.error('eth_getFilterChanges', ['0x1234']), { code: -32000, message: 'filter not found' })
      assert.deepEqual(await http.error('eth_getFilterLogs', ['0x1234']), { code: -32000, message: 'filter not found' })
      assert.equal((await http.error('eth_newFilter', [{ blockHash: sealed[0]!.hash }])).code, -32602)
      assert.equal((await http.error('eth_getFilterChanges', [7])).code, -32602)
    })

    test('unpolled filters expire; polled ones live', async () => {
      const shortLived = new FilterManager(
        new TestBackend(
          opened.chain,
          backend.config,
          backend.common,
          { ...backend.options, filterTimeoutMs: 200 },
          driver.decode,
        ),
      )
      shortLived.start()
      try {
        const polled = shortLived.newBlockFilter(CLIENT)
        const idle = shortLived.newBlockFilter(CLIENT)
        for (let i = 0; i < 10; i++) {
          await sleep(40)
          shortLived.changes(polled)
        }
        assert.deepEqual(shortLived.changes(polled), [])
        assert.throws(
          () => shortLived.changes(idle),
          (e: unknown) => e instanceof RpcError && e.code === -32000 && e.message === 'filter not found',
        )
        assert.equal(shortLived.size, 1)
      } finally {
        shortLived.stop()
      }
    })

    test('maxFilters caps installs (-32005); a manager that is not started refuses (-32002)', () => {
      const capped = new FilterManager(
        new TestBackend(opened.chain, backend.config, backend.common, { ...backend.options, maxFilters: 2 }, driver.decode),
      )
      assert.equal(rpcCode(() => capped.newBlockFilter(CLIENT)).code, -32002)
      capped.start()
      try {
        capped.newBlockFilter(CLIENT)
        capped.newPendingTransactionFilter(CLIENT)
        const err = rpcCode(() => capped.newBlockFilter(CLIENT))
        assert.equal(err.code, -32005)
        assert.match(err.message, /max 2/)
      } finally {
        capped.stop()
      }
    })

    test('buffers are bounded: a log filter that overflows fails loudly once, hash filters keep the newest', () => {
      const smallBackend = new TestBackend(
        opened.chain,
        backend.config,
        backend.common,
        { ...backend.options, maxLogsResults: 2 },
        driver.decode,
      )
      const small = new FilterManager(smallBackend)
      small.start()
      try {
        const logsId = small.newLogFilter(parseLogFilter({ address: ADDR_B }, 0), CLIENT)
        const txsId = small.newPendingTransactionFilter(CLIENT)
        driver.miniBlock([{ logs: [log(ADDR_B, T1), log(ADDR_B, T2), log(ADDR_B, T3)] }])
        for (const n of [1, 2, 3]) smallBackend.pendingTxs.emit('tx', topic(n))
        assert.deepEqual(small.changes(txsId), [topic(2), topic(3)])
        const overflow = rpcCode(() => small.changes(logsId))
        assert.equal(overflow.code, -32005)
        assert.match(overflow.message, /overflowed/)
        assert.equal(rpcCode(() => small.changes(logsId)).code, -32000)
      } finally {
        small.stop()
      }
    })
  })

  describe('subscriptions', () => {
    test('over HTTP: -32601 notifications not supported (geth)', async () => {
      assert.deepEqual(await http.error('eth_subscribe', ['newHeads']), { code: -32601, message: 'notifications not supported' })
      assert.deepEqual(await http.error('eth_unsubscribe', ['0x1']), { code: -32601, message: 'notifications not supported' })
    })

    test('unknown type is -32602 naming the supported ones; bad params are -32602', async () => {
      const ws = await WsRpc.connect(wsUrl)
      try {
        const reply = await ws.call('eth_subscribe', ['syncing'])
        assert.equal(reply.error?.code, -32602)
        assert.match(reply.error?.message ?? '', /newHeads, logs, newPendingTransactions, miniBlocks, stateChanges/)
        assert.equal((await ws.call('eth_subscribe', ['stateChanges'])).error?.code, -32602)
        assert.equal((await ws.call('eth_subscribe', ['logs', { topics: 'x' }])).error?.code, -32602)
        assert.equal((await ws.call('eth_unsubscribe', ['0xabc'])).result, false)
      } finally {
        await ws.close()
      }
    })

    test('newHeads, logs (sealed) and realtime logs (pending/pending)', async () => {
      const ws = await WsRpc.connect(wsUrl)
      try {
        const heads = await ws.subscribe(['newHeads'])
        const sealedLogs = await ws.subscribe(['logs', { address: ADDR_A, topics: [T1] }])
        const realtime = await ws.subscribe(['logs', { address: ADDR_A, fromBlock: 'pending', toBlock: 'pending' }])

        const mb = driver.miniBlock([{ logs: [log(ADDR_A, T1), log(ADDR_B, T1)] }])
        const [live] = (await ws.waitFor(realtime, 1)) as RpcLog[]
        assert.equal(live!.blockHash, null)
        assert.equal(live!.transactionHash, mb.receipts[0]!.transactionHash)
        assert.equal(ws.received(sealedLogs).length, 0, 'standard logs wait for the seal')

        const block = await driver.seal()
        sealed.push(block)
        const [head] = (await ws.waitFor(heads, 1)) as Array<Record<string, unknown>>
        assert.equal(head!['hash'], block.hash)
        assert.equal(head!['number'], `0x${block.header.number.toString(16)}`)
        assert.equal(head!['miniBlockCount'], `0x${block.miniBlocks.count.toString(16)}`)
        assert.equal(head!['parentHash'], sealed[sealed.length - 2]!.hash)
        for (const absent of ['transactions', 'uncles', 'size']) assert.equal(absent in head!, false, absent)
        const [fromSeal] = (await ws.waitFor(sealedLogs, 1)) as RpcLog[]
        assert.equal(fromSeal!.blockHash, block.hash)
        assert.equal(fromSeal!.logIndex, live!.logIndex)

        // The next mini-block's log is the realtime stream's second notification: the seal did not repeat the first.
        driver.miniBlock([{ logs: [log(ADDR_A, T2)] }])
        const realtimeLogs = (await ws.waitFor(realtime, 2)) as RpcLog[]
        assert.equal(realtimeLogs.length, 2)
        assert.deepEqual(realtimeLogs[1]!.topics, [T2])
      } finally {
        await ws.close()
      }
    })

    test('miniBlocks: MegaETH snake_case payload with full transactions and receipts', async () => {
      const ws = await WsRpc.connect(wsUrl)
      try {
        const id = await ws.subscribe(['miniBlocks'])
        const mb = driver.miniBlock([{ logs: [log(ADDR_A, T3)] }, {}])
        // A producer that publishes without decoded transactions still yields full objects.
        const bare = driver.miniBlock([{}], { passTxs: false })
        const [payload, second] = (await ws.waitFor(id, 2)) as Array<Record<string, unknown>>
        const hex = (n: bigint | number): string => `0x${n.toString(16)}`
        assert.equal(payload!['block_number'], hex(mb.blockNumber))
        assert.equal(payload!['block_timestamp'], hex(mb.blockTimestamp))
        assert.equal(payload!['index'], hex(mb.index))
        assert.equal(payload!['mini_block_number'], hex(mb.number))
        assert.equal(payload!['mini_block_timestamp'], hex(mb.timestampUs))
        assert.equal(payload!['gas_used'], hex(mb.gasUsed))
        const txs = payload!['transactions'] as Array<Record<string, unknown>>
        const receipts = payload!['receipts'] as Array<Record<string, unknown>>
        assert.deepEqual(
          txs.map((t) => t['hash']),
          mb.receipts.map((r) => r.transactionHash),
        )
        assert.equal(txs[0]!['from'], DEV.address)
        assert.equal(txs[0]!['blockHash'], null)
        assert.equal(txs[1]!['transactionIndex'], hex(mb.receipts[1]!.transactionIndex))
        assert.equal(receipts[0]!['blockHash'], null)
        assert.equal((receipts[0]!['logs'] as RpcLog[])[0]!.address, ADDR_A)
        assert.deepEqual(
          (second!['transactions'] as Array<Record<string, unknown>>).map((t) => t['hash']),
          [bare.receipts[0]!.transactionHash],
        )
      } finally {
        await ws.close()
      }
    })

    test('stateChanges: one notification per watched account changed by a mini-block', async () => {
      const ws = await WsRpc.connect(wsUrl)
      try {
        const id = await ws.subscribe(['stateChanges', [ADDR_A, ADDR_B]])
        const diff = emptyStateDiff()
        diff.accounts.set(ADDR_A, {
          account: { nonce: 5n, balance: 1000n, codeHash: KECCAK256_NULL },
          storageCleared: false,
          storage: new Map([
            [topic(1), Uint8Array.of(0x2a)],
            [topic(2), new Uint8Array(0)],
          ]),
        })
        diff.accounts.set(ADDR_C, {
          account: { nonce: 1n, balance: 1n, codeHash: KECCAK256_NULL },
          storageCleared: false,
          storage: new Map(),
        })
        driver.miniBlock([], { stateDiff: diff })
        const deleted = emptyStateDiff()
        deleted.accounts.set(ADDR_B, { account: null, storageCleared: true, storage: new Map() })
        driver.miniBlock([], { stateDiff: deleted })
        const changes = (await ws.waitFor(id, 2)) as Array<Record<string, unknown>>
        assert.deepEqual(changes[0], {
          address: ADDR_A,
          nonce: '0x5',
          balance: '0x3e8',
          storage: { [topic(1)]: topic(0x2a), [topic(2)]: topic(0) },
        })
        assert.deepEqual(changes[1], { address: ADDR_B, nonce: '0x0', balance: '0x0', storage: {} })
        assert.equal(changes.length, 2, 'the unwatched account produced nothing')
      } finally {
        await ws.close()
      }
    })

    test('newPendingTransactions streams pool hashes', async () => {
      const ws = await WsRpc.connect(wsUrl)
      try {
        const id = await ws.subscribe(['newPendingTransactions'])
        backend.pendingTxs.emit('tx', topic(0x99))
        assert.deepEqual(await ws.waitFor(id, 1), [topic(0x99)])
      } finally {
        await ws.close()
      }
    })

    test('eth_unsubscribe and socket close detach every listener', async () => {
      const events = opened.chain.events
      const baseline = {
        block: events.listenerCount('block'),
        miniBlock: events.listenerCount('miniBlock'),
        pending: backend.pendingTxs.listenerCount('tx'),
      }
      const count = (): typeof baseline => ({
        block: events.listenerCount('block'),
        miniBlock: events.listenerCount('miniBlock'),
        pending: backend.pendingTxs.listenerCount('tx'),
      })
      const ws = await WsRpc.connect(wsUrl)
      const ids = [
        await ws.subscribe(['newHeads']),
        await ws.subscribe(['logs', {}]),
        await ws.subscribe(['logs', { fromBlock: 'pending', toBlock: 'pending' }]),
        await ws.subscribe(['miniBlocks']),
        await ws.subscribe(['stateChanges', [ADDR_A]]),
        await ws.subscribe(['newPendingTransactions']),
      ]
      assert.deepEqual(count(), { block: baseline.block + 3, miniBlock: baseline.miniBlock + 3, pending: baseline.pending + 1 })

      const miniBlocksId = ids[3]!
      assert.equal((await ws.call('eth_unsubscribe', [miniBlocksId])).result, true)
      assert.equal((await ws.call('eth_unsubscribe', [miniBlocksId])).result, false)
      assert.equal(count().miniBlock, baseline.miniBlock + 2)
      // The realtime logs stream still notifies for this mini-block; notifications on one socket arrive in order,
      // so once it has, a miniBlocks notification would have arrived too.
      driver.miniBlock([{ logs: [log(ADDR_C)] }])
      await ws.waitFor(ids[2]!, 1)
      assert.equal(ws.received(miniBlocksId).length, 0)

      await ws.close()
      // The server sees the close asynchronously.
      const deadline = Date.now() + 2000
      while (JSON.stringify(count()) !== JSON.stringify(baseline) && Date.now() < deadline) await sleep(10)
      assert.deepEqual(count(), baseline)
    })
  })
})

// --- end to end: a real sequencer executing transactions that emit logs ---------------------------

describe('with a real sequencer producing mini-blocks and blocks', () => {
  /** Init code that emits LOG1(EVENT) while deploying an empty contract: every creation tx logs once. */
  const EVENT = topic(0xe7e47)
  const INIT_CODE = hexToBytes(`0x7f${EVENT.slice(2)}60006000a100`)
  let dir: string
  let opened: OpenedChain
  let sequencer: Sequencer
  let server: RpcServer
  let filters: FilterManager
  let http: HttpClient
  let wsUrl: string
  let common: ReturnType<typeof createChainCommon>
  let config: ChainConfig

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'megaeth-rpc-logs-seq-'))
    config = DEV_CONFIG
    common = DEV_COMMON
    opened = await openChain(dir, DEV_GENESIS, config, common)
    sequencer = await startDevSequencer(opened, { blockMs: 150 })
    const backend = new TestBackend(opened.chain, config, common, { ...DEFAULT_ETH_RPC_OPTIONS }, (raw) => sequencer.decode(raw))
    sequencer.pool.onPendingTx((tx) => backend.pendingTxs.emit('tx', tx.hash))
    const registry = new MethodRegistry()
    filters = registerLogAndSubscriptionMethods(registry, backend)
    filters.start()
    server = new RpcServer({ host: '127.0.0.1', port: 0 }, registry, { logger: pino({ level: 'silent' }) })
    const { port } = await server.start()
    http = new HttpClient(`http://127.0.0.1:${port}/`)
    wsUrl = `ws://127.0.0.1:${port}/`
  })

  after(async () => {
    filters.stop()
    await server.stop()
    await sequencer.stop()
    await opened.close()
    await rm(dir, { recursive: true, force: true })
  })

  test('a log reaches pollers and realtime subscribers with its mini-block, exactly once; eth_getLogs has it after the seal', async () => {
    const filterId = await http.result<string>('eth_newFilter', [{ topics: [EVENT] }])
    const ws = await WsRpc.connect(wsUrl)
    try {
      const live = await ws.subscribe(['logs', { topics: [EVENT], fromBlock: 'pending', toBlock: 'pending' }])
      const heads = await ws.subscribe(['newHeads'])
      const pendingTxs = await ws.subscribe(['newPendingTransactions'])
      const key = hexToBytes(DEV.privateKey)
      const receipts: TxReceipt[] = []
      for (let nonce = 0n; nonce < 3n; nonce++) {
        const raw = createFeeMarket1559Tx(
          {
            nonce,
            maxFeePerGas: 10n ** 10n,
            maxPriorityFeePerGas: 1n,
            gasLimit: 200_000n,
            data: INIT_CODE,
            chainId: config.chainId,
          },
          { common },
        )
          .sign(key)
          .serialize()
        const { receipt } = await sequencer.submitAndWait(raw, 5_000)
        assert.ok(receipt !== undefined, 'included in a mini-block')
        assert.equal(receipt.logs.length, 1)
        receipts.push(receipt)
        // The mini-block is durable: one poll later the log is there, whether or not its block was sealed meanwhile.
        const changes = await http.result<RpcLog[]>('eth_getFilterChanges', [filterId])
        assert.equal(changes.length, 1)
        assert.equal(changes[0]!.transactionHash, receipt.transactionHash)
        assert.equal(unsealedBlockNumber(changes[0]!.blockHash as `0x${string}`), BigInt(changes[0]!.blockNumber))
        assert.equal(changes[0]!.logIndex, `0x${receipt.logIndexStart.toString(16)}`)
        assert.equal(changes[0]!.address, receipt.contractAddress)
      }
      const lastBlock = receipts[receipts.length - 1]!.blockNumber
      const deadline = Date.now() + 5_000
      while (!(ws.received(heads) as Array<{ number: Hex }>).some((h) => BigInt(h.number) >= lastBlock)) {
        assert.ok(Date.now() < deadline, 'block sealed')
        await ws.waitFor(heads, ws.received(heads).length + 1, 5_000)
      }
      assert.deepEqual(await http.result<RpcLog[]>('eth_getFilterChanges', [filterId]), [], 'the seal does not repeat logs')
      assert.deepEqual(
        (ws.received(live) as RpcLog[]).map((l) => l.transactionHash),
        receipts.map((r) => r.transactionHash),
      )
      assert.deepEqual(
        ws.received(pendingTxs),
        receipts.map((r) => r.transactionHash),
      )

      const logs = await http.result<RpcLog[]>('eth_getLogs', [{ fromBlock: '0x0', topics: [EVENT] }])
      assert.deepEqual(
        logs.map((l) => l.transactionHash),
        receipts.map((r) => r.transactionHash),
      )
      for (const [i, l] of logs.entries()) {
        const block = await opened.chain.blockByNumber(receipts[i]!.blockNumber)
        assert.equal(l.blockHash, block!.hash)
        assert.equal(l.logIndex, `0x${receipts[i]!.logIndexStart.toString(16)}`)
        assert.equal(l.transactionIndex, `0x${receipts[i]!.transactionIndex.toString(16)}`)
      }
    } finally {
      await ws.close()
    }
  })
})
