/**
 * The worker side of the parallel executor: a replica of the committed state and one VM, executing
 * a contiguous chunk of a mini-block's transactions against (start state + the chunk's own earlier
 * writes), recording each transaction's read set with the values seen and its write set.
 *
 * Pure logic (no thread plumbing) so tests can drive it in-thread; `worker.ts` wraps it.
 */
import type { Block } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { TxOptions } from '@ethereumjs/tx'
import { runTx, type VM } from '@ethereumjs/vm'
import type { Hex } from '../../primitives/state-diff.ts'
import { blockForEnv, type BlockEnv } from '../block-env.ts'
import { FlatState } from '../../state/flat-state.ts'
import { JournaledState } from '../../state/journaled-state.ts'
import { createExecutionVM } from '../vm-factory.ts'
import { decodeValidatedTx, fastTxOptions } from '../validated-tx.ts'
import { commonFromSpec, type CommonSpec } from './common-spec.ts'
import { ChunkLayer, RecordingReader } from './layered-state.ts'
import { threadSchedstat } from '../../util/thread-schedstat.ts'
import { MainThreadReason, RecordEncoder } from './records.ts'
import { WireReader, readStateDiff } from './wire.ts'

/** A chunk's transactions, packed for transfer: raw bytes back to back, and sender public keys. */
export interface PackedTxs {
  raw: Uint8Array
  /** tx i is `raw[offsets[i], offsets[i + 1])` */
  offsets: Uint32Array
  /** 64 bytes per tx (uncompressed, no 0x04 prefix): saves the worker an ecrecover. */
  pubKeys: Uint8Array
}

export interface ChunkResult {
  /** Records, one per tx (see records.ts). */
  records: Uint8Array
  /** Wall time spent executing, µs (for the coordinator's chunk sizing). */
  execUs: number
  /** This thread's CPU time executing the chunk, and applying syncs since the previous chunk, µs (0 where the OS does not say). */
  cpuUs: number
  syncCpuUs: number
}

/** The calling thread's CPU time in µs (Linux schedstat), or 0 where unavailable. */
export function threadCpuUs(): number {
  return threadSchedstat().cpuNs / 1000
}

type Phase = 'pre' | 'exec' | 'post'

export class SpeculativeExecutor {
  private replica = new FlatState()
  private readonly layer: ChunkLayer
  private readonly reads: RecordingReader
  private readonly state: JournaledState
  private readonly txOptions: TxOptions
  private vm!: VM
  private env: BlockEnv | undefined
  private block: Block | undefined
  private coinbase: Hex = '0x'
  private phase: Phase = 'pre'
  private flag: MainThreadReason | undefined
  private syncCpuUs = 0
  /** Shared with the coordinator: rounds up to this number are abandoned (their transactions are skipped). */
  abandoned: Int32Array | undefined

  private constructor(private readonly common: Common) {
    this.layer = new ChunkLayer(this.replica)
    this.reads = new RecordingReader(this.layer)
    this.state = new JournaledState(this.reads)
    this.txOptions = fastTxOptions(common)
    this.reads.onEmptinessRead = (address) => {
      if (this.state.peekStorage(address) !== undefined) this.raise(MainThreadReason.emptiness)
    }
    this.state.recorder = {
      onAccountRead: (address) => {
        if (address === this.coinbase && this.phase !== 'post') this.raise(MainThreadReason.coinbase)
      },
      onStorageRead: (address) => {
        if (address === this.coinbase && this.phase !== 'post') this.raise(MainThreadReason.coinbase)
      },
    }
  }

  static async create(spec: CommonSpec): Promise<SpeculativeExecutor> {
    const executor = new SpeculativeExecutor(commonFromSpec(spec))
    executor.vm = await createExecutionVM(executor.common, executor.state, async () => {
      // Workers do not see the chain; the main thread answers BLOCKHASH exactly.
      executor.raise(MainThreadReason.blockhash)
      return undefined
    })
    executor.instrumentRunCall()
    return executor
  }

  /**
   * The fee recipient is credited by `runTx` after the top-level message returns; the phase tells
   * that credit (applied lazily at commit) from accesses during execution (which conflict).
   */
  private instrumentRunCall(): void {
    const evm = this.vm.evm as unknown as { runCall(opts: unknown): Promise<unknown> }
    const original = evm.runCall.bind(evm)
    let depth = 0
    evm.runCall = async (opts: unknown) => {
      if (depth === 0) this.phase = 'exec'
      depth++
      try {
        return await original(opts)
      } finally {
        depth--
        if (depth === 0) {
          // Writes to the recipient always follow a read, but check anyway before fee payment.
          if (this.state.peekAccount(this.coinbase) !== undefined || this.state.peekStorage(this.coinbase) !== undefined)
            this.raise(MainThreadReason.coinbase)
          this.phase = 'post'
        }
      }
    }
  }

  private raise(reason: MainThreadReason): void {
    this.flag ??= reason
  }

  /** Replaces the replica with a full state (encoded `StateDiff` from nothing). */
  loadSnapshot(data: Uint8Array): void {
    this.replica = new FlatState()
    this.replica.apply(readStateDiff(new WireReader(data)))
    this.layer.base = this.replica
  }

