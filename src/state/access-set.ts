import type { BlockAccess } from '../primitives/block-access.ts'
import type { Hex } from '../primitives/state-diff.ts'
import type { AccessRecorder } from './journaled-state.ts'
import type { StateReader } from './state-reader.ts'

/**
 * Collects the keys one EVM block's execution reads, for its witness: a stateless verifier
 * re-executing the block must find every one of them in the partial trie (written keys are walked
 * by the state-root update anyway). Fed by `recordingReader` under the executor's overlay, it sees
 * reads from every executor, the parallel executor's validation reads included.
 */
export class BlockAccessRecorder implements AccessRecorder {
  private accounts = new Set<Hex>()
  private slots = new Map<Hex, Set<Hex>>()
  private blockHashes = new Set<bigint>()
  private codeHashes = new Set<Hex>()

  onAccountRead(address: Hex): void {
    this.accounts.add(address)
  }

  onStorageRead(address: Hex, slot: Hex): void {
    let slots = this.slots.get(address)
    if (slots === undefined) {
      slots = new Set()
      this.slots.set(address, slots)
    }
    slots.add(slot)
  }

  onBlockHashRead(number: bigint): void {
    this.blockHashes.add(number)
  }

  onCodeRead(codeHash: Hex): void {
    this.codeHashes.add(codeHash)
  }

  /** What was read since the last `take()`, and a fresh start for the next block. */
  take(): BlockAccess {
    const access: BlockAccess = {
      accounts: [...this.accounts],
      slots: [...this.slots].map(([address, slots]) => [address, [...slots]]),
      blockHashes: [...this.blockHashes],
      codeHashes: [...this.codeHashes],
    }
    this.accounts = new Set()
    this.slots = new Map()
    this.blockHashes = new Set()
    this.codeHashes = new Set()
    return access
  }
}

/** Records `access` (a block's reads taken earlier) into `recorder` again, to add to them. */
export function restoreAccess(recorder: BlockAccessRecorder, access: BlockAccess): void {
  for (const address of access.accounts) recorder.onAccountRead(address)
  for (const [address, slots] of access.slots) for (const slot of slots) recorder.onStorageRead(address, slot)
  for (const number of access.blockHashes) recorder.onBlockHashRead(number)
  for (const codeHash of access.codeHashes) recorder.onCodeRead(codeHash)
}

/**
 * `base` with every read reported to `recorder`. Wrapping the state under an executor's write
 * overlay records exactly the reads a witness needs (a key the block wrote earlier is answered by the
 * overlay and needs none), at a fraction of the calls: the EVM re-reads the same few accounts dozens
 * of times per transaction, nearly all from the overlay.
 */
export function recordingReader(base: StateReader, recorder: AccessRecorder): StateReader {
  return {
    getAccount(address) {
      recorder.onAccountRead(address)
      return base.getAccount(address)
    },
    getStorage(address, slot) {
      recorder.onStorageRead(address, slot)
      return base.getStorage(address, slot)
    },
    hasStorage(address) {
      // Storage emptiness is read from the account's storage root.
      recorder.onAccountRead(address)
      return base.hasStorage(address)
    },
    getCode(codeHash) {
      recorder.onCodeRead?.(codeHash)
      return base.getCode(codeHash)
    },
  }
}
