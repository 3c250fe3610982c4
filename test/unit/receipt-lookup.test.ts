/**
 * Issue 22, item 5: `eth_getTransactionReceipt` decoded its whole block (~7 ms per lookup in blocks
 * of ~1,000 transactions) once the block had left the in-memory window. The transaction index now
 * carries the receipt, written in the same seal batch, so a lookup reads one small entry and one
 * header whatever the block's size. Asserted on what a lookup reads from LevelDB (bytes), not on time;
 * the rates are printed as diagnostics. Index entries written before (block number and position only)
 * still answer, through the block.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createFeeMarket1559Tx, createTxFromRLP } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes, KECCAK256_RLP } from '@ethereumjs/util'
import type { SealedBlock } from '../../src/chain/block.ts'
import { createChainCommon } from '../../src/chain/config.ts'
import { deriveDevAccounts } from '../../src/chain/dev.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import { buildHeader } from '../../src/chain/header.ts'
import type { TxReceipt } from '../../src/chain/receipt.ts'
import { encodeRlp, unpaddedBytes } from '../../src/primitives/rlp-fields.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { DEFAULT_ETH_RPC_OPTIONS } from '../../src/rpc/eth/backend.ts'
import { registerChainMethods } from '../../src/rpc/eth/chain-methods.ts'
import { MethodRegistry, type RpcContext } from '../../src/rpc/index.ts'
import { openChain, type OpenedChain } from '../../src/node/bootstrap.ts'
import { storedContents } from '../../src/storage/block-store.ts'
import { u64 } from '../../src/primitives/u64.ts'
import { TestBackend } from '../helpers/eth-backend.ts'

const CTX: RpcContext = { transport: 'http', signal: new AbortController().signal, remoteAddress: '127.0.0.1' }
const genesis = devGenesis()
const config = chainConfigFromGenesis(genesis, 'dev')
const common = createChainCommon(config)
const decode = (raw: Uint8Array) => createTxFromRLP(raw, { common })
const txHash = (block: bigint, i: number): Hex => `0x${block.toString(16).padStart(8, '0')}${i.toString(16).padStart(56, '0')}`

/** One real signed transaction's bytes, shared by every synthetic receipt (lookups decode none of them after the fix). */
const RAW_TX = (() => {
  const dev = deriveDevAccounts()[0]!
  const tx = createFeeMarket1559Tx(
    {
      nonce: 0n,
      maxFeePerGas: 10n ** 9n,
      maxPriorityFeePerGas: 1n,
      gasLimit: 21_000n,
      to: dev.address,
      value: 1n,
      chainId: config.chainId,
    },
    { common },
  )
  return tx.sign(hexToBytes(dev.privateKey)).serialize()
})()

/** A sealed block on top of `parent` with `count` transfers, each with two logs (so log index offsets matter). */
function blockOf(parent: SealedBlock, count: number): SealedBlock {
  const number = parent.header.number + 1n
  const receipts: TxReceipt[] = Array.from({ length: count }, (_, i) => ({
    transactionHash: txHash(number, i),
    type: 2,
    status: 1,
    cumulativeGasUsed: 30_000n * BigInt(i + 1),
    gasUsed: 30_000n,
    effectiveGasPrice: 1_000_001n + BigInt(i),
    logsBloom: new Uint8Array(256),
    logs: [0, 1].map((l) => ({
      address: '0x00000000000000000000000000000000000000aa',
      topics: [txHash(number, l)],
      data: '0x01',
    })),
    from: '0x00000000000000000000000000000000000000bb',
    to: '0x00000000000000000000000000000000000000cc',
    contractAddress: null,
    blockNumber: number,
    transactionIndex: i,
    logIndexStart: 2 * i,
    miniBlockNumber: 100n + number,
  }))
  const header = buildHeader(
    {
      parentHash: parent.header.hash(),
      number,
      timestamp: parent.header.timestamp + 1n,
      gasLimit: config.blockGasLimit,
      gasUsed: 30_000n * BigInt(count),
      baseFeePerGas: 1_000_000n,
      stateRoot: parent.header.stateRoot,
      transactionsRoot: KECCAK256_RLP,
      receiptsRoot: KECCAK256_RLP,
      logsBloom: new Uint8Array(256),
      coinbase: config.feeRecipient,
      prevRandao: new Uint8Array(32),
      extraData: new Uint8Array(0),
    },
    common,
  )
  const first = parent.miniBlocks.first + BigInt(parent.miniBlocks.count)
  return {
    header,
    hash: bytesToHex(header.hash()) as Hex,
    transactions: receipts.map(() => RAW_TX),
    receipts,
    miniBlocks: { first, count: 1 },
  }
}

