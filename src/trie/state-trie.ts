/**
 * Ethereum world state as Merkle-Patricia tries: a secure account trie (key keccak256(address),
 * value RLP([nonce, balance, storageRoot, codeHash])) plus one secure storage trie per account with
 * storage (key keccak256(slot), value RLP(minimal big-endian value)). Either wholly in memory, or
 * opened from a root over a node source (a stateless witness, or the persisted nodes of
 * `storage/trie-node-store.ts`), in which case nodes are loaded as walks reach them and `commit()`
 * hands back the nodes each update created, for the caller to persist.
 */
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_RLP, bytesToBigInt, bytesToHex, equalsBytes, setLengthLeft } from '@ethereumjs/util'
import type { AccountState, Hex, StateDiff } from '../primitives/state-diff.ts'
import { keccak256 } from '../crypto/native.ts'
import { InvalidTrieNodeError, MissingTrieNodeError } from './errors.ts'
import { proveEncoded, type EncodedNodeLookup } from './encoded-proof.ts'
import { HistoricalNodes, type TrieHistory } from './trie-history.ts'
import { MerkleTrie, type TrieNodeSource } from './trie.ts'

export interface StateTrieOptions {
  /** Receives the RLP of pre-existing account- and storage-trie nodes read by reads and updates (see `MerkleTrieOptions`). */
  onNodeRead?: (rlp: Uint8Array, identity: object, hash: Uint8Array) => void
  /**
   * Records what each `applyDiff` displaces, so `getProofAt` can prove against the roots of the
   * recorded blocks. With `open`, nodes a record lacks are also looked up in the source by hash (a
   * persisted store keeps every node it was given, so old roots' untouched nodes are still there).
   */
  history?: TrieHistory
  /**
   * Opens an existing state by its root, loading account- and storage-trie nodes from `source` as
   * they are walked (a stateless verifier's partial trie). Without it the state starts empty and
   * lives wholly in memory.
   */
  open?: { root: Uint8Array; source: TrieNodeSource }
}

/** An account as its trie leaf holds it. */
export interface TrieAccount {
  account: AccountState
  storageRoot: Uint8Array
}

export interface StateTrieAccount {
  address: Uint8Array
  account: AccountState
  /** [slot (32 bytes), value (minimal big-endian bytes)]; zero values are skipped. */
  storage: Iterable<[slot: Uint8Array, value: Uint8Array]>
}

export interface StorageProof {
  /** The slot as requested. */
  key: Uint8Array
  /** Minimal big-endian value; empty when the slot is zero/absent. */
  value: Uint8Array
  proof: Uint8Array[]
}

export interface AccountProof {
  /** The account the proof's leaf holds (undefined when absent). */
  account: AccountState | undefined
  accountProof: Uint8Array[]
  storageHash: Uint8Array
  storageProof: StorageProof[]
}

const EMPTY_BYTES = new Uint8Array(0)

export class StateTrie {
  private readonly accounts: MerkleTrie
  /** Storage tries of accounts with at least one non-zero slot, by lowercase 0x address. */
  private readonly storage = new Map<Hex, MerkleTrie>()
  private readonly onNodeRead: ((rlp: Uint8Array, identity: object, hash: Uint8Array) => void) | undefined
  private readonly source: TrieNodeSource | undefined
  private readonly history: TrieHistory | undefined
  /** Storage tries updated since the last `commit()`. */
  private readonly uncommittedStorage = new Set<MerkleTrie>()

  constructor(opts: StateTrieOptions = {}) {
    this.history = opts.history
    this.onNodeRead = withHistory(opts.onNodeRead, opts.history)
    this.source = opts.open?.source
    this.accounts = new MerkleTrie({ onNodeRead: this.onNodeRead, ...opts.open })
  }

  /** Builds the tries of a full state, e.g. when rebuilding from flat state at start-up. */
  static fromAccounts(accounts: Iterable<StateTrieAccount>, opts: StateTrieOptions = {}): StateTrie {
    const state = new StateTrie(opts)
    for (const { address, account, storage } of accounts) {
      const hex = bytesToHex(address)
      let trie: MerkleTrie | undefined
      for (const [slot, value] of storage) {
        trie ??= state.newStorageTrie()
        putSlot(trie, slot, value)
      }
      const storageRoot = state.keepStorageTrie(hex, trie)
      if (trie !== undefined) state.uncommittedStorage.add(trie)
      state.accounts.put(keccak256(address), encodeAccount(account, storageRoot))
    }
    return state
  }

