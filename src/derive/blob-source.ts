/**
 * Blob sources for L1 retrieval: a beacon node's `GET /eth/v1/beacon/blobs/{block_id}?versioned_hashes=…`
 * (the blobs endpoint that replaced `blob_sidecars`; anvil serves it too, taking an execution block
 * number or hash as `block_id`) and anvil's `anvil_getBlobByHash`. Each blob is checked against its
 * versioned hash (`0x01 ‖ sha256(KZG commitment)[1:]`) before it is used: a beacon node is not trusted
 * more than the L1 RPC.
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { createHash } from 'node:crypto'
import { lazyKzg } from '../crypto/kzg.ts'
import type { L1BlockRef } from '../chain/l1-origin.ts'
import type { Hex } from '../primitives/state-diff.ts'
import type { BlobSource } from './l1-reader.ts'

/** The versioned hash of `blob` (EIP-4844, commitment version 1). */
export function blobVersionedHash(blob: Uint8Array): Hex {
  const commitment = hexToBytes(lazyKzg.blobToKzgCommitment(bytesToHex(blob)) as Hex)
  const hash = createHash('sha256').update(commitment).digest()
  hash[0] = 1
  return bytesToHex(hash)
}

function checked(blobs: readonly Uint8Array[], hashes: readonly Hex[], verify: boolean): Uint8Array[] {
  if (blobs.length !== hashes.length) throw new Error(`${blobs.length} blobs returned for ${hashes.length} versioned hashes`)
  if (verify)
    blobs.forEach((blob, i) => {
      const hash = blobVersionedHash(blob)
      if (hash !== hashes[i]!.toLowerCase()) throw new Error(`blob ${i} hashes to ${hash}, not to ${hashes[i]}`)
    })
  return [...blobs]
}

export interface BeaconBlobSourceOptions {
  /** The beacon node's base URL. */
  readonly url: string
  /**
   * The `block_id` of an L1 block. Default: its slot, `(timestamp − genesis_time) / secondsPerSlot` with
   * `genesis_time` from `/eth/v1/beacon/genesis` and `SECONDS_PER_SLOT` from `/eth/v1/config/spec`; a node
   * without a spec (anvil) is asked by the execution block's hash.
   */
  readonly blockId?: (ref: L1BlockRef) => string | Promise<string>
  readonly secondsPerSlot?: bigint
  /**
   * Check each blob against its versioned hash (default true). The pure-JS KZG commitment costs ~2.4 s
   * per blob on a shared 2-core machine: turn it off only for a beacon node you trust as much as the L1 RPC.
   */
  readonly verify?: boolean
}

export function beaconBlobSource(options: BeaconBlobSourceOptions): BlobSource {
  const base = options.url.replace(/\/$/, '')
  let genesisTime: Promise<bigint> | undefined
  // A beacon node states its slot length in its spec; anvil, which also serves the blobs endpoint,
  // has no spec and addresses blocks by their execution hash instead of a slot.
  let slotSeconds: Promise<bigint | undefined> | undefined
  const slotOf = async (ref: L1BlockRef): Promise<string> => {
    slotSeconds ??=
      options.secondsPerSlot !== undefined
        ? Promise.resolve(options.secondsPerSlot)
        : getJson(`${base}/eth/v1/config/spec`).then(
            (body) => BigInt((body as { data: { SECONDS_PER_SLOT: string } }).data.SECONDS_PER_SLOT),
            () => undefined,
          )
    const seconds = await slotSeconds
    if (seconds === undefined) return ref.hash
    genesisTime ??= getJson(`${base}/eth/v1/beacon/genesis`).then((body) =>
      BigInt((body as { data: { genesis_time: string } }).data.genesis_time),
    )
    return ((ref.timestamp - (await genesisTime)) / seconds).toString()
  }
  return {
    async blobs(ref, hashes) {
      const id = await (options.blockId ?? slotOf)(ref)
      const body = (await getJson(`${base}/eth/v1/beacon/blobs/${id}?versioned_hashes=${hashes.join(',')}`)) as { data: Hex[] }
      return checked(
        body.data.map((blob) => hexToBytes(blob)),
        hashes,
        options.verify ?? true,
      )
    },
  }
}

/** anvil's `anvil_getBlobByHash`, one call per blob (for tests and dev chains without a beacon node). */
export function anvilBlobSource(rpcUrl: string, verify = true): BlobSource {
  return {
    async blobs(_ref, hashes) {
      const blobs: Uint8Array[] = []
      for (const hash of hashes) {
        const response = (await postJson(rpcUrl, { jsonrpc: '2.0', id: 1, method: 'anvil_getBlobByHash', params: [hash] })) as {
          result?: Hex | null
          error?: { message: string }
        }
        if (response.result == null) throw new Error(`anvil_getBlobByHash(${hash}): ${response.error?.message ?? 'no blob'}`)
        blobs.push(hexToBytes(response.result))
      }
      return checked(blobs, hashes, verify)
    },
  }
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { headers: { accept: 'application/json' } })
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`)
  return response.json()
}

async function postJson(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`POST ${url}: HTTP ${response.status}`)
  return response.json()
}
