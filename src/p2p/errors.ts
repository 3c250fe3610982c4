import { NodeError, errorMessage } from '../primitives/errors.ts'

/**
 * Typed P2P errors. Callers branch on `code` (stable strings) or `instanceof`; messages are for logs.
 * Failures caused by the remote are always one of these, never a raw libp2p or stream error.
 */

export const P2pErrorCode = {
  RequestFailed: 'P2P_REQUEST_FAILED',
  ResponseTooLarge: 'P2P_RESPONSE_TOO_LARGE',
  Timeout: 'P2P_TIMEOUT',
  DialFailed: 'P2P_DIAL_FAILED',
  ProtocolError: 'P2P_PROTOCOL_ERROR',
  BadRequest: 'P2P_BAD_REQUEST',
  /** An inbound request refused by the per-peer rate limit (a metrics outcome; the requester sees `P2pRequestError`). */
  RateLimited: 'P2P_RATE_LIMITED',
  MessageTooLarge: 'P2P_MESSAGE_TOO_LARGE',
  KeyFileInvalid: 'P2P_KEY_FILE_INVALID',
} as const

export type P2pErrorCode = (typeof P2pErrorCode)[keyof typeof P2pErrorCode]

export abstract class P2pError<Data = undefined> extends NodeError<P2pErrorCode, Data> {}

/** The remote's handler failed; `data.remoteMessage` is what it reported. */
export class P2pRequestError extends P2pError<{ protocol: string; remoteMessage: string }> {
  override readonly name = 'P2pRequestError'
  constructor(protocol: string, remoteMessage: string) {
    super(P2pErrorCode.RequestFailed, `${protocol}: remote error: ${remoteMessage}`, { data: { protocol, remoteMessage } })
  }
}

/** The response grew past `maxResponseBytes`; the stream was reset. */
export class P2pResponseTooLargeError extends P2pError<{ protocol: string; limit: number }> {
  override readonly name = 'P2pResponseTooLargeError'
  constructor(protocol: string, limit: number) {
    super(P2pErrorCode.ResponseTooLarge, `${protocol}: response exceeds ${limit} bytes`, { data: { protocol, limit } })
  }
}

/**
 * An exchange passed a deadline (see `progress-deadline.ts`): `idle`, no progress (dial, request or
 * response frame) within `timeoutMs`; `total`, still not complete after `timeoutMs` in all.
 */
export class P2pTimeoutError extends P2pError<{ protocol: string; timeoutMs: number; kind: 'idle' | 'total' }> {
  override readonly name = 'P2pTimeoutError'
  constructor(protocol: string, timeoutMs: number, kind: 'idle' | 'total' = 'idle') {
    super(
      P2pErrorCode.Timeout,
      kind === 'idle'
        ? `${protocol}: no progress within ${timeoutMs} ms`
        : `${protocol}: exchange not complete within ${timeoutMs} ms`,
      { data: { protocol, timeoutMs, kind }, severity: 'temporary' },
    )
  }
}

/** The peer could not be reached (no known address, refused, banned, handshake failed). */
export class P2pDialError extends P2pError<{ peer: string }> {
  override readonly name = 'P2pDialError'
  constructor(peer: string, options: { cause: unknown }) {
    super(P2pErrorCode.DialFailed, `cannot reach peer ${peer}: ${errorMessage(options.cause)}`, {
      data: { peer },
      cause: options.cause,
      severity: 'temporary',
    })
  }
}

/** The remote broke the request/response protocol: malformed frame, truncated response, protocol not supported. */
export class P2pProtocolError extends P2pError {
  override readonly name = 'P2pProtocolError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(P2pErrorCode.ProtocolError, message, { cause: options?.cause })
  }
}

/**
 * An inbound request no honest requester sends: over `maxRequestBytes`, or a malformed length prefix.
 * Unlike a reset or a timeout (which the network may cause), it costs the requester a penalty.
 */
export class P2pBadRequestError extends P2pError<{ protocol: string }> {
  override readonly name = 'P2pBadRequestError'
  constructor(protocol: string, message: string, options?: { cause?: unknown }) {
    super(P2pErrorCode.BadRequest, `${protocol}: ${message}`, { data: { protocol }, cause: options?.cause })
  }
}

/** `publish()` was given more than `maxMessageBytes`: every peer would reject it. */
export class P2pMessageTooLargeError extends P2pError<{ topic: string; size: number; limit: number }> {
  override readonly name = 'P2pMessageTooLargeError'
  constructor(topic: string, size: number, limit: number) {
    super(P2pErrorCode.MessageTooLarge, `${topic}: message of ${size} bytes exceeds ${limit}`, { data: { topic, size, limit } })
  }
}

/** The identity key file exists but does not hold a key. Never overwritten: that would silently change the peer id. */
export class P2pKeyFileError extends P2pError<{ keyFile: string }> {
  override readonly name = 'P2pKeyFileError'
  constructor(keyFile: string, cause: unknown) {
    super(P2pErrorCode.KeyFileInvalid, `p2p key file ${keyFile} does not hold a libp2p private key (${errorMessage(cause)})`, {
      data: { keyFile },
      hint: 'delete it to generate a new identity',
      cause,
      severity: 'critical',
    })
  }
}

export { errorMessage }
