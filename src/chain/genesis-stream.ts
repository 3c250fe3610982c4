/**
 * Reads a geth-style genesis.json of any size: a 10M-account alloc is ~0.9 GB, past V8's longest
 * string, so `JSON.parse(readFile(...))` cannot take it. The file is read in chunks and parsed by a
 * small JSON parser that hands out the alloc one entry at a time; only the fields other than
 * `alloc` (the "header") and the current entry are ever held.
 *
 * The parser is restartable rather than a byte-at-a-time state machine: each step (a top-level
 * field, one alloc entry, a separator) is parsed from a contiguous buffer, and when the buffer ends
 * mid-step the step is abandoned and parsed again once more bytes arrived. To keep that linear for
 * a step much larger than a chunk (a contract with a huge storage map), a stalled step is retried
 * only after the buffered bytes doubled. Values come out as `JSON.parse` gives them (numbers as JS
 * numbers, a later duplicate key winning within an object) except that alloc entries are yielded
 * in file order, duplicates included.
 *
 * Geth writes `alloc` between header fields (config … coinbase, alloc, number … baseFeePerGas), so
 * the header is only complete at the end of the file: see `GenesisStream` for how to get both.
 */
import { createReadStream } from 'node:fs'
import { type GenesisAccount, GenesisError, type GenesisFile } from './genesis.ts'

/** The genesis fields other than `alloc`. */
export type GenesisHeader = Omit<GenesisFile, 'alloc'>

export type GenesisAllocEntry = [address: string, account: GenesisAccount]

export interface GenesisStream {
  /**
   * The alloc entries in file order, address keys as written (not normalized). Each iteration reads
   * the file again from the start; a malformed file throws a `GenesisSyntaxError` (from wherever the
   * iteration has got to, possibly after yielding earlier entries). An iteration that runs to the end
   * also settles `header()` without another pass.
   */
  readonly alloc: AsyncIterable<GenesisAllocEntry>
  /**
   * The header fields, validated to hold a `config` object and an `alloc` object. After a complete
   * iteration of `alloc` this resolves at once; otherwise it reads the whole file itself (parsing
   * and dropping the alloc), so callers that need the header first pay for two passes.
   */
  header(): Promise<GenesisHeader>
}

export interface GenesisStreamOptions {
  /** Bytes per read; tests use tiny ones to put chunk boundaries everywhere. */
  highWaterMark?: number
}

/** Malformed JSON, or a genesis whose shape is wrong, at byte `offset` of the file. */
export class GenesisSyntaxError extends GenesisError {
  readonly offset: number
  constructor(reason: string, offset: number) {
    super(`genesis: ${reason} at byte ${offset}`)
    this.offset = offset
  }
}

const DEFAULT_HIGH_WATER_MARK = 4 * 1024 * 1024

export function openGenesisStream(path: string, opts: GenesisStreamOptions = {}): GenesisStream {
  const highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
  let known: GenesisHeader | undefined
  let headerPass: Promise<GenesisHeader> | undefined
  const settle = (header: GenesisHeader): void => {
    known = header
  }
  return {
    alloc: { [Symbol.asyncIterator]: () => readPass(path, highWaterMark, settle) },
    header() {
      if (known !== undefined) return Promise.resolve(known)
      headerPass ??= (async () => {
        for await (const _ of readPass(path, highWaterMark, settle)) {
          // Only the header is wanted: the entries are parsed (to validate them) and dropped.
        }
        return known!
      })()
      return headerPass
    },
  }
}

async function* readPass(
  path: string,
  highWaterMark: number,
  onHeader: (header: GenesisHeader) => void,
): AsyncGenerator<GenesisAllocEntry> {
  const reader = new GenesisReader()
  const stream = createReadStream(path, { highWaterMark })
  try {
    for await (const chunk of stream) {
      reader.push(chunk as Buffer)
      for (let entry = reader.next(); entry !== undefined; entry = reader.next()) yield entry
    }
  } finally {
    // An iteration the caller left early (or a parse error) must not leave the file open.
    stream.destroy()
  }
  reader.end()
  for (let entry = reader.next(); entry !== undefined; entry = reader.next()) yield entry
  onHeader(reader.header())
}

// ---------------------------------------------------------------------------------------------
// The parser

