/**
 * Differential test of derivation's fast path: the same derived blocks built by `buildDerivedBlock` with
 * the sequenced transactions decoded and sender-recovered ahead of time by the ingest workers
 * (`TxPrefetcher` over `IngestPool`, plain transfers executed natively from the workers' fields) and
 * built with every transaction decoded in place (the old path). Mixed bodies: transfers of every
 * envelope, a contract creation, a call that stores and logs, a call that reverts, a transfer to a
 * contract, an EIP-161 touch, an unprotected legacy transaction, a user deposit, a bad nonce (the block
 * becomes its deposit-only twin) and bytes that do not decode. Both chains must agree on every block
 * hash, state root and receipt.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { hexToBytes } from '@ethereumjs/util'
import { getContractAddress, keccak256, toHex, type Hex } from 'viem'
import { privateKeyToAccount, signTransaction } from 'viem/accounts'
import { createChainCommon } from '../../src/chain/config.ts'
import type { DepositTransaction } from '../../src/chain/deposit-tx.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import type { L1Origin } from '../../src/chain/l1-origin.ts'
import { blockAttributes } from '../../src/chain/l2-block-attributes.ts'
import { decodeL2Transaction } from '../../src/chain/l2-transaction.ts'
import { buildDerivedBlock, type BlockBuilderModules, type BuiltBlock, fsyncAtMostEvery } from '../../src/derive/block-builder.ts'
import { DerivedCommitQueue } from '../../src/derive/commit-queue.ts'
import { TxPrefetcher } from '../../src/derive/tx-prefetch.ts'
import { rewindChain } from '../../src/storage/chain-rewind.ts'
import { orderedTrieRoot } from '../../src/trie/ordered-trie.ts'
import { SequentialExecutor } from '../../src/execution/executor.ts'
import { type BatchTx, SequentialMiniBlockExecutor } from '../../src/execution/parallel/index.ts'
import { fastTxOptions } from '../../src/execution/validated-tx.ts'
import { openChain, type OpenedChain } from '../../src/node/bootstrap.ts'
import { IngestPool } from '../../src/sequencer/ingest/index.ts'
import { DEV_CHAIN_ID, DEV_KEYS } from '../helpers/node-process.ts'

const genesis = devGenesis()
const config = chainConfigFromGenesis(genesis, 'test')
const common = createChainCommon(config)

const SYSTEM_CONFIG = {
  batcherHash: `0x${'00'.repeat(31)}ba` as Hex,
  baseFeeScalar: 1368,
  blobBaseFeeScalar: 810949,
  operatorFeeScalar: 0,
  operatorFeeConstant: 0n,
  gasLimit: 30_000_000n,
}

/**
 * Runtime: with calldata, stores its first word in slot 0 and logs 32 bytes; without, reverts.
 * `CALLDATASIZE ISZERO PUSH1 0x11 JUMPI PUSH1 0 CALLDATALOAD PUSH1 0 SSTORE PUSH1 32 PUSH1 0 LOG0 STOP
 *  JUMPDEST PUSH1 0 DUP1 REVERT`, deployed by an 11-byte CODECOPY/RETURN prelude.
 */
const RUNTIME = '361560115760003560005560206000a0005b600080fd'
const INITCODE = `0x601680600b6000396000f3${RUNTIME}` as Hex

function origin(number: bigint, deposits: readonly DepositTransaction[]): L1Origin {
  return {
    number,
    hash: keccak256(toHex(`l1 ${number}`)),
    parentHash: keccak256(toHex(`l1 ${number - 1n}`)),
    timestamp: 1_000n + number * 12n,
    baseFeePerGas: 7n,
    blobBaseFee: 1n,
    mixHash: keccak256(toHex(`randao ${number}`)),
    deposits,
    systemConfig: SYSTEM_CONFIG,
  }
}

