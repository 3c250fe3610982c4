/**
 * The thread side of a call worker: one `SequentialExecutor` over a `RemoteState`, one task at a
 * time (the pool sends the next only after this one's answer).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { yieldToMainThread } from '../../util/thread-priority.ts'
import type { BlockEnv } from '../block-env.ts'
import { SequentialExecutor } from '../executor.ts'
import { setStepInterrupt } from '../interpreter-sync-steps.ts'
import { commonFromSpec, type CommonSpec } from '../parallel/common-spec.ts'
import { CallAbortedError, RemoteState, type Prefetched } from './state-channel.ts'
import { runCallTask, type CallTask, type CallTaskOutcome } from './tasks.ts'

/** Message id of the "ready" announcement a worker posts once its VM is built. */
export const READY_ID = 0

export interface CallWorkerInit {
  spec: CommonSpec
  /** The worker's end of its state channel (see state-channel.ts). */
  port: MessagePort
  signal: Int32Array
}

/** `deadline`: wall-clock ms (`Date.now()`) after which the task stops by itself. */
export type CallWorkerRequest = { id: number; env: BlockEnv; task: CallTask; deadline: number; prefetched: Prefetched }

export type CallWorkerResponse =
  | { id: number; ok: true; outcome: CallTaskOutcome }
  | { id: number; ok: false; aborted: boolean; error: string }
  /** Posted once, when the VM is built. */
  | { id: typeof READY_ID; ready: true }

export async function serveCalls(): Promise<void> {
  const parent = parentPort
  if (parent === null) throw new Error('call worker started outside a worker thread')
  // A call is worth less than the next mini-block: the main thread wins the CPU over it.
  yieldToMainThread()
  const { spec, port, signal } = workerData as CallWorkerInit
  const state = new RemoteState(port, signal)
  const executor = await SequentialExecutor.create(commonFromSpec(spec), state, async (n) => state.blockHash(n))
  let deadline = Number.POSITIVE_INFINITY
  const stopped = () => state.aborted || Date.now() >= deadline
  setStepInterrupt(() => {
    if (stopped()) throw new CallAbortedError('call aborted')
  })
  parent.on('message', (request: CallWorkerRequest) => {
    state.begin(request.id, request.prefetched)
    deadline = request.deadline
    runCallTask(executor, state, request.env, request.task).then(
      (outcome) => {
        // ethereumjs may turn the interrupt into a failed frame and carry on: the flag decides.
        const response: CallWorkerResponse = stopped()
          ? { id: request.id, ok: false, aborted: true, error: 'call aborted' }
          : { id: request.id, ok: true, outcome }
        parent.postMessage(response)
      },
      (error: unknown) => {
        const aborted = error instanceof CallAbortedError || stopped()
        parent.postMessage({
          id: request.id,
          ok: false,
          aborted,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        } satisfies CallWorkerResponse)
      },
    )
  })
  parent.postMessage({ id: READY_ID, ready: true } satisfies CallWorkerResponse)
}
