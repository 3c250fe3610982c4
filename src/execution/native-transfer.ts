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
import { KECCAK256_NULL } from '@ethereumjs/util'
import type { AccountState, Hex } from '../chain/state-diff.ts'
import type { BlockEnv } from './block-env.ts'
import type { JournaledState } from './state/journaled-state.ts'

/** G_transaction: the intrinsic gas of a transaction without data, access list or creation. */
const TRANSFER_GAS = 21_000n

/** What a native transfer produced: the gas it used (its receipt is otherwise fixed). */
export interface NativeTransfer {
  gasUsed: bigint
}

/** Whether `common`'s rules for a plain transfer are the ones this module implements (London to Cancun). */
export function supportsNativeTransfers(common: Common): boolean {
  return common.gteHardfork(Hardfork.London) && !common.gteHardfork(Hardfork.Prague)
}

/**
 * Applies `tx` to `state` if it is a plain transfer that `runTx` would include; otherwise leaves
 * the state untouched and returns undefined (the caller runs `runTx`). `sender` is the recovered
 * sender (lowercase hex). The block gas limit is the caller's check, as for `runTx`.
 */
export function applyNativeTransfer(state: JournaledState, tx: TypedTransaction, sender: Hex, env: BlockEnv): NativeTransfer | undefined {
  if (tx.to === undefined || tx.data.length !== 0 || tx.gasLimit < TRANSFER_GAS) return undefined
  if (tx.type !== 0 && (tx.type > 2 || (tx as TypedTransaction & { accessList: unknown[] }).accessList.length !== 0)) return undefined
  const toBytes = tx.to.bytes
  if (isLowAddress(toBytes)) return undefined // precompiles (and their neighbours) run code
  const recipient = tx.to.toString() as Hex
  const coinbase = env.coinbase
  if (recipient === sender || recipient === coinbase || sender === coinbase) return undefined

  const baseFee = env.baseFeePerGas
  let maxFee: bigint
  let gasPrice: bigint
  if (tx.supports(Capability.EIP1559FeeMarket)) {
    const t = tx as TypedTransaction & { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }
    maxFee = t.maxFeePerGas
    if (maxFee < baseFee) return undefined
    gasPrice = baseFee + (maxFee - baseFee < t.maxPriorityFeePerGas ? maxFee - baseFee : t.maxPriorityFeePerGas)
  } else {
    maxFee = (tx as TypedTransaction & { gasPrice: bigint }).gasPrice
    if (maxFee < baseFee) return undefined
    gasPrice = maxFee
  }

  // Reads in runTx's order: sender, recipient, fee recipient.
  const from = state.readAccount(sender)
  if (from === undefined || !isCodeless(from) || from.nonce !== tx.nonce) return undefined
  if (from.balance < tx.value + tx.gasLimit * maxFee) return undefined // covers the upfront-cost check too
  const to = state.readAccount(recipient)
  if (to !== undefined && !isCodeless(to)) return undefined
  // A zero-value transfer touches the recipient; if that leaves it empty, EIP-161 deletes it.
  if (tx.value === 0n && (to === undefined || isEmpty(to))) return undefined
  const miner = state.readAccount(coinbase)
  const minerValue = TRANSFER_GAS * (gasPrice - baseFee)

  state.writeAccount(sender, { nonce: from.nonce + 1n, balance: from.balance - TRANSFER_GAS * gasPrice - tx.value, codeHash: from.codeHash })
  state.writeAccount(recipient, { nonce: to?.nonce ?? 0n, balance: (to?.balance ?? 0n) + tx.value, codeHash: to?.codeHash ?? KECCAK256_NULL })
  state.writeAccount(coinbase, { nonce: miner?.nonce ?? 0n, balance: (miner?.balance ?? 0n) + minerValue, codeHash: miner?.codeHash ?? KECCAK256_NULL })
  // With a zero priority fee an absent or empty fee recipient is touched and left empty: the
  // journal's EIP-161 cleanup deletes it (account and storage), as runTx's last write.
  if (minerValue === 0n && (miner === undefined || isEmpty(miner))) {
    state.writeAccount(coinbase, null)
    state.wipeStorage(coinbase)
  }
  return { gasUsed: TRANSFER_GAS }
}

function isLowAddress(address: Uint8Array): boolean {
  for (let i = 0; i < 19; i++) if (address[i] !== 0) return false
  return true
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
