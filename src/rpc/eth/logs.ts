/**
 * `eth_getLogs`: sealed blocks through the log index, plus the unsealed mini-blocks for `pending`.
 */
import type { MiniBlock } from '../../chain/mini-block.ts'
import type { TxReceipt } from '../../chain/receipt.ts'
import type { Hex } from '../../primitives/state-diff.ts'
import type { ChainView } from '../../storage/chain-view.ts'
import { invalidParams, limitExceeded, resourceNotFound, resourceUnavailable } from '../errors.ts'
import { expectParams } from '../params.ts'
import type { RpcHandler } from '../registry.ts'
import type { EthBackend, EthRpcOptions } from './backend.ts'
import { formatLog, unsealedBlockHash, unsealedBlockNumber, type RpcObject } from './format.ts'
import { matchesLog, parseLogFilter, type BlockBound, type LogCriteria, type LogFilter } from './log-filter.ts'

/**
 * What one query sees, captured synchronously before any await: the sealed head and the unsealed
 * mini-blocks above it. A block sealed while the query reads LevelDB then cannot make its logs
 * vanish (no longer unsealed, not yet below the captured head) or appear twice.
 */
export interface ChainSnapshot {
  headNumber: bigint
  pendingNumber: bigint
  unsealed: readonly MiniBlock[]
}

export function snapshotChain(chain: ChainView): ChainSnapshot {
  return {
    headNumber: chain.head.header.number,
    pendingNumber: chain.pendingBlockNumber,
    unsealed: [...chain.unsealedMiniBlocks],
  }
}

/**
 * `latest`/`safe`/`finalized` → the sealed head (a single sequencer has no reorgs to wait out);
 * `pending` → the EVM block mini-blocks are being added to; `earliest` → genesis.
 */
export function resolveBound(bound: BlockBound, snapshot: ChainSnapshot): bigint {
  if (bound.kind === 'number') return bound.number
  switch (bound.tag) {
    case 'earliest':
      return 0n
    case 'pending':
      return snapshot.pendingNumber
    default:
      return snapshot.headNumber
  }
}

/** Collects formatted logs and enforces the result cap as they come, so a huge match stops early. */
class LogCollector {
  readonly logs: RpcObject[] = []
  constructor(
    private readonly criteria: LogCriteria,
    private readonly maxResults: number,
  ) {}

  addReceipts(receipts: readonly TxReceipt[], blockHash: Hex | null, blockRange?: { from: bigint; to: bigint }): void {
    for (const receipt of receipts) {
      if (blockRange !== undefined && (receipt.blockNumber < blockRange.from || receipt.blockNumber > blockRange.to)) continue
      receipt.logs.forEach((log, i) => {
        if (!matchesLog(this.criteria, log)) return
        if (this.logs.length >= this.maxResults) throw limitExceeded(`query returned more than ${this.maxResults} results`)
        this.logs.push(formatLog(log, receipt, receipt.logIndexStart + i, blockHash))
      })
    }
  }
}

/**
 * Runs a log query. Logs come in ascending (block, logIndex) order: sealed blocks first (all below
 * the pending ones), then unsealed mini-blocks in production order, whose EVM block has no hash yet:
 * they carry the `unsealedBlockHash` placeholder (see format.ts).
 */
export async function queryLogs(
  chain: ChainView,
  options: Pick<EthRpcOptions, 'maxLogsRange' | 'maxLogsResults'>,
  filter: LogFilter,
  signal?: AbortSignal,
): Promise<RpcObject[]> {
  const collector = new LogCollector(filter, options.maxLogsResults)
  if (filter.kind === 'hash') {
    const placeholder = unsealedBlockNumber(filter.blockHash)
    if (placeholder !== undefined && placeholder > chain.head.header.number) {
      if (placeholder !== chain.pendingBlockNumber) throw resourceNotFound('unknown block')
      // A realtime receipt's placeholder for a block still being built: its mini-blocks so far.
      for (const mb of chain.unsealedMiniBlocks)
        if (mb.blockNumber === placeholder) collector.addReceipts(mb.receipts, filter.blockHash)
      return collector.logs
    }
    const block = placeholder === undefined ? await chain.blockByHash(filter.blockHash) : await chain.blockByNumber(placeholder)
    if (block === undefined) throw resourceNotFound('unknown block')
    collector.addReceipts(block.receipts, block.hash)
    return collector.logs
  }

  const snapshot = snapshotChain(chain)
  const from = resolveBound(filter.fromBlock, snapshot)
  const to = resolveBound(filter.toBlock, snapshot)
  if (from > to) throw invalidParams('invalid block range params')
  // Nothing exists past the pending block: clamp before the range check, so `toBlock` far in the future is not punished.
  const last = to < snapshot.pendingNumber ? to : snapshot.pendingNumber
  if (from > last) return []
  const span = last - from + 1n
  if (span > options.maxLogsRange) {
    throw limitExceeded(`block range too large: ${span} blocks requested, max ${options.maxLogsRange}`)
  }

  const sealedTo = last < snapshot.headNumber ? last : snapshot.headNumber
  if (from <= sealedTo) {
    const candidates = await chain.candidateLogBlocks({
      fromBlock: from,
      toBlock: sealedTo,
      addresses: filter.addresses,
      topics: filter.topics,
    })
    for (const number of candidates ?? rangeOf(from, sealedTo)) {
      // A long scan reads LevelDB block by block: stop once the client is gone.
      signal?.throwIfAborted()
      const block = await chain.blockByNumber(number)
      // Below the captured head, so only a damaged datadir lacks it: fail rather than answer with a silent gap.
      if (block === undefined) throw resourceUnavailable(`block ${number} is not available`)
      collector.addReceipts(block.receipts, block.hash)
    }
  }
  if (last > snapshot.headNumber) {
    for (const mb of snapshot.unsealed) collector.addReceipts(mb.receipts, unsealedBlockHash(mb.blockNumber), { from, to: last })
  }
  return collector.logs
}

function* rangeOf(from: bigint, to: bigint): Generator<bigint> {
  for (let n = from; n <= to; n++) yield n
}

/** The `eth_getLogs` handler. */
export function getLogsHandler(backend: EthBackend): RpcHandler {
  return (params, ctx) => {
    const [filter] = expectParams(params, 1)
    return queryLogs(backend.chain, backend.options, parseLogFilter(filter, 0), ctx.signal)
  }
}
