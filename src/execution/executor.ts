import type { Block } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { Capability, type TypedTransaction } from '@ethereumjs/tx'
import { type Address, KECCAK256_NULL, bytesToHex, createAddressFromString, equalsBytes } from '@ethereumjs/util'
import { runTx, type RunTxResult, type VM } from '@ethereumjs/vm'
import { DEPOSIT_TX_TYPE, depositTxHash, type DepositTransaction } from '../chain/deposit-tx.ts'
import type { Log, TxReceipt } from '../chain/receipt.ts'
import type { Hex, StateDiff } from '../primitives/state-diff.ts'
import { NodeError, errorMessage } from '../primitives/errors.ts'
import { blockForEnv, type BlockEnv } from './block-env.ts'
import { executeDeposit } from './deposit.ts'
import { effectiveTip, type FeeCaps } from './fees.ts'
import { applyNativeTransfer, plainTransferOf, supportsNativeTransfers, type PlainTransfer } from './native-transfer.ts'
import { JournaledState } from '../state/journaled-state.ts'
import type { StateReader } from '../state/state-reader.ts'
import { applyBlockStartSystemCalls, needsParentHash } from './system-calls.ts'
import { txGasLimitCapError } from './tx-rules.ts'
import { createExecutionVM, type BlockHashLookup } from './vm-factory.ts'

const GWEI = 1_000_000_000n
/** The bloom of a receipt without logs; shared by every native transfer's receipt (receipts are never mutated). */
const EMPTY_LOGS_BLOOM = new Uint8Array(256)

/** Where the next transaction lands in its EVM block. */
export interface BlockCursor {
  gasUsed: bigint
  txIndex: number
  logIndex: number
  miniBlockNumber: bigint
}

export interface Withdrawal {
  address: Hex
  /** Gwei, as EIP-4895 defines it. */
  amount: bigint
}

export type TxOutcome = { ok: true; receipt: TxReceipt } | { ok: false; error: TxExecutionError }

/**
 * Why a transaction could not be included. `TX_INVALID` is anything else `runTx` refused (or an
 * exception from inside the EVM); the message is `runTx`'s own, which the sequencer reports to the sender.
 */
export type TxExecutionErrorCode =
  | 'TX_BLOCK_GAS_LIMIT'
  /** Over the fork's per-transaction gas cap (EIP-7825, Osaka). */
  | 'TX_GAS_LIMIT_CAP'
  | 'TX_INTRINSIC_GAS'
  | 'TX_FEE_CAP_BELOW_BASE_FEE'
  | 'TX_SENDER_NOT_EOA'
  | 'TX_INSUFFICIENT_FUNDS'
  | 'TX_NONCE_MISMATCH'
  | 'TX_INVALID'

