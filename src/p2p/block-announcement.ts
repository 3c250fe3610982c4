import { createBlockHeaderFromRLP, type BlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { concatBytes } from '@ethereumjs/util'
import { asBytes, asList, bytesToBigInt, CodecError, decodeRlp, encodeRlp, type RlpValue, unpaddedBytes } from '../chain/rlp-fields.ts'
import { recoverSequencer, signAsSequencer } from '../chain/sequencer-signature.ts'
import type { Hex } from '../chain/state-diff.ts'
import { u64 } from '../storage/db.ts'

/** Keeps announcement signatures from being valid as any other signed message. */
const SIGNING_DOMAIN = new TextEncoder().encode('megaeth-node/block-announcement/v1')

/**
 * A sealed EVM block as the sequencer announces it: the Ethereum header, which mini-blocks it is
 * made of, and the sequencer's signature over both. Everything else about the block (transactions,
 * receipts, state) is checked against this header.
 */
export interface BlockAnnouncement {
  header: BlockHeader
  miniBlocks: { first: bigint; count: number }
  signature: Uint8Array
}

function signedHash(header: BlockHeader, miniBlocks: BlockAnnouncement['miniBlocks']): Uint8Array {
  return concatBytes(header.hash(), u64(miniBlocks.first), u64(BigInt(miniBlocks.count)))
}

export function signBlockAnnouncement(header: BlockHeader, miniBlocks: BlockAnnouncement['miniBlocks'], chainId: bigint, key: Uint8Array): BlockAnnouncement {
  return { header, miniBlocks, signature: signAsSequencer(SIGNING_DOMAIN, chainId, signedHash(header, miniBlocks), key) }
}

export function recoverAnnouncementSigner(announcement: BlockAnnouncement, chainId: bigint): Hex {
  return recoverSequencer(SIGNING_DOMAIN, chainId, signedHash(announcement.header, announcement.miniBlocks), announcement.signature, 'block announcement')
}

export function encodeBlockAnnouncement(announcement: BlockAnnouncement): Uint8Array {
  return encodeRlp(announcementFields(announcement))
}

export function announcementFields(announcement: BlockAnnouncement): RlpValue {
  const { header, miniBlocks, signature } = announcement
  return [header.serialize(), unpaddedBytes(miniBlocks.first), unpaddedBytes(BigInt(miniBlocks.count)), signature]
}

export function decodeBlockAnnouncement(bytes: Uint8Array, common: Common): BlockAnnouncement {
  const decoded = decodeRlp(bytes, 'block announcement')
  return announcementFromFields(decoded, common)
}

export function announcementFromFields(value: RlpValue, common: Common): BlockAnnouncement {
  const [headerBytes, first, count, signature] = asList(value, 4, 'block announcement')
  let header: BlockHeader
  try {
    header = createBlockHeaderFromRLP(asBytes(headerBytes, 'header'), { common, skipConsensusFormatValidation: true })
  } catch (error) {
    if (error instanceof CodecError) throw error
    throw new CodecError(`block announcement: header does not decode (${error instanceof Error ? error.message : String(error)})`)
  }
  const miniBlockCount = bytesToBigInt(asBytes(count, 'mini-block count'))
  if (miniBlockCount > 1_000_000n) throw new CodecError('block announcement: implausible mini-block count')
  return { header, miniBlocks: { first: bytesToBigInt(asBytes(first, 'first mini-block')), count: Number(miniBlockCount) }, signature: asBytes(signature, 'signature', 65) }
}