  /** Applies committed writes the main thread made since the last sync (encoded `StateDiff`s). */
  applySync(data: Uint8Array): void {
    const cpu = threadCpuUs()
    const r = new WireReader(data)
    while (!r.done) applyWireDiff(r, this.replica)
    this.syncCpuUs += threadCpuUs() - cpu
  }

  private setEnv(env: BlockEnv): void {
    if (this.env !== undefined && sameEnv(this.env, env)) return
    this.env = env
    // The block's fork, as the main thread's executor sets it (the worker's Common is its own).
    this.common.setHardforkBy({ blockNumber: env.number, timestamp: env.timestamp })
    this.block = blockForEnv(env, this.common)
    this.coinbase = env.coinbase.toLowerCase() as Hex
    this.reads.ignored = this.coinbase
  }

  /**
   * Executes transactions in order against the replica plus the chunk's earlier writes.
   * `continues`: these transactions follow the previous call's in the same share (a share is sent in
   * parts so the main thread can validate early ones while later ones run); otherwise a new share.
   */
  async executeChunk(env: BlockEnv, txs: PackedTxs, continues = false, round = 0): Promise<ChunkResult> {
    const started = performance.now()
    const cpu = threadCpuUs()
    this.setEnv(env)
    if (!continues) this.layer.reset()
    const out = new RecordEncoder()
    const count = txs.offsets.length - 1
    for (let i = 0; i < count; i++) {
      // The coordinator gave up on this round (it mostly conflicts): leave the rest to the main thread.
      if (this.abandoned !== undefined && round > 0 && Atomics.load(this.abandoned, 0) >= round) {
        out.mainThread(MainThreadReason.abandoned)
        continue
      }
      await this.executeOne(
        txs.raw.subarray(txs.offsets[i]!, txs.offsets[i + 1]!),
        txs.pubKeys.subarray(i * 64, i * 64 + 64),
        out,
      )
    }
    const records = out.finish()
    const syncCpuUs = this.syncCpuUs
    this.syncCpuUs = 0
    return { records, execUs: (performance.now() - started) * 1000, cpuUs: threadCpuUs() - cpu, syncCpuUs }
  }

  private async executeOne(raw: Uint8Array, pubKey: Uint8Array, out: RecordEncoder): Promise<void> {
    let tx
    try {
      tx = decodeValidatedTx(raw, this.txOptions)
      tx.cache.senderPubKey = pubKey
    } catch {
      out.mainThread(MainThreadReason.decode)
      return
    }
    this.phase = 'pre'
    this.flag = undefined
    this.reads.reset()
    let result
    try {
      result = await runTx(this.vm, { tx, block: this.block!, blockGasUsed: 0n, skipHardForkValidation: true })
    } catch {
      this.raise(MainThreadReason.failed)
      await this.state.revertAll()
    }
    const writes = this.state.takeWrites()
    if (this.flag !== undefined || result === undefined) out.mainThread(this.flag ?? MainThreadReason.internal)
    else {
      out.speculated({
        reads: this.reads,
        writes,
        coinbaseCredit: result.minerValue,
        gasUsed: result.totalGasSpent,
        status: 'status' in result.receipt ? result.receipt.status : 1,
        createdAddress: result.createdAddress === undefined ? undefined : (result.createdAddress.toString() as Hex),
        bloom: result.bloom.bitvector,
        logs: result.receipt.logs,
      })
    }
    // Later transactions of the chunk see this one's writes, whatever becomes of it: if it is
    // re-executed differently, their recorded reads no longer match and they are re-executed too.
    this.layer.apply(writes)
  }
}

/**
 * `replica.apply(readStateDiff(r))` without the intermediate maps: a worker applies every committed
 * write of every round, so this is on its critical path. Same semantics as `FlatState.apply`.
 */
function applyWireDiff(r: WireReader, replica: FlatState): void {
  for (let n = r.u32(); n > 0; n--) {
    const hash = r.hex(32)
    replica.codes.set(hash, r.bytes())
  }
  for (let n = r.u32(); n > 0; n--) {
    const address = r.hex(20)
    const account = r.account()
    const cleared = r.bool()
    let count = r.u32()
    if (account === undefined) {
      replica.accounts.delete(address)
      replica.storage.delete(address)
      for (; count > 0; count--) {
        r.skip(32)
        r.skip(r.u32())
      }
      continue
    }
    replica.accounts.set(address, account)
    let slots = replica.storage.get(address)
    if (cleared && slots !== undefined) slots.clear()
    for (; count > 0; count--) {
      const slot = r.hex(32)
      const value = r.bytes()
      if (value.length === 0) {
        slots?.delete(slot)
        continue
      }
      if (slots === undefined) {
        slots = new Map()
        replica.storage.set(address, slots)
      }
      slots.set(slot, value)
    }
    if (slots !== undefined && slots.size === 0) replica.storage.delete(address)
  }
}

function sameEnv(a: BlockEnv, b: BlockEnv): boolean {
  return (
    a.number === b.number &&
    a.timestamp === b.timestamp &&
    a.coinbase === b.coinbase &&
    a.baseFeePerGas === b.baseFeePerGas &&
    a.gasLimit === b.gasLimit &&
    a.excessBlobGas === b.excessBlobGas &&
    equal(a.prevRandao, b.prevRandao) &&
    equal(a.parentBeaconBlockRoot, b.parentBeaconBlockRoot)
  )
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}
