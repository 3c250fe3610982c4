import { setImmediate as nextTurn } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import { GenesisError, genesisAccountState, type GenesisFile } from '../chain/genesis.ts'
import { genesisAllocEntries } from '../chain/genesis-stream.ts'
import { trieEntry } from '../state/trie-entries.ts'
import { StateRootBuilder } from '../trie/state-root-builder.ts'
import type { GenesisRootAnswer } from './genesis-state-root-thread.ts'

/**
 * The state root of the genesis alloc, streamed (memory or file) through `StateRootBuilder`, the event
 * loop let in between the builder's steps.
 */
export async function genesisStateRoot(genesis: GenesisFile): Promise<Uint8Array> {
  const builder = new StateRootBuilder()
  for await (const [rawAddress, entry] of genesisAllocEntries(genesis))
    builder.add(trieEntry(genesisAccountState(rawAddress, entry)))
  try {
    const steps = builder.finish()
    for (let step = steps.next(); ; step = steps.next()) {
      if (step.done === true) return step.value
      await nextTurn()
    }
  } catch (error) {
    throw asGenesisError(error)
  }
}

/**
 * `genesisStateRoot` on a thread of its own, for a caller with its own work to do meanwhile: a snapshot
 * sync checks the configured genesis beside its fetch, and at 10M accounts that check is minutes of
 * hashing the fetch's thread need not share. Aborting `signal` stops the thread.
 */
export function genesisStateRootInThread(genesis: GenesisFile, signal: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./genesis-state-root-thread-entry.mjs', import.meta.url), { workerData: { genesis } })
    // A check nobody awaits any more (the sync failed) must not keep the process alive.
    worker.unref()
    const stop = (): void => {
      reject(signal.reason)
      void worker.terminate()
    }
    signal.addEventListener('abort', stop, { once: true })
    const settle = (): void => signal.removeEventListener('abort', stop)
    worker.once('message', (answer: GenesisRootAnswer) => {
      settle()
      if (answer.ok) resolve(answer.root)
      else reject(answer.genesisError ? new GenesisError(answer.message) : new Error(`genesis state root: ${answer.message}`))
      void worker.terminate()
    })
    worker.once('error', (error) => {
      settle()
      reject(error)
    })
    worker.once('exit', (code) => {
      settle()
      reject(new Error(`the genesis state root's thread exited with code ${code}`))
    })
  })
}

/** The trie builder's `RangeError` (an address listed twice) is the genesis file's fault: say so. */
export function asGenesisError(error: unknown): unknown {
  return error instanceof RangeError ? new GenesisError(`genesis alloc: ${error.message}`, { cause: error }) : error
}
