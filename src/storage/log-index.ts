import { hexBytes } from '../primitives/rlp-fields.ts'
import type { TxReceipt } from '../chain/receipt.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { readU64, u64 } from '../primitives/u64.ts'
import { prefixEnd, type BatchOp, type NodeDb } from './db.ts'

const ADDRESS_TAG = 0x61 // 'a'
const TOPIC_TAG = 0x74 // 't'
const EMPTY = new Uint8Array(0)

/**
 * An inverted index from log address and log topic to the blocks that contain them, so eth_getLogs
 * over a long range reads only the blocks that can match (geth scans bloom bits for the same).
 */
export function logIndexOps(db: NodeDb, blockNumber: bigint, receipts: readonly TxReceipt[]): BatchOp[] {
  const keys = new Set<string>()
  for (const receipt of receipts) {
    for (const log of receipt.logs) {
      keys.add(`a${log.address}`)
      for (const topic of log.topics) keys.add(`t${topic}`)
    }
  }
  const number = u64(blockNumber)
  return [...keys].map((k) => db.put('logs', entryKey(k[0] === 'a' ? ADDRESS_TAG : TOPIC_TAG, k.slice(1) as Hex, number), EMPTY))
}

function entryKey(tag: number, value: Hex, number: Uint8Array): Uint8Array {
  const bytes = hexBytes(value)
  const key = new Uint8Array(1 + bytes.length + number.length)
  key[0] = tag
  key.set(bytes, 1)
  key.set(number, 1 + bytes.length)
  return key
}

export interface LogQuery {
  fromBlock: bigint
  toBlock: bigint
  /** Any of these addresses; undefined = any address. */
  addresses?: readonly Hex[]
  /** Per position: undefined/null = any, else any of the listed topics. */
  topics?: ReadonlyArray<readonly Hex[] | null>
}

/**
 * Blocks in the range that may hold matching logs, ascending; `undefined` when the query constrains
 * nothing the index knows (every block in the range is a candidate).
 */
export async function candidateBlocks(db: NodeDb, query: LogQuery): Promise<bigint[] | undefined> {
  const sets: Set<bigint>[] = []
  if (query.addresses !== undefined && query.addresses.length > 0) sets.push(await union(db, ADDRESS_TAG, query.addresses, query))
  for (const position of query.topics ?? []) {
    if (position !== null && position.length > 0) sets.push(await union(db, TOPIC_TAG, position, query))
  }
  if (sets.length === 0) return undefined
  sets.sort((a, b) => a.size - b.size)
  const [smallest, ...rest] = sets
  return [...smallest!].filter((n) => rest.every((s) => s.has(n))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

async function union(db: NodeDb, tag: number, values: readonly Hex[], query: LogQuery): Promise<Set<bigint>> {
  const blocks = new Set<bigint>()
  for (const value of values) {
    const prefix = entryKey(tag, value, EMPTY)
    const gte = entryKey(tag, value, u64(query.fromBlock))
    const lt = query.toBlock >= 0xffffffffffffffffn ? prefixEnd(prefix) : entryKey(tag, value, u64(query.toBlock + 1n))
    for await (const [key] of db.range('logs', gte, lt)) blocks.add(readU64(key, key.length - 8))
  }
  return blocks
}
