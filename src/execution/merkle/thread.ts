import { parentPort } from 'node:worker_threads'
import type { StateDiff } from '../../chain/state-diff.ts'
import { StateTrie, type StateTrieAccount } from './state-trie.ts'

export type MerkleRequest = {
  id: number
  body:
    | { kind: 'build'; accounts: StateTrieAccount[] }
    | { kind: 'apply'; diff: StateDiff }
    | { kind: 'root' }
    | { kind: 'proof'; address: Uint8Array; slots: Uint8Array[] }
}

export type MerkleResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string }

/** The worker side of `ThreadedMerkleizer`: one state trie, requests served strictly in order. */
export function serveMerkleRequests(): void {
  const port = parentPort
  if (port === null) throw new Error('merkleizer thread started outside a worker')
  let trie = new StateTrie()
  port.on('message', ({ id, body }: MerkleRequest) => {
    try {
      let value: unknown
      switch (body.kind) {
        case 'build':
          trie = StateTrie.fromAccounts(body.accounts)
          value = trie.root()
          break
        case 'apply':
          value = trie.applyDiff(body.diff)
          break
        case 'root':
          value = trie.root()
          break
        case 'proof':
          value = trie.getProof(body.address, body.slots)
          break
      }
      port.postMessage({ id, ok: true, value } satisfies MerkleResponse)
    } catch (error) {
      port.postMessage({ id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies MerkleResponse)
    }
  })
}
