/**
 * `eth_subscribe` / `eth_unsubscribe` over WebSocket: the standard `newHeads`, `logs` and
 * `newPendingTransactions`, plus MegaETH's realtime `miniBlocks`, `stateChanges` and
 * `logs` with `fromBlock`/`toBlock` = `pending` (streamed per mini-block).
 *
 * Every subscription detaches its ChainView/pool listener in the cleanup it hands to
 * `WsConnection.addSubscription`, which runs on `eth_unsubscribe` and when the socket closes.
 * Payloads shared by all subscribers of one event (a header, a mini-block) are built once per
 * event and cached on the event object, not once per subscriber.
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

/** Pushes one notification (dropped silently if the subscription is already gone). */
type Emit = (result: unknown) => void
/** Attaches a producer that calls `emit`; returns the detach function. */
type Attach = (emit: Emit) => () => void

function subscribe(conn: WsConnection, attach: Attach): Hex {
  let detach: (() => void) | undefined
  // addSubscription first: it enforces the per-connection cap before any listener exists.
  const id = conn.addSubscription(() => detach?.())
  detach = attach((result) => {
    conn.notify(id, result)
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
  const headers = new WeakMap<SealedBlock, RpcObject>()
  const miniBlocks = new WeakMap<MiniBlock, RpcObject>()

  const headerOf = (block: SealedBlock): RpcObject => {
    let header = headers.get(block)
    if (header === undefined) headers.set(block, (header = formatHeader(block, backend.decode)))
    return header
  }
  const miniBlockOf = (block: MiniBlock, txs: readonly L2Transaction[]): RpcObject => {
    let payload = miniBlocks.get(block)
    if (payload === undefined) {
      // The event carries decoded transactions; a producer that did not pass them still gets full objects.
      const decoded = txs.length === block.transactions.length ? txs : block.transactions.map((raw) => backend.decode(raw))
      miniBlocks.set(block, (payload = formatMiniBlock(block, decoded)))
    }
    return payload
  }

  const newHeads: Attach = (emit) => {
    const listener = guardListener('subscriptions: newHeads', onError, (block: SealedBlock) => emit(headerOf(block)))
    chain.events.on('block', listener)
    return () => chain.events.off('block', listener)
  }

  const logs = (arg: unknown): Attach => {
    const filter = parseLogFilter(arg ?? {}, 1)
    if (filter.kind !== 'range') throw invalidArgument(1, 'blockHash is not supported by logs subscriptions')
    const min = filter.fromBlock.kind === 'number' ? filter.fromBlock.number : undefined
    const max = filter.toBlock.kind === 'number' ? filter.toBlock.number : undefined
    const emitMatching = (emit: Emit, receipts: readonly TxReceipt[], blockHash: Hex | null): void => {
      for (const receipt of receipts) {
        if ((min !== undefined && receipt.blockNumber < min) || (max !== undefined && receipt.blockNumber > max)) continue
        receipt.logs.forEach((log, i) => {
          if (matchesLog(filter, log)) emit(formatLog(log, receipt, receipt.logIndexStart + i, blockHash))
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
      backend.onPendingTransaction(guardListener('subscriptions: newPendingTransactions', onError, (hash: Hex) => emit(hash)))
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
          const change = formatAccountChange(block, address)
          if (change !== undefined) emit(change)
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
          return subscribe(conn, logs(arg))
        case 'newPendingTransactions':
          return subscribe(conn, newPendingTransactions(arg))
        case 'miniBlocks':
          return subscribe(conn, miniBlockStream)
        case 'stateChanges':
          return subscribe(conn, stateChanges(arg))
        default:
          throw invalidArgument(
            0,
            `unsupported subscription type ${JSON.stringify(typeof type === 'string' ? type.slice(0, 64) : type)}; supported: ${SUBSCRIPTION_TYPES.join(', ')}`,
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
