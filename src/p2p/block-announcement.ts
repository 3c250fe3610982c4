import { createBlockHeaderFromRLP, type BlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { bytesToHex, concatBytes } from '@ethereumjs/util'
import type { MiniBlockRange } from '../chain/block.ts'
import {
  asBytes,
  asList,
  bytesToBigInt,
  CodecError,
  decodeRlp,
  encodeRlp,
  hexBytes,
  type RlpValue,
  unpaddedBytes,
} from '../primitives/rlp-fields.ts'
import { recoverSequencer, signAsSequencer } from '../chain/sequencer-signature.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { u64 } from '../primitives/u64.ts'

/** Keeps announcement signatures from being valid as any other signed message. */
const SIGNING_DOMAIN = new TextEncoder().encode('megaeth-node/block-announcement/v2')

/**
 * A sealed EVM block as the sequencer announces it: the Ethereum header, which mini-blocks it is
 * made of (and the last one's hash, which the next mini-block extends), and the sequencer's signature
 * over all of it. Everything else about the block (transactions, receipts, state) is checked against
 * this header.
 */
export interface BlockAnnouncement {
  header: BlockHeader
  miniBlocks: MiniBlockRange
  signature: Uint8Array
}

function signedHash(header: BlockHeader, { first, count, lastHash }: MiniBlockRange): Uint8Array {
  return concatBytes(
    header.hash(),
    u64(first),
    u64(BigInt(count)),
    lastHash === undefined ? new Uint8Array(0) : hexBytes(lastHash),
  )
}

export function signBlockAnnouncement(
  header: BlockHeader,
  miniBlocks: MiniBlockRange,
  chainId: bigint,
  key: Uint8Array,
): BlockAnnouncement {
  return { header, miniBlocks, signature: signAsSequencer(SIGNING_DOMAIN, chainId, signedHash(header, miniBlocks), key) }
}

export function recoverAnnouncementSigner(announcement: BlockAnnouncement, chainId: bigint): Hex {
  return recoverSequencer(
    SIGNING_DOMAIN,
    chainId,
    signedHash(announcement.header, announcement.miniBlocks),
    announcement.signature,
    'block announcement',
  )
}

export function encodeBlockAnnouncement(announcement: BlockAnnouncement): Uint8Array {
  return encodeRlp(announcementFields(announcement))
}

export function announcementFields(announcement: BlockAnnouncement): RlpValue {
  const { header, miniBlocks, signature } = announcement
  // An empty last hash: a block stored before sealed blocks kept it (the sequencer cannot vouch for it).
  const lastHash = miniBlocks.lastHash === undefined ? new Uint8Array(0) : hexBytes(miniBlocks.lastHash)
  return [header.serialize(), unpaddedBytes(miniBlocks.first), unpaddedBytes(BigInt(miniBlocks.count)), lastHash, signature]
}

export function decodeBlockAnnouncement(bytes: Uint8Array, common: Common): BlockAnnouncement {
  const decoded = decodeRlp(bytes, 'block announcement')
  return announcementFromFields(decoded, common)
}

export function announcementFromFields(value: RlpValue, common: Common): BlockAnnouncement {
  const [headerBytes, first, count, lastHash, signature] = asList(value, 5, 'block announcement')
  let header: BlockHeader
  try {
    header = createBlockHeaderFromRLP(asBytes(headerBytes, 'header'), {
      common,
      skipConsensusFormatValidation: true,
      setHardfork: true,
    })
  } catch (error) {
    if (error instanceof CodecError) throw error
    throw new CodecError(`block announcement: header does not decode (${error instanceof Error ? error.message : String(error)})`)
  }
  const miniBlockCount = bytesToBigInt(asBytes(count, 'mini-block count'))
  if (miniBlockCount > 1_000_000n) throw new CodecError('block announcement: implausible mini-block count')
  const miniBlocks: MiniBlockRange = { first: bytesToBigInt(asBytes(first, 'first mini-block')), count: Number(miniBlockCount) }
  const lastHashBytes = asBytes(lastHash, 'last mini-block hash')
  if (lastHashBytes.length !== 0 && lastHashBytes.length !== 32)
    throw new CodecError(`block announcement: last mini-block hash: expected 0 or 32 bytes, got ${lastHashBytes.length}`)
  if (lastHashBytes.length === 32) miniBlocks.lastHash = bytesToHex(lastHashBytes) as Hex
  return { header, miniBlocks, signature: asBytes(signature, 'signature', 65) }
}
