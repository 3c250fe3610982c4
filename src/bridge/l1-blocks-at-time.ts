/**
 * The L1 blocks stamped with one timestamp. A contract that records `block.timestamp` (the output registry's
 * `publishedAt`) names the moment of an event, and the event is in one of these blocks: several blocks can share a
 * timestamp (anvil's automine, chains with sub-second blocks). Finding them costs 2·log2(head) header reads, where
 * a log query from genesis would scan the whole chain, and hosted L1 endpoints refuse log queries over wide ranges.
 */

/** The first block in [0, head] whose timestamp is at least `timestamp` (head + 1 when none is). */
async function firstAtOrAfter(timestampOf: (block: bigint) => Promise<bigint>, head: bigint, timestamp: bigint): Promise<bigint> {
  let low = 0n
  let high = head + 1n
  while (low < high) {
    const middle = (low + high) / 2n
    if ((await timestampOf(middle)) < timestamp) low = middle + 1n
    else high = middle
  }
  return low
}

/**
 * The range of blocks in [0, head] stamped exactly `timestamp`, or undefined when no block is. Timestamps must not
 * decrease with the block number (an L1 consensus rule).
 */
export async function blocksAtTimestamp(
  timestampOf: (block: bigint) => Promise<bigint>,
  head: bigint,
  timestamp: bigint,
): Promise<{ from: bigint; to: bigint } | undefined> {
  const from = await firstAtOrAfter(timestampOf, head, timestamp)
  const to = (await firstAtOrAfter(timestampOf, head, timestamp + 1n)) - 1n
  return from <= to ? { from, to } : undefined
}