const userDeposit: DepositTransaction = {
  sourceHash: keccak256(toHex('user deposit')),
  from: '0x00000000000000000000000000000000000d0d0d',
  to: '0x000000000000000000000000000000000000fe11',
  mint: 10n ** 18n,
  value: 10n ** 17n,
  gas: 100_000n,
  isSystemTx: false,
  data: '0x',
}

const fees = { maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 3n }
const key = (i: number): Hex => DEV_KEYS[10 + i]!

async function sign(i: number, tx: Record<string, unknown>): Promise<Uint8Array> {
  // biome-ignore lint/suspicious/noExplicitAny: viem's transaction union is discriminated by `type`, the cases below are each valid
  return hexToBytes(await signTransaction({ privateKey: key(i), transaction: tx as any }))
}

/** The blocks' sequenced transactions (the derived attributes' `transactions`), one list per block. */
async function bodies(): Promise<Uint8Array[][]> {
  const creator = privateKeyToAccount(key(0)).address
  const contract = getContractAddress({ from: creator, nonce: 0n })
  const to = (n: number): Hex => `0x${n.toString(16).padStart(40, '0')}` as Hex
  return [
    [
      await sign(0, { type: 'eip1559', chainId: DEV_CHAIN_ID, nonce: 0, data: INITCODE, gas: 200_000n, ...fees }),
      await sign(1, { type: 'eip1559', chainId: DEV_CHAIN_ID, nonce: 0, to: to(0x1001), value: 5n, gas: 21_000n, ...fees }),
      await sign(1, {
        type: 'legacy',
        chainId: DEV_CHAIN_ID,
        nonce: 1,
        to: to(0x1002),
        value: 6n,
        gas: 21_000n,
        gasPrice: 10n ** 10n,
      }),
      await sign(1, {
        type: 'eip2930',
        chainId: DEV_CHAIN_ID,
        nonce: 2,
        to: to(0x1003),
        value: 7n,
        gas: 30_000n,
        gasPrice: 10n ** 10n,
        accessList: [{ address: to(0x1003), storageKeys: [] }],
      }),
    ],
    [
      await sign(0, {
        type: 'eip1559',
        chainId: DEV_CHAIN_ID,
        nonce: 1,
        to: contract,
        data: `0x${'ab'.repeat(32)}`,
        gas: 100_000n,
        ...fees,
      }),
      // No calldata: the contract reverts (a failed transaction, still included).
      await sign(0, { type: 'eip1559', chainId: DEV_CHAIN_ID, nonce: 2, to: contract, gas: 100_000n, ...fees }),
      // A plain transfer's shape to a recipient with code: runs the code (and reverts).
      await sign(2, { type: 'eip1559', chainId: DEV_CHAIN_ID, nonce: 0, to: contract, value: 1n, gas: 50_000n, ...fees }),
      // Zero value to an absent account: an EIP-161 touch.
      await sign(1, { type: 'eip1559', chainId: DEV_CHAIN_ID, nonce: 3, to: to(0x1004), value: 0n, gas: 21_000n, ...fees }),
      await sign(3, { type: 'legacy', nonce: 0, to: to(0x1005), value: 9n, gas: 21_000n, gasPrice: 10n ** 10n }),
      ...(await Promise.all(
        Array.from({ length: 24 }, (_, n) =>
          sign(4 + (n % 4), {
            type: 'eip1559',
            chainId: DEV_CHAIN_ID,
            nonce: Math.floor(n / 4),
            to: to(0x2000 + n),
            value: BigInt(n + 1),
            gas: 21_000n,
            ...fees,
          }),
        ),
      )),
    ],
    // A nonce far ahead: the block cannot hold its batch and becomes its deposit-only twin.
    [
      await sign(1, { type: 'eip1559', chainId: DEV_CHAIN_ID, nonce: 4, to: to(0x1006), value: 1n, gas: 21_000n, ...fees }),
      await sign(1, { type: 'eip1559', chainId: DEV_CHAIN_ID, nonce: 99, to: to(0x1007), value: 1n, gas: 21_000n, ...fees }),
    ],
    [await sign(1, { type: 'eip1559', chainId: DEV_CHAIN_ID, nonce: 4, to: to(0x1008), value: 1n, gas: 21_000n, ...fees })],
  ]
}

