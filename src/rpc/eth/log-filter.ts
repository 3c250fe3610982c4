/**
 * Log filter objects (`eth_getLogs`, `eth_newFilter`, `eth_subscribe('logs')`): parsing and matching.
 * Pure: no chain access. Semantics follow geth's `eth/filters` so clients that work there get the
 * same logs here.
 */
import type { Log } from '../../chain/receipt.ts'
import type { Hex } from '../../primitives/state-diff.ts'
import { invalidArgument, parseAddress, parseBlockTag, parseHash, type BlockTagName } from '../params.ts'

/** A `fromBlock`/`toBlock` bound: a tag resolved at query time, or a fixed number. */
export type BlockBound = { kind: 'tag'; tag: BlockTagName } | { kind: 'number'; number: bigint }

/** What a log must look like, independent of which blocks are searched. */
export interface LogCriteria {
  /** Any of these (lower-case); empty = any address. */
  readonly addresses: readonly Hex[]
  /** Per position: `null` = any topic, else any of the listed (lower-case). */
  readonly topics: ReadonlyArray<readonly Hex[] | null>
}

export type LogFilter =
  | (LogCriteria & { readonly kind: 'range'; readonly fromBlock: BlockBound; readonly toBlock: BlockBound })
  | (LogCriteria & { readonly kind: 'hash'; readonly blockHash: Hex })

/** A log can carry at most 4 topics (LOG0…LOG4), so a 5th position could never match: geth rejects it. */
export const MAX_TOPIC_POSITIONS = 4
/** geth's bounds on OR-lists (`maxAddresses`, `maxSubTopics`): keep one request's matching cost bounded. */
export const MAX_FILTER_ADDRESSES = 1000
export const MAX_SUB_TOPICS = 1000

const LATEST: BlockBound = { kind: 'tag', tag: 'latest' }

/**
 * Parses a filter object at argument `index`. Absent `fromBlock`/`toBlock` mean `latest` (geth).
 * `blockHash` excludes both bounds (EIP-234). Unknown fields are ignored, as geth does.
 */
export function parseLogFilter(value: unknown, index: number): LogFilter {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgument(index, 'expected a filter object')
  }
  const obj = value as Record<string, unknown>
  const criteria: LogCriteria = {
    addresses: parseAddresses(obj['address'], index),
    topics: parseTopics(obj['topics'], index),
  }
  const blockHash = obj['blockHash']
  if (blockHash !== undefined && blockHash !== null) {
    if (isPresent(obj['fromBlock']) || isPresent(obj['toBlock'])) {
      throw invalidArgument(index, 'cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other')
    }
    return { ...criteria, kind: 'hash', blockHash: parseHash(blockHash, index, { field: 'blockHash' }) }
  }
  return {
    ...criteria,
    kind: 'range',
    fromBlock: parseBound(obj['fromBlock'], index, 'fromBlock'),
    toBlock: parseBound(obj['toBlock'], index, 'toBlock'),
  }
}

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null
}

function parseBound(value: unknown, index: number, field: string): BlockBound {
  if (!isPresent(value)) return LATEST
  // Strings only: a filter bound is a tag or a number, never an EIP-1898 object or a hash.
  if (typeof value !== 'string' || value.length === 66) {
    throw invalidArgument(index, 'expected a hex block number or one of latest, pending, safe, finalized, earliest', { field })
  }
  const selector = parseBlockTag(value, index)
  if (selector.kind === 'hash') throw invalidArgument(index, 'a block hash is not a block number', { field })
  return selector.kind === 'tag' ? { kind: 'tag', tag: selector.tag } : { kind: 'number', number: selector.number }
}

function parseAddresses(value: unknown, index: number): Hex[] {
  if (!isPresent(value)) return []
  if (typeof value === 'string') return [parseAddress(value, index, { field: 'address' })]
  if (!Array.isArray(value)) throw invalidArgument(index, 'expected an address or an array of addresses', { field: 'address' })
  if (value.length > MAX_FILTER_ADDRESSES)
    throw invalidArgument(index, `exceed max addresses (${MAX_FILTER_ADDRESSES})`, { field: 'address' })
  return dedupe(value.map((a) => parseAddress(a, index, { field: 'address' })))
}

function parseTopics(value: unknown, index: number): Array<Hex[] | null> {
  if (!isPresent(value)) return []
  if (!Array.isArray(value)) throw invalidArgument(index, 'expected an array of topics', { field: 'topics' })
  if (value.length > MAX_TOPIC_POSITIONS)
    throw invalidArgument(index, `exceed max topics (${MAX_TOPIC_POSITIONS})`, { field: 'topics' })
  return value.map((position: unknown) => parseTopicPosition(position, index))
}

/** `null` → wildcard; a hash → exactly it; an array → any of them (a `null` inside, or `[]`, makes it a wildcard, as in geth). */
function parseTopicPosition(position: unknown, index: number): Hex[] | null {
  if (!isPresent(position)) return null
  if (typeof position === 'string') return [parseHash(position, index, { field: 'topics' })]
  if (!Array.isArray(position)) throw invalidArgument(index, 'expected a topic, null or an array of topics', { field: 'topics' })
  if (position.length > MAX_SUB_TOPICS)
    throw invalidArgument(index, `exceed max topics (${MAX_SUB_TOPICS} per position)`, { field: 'topics' })
  const topics: Hex[] = []
  for (const topic of position as unknown[]) {
    if (!isPresent(topic)) return null
    topics.push(parseHash(topic, index, { field: 'topics' }))
  }
  return topics.length === 0 ? null : dedupe(topics)
}

function dedupe(values: Hex[]): Hex[] {
  return [...new Set(values)]
}

/**
 * Ethereum topic semantics (geth `filterLogs`): the address must be one of the listed ones (if any);
 * topics match position by position, `null` matching anything and a list matching any member. A
 * filter with more positions than the log has topics never matches — even if the extra positions
 * are wildcards — while fewer positions only constrain the leading topics.
 */
export function matchesLog(criteria: LogCriteria, log: Log): boolean {
  if (criteria.addresses.length > 0 && !criteria.addresses.includes(lower(log.address))) return false
  if (criteria.topics.length > log.topics.length) return false
  for (let i = 0; i < criteria.topics.length; i++) {
    const wanted = criteria.topics[i]
    if (wanted === null || wanted === undefined) continue
    if (!wanted.includes(lower(log.topics[i]!))) return false
  }
  return true
}

// Stored logs are lower-case already (bytesToHex); this is a cheap guard against a producer that is not.
function lower(value: Hex): Hex {
  return value.toLowerCase() as Hex
}
