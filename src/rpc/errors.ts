/**
 * Typed JSON-RPC errors.
 *
 * Every error a client can see is an `RpcError`: handlers throw one, the server
 * serializes `{ code, message, data? }` verbatim. Anything that is *not* an
 * `RpcError` is treated as a bug and surfaced as a generic -32603 so stack
 * traces and internal messages never leak to clients.
 *
 * Codes follow JSON-RPC 2.0 (-32700..-32603) and EIP-1474 (-32000..-32005);
 * messages follow geth where clients are known to match on them
 * (e.g. `the method X does not exist/is not available`, `execution reverted`).
 */
import type { Hex } from 'viem'
import { NodeError } from '../primitives/errors.ts'

export const RpcErrorCode = {
  // JSON-RPC 2.0
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  // EIP-1474
  InvalidInput: -32000,
  ResourceNotFound: -32001,
  ResourceUnavailable: -32002,
  TransactionRejected: -32003,
  MethodNotSupported: -32004,
  LimitExceeded: -32005,
  // geth: `eth_call` / `eth_estimateGas` revert, data carries the revert bytes
  ExecutionReverted: 3,
} as const

export type RpcErrorCode = (typeof RpcErrorCode)[keyof typeof RpcErrorCode]

/** The wire shape of a JSON-RPC error object. */
export interface JsonRpcErrorObject {
  code: number
  message: string
  data?: unknown
}

/**
 * A JSON-RPC error. Its `code` is the wire number (any number: a forwarded sequencer error keeps its
 * own), its `message` the wire text, its `data` the wire `data`.
 */
export class RpcError extends NodeError<number, unknown> {
  override readonly name = 'RpcError'

  constructor(code: number, message: string, data?: unknown, options?: { cause?: unknown }) {
    super(code, message, { data, cause: options?.cause })
  }

  /** The object that goes on the wire (no stack, no cause). */
  toObject(): JsonRpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data }
  }
}

export function isRpcError(value: unknown): value is RpcError {
  return value instanceof RpcError
}

// --- JSON-RPC 2.0 -----------------------------------------------------------

/** -32700: the payload is not valid JSON. */
export function parseError(detail?: string): RpcError {
  return new RpcError(RpcErrorCode.ParseError, detail === undefined ? 'parse error' : `parse error: ${detail}`)
}

/** -32600: valid JSON, but not a valid request object (or batch). */
export function invalidRequest(detail?: string): RpcError {
  return new RpcError(RpcErrorCode.InvalidRequest, detail === undefined ? 'invalid request' : `invalid request: ${detail}`)
}

/** -32601 with geth's exact wording (some tooling matches on it). */
export function methodNotFound(method: string): RpcError {
  return new RpcError(RpcErrorCode.MethodNotFound, `the method ${method} does not exist/is not available`)
}

/** -32602. `message` should already be precise, e.g. `invalid argument 0: ...`. */
export function invalidParams(message: string, data?: unknown): RpcError {
  return new RpcError(RpcErrorCode.InvalidParams, message, data)
}

/** -32603. The default message is deliberately generic: details go to the log, not the client. */
export function internalError(message = 'internal error', options?: { cause?: unknown }): RpcError {
  return new RpcError(RpcErrorCode.InternalError, message, undefined, options)
}

// --- EIP-1474 ---------------------------------------------------------------

export function invalidInput(message = 'invalid input', data?: unknown): RpcError {
  return new RpcError(RpcErrorCode.InvalidInput, message, data)
}

export function resourceNotFound(message = 'resource not found', data?: unknown): RpcError {
  return new RpcError(RpcErrorCode.ResourceNotFound, message, data)
}

export function resourceUnavailable(message = 'resource unavailable', data?: unknown): RpcError {
  return new RpcError(RpcErrorCode.ResourceUnavailable, message, data)
}

export function transactionRejected(message = 'transaction rejected', data?: unknown): RpcError {
  return new RpcError(RpcErrorCode.TransactionRejected, message, data)
}

/** -32004: the method exists in the Ethereum API but this node does not implement it. */
export function methodNotSupported(method: string): RpcError {
  return new RpcError(RpcErrorCode.MethodNotSupported, `method ${method} is not supported`)
}

export function limitExceeded(message = 'limit exceeded', data?: unknown): RpcError {
  return new RpcError(RpcErrorCode.LimitExceeded, message, data)
}

// --- execution --------------------------------------------------------------

/**
 * Code 3, as geth returns for reverted `eth_call` / `eth_estimateGas`.
 * `data` is the raw revert bytes (e.g. an `Error(string)` or custom-error
 * payload) so clients like viem/ethers can decode it themselves.
 */
export function executionReverted(data: Hex, reason?: string): RpcError {
  const message = reason === undefined || reason === '' ? 'execution reverted' : `execution reverted: ${reason}`
  return new RpcError(RpcErrorCode.ExecutionReverted, message, data)
}