interface Side {
  opened: OpenedChain
  modules: BlockBuilderModules
}

async function side(dir: string, prepared?: BlockBuilderModules['prepared'], queueCommits = false): Promise<Side> {
  const opened = await openChain(dir, genesis, config, common)
  const commits = queueCommits ? new DerivedCommitQueue(opened.chain) : undefined
  const blockHash = async (n: bigint): Promise<Uint8Array | undefined> => {
    const block = commits?.queued(n) ?? (await opened.chain.blockByNumber(n))
    return block === undefined ? undefined : hexToBytes(block.hash)
  }
  const executor = new SequentialMiniBlockExecutor(await SequentialExecutor.create(common, opened.chain.state.live, blockHash))
  const txOptions = fastTxOptions(common)
  const modules: BlockBuilderModules = {
    opened,
    executor,
    config,
    common,
    decode: (raw) => decodeL2Transaction(raw, txOptions),
    ...(prepared === undefined ? {} : { prepared }),
    ...(commits === undefined ? {} : { commits }),
  }
  return { opened, modules }
}

const json = (value: unknown): string => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v))

describe('derived blocks: transactions prepared by decode workers ahead of execution', () => {
  let dir: string
  const pool = new IngestPool({
    chain: config,
    limits: { blockGasLimit: config.blockGasLimit, maxTxBytes: Number.MAX_SAFE_INTEGER, allowUnprotectedTxs: true },
    workers: 1,
  })
  let preparedCount = 0
  let prepareCalls = 0
  const prefetcher = new TxPrefetcher(async (raws) => {
    prepareCalls++
    const items = (await pool.decode(raws)).map((o): BatchTx | undefined => (o.ok ? o.tx : undefined))
    preparedCount += items.filter((item) => item !== undefined).length
    return items
  })
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'megaeth-derive-prepared-'))
    await pool.start()
  })
  after(async () => {
    await pool.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('builds the same blocks, receipts and state as decoding every transaction in place', async () => {
    const fast = await side(join(dir, 'fast'), (raws) => prefetcher.take(raws))
    const slow = await side(join(dir, 'slow'))
    try {
      const lists = await bodies()
      // The pipeline hands a channel's transactions over before their blocks execute.
      prefetcher.prefetch(lists.flat())
      const built: Array<[BuiltBlock, BuiltBlock]> = []
      for (const [i, transactions] of lists.entries()) {
        const l1 = origin(BigInt(i + 1), i === 0 ? [userDeposit] : [])
        const attributes = blockAttributes(l1, 0n, fast.opened.chain.head.header.timestamp + 1n, transactions)
        built.push([await buildDerivedBlock(fast.modules, attributes), await buildDerivedBlock(slow.modules, attributes)])
      }
      for (const [i, [a, b]] of built.entries()) {
        assert.equal(a.block.hash, b.block.hash, `block ${i + 1} hash`)
        assert.deepEqual(a.block.header.stateRoot, b.block.header.stateRoot)
        assert.equal(json(a.block.receipts), json(b.block.receipts), `block ${i + 1} receipts`)
        assert.equal(a.depositsOnly, b.depositsOnly)
        // The header commits to the transactions the block holds (a deposit-only replacement's too).
        assert.deepEqual(
          a.block.header.transactionsTrie,
          orderedTrieRoot(a.block.transactions),
          `block ${i + 1} transactions root`,
        )
      }
      assert.deepEqual(
        built.map(([a]) => a.depositsOnly),
        [false, false, true, false],
      )
      // Things that would make the comparison vacuous: the mix really ran (a failure, a log, a deposit).
      const receipts = built.flatMap(([a]) => a.block.receipts)
      assert.ok(receipts.some((r) => r.status === 0))
      assert.ok(receipts.some((r) => r.logs.length > 0))
      assert.ok(receipts.some((r) => r.contractAddress !== null))
      assert.equal(built[0]![0].block.transactions.length, 2 + 4)
      // Every sequenced transaction was prepared by the workers, in one prefetch (none decoded again).
      assert.equal(prepareCalls, 1)
      assert.equal(preparedCount, lists.flat().length)

      // Bytes that do not decode: both paths refuse the block the same way, and nothing moved.
      const garbage = [Uint8Array.of(0x02, 0xc1, 0x80)]
      const l1 = origin(5n, [])
      const attributes = blockAttributes(l1, 0n, fast.opened.chain.head.header.timestamp + 1n, garbage)
      const failure = (side: Side) =>
        buildDerivedBlock(side.modules, attributes).then(
          () => 'built',
          (e: unknown) => (e instanceof Error ? e.message : String(e)),
        )
      const [fastError, slowError] = [await failure(fast), await failure(slow)]
      assert.notEqual(fastError, 'built')
      assert.equal(fastError, slowError)
      assert.equal(fast.opened.chain.head.hash, slow.opened.chain.head.hash)
    } finally {
      await fast.opened.close()
      await slow.opened.close()
    }
  })
})

