/**
 * Plain value transfers between accounts without code, applied without the interpreter.
 *
 * A transfer to an account without code runs no EVM code: its whole effect is the sender's nonce
 * and balance, the recipient's balance and the fee recipient's priority fee, and its receipt is
 * fixed (status 1, intrinsic gas, no logs). Through `runTx` it still costs ~40 µs of checkpoints,
 * journal bookkeeping, gas accounting and object churn, the largest share of a transfer on the
 * sequencer's main thread. This path does the same reads and the same writes **in the same
 * order** as `runTx` (sender, recipient, fee recipient: the order the encoded `StateDiff` follows)
 * and is taken only when every rule `runTx` would check is known to pass; anything else (an error
 * to report, a precompile, an empty recipient touched with zero value, coinciding addresses, an
 * access list, another fork's rules) goes through `runTx`.
 * Differential evidence: the ethereum/tests block fixtures and `test/unit/native-transfer.test.ts`
 * (every shape of transfer against `runTx`, state diffs compared byte for byte).
 */
import type { Common } from '@ethereumjs/common'
import { Hardfork } from '@ethereumjs/common'
import { Capability, type TypedTransaction } from '@ethereumjs/tx'
import { KECCAK256_NULL, bytesToHex } from '@ethereumjs/util'
import type { AccountState, Hex } from '../primitives/state-diff.ts'
import type { BlockEnv } from './block-env.ts'
import { effectiveTip } from './fees.ts'
import type { JournaledState } from '../state/journaled-state.ts'

/** G_transaction: the intrinsic gas of a transaction without data, access list or creation. */
const TRANSFER_GAS = 21_000n
const LOW_ADDRESS_PREFIX = `0x${'00'.repeat(19)}`
/** 0x0100–0x01ff: P256VERIFY (0x100, Osaka) and its neighbours. */
const P256_RANGE_PREFIX = `0x${'00'.repeat(18)}01`

/**
 * A transaction that may be a plain transfer: no data, not a creation, no access list, a legacy,
 * EIP-2930 or EIP-1559 envelope. Legacy and EIP-2930 transactions carry their gas price as both
 * fee fields. Built from an ethereumjs transaction (`plainTransferOf`) or, without building one,
 * from what the ingest workers decoded.
 */
export interface PlainTransfer {
  /** Lowercase 0x hex, like every address below. */
  hash: Hex
  type: 0 | 1 | 2
  sender: Hex
  to: Hex
  nonce: bigint
  value: bigint
  gasLimit: bigint
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
}

/** What a native transfer produced: the gas it used (its receipt is otherwise fixed). */
export interface NativeTransfer {
  gasUsed: bigint
  /** The price per gas paid, as the receipt reports it. */
  effectiveGasPrice: bigint
}

/**
 * Whether `common`'s rules for a plain transfer are the ones this module implements (London to Osaka).
 * Prague and Osaka change nothing for one: EIP-7623's calldata floor is 21,000 without data, a sender
 * or recipient with an EIP-7702 delegation has code (so `runTx` takes it), the EIP-7825 cap is checked
 * by the executor before this path, and the new precompiles (0x0b–0x11, 0x100) are low addresses.
 */
export function supportsNativeTransfers(common: Common): boolean {
  return common.gteHardfork(Hardfork.London) && !common.gteHardfork(Hardfork.Amsterdam)
}

/** A recipient, no data, no access list, a legacy, EIP-2930 or EIP-1559 envelope. */
export function hasPlainTransferShape(tx: TypedTransaction): boolean {
  if (tx.to === undefined || tx.data.length !== 0 || tx.type > 2) return false
  return tx.type === 0 || (tx as TypedTransaction & { accessList: unknown[] }).accessList.length === 0
}

/**
 * `tx` as a `PlainTransfer`, if it has the shape of one. `sender` is the recovered sender, lowercase
 * (derived from `tx` when not given).
 */
