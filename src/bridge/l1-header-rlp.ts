/**
 * An L1 block's header as its RLP, the preimage of its hash: what the step verifier is given to check an L2 block's
 * L1 origin (`L1AttributesStep.originValid`). L1 nodes serve headers as JSON (anvil has no `debug_getRawHeader`), so
 * the list is rebuilt from the JSON fields in Ethereum's order — the London…Prague fields appended while the header
 * has them — and checked against the block hash, so a field this encoder misses fails loudly instead of giving a
 * header the verifier would refuse.
 */
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Hex } from 'viem'
import { keccak256 } from '../crypto/native.ts'
import { NodeError } from '../primitives/errors.ts'
import { unpaddedBytes } from '../primitives/rlp-fields.ts'
import type { L1Client } from './l1-fetch.ts'

/** An L1 header's JSON fields (`eth_getBlockByHash`), as strings. */
export type L1HeaderJson = Record<string, unknown>

/** The JSON does not encode to a header with the block's hash (an unknown fork's field). */
export class L1HeaderEncodingError extends NodeError<'L1_HEADER_ENCODING', undefined> {
  override readonly name = 'L1HeaderEncodingError'
  constructor(message: string) {
    super('L1_HEADER_ENCODING', message)
  }
}

/** The fields every header has, then the optional ones in fork order (each present only after the previous). */
const BASE_FIELDS = [
  ['parentHash', 'bytes'],
  ['sha3Uncles', 'bytes'],
  ['miner', 'bytes'],
  ['stateRoot', 'bytes'],
  ['transactionsRoot', 'bytes'],
  ['receiptsRoot', 'bytes'],
  ['logsBloom', 'bytes'],
  ['difficulty', 'uint'],
  ['number', 'uint'],
  ['gasLimit', 'uint'],
  ['gasUsed', 'uint'],
  ['timestamp', 'uint'],
  ['extraData', 'bytes'],
  ['mixHash', 'bytes'],
  ['nonce', 'bytes'],
] as const
const FORK_FIELDS = [
  ['baseFeePerGas', 'uint'],
  ['withdrawalsRoot', 'bytes'],
  ['blobGasUsed', 'uint'],
  ['excessBlobGas', 'uint'],
  ['parentBeaconBlockRoot', 'bytes'],
  ['requestsHash', 'bytes'],
] as const

/**
 * The RLP of the header `json` describes.
 * @throws L1HeaderEncodingError when a field is missing or malformed, or the encoding does not hash to `json.hash`
 */
export function encodeL1Header(json: L1HeaderJson): Uint8Array {
  const item = (name: string, kind: 'bytes' | 'uint'): Uint8Array => {
    const value = json[name]
    if (typeof value !== 'string' || !value.startsWith('0x'))
      throw new L1HeaderEncodingError(`L1 header field ${name} is missing or not hex`)
    return kind === 'uint'
      ? unpaddedBytes(BigInt(value))
      : hexToBytes((value.length % 2 === 0 ? value : `0x0${value.slice(2)}`) as Hex)
  }
  const fields = BASE_FIELDS.map(([name, kind]) => item(name, kind))
  for (const [name, kind] of FORK_FIELDS) {
    if (json[name] === undefined || json[name] === null) break
    fields.push(item(name, kind))
  }
  const rlp = RLP.encode(fields)
  const hash = bytesToHex(keccak256(rlp))
  if (typeof json['hash'] !== 'string' || hash !== json['hash'].toLowerCase())
    throw new L1HeaderEncodingError(`L1 block ${String(json['hash'])}: its JSON fields encode to a header hashing to ${hash}`)
  return rlp
}

/**
 * The header of L1 block `hash`, or undefined when L1 does not have it.
 * @throws L1HeaderEncodingError
 */
export async function fetchL1HeaderRlp(client: L1Client, hash: Hex): Promise<Uint8Array | undefined> {
  const json = (await client.request({ method: 'eth_getBlockByHash', params: [hash, false] })) as L1HeaderJson | null
  return json === null ? undefined : encodeL1Header(json)
}
