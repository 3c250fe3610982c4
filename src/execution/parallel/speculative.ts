/**
 * The worker side of the parallel executor: a replica of the committed state and one VM, executing
 * a contiguous chunk of a mini-block's transactions against (start state + the chunk's own earlier
 * writes), recording each transaction's read set with the values seen and its write set.
 *
 * Pure logic (no thread plumbing) so tests can drive it in-thread; `worker.ts` wraps it.
 */
import type { Block } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { createTxFromRLP, type TxOptions } from '@ethereumjs/tx'
import { runTx, type VM } from '@ethereumjs/vm'
import type { Hex } from '../../chain/state-diff.ts'
import { blockForEnv, type BlockEnv } from '../block-env.ts'
import { FlatState } from '../state/flat-state.ts'
import { JournaledState } from '../state/journaled-state.ts'
import { createExecutionVM } from '../vm-factory.ts'
import { commonFromSpec, fastTxOptions, type CommonSpec } from './common-spec.ts'
import { ChunkLayer, RecordingReader } from './layered-state.ts'
import { MainThreadReason, writeMainThreadRecord, writeSpeculatedRecord } from './records.ts'
import { WireReader, WireWriter, readStateDiff } from './wire.ts'

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

  private constructor(private readonly common: Common) {
    this.layer = new ChunkLayer({
      getAccount: (a) => this.replica.getAccount(a),
      getStorage: (a, s) => this.replica.getStorage(a, s),
      hasStorage: (a) => this.replica.hasStorage(a),
      getCode: (h) => this.replica.getCode(h),
    })
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
          if (this.state.peekAccount(this.coinbase) !== undefined || this.state.peekStorage(this.coinbase) !== undefined) this.raise(MainThreadReason.coinbase)
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
  }

  /** Applies committed writes the main thread made since the last sync (encoded `StateDiff`s). */
  applySync(data: Uint8Array): void {
    const r = new WireReader(data)
    while (!r.done) this.replica.apply(readStateDiff(r))
  }

  private setEnv(env: BlockEnv): void {
    if (this.env !== undefined && sameEnv(this.env, env)) return
    this.env = env
    this.block = blockForEnv(env, this.common)
    this.coinbase = env.coinbase.toLowerCase() as Hex
    this.reads.ignored = this.coinbase
  }

  async executeChunk(env: BlockEnv, txs: PackedTxs): Promise<ChunkResult> {
    const started = performance.now()
    this.setEnv(env)
    this.layer.reset()
    const out = new WireWriter(16_384)
    const count = txs.offsets.length - 1
    for (let i = 0; i < count; i++) {
      await this.executeOne(txs.raw.subarray(txs.offsets[i]!, txs.offsets[i + 1]!), txs.pubKeys.subarray(i * 64, i * 64 + 64), out)
    }
    return { records: out.finish(), execUs: (performance.now() - started) * 1000 }
  }

  private async executeOne(raw: Uint8Array, pubKey: Uint8Array, out: WireWriter): Promise<void> {
    let tx
    try {
      tx = createTxFromRLP(raw, this.txOptions)
      tx.cache.senderPubKey = pubKey
    } catch {
      writeMainThreadRecord(out, MainThreadReason.decode)
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
    if (this.flag !== undefined || result === undefined) writeMainThreadRecord(out, this.flag ?? MainThreadReason.internal)
    else {
      writeSpeculatedRecord(out, {
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
