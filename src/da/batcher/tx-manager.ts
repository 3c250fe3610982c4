/**
 * Sends the batcher's L1 transactions (op-service's `txmgr`, reduced to what the batcher needs):
 * calldata transactions `to: inbox, data: 0 ‖ frames` or EIP-4844 blob transactions (empty calldata),
 * signed locally with the batcher key, with
 * - nonces from its own counter (transactions leave in the order `send` is called, so their frames
 *   land in order, as Holocene requires), resynced from `eth_getTransactionCount(pending)` after a
 *   failure (`resetNonce`);
 * - EIP-1559 fees `tip + 2 × baseFee` (tip: the node's suggestion, at least `minTipCap`) and a blob
 *   fee cap `2 × blobBaseFee` (at least `minBlobFeeCap`);
 * - resubmission when a version is not mined within `resubmitAfterBlocks` L1 blocks: the same nonce
 *   with the tip and fee cap raised ≥ 10 % and the blob fee cap 100 % (geth's replacement rules),
 *   or the fresh estimate when it is higher, up to `feeLimitMultiplier` × the estimate;
 * - the receipt of whichever version was mined, once `numConfirmations` L1 blocks include it; a
 *   receipt that a reorg removes before that is waited for again (and the transaction re-sent).
 */
import type { Logger } from 'pino'
import {
  type Account,
  type BlobSidecars,
  commitmentsToVersionedHashes,
  keccak256,
  type PublicClient,
  toBlobSidecars,
  type TransactionReceipt,
  TransactionReceiptNotFoundError,
  type TransactionSerializable,
  type WalletClient,
} from 'viem'
import type { Hex } from '../../primitives/state-diff.ts'
import { BatcherError } from './errors.ts'
import { failpoint } from '../../util/failpoints.ts'
import type { BlobProver } from './kzg.ts'

export interface TxManagerOptions {
  /** L1 blocks that must include a transaction (its own counted) before it is confirmed. */
  numConfirmations: number
  /** L1 blocks a version may stay unmined before it is replaced with higher fees. */
  resubmitAfterBlocks: number
  /** How often receipts and the L1 head are polled. */
  pollIntervalMs: number
  minTipCap: bigint
  minBlobFeeCap: bigint
  /** A bump never goes past this multiple of the current estimate (a spike is waited out instead). */
  feeLimitMultiplier: bigint
}

export const DEFAULT_TX_MANAGER_OPTIONS: Readonly<TxManagerOptions> = Object.freeze({
  numConfirmations: 1,
  resubmitAfterBlocks: 3,
  pollIntervalMs: 500,
  minTipCap: 1_000_000n,
  minBlobFeeCap: 1_000_000_000n,
  feeLimitMultiplier: 5n,
})

/** What one batcher transaction carries: calldata, or blobs (then the calldata is empty). */
export type TxCandidate =
  | { readonly kind: 'calldata'; readonly data: Uint8Array }
  | { readonly kind: 'blobs'; readonly blobs: readonly Uint8Array[] }

export interface TxFees {
  readonly maxFeePerGas: bigint
  readonly maxPriorityFeePerGas: bigint
  /** Blob transactions only. */
  readonly maxFeePerBlobGas?: bigint
}

/** A confirmed batcher transaction. */
export interface ConfirmedTx {
  readonly hash: Hex
  readonly nonce: number
  readonly blockNumber: bigint
  readonly blockHash: Hex
  readonly gasUsed: bigint
  readonly effectiveGasPrice: bigint
  readonly blobGasUsed: bigint
  readonly blobGasPrice: bigint
  /** Versions signed and broadcast (1: never replaced). */
  readonly attempts: number
}

export interface TxManagerModules {
  l1: PublicClient
  /** Its account must be a local one (`privateKeyToAccount`): transactions are signed here. */
  wallet: WalletClient
  /** The batch inbox. */
  to: Hex
  l1ChainId: bigint
  prover: BlobProver
  logger: Logger
  /** Told of each version broadcast (metrics). */
  onBroadcast?: (candidate: TxCandidate, replacement: boolean) => void
}

interface BlobFields {
  readonly sidecars: BlobSidecars<Hex>
  readonly versionedHashes: Hex[]
}

const BLOB_TX_GAS = 21_000n
const GWEI = 1_000_000_000n

