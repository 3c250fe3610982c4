import { Worker } from 'node:worker_threads'
import type { BlockContents } from '../../chain/block-contents.ts'
import type { StateDiff } from '../../primitives/state-diff.ts'
import type { BlockAccess } from '../../primitives/block-access.ts'
import { NodeError, fromPlainError } from '../../primitives/errors.ts'
import type { AccountProof, StateTrieAccount, TrieAccount } from '../../trie/state-trie.ts'
import type {
  EncodedStateWitness,
  MerkleRequest,
  MerkleResponse,
  MerkleizerThreadData,
  ProofAtRoot,
  TrieHistoryStats,
  TrieNodeStoreStats,
} from './thread.ts'

/** How long `stop()` waits for the thread to close its node store before terminating it anyway. */
const CLOSE_TIMEOUT_MS = 10_000

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
  /**
   * Persist the trie's nodes in this directory (`storage/trie-node-store.ts`, `<datadir>/trie`): each
   * update's new nodes are written, fsynced, before its root is answered, and a restart opens the
   * head's root from it (`openRoot`) instead of rebuilding. Without it the trie lives in memory only.
   */
  trieDir?: string
  /** Read cache of the node store, in bytes (default 16 MiB). */
  trieCacheBytes?: number
  /**
   * How many decoded nodes (loaded from the store or created since) the persisted trie holds before
   * it forgets all but its upper levels (default 500,000; `DEFAULT_TRIE_NODE_LIMIT`): the bound on
   * the trie's memory, which without a store is the whole state.
   */
  trieNodeLimit?: number
}

/** The merkleizer thread failed a request (`cause`: its error, code and data kept) or is gone. */
export interface ApplyOptions {
  /** Fsync the update's trie nodes before answering (default true); see `applyDiff`. */
  durable?: boolean
}

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

  /** Starts the thread and builds the trie of `accounts` in it (persisting it with `trieDir`); resolves with the state root. */
  static async start(
    accounts: Iterable<StateTrieAccount>,
    options: MerkleizerStartOptions = {},
  ): Promise<{ merkleizer: ThreadedMerkleizer; root: Uint8Array }> {
    const merkleizer = ThreadedMerkleizer.spawn(options)
    try {
      return { merkleizer, root: await merkleizer.build(accounts, options.historyBlocks) }
    } catch (error) {
      await merkleizer.stop()
      throw error
    }
  }

  /**
   * Starts the thread with an empty trie (and, with `trieDir`, its node store open): follow with
   * `openRoot` or `build`.
   */
  static spawn(options: MerkleizerStartOptions = {}): ThreadedMerkleizer {
    const workerData: MerkleizerThreadData = {
      background: options.background ?? true,
      ...(options.trieDir === undefined ? {} : { trieDir: options.trieDir }),
      ...(options.trieCacheBytes === undefined ? {} : { trieCacheBytes: options.trieCacheBytes }),
      ...(options.trieNodeLimit === undefined ? {} : { trieNodeLimit: options.trieNodeLimit }),
    }
    const worker = new Worker(new URL('./thread-entry.mjs', import.meta.url), { workerData })
    // An idle merkleizer must not keep the process alive (the owner stops it; this guards tests).
    worker.unref()
    return new ThreadedMerkleizer(worker)
  }

  /** Replaces the trie with one built from `accounts` (and persisted, with a node store); resolves with its root. */
  async build(accounts: Iterable<StateTrieAccount>, historyBlocks?: number): Promise<Uint8Array> {
    return (await this.request({ kind: 'build', accounts: [...accounts], historyBlocks })) as Uint8Array
  }

  /**
   * Opens the persisted state whose root is `root` (nothing is loaded until walked); false when the
   * node store does not hold that root (a datadir from before persisted tries, or a crash before the
   * nodes were written): then `build` from the flat state.
   */
  async openRoot(root: Uint8Array, historyBlocks?: number): Promise<boolean> {
    return (await this.request({ kind: 'open', root, historyBlocks })) as boolean
  }

  /** The accounts at `addresses` as the trie holds them (undefined when absent): a start-up cross-check against the flat state. */
  async accounts(addresses: Uint8Array[]): Promise<Array<TrieAccount | undefined>> {
    return (await this.request({ kind: 'accounts', addresses })) as Array<TrieAccount | undefined>
  }

  /** The node store's read and write counters (undefined without one): for benchmarks and metrics. */
  async storeStats(): Promise<TrieNodeStoreStats | undefined> {
    return (await this.request({ kind: 'storeStats' })) as TrieNodeStoreStats | undefined
  }

  /**
   * Applies a block's diff; resolves with the new state root. Requests are served in order. With a
   * node store the new nodes are written first, fsynced when `durable` (the default): a block the node
   * fsyncs gets nodes as durable as itself; a block that can be fetched again (derived from L1) need
   * not wait for the disk — a power loss then costs a trie rebuild at the next start, never a wrong root.
   */
  async applyDiff(diff: StateDiff, { durable = true }: ApplyOptions = {}): Promise<Uint8Array> {
    return (await this.request({ kind: 'apply', diff, durable })) as Uint8Array
  }

  /** Applies a block's diff and records the state part of its witness (`access`: what its execution read). */
  async applyDiffWithWitness(
    diff: StateDiff,
    access: BlockAccess,
    { durable = true }: ApplyOptions = {},
  ): Promise<EncodedStateWitness> {
    return (await this.request({ kind: 'applyWithWitness', diff, access, durable })) as EncodedStateWitness
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
   * not retained, `proof` is undefined and `oldestRoot` names the oldest root that is. `fromStore`: a
   * root the history lacks may be proved from the persisted nodes (`StateTrie.getProofAt`).
   */
  async getProofAt(root: Uint8Array, address: Uint8Array, slots: Uint8Array[], fromStore = false): Promise<ProofAtRoot> {
    return (await this.request({ kind: 'proofAt', root, address, slots, fromStore })) as ProofAtRoot
  }

  /** What the proof history holds (blocks, nodes, bytes): for benchmarks and metrics. */
  async historyStats(): Promise<TrieHistoryStats> {
    return (await this.request({ kind: 'historyStats' })) as TrieHistoryStats
  }

  /** Closes the node store (its LevelDB lock must be released before the datadir is reopened) and ends the thread. */
  async stop(): Promise<void> {
    if (this.failure === undefined) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)
      })
      // A failed close is the thread's problem to report; terminating is what stops it either way.
      await Promise.race([this.request({ kind: 'close' }).catch(() => undefined), timeout])
      clearTimeout(timer)
    }
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