  /** Applies one block's (or mini-block's) changes and returns the new state root. */
  applyDiff(diff: StateDiff): Uint8Array {
    const history = this.history
    if (history === undefined) return this.applyChanges(diff)
    history.begin(this.accounts.root())
    let root: Uint8Array
    try {
      root = this.applyChanges(diff)
    } catch (error) {
      // The trie stopped half-way: what was recorded no longer describes how it got here.
      history.clear()
      throw error
    }
    history.end()
    return root
  }

  /**
   * Deletions go first, in the account trie and in every storage trie, whatever order `diff` lists
   * its keys in. The final trie is the same in any order, but the nodes walked are not: a deletion
   * that leaves a branch one child folds the branch into that child, which must be loaded, and an
   * insertion into the branch before it would have avoided the fold. A witness recorded in one order
   * then lacked the sibling a verifier applying the same changes in another order needed (a block
   * sealed from the WAL after a crash, whose diff lists keys in the mini-blocks' order, not in the
   * re-execution's). Deleting first folds every branch that can fold in any order, so a witness
   * recorded this way serves every order.
   */
  private applyChanges(diff: StateDiff): Uint8Array {
    const history = this.history
    for (const [address, change] of diff.accounts) {
      if (change.account !== null) continue
      const dropped = this.storage.get(address)
      if (dropped !== undefined) {
        history?.storageDropped(address, dropped)
        this.storage.delete(address)
      }
      this.accounts.del(keccak256(parseHex(address)))
    }
    for (const [address, change] of diff.accounts) {
      if (change.account === null) continue
      const key = keccak256(parseHex(address))
      if (change.storageCleared && history !== undefined) {
        const dropped = this.storage.get(address)
        if (dropped !== undefined) history.storageDropped(address, dropped)
      }
      let trie = change.storageCleared ? undefined : this.storageTrie(address, key)
      if (change.storage.size > 0) {
        trie ??= this.newStorageTrie()
        for (const [slot, value] of change.storage) if (isZero(value)) putSlot(trie, parseHex(slot), value)
        for (const [slot, value] of change.storage) if (!isZero(value)) putSlot(trie, parseHex(slot), value)
      }
      // The account leaf embeds the storage root, so storage must be settled first.
      const storageRoot = this.keepStorageTrie(address, trie)
      if (trie !== undefined && change.storage.size > 0) this.uncommittedStorage.add(trie)
      this.accounts.put(key, encodeAccount(change.account, storageRoot))
    }
    return this.accounts.root()
  }

  root(): Uint8Array {
    return this.accounts.root()
  }

  /**
   * Hashes the tries and returns every node created since the last commit (or since the state was
   * built or opened), keyed by hash, in an order a store can write them in: each node after every
   * node it references (storage tries before the account trie whose leaves name their roots, the
   * account root last). Nodes loaded from the source are not returned again.
   */
  commit(): Array<[hash: Uint8Array, rlp: Uint8Array]> {
    const out: Array<[Uint8Array, Uint8Array]> = []
    for (const trie of this.uncommittedStorage) appendReversed(out, trie.commit())
    this.uncommittedStorage.clear()
    appendReversed(out, this.accounts.commit())
    return out
  }

  /** Nodes the tries loaded from the source since the state was opened or last `trim`med (a memory gauge). */
  loadedNodes(): number {
    let loaded = this.accounts.loaded
    for (const trie of this.storage.values()) loaded += trie.loaded
    return loaded
  }

  /**
   * Bounds the memory of a state opened over a store that holds everything `commit()` returned:
   * forgets the account trie's nodes more than `levels` below its root, and every storage trie (each
   * is loaded again from its account's leaf when next used). Call after `commit()`; a no-op for a
   * state without a source, whose nodes exist nowhere else.
   */
  trim(levels: number): void {
    if (this.source === undefined) return
    if (this.uncommittedStorage.size > 0) throw new Error('StateTrie.trim before commit: storage tries have unpersisted nodes')
    this.accounts.unload(levels)
    this.storage.clear()
  }

  /** The account at `address`, or undefined when absent. Reports the nodes walked to `onNodeRead`. */
  account(address: Uint8Array): TrieAccount | undefined {
    const leaf = this.accounts.get(keccak256(address))
    return leaf === undefined ? undefined : decodeAccount(leaf)
  }