/**
 * Gas of a calldata transaction to an EOA: 21,000 plus 4/16 per zero/non-zero byte, or EIP-7623's
 * floor (Prague: 10 per token, a non-zero byte 4 tokens) when higher. Exact from Prague on; before
 * it, an over-reservation that costs nothing (only used gas is paid).
 */
export function calldataGas(data: Uint8Array): bigint {
  let zeros = 0
  for (const byte of data) if (byte === 0) zeros++
  const nonZeros = data.length - zeros
  const standard = 21_000 + 4 * zeros + 16 * nonZeros
  const floor = 21_000 + 10 * (zeros + 4 * nonZeros)
  return BigInt(Math.max(standard, floor))
}

/** `value` raised by `percent` %, at least by 1 (rounding up: geth compares `new ≥ old × (100 + bump) / 100`). */
export function bump(value: bigint, percent: bigint): bigint {
  const raise = (value * percent + 99n) / 100n
  return value + (raise > 0n ? raise : 1n)
}

/** The fees of a replacement: ≥ +10 % tip and fee cap, +100 % blob fee cap, or the fresh estimate when higher. */
export function replacementFees(previous: TxFees, fresh: TxFees): TxFees {
  const tip = max(fresh.maxPriorityFeePerGas, bump(previous.maxPriorityFeePerGas, 10n))
  const cap = max(fresh.maxFeePerGas, bump(previous.maxFeePerGas, 10n), tip)
  if (previous.maxFeePerBlobGas === undefined) return { maxFeePerGas: cap, maxPriorityFeePerGas: tip }
  const blob = max(fresh.maxFeePerBlobGas ?? 0n, bump(previous.maxFeePerBlobGas, 100n))
  return { maxFeePerGas: cap, maxPriorityFeePerGas: tip, maxFeePerBlobGas: blob }
}

function max(...values: bigint[]): bigint {
  return values.reduce((a, b) => (a > b ? a : b))
}

/** Broadcast failures the manager reacts to; L1 nodes report them only as text (geth's wording, which others copy). */
export function broadcastErrorKind(error: unknown): 'nonce-too-low' | 'already-known' | 'underpriced' | 'other' {
  const text = collectMessages(error).toLowerCase()
  if (text.includes('nonce too low') || text.includes('nonce is too low')) return 'nonce-too-low'
  if (text.includes('already known') || text.includes('already imported') || text.includes('alreadyknown')) return 'already-known'
  if (text.includes('underpriced') || text.includes('fee cap') || text.includes('less than block base fee')) return 'underpriced'
  return 'other'
}

function collectMessages(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let i = 0; i < 8 && current instanceof Error; i++) {
    parts.push(current.message, (current as { details?: string }).details ?? '')
    current = current.cause
  }
  return parts.join(' | ')
}

export class TxManager {
  private nextNonce: number | undefined
  /** Serializes nonce assignment (a fetch may be in flight). */
  private nonceLock: Promise<unknown> = Promise.resolve()
  /** Settles once the latest `send` broadcast its first version (or gave up). */
  private lastFirstBroadcast: Promise<void> = Promise.resolve()
  private stopped = false
  private readonly account: Account & { signTransaction: NonNullable<Account['signTransaction']> }
  private readonly options: TxManagerOptions

  constructor(
    options: Partial<TxManagerOptions>,
    private readonly modules: TxManagerModules,
  ) {
    this.options = { ...DEFAULT_TX_MANAGER_OPTIONS, ...options }
    const account = modules.wallet.account
    if (account?.signTransaction === undefined)
      throw new BatcherError('BATCHER_WALLET', 'the batcher wallet has no local account', {
        severity: 'critical',
        hint: 'create the WalletClient with `account: privateKeyToAccount(batcherKey)`',
      })
    this.account = account as Account & { signTransaction: NonNullable<Account['signTransaction']> }
  }

  get address(): Hex {
    return this.account.address.toLowerCase() as Hex
  }

  /** Forget the nonce counter: the next transaction reads it from L1 (`pending`). Call with nothing in flight. */
  resetNonce(): void {
    this.nextNonce = undefined
  }

  /** Refuse new work and end every `send` in progress with `BATCHER_STOPPED`. */
  stop(): void {
    this.stopped = true
  }

