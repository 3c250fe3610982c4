/**
 * DA codec benchmark: how many bytes of L1 data a plain ETH transfer to a fresh address costs, in a
 * channel of singular batches and in a channel holding one span batch, under brotli (Fjord) and zlib.
 *
 *   node --import tsx bench/da-codec.ts [--txs=1000] [--blocks=10] [--type=1559|legacy|erc20]
 *
 * The transfers are signed for real (native secp256k1, as the load generator does): 100 senders
 * with consecutive nonces, each to a fresh random address, 0.001–1 ETH, 21,000 gas, wallet-like
 * fees. "DA bytes" is what a calldata batcher transaction carries: version byte, frame headers and
 * the compressed channel; it is quoted against the raw RLP size of the transactions. The issue's
 * target is ≤ 100 bytes per transfer (the incompressible floor is ~85: 65 bytes of signature and a
 * 20-byte recipient).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes } from '@ethereumjs/util'
import secp256k1 from 'secp256k1'
import { decodeBatch, encodeSingularBatch, type SingularBatch } from '../src/da/batch.ts'
import { decodeChannel, encodeChannel } from '../src/da/channel.ts'
import type { CompressOptions } from '../src/da/compression.ts'
import { channelToFrames, encodeBatcherData, MAX_FRAME_DATA_LENGTH } from '../src/da/frame.ts'
import { encodeSpanBatch, spanBatchFromBlocks, type SpanBatchParams } from '../src/da/span-batch.ts'
import { keccak256 } from '../src/crypto/native.ts'
import { rng } from '../test/helpers/rng.ts'
import { benchAccounts } from './load/keys.ts'
import { signNative } from './load/sign.ts'

const CHAIN_ID = 6342n
const GWEI = 10n ** 9n

export interface DaCodecBenchOptions {
  txs?: number
  blocks?: number
  /** `erc20`: EIP-1559 calls of `transfer(address,uint256)` on one token to fresh holders. */
  type?: TransferKind
}

export type TransferKind = '1559' | 'legacy' | 'erc20'

/** The token every `erc20` transfer calls (any fixed address: only the bytes matter here). */
const TOKEN = new Uint8Array(20).fill(0x7e)
/** `transfer(address,uint256)` */
const TRANSFER_SELECTOR = keccak256(new TextEncoder().encode('transfer(address,uint256)')).subarray(0, 4)

export interface DaCodecRow {
  batches: 'singular' | 'span'
  compression: string
  uncompressedBytes: number
  compressedBytes: number
  daBytes: number
  daBytesPerTx: number
  /** raw RLP bytes of the transactions / DA bytes. */
  ratioVsRawTxs: number
  /** Batch encoding (the span split for span batches) + compression. */
  encodeMs: number
  /** Decompression + decoding every batch back to its transactions. */
  decodeMs: number
}

export interface DaCodecBenchResult {
  txs: number
  blocks: number
  type: string
  rawTxBytes: number
  rawBytesPerTx: number
  rows: DaCodecRow[]
}

/** A signed EIP-155 legacy transfer, built like `signNative` (RLP + native secp256k1 and keccak). */
function signLegacy(
  fields: { nonce: number; gasPrice: bigint; to: Uint8Array; value: bigint },
  privateKey: Uint8Array,
): Uint8Array {
  const int = (n: bigint | number) => (BigInt(n) === 0n ? new Uint8Array(0) : bigIntToUnpaddedBytes(BigInt(n)))
  const body = [int(fields.nonce), int(fields.gasPrice), int(21_000), fields.to, int(fields.value), new Uint8Array(0)]
  const { signature, recid } = secp256k1.ecdsaSign(
    keccak256(RLP.encode([...body, int(CHAIN_ID), new Uint8Array(0), new Uint8Array(0)])),
    privateKey,
  )
  const strip = (b: Uint8Array) => b.subarray(b.findIndex((x) => x !== 0) === -1 ? b.length : b.findIndex((x) => x !== 0))
  return RLP.encode([
    ...body,
    int(CHAIN_ID * 2n + 35n + BigInt(recid)),
    strip(signature.subarray(0, 32)),
    strip(signature.subarray(32)),
  ])
}

/** `count` signed ETH transfers to fresh addresses from 100 senders (also used by bench/da.ts). */
/** `transfer(holder, amount)` calldata: the selector, the holder left-padded to 32 bytes, the amount as a 32-byte word. */
function erc20TransferData(holder: Uint8Array, amount: bigint): Uint8Array {
  const data = new Uint8Array(68)
  const word = bigIntToUnpaddedBytes(amount)
  data.set(TRANSFER_SELECTOR, 0)
  data.set(holder, 16)
  data.set(word, 68 - word.length)
  return data
}

export function transfers(count: number, type: TransferKind): Uint8Array[] {
  const r = rng(0xda)
  const senders = benchAccounts('da-codec', 0, 100)
  const nonces = new Map<number, number>()
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const sender = senders[i % senders.length]!
    const nonce = nonces.get(sender.index) ?? 0
    nonces.set(sender.index, nonce + 1)
    const to = r.bytes(20)
    const value = BigInt(1 + r.int(999)) * 10n ** 15n
    if (type === 'legacy')
      out.push(signLegacy({ nonce, gasPrice: GWEI + (BigInt(r.int(3)) * GWEI) / 10n, to, value }, sender.privateKey))
    else {
      const tip = (BigInt(r.pick([0, 1, 1, 2])) * GWEI) / 1000n
      const erc20 = type === 'erc20'
      out.push(
        signNative(
          {
            chainId: CHAIN_ID,
            nonce,
            maxPriorityFeePerGas: tip,
            maxFeePerGas: 2n * GWEI + tip,
            gasLimit: erc20 ? 60_000n : 21_000n,
            to: erc20 ? TOKEN : to,
            value: erc20 ? 0n : value,
            data: erc20 ? erc20TransferData(to, value) : new Uint8Array(0),
          },
          sender.privateKey,
        ),
      )
    }
  }
  return out
}

