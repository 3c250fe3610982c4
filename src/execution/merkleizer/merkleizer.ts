import { Worker } from 'node:worker_threads'
import type { BlockContents } from '../../chain/block-contents.ts'
import type { StateDiff } from '../../primitives/state-diff.ts'
import type { BlockAccess } from '../../primitives/block-access.ts'
import { NodeError, fromPlainError } from '../../primitives/errors.ts'
import type { AccountProof, StateTrieAccount } from '../../trie/state-trie.ts'
import type { EncodedStateWitness, MerkleRequest, MerkleResponse, ProofAtRoot, TrieHistoryStats } from './thread.ts'

export interface MerkleizerStartOptions {
  /**
   * How many blocks behind the newest one `getProofAt` can still prove (`--state.history`, default
   * 128): the thread keeps, per block, the trie nodes the block replaced.
   */
  historyBlocks?: number
  /**
   * Run the thread below the main thread's priority (default true; `util/thread-priority.ts`): right for
   * a sequencer, whose 10 ms loop must win the CPU. A `--sync=l1` replica awaits every root it asks for
   * and has no such loop: its merkleizer runs at the main thread's priority.
   */
  background?: boolean
}

/** The merkleizer thread failed a request (`cause`: its error, code and data kept) or is gone. */
export class MerkleizerError extends NodeError<'MERKLEIZER_FAILED', undefined> {
  override readonly name = 'MerkleizerError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('MERKLEIZER_FAILED', message, { cause: options?.cause, severity: 'critical' })
  }
}

/**
 * The state trie in its own thread. Sealing an EVM block merkleizes tens of thousands of accounts
 * under load (tens of ms); on the main thread that would stall the 10 ms mini-block loop, so the
 * trie lives in a worker and the sealer awaits roots while mini-blocks keep flowing.
 */
export class ThreadedMerkleizer {
  private nextId = 0
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  private failure: Error | undefined

  private constructor(private readonly worker: Worker) {
    worker.on('message', (response: MerkleResponse) => {
      const waiter = this.pending.get(response.id)
      if (waiter === undefined) return
      this.pending.delete(response.id)
      if (response.ok) waiter.resolve(response.value)
      else waiter.reject(new MerkleizerError(`merkleizer: ${response.error.message}`, { cause: fromPlainError(response.error) }))
    })
    const fail = (error: Error): void => {
      this.failure = error
      for (const waiter of this.pending.values()) waiter.reject(error)
      this.pending.clear()
    }
    worker.on('error', (error) => fail(error))
    worker.on('exit', (code) => fail(new MerkleizerError(`merkleizer thread exited with code ${code}`)))
  }

  /** Starts the thread and builds the trie of `accounts` in it; resolves with the state root. */
  static async start(
    accounts: Iterable<StateTrieAccount>,
    options: MerkleizerStartOptions = {},
  ): Promise<{ merkleizer: ThreadedMerkleizer; root: Uint8Array }> {
    const worker = new Worker(new URL('./thread-entry.mjs', import.meta.url), {
      workerData: { background: options.background ?? true },
    })
    // An idle merkleizer must not keep the process alive (the owner stops it; this guards tests).
    worker.unref()
    const merkleizer = new ThreadedMerkleizer(worker)
    const root = (await merkleizer.request({
      kind: 'build',
      accounts: [...accounts],
      historyBlocks: options.historyBlocks,
    })) as Uint8Array
    return { merkleizer, root }
  }

  /** Applies a block's diff; resolves with the new state root. Requests are served in order. */
  async applyDiff(diff: StateDiff): Promise<Uint8Array> {
    return (await this.request({ kind: 'apply', diff })) as Uint8Array
  }

  /** Applies a block's diff and records the state part of its witness (`access`: what its execution read). */
  async applyDiffWithWitness(diff: StateDiff, access: BlockAccess): Promise<EncodedStateWitness> {
    return (await this.request({ kind: 'applyWithWitness', diff, access })) as EncodedStateWitness
  }

  /** A block's transaction and receipt roots, bloom and stored encodings, from its mini-blocks' encodings. */
  async blockContents(miniBlocks: Uint8Array[]): Promise<BlockContents> {
    return (await this.request({ kind: 'blockContents', miniBlocks })) as BlockContents
  }

  async root(): Promise<Uint8Array> {
    return (await this.request({ kind: 'root' })) as Uint8Array
  }

  async getProof(address: Uint8Array, slots: Uint8Array[]): Promise<AccountProof> {
    return (await this.request({ kind: 'proof', address, slots })) as AccountProof
  }

  /**
   * EIP-1186 proof against state root `root`: the trie's current one or one it had within the
   * retained history (whatever block the thread is on when the request is served). When `root` is
   * not retained, `proof` is undefined and `oldestRoot` names the oldest root that is.
   */
  async getProofAt(root: Uint8Array, address: Uint8Array, slots: Uint8Array[]): Promise<ProofAtRoot> {
    return (await this.request({ kind: 'proofAt', root, address, slots })) as ProofAtRoot
  }

  /** What the proof history holds (blocks, nodes, bytes): for benchmarks and metrics. */
  async historyStats(): Promise<TrieHistoryStats> {
    return (await this.request({ kind: 'historyStats' })) as TrieHistoryStats
  }

  async stop(): Promise<void> {
    this.failure ??= new MerkleizerError('merkleizer stopped')
    await this.worker.terminate()
  }

  private request(body: MerkleRequest['body']): Promise<unknown> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ id, body } satisfies MerkleRequest)
    })
  }
}
