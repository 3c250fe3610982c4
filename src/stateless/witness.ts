import { bytesToHex } from '@ethereumjs/util'
import { asBytes, asList, concatRlpList, decodeRlp, encodeRlp, type RlpValue } from '../primitives/rlp-fields.ts'
import type { Hex } from '../primitives/state-diff.ts'

/**
 * Everything a stateless verifier needs to re-execute one EVM block, in the shape of reth's and
 * geth's `ExecutionWitness`.
 */
export interface ExecutionWitness {
  /** RLP of every pre-existing account- and storage-trie node read or touched while executing the block and computing its state root. */
  state: Uint8Array[]
  /** Bytecode of the contracts the block's execution read. */
  codes: Uint8Array[]
  /** Preimages of the trie keys read or written: 20-byte addresses and 32-byte storage slots. */
  keys: Uint8Array[]
  /** RLP headers from the oldest block BLOCKHASH asked for up to the parent, oldest first. */
  headers: Uint8Array[]
}

/** The JSON-RPC form (`debug_executionWitness`, `mega_getBlockWitness`). */
export interface ExecutionWitnessJson {
  state: Hex[]
  codes: Hex[]
  keys: Hex[]
  headers: Hex[]
}

export function witnessToJson(witness: ExecutionWitness): ExecutionWitnessJson {
  const hex = (items: Uint8Array[]): Hex[] => items.map((item) => bytesToHex(item) as Hex)
  return { state: hex(witness.state), codes: hex(witness.codes), keys: hex(witness.keys), headers: hex(witness.headers) }
}

/** Bytes on the wire and on disk: RLP([state, codes, keys, headers]). */
export function encodeWitness(witness: ExecutionWitness): Uint8Array {
  return encodeRlp([witness.state, witness.codes, witness.keys, witness.headers])
}

/**
 * The same bytes as `encodeWitness`, from each list already RLP-encoded: the merkleizer thread
 * encodes the large lists (nodes, keys) off the main thread, and they are joined here by copying.
 */
export function joinEncodedWitness(lists: {
  state: Uint8Array
  codes: Uint8Array
  keys: Uint8Array
  headers: Uint8Array
}): Uint8Array {
  return concatRlpList([lists.state, lists.codes, lists.keys, lists.headers])
}

export function decodeWitness(bytes: Uint8Array): ExecutionWitness {
  const decoded = decodeRlp(bytes, 'witness')
  const [state, codes, keys, headers] = asList(decoded, 4, 'witness')
  const items = (value: RlpValue | undefined, what: string): Uint8Array[] =>
    asList(value, undefined, what).map((item, i) => asBytes(item, `${what} ${i}`))
  return {
    state: items(state, 'witness state node'),
    codes: items(codes, 'witness code'),
    keys: items(keys, 'witness key'),
    headers: items(headers, 'witness header'),
  }
}

/** Size of a witness's contents (what the per-transaction figures count). */
export function witnessByteLength(witness: ExecutionWitness): number {
  let total = 0
  for (const list of [witness.state, witness.codes, witness.keys, witness.headers]) for (const item of list) total += item.length
  return total
}
