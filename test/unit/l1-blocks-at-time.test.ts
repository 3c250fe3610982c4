import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { blocksAtTimestamp } from '../../src/bridge/l1-blocks-at-time.ts'
import { rng } from '../helpers/rng.ts'

/** The answer by a linear scan, to compare the binary search with. */
function scan(stamps: readonly bigint[], timestamp: bigint): { from: bigint; to: bigint } | undefined {
  const at = stamps.flatMap((s, i) => (s === timestamp ? [BigInt(i)] : []))
  return at.length === 0 ? undefined : { from: at[0]!, to: at[at.length - 1]! }
}

describe('blocksAtTimestamp', () => {
  it('finds exactly the blocks a linear scan finds, with shared and skipped timestamps, in few reads', async () => {
    const random = rng(7)
    for (let chain = 0; chain < 200; chain++) {
      // Non-decreasing timestamps: repeats (several blocks a second) and gaps (empty slots).
      const stamps: bigint[] = [1_000n]
      const length = 1 + random.int(300)
      while (stamps.length < length) stamps.push(stamps[stamps.length - 1]! + BigInt(random.pick([0, 0, 1, 2, 12])))
      const head = BigInt(stamps.length - 1)
      for (const timestamp of [
        stamps[0]! - 1n,
        stamps[random.int(stamps.length)]!,
        stamps[random.int(stamps.length)]! + 1n,
        stamps[stamps.length - 1]! + 5n,
      ]) {
        let reads = 0
        const found = await blocksAtTimestamp(
          async (n) => {
            reads++
            return stamps[Number(n)]!
          },
          head,
          timestamp,
        )
        assert.deepEqual(found, scan(stamps, timestamp), `chain ${chain}, timestamp ${timestamp}`)
        assert.ok(reads <= 2 * (Math.ceil(Math.log2(stamps.length + 1)) + 1), `${reads} reads for ${stamps.length} blocks`)
      }
    }
  })
})
