import { bytesToHex, equalsBytes, KECCAK256_NULL } from '@ethereumjs/util'
import { SnapshotSyncError } from '../replica/snapshot-sync.ts'
import { parseRawStateEntry } from '../storage/state-store.ts'
import type { StackTrieNodeSink } from '../trie/stack-trie.ts'
import { StateRootBuilder } from '../trie/state-root-builder.ts'

const NO_SLOTS: Array<[Uint8Array, Uint8Array]> = []

/**
 * The state trie of a snapshot, built while its pages arrive rather than from the store once all are
 * in (at 10M accounts, reading them back cost as much as the trie). Pages come in store order —
 * accounts by address, then code, then each account's slots together — so an account's leaf goes into
 * the builder as it comes, and each account's run of slots becomes its storage root as soon as the
 * next account's run begins. `finish` is left with sorting the leaves and hashing the account trie.
 *
 * It also refuses what would hash to the right root and still be a broken state: a contract whose
 * code the peer did not send, slots of an account that does not exist (the builder's `finish`).
 */
export class SnapshotStateTrie {
  private readonly builder: StateRootBuilder
  /** The slots of the account whose run is being read. */
  private run: { address: Uint8Array; slots: Array<[Uint8Array, Uint8Array]> } | undefined
  /** Code hashes accounts refer to that no code entry has matched yet. */
  private readonly missingCode = new Set<string>()

  constructor(onNode: StackTrieNodeSink) {
    this.builder = new StateRootBuilder(onNode)
  }

  /** A page of entries (shapes checked, keys ascending and above the previous page's). */
  add(entries: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): void {
    for (const [k, v] of entries) {
      const entry = parseRawStateEntry(k, v)
      switch (entry.kind) {
        case 'account':
          this.builder.add({ address: entry.address, account: entry.account, storage: NO_SLOTS })
          if (entry.account.codeHash !== KECCAK256_NULL) this.missingCode.add(bytesToHex(entry.account.codeHash))
          break
        case 'code':
          this.missingCode.delete(bytesToHex(entry.codeHash))
          break
        case 'slot':
          if (this.run !== undefined && !equalsBytes(this.run.address, entry.address)) this.closeRun()
          if (this.run === undefined) this.run = { address: entry.address.slice(), slots: [] }
          this.run.slots.push([entry.slot.slice(), entry.value.slice()])
          break
      }
    }
  }

  /** Every entry is in: the builder, ready for its `finish`. */
  finish(): StateRootBuilder {
    this.closeRun()
    const [missing] = this.missingCode
    if (missing !== undefined)
      throw new SnapshotSyncError(
        `snapshot: accounts refer to ${this.missingCode.size} codes the peer did not send (the first: code hash ${missing})`,
      )
    return this.builder
  }

  private closeRun(): void {
    if (this.run === undefined) return
    this.builder.addStorage(this.run.address, this.run.slots)
    this.run = undefined
  }
}