describe('derived blocks written behind the next one (DerivedCommitQueue)', () => {
  it('builds the same blocks as writing each in line; the stores end identical and rewindable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'megaeth-derive-queued-'))
    const queued = await side(join(dir, 'queued'), undefined, true)
    const inline = await side(join(dir, 'inline'))
    const commits = queued.modules.commits!
    try {
      const lists = await bodies()
      const hashes: Array<[string, string]> = []
      let overlapped = 0
      for (const [i, transactions] of lists.entries()) {
        const l1 = origin(BigInt(i + 1), i === 0 ? [userDeposit] : [])
        const attributes = blockAttributes(l1, 0n, inline.opened.chain.head.header.timestamp + 1n, transactions)
        const a = await buildDerivedBlock(queued.modules, attributes)
        // Built on the queued parent while its write may still run; the view gets it once written.
        if (queued.opened.chain.head.header.number < a.block.header.number) overlapped++
        assert.equal(commits.head.hash, a.block.hash)
        const b = await buildDerivedBlock(inline.modules, attributes)
        assert.equal(inline.opened.chain.head.hash, b.block.hash, 'in line: in the view when the build resolves')
        hashes.push([a.block.hash, b.block.hash])
        assert.equal(json(a.block.receipts), json(b.block.receipts), `block ${i + 1} receipts`)
      }
      for (const [i, [a, b]] of hashes.entries()) assert.equal(a, b, `block ${i + 1} hash`)
      assert.ok(overlapped > 0, 'some write was still queued when the next block was built')
      await commits.settled()
      assert.equal(queued.opened.chain.head.hash, inline.opened.chain.head.hash)
      for (let n = 1n; n <= BigInt(lists.length); n++)
        assert.equal(
          (await queued.opened.blocks.block(n))?.hash,
          (await inline.opened.blocks.block(n))?.hash,
          `stored block ${n}`,
        )
      // Every queued block wrote its reverse diff: both rewind to block 1 alike.
      const [ra, rb] = [await rewindChain(queued.opened, 1n), await rewindChain(inline.opened, 1n)]
      assert.equal(ra.head.hash, rb.head.hash)
      assert.equal(ra.dropped.length, lists.length - 1)
      assert.deepEqual(await queued.opened.merkleizer.root(), await inline.opened.merkleizer.root())
    } finally {
      await commits.settled().catch(() => undefined)
      await queued.opened.close()
      await inline.opened.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('fsyncAtMostEvery', () => {
  it('fsyncs the first commit, then the first one after each interval', () => {
    let now = 0
    const fsync = fsyncAtMostEvery(1000, () => now)
    const answers: boolean[] = []
    for (const t of [0, 10, 999, 1000, 1500, 1999, 2000, 5000]) {
      now = t
      answers.push(fsync())
    }
    assert.deepEqual(answers, [true, false, false, true, false, false, true, true])
  })
})