  /** A storage slot's value, minimal big-endian (empty when zero). Reports the nodes walked to `onNodeRead`. */
  storageValue(address: Uint8Array, slot: Uint8Array): Uint8Array {
    const trie = this.storageTrie(bytesToHex(address) as Hex, keccak256(address))
    if (trie === undefined) return EMPTY_BYTES
    const value = trie.get(keccak256(setLengthLeft(slot, 32)))
    return value === undefined ? EMPTY_BYTES : decodeStorageValue(value)
  }

  storageRoot(address: Uint8Array): Uint8Array {
    return this.storageTrie(bytesToHex(address) as Hex, keccak256(address))?.root() ?? KECCAK256_RLP.slice()
  }

  /** EIP-1186 (`eth_getProof`) proof material. Reads done here are not reported to `onNodeRead`. */
  getProof(address: Uint8Array, slots: Uint8Array[]): AccountProof {
    const trie = this.storageTrie(bytesToHex(address) as Hex, keccak256(address))
    const storageProof = slots.map((slot): StorageProof => {
      if (trie === undefined) return { key: slot, value: EMPTY_BYTES, proof: [] }
      const { value, proof } = trie.prove(keccak256(setLengthLeft(slot, 32)))
      return { key: slot, value: value === undefined ? EMPTY_BYTES : decodeStorageValue(value), proof }
    })
    const { value: leaf, proof: accountProof } = this.accounts.prove(keccak256(address))
    return {
      account: leaf === undefined ? undefined : decodeAccount(leaf).account,
      accountProof,
      storageHash: trie?.root() ?? KECCAK256_RLP.slice(),
      storageProof,
    }
  }

  /**
   * `getProof` against the state whose root is `root`: the current one, one before a block the
   * `history` still holds the record of, or, with `fromStore`, one the node source holds (a persisted
   * store: a root a restart's fresh history never saw; the caller bounds how old); undefined when none.
   * Byte for byte the proof a trie of that state would give: its nodes are those of the old root, taken
   * from the history records or, where unchanged since, from the live tries at the same place (checked
   * by hash), else from the source.
   */
  getProofAt(root: Uint8Array, address: Uint8Array, slots: Uint8Array[], fromStore = false): AccountProof | undefined {
    if (equalsBytes(root, this.accounts.root())) return this.getProof(address, slots)
    const recorded = this.history?.since(root)
    if (recorded !== undefined) return this.proveAt(root, recorded, address, slots)
    if (!fromStore || this.source?.get(root) === undefined) return undefined
    // A root no history record starts from that the node source holds: the store writes a root after
    // everything below it and deletes nothing while the node runs, but `prune-state` (offline) deletes
    // the nodes of every root but the head's, so a stored root may have lost nodes below it.
    try {
      return this.proveAt(root, new HistoricalNodes([]), address, slots)
    } catch (error) {
      if (error instanceof MissingTrieNodeError) return undefined
      throw error
    }
  }

  private proveAt(root: Uint8Array, past: HistoricalNodes, address: Uint8Array, slots: Uint8Array[]): AccountProof {
    const { value: leaf, proof: accountProof } = proveEncoded(
      root,
      keccak256(address),
      nodeLookup(past, [this.accounts], this.source),
    )
    const decoded = leaf === undefined ? undefined : decodeAccount(leaf)
    const storageHash = decoded?.storageRoot ?? KECCAK256_RLP
    const hex = bytesToHex(address) as Hex
    const live = this.storage.get(hex)
    const storageLookup = nodeLookup(
      past,
      live === undefined ? past.droppedStorage(hex) : [...past.droppedStorage(hex), live],
      this.source,
    )
    const storageProof = slots.map((slot): StorageProof => {
      if (equalsBytes(storageHash, KECCAK256_RLP)) return { key: slot, value: EMPTY_BYTES, proof: [] }
      const { value, proof } = proveEncoded(storageHash, keccak256(setLengthLeft(slot, 32)), storageLookup)
      return { key: slot, value: value === undefined ? EMPTY_BYTES : decodeStorageValue(value), proof }
    })
    return { account: decoded?.account, accountProof, storageHash: storageHash.slice(), storageProof }
  }

  /**
   * The storage trie of `address` (`key` is its hashed trie key). A trie opened from a root loads it
   * on first use from the account leaf's storage root; a wholly in-memory one has it in the map.
   */
  private storageTrie(address: Hex, key: Uint8Array): MerkleTrie | undefined {
    const known = this.storage.get(address)
    if (known !== undefined || this.source === undefined) return known
    const leaf = this.accounts.get(key)
    if (leaf === undefined) return undefined
    const { storageRoot } = decodeAccount(leaf)
    if (equalsBytes(storageRoot, KECCAK256_RLP)) return undefined
    const trie = new MerkleTrie({ root: storageRoot, source: this.source, onNodeRead: this.onNodeRead })
    this.storage.set(address, trie)
    return trie
  }

