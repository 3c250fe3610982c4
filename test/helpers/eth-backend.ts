/**
 * An `EthBackend` built from real parts (an opened chain, its config and codec) for tests of the RPC
 * namespaces without a sequencer; what those tests do not use throws.
 */
import { EventEmitter } from 'node:events'
import type { L2Transaction } from '../../src/chain/l2-transaction.ts'
import type { ChainConfig, createChainCommon } from '../../src/chain/config.ts'
import type { TxReceipt } from '../../src/chain/receipt.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import type { CallWorkerPool } from '../../src/execution/calls/pool.ts'
import type { AccountProof } from '../../src/trie/index.ts'
import type { EthBackend, EthRpcOptions } from '../../src/rpc/eth/backend.ts'
import type { OpenedChain } from '../../src/node/bootstrap.ts'

export class TestBackend implements EthBackend {
  readonly pendingTxs = new EventEmitter<{ tx: [Hex] }>()
  constructor(
    readonly chain: OpenedChain['chain'],
    readonly config: ChainConfig,
    readonly common: ReturnType<typeof createChainCommon>,
    readonly options: EthRpcOptions,
    readonly decode: (raw: Uint8Array) => L2Transaction,
  ) {}
  get calls(): CallWorkerPool {
    throw new Error('not used by these tests')
  }
  /** The head's base fee: no block is being built. */
  pendingBaseFee(): bigint {
    return this.chain.head.header.baseFeePerGas ?? 0n
  }
  pendingNonce(): bigint {
    throw new Error('unused')
  }
  submit(): Promise<Hex> {
    throw new Error('unused')
  }
  submitAndWait(): Promise<{ hash: Hex; receipt: TxReceipt | undefined }> {
    throw new Error('unused')
  }
  proof(): Promise<AccountProof | undefined> {
    throw new Error('unused')
  }
  onPendingTransaction(listener: (hash: Hex) => void): () => void {
    this.pendingTxs.on('tx', listener)
    return () => this.pendingTxs.off('tx', listener)
  }
  nodeInfo(): Record<string, unknown> {
    return {}
  }
  async witness(): Promise<undefined> {
    return undefined
  }
}
