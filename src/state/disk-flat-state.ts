import type { AccountState, Hex, StateDiff } from '../primitives/state-diff.ts'
import { TwoGenerationCache } from '../util/two-generation-cache.ts'
import { applyStorageChange } from './flat-state.ts'
import type { LiveState, SealedStateSource } from './live-state.ts'

const EMPTY = new Uint8Array(0)
/**
 * What one cached account costs the heap: 218 B measured (the heap after GC, 300,000 accounts with an
 * 18-decimal balance): the address string, the record, two bigints, the interned empty-code hash, a map slot.
 */
const CACHED_ACCOUNT_BYTES = 220
/** The share of the budget that caches bytecode, and the size a contract's code is assumed to have. */
const CODE_SHARE = 8
const ASSUMED_CODE_BYTES = 8 * 1024

/** A value written by a block that is not durable yet, tagged with that block. */
interface Written<V> {
  value: V
  block: bigint
}

/** Reads the cache could not answer, since start: what `--cache` is too small for shows here. */
export interface SealedStateReads {
  accounts: number
  codes: number
}

/**
 * The live state with accounts and code on disk: the sealed state is read from the store on a miss
 * (LevelDB's synchronous get, a few µs from the OS page cache) and kept in a bounded cache, so memory
 * no longer grows with the number of accounts. Storage stays whole in memory: the history's undo records
 * and output roots need every slot of an account, and LevelDB has no synchronous range read.
 *
 * Writes are held in dirty maps, tagged with their block, until that block is durable (`durable`):
 * the store still holds the older value until then, so a dirty value may never be evicted. A key not
 * dirty was either never written since start-up or written by a block now on disk, so the store (or
 * the cache in front of it) holds its newest value.
 */
export class DiskFlatState implements LiveState {
  private readonly dirtyAccounts = new Map<Hex, Written<AccountState | undefined>>()
  private readonly dirtyCodes = new Map<Hex, Written<Uint8Array>>()
  /** `null`: the store has no such account (fresh recipients are common; the absence is cached too). */
  private readonly accounts: TwoGenerationCache<Hex, AccountState | null>
  private readonly codes: TwoGenerationCache<Hex, Uint8Array>
  readonly missed: SealedStateReads = { accounts: 0, codes: 0 }

  constructor(
    private readonly sealed: SealedStateSource,
    /** Every non-zero slot of every account, as sealed (`StateStore.loadStorage`). */
    private readonly storage: Map<Hex, Map<Hex, Uint8Array>>,
    /** Heap for cached accounts and code, roughly (`--cache`'s share). */
    cacheBytes: number,
  ) {
    const codeBytes = cacheBytes / CODE_SHARE
    this.accounts = new TwoGenerationCache(Math.max(16, Math.floor((cacheBytes - codeBytes) / CACHED_ACCOUNT_BYTES / 2)))
    this.codes = new TwoGenerationCache(Math.max(4, Math.floor(codeBytes / ASSUMED_CODE_BYTES / 2)))
  }

  getAccount(address: Hex): AccountState | undefined {
    const dirty = this.dirtyAccounts.get(address)
    if (dirty !== undefined) return dirty.value
    const cached = this.accounts.get(address)
    if (cached !== undefined) return cached ?? undefined
    this.missed.accounts++
    const account = this.sealed.readAccount(address)
    this.accounts.set(address, account ?? null)
    return account
  }

  getStorage(address: Hex, slot: Hex): Uint8Array {
    return this.storage.get(address)?.get(slot) ?? EMPTY
  }

  hasStorage(address: Hex): boolean {
    return this.storage.has(address)
  }

  getCode(codeHash: Hex): Uint8Array | undefined {
    const dirty = this.dirtyCodes.get(codeHash)
    if (dirty !== undefined) return dirty.value
    let code = this.codes.get(codeHash)
    if (code !== undefined) return code
    this.missed.codes++
    code = this.sealed.readCode(codeHash)
    if (code !== undefined) this.codes.set(codeHash, code)
    return code
  }

  storageOf(address: Hex): ReadonlyMap<Hex, Uint8Array> | undefined {
    return this.storage.get(address)
  }

  apply(diff: StateDiff, blockNumber: bigint): void {
    for (const [hash, code] of diff.codes) this.dirtyCodes.set(hash, { value: code, block: blockNumber })
    for (const [address, change] of diff.accounts) {
      this.dirtyAccounts.set(address, { value: change.account ?? undefined, block: blockNumber })
      applyStorageChange(this.storage, address, change)
    }
  }

  durable(blockNumber: bigint): void {
    for (const [address, written] of this.dirtyAccounts) {
      if (written.block > blockNumber) continue
      this.accounts.set(address, written.value ?? null)
      this.dirtyAccounts.delete(address)
    }
    for (const [hash, written] of this.dirtyCodes) {
      if (written.block > blockNumber) continue
      this.codes.set(hash, written.value)
      this.dirtyCodes.delete(hash)
    }
  }

  /** Writes not yet durable (they cannot be evicted; a number that only grows means a missing `durable` call). */
  get dirtyEntries(): number {
    return this.dirtyAccounts.size + this.dirtyCodes.size
  }

  /** Accounts and codes cached (an upper bound, see `TwoGenerationCache.size`). */
  get cachedEntries(): number {
    return this.accounts.size + this.codes.size
  }
}