  private newStorageTrie(): MerkleTrie {
    return new MerkleTrie({ onNodeRead: this.onNodeRead })
  }

  /** Records (or forgets, when empty) an account's storage trie and returns its root. */
  private keepStorageTrie(address: Hex, trie: MerkleTrie | undefined): Uint8Array {
    if (trie === undefined || trie.isEmpty()) {
      this.storage.delete(address)
      return KECCAK256_RLP
    }
    this.storage.set(address, trie)
    return trie.root()
  }
}

/**
 * Nodes of an old root: from the blocks that displaced them, else where they still sit in one of
 * `tries`, else (a state opened over a store that keeps every node) from `source` by hash: a storage
 * trie the live state never loaded is in none of the others.
 */
function nodeLookup(past: HistoricalNodes, tries: MerkleTrie[], source: TrieNodeSource | undefined): EncodedNodeLookup {
  return (hash, nibbles, depth) => {
    const displaced = past.node(hash)
    if (displaced !== undefined) return displaced
    for (const trie of tries) {
      const rlp = trie.encodedNodeAt(nibbles, depth, hash)
      if (rlp !== undefined) return rlp
    }
    return source?.get(hash)
  }
}

/** `commit()` lists a trie's nodes root first; a store wants them children first. */
function appendReversed<T>(out: T[], items: T[]): void {
  for (let i = items.length - 1; i >= 0; i--) out.push(items[i]!)
}

function withHistory(
  onNodeRead: StateTrieOptions['onNodeRead'],
  history: TrieHistory | undefined,
): StateTrieOptions['onNodeRead'] {
  if (history === undefined) return onNodeRead
  if (onNodeRead === undefined) return history.onNodeRead
  const record = history.onNodeRead
  return (rlp, identity, hash) => {
    onNodeRead(rlp, identity, hash)
    record(rlp, identity, hash)
  }
}

function putSlot(trie: MerkleTrie, slot: Uint8Array, value: Uint8Array): void {
  const key = storageTrieKey(slot)
  const leaf = storageLeafValue(value)
  if (leaf === undefined) trie.del(key)
  else trie.put(key, leaf)
}

/** A slot's key in its storage trie: keccak256 of the slot as 32 bytes. */
export function storageTrieKey(slot: Uint8Array): Uint8Array {
  return keccak256(slot.length === 32 ? slot : setLengthLeft(slot, 32))
}

/** A slot value's storage-trie leaf value: RLP of its minimal big-endian bytes; undefined for zero (no leaf). */
export function storageLeafValue(value: Uint8Array): Uint8Array | undefined {
  const minimal = stripLeadingZeros(value)
  return minimal.length === 0 ? undefined : encodeStorageValue(minimal)
}

/** Whether a slot value deletes its slot (zero, however many bytes it is written with). */
function isZero(value: Uint8Array): boolean {
  for (const byte of value) if (byte !== 0) return false
  return true
}

/** Values are specified minimal, but a stray leading zero would silently change the root. */
function stripLeadingZeros(value: Uint8Array): Uint8Array {
  let i = 0
  while (i < value.length && value[i] === 0) i++
  return i === 0 ? value : value.subarray(i)
}

/** RLP of a non-empty byte string of at most 55 bytes (storage values are ≤ 32). */
function encodeStorageValue(value: Uint8Array): Uint8Array {
  if (value.length === 1 && value[0] < 0x80) return value
  if (value.length > 55) throw new RangeError(`storage value of ${value.length} bytes`)
  const out = new Uint8Array(value.length + 1)
  out[0] = 0x80 + value.length
  out.set(value, 1)
  return out
}

function decodeStorageValue(encoded: Uint8Array): Uint8Array {
  const decoded = RLP.decode(encoded)
  if (!(decoded instanceof Uint8Array)) throw new InvalidTrieNodeError('storage leaf holds a list')
  return decoded
}

