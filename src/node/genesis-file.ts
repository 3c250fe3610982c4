/**
 * `--genesis <file>` → the `GenesisFile` a node starts from. A file up to `STREAM_ABOVE_BYTES` is parsed
 * whole; a bigger one (a 10M-account alloc is ~0.9 GB, past V8's longest string) keeps its alloc in
 * the file (`allocFile`: streamed by the one reader that needs it, a new datadir's initialization) and
 * only its header in memory. Its header comes from the datadir when the datadir has seen these exact
 * bytes (`<datadir>/genesis-header.json`, keyed by the file's SHA-256): a restart hashes the file
 * (native, ~1 GB/s) instead of parsing it, which is what keeps a 10M-account restart in seconds.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { GenesisFile } from '../chain/genesis.ts'
import { type GenesisHeader, openGenesisStream } from '../chain/genesis-stream.ts'
import type { Hex } from '../primitives/state-diff.ts'

/** Files above this are streamed, not parsed whole (JSON.parse holds the text and the objects: ~3× the file). */
export const STREAM_ABOVE_BYTES = 64 * 1024 * 1024
/** The header cache of a streamed genesis, in the datadir. */
export const GENESIS_HEADER_FILE = 'genesis-header.json'

interface HeaderRecord {
  sha256: Hex
  header: GenesisHeader
}

export interface LoadGenesisOptions {
  /** Where a streamed genesis's header is cached (the node's datadir, when it has one). */
  datadir?: string | undefined
  /** Stream files above this many bytes (default `STREAM_ABOVE_BYTES`; tests lower it). */
  streamAboveBytes?: number
}

/** Reads `path`; throws `Error`s with the reason (the caller names the flag). */
export async function loadGenesisFile(path: string, options: LoadGenesisOptions = {}): Promise<GenesisFile> {
  const { size } = await stat(path)
  if (size <= (options.streamAboveBytes ?? STREAM_ABOVE_BYTES)) {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as GenesisFile
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.config !== 'object' || typeof parsed.alloc !== 'object')
      throw new Error('expected an object with "config" and "alloc"')
    return parsed
  }
  const sha256 = await fileSha256(path)
  const recordPath = options.datadir === undefined ? undefined : join(options.datadir, GENESIS_HEADER_FILE)
  let header = recordPath === undefined ? undefined : await cachedHeader(recordPath, sha256)
  if (header === undefined) {
    header = await openGenesisStream(path).header()
    if (recordPath !== undefined && options.datadir !== undefined) {
      await mkdir(options.datadir, { recursive: true })
      const record: HeaderRecord = { sha256, header }
      await writeFile(recordPath, JSON.stringify(record))
    }
  }
  return { ...header, alloc: {}, allocFile: { path, sha256 } }
}

/** The cached header when the record is for these bytes; a missing or unreadable record is a miss. */
async function cachedHeader(recordPath: string, sha256: Hex): Promise<GenesisHeader | undefined> {
  try {
    const record = JSON.parse(await readFile(recordPath, 'utf8')) as HeaderRecord
    return record.sha256 === sha256 && typeof record.header?.config === 'object' ? record.header : undefined
  } catch {
    return undefined
  }
}

async function fileSha256(path: string): Promise<Hex> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer)
  return `0x${hash.digest('hex')}`
}