export class TxExecutionError extends NodeError<TxExecutionErrorCode, undefined> {
  override readonly name = 'TxExecutionError'
  constructor(code: TxExecutionErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

/**
 * Executes transactions one after another against a journaled view of a `StateReader`.
 *
 * The same code serves the sequencer's mini-block loop, the block-test runner and (issue: replica)
 * stateless verification; only the `StateReader` underneath differs.
 */
export class SequentialExecutor {
  private block: Block | undefined
  private blockEnv: BlockEnv | undefined
  /** Plain transfers skip the interpreter (see native-transfer.ts); off only to compare the two paths. */
  nativeTransfers = true
  /** Whether the current block's fork has the plain-transfer rules native-transfer.ts implements. */
  private nativeTransferRules: boolean
  /** Transactions applied as native transfers so far. */
  nativeTransferCount = 0

  private constructor(
    /** This executor's own Common: `setBlockEnv` switches it (and the VM's rules) to each block's fork. */
    readonly common: Common,
    readonly state: JournaledState,
    private readonly vm: VM,
    private readonly blockHash: BlockHashLookup,
  ) {
    this.nativeTransferRules = supportsNativeTransfers(common)
  }

  static async create(chainCommon: Common, base: StateReader, blockHash: BlockHashLookup): Promise<SequentialExecutor> {
    const common = chainCommon.copy()
    const state = new JournaledState(base)
    const vm = await createExecutionVM(common, state, blockHash)
    return new SequentialExecutor(common, state, vm, blockHash)
  }

  /**
   * Sets the block context for the transactions that follow, and the rules of the block's fork (by its
   * timestamp, from the chain's schedule). `block` may be given when a real block is at hand (block
   * tests, verification); otherwise one is built from `env`.
   */
  setBlockEnv(env: BlockEnv, block?: Block): void {
    if (this.blockEnv === env) return
    this.blockEnv = env
    const previous = this.common.hardfork()
    if (this.common.setHardforkBy({ blockNumber: env.number, timestamp: env.timestamp }) !== previous) {
      this.nativeTransferRules = supportsNativeTransfers(this.common)
    }
    this.block = block ?? blockForEnv(env, this.common)
  }

  /**
   * The start-of-block system calls (EIP-4788, and EIP-2935 from Prague; see system-calls.ts): once
   * per EVM block, before its first transaction. The parent hash comes from the executor's
   * BLOCKHASH lookup.
   */
  async applySystemCalls(env: BlockEnv): Promise<void> {
    const parentHash = needsParentHash(this.common) && env.number > 0n ? await this.blockHash(env.number - 1n) : undefined
    await applyBlockStartSystemCalls(this.state, this.common, env, parentHash)
  }

  /** EIP-4895 withdrawals: credit without execution; zero amounts still touch the account. */
  async applyWithdrawals(withdrawals: readonly Withdrawal[]): Promise<void> {
    for (const w of withdrawals) {
      const address = createAddressFromString(w.address)
      const account = (await this.state.getAccount(address)) ?? undefined
      const nonce = account?.nonce ?? 0n
      const balance = (account?.balance ?? 0n) + w.amount * GWEI
      await this.state.modifyAccountFields(address, { nonce, balance })
      await this.cleanupIfEmpty(address)
    }
  }

  private async cleanupIfEmpty(address: Address): Promise<void> {
    const account = await this.state.getAccount(address)
    if (account?.isEmpty()) await this.state.deleteAccount(address)
  }

  /**
   * Runs one transaction. A transaction that cannot be included (bad nonce, cannot pay, over the
   * block's gas) leaves the state untouched and comes back as `{ ok: false }`.
   */
  async applyTx(tx: TypedTransaction, cursor: BlockCursor): Promise<TxOutcome> {
    return this.applyBatchTx({ tx }, cursor)
  }

  /**
   * `applyTx` for a transaction that may come with its `PlainTransfer` form already decoded (the
   * sequencer's ingest workers provide it): a plain transfer then never needs the ethereumjs object.
   */
  async applyBatchTx(
    item: { readonly tx: TypedTransaction; readonly transfer?: PlainTransfer; readonly header?: TxHeader },
    cursor: BlockCursor,
  ): Promise<TxOutcome> {
    const env = this.blockEnv
    const block = this.block
    if (env === undefined || block === undefined) throw new Error('SequentialExecutor.applyTx before setBlockEnv')
    const transfer = this.nativeTransfers && this.nativeTransferRules ? (item.transfer ?? plainTransferOf(item.tx)) : undefined
    const gasLimit = transfer?.gasLimit ?? item.tx.gasLimit
    if (cursor.gasUsed + gasLimit > env.gasLimit)
      return { ok: false, error: new TxExecutionError('TX_BLOCK_GAS_LIMIT', 'gas limit reached') }
    // EIP-7825: ethereumjs checks the cap in the transaction's constructor, which transactions decoded
    // once already (validated-tx.ts) or under another fork's Common skip: the block's fork decides.
    const capError = txGasLimitCapError(this.common, gasLimit)
    if (capError !== undefined) return { ok: false, error: new TxExecutionError('TX_GAS_LIMIT_CAP', capError) }
    const applied = transfer === undefined ? undefined : applyNativeTransfer(this.state, transfer, env)
    if (transfer !== undefined && applied !== undefined) {
      this.nativeTransferCount++
      const source = {
        transactionHash: transfer.hash,
        type: transfer.type,
        from: transfer.sender,
        to: transfer.to,
        effectiveGasPrice: applied.effectiveGasPrice,
      }
      return {
        ok: true,
        receipt: placeReceipt(source, env, cursor, {
          gasUsed: applied.gasUsed,
          status: 1,
          logs: [],
          logsBloom: EMPTY_LOGS_BLOOM,
          contractAddress: null,
        }),
      }
    }
    return this.runTransaction(item.tx, block, cursor, env, item.header)
  }

  /**
   * `runTx` and the receipt of what it did; the block gas check is the caller's. The receipt's
   * hash, sender, recipient and price come from `header` when the caller decoded one (the same
   * fields, without hex conversions of the ethereumjs object's).
   */
  private async runTransaction(
    tx: TypedTransaction,
    block: Block,
    cursor: BlockCursor,
    env: BlockEnv,
    header?: TxHeader,
  ): Promise<TxOutcome> {
    let result
    try {
      result = await runTx(this.vm, { tx, block, blockGasUsed: cursor.gasUsed, skipHardForkValidation: true })
    } catch (error) {
      // runTx reverts one checkpoint; an exception thrown deep in the EVM (not a failed call: a
      // bug or a missing backend) leaves the inner ones open, and the next takeDiff would refuse.
      await this.state.revertAll()
      return { ok: false, error: new TxExecutionError(this.whyRefused(tx, env), errorMessage(error), { cause: error }) }
    }
    const logs: Log[] = result.receipt.logs.map(([address, topics, data]) => ({
      address: bytesToHex(address) as Hex,
      topics: topics.map((t) => bytesToHex(t) as Hex),
      data: bytesToHex(data) as Hex,
    }))
    const source = header === undefined ? receiptSource(tx, env.baseFeePerGas) : headerReceiptSource(header, env.baseFeePerGas)
    const receipt = placeReceipt(source, env, cursor, {
      gasUsed: result.totalGasSpent,
      status: 'status' in result.receipt ? result.receipt.status : 1,
      logs,
      logsBloom: result.bloom.bitvector,
      contractAddress: result.createdAddress === undefined ? null : (result.createdAddress.toString() as Hex),
    })
    return { ok: true, receipt }
  }

  /**
   * Why `runTx` refused `tx`, read from the facts (the state it ran on is restored) in `runTx`'s own
   * order of checks: its errors carry no code, and their wording is not ours to depend on.
   */
  private whyRefused(tx: TypedTransaction, env: BlockEnv): TxExecutionErrorCode {
    if (tx.getIntrinsicGas() > tx.gasLimit) return 'TX_INTRINSIC_GAS'
    const maxFee = tx.supports(Capability.EIP1559FeeMarket)
      ? (tx as TypedTransaction & FeeCaps).maxFeePerGas
      : (tx as TypedTransaction & { gasPrice: bigint }).gasPrice
    if (maxFee < env.baseFeePerGas) return 'TX_FEE_CAP_BELOW_BASE_FEE'
    let senderAddress: Hex
    try {
      senderAddress = tx.getSenderAddress().toString() as Hex
    } catch {
      return 'TX_INVALID' // no sender recovers from the signature: what runTx failed on next
    }
    const sender = this.state.readAccount(senderAddress)
    if (
      sender !== undefined &&
      !equalsBytes(sender.codeHash, KECCAK256_NULL) &&
      !isDelegationDesignator(this.state.readCode(bytesToHex(sender.codeHash) as Hex))
    )
      return 'TX_SENDER_NOT_EOA'
    // runTx's upfront-cost and max-cost checks together: value plus the gas limit at the fee cap.
    if ((sender?.balance ?? 0n) < tx.value + tx.gasLimit * maxFee) return 'TX_INSUFFICIENT_FUNDS'
    if ((sender?.nonce ?? 0n) !== tx.nonce) return 'TX_NONCE_MISMATCH'
    return 'TX_INVALID'
  }

  /**
   * Runs one OP deposit (type 0x7E, see deposit.ts). A deposit is never refused: an invalid one is
   * a status-0 receipt that used its whole gas limit, and it counts toward the block's gas whatever
   * the block's limit. The receipt carries the deposit nonce (Canyon's receipt version 1).
   */
  async applyDeposit(deposit: DepositTransaction, cursor: BlockCursor): Promise<TxReceipt> {
    const env = this.blockEnv
    const block = this.block
    if (env === undefined || block === undefined) throw new Error('SequentialExecutor.applyDeposit before setBlockEnv')
    const result = await executeDeposit({ evm: this.vm.evm, state: this.state, common: this.common, block }, deposit)
    const source: ReceiptSource = {
      transactionHash: depositTxHash(deposit),
      type: DEPOSIT_TX_TYPE,
      from: deposit.from.toLowerCase() as Hex,
      to: deposit.to === null ? null : (deposit.to.toLowerCase() as Hex),
      effectiveGasPrice: 0n,
    }
    const receipt = placeReceipt(source, env, cursor, result)
    receipt.depositNonce = result.depositNonce
    receipt.depositReceiptVersion = 1
    return receipt
  }

  /** The block context set by `setBlockEnv`, if any. */
  get env(): BlockEnv | undefined {
    return this.blockEnv
  }

  /**
   * Runs a transaction for its result only (eth_call, eth_estimateGas): no nonce or balance checks,
   * no receipt; the caller discards the state it wrote.
   */
  async applyCall(
    tx: TypedTransaction,
    reportAccessList = false,
  ): Promise<{ ok: true; result: RunTxResult } | { ok: false; error: Error }> {
    if (this.block === undefined) throw new Error('SequentialExecutor.applyCall before setBlockEnv')
    try {
      const result = await runTx(this.vm, {
        tx,
        block: this.block,
        skipNonce: true,
        skipBalance: true,
        skipBlockGasLimitValidation: true,
        skipHardForkValidation: true,
        reportAccessList,
      })
      return { ok: true, result }
    } catch (error) {
      await this.state.revertAll()
      return { ok: false, error: error instanceof Error ? error : new Error(String(error)) }
    }
  }

  takeDiff(): StateDiff {
    return this.state.takeDiff()
  }
}

/** What executing a transaction produced, before it is placed in its block. */
export interface ExecutedTxParts {
  gasUsed: bigint
  status: 0 | 1
  logs: Log[]
  logsBloom: Uint8Array
  contractAddress: Hex | null
}

/** What a receipt says about the transaction itself. */
export interface ReceiptSource {
  transactionHash: Hex
  type: number
  from: Hex
  to: Hex | null
  effectiveGasPrice: bigint
}

/**
 * What committing a transaction reads of it besides its effects: the block gas check and its
 * receipt. Decoded without the ethereumjs object by the sequencer's ingest, so the parallel
 * executor commits a worker's result without building that object on the main thread.
 */
export interface TxHeader extends FeeCaps {
  /** Lowercase 0x hex, like the addresses below. */
  readonly hash: Hex
  readonly type: number
  readonly sender: Hex
  /** Null for a contract creation. */
  readonly to: Hex | null
  readonly gasLimit: bigint
  /** 64-byte uncompressed public key without the 0x04 prefix (what a worker runs the sender as). */
  readonly senderPubKey: Uint8Array
}

/** `receiptSource` from a decoded header: the same fields, with no ethereumjs object involved. */
export function headerReceiptSource(header: TxHeader, baseFee: bigint): ReceiptSource {
  return {
    transactionHash: header.hash,
    type: header.type,
    from: header.sender,
    to: header.to,
    effectiveGasPrice: baseFee + effectiveTip(header, baseFee),
  }
}

export function receiptSource(tx: TypedTransaction, baseFee: bigint): ReceiptSource {
  return {
    transactionHash: bytesToHex(tx.hash()) as Hex,
    type: tx.type,
    from: tx.getSenderAddress().toString() as Hex,
    to: tx.to === undefined ? null : (tx.to.toString() as Hex),
    effectiveGasPrice: effectiveGasPrice(tx, baseFee),
  }
}

/**
 * The receipt of a transaction executed at `cursor`, and the cursor advanced past it. Shared by the
 * sequential path and the parallel executor's commit step, so both place receipts identically.
 */
export function placeReceipt(source: ReceiptSource, env: BlockEnv, cursor: BlockCursor, parts: ExecutedTxParts): TxReceipt {
  const receipt: TxReceipt = {
    transactionHash: source.transactionHash,
    type: source.type,
    status: parts.status,
    cumulativeGasUsed: cursor.gasUsed + parts.gasUsed,
    gasUsed: parts.gasUsed,
    effectiveGasPrice: source.effectiveGasPrice,
    logsBloom: parts.logsBloom,
    logs: parts.logs,
    from: source.from,
    to: source.to,
    contractAddress: parts.contractAddress,
    blockNumber: env.number,
    transactionIndex: cursor.txIndex,
    logIndexStart: cursor.logIndex,
    miniBlockNumber: cursor.miniBlockNumber,
  }
  cursor.gasUsed += parts.gasUsed
  cursor.txIndex += 1
  cursor.logIndex += parts.logs.length
  return receipt
}

export function effectiveGasPrice(tx: TypedTransaction, baseFee: bigint): bigint {
  if (tx.supports(Capability.EIP1559FeeMarket)) {
    return baseFee + effectiveTip(tx as TypedTransaction & FeeCaps, baseFee)
  }
  return (tx as TypedTransaction & { gasPrice: bigint }).gasPrice
}

/** EIP-7702: `0xef0100 ‖ address`, the code of a delegated EOA, which may still send transactions. */
function isDelegationDesignator(code: Uint8Array): boolean {
  return code.length === 23 && code[0] === 0xef && code[1] === 0x01 && code[2] === 0x00
}