/** An account leaf's fields (also how the trie walker finds each account's storage root). */
export function decodeAccount(leaf: Uint8Array): TrieAccount {
  const fields = RLP.decode(leaf)
  if (!Array.isArray(fields) || fields.length !== 4 || !fields.every((f): f is Uint8Array => f instanceof Uint8Array)) {
    throw new InvalidTrieNodeError('account leaf is not a list of four byte strings')
  }
  const [nonce, balance, storageRoot, codeHash] = fields
  if (storageRoot.length !== 32 || codeHash.length !== 32)
    throw new InvalidTrieNodeError('account leaf with a malformed storage root or code hash')
  return { account: { nonce: bytesToBigInt(nonce), balance: bytesToBigInt(balance), codeHash }, storageRoot }
}

/**
 * RLP([nonce, balance, storageRoot, codeHash]) written straight into one buffer: this runs for
 * every updated account, and the generic encoder's intermediate arrays showed up as GC time.
 */
export function encodeAccount(account: AccountState, storageRoot: Uint8Array): Uint8Array {
  const { codeHash } = account
  if (codeHash.length !== 32 || storageRoot.length !== 32) throw new RangeError('storage root and code hash must be 32 bytes')
  const nonce = quantityHex(account.nonce)
  const balance = quantityHex(account.balance)
  const payload = quantityItemLength(nonce) + quantityItemLength(balance) + 66
  // At most 9 + 33 + 66 bytes, so a long-list header has a single length byte.
  const out = new Uint8Array(payload + (payload < 56 ? 1 : 2))
  let pos = 0
  if (payload < 56) {
    out[pos++] = 0xc0 + payload
  } else {
    out[pos++] = 0xf8
    out[pos++] = payload
  }
  pos = writeQuantity(nonce, out, pos)
  pos = writeQuantity(balance, out, pos)
  out[pos++] = 0xa0
  out.set(storageRoot, pos)
  out[pos + 32] = 0xa0
  out.set(codeHash, pos + 33)
  return out
}

/**
 * An account leaf of `encodeAccount` with another storage root: the root sits at a fixed distance from
 * the end (it is followed by the 33-byte code hash item), so the leaf is copied and patched, not decoded.
 */
export function withStorageRoot(leaf: Uint8Array, storageRoot: Uint8Array): Uint8Array {
  if (storageRoot.length !== 32) throw new RangeError('a storage root is 32 bytes')
  const patched = leaf.slice()
  patched.set(storageRoot, leaf.length - 65)
  return patched
}

const UINT256_LIMIT = 1n << 256n

/** Minimal big-endian hex of a non-negative quantity, even-length, empty for zero. */
function quantityHex(value: bigint): string {
  if (value < 0n || value >= UINT256_LIMIT) throw new RangeError(`account quantity out of range: ${value}`)
  if (value === 0n) return ''
  const hex = value.toString(16)
  return hex.length & 1 ? `0${hex}` : hex
}

function quantityItemLength(hex: string): number {
  const len = hex.length >> 1
  return len === 0 || (len === 1 && parseInt(hex, 16) < 0x80) ? 1 : len + 1
}

function writeQuantity(hex: string, out: Uint8Array, pos: number): number {
  const len = hex.length >> 1
  if (len === 0) {
    out[pos] = 0x80
    return pos + 1
  }
  if (len > 1 || parseInt(hex, 16) >= 0x80) out[pos++] = 0x80 + len
  return writeHex(hex, 0, out, pos)
}

const HEX_DIGITS = ((): Int8Array => {
  const table = new Int8Array(128).fill(-1)
  for (let i = 0; i < 10; i++) table[48 + i] = i
  for (let i = 0; i < 6; i++) {
    table[65 + i] = 10 + i
    table[97 + i] = 10 + i
  }
  return table
})()

function hexDigit(hex: string, at: number): number {
  const code = hex.charCodeAt(at)
  const digit = code < 128 ? HEX_DIGITS[code]! : -1
  if (digit < 0) throw new SyntaxError(`invalid hex string: ${hex}`)
  return digit
}

/** Writes the even-length hex digits `hex[from..]` as bytes at `out[pos..]`. */
function writeHex(hex: string, from: number, out: Uint8Array, pos: number): number {
  for (let i = from; i < hex.length; i += 2) out[pos++] = (hexDigit(hex, i) << 4) | hexDigit(hex, i + 1)
  return pos
}

/** `hexToBytes` for the diff's 0x-prefixed addresses and slots, without the regex validation pass. */
function parseHex(hex: Hex): Uint8Array {
  if (hex.length & 1) throw new SyntaxError(`odd-length hex string: ${hex}`)
  const out = new Uint8Array((hex.length - 2) >> 1)
  writeHex(hex, 2, out, 0)
  return out
}
