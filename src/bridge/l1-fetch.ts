/**
 * Reading what the rollup needs of one L1 block, as pure async functions over a viem client: its
 * `L1BlockRef`, its `L1Origin` (fees, PREVRANDAO, the portal's deposits, the system config after its
 * `ConfigUpdate` logs) and the batcher's transactions to the inbox. The watcher and derivation call
 * these; the decoding rules are op-node's (deposits: `chain/deposit-log.ts`; config updates: below).
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Block, BlockTag, Chain, Client, Hex, Transport } from 'viem'
import { getBlock, getLogs } from 'viem/actions'
import { keccak256 } from '../crypto/native.ts'
import { depositFromLog, TRANSACTION_DEPOSITED_TOPIC } from '../chain/deposit-log.ts'
import type { DepositTransaction } from '../chain/deposit-tx.ts'
import type { L1BlockRef, L1Origin, SystemConfigValues } from '../chain/l1-origin.ts'
import type { RollupConfig } from '../chain/rollup-config.ts'
import { NodeError } from '../primitives/errors.ts'

/** Any viem client that can read L1 (a `PublicClient` is one). */
export type L1Client = Client<Transport, Chain | undefined>

/** topic0 of `ConfigUpdate(uint256 indexed version, uint8 indexed updateType, bytes data)`. */
export const CONFIG_UPDATE_TOPIC: Hex = bytesToHex(
  keccak256(new TextEncoder().encode('ConfigUpdate(uint256,uint8,bytes)')),
) as Hex

/** SystemConfig's `UpdateType`s this node applies (OP's numbering); the others do not affect L2 blocks here. */
export const CONFIG_UPDATE_TYPE = { batcher: 0n, feeScalars: 1n, gasLimit: 2n, operatorFeeParams: 5n } as const
/** The highest `UpdateType` SystemConfig defines (`contracts/L1/SystemConfig.sol`). */
const KNOWN_UPDATE_TYPES = 7n

/** EIP-4844's blob base fee update fraction before Prague (Cancun), and from Prague on (EIP-7691; Osaka keeps it). */
export const BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN = 3_338_477n
export const BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE = 5_007_716n

/** An L1 block the node asked for does not exist (yet, or any more: reorged away). */
export class L1BlockNotFoundError extends NodeError<'L1_BLOCK_NOT_FOUND', undefined> {
  override readonly name = 'L1BlockNotFoundError'
  constructor(message: string) {
    super('L1_BLOCK_NOT_FOUND', message, { severity: 'temporary' })
  }
}

/** The log fields the origin is built from (viem's `Log` has them). */
export interface L1Log {
  readonly address: Hex
  readonly topics: readonly Hex[]
  readonly data: Hex
  readonly blockHash: Hex | null
  readonly logIndex: number | null
}

/** The header fields an origin takes (viem's `Block` has them; `requestsHash` marks a Prague+ header). */
export interface L1Header {
  readonly number: bigint | null
  readonly hash: Hex | null
  readonly parentHash: Hex
  readonly timestamp: bigint
  readonly baseFeePerGas: bigint | null
  readonly mixHash: Hex
  readonly excessBlobGas?: bigint | null | undefined
  readonly requestsHash?: Hex | null | undefined
}

export interface L1OriginOptions {
  /**
   * The blob base fee update fraction of the L1's fork (BPO forks change it and leave no trace in the header);
   * default: Prague's when the header has a `requestsHash`, else Cancun's.
   */
  readonly blobBaseFeeUpdateFraction?: bigint
}

/** Where skipped logs are reported (a log op-node would reject is skipped, never thrown). */
export type SkippedLogListener = (kind: 'deposit' | 'config', log: L1Log, reason: string) => void

/** The block's ref. @throws L1BlockNotFoundError */
export async function fetchL1BlockRef(client: L1Client, block: bigint | Hex | BlockTag): Promise<L1BlockRef> {
  return l1BlockRefOfHeader(await fetchHeader(client, block))
}

/**
 * The L1 origin for `ref`, with `configBefore` (the config after the parent's logs) updated by this block's
 * `ConfigUpdate` logs. One `eth_getLogs` by block hash reads the portal's and the SystemConfig's logs.
 * @throws L1BlockNotFoundError when the block is gone (reorged) or unknown
 */
