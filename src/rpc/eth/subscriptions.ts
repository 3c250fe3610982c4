/**
 * `eth_subscribe` / `eth_unsubscribe` over WebSocket: the standard `newHeads`, `logs` and
 * `newPendingTransactions`, plus MegaETH's realtime `miniBlocks`, `stateChanges` and
 * `logs` with `fromBlock`/`toBlock` = `pending` (streamed per mini-block).
 *
 * Every subscription detaches its ChainView/pool listener in the cleanup it hands to
 * `WsConnection.addSubscription`, which runs on `eth_unsubscribe` and when the socket closes.
 * Payloads are serialized once per event, not once per subscriber: a header, a mini-block, a log
 * (per receipt, index and block hash) or an account change is formatted and JSON-encoded on its
 * first subscriber and the text cached on the event object; each subscriber's frame is then its
 * own prefix around that text (`WsConnection.notifyJson`). Per-subscriber JSON.stringify was what
 * let a few thousand subscriptions to the 100-per-second mini-block stream starve the event loop.
 */
import type { L2Transaction } from '../../chain/l2-transaction.ts'
import { setLengthLeft } from '@ethereumjs/util'
import type { SealedBlock } from '../../chain/block.ts'
import type { MiniBlock } from '../../chain/mini-block.ts'
import type { TxReceipt } from '../../chain/receipt.ts'
import type { Hex } from '../../primitives/state-diff.ts'
import { RpcError, RpcErrorCode } from '../errors.ts'
import { expectParams, invalidArgument, parseAddress, toData, toQuantity } from '../params.ts'
import type { RpcContext, RpcHandler } from '../registry.ts'
import type { WsConnection } from '../ws-connection.ts'
import type { TxSource } from '../../storage/chain-view.ts'
import type { EthBackend } from './backend.ts'
import { guardListener, watchLiveReceipts, type ListenerErrorHandler } from './filters.ts'
import { formatBlock, formatLog, formatReceipt, formatTransaction, placementOf, type RpcObject } from './format.ts'
import { MAX_FILTER_ADDRESSES, matchesLog, parseLogFilter, type BlockBound } from './log-filter.ts'

export const SUBSCRIPTION_TYPES = ['newHeads', 'logs', 'newPendingTransactions', 'miniBlocks', 'stateChanges'] as const
export type SubscriptionType = (typeof SUBSCRIPTION_TYPES)[number]

/**
 * geth over HTTP answers `eth_subscribe` with code -32601 and "notifications not supported"
 * (`rpc.ErrNotificationsUnsupported`); go-ethereum's client and others detect the lack of push
 * support by exactly that code. We answer `eth_unsubscribe` over HTTP the same way.
 */
export function notificationsNotSupported(): RpcError {
  return new RpcError(RpcErrorCode.MethodNotFound, 'notifications not supported')
}

/** Header fields of `newHeads`: a block minus its body (as geth's RPCMarshalHeader), plus MegaETH's `miniBlockCount`. */
const NON_HEADER_FIELDS = ['transactions', 'uncles', 'size', 'withdrawals', 'totalDifficulty'] as const

export function formatHeader(block: SealedBlock, decode: (raw: Uint8Array) => L2Transaction): RpcObject {
  const out = formatBlock(block, false, decode)
  for (const field of NON_HEADER_FIELDS) delete out[field]
  return out
}

/** MegaETH's `miniBlocks` payload: snake_case, quantities in hex, transactions and receipts in full. */
export function formatMiniBlock(block: MiniBlock, txs: readonly L2Transaction[]): RpcObject {
  return {
    block_number: toQuantity(block.blockNumber),
    block_timestamp: toQuantity(block.blockTimestamp),
    index: toQuantity(block.index),
    mini_block_number: toQuantity(block.number),
    mini_block_timestamp: toQuantity(block.timestampUs),
    gas_used: toQuantity(block.gasUsed),
    transactions: txs.map((tx, i) => {
      // A mini-block carries one receipt per transaction (its codec checks that).
      const receipt = block.receipts[i]!
      return formatTransaction(tx, placementOf(receipt, null))
    }),
    receipts: block.receipts.map((r) => formatReceipt(r, null)),
  }
}

/**
 * MegaETH's `stateChanges` payload for one account in one mini-block. A deleted account reports
 * nonce and balance 0. Storage values are 32-byte words. A wiped storage (`storageCleared`) cannot
 * list the slots it removed; only the slots written afterwards appear.
 */
export function formatAccountChange(block: MiniBlock, address: Hex): RpcObject | undefined {
  const diff = block.stateDiff.accounts.get(address)
  if (diff === undefined) return undefined
  const storage: Record<string, Hex> = {}
  for (const [slot, value] of diff.storage) storage[slot] = toData(setLengthLeft(value, 32))
  return {
    address,
    nonce: toQuantity(diff.account?.nonce ?? 0n),
    balance: toQuantity(diff.account?.balance ?? 0n),
    storage,
  }
}

