/**
 * The one error base of the node: every error a caller may need to handle is a `NodeError`.
 *
 * In viem's and Lodestar's spirit: a typed `code` (each subsystem declares its own literal union and
 * callers branch on it, never on the message text), the structured `data` a caller needs to act, a
 * short message with optional `details` and a `hint` of what to do, and a `severity` for errors that
 * drive retries. Messages are for people (logs, and JSON-RPC clients where the text is a compatibility
 * promise); code is for programs.
 *
 * Codes are string literals (`'WITNESS_MISSING_NODE'`, `'P2P_TIMEOUT'`, `'nonce-too-low'`), except for
 * JSON-RPC errors, whose code is the wire number (-32602, 3, …) the protocol defines.
 */

/**
 * How a retrying caller should react, after op-node's derivation errors: `temporary` — retry the same
 * step later (a peer timed out, a witness is not there yet); `reset` — the inputs are inconsistent, go
 * back to a known-good point and start over (an L1 reorg, a witness that blames itself); `critical` —
 * retrying cannot help, stop and raise the alarm (a block that breaks the rules, a corrupt datadir).
 */
export type Severity = 'temporary' | 'reset' | 'critical'

export type ErrorCode = string | number

export interface NodeErrorOptions {
  /** What went wrong in more depth than the short message (appended to `message` after a colon). */
  details?: string
  /** What the operator or caller can do about it; kept out of `message`. */
  hint?: string
  severity?: Severity
  cause?: unknown
}

/** The options of a `NodeError` with data `Data`: `data` is required unless `Data` admits undefined. */
export type NodeErrorArgs<Data> = undefined extends Data
  ? [options?: NodeErrorOptions & { data?: Data }]
  : [options: NodeErrorOptions & { data: Data }]

export class NodeError<Code extends ErrorCode = ErrorCode, Data = unknown> extends Error {
  override name = 'NodeError'
  readonly code: Code
  /** The message without `details`. */
  readonly shortMessage: string
  readonly details: string | undefined
  readonly hint: string | undefined
  readonly severity: Severity | undefined
  readonly data: Data

  constructor(code: Code, shortMessage: string, ...[options]: NodeErrorArgs<Data>) {
    const details = options?.details
    super(
      details === undefined ? shortMessage : `${shortMessage}: ${details}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    )
    this.code = code
    this.shortMessage = shortMessage
    this.details = details
    this.hint = options?.hint
    this.severity = options?.severity
    this.data = options?.data as Data
  }
}

/**
 * Whether `value` is a `NodeError`, and when `code` is given, one with that code (or one of those
 * codes). The only way to classify an error: never by its message or name.
 */
export function isNodeError(value: unknown): value is NodeError
export function isNodeError<const C extends ErrorCode>(value: unknown, code: C | readonly C[]): value is NodeError<C>
export function isNodeError(value: unknown, code?: ErrorCode | readonly ErrorCode[]): value is NodeError {
  if (!(value instanceof NodeError)) return false
  if (code === undefined) return true
  return Array.isArray(code) ? code.includes(value.code) : value.code === code
}

/** The message of any thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * An error as plain data, for a `postMessage` across a worker thread: structured clone keeps an
 * `Error`'s message but drops its prototype and own fields (`code`, `data`), so errors cross as this.
 * `data` must itself be structured-cloneable (bytes, bigints and plain objects are).
 */
export interface PlainError<Code extends ErrorCode = ErrorCode> {
  name: string
  message: string
  stack?: string
  /** Set for a `NodeError`, with the fields below. */
  code?: Code
  shortMessage?: string
  details?: string
  hint?: string
  severity?: Severity
  data?: unknown
  cause?: PlainError
}

/** `error` (anything thrown) as plain data; `fromPlainError` turns it back. */
export function toPlainError<C extends ErrorCode>(error: NodeError<C>): PlainError<C> & { code: C }
export function toPlainError(error: unknown): PlainError
export function toPlainError(error: unknown): PlainError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) }
  const plain: PlainError = { name: error.name, message: error.message }
  if (error.stack !== undefined) plain.stack = error.stack
  if (error.cause !== undefined) plain.cause = toPlainError(error.cause)
  if (!(error instanceof NodeError)) return plain
  plain.code = error.code
  plain.shortMessage = error.shortMessage
  for (const key of ['details', 'hint', 'severity', 'data'] as const) if (error[key] !== undefined) plain[key] = error[key]
  return plain
}

/**
 * The error `toPlainError` described: a `NodeError` (of the base class: the subclass does not cross,
 * its code, data and message do) when it had a code, a plain `Error` otherwise. Stack and name are kept.
 */
export function fromPlainError(plain: PlainError): Error {
  const cause = plain.cause === undefined ? undefined : fromPlainError(plain.cause)
  const error =
    plain.code === undefined
      ? new Error(plain.message, cause === undefined ? undefined : { cause })
      : new NodeError(plain.code, plain.shortMessage ?? plain.message, {
          details: plain.details,
          hint: plain.hint,
          severity: plain.severity,
          data: plain.data,
          cause,
        })
  error.name = plain.name
  if (plain.stack !== undefined) error.stack = plain.stack
  return error
}
