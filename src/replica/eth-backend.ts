import type { Common } from '@ethereumjs/common'
import type { L2Transaction } from '../chain/l2-transaction.ts'
import { bytesToHex } from '@ethereumjs/util'
import type { ChainConfig } from '../chain/config.ts'
import { nextBaseFee } from '../chain/header.ts'
import type { TxReceipt } from '../chain/receipt.ts'
import type { Hex } from '../primitives/state-diff.ts'
import type { CallWorkerPool } from '../execution/calls/pool.ts'
import { keccak256 } from '../crypto/native.ts'
import type { AccountProof } from '../trie/index.ts'
import type { EthBackend, EthRpcOptions } from '../rpc/eth/backend.ts'
import { SYNC_NOT_READY_CODE, SYNC_TIMEOUT_CODE } from '../rpc/eth/send-methods.ts'
import { RpcError } from '../rpc/errors.ts'
import { decodeWitness, type ExecutionWitness } from '../stateless/index.ts'
import type { BlockReader } from '../storage/chain-stores.ts'
import { proofAtBlock, type StateProofView } from '../rpc/eth/state-proof.ts'
import { ReceiptWaiters } from '../storage/receipt-waiters.ts'
import type { TxForwarder } from './tx-forwarder.ts'

/** What a full replica's JSON-RPC backend reads and forwards through (its options apart: `EthRpcOptions`). */
export interface ReplicaEthBackendModules {
  opened: BlockReader & StateProofView
  config: ChainConfig
  common: Common
  calls: CallWorkerPool
  /** Where sends go: the sequencer. */
  forwarder: TxForwarder
  decode: (raw: Uint8Array) => L2Transaction
  /** `mega_nodeInfo`'s answer, built when asked. */
  info: () => Record<string, unknown>
}

/**
 * A full replica as the JSON-RPC layer sees it: reads from its own chain (mini-block state for
 * `latest`, as on the sequencer), writes forwarded to the sequencer. A synchronous send returns once
 * the receipt is in this replica's own chain, so a client's next read here sees its transaction.
 */
export class ReplicaEthBackend implements EthBackend {
  private readonly waiters = new ReceiptWaiters()
  readonly config: ChainConfig
  readonly common: Common
  readonly calls: CallWorkerPool
  readonly decode: (raw: Uint8Array) => L2Transaction
  private readonly opened: BlockReader & StateProofView
  private readonly forwarder: TxForwarder
  private readonly info: () => Record<string, unknown>

  constructor(
    readonly options: EthRpcOptions,
    modules: ReplicaEthBackendModules,
  ) {
    const { opened } = modules
    this.opened = opened
    this.config = modules.config
    this.common = modules.common
    this.calls = modules.calls
    this.decode = modules.decode
    this.forwarder = modules.forwarder
    this.info = modules.info
    opened.chain.events.on('miniBlock', (block) => this.waiters.onMiniBlock(block))
    opened.chain.events.on('block', (block) => this.waiters.onReceipts(block.receipts))
  }

  get chain() {
    return this.opened.chain
  }

  pendingBaseFee(): bigint {
    const { chain } = this.opened
    const latest = chain.latestMiniBlock
    if (latest !== undefined && latest.blockNumber === chain.pendingBlockNumber) return latest.baseFeePerGas
    const head = chain.head.header
    const parent = { gasUsed: head.gasUsed, gasLimit: head.gasLimit, baseFeePerGas: head.baseFeePerGas ?? this.config.minBaseFee }
    return nextBaseFee(parent, this.config.elasticityMultiplier, this.config.baseFeeMaxChangeDenominator, this.config.minBaseFee)
  }

  /** A replica has no pool: the pending nonce is the newest mini-block's. */
  pendingNonce(address: Hex): bigint {
    return this.opened.chain.latestState().getAccount(address)?.nonce ?? 0n
  }

  submit(raw: Uint8Array): Promise<Hex> {
    return this.forwarder.sendRaw(raw)
  }

  async submitAndWait(
    raw: Uint8Array,
    timeoutMs: number,
  ): Promise<{ hash: Hex; receipt: TxReceipt | undefined; notReady?: string }> {
    const hash = bytesToHex(keccak256(raw)) as Hex
    const waiter = this.waiters.wait(hash, timeoutMs)
    try {
      await this.forwarder.sendRawSync(raw, timeoutMs)
    } catch (error) {
      waiter.cancel()
      if (error instanceof RpcError && error.code === SYNC_NOT_READY_CODE)
        return { hash, receipt: undefined, notReady: error.message.replace(/^transaction not ready: /, '') }
      if (error instanceof RpcError && error.code === SYNC_TIMEOUT_CODE) return { hash, receipt: undefined }
      throw error
    }
    return { hash, receipt: await waiter.promise }
  }

  proof(blockNumber: bigint, address: Hex, slots: Hex[]): Promise<AccountProof | undefined> {
    return proofAtBlock(this.opened, blockNumber, address, slots)
  }

  /** Replicas keep no pool, so no transaction is ever pending here. */
  onPendingTransaction(): () => void {
    return () => undefined
  }

  nodeInfo(): Record<string, unknown> {
    return this.info()
  }

  async witness(number: bigint): Promise<ExecutionWitness | undefined> {
    const bytes = await this.opened.artifacts.witness(number)
    return bytes === undefined ? undefined : decodeWitness(bytes)
  }
}