  /** The current fee estimate for a calldata or a blob transaction. */
  async estimateFees(blobs: boolean): Promise<TxFees> {
    const { l1 } = this.modules
    const [block, suggestedTip, blobBaseFee] = await Promise.all([
      l1.getBlock({ blockTag: 'latest' }),
      // Not every L1 node serves it; the block fetch beside it tells a dead endpoint apart.
      l1.request({ method: 'eth_maxPriorityFeePerGas' }).then(BigInt, () => this.options.minTipCap),
      blobs ? l1.getBlobBaseFee() : Promise.resolve(0n),
    ])
    const baseFee = block.baseFeePerGas ?? GWEI
    const tip = max(suggestedTip, this.options.minTipCap)
    const fees = { maxFeePerGas: 2n * baseFee + tip, maxPriorityFeePerGas: tip }
    return blobs ? { ...fees, maxFeePerBlobGas: max(2n * blobBaseFee, this.options.minBlobFeeCap) } : fees
  }

  /**
   * Sends one transaction and resolves once it is confirmed. Nonces are taken in call order.
   * @throws BatcherError: `BATCHER_NONCE_TAKEN` (another transaction of the key used the nonce),
   *   `BATCHER_STOPPED`; RPC failures are retried, never thrown
   */
  async send(candidate: TxCandidate): Promise<ConfirmedTx> {
    // Broadcast in nonce order too: a blob transaction's proofs take a while, and geth's blob pool
    // refuses a nonce gap, so each transaction goes out only after the previous one went out once.
    const previous = this.lastFirstBroadcast
    let release = (): void => undefined
    this.lastFirstBroadcast = new Promise<void>((resolve) => {
      release = resolve
    })
    try {
      const nonce = await this.takeNonce()
      const blob = candidate.kind === 'blobs' ? await this.blobFields(candidate.blobs) : undefined
      await previous
      return await this.sendWithNonce(candidate, nonce, blob, release)
    } finally {
      release()
    }
  }

  private async sendWithNonce(
    candidate: TxCandidate,
    nonce: number,
    blob: BlobFields | undefined,
    broadcastOnce: () => void,
  ): Promise<ConfirmedTx> {
    const { logger } = this.modules
    const gas = candidate.kind === 'blobs' ? BLOB_TX_GAS : calldataGas(candidate.data)
    const hashes: Hex[] = []
    let fees: TxFees | undefined
    let sentAt: bigint | undefined
    let forceResend = false
    for (;;) {
      if (this.stopped) throw new BatcherError('BATCHER_STOPPED', 'the transaction manager stopped', { nonce })
      try {
        const head = (await this.modules.l1.getBlock({ blockTag: 'latest' })).number
        const receipt = await this.minedVersion(hashes)
        if (receipt !== undefined) {
          if (head - receipt.blockNumber + 1n >= BigInt(this.options.numConfirmations))
            return confirmed(receipt, nonce, hashes.length)
        } else if (fees === undefined || forceResend || head >= (sentAt ?? 0n) + BigInt(this.options.resubmitAfterBlocks)) {
          const fresh = await this.estimateFees(candidate.kind === 'blobs')
          const next = fees === undefined ? fresh : replacementFees(fees, fresh)
          const limit = fresh.maxFeePerGas * this.options.feeLimitMultiplier
          if (fees !== undefined && next.maxFeePerGas > limit) {
            logger.warn(
              { nonce, maxFeePerGas: next.maxFeePerGas.toString(), limit: limit.toString(), alarm: true },
              'batcher tx: bump over the fee limit; waiting',
            )
            sentAt = head
          } else {
            const { raw, hash } = await this.sign(candidate, blob, nonce, gas, next)
            const replacement = fees !== undefined
            fees = next
            sentAt = head
            forceResend = false
            if (!hashes.includes(hash)) hashes.push(hash)
            try {
              await this.broadcast(raw, nonce, hashes, candidate, replacement)
            } finally {
              broadcastOnce()
            }
            logger.info(
              {
                nonce,
                hash,
                kind: candidate.kind,
                tip: next.maxPriorityFeePerGas.toString(),
                feeCap: next.maxFeePerGas.toString(),
                replacement,
              },
              'batcher tx sent',
            )
          }
        }
      } catch (error) {
        if (error instanceof BatcherError) throw error
        const kind = broadcastErrorKind(error)
        if (kind === 'underpriced') forceResend = true
        logger.warn({ err: error, nonce, kind, alarm: kind === 'other' }, 'batcher tx: L1 call failed; retrying')
      }
      await sleep(this.options.pollIntervalMs)
    }
  }

