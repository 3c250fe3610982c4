/**
 * `node --import tsx bench/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [--top=30]`: what
 * grew between two heap snapshots of the same process (e.g. the two `npm run bench -- soak
 * --heap-snapshots=DIR` writes). Objects are grouped by V8's node type and name (the constructor for
 * objects, the function for closures, "(object elements)" and the like for internals); the table lists
 * the groups whose shallow size grew most, with their counts before and after.
 *
 * Snapshots of a few hundred MB are too large for one `JSON.parse` (V8's string limit), so the two
 * arrays this needs — `nodes` (flat integers) and `strings` — are cut out of the raw bytes and parsed
 * on their own; the layout comes from the snapshot's own `meta`.
 */
import { readFileSync } from 'node:fs'

interface SnapshotMeta {
  node_fields: string[]
  node_types: [string[], ...unknown[]]
}

/** Count and shallow bytes per "type:name" group. */
type Groups = Map<string, { count: number; bytes: number }>

function sliceAfter(raw: Buffer, key: string, from = 0): number {
  const at = raw.indexOf(`"${key}":`, from)
  if (at < 0) throw new Error(`not a heap snapshot: no "${key}" field`)
  return at + key.length + 3
}

/** The flat integer array that starts at `start` (its '['), parsed without building a string of it. */
function parseIntArray(raw: Buffer, start: number): Float64Array {
  let values = new Float64Array(1 << 20)
  let n = 0
  let current = 0
  let inNumber = false
  let i = raw.indexOf(0x5b, start) + 1
  for (; i < raw.length; i++) {
    const c = raw[i]!
    if (c >= 0x30 && c <= 0x39) {
      current = current * 10 + (c - 0x30)
      inNumber = true
      continue
    }
    if (inNumber) {
      if (n === values.length) {
        const grown = new Float64Array(values.length * 2)
        grown.set(values)
        values = grown
      }
      values[n++] = current
      current = 0
      inNumber = false
    }
    if (c === 0x5d) break
  }
  return values.subarray(0, n)
}

function groupsOf(path: string): { groups: Groups; totalBytes: number; nodes: number } {
  const raw = readFileSync(path)
  const metaStart = sliceAfter(raw, 'meta')
  const metaEnd = raw.indexOf('"node_count"', metaStart)
  // The meta object ends before the snapshot's counts; cut at its last closing brace.
  const metaText = raw.subarray(metaStart, raw.lastIndexOf(0x7d, metaEnd) + 1).toString('utf8')
  const meta = JSON.parse(metaText) as SnapshotMeta
  const nodes = parseIntArray(raw, sliceAfter(raw, 'nodes'))
  const stringsStart = sliceAfter(raw, 'strings')
  const stringsEnd = raw.lastIndexOf(0x5d)
  const strings = JSON.parse(raw.subarray(stringsStart, stringsEnd + 1).toString('utf8')) as string[]
  const width = meta.node_fields.length
  const typeAt = meta.node_fields.indexOf('type')
  const nameAt = meta.node_fields.indexOf('name')
  const sizeAt = meta.node_fields.indexOf('self_size')
  const types = meta.node_types[0]
  const groups: Groups = new Map()
  let totalBytes = 0
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]!] ?? '?'
    // Strings and numbers are named by their content: one group each, not one per value.
    const name =
      type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number'
        ? ''
        : strings[nodes[i + nameAt]!]
    const key = `${type}:${(name ?? '?').slice(0, 80)}`
    const bytes = nodes[i + sizeAt]!
    const group = groups.get(key)
    if (group === undefined) groups.set(key, { count: 1, bytes })
    else {
      group.count++
      group.bytes += bytes
    }
    totalBytes += bytes
  }
  return { groups, totalBytes, nodes: nodes.length / width }
}

function main(): void {
  const args = process.argv.slice(2)
  const files = args.filter((a) => !a.startsWith('--'))
  const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 30)
  if (files.length !== 2) {
    process.stderr.write('usage: node --import tsx bench/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [--top=30]\n')
    process.exit(2)
  }
  const before = groupsOf(files[0]!)
  const after = groupsOf(files[1]!)
  const mb = (b: number): string => (b / 2 ** 20).toFixed(2)
  process.stdout.write(
    `before: ${before.nodes} objects, ${mb(before.totalBytes)} MB; after: ${after.nodes} objects, ${mb(after.totalBytes)} MB\n`,
  )
  const rows = [...new Set([...before.groups.keys(), ...after.groups.keys()])].map((key) => {
    const b = before.groups.get(key) ?? { count: 0, bytes: 0 }
    const a = after.groups.get(key) ?? { count: 0, bytes: 0 }
    return { key, countBefore: b.count, countAfter: a.count, growth: a.bytes - b.bytes, bytesAfter: a.bytes }
  })
  rows.sort((x, y) => y.growth - x.growth)
  process.stdout.write('growth MB  after MB  count before → after  group\n')
  for (const r of rows.slice(0, top)) {
    process.stdout.write(
      `${mb(r.growth).padStart(9)}  ${mb(r.bytesAfter).padStart(8)}  ${String(r.countBefore).padStart(9)} → ${String(r.countAfter).padEnd(9)}  ${r.key}\n`,
    )
  }
}

main()
