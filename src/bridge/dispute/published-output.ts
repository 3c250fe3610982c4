/**
 * Reading an output's preimage back from the output registry (`output-registry.ts` publishes it): the prover opens a
 * disputed output with it, a validator checks L1's anchor root against it before trusting the anchor's block hash.
 */
import type { Address, Hex, PublicClient } from 'viem'
import { blocksAtTimestamp } from '../l1-blocks-at-time.ts'
import { outputRootRegistryAbi } from './output-registry.ts'

/** An output's record in the registry: its first publication's time and its preimage (from the event). */
export interface PublishedOutput {
  publishedAt: bigint
  /** The L2 block header, RLP-encoded. */
  header: Hex
  messagePasserStorageRoot: Hex
}

/**
 * The preimage of a published output, from the registry's first `OutputPublished` event for its root. The event is
 * looked for only in the L1 blocks stamped with the root's `publishedAt` (`blocksAtTimestamp`), not from genesis;
 * a found preimage never changes, so it is remembered.
 */
export function publishedOutputReader(
  client: PublicClient,
  registry: Address,
): (root: Hex) => Promise<PublishedOutput | undefined> {
  const known = new Map<Hex, PublishedOutput>()
  return async (root) => {
    const key = root.toLowerCase() as Hex
    const cached = known.get(key)
    if (cached !== undefined) return cached
    const publishedAt = await client.readContract({
      address: registry,
      abi: outputRootRegistryAbi,
      functionName: 'publishedAt',
      args: [root],
    })
    if (publishedAt === 0n) return undefined
    const head = await client.getBlockNumber({ cacheTime: 0 })
    const blocks = await blocksAtTimestamp(
      async (blockNumber) => (await client.getBlock({ blockNumber })).timestamp,
      head,
      publishedAt,
    )
    if (blocks === undefined) return undefined
    const logs = await client.getContractEvents({
      address: registry,
      abi: outputRootRegistryAbi,
      eventName: 'OutputPublished',
      args: { outputRoot: root },
      fromBlock: blocks.from,
      toBlock: blocks.to,
    })
    const first = logs[0]
    if (first === undefined) return undefined
    const output = { publishedAt, header: first.args.header!, messagePasserStorageRoot: first.args.messagePasserStorageRoot! }
    known.set(key, output)
    return output
  }
}
