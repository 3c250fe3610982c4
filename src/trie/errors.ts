import { bytesToHex } from '@ethereumjs/util'

/**
 * A hash-referenced node was needed but the trie has no `source`, or the source does not hold it.
 * For a stateless execution this means the witness is incomplete.
 */
export class MissingTrieNodeError extends Error {
  readonly hash: Uint8Array

  constructor(hash: Uint8Array) {
    super(`Missing trie node ${bytesToHex(hash)}`)
    this.name = 'MissingTrieNodeError'
    this.hash = hash
  }
}

/** A node read from a source is not valid trie-node RLP, or does not hash to the reference it was loaded by. */
export class InvalidTrieNodeError extends Error {
  constructor(reason: string) {
    super(`Invalid trie node: ${reason}`)
    this.name = 'InvalidTrieNodeError'
  }
}