export async function fetchL1Origin(
  client: L1Client,
  rollup: Pick<RollupConfig, 'depositContractAddress' | 'l1SystemConfigAddress'>,
  ref: L1BlockRef,
  configBefore: SystemConfigValues,
  options: L1OriginOptions & { onSkippedLog?: SkippedLogListener } = {},
): Promise<L1Origin> {
  const [header, logs] = await Promise.all([fetchHeader(client, ref.hash), fetchRollupLogs(client, rollup, ref.hash)])
  return l1OriginFromBlock(rollup, header, logs, configBefore, options)
}

/** The portal's and the SystemConfig's logs of one block (by hash: exactly that block's, whatever the chain does). */
export async function fetchRollupLogs(
  client: L1Client,
  rollup: Pick<RollupConfig, 'depositContractAddress' | 'l1SystemConfigAddress'>,
  blockHash: Hex,
): Promise<L1Log[]> {
  const logs = await getLogs(client, { blockHash, address: [rollup.depositContractAddress, rollup.l1SystemConfigAddress] })
  return logs.map((log) => ({
    address: log.address,
    topics: log.topics as readonly Hex[],
    data: log.data,
    blockHash: log.blockHash,
    logIndex: log.logIndex,
  }))
}

/** The pure half of `fetchL1Origin`: an origin from a header and its logs (`logs` may hold other contracts' logs too). */
export function l1OriginFromBlock(
  rollup: Pick<RollupConfig, 'depositContractAddress' | 'l1SystemConfigAddress'>,
  header: L1Header,
  logs: readonly L1Log[],
  configBefore: SystemConfigValues,
  options: L1OriginOptions & { onSkippedLog?: SkippedLogListener } = {},
): L1Origin {
  const ref = l1BlockRefOfHeader(header)
  // Log order is block order: eth_getLogs returns it, but a caller's list may not be sorted.
  const ordered = [...logs].sort((a, b) => (a.logIndex ?? 0) - (b.logIndex ?? 0))
  const portal = rollup.depositContractAddress.toLowerCase()
  const systemConfig = rollup.l1SystemConfigAddress.toLowerCase()
  const deposits: DepositTransaction[] = []
  const configLogs: L1Log[] = []
  for (const log of ordered) {
    const address = log.address.toLowerCase()
    const topic0 = log.topics[0]?.toLowerCase()
    if (address === portal && topic0 === TRANSACTION_DEPOSITED_TOPIC) {
      if (log.logIndex === null) {
        options.onSkippedLog?.('deposit', log, 'pending log without an index')
        continue
      }
      try {
        deposits.push(depositFromLog({ topics: log.topics, data: log.data, blockHash: ref.hash, logIndex: log.logIndex }))
      } catch (error) {
        options.onSkippedLog?.('deposit', log, error instanceof Error ? error.message : String(error))
      }
    } else if (address === systemConfig && topic0 === CONFIG_UPDATE_TOPIC) {
      configLogs.push(log)
    }
  }
  return {
    ...ref,
    baseFeePerGas: header.baseFeePerGas ?? 0n,
    blobBaseFee: blobBaseFeeOf(header, options.blobBaseFeeUpdateFraction),
    mixHash: header.mixHash.toLowerCase() as Hex,
    deposits,
    systemConfig: applyConfigUpdates(configBefore, configLogs, (log, reason) =>
      options.onSkippedLog?.('config', log as L1Log, reason),
    ),
  }
}

/**
 * The config after `logs` (SystemConfig `ConfigUpdate` logs, in block order), op-node's rules: each update is
 * applied on its own, and one that does not decode (topics, version, ABI layout) is ignored with the config kept
 * as it was; an Ecotone scalar with an unknown version or dirty padding is ignored too. BATCHER, FEE_SCALARS,
 * GAS_LIMIT and OPERATOR_FEE_PARAMS change what L2 blocks carry; the other types do not here and are skipped.
 */
export function applyConfigUpdates(
  config: SystemConfigValues,
  logs: readonly Pick<L1Log, 'topics' | 'data'>[],
  onSkipped?: (log: Pick<L1Log, 'topics' | 'data'>, reason: string) => void,
): SystemConfigValues {
  let current = config
  for (const log of logs) {
    const result = applyConfigUpdate(current, log)
    if (typeof result === 'string') onSkipped?.(log, result)
    else current = result
  }
  return current
}

