/**
 * The thread side of an execution worker: one `SpeculativeExecutor`, requests served strictly in
 * order (a chunk always runs against the syncs sent before it).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { toPlainError, type PlainError } from '../../primitives/errors.ts'
import type { BlockEnv } from '../block-env.ts'
import type { CommonSpec } from './common-spec.ts'
import { SpeculativeExecutor, type ChunkResult, type PackedTxs } from './speculative.ts'

export interface WorkerInit {
  spec: CommonSpec
  /** Shared Int32: rounds up to this number are abandoned (see `ExecWorkerPool.abandon`). */
  abandoned: Int32Array
}

export type WorkerRequest =
  | { id: number; op: 'snapshot'; data: Uint8Array }
  | { id: number; op: 'sync'; data: Uint8Array }
  | { id: number; op: 'exec'; env: BlockEnv; txs: PackedTxs; continues: boolean; round: number }

export type WorkerResponse = { id: number; ok: true; result?: ChunkResult } | { id: number; ok: false; error: PlainError }

/** Message id of the "ready" announcement a worker posts once its VM is built. */
export const READY_ID = 0

export async function serveExecutionRequests(): Promise<void> {
  const port = parentPort
  if (port === null) throw new Error('execution worker started outside a worker thread')
  const { spec, abandoned } = workerData as WorkerInit
  const executor = await SpeculativeExecutor.create(spec)
  executor.abandoned = abandoned
  let queue: Promise<void> = Promise.resolve()
  port.on('message', (request: WorkerRequest) => {
    queue = queue.then(async () => {
      try {
        switch (request.op) {
          case 'snapshot':
            executor.loadSnapshot(request.data)
            port.postMessage({ id: request.id, ok: true } satisfies WorkerResponse)
            return
          case 'sync':
            executor.applySync(request.data)
            port.postMessage({ id: request.id, ok: true } satisfies WorkerResponse)
            return
          case 'exec': {
            const result = await executor.executeChunk(request.env, request.txs, request.continues, request.round)
            port.postMessage({ id: request.id, ok: true, result } satisfies WorkerResponse, [
              result.records.buffer as ArrayBuffer,
            ])
            return
          }
        }
      } catch (error) {
        port.postMessage({ id: request.id, ok: false, error: toPlainError(error) } satisfies WorkerResponse)
      }
    })
  })
  port.postMessage({ id: READY_ID, ok: true } satisfies WorkerResponse)
}
