/**
 * The state changes one mini-block (or one EVM block) makes: the unit that flows from the executor
 * to the WAL, the merkleizer, replicas and `stateChanges` subscribers.
 */
export type Hex = `0x${string}`

export interface AccountState {
  nonce: bigint
  balance: bigint
  /** keccak256 of the account's code; KECCAK256_NULL for accounts without code. */
  codeHash: Uint8Array
}

export interface AccountDiff {
  /** Post-state of the account; `null` when it no longer exists (self-destructed, or emptied and touched under EIP-158). */
  account: AccountState | null
  /** The account's storage was wiped before `storage` applies (destroyed, possibly re-created in the same diff). */
  storageCleared: boolean
  /** Slot (0x-prefixed, 32 bytes, lowercase) → new value as minimal big-endian bytes (empty for zero). */
  storage: Map<Hex, Uint8Array>
}

export interface StateDiff {
  /** Lowercase 0x-prefixed address → what changed. */
  accounts: Map<Hex, AccountDiff>
  /** Code deployed by this diff, by lowercase 0x-prefixed code hash. */
  codes: Map<Hex, Uint8Array>
}

export function emptyStateDiff(): StateDiff {
  return { accounts: new Map(), codes: new Map() }
}

/**
 * Folds `next` into `into` (both in order: `into` happened first). Used to turn the mini-block diffs
 * of one EVM block into the diff the merkleizer applies.
 */
export function mergeStateDiff(into: StateDiff, next: StateDiff): void {
  for (const [hash, code] of next.codes) into.codes.set(hash, code)
  for (const [address, change] of next.accounts) {
    const prior = into.accounts.get(address)
    if (prior === undefined || change.storageCleared) {
      into.accounts.set(address, {
        account: change.account,
        storageCleared: change.storageCleared || (prior?.storageCleared ?? false),
        storage: new Map(change.storage),
      })
      continue
    }
    prior.account = change.account
    for (const [slot, value] of change.storage) prior.storage.set(slot, value)
  }
}
