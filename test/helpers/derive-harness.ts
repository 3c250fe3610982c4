/**
 * Test scaffolding for the derivation pipeline: an L2 "sequencer" plan (blocks with their attributes and
 * hashes, which the batches link by parent hash), the batcher's encoding path (batches → channel →
 * frames → batcher data, with `src/da`'s encoders), and a `SafeChain` that accepts each derived block.
 * Block hashes are keccak over the parent hash and the attributes: the pipeline only follows the links.
 */
import { bytesToHex, concatBytes, hexToBytes } from '@ethereumjs/util'
import { keccak256 } from 'viem'
import type { L1Origin, SystemConfigValues } from '../../src/chain/l1-origin.ts'
import { attributesTransactions, blockAttributes, type L2BlockAttributes } from '../../src/chain/l2-block-attributes.ts'
import type { RollupConfig } from '../../src/chain/rollup-config.ts'
import { encodeSingularBatch, type SingularBatch } from '../../src/da/batch.ts'
import { encodeChannel } from '../../src/da/channel.ts'
import { channelToFrames, encodeBatcherData, type Frame } from '../../src/da/frame.ts'
import { encodeSpanBatch, spanBatchFromBlocks } from '../../src/da/span-batch.ts'
import type { DerivedBlock, SafeBlockRef, SafeChain } from '../../src/derive/index.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'

/** keccak(parentHash ‖ every field of the attributes): the test chain's block hash. */
export function l2BlockHash(parentHash: Hex, attributes: L2BlockAttributes): Hex {
  const u64 = (n: bigint) => hexToBytes(`0x${n.toString(16).padStart(16, '0')}`)
  return keccak256(
    concatBytes(
      hexToBytes(parentHash),
      u64(attributes.timestamp),
      hexToBytes(attributes.origin.hash),
      u64(attributes.sequenceNumber),
      attributes.prevRandao,
      ...attributesTransactions(attributes),
    ),
  )
}

export interface PlannedBlock {
  readonly number: bigint
  readonly hash: Hex
  readonly parentHash: Hex
  readonly attributes: L2BlockAttributes
  readonly batch: SingularBatch
}

export function genesisRef(rollup: RollupConfig): SafeBlockRef {
  return {
    number: rollup.genesis.l2.number,
    hash: rollup.genesis.l2.hash,
    timestamp: rollup.genesis.l2Time,
    l1Origin: rollup.genesis.l1,
    sequenceNumber: 0n,
  }
}

/** The sequencer's side: blocks on `parent`, each `{ origin, txs }`, timestamps parent + blockTime. */
export function planBlocks(
  rollup: RollupConfig,
  parent: SafeBlockRef,
  specs: readonly { readonly origin: L1Origin; readonly txs?: readonly Uint8Array[] }[],
): PlannedBlock[] {
  const out: PlannedBlock[] = []
  let head = parent
  for (const spec of specs) {
    const sequenceNumber = spec.origin.number === head.l1Origin.number ? head.sequenceNumber + 1n : 0n
    const timestamp = head.timestamp + rollup.blockTime
    const transactions = spec.txs ?? []
    const attributes = blockAttributes(spec.origin, sequenceNumber, timestamp, transactions)
    const hash = l2BlockHash(head.hash, attributes)
    out.push({
      number: head.number + 1n,
      hash,
      parentHash: head.hash,
      attributes,
      batch: { parentHash: head.hash, epochNumber: spec.origin.number, epochHash: spec.origin.hash, timestamp, transactions },
    })
    head = {
      number: head.number + 1n,
      hash,
      timestamp,
      l1Origin: { number: spec.origin.number, hash: spec.origin.hash },
      sequenceNumber,
    }
  }
  return out
}

export function refOf(block: PlannedBlock): SafeBlockRef {
  return {
    number: block.number,
    hash: block.hash,
    timestamp: block.attributes.timestamp,
    l1Origin: { number: block.attributes.origin.number, hash: block.attributes.origin.hash },
    sequenceNumber: block.attributes.sequenceNumber,
  }
}

export function singularBatches(blocks: readonly PlannedBlock[]): Uint8Array[] {
  return blocks.map((b) => encodeSingularBatch(b.batch))
}

export function spanBatch(rollup: RollupConfig, blocks: readonly PlannedBlock[]): Uint8Array {
  const span = spanBatchFromBlocks(
    blocks.map((b) => ({ ...b.batch })),
    blocks[0]!.attributes.sequenceNumber === 0n,
  )
  return encodeSpanBatch(span, {
    genesisTimestamp: rollup.genesis.l2Time,
    blockTime: rollup.blockTime,
    chainId: rollup.l2ChainId,
  })
}

let nextChannel = 1
/** Encoded batches → one Brotli channel → frames of at most `maxFrame` data bytes. */
export function channelFrames(batches: readonly Uint8Array[], maxFrame = 100_000): Frame[] {
  const id = new Uint8Array(16)
  new DataView(id.buffer).setUint32(12, nextChannel++)
  return channelToFrames(id, encodeChannel(batches, { algorithm: 'brotli', level: 5 }), maxFrame)
}

export function batcherData(frames: readonly Frame[]): Uint8Array {
  return encodeBatcherData(frames)
}

/** The consumer's safe chain: accepts each derived block as the next one, keeps what resets read. */
export class MemorySafeChain implements SafeChain {
  readonly blocks: SafeBlockRef[]
  readonly derived: (DerivedBlock | undefined)[]
  private readonly configs: SystemConfigValues[]

  constructor(rollup: RollupConfig) {
    this.blocks = [genesisRef(rollup)]
    this.derived = [undefined]
    this.configs = [rollup.genesis.systemConfig]
  }

  async safeHead(): Promise<SafeBlockRef> {
    return this.blocks[this.blocks.length - 1]!
  }

  async blockRef(number: bigint): Promise<SafeBlockRef | undefined> {
    return this.blocks[Number(number - this.blocks[0]!.number)]
  }

  async systemConfig(number: bigint): Promise<SystemConfigValues> {
    const config = this.configs[Number(number - this.blocks[0]!.number)]
    if (config === undefined) throw new Error(`no system config for block ${number}`)
    return config
  }

  /** Executes `derived`: its ref, hashed as `planBlocks` hashes. */
  accept(derived: DerivedBlock): SafeBlockRef {
    const head = this.blocks[this.blocks.length - 1]!
    if (derived.parentHash !== head.hash) throw new Error(`derived block ${derived.number} does not build on the head`)
    const { attributes } = derived
    const ref: SafeBlockRef = {
      number: derived.number,
      hash: l2BlockHash(head.hash, attributes),
      timestamp: attributes.timestamp,
      l1Origin: { number: attributes.origin.number, hash: attributes.origin.hash },
      sequenceNumber: attributes.sequenceNumber,
    }
    this.blocks.push(ref)
    this.derived.push(derived)
    this.configs.push(derived.systemConfig)
    return ref
  }

  rewind(to: SafeBlockRef): void {
    const keep = Number(to.number - this.blocks[0]!.number) + 1
    if (this.blocks[keep - 1]?.hash !== to.hash) throw new Error(`rewind target ${to.number} is not on the safe chain`)
    this.blocks.length = keep
    this.derived.length = keep
    this.configs.length = keep
  }
}

export function hex(bytes: Uint8Array): Hex {
  return bytesToHex(bytes)
}
