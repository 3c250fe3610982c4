/**
 * `--config file.toml`: the flags as TOML keys, derived mechanically from the flag names. A flag
 * `--a.b-c` is the key `b-c` in table `[a]`, or the dotted key `a.b-c = …`, or the quoted key
 * `"a.b-c" = …` at the top level; a flag without a dot (`--datadir`) is a top-level key. Where a
 * flag is also a prefix of another (`--dev` and `--dev.l1`) TOML cannot hold both as tables, so the
 * longer one takes the quoted form (`"dev.l1" = false`). Values are TOML strings, integers, floats
 * or booleans (checked by the flag's own parser, as on the command line); `p2p.bootnodes` also takes
 * an array of strings. Relative paths in the file (datadir, genesis, key files, …) are relative to
 * the file's directory (config.ts resolves them); on the command line, to the working directory.
 *
 * Every error names the file and the line: TOML syntax errors by smol-toml's position, unknown keys
 * and bad values by the line their key is on (found by a small scan of the text, since the parser
 * keeps no positions for values), unknown keys with the nearest valid key.
 */
import { parse, TomlError } from 'smol-toml'

/** One key of the file, as the flag it sets and the text the flag's parser takes. */
export interface ConfigFileEntry {
  /** The flag name, without `--` (`rpc.port`). */
  key: string
  value: string
  /** 1-based line of the key in the file (0 when it could not be found). */
  line: number
}

/** A problem with the file, as `file:line: message`; config.ts turns it into its `ConfigError`. */
export class ConfigFileProblem extends Error {
  override readonly name = 'ConfigFileProblem'
}

/** Keys whose value may be a TOML array (joined with commas, as the flag takes them). */
const LIST_KEYS: ReadonlySet<string> = new Set(['p2p.bootnodes'])

/**
 * Parses `text` (the content of `path`) into one entry per key, in file order. Throws
 * `ConfigFileProblem` for a syntax error, a key that is not a flag, or a value of the wrong shape.
 */
export function parseConfigFile(path: string, text: string, knownKeys: readonly string[]): ConfigFileEntry[] {
  let document: Record<string, unknown>
  try {
    document = parse(text) as Record<string, unknown>
  } catch (error) {
    if (error instanceof TomlError)
      throw new ConfigFileProblem(`${path}:${error.line}:${error.column}: not valid TOML: ${firstLine(error.message)}`)
    throw error
  }
  const lines = keyLines(text)
  const known = new Set(knownKeys)
  const entries: ConfigFileEntry[] = []
  const visit = (table: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(table)) {
      const key = prefix === '' ? name : `${prefix}.${name}`
      const line = lines.get(key) ?? 0
      const isTable = typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
      // `[dev] l1 = false` is the table of `dev.*` keys even though `dev` is a key itself.
      if (isTable && knownKeys.some((k) => k.startsWith(`${key}.`))) {
        visit(value as Record<string, unknown>, key)
        continue
      }
      if (known.has(key)) {
        entries.push({ key, value: valueText(path, key, line, value), line })
        continue
      }
      const nearest = nearestKey(key, knownKeys)
      throw new ConfigFileProblem(
        `${at(path, line)}unknown key "${key}"${nearest === undefined ? '' : ` (did you mean "${nearest}"?)`}; keys are the flag names (see --help)`,
      )
    }
  }
  visit(document, '')
  return entries.sort((a, b) => a.line - b.line)
}

function at(path: string, line: number): string {
  return line > 0 ? `${path}:${line}: ` : `${path}: `
}

function firstLine(message: string): string {
  return message.replace(/^Invalid TOML document: /, '').split('\n')[0] ?? message
}

function valueText(path: string, key: string, line: number, value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ConfigFileProblem(`${at(path, line)}${key}: expected a finite number`)
    return String(value)
  }
  if (Array.isArray(value) && LIST_KEYS.has(key)) {
    if (!value.every((item) => typeof item === 'string'))
      throw new ConfigFileProblem(`${at(path, line)}${key}: expected an array of strings`)
    return value.join(',')
  }
  const shape = Array.isArray(value) ? 'an array' : value instanceof Date ? 'a date' : 'a table'
  throw new ConfigFileProblem(`${at(path, line)}${key}: expected a string, number or boolean, got ${shape}`)
}

/**
 * The first line each full key is set on: `[table]` headers give the prefix, `a.b = ` or `"a.b" = `
 * the key. Enough for the files a node reads (no multi-line keys); arrays of tables do not occur.
 */
export function keyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>()
  let prefix: string[] = []
  let inMultiline: string | undefined
  text.split(/\r?\n/).forEach((raw, index) => {
    if (inMultiline !== undefined) {
      if (raw.includes(inMultiline)) inMultiline = undefined
      return
    }
    const header = /^\s*\[\s*([^[\]]+?)\s*\]\s*(#.*)?$/.exec(raw)
    if (header !== null) {
      prefix = splitKey(header[1]!)
      return
    }
    const assignment = /^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=(.*)$/.exec(
      raw,
    )
    if (assignment === null) return
    const key = [...prefix, ...splitKey(assignment[1]!)].join('.')
    if (!lines.has(key)) lines.set(key, index + 1)
    // A multi-line string value: skip to its end so its lines are not read as keys.
    const rest = assignment[2]!
    for (const quote of ['"""', "'''"]) {
      const start = rest.indexOf(quote)
      if (start !== -1 && !rest.slice(start + 3).includes(quote)) inMultiline = quote
    }
  })
  return lines
}

function splitKey(key: string): string[] {
  const parts: string[] = []
  for (const match of key.matchAll(/"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+)/g)) parts.push(match[1] ?? match[2] ?? match[3]!)
  return parts
}

/** The known key closest to `key` by edit distance, if any is close enough to be a likely typo. */
export function nearestKey(key: string, knownKeys: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of knownKeys) {
    const distance = editDistance(key, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    previous = current
  }
  return previous[b.length]!
}
