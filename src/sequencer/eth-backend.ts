import type { Common } from '@ethereumjs/common'
import type { L2Transaction } from '../chain/l2-transaction.ts'
import type { Hex } from '../primitives/state-diff.ts'
import type { CallWorkerPool } from '../execution/calls/pool.ts'
import type { AccountProof } from '../trie/index.ts'
import type { EthBackend, EthRpcOptions } from '../rpc/eth/backend.ts'
import { RpcError, RpcErrorCode } from '../rpc/errors.ts'
import { decodeWitness, type ExecutionWitness } from '../stateless/index.ts'
import type { BlockArtifactStore } from '../storage/block-artifact-store.ts'
import type { BlockReader } from '../storage/chain-stores.ts'
import type { ChainView } from '../storage/chain-view.ts'
import { proofAtBlock, type StateProofView } from '../rpc/eth/state-proof.ts'
import { isSequencerHaltedError } from './errors.ts'
import { isTxRejectedError, txRejectionToJsonRpc } from './ingest/index.ts'
import type { Sequencer } from './sequencer.ts'

/** What the sequencer's JSON-RPC backend reads and writes through (its options apart: `EthRpcOptions`). */
export interface SequencerEthBackendModules {
  sequencer: Sequencer
  opened: BlockReader & StateProofView
  common: Common
  calls: CallWorkerPool
  /** `mega_nodeInfo`'s answer, built when asked. */
  info: () => Record<string, unknown>
}

/** The sequencer as the JSON-RPC layer sees it: reads from its chain, writes into its pool. */
export class SequencerEthBackend implements EthBackend {
  readonly chain: ChainView
  readonly common: Common
  readonly calls: CallWorkerPool
  private readonly sequencer: Sequencer
  private readonly merkleizer: StateProofView['merkleizer']
  private readonly artifacts: BlockArtifactStore
  private readonly info: () => Record<string, unknown>

  constructor(
    readonly options: EthRpcOptions,
    modules: SequencerEthBackendModules,
  ) {
    this.sequencer = modules.sequencer
    this.chain = modules.opened.chain
    this.merkleizer = modules.opened.merkleizer
    this.artifacts = modules.opened.artifacts
    this.common = modules.common
    this.calls = modules.calls
    this.info = modules.info
  }

  get config() {
    return this.sequencer.config
  }

  /** Stored transactions: OP deposits here (`Sequencer.decode` is the executor's decoder, which knows none), the rest as stored. */
  decode = (raw: Uint8Array): L2Transaction => this.sequencer.decode(raw)

  pendingBaseFee(): bigint {
    return this.sequencer.baseFee
  }

  pendingNonce(address: Hex): bigint {
    const stateNonce = this.chain.latestState().getAccount(address)?.nonce ?? 0n
    const pooled = this.sequencer.pool.pendingNonce(address)
    return pooled > stateNonce ? pooled : stateNonce
  }

  async submit(raw: Uint8Array): Promise<Hex> {
    try {
      return (await this.sequencer.submit(raw)).tx.hash
    } catch (error) {
      throw asRpcError(error)
    }
  }

  async submitAndWait(raw: Uint8Array, timeoutMs: number) {
    try {
      return await this.sequencer.submitAndWait(raw, timeoutMs)
    } catch (error) {
      throw asRpcError(error)
    }
  }

  proof(blockNumber: bigint, address: Hex, slots: Hex[]): Promise<AccountProof | undefined> {
    return proofAtBlock({ chain: this.chain, merkleizer: this.merkleizer }, blockNumber, address, slots)
  }

  onPendingTransaction(listener: (hash: Hex) => void): () => void {
    return this.sequencer.pool.onPendingTx((tx) => listener(tx.hash))
  }

  nodeInfo(): Record<string, unknown> {
    return this.info()
  }

  async witness(number: bigint): Promise<ExecutionWitness | undefined> {
    const bytes = await this.artifacts.witness(number)
    return bytes === undefined ? undefined : decodeWitness(bytes)
  }
}

function asRpcError(error: unknown): unknown {
  // -32002 (EIP-1474 "resource unavailable"): the node is up but cannot take writes; the message
  // is fixed text (the underlying error, with its paths, stays in the node's log).
  if (isSequencerHaltedError(error)) return new RpcError(RpcErrorCode.ResourceUnavailable, error.shortMessage)
  if (!isTxRejectedError(error)) return error
  const { code, message } = txRejectionToJsonRpc(error)
  return new RpcError(code, message)
}
