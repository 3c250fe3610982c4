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
  MessageTooLarge: 'P2P_MESSAGE_TOO_LARGE',
  KeyFileInvalid: 'P2P_KEY_FILE_INVALID',
} as const

export type P2pErrorCode = (typeof P2pErrorCode)[keyof typeof P2pErrorCode]

export abstract class P2pError extends Error {
  abstract readonly code: P2pErrorCode
}

/** The remote's handler failed; `remoteMessage` is what it reported. */
export class P2pRequestError extends P2pError {
  override readonly name = 'P2pRequestError'
  readonly code = P2pErrorCode.RequestFailed
  constructor(
    readonly protocol: string,
    readonly remoteMessage: string,
  ) {
    super(`${protocol}: remote error: ${remoteMessage}`)
  }
}

/** The response grew past `maxResponseBytes`; the stream was reset. */
export class P2pResponseTooLargeError extends P2pError {
  override readonly name = 'P2pResponseTooLargeError'
  readonly code = P2pErrorCode.ResponseTooLarge
  constructor(
    readonly protocol: string,
    readonly limit: number,
  ) {
    super(`${protocol}: response exceeds ${limit} bytes`)
  }
}

/** The request (dial included) did not complete within its deadline. */
export class P2pTimeoutError extends P2pError {
  override readonly name = 'P2pTimeoutError'
  readonly code = P2pErrorCode.Timeout
  constructor(
    readonly protocol: string,
    readonly timeoutMs: number,
  ) {
    super(`${protocol}: no complete response within ${timeoutMs} ms`)
  }
}

/** The peer could not be reached (no known address, refused, banned, handshake failed). */
export class P2pDialError extends P2pError {
  override readonly name = 'P2pDialError'
  readonly code = P2pErrorCode.DialFailed
  constructor(peer: string, options: { cause: unknown }) {
    super(`cannot reach peer ${peer}: ${errorMessage(options.cause)}`, options)
  }
}

/** The remote broke the request/response protocol: malformed frame, truncated response, protocol not supported. */
export class P2pProtocolError extends P2pError {
  override readonly name = 'P2pProtocolError'
  readonly code = P2pErrorCode.ProtocolError
}

/** `publish()` was given more than `maxMessageBytes`: every peer would reject it. */
export class P2pMessageTooLargeError extends P2pError {
  override readonly name = 'P2pMessageTooLargeError'
  readonly code = P2pErrorCode.MessageTooLarge
  constructor(
    readonly topic: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(`${topic}: message of ${size} bytes exceeds ${limit}`)
  }
}

/** The identity key file exists but does not hold a key. Never overwritten: that would silently change the peer id. */
export class P2pKeyFileError extends P2pError {
  override readonly name = 'P2pKeyFileError'
  readonly code = P2pErrorCode.KeyFileInvalid
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
