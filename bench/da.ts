/**
 * DA cost through the real batcher: signed ETH transfers and ERC-20 transfers in sealed L1-anchored
 * L2 blocks, posted by `Batcher` to anvil (Prague, 1 s blocks) as calldata and as blobs, read back
 * from L1 and decoded (frames → channel → span batch, derivation-free) and compared with the blocks.
 * Reports L1 data bytes per transfer, raw-RLP / DA-bytes compression ratio, L1 gas and blob gas per
 * transfer, and the time to decode the inbox data.
 *
 *   node --import tsx bench/da.ts [--txs=2000] [--blocks=20]      (or: npm run bench -- da)
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { pino } from 'pino'
import { createPublicClient, createWalletClient, http, type PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { SealedBlock } from '../src/chain/block.ts'
import { depositCount } from '../src/chain/l2-block-attributes.ts'
import type { RollupConfig } from '../src/chain/rollup-config.ts'
import { Batcher } from '../src/da/batcher/batcher.ts'
import type { DataAvailabilityType } from '../src/da/batcher/options.ts'
import { decodeInbox, inboxTxs, TestChain } from '../test/helpers/batcher.ts'
import { makeBlocks, testRollupConfig } from '../test/helpers/l2-blocks.ts'
import { DEV_KEYS, startAnvil } from '../test/helpers/node-process.ts'
import { type TransferKind, transfers } from './da-codec.ts'

/** The workloads posted: EIP-1559 ETH transfers and ERC-20 `transfer` calls, both to fresh addresses. */
const KINDS = ['1559', 'erc20'] as const satisfies readonly TransferKind[]

export interface DaBenchRow {
  kind: (typeof KINDS)[number]
  da: DataAvailabilityType
  l2Txs: number
  l1Txs: number
  blobs: number
  dataBytes: number
  bytesPerL2Tx: number
  /** Raw RLP bytes of the transfers / batcher data bytes. */
  compressionRatio: number
  l1GasPerL2Tx: number
  blobGasPerL2Tx: number
  /** Seconds from the first block sealed to the last one confirmed on L1. */
  postSeconds: number
  /** Decoding the inbox data back to blocks (frames, Brotli, span batch). */
  decodeMs: number
}

export async function runDaBench(
  options: { txs?: number; blocks?: number } = {},
  log: (line: string) => void = console.log,
): Promise<DaBenchRow[]> {
  const txCount = options.txs ?? 2000
  const blockCount = options.blocks ?? 20
  const rollup = testRollupConfig()
  const rows: DaBenchRow[] = []
  for (const kind of KINDS) {
    const txs = transfers(txCount, kind)
    const perBlock = Math.ceil(txCount / blockCount)
    const blocks = await makeBlocks(rollup, {
      count: blockCount,
      transactions: (i) => txs.slice(i * perBlock, (i + 1) * perBlock),
    })
    const rawBytes = txs.reduce((n, tx) => n + tx.length, 0)
    for (const da of ['calldata', 'blobs'] as const) rows.push(await postAndMeasure(rollup, kind, da, blocks, rawBytes, txCount))
    log(`${kind}: ${txCount} transfers in ${blockCount} L2 blocks, raw RLP ${(rawBytes / txCount).toFixed(1)} B/tx`)
  }
  log('kind   da        L1 txs  blobs  DA B/tx  raw/DA  L1 gas/tx  blob gas/tx  post s  decode ms')
  for (const r of rows)
    log(
      `${r.kind.padEnd(6)} ${r.da.padEnd(9)} ${String(r.l1Txs).padStart(6)}  ${String(r.blobs).padStart(5)}  ${r.bytesPerL2Tx.toFixed(1).padStart(7)}  ${r.compressionRatio.toFixed(2).padStart(6)}  ${r.l1GasPerL2Tx.toFixed(0).padStart(9)}  ${r.blobGasPerL2Tx.toFixed(0).padStart(11)}  ${r.postSeconds.toFixed(1).padStart(6)}  ${r.decodeMs.toFixed(0).padStart(9)}`,
    )
  return rows
}

/** Posts `blocks` through a fresh anvil and batcher, reads the inbox back and measures it. */
async function postAndMeasure(
  rollup: RollupConfig,
  kind: DaBenchRow['kind'],
  da: DataAvailabilityType,
  blocks: readonly SealedBlock[],
  rawBytes: number,
  txCount: number,
): Promise<DaBenchRow> {
  const blockCount = blocks.length
  const anvil = await startAnvil(['--block-time', '1', '--hardfork', 'prague', '--quiet'])
  try {
    const l1 = createPublicClient({ transport: http(anvil.rpcUrl), cacheTime: 0 }) as PublicClient
    const wallet = createWalletClient({ account: privateKeyToAccount(DEV_KEYS[1]!), transport: http(anvil.rpcUrl) })
    const chain = new TestChain(blocks)
    const batcher = new Batcher(
      { dataAvailabilityType: da, pollIntervalMs: 200, txManager: { pollIntervalMs: 200 } },
      { l1, wallet, rollup, blocks: chain, logger: pino({ level: 'warn' }) },
    )
    const started = performance.now()
    chain.seal(blockCount)
    batcher.start()
    batcher.flush()
    while (batcher.postedThrough < BigInt(blockCount)) {
      if (performance.now() - started > 120_000) throw new Error(`${da}: not posted within 120 s`)
      await new Promise((r) => setTimeout(r, 100))
    }
    const postSeconds = (performance.now() - started) / 1000
    await batcher.stop()
    const inbox = await inboxTxs(rollup, l1, anvil.rpcUrl, batcher.address)
    const t = performance.now()
    const decoded = decodeInbox(rollup, inbox)
    const decodeMs = performance.now() - t
    const decodedTxs = decoded.reduce((n, b) => n + b.transactions.length, 0)
    const expectedTxs = blocks.reduce((n, b) => n + b.transactions.length - depositCount(b.transactions), 0)
    if (decoded.length !== blockCount || decodedTxs !== expectedTxs)
      throw new Error(`${da}: decoded ${decoded.length} blocks / ${decodedTxs} txs, expected ${blockCount} / ${expectedTxs}`)
    const dataBytes = inbox.reduce((n, tx) => n + tx.data.reduce((m, d) => m + d.length, 0), 0)
    const gas = inbox.reduce((n, tx) => n + tx.gasUsed, 0n)
    const blobGas = inbox.reduce((n, tx) => n + tx.blobGasUsed, 0n)
    return {
      kind,
      da,
      l2Txs: txCount,
      l1Txs: inbox.length,
      blobs: inbox.reduce((n, tx) => n + tx.versionedHashes.length, 0),
      dataBytes,
      bytesPerL2Tx: dataBytes / txCount,
      compressionRatio: rawBytes / dataBytes,
      l1GasPerL2Tx: Number(gas) / txCount,
      blobGasPerL2Tx: Number(blobGas) / txCount,
      postSeconds,
      decodeMs,
    }
  } finally {
    await anvil.stop()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
  const rows = await runDaBench({ txs: Number(arg('txs') ?? 2000), blocks: Number(arg('blocks') ?? 20) })
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  writeFileSync(new URL('./results/da.json', import.meta.url), `${JSON.stringify(rows, null, 2)}\n`)
}
