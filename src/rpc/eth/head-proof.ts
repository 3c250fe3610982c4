import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Hex } from '../../primitives/state-diff.ts'
import type { AccountProof } from '../../trie/index.ts'
import type { ThreadedMerkleizer } from '../../execution/merkleizer/merkleizer.ts'
import type { ChainView } from '../../storage/chain-view.ts'

/** The head's state as the merkleizer holds it: what serving `eth_getProof` takes. */
export interface HeadStateView {
  readonly chain: Pick<ChainView, 'head'>
  readonly merkleizer: Pick<ThreadedMerkleizer, 'root' | 'getProof'>
}

/**
 * EIP-1186 proof at the newest sealed block, or undefined when `blockNumber` is not that block. The
 * merkleizer may already hold the next block's trie while its seal commits: serve only when its
 * root is the head's.
 */
export async function proofAtHead(
  opened: HeadStateView,
  blockNumber: bigint,
  address: Hex,
  slots: Hex[],
): Promise<AccountProof | undefined> {
  const head = opened.chain.head.header
  if (blockNumber !== head.number) return undefined
  const [root, proof] = await Promise.all([
    opened.merkleizer.root(),
    opened.merkleizer.getProof(
      hexToBytes(address),
      slots.map((s) => hexToBytes(s)),
    ),
  ])
  return bytesToHex(root) === bytesToHex(head.stateRoot) ? proof : undefined
}
