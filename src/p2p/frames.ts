/**
 * Request/response wire format, independent of any protocol's payload.
 *
 * On one libp2p stream, every unit is a length-prefixed frame (unsigned varint length, then bytes):
 * - requester → responder: one frame holding the request, then the requester closes its write side;
 * - responder → requester: frames of `[kind byte][payload]`:
 *   - `CHUNK`: up to `MAX_CHUNK_BYTES` of the response; a response is the concatenation of its chunks;
 *   - `END` (no payload): the response is complete;
 *   - `ERROR`: the handler failed; payload is its UTF-8 message. May follow chunks (a streamed
 *     response that fails midway).
 *
 * An explicit END (rather than end-of-stream) lets the requester tell a complete response from one cut
 * off by a crash or reset. Chunking keeps any single frame, and so any buffer either side must hold
 * before it can make progress, at most 1 MiB however large the response.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { P2pProtocolError, P2pRequestError, P2pResponseTooLargeError } from './errors.ts'

export const FrameKind = { Chunk: 0, End: 1, Error: 2 } as const

export const MAX_CHUNK_BYTES = 1024 * 1024
/** Largest response frame: a full chunk plus its kind byte. */
export const MAX_RESPONSE_FRAME_BYTES = MAX_CHUNK_BYTES + 1
/** Handler error messages are cut to this many characters: they are diagnostics, not a data channel. */
const MAX_ERROR_MESSAGE_CHARS = 1000

export type ResponseBody = Uint8Array | AsyncIterable<Uint8Array>

/**
 * The response frames (without length prefixes) for whatever `produce` returns; a throw, before or
 * while streaming, becomes an ERROR frame. `onError` sees the thrown value (for logs and metrics).
 */
export async function* responseFrames(
  produce: () => Promise<ResponseBody>,
  onError: (err: unknown) => void,
): AsyncGenerator<Uint8ArrayList> {
  try {
    const body = await produce()
    for await (const part of body instanceof Uint8Array ? [body] : body) {
      for (let offset = 0; offset < part.length; offset += MAX_CHUNK_BYTES) {
        yield new Uint8ArrayList(Uint8Array.of(FrameKind.Chunk), part.subarray(offset, offset + MAX_CHUNK_BYTES))
      }
    }
  } catch (err) {
    onError(err)
    yield errorFrame(err instanceof Error ? err.message : String(err))
    return
  }
  yield new Uint8ArrayList(Uint8Array.of(FrameKind.End))
}

/** An ERROR frame (without its length prefix) carrying `message`, cut to `MAX_ERROR_MESSAGE_CHARS`. */
export function errorFrame(message: string): Uint8ArrayList {
  return new Uint8ArrayList(Uint8Array.of(FrameKind.Error), new TextEncoder().encode(message.slice(0, MAX_ERROR_MESSAGE_CHARS)))
}

/**
 * Reassembles a response from its frames (length prefixes already removed). Resolves at END; throws
 * `P2pRequestError` for an ERROR frame, `P2pResponseTooLargeError` past `maxBytes`, and
 * `P2pProtocolError` for anything malformed, including frames ending without END.
 */
export async function readResponse(
  frames: AsyncIterable<Uint8ArrayList>,
  protocol: string,
  maxBytes: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const frame of frames) {
    if (frame.byteLength === 0) throw new P2pProtocolError(`${protocol}: empty response frame`)
    const kind = frame.get(0)
    const payload = frame.subarray(1)
    switch (kind) {
      case FrameKind.Chunk:
        total += payload.length
        if (total > maxBytes) throw new P2pResponseTooLargeError(protocol, maxBytes)
        chunks.push(payload)
        break
      case FrameKind.End:
        if (payload.length !== 0) throw new P2pProtocolError(`${protocol}: END frame with a payload`)
        return concat(chunks, total)
      case FrameKind.Error:
        throw new P2pRequestError(protocol, new TextDecoder().decode(payload))
      default:
        throw new P2pProtocolError(`${protocol}: unknown response frame kind ${kind}`)
    }
  }
  throw new P2pProtocolError(`${protocol}: response ended without an END frame`)
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]
  const out = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}