describe('eth_getTransactionReceipt reads O(1) in the size of its block', () => {
  let dir: string
  let opened: OpenedChain
  let registry: MethodRegistry
  const reads = { bytes: 0, gets: 0 }
  const sealed: SealedBlock[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'megaeth-receipt-lookup-'))
    let chain = await openChain(dir, genesis, config, common)
    let parent = chain.chain.head
    for (const count of [10, 1_000, 0]) {
      const block = blockOf(parent, count)
      await chain.db.write(chain.blocks.sealOps(block, storedContents(block)), true)
      sealed.push(block)
      parent = block
    }
    await chain.close()
    // Reopened as after a restart: the two loaded blocks are in LevelDB only, not in the view's recent window.
    chain = await openChain(dir, genesis, config, common)
    opened = chain
    const get = opened.db.get.bind(opened.db)
    opened.db.get = async (store, key) => {
      const value = await get(store, key)
      reads.gets++
      reads.bytes += value?.length ?? 0
      return value
    }
    registry = new MethodRegistry()
    registerChainMethods(registry, new TestBackend(opened.chain, config, common, DEFAULT_ETH_RPC_OPTIONS, decode))
  })

  after(async () => {
    await opened.close()
    await rm(dir, { recursive: true, force: true })
  })

  const receipt = async (hash: Hex): Promise<Record<string, unknown>> =>
    (await registry.get('eth_getTransactionReceipt')!([hash], CTX)) as Record<string, unknown>

  /** Bytes read from LevelDB per lookup, over `lookups` receipts spread across block `block`, and the rate. */
  async function measure(block: SealedBlock, lookups: number): Promise<{ bytesPerLookup: number; perSecond: number }> {
    const count = block.receipts.length
    reads.bytes = 0
    const started = performance.now()
    for (let i = 0; i < lookups; i++) await receipt(txHash(block.header.number, (i * 7) % count))
    const seconds = (performance.now() - started) / 1000
    return { bytesPerLookup: reads.bytes / lookups, perSecond: lookups / seconds }
  }

  test('a lookup in a 1,000-transaction block reads no more than one in a 10-transaction block', async (t) => {
    const small = await measure(sealed[0]!, 200)
    const large = await measure(sealed[1]!, 200)
    t.diagnostic(
      `10-tx block: ${Math.round(small.bytesPerLookup)} bytes read per lookup, ${Math.round(small.perSecond)} lookups/s`,
    )
    t.diagnostic(
      `1,000-tx block: ${Math.round(large.bytesPerLookup)} bytes read per lookup, ${Math.round(large.perSecond)} lookups/s`,
    )
    // Decoding the whole block read its body and receipts: ~100× more here.
    assert.ok(
      large.bytesPerLookup < small.bytesPerLookup * 1.5 + 256,
      `${Math.round(large.bytesPerLookup)} vs ${Math.round(small.bytesPerLookup)} bytes per lookup`,
    )
    assert.ok(large.bytesPerLookup < 2_000, `${Math.round(large.bytesPerLookup)} bytes per lookup`)
  })

  test('the receipt is the one eth_getBlockReceipts serves: block hash, cumulative gas, log indexes, gas price', async () => {
    const block = sealed[1]!
    const all = (await registry.get('eth_getBlockReceipts')!([`0x${block.header.number.toString(16)}`], CTX)) as Record<
      string,
      unknown
    >[]
    for (const i of [0, 1, 499, 999]) {
      const one = await receipt(txHash(block.header.number, i))
      assert.deepEqual(one, all[i], `receipt ${i}`)
      assert.equal(one['blockHash'], block.hash)
    }
    assert.equal(await receipt(txHash(99n, 0)), null)
  })

  test('index entries written before the change (block number and position only) still answer', async () => {
    const block = sealed[1]!
    const expected = await receipt(txHash(block.header.number, 42))
    const key = hexToBytes(txHash(block.header.number, 42))
    await opened.db.write([opened.db.put('txs', key, encodeRlp([u64(block.header.number), unpaddedBytes(42n)]))], true)
    assert.deepEqual(await receipt(txHash(block.header.number, 42)), expected)
  })
})
