/**
 * KZG commitments and proofs for the batcher's blobs.
 *
 * viem's `kzg` parameter (`{ blobToKzgCommitment, computeBlobKzgProof }`, bytes in and out) wraps the
 * project's backend (`src/crypto/kzg.ts`, micro-eth-signer over the mainnet setup, hex in and out):
 * `viemKzg` below. But that backend is pure JavaScript, ~1 s per blob for commitment + proof, and
 * viem calls it synchronously: six blobs would stall the sequencer's event loop for seconds. So the
 * batcher computes sidecars in a worker thread (`KzgWorker`) and hands viem finished `sidecars` and
 * `blobVersionedHashes`, with which viem needs no `kzg` at all.
 */
import { Worker } from 'node:worker_threads'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Kzg } from 'viem'
import { lazyKzg } from '../../crypto/kzg.ts'
import type { Hex } from '../../primitives/state-diff.ts'

/** viem's KZG interface over the project's backend (synchronous: for tests and tools, not the sequencer's thread). */
export const viemKzg: Kzg = {
  blobToKzgCommitment: (blob) => hexToBytes(lazyKzg.blobToKzgCommitment(bytesToHex(blob)) as Hex),
  computeBlobKzgProof: (blob, commitment) =>
    hexToBytes(lazyKzg.computeBlobProof(bytesToHex(blob), bytesToHex(commitment)) as Hex),
}

export interface BlobProofs {
  readonly commitments: Uint8Array[]
  readonly proofs: Uint8Array[]
}

/** Computes the commitments and proofs of blobs. */
export interface BlobProver {
  prove(blobs: readonly Uint8Array[]): Promise<BlobProofs>
  stop(): Promise<void>
}

/** The same computation on the calling thread. */
export function inlineBlobProver(): BlobProver {
  return {
    prove: async (blobs) => {
      const commitments = blobs.map((blob) => viemKzg.blobToKzgCommitment(blob))
      return { commitments, proofs: blobs.map((blob, i) => viemKzg.computeBlobKzgProof(blob, commitments[i]!)) }
    },
    stop: async () => undefined,
  }
}

export interface KzgRequest {
  readonly id: number
  readonly blobs: readonly Uint8Array[]
}
export type KzgResponse =
  | { readonly id: number; readonly ok: true; readonly value: BlobProofs }
  | { readonly id: number; readonly ok: false; readonly message: string }

/** A worker thread that proves blobs, started on first use; requests are served in order. */
export class KzgWorker implements BlobProver {
  private worker: Worker | undefined
  private nextId = 0
  private readonly pending = new Map<number, { resolve: (value: BlobProofs) => void; reject: (error: Error) => void }>()

  prove(blobs: readonly Uint8Array[]): Promise<BlobProofs> {
    const worker = this.start()
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      worker.postMessage({ id, blobs } satisfies KzgRequest)
    })
  }

  async stop(): Promise<void> {
    const worker = this.worker
    this.worker = undefined
    if (worker !== undefined) await worker.terminate()
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker
    const worker = new Worker(new URL('./kzg-thread-entry.mjs', import.meta.url))
    // An idle prover must not keep the process alive.
    worker.unref()
    worker.on('message', (response: KzgResponse) => {
      const waiter = this.pending.get(response.id)
      if (waiter === undefined) return
      this.pending.delete(response.id)
      if (response.ok) waiter.resolve(response.value)
      else waiter.reject(new Error(`KZG worker: ${response.message}`))
    })
    const fail = (error: Error): void => {
      if (this.worker === worker) this.worker = undefined
      for (const waiter of this.pending.values()) waiter.reject(error)
      this.pending.clear()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`KZG worker exited with code ${code}`)))
    this.worker = worker
    return worker
  }
}
