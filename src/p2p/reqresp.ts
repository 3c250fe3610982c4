/**
 * Request/response over libp2p streams (wire format in `frames.ts`): the serving and the requesting
 * side of one exchange. Every failure leaves here as a typed `P2pError`; the stream is reset on any
 * failure so neither side keeps buffers for an exchange that is over.
 */
import { UnsupportedProtocolError, type Libp2p, type PeerId, type Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import { P2pBadRequestError, P2pDialError, P2pError, P2pProtocolError, P2pTimeoutError, errorMessage } from './errors.ts'
import { MAX_RESPONSE_FRAME_BYTES, readResponse, responseFrames, type ResponseBody } from './frames.ts'

/** Serves one request; `from` is the requester's peer id. The returned body may be streamed (an async iterable of any-sized parts). */
export type RequestHandler = (request: Uint8Array, from: string) => Promise<ResponseBody>

export interface ServeLimits {
  maxRequestBytes: number
  /**
   * Deadline for the whole exchange: the request frame arriving and the response being written. A
   * requester that opens a stream and stalls, or stops reading the response (whose frames then wait
   * in our buffers), would otherwise hold the stream, a slot of libp2p's per-connection stream limit,
   * and those buffers for as long as the connection lives. The requester's own deadline is as long,
   * so nothing an honest requester would still read is cut.
   */
  timeoutMs: number
}

/** it-length-prefixed's errors for a frame over the limit or a malformed length prefix (by name: no exported classes). */
const BAD_FRAME_ERRORS = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError'])

/**
 * Serves one inbound stream: reads the request, streams the handler's response. Resolves with the
 * handler's error if it threw (already sent to the requester as an ERROR frame), else undefined;
 * throws a `P2pError` if the exchange itself failed (bad or late request, response not read in time,
 * stream reset), after resetting the stream.
 */
export async function serveRequest(
  stream: Stream,
  protocol: string,
  from: string,
  handler: RequestHandler,
  limits: ServeLimits,
): Promise<unknown> {
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    stream.abort(new P2pTimeoutError(protocol, limits.timeoutMs))
  }, limits.timeoutMs)
  try {
    const request = await readRequest(stream, protocol, limits)
    let handlerError: unknown
    await stream.sink(
      lp.encode(
        responseFrames(
          () => handler(request, from),
          (err) => (handlerError = err),
        ),
      ),
    )
    return handlerError
  } catch (err) {
    const error = timedOut ? new P2pTimeoutError(protocol, limits.timeoutMs) : asP2pError(err, protocol)
    stream.abort(error)
    throw error
  } finally {
    clearTimeout(timer)
  }
}

async function readRequest(stream: Stream, protocol: string, limits: ServeLimits): Promise<Uint8Array> {
  try {
    for await (const frame of lp.decode(stream.source, { maxDataLength: limits.maxRequestBytes })) return frame.subarray()
  } catch (err) {
    if (err instanceof Error && BAD_FRAME_ERRORS.has(err.name))
      throw new P2pBadRequestError(protocol, `bad request frame (limit ${limits.maxRequestBytes} bytes): ${err.message}`, {
        cause: err,
      })
    throw err
  }
  throw new P2pProtocolError(`${protocol}: stream ended before the request`)
}

export interface RequestLimits {
  /** Deadline for the whole exchange: dial, request, complete response. */
  timeoutMs: number
  maxResponseBytes: number
}

/** Sends one request to `peer` (dialling it if needed) and returns the reassembled response. */
export async function sendRequest(
  libp2p: Libp2p,
  peer: PeerId,
  protocol: string,
  data: Uint8Array,
  limits: RequestLimits,
): Promise<Uint8Array> {
  const controller = new AbortController()
  const timeout = (): P2pTimeoutError => new P2pTimeoutError(protocol, limits.timeoutMs)
  let stream: Stream | undefined
  // The signal covers the dial; once the stream exists, a reset is what interrupts a pending read.
  const onAbort = (): void => stream?.abort(timeout())
  controller.signal.addEventListener('abort', onAbort)
  const timer = setTimeout(() => controller.abort(), limits.timeoutMs)
  try {
    try {
      stream = await libp2p.dialProtocol(peer, protocol, { signal: controller.signal })
    } catch (err) {
      if (controller.signal.aborted) throw timeout()
      // By name: the class may come from another copy of @libp2p/interface than ours.
      if (err instanceof Error && err.name === UnsupportedProtocolError.name) {
        throw new P2pProtocolError(`${protocol}: not supported by ${peer.toString()}`, { cause: err })
      }
      throw new P2pDialError(peer.toString(), { cause: err })
    }
    await stream.sink([lp.encode.single(data)])
    const response = await readResponse(
      lp.decode(stream.source, { maxDataLength: MAX_RESPONSE_FRAME_BYTES }),
      protocol,
      limits.maxResponseBytes,
    )
    await stream.close({ signal: controller.signal })
    return response
  } catch (err) {
    const error = controller.signal.aborted ? timeout() : asP2pError(err, protocol)
    stream?.abort(error)
    throw error
  } finally {
    clearTimeout(timer)
    controller.signal.removeEventListener('abort', onAbort)
  }
}

/** Our own errors pass through; anything else (length-prefix decoding, stream reset) is the remote breaking the protocol. */
function asP2pError(err: unknown, protocol: string): P2pError {
  return err instanceof P2pError ? err : new P2pProtocolError(`${protocol}: ${errorMessage(err)}`, { cause: err })
}
