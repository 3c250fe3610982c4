/**
 * The worker-thread side of the ingest pool: decodes, validates and ecrecovers a batch of raw txs
 * and returns plain data (see `WireDecodedTx`). Loaded by piscina through worker-entry.mjs.
 *
 * Also importable in-thread (tests, benchmarks): `decodeBatch` is a pure function of its task.
 */
import { isMainThread, workerData } from 'node:worker_threads'
import { createChainCommon, type ChainConfig } from '../../chain/config.ts'
import {
  type DecodeLimits,
  type TxCodec,
  type WireDecodedTx,
  getTxCodec,
  toWireDecodedTx,
  verifyRawTransaction,
} from './decode.ts'
import { type PlainError, toPlainError } from '../../primitives/errors.ts'
import { isTxRejectedError, rejectTx } from './errors.ts'
import { yieldToMainThread } from '../../util/thread-priority.ts'

export interface IngestTask {
  chain: Pick<ChainConfig, 'chainId' | 'name'>
  limits: DecodeLimits
  /**
   * The batch's raw txs back to back (tx i is `packed[offsets[i], offsets[i + 1])`). One buffer,
   * transferred rather than cloned: cloning each caller's Uint8Array would copy its whole backing
   * ArrayBuffer, e.g. an entire request body or an 8 KiB Buffer pool slab per tx.
   */
  packed: Uint8Array
  offsets: Uint32Array
}

export type WireDecodeOutcome = { ok: true; tx: WireDecodedTx } | { ok: false; error: PlainError }

const codecs = new Map<string, TxCodec>()

function codecFor(chain: IngestTask['chain']): TxCodec {
  const key = `${chain.chainId}:${chain.name}`
  let codec = codecs.get(key)
  if (codec === undefined) {
    codec = getTxCodec(createChainCommon(chain))
    codecs.set(key, codec)
  }
  return codec
}

export function decodeBatch(task: IngestTask): WireDecodeOutcome[] {
  const codec = codecFor(task.chain)
  const count = task.offsets.length - 1
  const out: WireDecodeOutcome[] = new Array(count)
  for (let i = 0; i < count; i++) {
    const raw = task.packed.subarray(task.offsets[i]!, task.offsets[i + 1]!)
    try {
      out[i] = { ok: true, tx: toWireDecodedTx(raw, verifyRawTransaction(raw, codec, task.limits)) }
    } catch (err) {
      const rejection = isTxRejectedError(err)
        ? err
        : rejectTx('malformed', { detail: err instanceof Error ? err.message : String(err) })
      out[i] = { ok: false, error: toPlainError(rejection) }
    }
  }
  return out
}

export default decodeBatch

// Below the main thread unless the pool says its owner waits on every answer (`IngestPoolOptions.background`).
if (!isMainThread && (workerData as { background?: boolean } | null)?.background !== false) yieldToMainThread()
