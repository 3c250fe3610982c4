/** The gossip topic for `name` on chain `chainId`: `/megaeth/<chainId>/<name>/1` (the trailing 1 is the encoding version). */
export function topicName(chainId: bigint, name: string): string {
  // A slash would let two (chainId, name) pairs map to one topic.
  if (name === '' || name.includes('/'))
    throw new RangeError(`topic name must be non-empty without '/', got ${JSON.stringify(name)}`)
  return `/megaeth/${chainId}/${name}/1`
}

/** Signed mini-blocks, as the sequencer publishes them (10 ms tier). */
export const miniBlocksTopic = (chainId: bigint): string => topicName(chainId, 'mini-blocks')
/** Signed announcements of sealed EVM blocks (1 s tier). */
export const blocksTopic = (chainId: bigint): string => topicName(chainId, 'blocks')
