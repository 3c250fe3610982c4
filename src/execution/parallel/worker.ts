/**
 * The thread side of an execution worker: one `SpeculativeExecutor`, requests served strictly in
 * order (a chunk always runs against the syncs sent before it).
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { BlockEnv } from '../block-env.ts'
import type { CommonSpec } from './common-spec.ts'
import { SpeculativeExecutor, type PackedTxs } from './speculative.ts'

export interface WorkerInit {
  spec: CommonSpec
}

export type WorkerRequest =
  | { id: number; op: 'snapshot'; data: Uint8Array }
  | { id: number; op: 'sync'; data: Uint8Array }
  | { id: number; op: 'exec'; env: BlockEnv; txs: PackedTxs }

export type WorkerResponse = { id: number; ok: true; records?: Uint8Array; execUs?: number } | { id: number; ok: false; error: string }

/** Message id of the "ready" announcement a worker posts once its VM is built. */
export const READY_ID = 0

export async function serveExecutionRequests(): Promise<void> {
  const port = parentPort
  if (port === null) throw new Error('execution worker started outside a worker thread')
  const { spec } = workerData as WorkerInit
  const executor = await SpeculativeExecutor.create(spec)
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
            const result = await executor.executeChunk(request.env, request.txs)
            port.postMessage({ id: request.id, ok: true, records: result.records, execUs: result.execUs } satisfies WorkerResponse, [result.records.buffer as ArrayBuffer])
            return
          }
        }
      } catch (error) {
        port.postMessage({ id: request.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies WorkerResponse)
      }
    })
  })
  port.postMessage({ id: READY_ID, ok: true } satisfies WorkerResponse)
}
