/**
 * A sealed block's encoded witness (what `debug_executionWitness` serves and replicas verify with): the
 * merkleizer's recorded trie nodes and keys, plus the bytecode the block ran and the ancestor headers its
 * BLOCKHASH reads need, chained up to the parent so they can be checked. Shared by the sequencer's sealer and
 * the derived-block builder (a prover keeps the witnesses of the blocks it derives: its execution traces are
 * re-executed from them).
 */
import type { EncodedStateWitness } from '../execution/merkleizer/thread.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { encodeRlp } from '../primitives/rlp-fields.ts'
import { joinEncodedWitness } from './witness.ts'

export interface BlockWitnessSources {
  /** Bytecode by hash, as the state holds it once the block is applied. */
  code(codeHash: Hex): Uint8Array | undefined
  /** The RLP header of an ancestor block. */
  header(number: bigint): Promise<Uint8Array | undefined>
}

export async function encodeBlockWitness(
  number: bigint,
  recorded: Pick<EncodedStateWitness, 'codeHashes' | 'encodedNodes' | 'encodedKeys'>,
  blockHashes: readonly bigint[],
  sources: BlockWitnessSources,
): Promise<Uint8Array> {
  const codes = recorded.codeHashes.map((hash) => {
    const code = sources.code(hash)
    if (code === undefined) throw new Error(`witness of block ${number}: bytecode ${hash} is not in the state`)
    return code
  })
  let oldest = number - 1n
  for (const n of blockHashes) if (n < oldest) oldest = n
  const headers: Uint8Array[] = []
  for (let n = oldest; n < number; n++) {
    const header = await sources.header(n)
    if (header === undefined) throw new Error(`witness of block ${number}: ancestor ${n} is not sealed`)
    headers.push(header)
  }
  return joinEncodedWitness({
    state: recorded.encodedNodes,
    codes: encodeRlp(codes),
    keys: recorded.encodedKeys,
    headers: encodeRlp(headers),
  })
}
