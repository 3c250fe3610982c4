import type { Common } from '@ethereumjs/common'
import type { ChainConfig } from '../../chain/config.ts'
import type { L2Transaction } from '../../chain/l2-transaction.ts'
import type { TxReceipt } from '../../chain/receipt.ts'
import type { Hex } from '../../primitives/state-diff.ts'
import type { CallWorkerPool } from '../../execution/calls/pool.ts'
import type { AccountProof } from '../../trie/index.ts'
import type { ExecutionWitness } from '../../stateless/index.ts'
import type { ChainView } from '../../storage/chain-view.ts'

/** What the eth/realtime/mega namespaces need from a role (sequencer now; replica forwards writes). */
export interface EthBackend {
  readonly chain: ChainView
  readonly config: ChainConfig
  readonly common: Common
  readonly calls: CallWorkerPool
  readonly options: EthRpcOptions
  /** Decodes a stored transaction of a block (deposits included: see `decodeL2Transaction`). */
  decode(raw: Uint8Array): L2Transaction
  /** Base fee of the EVM block currently being built. */
  pendingBaseFee(): bigint
  /** Next nonce counting pooled transactions (`eth_getTransactionCount(…, 'pending')`). */
  pendingNonce(address: Hex): bigint
  submit(raw: Uint8Array): Promise<Hex>
  submitAndWait(raw: Uint8Array, timeoutMs: number): Promise<{ hash: Hex; receipt: TxReceipt | undefined; notReady?: string }>
  /** EIP-1186 proof at the newest sealed block, or undefined when `blockNumber` is not that block. */
  proof(blockNumber: bigint, address: Hex, slots: Hex[]): Promise<AccountProof | undefined>
  /** Calls `listener` with each transaction hash as it enters the pool as executable; returns an unsubscribe. */
  onPendingTransaction(listener: (hash: Hex) => void): () => void
  nodeInfo(): Record<string, unknown>
  /** The state witness of sealed block `number`, while this node keeps it. */
  witness(number: bigint): Promise<ExecutionWitness | undefined>
}

export interface EthRpcOptions {
  /** Gas cap for eth_call / eth_estimateGas (geth: 50M). */
  gasCap: bigint
  /** Longest eth_getLogs block range. */
  maxLogsRange: bigint
  /** Most logs one eth_getLogs returns. */
  maxLogsResults: number
  /** Default wait of eth_sendRawTransactionSync when the client gives none (EIP-7966 suggests 2 s). */
  syncSendTimeoutMs: number
  /** Longest wait a client may ask eth_sendRawTransactionSync for. */
  maxSyncSendTimeoutMs: number
  /** How long realtime_sendRawTransaction waits before "realtime transaction expired". */
  realtimeTimeoutMs: number
  /** Most filters installed at once (eth_newFilter …), by one client (peer address) and in total, and how long an unpolled one lives. */
  maxFilters: number
  maxFiltersPerClient: number
  filterTimeoutMs: number
}

export const DEFAULT_ETH_RPC_OPTIONS: Readonly<EthRpcOptions> = Object.freeze({
  gasCap: 50_000_000n,
  maxLogsRange: 10_000n,
  maxLogsResults: 10_000,
  syncSendTimeoutMs: 2_000,
  maxSyncSendTimeoutMs: 60_000,
  realtimeTimeoutMs: 10_000,
  maxFilters: 10_000,
  maxFiltersPerClient: 1_000,
  filterTimeoutMs: 5 * 60_000,
})
