/** How much trie history the merkleizer thread keeps for proofs at past blocks. */

/** Default history (blocks behind the head a proof can be made at): `--state.history`'s default. */
export const DEFAULT_HISTORY_BLOCKS = 128

/**
 * Blocks of trie history kept beyond the requested retention: the thread may already have applied
 * the next block (or two) while the chain's head is still the one before, and the retention is
 * counted back from the head.
 */
export const HISTORY_SLACK_BLOCKS = 2
