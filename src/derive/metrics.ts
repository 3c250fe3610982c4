/** Derivation counters: what was read from L1, what was dropped and why, what was derived. */
import { Counter, Gauge, type Registry } from 'prom-client'

export interface DerivationMetrics {
  observeL1Block(number: bigint): void
  /** Batcher data skipped before frames: a stranger's, malformed, an unreadable blob. */
  observeSkippedData(reason: string): void
  observeDroppedFrame(reason: string): void
  observeDroppedChannel(reason: string): void
  observeDroppedBatch(reason: string): void
  observeDerivedBlock(source: 'batch' | 'sequencing-window', number: bigint): void
  observeReset(kind: 'reorg' | 'requested'): void
  /** Time spent in one stage of deriving and building blocks (where a replica's rebuild time goes). */
  observeStage?(stage: DerivationStage, seconds: number): void
  /** A channel the reader reached was decoded ahead (`hit`, `ChannelPrefetcher`) or not (`miss`: decoded then). */
  observeChannelPrefetch?(outcome: 'hit' | 'miss'): void
}

/**
 * The stages a derived block goes through, timed as the wall-clock time the derivation loop spends
 * waiting on or running each: L1 reads (refs, origins, batcher data, blobs), channel and batch decoding,
 * waiting for the decode workers' prepared transactions, execution, merkleization (the trie thread),
 * header roots, waiting for the parent's write (`DerivedCommitQueue`), building the commit's ops, the
 * LevelDB write when it is awaited in line, and sleeping while L1 has nothing new.
 */
export type DerivationStage =
  | 'l1_read'
  | 'batch_decode'
  | 'prefetch_wait'
  | 'execute'
  | 'merkleize'
  | 'roots'
  | 'commit_wait'
  | 'commit'
  | 'commit_write'
  | 'idle'

export function createDerivationMetrics(registry: Registry): Required<DerivationMetrics> {
  const l1 = new Gauge({
    name: 'megaeth_derive_l1_block',
    help: 'L1 block the derivation pipeline has read',
    registers: [registry],
  })
  const safe = new Gauge({ name: 'megaeth_derive_safe_block', help: 'Newest L2 block derived from L1', registers: [registry] })
  const counter = (name: string, help: string, label: string) =>
    new Counter({ name: `megaeth_derive_${name}_total`, help, labelNames: [label], registers: [registry] })
  const skipped = counter('skipped_data', 'Batcher data skipped before frame decoding', 'reason')
  const frames = counter('dropped_frames', 'Frames dropped by the Holocene frame rules', 'reason')
  const channels = counter('dropped_channels', 'Channels dropped (timed out, replaced, too large, undecodable)', 'reason')
  const batches = counter('dropped_batches', 'Batches dropped by the batch validity rules', 'reason')
  const derived = counter('blocks', 'L2 blocks derived', 'source')
  const resets = counter('resets', 'Pipeline resets', 'kind')
  const stages = counter('stage_seconds', 'Seconds the derivation loop spent in each stage', 'stage')
  const prefetched = counter('channel_prefetch', 'Channels the reader reached, decoded ahead (hit) or not (miss)', 'outcome')
  return {
    observeL1Block: (n) => l1.set(Number(n)),
    observeSkippedData: (reason) => skipped.inc({ reason }),
    observeDroppedFrame: (reason) => frames.inc({ reason }),
    observeDroppedChannel: (reason) => channels.inc({ reason }),
    observeDroppedBatch: (reason) => batches.inc({ reason }),
    observeDerivedBlock: (source, n) => {
      derived.inc({ source })
      safe.set(Number(n))
    },
    observeReset: (kind) => resets.inc({ kind }),
    observeStage: (stage, seconds) => stages.inc({ stage }, seconds),
    observeChannelPrefetch: (outcome) => prefetched.inc({ outcome }),
  }
}

/** For a pipeline built without a registry. */
export const NO_METRICS: DerivationMetrics = {
  observeL1Block: () => {},
  observeSkippedData: () => {},
  observeDroppedFrame: () => {},
  observeDroppedChannel: () => {},
  observeDroppedBatch: () => {},
  observeDerivedBlock: () => {},
  observeReset: () => {},
  observeStage: () => {},
  observeChannelPrefetch: () => {},
}