  private async broadcast(raw: Hex, nonce: number, hashes: Hex[], candidate: TxCandidate, replacement: boolean): Promise<void> {
    try {
      await this.modules.l1.sendRawTransaction({ serializedTransaction: raw })
      // Failpoint `batcher.after-send`: the batch transaction is on L1, the batcher has not recorded it.
      failpoint('batcher.after-send')
      this.modules.onBroadcast?.(candidate, replacement)
    } catch (error) {
      const kind = broadcastErrorKind(error)
      if (kind === 'already-known') return
      if (kind === 'nonce-too-low') {
        // One of ours may have been mined since the last look; else the nonce went to a stranger.
        if ((await this.minedVersion(hashes)) !== undefined) return
        throw new BatcherError('BATCHER_NONCE_TAKEN', `nonce ${nonce} was used by another transaction of the batcher key`, {
          nonce,
          severity: 'reset',
          cause: error,
        })
      }
      throw error
    }
  }

  /** The receipt of whichever version was mined, if one was. */
  private async minedVersion(hashes: readonly Hex[]): Promise<TransactionReceipt | undefined> {
    for (const hash of hashes) {
      try {
        return await this.modules.l1.getTransactionReceipt({ hash })
      } catch (error) {
        if (!(error instanceof TransactionReceiptNotFoundError)) throw error
      }
    }
    return undefined
  }

  private async takeNonce(): Promise<number> {
    const take = this.nonceLock.then(async () => {
      if (this.stopped) throw new BatcherError('BATCHER_STOPPED', 'the transaction manager stopped')
      this.nextNonce ??= await this.modules.l1.getTransactionCount({ address: this.account.address, blockTag: 'pending' })
      return this.nextNonce++
    })
    this.nonceLock = take.catch(() => undefined)
    return take
  }

  private async blobFields(blobs: readonly Uint8Array[]): Promise<BlobFields> {
    const { commitments, proofs } = await this.modules.prover.prove(blobs)
    return {
      sidecars: toBlobSidecars({ blobs: [...blobs], commitments, proofs, to: 'hex' }),
      versionedHashes: [...commitmentsToVersionedHashes({ commitments, to: 'hex' })],
    }
  }

  private async sign(
    candidate: TxCandidate,
    blob: BlobFields | undefined,
    nonce: number,
    gas: bigint,
    fees: TxFees,
  ): Promise<{ raw: Hex; hash: Hex }> {
    const base = {
      chainId: Number(this.modules.l1ChainId),
      nonce,
      gas,
      to: this.modules.to,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    }
    if (candidate.kind === 'calldata') {
      const raw = (await this.account.signTransaction({ ...base, type: 'eip1559', data: toHex(candidate.data) })) as Hex
      return { raw, hash: keccak256(raw) }
    }
    if (blob === undefined) throw new Error('blob fields missing')
    const tx = {
      ...base,
      type: 'eip4844',
      maxFeePerBlobGas: fees.maxFeePerBlobGas ?? this.options.minBlobFeeCap,
      blobVersionedHashes: blob.versionedHashes,
    } as const
    // The network form carries the sidecars; the hash is that of the form without them.
    const raw = (await this.account.signTransaction({ ...tx, sidecars: blob.sidecars } as TransactionSerializable)) as Hex
    const bare = (await this.account.signTransaction({ ...tx, sidecars: false } as TransactionSerializable)) as Hex
    return { raw, hash: keccak256(bare) }
  }
}

function confirmed(receipt: TransactionReceipt, nonce: number, attempts: number): ConfirmedTx {
  return {
    hash: receipt.transactionHash.toLowerCase() as Hex,
    nonce,
    blockNumber: receipt.blockNumber,
    blockHash: receipt.blockHash.toLowerCase() as Hex,
    gasUsed: receipt.gasUsed,
    effectiveGasPrice: receipt.effectiveGasPrice,
    blobGasUsed: receipt.blobGasUsed ?? 0n,
    blobGasPrice: receipt.blobGasPrice ?? 0n,
    attempts,
  }
}

function toHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
