import { bytesToHex } from '@ethereumjs/util'
import { NodeError } from '../primitives/errors.ts'

export type TrieErrorCode = 'TRIE_MISSING_NODE' | 'TRIE_INVALID_NODE'

/**
 * A hash-referenced node was needed but the trie has no `source`, or the source does not hold it.
 * For a stateless execution this means the witness is incomplete.
 */
export class MissingTrieNodeError extends NodeError<'TRIE_MISSING_NODE', { hash: Uint8Array }> {
  override readonly name = 'MissingTrieNodeError'

  constructor(hash: Uint8Array) {
    super('TRIE_MISSING_NODE', `Missing trie node ${bytesToHex(hash)}`, { data: { hash } })
  }
}

/** A node read from a source is not valid trie-node RLP, or does not hash to the reference it was loaded by. */
export class InvalidTrieNodeError extends NodeError<'TRIE_INVALID_NODE', undefined> {
  override readonly name = 'InvalidTrieNodeError'

  constructor(reason: string) {
    super('TRIE_INVALID_NODE', `Invalid trie node: ${reason}`)
  }
}
