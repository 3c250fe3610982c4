/** The KZG worker's side: proves each request's blobs with the project's backend, in order. */
import { parentPort } from 'node:worker_threads'
import { inlineBlobProver, type KzgRequest, type KzgResponse } from './kzg.ts'

export function serveKzgRequests(): void {
  const port = parentPort
  if (port === null) throw new Error('serveKzgRequests runs in a worker thread')
  const prover = inlineBlobProver()
  port.on('message', async (request: KzgRequest) => {
    let response: KzgResponse
    try {
      response = { id: request.id, ok: true, value: await prover.prove(request.blobs) }
    } catch (error) {
      response = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) }
    }
    port.postMessage(response)
  })
}