/** Pushes one notification, its result already JSON (dropped silently if the subscription is already gone). */
type Emit = (resultJson: string) => void
/** Attaches a producer that calls `emit`; returns the detach function. */
type Attach = (emit: Emit) => () => void

function subscribe(conn: WsConnection, attach: Attach): Hex {
  let detach: (() => void) | undefined
  // addSubscription first: it enforces the per-connection cap before any listener exists.
  const id = conn.addSubscription(() => detach?.())
  detach = attach((resultJson) => {
    conn.notifyJson(id, resultJson)
  })
  return id
}

function wsConnection(ctx: RpcContext): WsConnection {
  if (ctx.transport !== 'ws') throw notificationsNotSupported()
  return ctx.connection
}

export interface SubscriptionHooks {
  onListenerError?: ListenerErrorHandler
}

/** The `eth_subscribe` and `eth_unsubscribe` handlers. */
export function subscriptionHandlers(backend: EthBackend, hooks: SubscriptionHooks = {}): Record<string, RpcHandler> {
  const { chain } = backend
  const onError = hooks.onListenerError ?? (() => undefined)
  // Serialized payloads, keyed by the event objects they describe (weakly: they go with the event).
  const headers = new WeakMap<SealedBlock, string>()
  const miniBlocks = new WeakMap<MiniBlock, string>()
  /** Per receipt: `${logIndex}:${blockHash}` → the log's JSON (a realtime log has no block hash yet). */
  const logs = new WeakMap<TxReceipt, Map<string, string>>()
  /** Per mini-block: address → its account change's JSON (`null` text when the block did not touch it). */
  const accountChanges = new WeakMap<MiniBlock, Map<Hex, string>>()

  const headerOf = (block: SealedBlock): string => {
    let header = headers.get(block)
    if (header === undefined) headers.set(block, (header = JSON.stringify(formatHeader(block, backend.decode))))
    return header
  }
  const miniBlockOf = (block: MiniBlock, txs: readonly L2Transaction[]): string => {
    let payload = miniBlocks.get(block)
    if (payload === undefined) {
      // The event carries decoded transactions; a producer that did not pass them still gets full objects.
      const decoded = txs.length === block.transactions.length ? txs : block.transactions.map((raw) => backend.decode(raw))
      miniBlocks.set(block, (payload = JSON.stringify(formatMiniBlock(block, decoded))))
    }
    return payload
  }
  const logOf = (receipt: TxReceipt, i: number, blockHash: Hex | null): string => {
    let perReceipt = logs.get(receipt)
    if (perReceipt === undefined) logs.set(receipt, (perReceipt = new Map()))
    const logIndex = receipt.logIndexStart + i
    const key = `${logIndex}:${blockHash}`
    let json = perReceipt.get(key)
    if (json === undefined)
      perReceipt.set(key, (json = JSON.stringify(formatLog(receipt.logs[i]!, receipt, logIndex, blockHash))))
    return json
  }
  const accountChangeOf = (block: MiniBlock, address: Hex): string => {
    let perBlock = accountChanges.get(block)
    if (perBlock === undefined) accountChanges.set(block, (perBlock = new Map()))
    let json = perBlock.get(address)
    if (json === undefined) {
      const change = formatAccountChange(block, address)
      perBlock.set(address, (json = change === undefined ? 'null' : JSON.stringify(change)))
    }
    return json
  }

  const newHeads: Attach = (emit) => {
    const listener = guardListener('subscriptions: newHeads', onError, (block: SealedBlock) => emit(headerOf(block)))
    chain.events.on('block', listener)
    return () => chain.events.off('block', listener)
  }

  const logsStream = (arg: unknown): Attach => {
    const filter = parseLogFilter(arg ?? {}, 1)
    if (filter.kind !== 'range') throw invalidArgument(1, 'blockHash is not supported by logs subscriptions')
    const min = filter.fromBlock.kind === 'number' ? filter.fromBlock.number : undefined
    const max = filter.toBlock.kind === 'number' ? filter.toBlock.number : undefined
    const emitMatching = (emit: Emit, receipts: readonly TxReceipt[], blockHash: Hex | null): void => {
      for (const receipt of receipts) {
        if ((min !== undefined && receipt.blockNumber < min) || (max !== undefined && receipt.blockNumber > max)) continue
        receipt.logs.forEach((log, i) => {
          if (matchesLog(filter, log)) emit(logOf(receipt, i, blockHash))
        })
      }
    }
    const realtime = isPendingTag(filter.fromBlock) && isPendingTag(filter.toBlock)
    if (realtime) {
      return (emit) =>
        watchLiveReceipts(
          chain,
          guardListener('subscriptions: realtime logs', onError, (receipts, blockHash) =>
            emitMatching(emit, receipts, blockHash),
          ),
        )
    }
    return (emit) => {
      const listener = guardListener('subscriptions: logs', onError, (block: SealedBlock) =>
        emitMatching(emit, block.receipts, block.hash),
      )
      chain.events.on('block', listener)
      return () => chain.events.off('block', listener)
    }
  }

  const newPendingTransactions = (arg: unknown): Attach => {
    // `true` asks for full transaction objects (geth ≥ 1.11). The pool exposes only hashes to RPC, so
    // the flag is accepted and hashes are sent either way.
    if (arg !== undefined && typeof arg !== 'boolean') throw invalidArgument(1, 'expected a boolean (full transactions)')
    return (emit) =>
      backend.onPendingTransaction(
        guardListener('subscriptions: newPendingTransactions', onError, (hash: Hex) => emit(`"${hash}"`)),
      )
  }

  const miniBlockStream: Attach = (emit) => {
    const listener = guardListener('subscriptions: miniBlocks', onError, (block: MiniBlock, txs: readonly TxSource[]) =>
      emit(
        miniBlockOf(
          block,
          txs.map((source) => source.tx),
        ),
      ),
    )
    chain.events.on('miniBlock', listener)
    return () => chain.events.off('miniBlock', listener)
  }

  const stateChanges = (arg: unknown): Attach => {
    const addresses = parseWatchedAddresses(arg)
    return (emit) => {
      const listener = guardListener('subscriptions: stateChanges', onError, (block: MiniBlock) => {
        const changed = block.stateDiff.accounts
        // Walk the smaller side: a subscriber watching few accounts should not pay for a huge diff, nor the reverse.
        const candidates = addresses.size <= changed.size ? addresses : changed.keys()
        for (const address of candidates) {
          if (!addresses.has(address)) continue
          const change = accountChangeOf(block, address)
          if (change !== 'null') emit(change)
        }
      })
      chain.events.on('miniBlock', listener)
      return () => chain.events.off('miniBlock', listener)
    }
  }

  return {
    eth_subscribe: (params, ctx) => {
      const conn = wsConnection(ctx)
      const [type, arg] = expectParams(params, 1, 2)
      switch (type) {
        case 'newHeads':
          return subscribe(conn, newHeads)
        case 'logs':
          return subscribe(conn, logsStream(arg))
        case 'newPendingTransactions':
          return subscribe(conn, newPendingTransactions(arg))
        case 'miniBlocks':
          return subscribe(conn, miniBlockStream)
        case 'stateChanges':
          return subscribe(conn, stateChanges(arg))
        default:
          throw invalidArgument(
            0,
            `unsupported subscription type ${describeType(type)}; supported: ${SUBSCRIPTION_TYPES.join(', ')}`,
          )
      }
    },
    eth_unsubscribe: (params, ctx) => {
      const conn = wsConnection(ctx)
      const [id] = expectParams(params, 1)
      if (typeof id !== 'string') throw invalidArgument(0, 'expected a subscription id string')
      // Unknown ids answer false rather than geth's "subscription not found" error: clients ignore the
      // result, and an already-closed subscription (a normal race) should not look like a failure.
      return conn.removeSubscription(id.toLowerCase())
    },
  }
}

/**
 * The unsupported type as the error names it: a string quoted (its first 64 characters), anything
 * else by kind only. Stringifying a client's value whole answered -32603 for a 10,000-level nested
 * object (the stack overflowed) and echoed megabytes for a huge array (the hostile-rpc campaign).
 */
function describeType(type: unknown): string {
  if (typeof type === 'string') return JSON.stringify(type.slice(0, 64))
  return Array.isArray(type) ? 'of type array' : `of type ${typeof type}`
}

function isPendingTag(bound: BlockBound): boolean {
  return bound.kind === 'tag' && bound.tag === 'pending'
}

/** `stateChanges` takes `[address, …]` (MegaETH) — or a single address, for convenience. */
function parseWatchedAddresses(arg: unknown): Set<Hex> {
  if (typeof arg === 'string') return new Set([parseAddress(arg, 1)])
  if (!Array.isArray(arg) || arg.length === 0) throw invalidArgument(1, 'stateChanges requires a non-empty array of addresses')
  if (arg.length > MAX_FILTER_ADDRESSES) throw invalidArgument(1, `too many addresses (max ${MAX_FILTER_ADDRESSES})`)
  return new Set(arg.map((a: unknown) => parseAddress(a, 1)))
}
