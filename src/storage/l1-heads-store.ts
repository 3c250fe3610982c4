/**
 * Where derivation stood: the newest block derived from L1 (`safe`, by number and hash) and the newest
 * derived from finalized L1 (`finalized`). A sequencer's chain runs ahead of its safe head, so without
 * this record a restart could not tell which of its blocks L1 already confirmed and re-derived the whole
 * chain from genesis before producing again (geth keeps the safe and finalized labels for op-node in
 * its database the same way).
 *
 * The record is a hint that must be checked, not a promise: it is written without fsync, behind the
 * block writes it follows, so after a crash it may name a block a rewind has since replaced (the reader
 * compares the hash) or lag behind (derivation re-checks a little more). Derivation also checks the
 * safe block's L1 origin against L1 before it trusts it.
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Hex } from '../primitives/state-diff.ts'
import { readU64, u64 } from '../primitives/u64.ts'
import type { NodeDb } from './db.ts'

const L1_HEADS_KEY = new TextEncoder().encode('l1-heads')

export interface L1HeadsRecord {
  safe: { number: bigint; hash: Hex }
  /** Never above `safe.number`. */
  finalized: bigint
}

export class L1HeadsStore {
  constructor(private readonly db: NodeDb) {}

  /** Records the heads (unsynced: see the module comment). */
  async save(record: L1HeadsRecord): Promise<void> {
    const value = new Uint8Array(48)
    value.set(u64(record.safe.number), 0)
    value.set(hexToBytes(record.safe.hash), 8)
    value.set(u64(record.finalized < record.safe.number ? record.finalized : record.safe.number), 40)
    await this.db.write([this.db.put('meta', L1_HEADS_KEY, value)], false)
  }

  async load(): Promise<L1HeadsRecord | undefined> {
    const value = await this.db.get('meta', L1_HEADS_KEY)
    if (value === undefined || value.length !== 48) return undefined
    return {
      safe: { number: readU64(value.subarray(0, 8)), hash: bytesToHex(value.subarray(8, 40)) as Hex },
      finalized: readU64(value.subarray(40, 48)),
    }
  }
}
