import { parentPort, workerData } from 'node:worker_threads'
import { GenesisError, type GenesisFile } from '../chain/genesis.ts'
import { genesisStateRoot } from './genesis-state-root.ts'

/** What the thread answers (`genesisStateRootInThread`): the root, or why there is none. */
export type GenesisRootAnswer = { ok: true; root: Uint8Array } | { ok: false; message: string; genesisError: boolean }

/** The thread's one task: the root of the genesis it was started with. */
export async function answerGenesisRoot(): Promise<void> {
  const port = parentPort
  if (port === null) throw new Error('genesis-state-root-thread runs as a worker thread')
  const { genesis } = workerData as { genesis: GenesisFile }
  let answer: GenesisRootAnswer
  try {
    answer = { ok: true, root: await genesisStateRoot(genesis) }
  } catch (error) {
    answer = {
      ok: false,
      message: error instanceof Error ? error.message : String(error),
      genesisError: error instanceof GenesisError,
    }
  }
  port.postMessage(answer)
}