type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject
interface JsonObject {
  [key: string]: JsonValue
}

/** Thrown (and caught by `next`) when the buffer ends inside a step that more input may complete. */
const INCOMPLETE: unique symbol = Symbol('incomplete')

/** Deeper nesting than any genesis has; a bound so that hostile input cannot overflow the stack. */
const MAX_DEPTH = 256

/** Parser steps: where the next top-level step starts (node.ts-style numeric tags, no enums). */
const START = 0
const FIRST_KEY = 1
const KEY = 2
const AFTER_FIELD = 3
const FIRST_ENTRY = 4
const ENTRY = 5
const AFTER_ENTRY = 6
const TRAILER = 7
const DONE = 8
type Step = number

class GenesisReader {
  private buf: Buffer = Buffer.alloc(0)
  private pos = 0
  /** File offset of `buf[0]`. */
  private base = 0
  private readonly pending: Buffer[] = []
  private pendingBytes = 0
  /** After a stalled step: parse again once this many bytes from the step's start are at hand. */
  private retryAt = 0
  /** The last step ran out of input: wait for `retryAt` bytes (or the end of the file). */
  private stalled = false
  private eof = false
  private step: Step = START
  private sawAlloc = false
  private readonly fields: JsonObject = {}

  push(chunk: Buffer): void {
    this.pending.push(chunk)
    this.pendingBytes += chunk.length
  }

  end(): void {
    this.eof = true
  }

  /** The next alloc entry, or undefined when more input is needed (or the file is done). */
  next(): GenesisAllocEntry | undefined {
    if (!this.refill()) return undefined
    for (;;) {
      const start = this.pos
      try {
        const entry = this.advance()
        if (entry !== undefined) return entry
        if (this.step === DONE) return undefined
      } catch (error) {
        if (error !== INCOMPLETE) throw error
        this.pos = start
        this.stalled = true
        this.retryAt = 2 * (this.buf.length - start)
        if (!this.refill()) return undefined
      }
    }
  }