/** Version byte + 23 bytes per frame + the channel, framed at the 1 MB cap (one calldata tx per frame). */
function daBytes(channel: Uint8Array): number {
  const frames = channelToFrames(new Uint8Array(16), channel, MAX_FRAME_DATA_LENGTH)
  return frames.reduce((n, f) => n + encodeBatcherData([f]).length, 0)
}

export function runDaCodecBench(
  options: DaCodecBenchOptions = {},
  log: (line: string) => void = console.log,
): DaCodecBenchResult {
  const txCount = options.txs ?? 1000
  const blockCount = options.blocks ?? 10
  const type = options.type ?? '1559'
  const txs = transfers(txCount, type)
  const rawTxBytes = txs.reduce((n, tx) => n + tx.length, 0)
  const params: SpanBatchParams = { genesisTimestamp: 1_700_000_000n, blockTime: 1n, chainId: CHAIN_ID }
  const perBlock = Math.ceil(txCount / blockCount)
  const r = rng(7)
  const hash = () => `0x${Buffer.from(r.bytes(32)).toString('hex')}` as const
  const epochHash = hash()
  let parentHash = hash()
  const blocks = Array.from({ length: blockCount }, (_, i) => {
    const block = {
      parentHash,
      epochNumber: 20_000_000n,
      epochHash,
      timestamp: params.genesisTimestamp + 1000n + BigInt(i),
      transactions: txs.slice(i * perBlock, (i + 1) * perBlock),
    }
    parentHash = hash()
    return block
  })
  const timed = <T>(run: () => T): [T, number] => {
    const started = performance.now()
    return [run(), performance.now() - started]
  }
  const [singular, singularMs] = timed(() => blocks.map((b) => encodeSingularBatch(b satisfies SingularBatch)))
  const [span, spanMs] = timed(() => [encodeSpanBatch(spanBatchFromBlocks(blocks, false), params)])
  const compressions: [string, CompressOptions][] = [
    ['brotli-5', { algorithm: 'brotli', level: 5 }],
    ['brotli-9', { algorithm: 'brotli', level: 9 }],
    ['brotli-10', { algorithm: 'brotli', level: 10 }],
    ['brotli-11', { algorithm: 'brotli', level: 11 }],
    ['zlib-9', { algorithm: 'zlib', level: 9 }],
  ]
  const rows: DaCodecRow[] = []
  for (const [name, batches, batchMs] of [
    ['singular', singular, singularMs],
    ['span', span, spanMs],
  ] as const) {
    const uncompressedBytes = batches.reduce((n, b) => n + RLP.encode(b).length, 0)
    for (const [compression, options] of compressions) {
      const [channel, compressMs] = timed(() => encodeChannel(batches, options))
      const [decoded, decodeMs] = timed(() => {
        const { batches: encoded, error } = decodeChannel(channel, { maxBytes: 100_000_000, fjord: true })
        if (error !== undefined) throw new Error(`channel did not decode: ${error.message}`)
        return encoded.map((b) => decodeBatch(b, params))
      })
      const txsBack = decoded.reduce((n, b) => {
        if (!b.ok) throw new Error(`batch did not decode: ${b.error.message}`)
        const blocksBack = b.value.type === 'span' ? b.value.batch.blocks : [b.value.batch]
        return n + blocksBack.reduce((m, block) => m + block.transactions.length, 0)
      }, 0)
      if (txsBack !== txCount) throw new Error(`${txsBack} transactions decoded, expected ${txCount}`)
      const da = daBytes(channel)
      rows.push({
        batches: name,
        compression,
        uncompressedBytes,
        compressedBytes: channel.length,
        daBytes: da,
        daBytesPerTx: da / txCount,
        ratioVsRawTxs: rawTxBytes / da,
        encodeMs: batchMs + compressMs,
        decodeMs,
      })
    }
  }
  log(
    `${txCount} transfers (type ${type}) to fresh addresses in ${blockCount} blocks: raw RLP ${rawTxBytes} B (${(rawTxBytes / txCount).toFixed(1)} B/tx)`,
  )
  log('batches   compression  uncompressed  DA bytes  DA B/tx  raw/DA  encode ms  decode ms')
  for (const row of rows) {
    log(
      `${row.batches.padEnd(9)} ${row.compression.padEnd(12)} ${String(row.uncompressedBytes).padStart(12)}  ${String(row.daBytes).padStart(8)}  ${row.daBytesPerTx.toFixed(1).padStart(7)}  ${row.ratioVsRawTxs.toFixed(2).padStart(6)}  ${row.encodeMs.toFixed(1).padStart(9)}  ${row.decodeMs.toFixed(1).padStart(9)}`,
    )
  }
  return { txs: txCount, blocks: blockCount, type, rawTxBytes, rawBytesPerTx: rawTxBytes / txCount, rows }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
  const results = (['1559', 'legacy', 'erc20'] as const)
    .filter((type) => arg('type') === undefined || arg('type') === type)
    .map((type) => runDaCodecBench({ txs: Number(arg('txs') ?? 1000), blocks: Number(arg('blocks') ?? 10), type }))
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  writeFileSync(new URL('./results/da-codec.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`)
}