/** One update: the new config, or why the log was ignored. */
export function applyConfigUpdate(config: SystemConfigValues, log: Pick<L1Log, 'topics' | 'data'>): SystemConfigValues | string {
  if (log.topics.length !== 3) return `expected 3 topics, got ${log.topics.length}`
  if (log.topics[0]?.toLowerCase() !== CONFIG_UPDATE_TOPIC) return 'not a ConfigUpdate log'
  const version = hexToBigIntSafe(log.topics[1]!)
  if (version !== 0n) return `unknown ConfigUpdate version ${log.topics[1]}`
  const type = hexToBigIntSafe(log.topics[2]!)
  let data: Uint8Array
  try {
    data = hexToBytes(log.data)
  } catch {
    return 'log data is not hex'
  }
  switch (type) {
    case CONFIG_UPDATE_TYPE.batcher: {
      const words = abiBytesWords(data, 1)
      if (typeof words === 'string') return words
      const word = words[0]!
      if (!isZero(word.subarray(0, 12))) return 'batcher: not an address word'
      return { ...config, batcherHash: bytesToHex(word) as Hex }
    }
    case CONFIG_UPDATE_TYPE.feeScalars: {
      const words = abiBytesWords(data, 2)
      if (typeof words === 'string') return words
      const scalar = words[1]!
      // op-node's CheckEcotoneL1SystemConfigScalar: version 0 (Bedrock) or 1 (Ecotone) with clean padding.
      if (scalar[0] === 0 && isZero(scalar.subarray(1, 28))) {
        return { ...config, baseFeeScalar: readUint(scalar, 28, 4), blobBaseFeeScalar: 0 }
      }
      if (scalar[0] === 1 && isZero(scalar.subarray(1, 24))) {
        return { ...config, baseFeeScalar: readUint(scalar, 28, 4), blobBaseFeeScalar: readUint(scalar, 24, 4) }
      }
      return `fee scalars: unsupported scalar ${bytesToHex(scalar)}`
    }
    case CONFIG_UPDATE_TYPE.gasLimit: {
      const words = abiBytesWords(data, 1)
      if (typeof words === 'string') return words
      const word = words[0]!
      if (!isZero(word.subarray(0, 24))) return 'gas limit: not a uint64'
      return { ...config, gasLimit: readBig(word, 24, 8) }
    }
    case CONFIG_UPDATE_TYPE.operatorFeeParams: {
      const words = abiBytesWords(data, 1)
      if (typeof words === 'string') return words
      const word = words[0]!
      // op-node reads the scalar from bytes 20..24 and the constant from 24..32; the bytes above are not checked.
      return { ...config, operatorFeeScalar: readUint(word, 20, 4), operatorFeeConstant: readBig(word, 24, 8) }
    }
    default:
      // UNSAFE_BLOCK_SIGNER (3), EIP_1559_PARAMS (4), MIN_BASE_FEE (6), DA_FOOTPRINT_GAS_SCALAR (7): SystemConfig
      // emits them (the signer at deployment), and L2 blocks here do not depend on them.
      return type !== undefined && type <= KNOWN_UPDATE_TYPES ? config : `unknown update type ${String(type)}`
  }
}

/**
 * The EIP-4844 blob base fee of a header: `fake_exponential(1, excessBlobGas, updateFraction)`; 1 for a header
 * without blob fields (before Cancun), as the L1-attributes deposit then carries.
 */
export function blobBaseFeeOf(header: Pick<L1Header, 'excessBlobGas' | 'requestsHash'>, updateFraction?: bigint): bigint {
  const excess = header.excessBlobGas
  if (excess === undefined || excess === null) return 1n
  const fraction =
    updateFraction ??
    (header.requestsHash === undefined || header.requestsHash === null
      ? BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN
      : BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE)
  return fakeExponential(1n, excess, fraction)
}

/** EIP-4844's integer approximation of `factor · e^(numerator / denominator)` (Taylor series). */
export function fakeExponential(factor: bigint, numerator: bigint, denominator: bigint): bigint {
  let i = 1n
  let output = 0n
  let accumulator = factor * denominator
  while (accumulator > 0n) {
    output += accumulator
    accumulator = (accumulator * numerator) / (denominator * i)
    i++
  }
  return output / denominator
}

