/**
 * Request/response over libp2p streams (wire format in `frames.ts`): the serving and the requesting
 * side of one exchange. Every failure leaves here as a typed `P2pError`; the stream is reset on any
 * failure so neither side keeps buffers for an exchange that is over.
 */
import { UnsupportedProtocolError, type Libp2p, type PeerId, type Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import { P2pBadRequestError, P2pDialError, P2pError, P2pProtocolError, P2pTimeoutError, errorMessage } from './errors.ts'
import { errorFrame, MAX_RESPONSE_FRAME_BYTES, readResponse, responseFrames, type ResponseBody } from './frames.ts'
import { ProgressDeadline, type DeadlineKind } from './progress-deadline.ts'

/** Serves one request; `from` is the requester's peer id. The returned body may be streamed (an async iterable of any-sized parts). */
export type RequestHandler = (request: Uint8Array, from: string) => Promise<ResponseBody>

export interface ServeLimits {
  maxRequestBytes: number
  /**
   * Longest stretch without progress: the request frame arriving, then each response frame being
   * taken by the requester (yamux lets us write only as far as the requester reads). A requester that
   * opens a stream and stalls, or stops reading the response, would otherwise hold the stream, a slot
   * of libp2p's per-connection stream limit, and the frames waiting in our buffers for as long as the
   * connection lives; one reading slowly but steadily (a big range on a loaded machine) is not cut.
   */
  idleTimeoutMs: number
  /** Longest exchange, however steady: bounds a requester that reads just fast enough never to look idle. */
  maxExchangeMs: number
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
  const deadline = serveDeadline(stream, protocol, limits)
  try {
    const request = await readRequest(stream, protocol, limits)
    deadline.progress()
    let handlerError: unknown
    await stream.sink(
      withProgress(
        lp.encode(
          responseFrames(
            () => handler(request, from),
            (err) => (handlerError = err),
          ),
        ),
        deadline,
      ),
    )
    return handlerError
  } catch (err) {
    const error = deadline.expired !== undefined ? timeoutError(protocol, limits, deadline.expired) : asP2pError(err, protocol)
    stream.abort(error)
    throw error
  } finally {
    deadline.clear()
  }
}

/**
 * Answers an inbound stream with an ERROR frame carrying `message` without reading the request or
 * running a handler (a refusal: rate limited), under the same deadlines as `serveRequest`. Throws a
 * `P2pError` (after resetting the stream) if even that cannot be delivered.
 */
export async function refuseRequest(stream: Stream, protocol: string, message: string, limits: ServeLimits): Promise<void> {
  const deadline = serveDeadline(stream, protocol, limits)
  try {
    await stream.sink(lp.encode([errorFrame(message)]))
    // The request is never read: stop receiving it, or a requester that keeps its write side open
    // would keep the stream half open.
    await stream.closeRead()
  } catch (err) {
    const error = deadline.expired !== undefined ? timeoutError(protocol, limits, deadline.expired) : asP2pError(err, protocol)
    stream.abort(error)
    throw error
  } finally {
    deadline.clear()
  }
}

function serveDeadline(stream: Stream, protocol: string, limits: ServeLimits): ProgressDeadline {
  return new ProgressDeadline({ idleMs: limits.idleTimeoutMs, maxMs: limits.maxExchangeMs }, (kind) =>
    stream.abort(timeoutError(protocol, limits, kind)),
  )
}

function timeoutError(protocol: string, limits: ServeLimits, kind: DeadlineKind): P2pTimeoutError {
  return new P2pTimeoutError(protocol, kind === 'idle' ? limits.idleTimeoutMs : limits.maxExchangeMs, kind)
}

/**
 * Passes `frames` through, marking progress each time the consumer (the stream's sink) asks for the
 * next one: it asks only once the previous frame was handed to the muxer, which waits for the
 * requester's window, so a pull means the requester has been reading.
 */
async function* withProgress<T>(frames: AsyncIterable<T>, deadline: ProgressDeadline): AsyncGenerator<T> {
  for await (const frame of frames) {
    yield frame
    deadline.progress()
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
  /** Longest stretch without progress: the dial, the request written, then each response frame received. */
  timeoutMs: number
  /** Longest exchange, however steady (a responder trickling its answer). */
  maxExchangeMs: number
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
  let stream: Stream | undefined
  const timeout = (kind: DeadlineKind): P2pTimeoutError =>
    new P2pTimeoutError(protocol, kind === 'idle' ? limits.timeoutMs : limits.maxExchangeMs, kind)
  const deadline = new ProgressDeadline({ idleMs: limits.timeoutMs, maxMs: limits.maxExchangeMs }, (kind) => {
    // The signal covers the dial; once the stream exists, a reset is what interrupts a pending read.
    controller.abort()
    stream?.abort(timeout(kind))
  })
  try {
    try {
      stream = await libp2p.dialProtocol(peer, protocol, { signal: controller.signal })
    } catch (err) {
      if (deadline.expired !== undefined) throw timeout(deadline.expired)
      // By name: the class may come from another copy of @libp2p/interface than ours.
      if (err instanceof Error && err.name === UnsupportedProtocolError.name) {
        throw new P2pProtocolError(`${protocol}: not supported by ${peer.toString()}`, { cause: err })
      }
      throw new P2pDialError(peer.toString(), { cause: err })
    }
    deadline.progress()
    await stream.sink([lp.encode.single(data)])
    deadline.progress()
    const response = await readResponse(
      withProgress(lp.decode(stream.source, { maxDataLength: MAX_RESPONSE_FRAME_BYTES }), deadline),
      protocol,
      limits.maxResponseBytes,
    )
    await stream.close({ signal: controller.signal })
    return response
  } catch (err) {
    const error = deadline.expired !== undefined ? timeout(deadline.expired) : asP2pError(err, protocol)
    stream?.abort(error)
    throw error
  } finally {
    deadline.clear()
  }
}

/** Our own errors pass through; anything else (length-prefix decoding, stream reset) is the remote breaking the protocol. */
function asP2pError(err: unknown, protocol: string): P2pError {
  return err instanceof P2pError ? err : new P2pProtocolError(`${protocol}: ${errorMessage(err)}`, { cause: err })
}