export function plainTransferOf(tx: TypedTransaction, sender?: Hex): PlainTransfer | undefined {
  if (tx.to === undefined || !hasPlainTransferShape(tx)) return undefined
  const fees = tx.supports(Capability.EIP1559FeeMarket)
    ? (tx as TypedTransaction & { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint })
    : {
        maxFeePerGas: (tx as TypedTransaction & { gasPrice: bigint }).gasPrice,
        maxPriorityFeePerGas: (tx as TypedTransaction & { gasPrice: bigint }).gasPrice,
      }
  return {
    hash: bytesToHex(tx.hash()) as Hex,
    type: tx.type as 0 | 1 | 2,
    sender: sender ?? (tx.getSenderAddress().toString() as Hex),
    to: tx.to.toString() as Hex,
    nonce: tx.nonce,
    value: tx.value,
    gasLimit: tx.gasLimit,
    maxFeePerGas: fees.maxFeePerGas,
    maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
  }
}

/**
 * Applies `t` to `state` if `runTx` would include it as a plain transfer; otherwise leaves the state
 * untouched and returns undefined (the caller runs `runTx`). The block gas limit is the caller's
 * check, as for `runTx`.
 */
export function applyNativeTransfer(state: JournaledState, t: PlainTransfer, env: BlockEnv): NativeTransfer | undefined {
  if (t.gasLimit < TRANSFER_GAS || isLowAddress(t.to)) return undefined // low addresses: precompiles (and their neighbours) run code
  const { sender, to: recipient } = t
  const coinbase = env.coinbase
  if (recipient === sender || recipient === coinbase || sender === coinbase) return undefined

  const baseFee = env.baseFeePerGas
  const maxFee = t.maxFeePerGas
  if (maxFee < baseFee) return undefined
  // min(fee cap, base fee + tip): for legacy and EIP-2930 envelopes (fee cap = tip = gas price) the gas price.
  const gasPrice = baseFee + effectiveTip(t, baseFee)

  // Reads in runTx's order: sender, recipient, fee recipient.
  const from = state.readAccount(sender)
  if (from === undefined || !isCodeless(from) || from.nonce !== t.nonce) return undefined
  if (from.balance < t.value + t.gasLimit * maxFee) return undefined // covers the upfront-cost check too
  const to = state.readAccount(recipient)
  if (to !== undefined && !isCodeless(to)) return undefined
  // A zero-value transfer touches the recipient; if that leaves it empty, EIP-161 deletes it.
  if (t.value === 0n && (to === undefined || isEmpty(to))) return undefined
  const miner = state.readAccount(coinbase)
  const minerValue = TRANSFER_GAS * (gasPrice - baseFee)

  state.writeAccount(sender, {
    nonce: from.nonce + 1n,
    balance: from.balance - TRANSFER_GAS * gasPrice - t.value,
    codeHash: from.codeHash,
  })
  state.writeAccount(recipient, {
    nonce: to?.nonce ?? 0n,
    balance: (to?.balance ?? 0n) + t.value,
    codeHash: to?.codeHash ?? KECCAK256_NULL,
  })
  state.writeAccount(coinbase, {
    nonce: miner?.nonce ?? 0n,
    balance: (miner?.balance ?? 0n) + minerValue,
    codeHash: miner?.codeHash ?? KECCAK256_NULL,
  })
  // With a zero priority fee an absent or empty fee recipient is touched and left empty: the
  // journal's EIP-161 cleanup deletes it (account and storage), as runTx's last write.
  if (minerValue === 0n && (miner === undefined || isEmpty(miner))) {
    state.writeAccount(coinbase, null)
    state.wipeStorage(coinbase)
  }
  return { gasUsed: TRANSFER_GAS, effectiveGasPrice: gasPrice }
}

/** 0x0000…00xx (19 zero bytes) and 0x0000…01xx: the precompile ranges and their neighbours. */
function isLowAddress(address: Hex): boolean {
  return address.startsWith(LOW_ADDRESS_PREFIX) || address.startsWith(P256_RANGE_PREFIX)
}

function isCodeless(account: AccountState): boolean {
  const hash = account.codeHash
  for (let i = 0; i < 32; i++) if (hash[i] !== KECCAK256_NULL[i]) return false
  return true
}

/** EIP-161 emptiness: no nonce, no balance, no code. */
function isEmpty(account: AccountState): boolean {
  return account.nonce === 0n && account.balance === 0n && isCodeless(account)
}