/** A batcher transaction: what derivation reads from it. */
export interface BatcherTransaction {
  readonly hash: Hex
  /** EIP-2718 type (3: blobs, whose calldata derivation ignores). */
  readonly type: number
  readonly input: Hex
  readonly blobVersionedHashes: readonly Hex[]
}

/** The block's transactions sent to `inbox` by `batcher`, in block order. @throws L1BlockNotFoundError */
export async function fetchBatcherTransactions(
  client: L1Client,
  ref: Pick<L1BlockRef, 'hash'>,
  inbox: Hex,
  batcher: Hex,
): Promise<BatcherTransaction[]> {
  let block: Block<bigint, true>
  try {
    block = await getBlock(client, { blockHash: ref.hash, includeTransactions: true })
  } catch (error) {
    throw notFoundOr(error, ref.hash)
  }
  const to = inbox.toLowerCase()
  const from = batcher.toLowerCase()
  const out: BatcherTransaction[] = []
  for (const tx of block.transactions) {
    if (tx.to?.toLowerCase() !== to || tx.from.toLowerCase() !== from) continue
    out.push({
      hash: tx.hash,
      type: Number(tx.typeHex ?? '0x0'),
      input: tx.input,
      blobVersionedHashes: tx.blobVersionedHashes ?? [],
    })
  }
  return out
}

export function l1BlockRefOfHeader(header: L1Header): L1BlockRef {
  if (header.number === null || header.hash === null) throw new L1BlockNotFoundError('pending L1 block has no number or hash')
  return {
    number: header.number,
    hash: header.hash.toLowerCase() as Hex,
    parentHash: header.parentHash.toLowerCase() as Hex,
    timestamp: header.timestamp,
  }
}

/** A header by number, hash or tag. @throws L1BlockNotFoundError */
export async function fetchHeader(client: L1Client, block: bigint | Hex | BlockTag): Promise<L1Header> {
  try {
    const fetched =
      typeof block === 'bigint'
        ? await getBlock(client, { blockNumber: block })
        : /^0x[0-9a-fA-F]{64}$/.test(block)
          ? await getBlock(client, { blockHash: block as Hex })
          : await getBlock(client, { blockTag: block as BlockTag })
    return fetched as Block & { requestsHash?: Hex }
  } catch (error) {
    throw notFoundOr(error, block)
  }
}

/** viem's BlockNotFoundError becomes ours; transport errors pass through (the caller retries). */
function notFoundOr(error: unknown, block: bigint | string): unknown {
  if (error instanceof Error && error.name === 'BlockNotFoundError')
    return new L1BlockNotFoundError(`L1 block ${block} not found`)
  return error
}

/**
 * The words of a `bytes` ABI argument holding exactly `count` words: offset 32, length 32·count, nothing after
 * (op-node's solabi reads: offset and length as uint64 words, then an empty reader).
 */
function abiBytesWords(data: Uint8Array, count: number): Uint8Array[] | string {
  if (data.length !== 64 + 32 * count) return `expected ${64 + 32 * count} bytes of data, got ${data.length}`
  if (!isZero(data.subarray(0, 24)) || readBig(data, 24, 8) !== 32n) return 'invalid offset field'
  if (!isZero(data.subarray(32, 56)) || readBig(data, 56, 8) !== BigInt(32 * count)) return 'invalid length field'
  const words: Uint8Array[] = []
  for (let i = 0; i < count; i++) words.push(data.subarray(64 + 32 * i, 96 + 32 * i))
  return words
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0)
}

function readBig(bytes: Uint8Array, offset: number, length: number): bigint {
  let n = 0n
  for (let i = offset; i < offset + length; i++) n = (n << 8n) | BigInt(bytes[i]!)
  return n
}

function readUint(bytes: Uint8Array, offset: number, length: number): number {
  return Number(readBig(bytes, offset, length))
}

function hexToBigIntSafe(hex: Hex): bigint | undefined {
  return /^0x[0-9a-fA-F]{1,64}$/.test(hex) ? BigInt(hex) : undefined
}
