/**
 * What derivation reads from L1, as an interface: `ViemL1Reader` answers it from an L1 RPC node (and a
 * beacon node for blobs); tests answer it from memory. Every method reads one block by hash, so an
 * answer never mixes two forks; a block that vanished mid-read throws and the pipeline retries.
 */
import type { L1BlockRef, L1Origin, SystemConfigValues } from '../chain/l1-origin.ts'
import type { Hex } from '../primitives/state-diff.ts'

/** One transaction to the batch inbox from the batcher, in block order. */
export interface BatcherTransaction {
  readonly hash: Hex
  /** Calldata of a non-blob transaction (version byte ‖ frames). Ignored for a blob transaction. */
  readonly calldata: Uint8Array
  /** Versioned hashes of a type-3 transaction: its batcher data is in these blobs, not in its calldata. */
  readonly blobHashes: readonly Hex[] | undefined
}

/** Blob bytes by versioned hash: a beacon node's `blobs` endpoint, or anvil's. */
export interface BlobSource {
  /** The blobs of `hashes` (in that order) of L1 block `ref`, each checked against its versioned hash. */
  blobs(ref: L1BlockRef, hashes: readonly Hex[]): Promise<Uint8Array[]>
}

export interface L1Reader {
  /** The newest L1 block number (the traversal stays `confirmations` behind it). */
  headNumber(): Promise<bigint>
  /** The canonical block at `number`, or undefined past the head. */
  blockRef(number: bigint): Promise<L1BlockRef | undefined>
  /**
   * The block as an L1 origin: its deposits and the system config after its `ConfigUpdate` logs, applied
   * over `configBefore` (updates set absolute values, so passing the config after the block is harmless).
   */
  origin(ref: L1BlockRef, configBefore: SystemConfigValues): Promise<L1Origin>
  /** Transactions of block `ref` to `inbox` from `batcher`, in block order (type-4 transactions excluded). */
  batcherTransactions(ref: L1BlockRef, inbox: Hex, batcher: Hex): Promise<BatcherTransaction[]>
  /**
   * Optional: the blobs of `versionedHashes` in block `ref`, in that order, each checked against its hash
   * (a `BlobSource`). Without it the pipeline reads calldata batches only and reports blob batches as unreadable.
   */
  readonly blobs?: ((ref: L1BlockRef, versionedHashes: readonly Hex[]) => Promise<Uint8Array[]>) | undefined
}