  /** The header, once the whole file has been parsed. */
  header(): GenesisHeader {
    if (this.step !== DONE) throw new Error('GenesisReader.header before the end of the file')
    if (!this.sawAlloc) throw new GenesisSyntaxError('no "alloc" object in the top-level object', this.base + this.pos)
    const config = this.fields['config']
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new GenesisSyntaxError('no "config" object in the top-level object', this.base + this.pos)
    }
    return this.fields as unknown as GenesisHeader
  }

  /**
   * Moves the unparsed tail and the pending chunks into one buffer when worth it; returns whether
   * parsing can go on (false while a stalled step still lacks bytes).
   */
  private refill(): boolean {
    const available = this.buf.length - this.pos + this.pendingBytes
    if (this.pendingBytes > 0 && (this.eof || !this.stalled || available >= this.retryAt)) {
      this.pending.unshift(this.buf.subarray(this.pos))
      this.buf = Buffer.concat(this.pending, available)
      this.base += this.pos
      this.pos = 0
      this.pending.length = 0
      this.pendingBytes = 0
      this.stalled = false
    }
    // At the end of the file a stalled step runs once more, to finish or to report the truncation.
    if (this.eof) this.stalled = false
    return !this.stalled
  }

  /** Parses one step; returns an alloc entry when the step was one. */
  private advance(): GenesisAllocEntry | undefined {
    switch (this.step) {
      case START:
        this.expect(0x7b, 'the top level must be an object')
        this.step = FIRST_KEY
        return undefined
      case FIRST_KEY:
        if (this.peek() === 0x7d) {
          this.pos++
          this.step = TRAILER
          return undefined
        }
        this.field()
        return undefined
      case KEY:
        this.field()
        return undefined
      case AFTER_FIELD:
        this.step = this.separator(KEY, TRAILER)
        return undefined
      case FIRST_ENTRY:
        if (this.peek() === 0x7d) {
          this.pos++
          this.step = AFTER_FIELD
          return undefined
        }
        return this.entry()
      case ENTRY:
        return this.entry()
      case AFTER_ENTRY:
        this.step = this.separator(ENTRY, AFTER_FIELD)
        return undefined
      case TRAILER:
        this.skipWhitespace()
        if (this.pos < this.buf.length) this.fail('trailing data after the top-level object')
        if (!this.eof) throw INCOMPLETE
        this.step = DONE
        return undefined
      default: // DONE
        return undefined
    }
  }

  /** A top-level `"key": value`; `alloc` opens the entry steps instead of being parsed whole. */
  private field(): void {
    const at = this.pos
    const key = this.key()
    if (key === 'alloc') {
      if (this.sawAlloc) this.fail('a second "alloc"', at)
      this.expect(0x7b, '"alloc" must be an object')
      this.sawAlloc = true
      this.step = FIRST_ENTRY
      return
    }
    setField(this.fields, key, this.value(0))
    this.step = AFTER_FIELD
  }

  private entry(): GenesisAllocEntry {
    const address = this.key()
    const at = this.pos
    const account = this.value(0)
    if (typeof account !== 'object' || account === null || Array.isArray(account)) {
      this.fail(`alloc ${address} must be an object`, at)
    }
    this.step = AFTER_ENTRY
    return [address, account as GenesisAccount]
  }

  /** `"key":` with the whitespace around it. */
  private key(): string {
    if (this.peek() !== 0x22) this.fail('expected a string key')
    const key = this.string()
    this.expect(0x3a, "expected ':'")
    return key
  }

  /** `,` or `}` after a member: returns `onComma` or `onClose`. */
  private separator(onComma: Step, onClose: Step): Step {
    const c = this.peek()
    if (c !== 0x2c && c !== 0x7d) this.fail("expected ',' or '}'")
    this.pos++
    if (c === 0x7d) return onClose
    if (this.peek() !== 0x22) this.fail('expected a string key')
    return onComma
  }

  private value(depth: number): JsonValue {
    const c = this.peek()
    switch (c) {
      case 0x7b:
        return this.object(depth + 1)
      case 0x5b:
        return this.array(depth + 1)
      case 0x22:
        return this.string()
      case 0x74:
        return this.literal('true', true)
      case 0x66:
        return this.literal('false', false)
      case 0x6e:
        return this.literal('null', null)
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number()
        return this.fail('expected a JSON value')
    }
  }

  private object(depth: number): JsonObject {
    if (depth > MAX_DEPTH) this.fail('nesting too deep')
    this.pos++
    const out: JsonObject = {}
    if (this.peek() === 0x7d) {
      this.pos++
      return out
    }
    for (;;) {
      const key = this.key()
      setField(out, key, this.value(depth))
      const c = this.peek()
      this.pos++
      if (c === 0x7d) return out
      if (c !== 0x2c) this.fail("expected ',' or '}'", this.pos - 1)
    }
  }

  private array(depth: number): JsonValue[] {
    if (depth > MAX_DEPTH) this.fail('nesting too deep')
    this.pos++
    const out: JsonValue[] = []
    if (this.peek() === 0x5d) {
      this.pos++
      return out
    }
    for (;;) {
      out.push(this.value(depth))
      const c = this.peek()
      this.pos++
      if (c === 0x5d) return out
      if (c !== 0x2c) this.fail("expected ',' or ']'", this.pos - 1)
    }
  }

  /** A string at `pos` (which is its opening quote). */
  private string(): string {
    const buf = this.buf
    let i = this.pos + 1
    let from = i
    let out = ''
    for (;;) {
      if (i >= buf.length) return this.endOfInput(i)
      const b = buf[i]!
      if (b === 0x22) break
      if (b < 0x20) this.fail('control character in a string', i)
      if (b !== 0x5c) {
        i++
        continue
      }
      // Escapes are rare (addresses, hex and numbers have none): decode the run before one, then it.
      out += buf.toString('utf8', from, i)
      if (i + 1 >= buf.length) return this.endOfInput(i + 1)
      const e = buf[i + 1]!
      if (e === 0x75) {
        if (i + 6 > buf.length) return this.endOfInput(buf.length)
        const code = parseHex4(buf, i + 2)
        if (code < 0) this.fail('bad \\u escape', i)
        // One UTF-16 unit per escape, surrogates included: pairs join up as in JSON.parse.
        out += String.fromCharCode(code)
        i += 6
      } else {
        const unescaped = SIMPLE_ESCAPES[e]
        if (unescaped === undefined) this.fail('bad escape in a string', i)
        out += unescaped
        i += 2
      }
      from = i
    }
    // UTF-8 never has a quote, backslash or control byte inside a multi-byte character, so runs cut
    // at those bytes decode as the whole string would.
    out += buf.toString('utf8', from, i)
    this.pos = i + 1
    this.skipWhitespace()
    return out
  }

  private number(): number {
    const buf = this.buf
    const start = this.pos
    let i = start
    if (buf[i] === 0x2d) i++
    if (this.byteAt(i) === 0x30) {
      i++
    } else {
      i = this.digits(i)
    }
    if (this.byteAt(i) === 0x2e) i = this.digits(i + 1)
    const e = this.byteAt(i)
    if (e === 0x65 || e === 0x45) {
      i++
      const sign = this.byteAt(i)
      if (sign === 0x2b || sign === 0x2d) i++
      i = this.digits(i)
    }
    // A number runs to the first byte that cannot continue it, which must be here to know it ended.
    this.byteAt(i)
    this.pos = i
    const value = Number(buf.toString('latin1', start, i))
    this.skipWhitespace()
    return value
  }

  /** One or more digits from `i`; returns the position after them. */
  private digits(i: number): number {
    const first = this.byteAt(i)
    if (first < 0x30 || first > 0x39) this.fail('bad number', i)
    i++
    for (;;) {
      const c = this.byteAt(i)
      if (c < 0x30 || c > 0x39) return i
      i++
    }
  }

  private literal<T extends boolean | null>(word: string, value: T): T {
    const buf = this.buf
    for (let k = 0; k < word.length; k++) {
      const at = this.pos + k
      if (at >= buf.length) return this.endOfInput(at)
      if (buf[at] !== word.charCodeAt(k)) this.fail('expected a JSON value', this.pos)
    }
    this.pos += word.length
    this.skipWhitespace()
    return value
  }

  /**
   * The byte at `i`, or -1 at the end of the file; throws INCOMPLETE at the end of the buffer
   * before it (what follows decides where a number ends).
   */
  private byteAt(i: number): number {
    if (i < this.buf.length) return this.buf[i]!
    if (this.eof) return -1
    throw INCOMPLETE
  }

  /** The next non-whitespace byte (not consumed). */
  private peek(): number {
    this.skipWhitespace()
    if (this.pos >= this.buf.length) return this.endOfInput(this.pos)
    return this.buf[this.pos]!
  }

  /** Consumes `byte` (after whitespace) and the whitespace after it. */
  private expect(byte: number, reason: string): void {
    if (this.peek() !== byte) this.fail(reason)
    this.pos++
    this.skipWhitespace()
  }

  private skipWhitespace(): void {
    const buf = this.buf
    let i = this.pos
    while (i < buf.length) {
      const c = buf[i]!
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break
      i++
    }
    this.pos = i
  }

  private endOfInput(at: number): never {
    if (this.eof) this.fail('unexpected end of file', at)
    throw INCOMPLETE
  }

  private fail(reason: string, at = this.pos): never {
    throw new GenesisSyntaxError(reason, this.base + at)
  }
}

const SIMPLE_ESCAPES: Array<string | undefined> = []
for (const [c, s] of [
  ['"', '"'],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
] as const) {
  SIMPLE_ESCAPES[c.charCodeAt(0)] = s
}

const HEX4 = /^[0-9a-fA-F]{4}$/

/** The four hex digits at `buf[at..]` as a number, or -1 (rare: only `\u` escapes get here). */
function parseHex4(buf: Buffer, at: number): number {
  const digits = buf.toString('latin1', at, at + 4)
  return HEX4.test(digits) ? Number.parseInt(digits, 16) : -1
}

/** `out[key] = value` as JSON.parse does it: `__proto__` is an own property, not the prototype. */
function setField(out: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  else out[key] = value
}

/** The alloc entries of `genesis`: from memory, or streamed from its file when it is too big to hold (`allocFile`). */
export async function* genesisAllocEntries(genesis: GenesisFile): AsyncIterable<GenesisAllocEntry> {
  if (genesis.allocFile === undefined) yield* Object.entries(genesis.alloc)
  else yield* openGenesisStream(genesis.allocFile.path).alloc
}
