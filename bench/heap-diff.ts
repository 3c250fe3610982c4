/**
 * `node --import tsx bench/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [--top=30] [--retainers=GROUP]`: what
 * grew between two heap snapshots of the same process (e.g. the two `npm run bench -- soak
 * --heap-snapshots=DIR` writes). Objects are grouped by V8's node type and name (the constructor for
 * objects, the function for closures, "(object elements)" and the like for internals); the table lists
 * the groups whose shallow size grew most, with their counts before and after.
 *
 * Snapshots of a few hundred MB are too large for one `JSON.parse` (V8's string limit), so the two
 * arrays this needs — `nodes` (flat integers) and `strings` — are cut out of the raw bytes and parsed
 * on their own; the layout comes from the snapshot's own `meta`. `--retainers=GROUP` (a group as the
 * table prints it, e.g. `object:Listener`) adds the most common chains of objects holding that group's
 * members in the second snapshot.
 */
import { readFileSync } from 'node:fs'

interface SnapshotMeta {
  node_fields: string[]
  node_types: [string[], ...unknown[]]
  edge_fields: string[]
  edge_types: [string[], ...unknown[]]
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

interface Snapshot {
  nodes: Float64Array
  edges: Float64Array
  strings: string[]
  nodeWidth: number
  edgeWidth: number
  field: { type: number; name: number; size: number; edgeCount: number }
  edgeField: { type: number; name: number; to: number }
  nodeTypes: string[]
  edgeTypes: string[]
}

function readSnapshot(path: string): Snapshot {
  const raw = readFileSync(path)
  const metaStart = sliceAfter(raw, 'meta')
  const metaEnd = raw.indexOf('"node_count"', metaStart)
  // The meta object ends before the snapshot's counts; cut at its last closing brace.
  const metaText = raw.subarray(metaStart, raw.lastIndexOf(0x7d, metaEnd) + 1).toString('utf8')
  const meta = JSON.parse(metaText) as SnapshotMeta
  const nodes = parseIntArray(raw, sliceAfter(raw, 'nodes'))
  const edges = parseIntArray(raw, sliceAfter(raw, 'edges'))
  const stringsStart = sliceAfter(raw, 'strings')
  const stringsEnd = raw.lastIndexOf(0x5d)
  const strings = JSON.parse(raw.subarray(stringsStart, stringsEnd + 1).toString('utf8')) as string[]
  return {
    nodes,
    edges,
    strings,
    nodeWidth: meta.node_fields.length,
    edgeWidth: meta.edge_fields.length,
    field: {
      type: meta.node_fields.indexOf('type'),
      name: meta.node_fields.indexOf('name'),
      size: meta.node_fields.indexOf('self_size'),
      edgeCount: meta.node_fields.indexOf('edge_count'),
    },
    edgeField: {
      type: meta.edge_fields.indexOf('type'),
      name: meta.edge_fields.indexOf('name_or_index'),
      to: meta.edge_fields.indexOf('to_node'),
    },
    nodeTypes: meta.node_types[0],
    edgeTypes: meta.edge_types[0],
  }
}

/** The group of the node at offset `i` of `nodes`: "type:name" (strings and numbers in one group per type). */
function groupOf(snapshot: Snapshot, i: number): string {
  const type = snapshot.nodeTypes[snapshot.nodes[i + snapshot.field.type]!] ?? '?'
  // Strings and numbers are named by their content: one group each, not one per value.
  const named = !(type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number')
  const name = named ? (snapshot.strings[snapshot.nodes[i + snapshot.field.name]!] ?? '?') : ''
  return `${type}:${name.slice(0, 80)}`
}

function groupsOf(snapshot: Snapshot): { groups: Groups; totalBytes: number; count: number } {
  const groups: Groups = new Map()
  let totalBytes = 0
  for (let i = 0; i < snapshot.nodes.length; i += snapshot.nodeWidth) {
    const key = groupOf(snapshot, i)
    const bytes = snapshot.nodes[i + snapshot.field.size]!
    const group = groups.get(key)
    if (group === undefined) groups.set(key, { count: 1, bytes })
    else {
      group.count++
      group.bytes += bytes
    }
    totalBytes += bytes
  }
  return { groups, totalBytes, count: snapshot.nodes.length / snapshot.nodeWidth }
}

/**
 * The most common retainer chains (up to `depth` non-weak hops up) of the nodes in `group`: what keeps
 * them alive. Each hop is "retainer group .edge name".
 */
function retainerChains(snapshot: Snapshot, group: string, depth: number): Array<[string, number]> {
  const { nodes, edges, nodeWidth, edgeWidth, field, edgeField } = snapshot
  // One retainer per node (the first non-weak edge found): enough to name the structure that holds it.
  const retainer = new Int32Array(nodes.length / nodeWidth).fill(-1)
  const retainerEdge = new Array<string>(nodes.length / nodeWidth)
  let edge = 0
  for (let i = 0; i < nodes.length; i += nodeWidth) {
    const count = nodes[i + field.edgeCount]!
    for (let k = 0; k < count; k++, edge += edgeWidth) {
      const type = snapshot.edgeTypes[edges[edge + edgeField.type]!]
      if (type === 'weak' || type === 'shortcut') continue
      const to = edges[edge + edgeField.to]! / nodeWidth
      if (retainer[to] !== -1) continue
      retainer[to] = i / nodeWidth
      const name = edges[edge + edgeField.name]!
      retainerEdge[to] = type === 'element' || type === 'hidden' ? `[${name}]` : `.${snapshot.strings[name] ?? name}`
    }
  }
  const chains = new Map<string, number>()
  for (let i = 0; i < nodes.length; i += nodeWidth) {
    if (groupOf(snapshot, i) !== group) continue
    const hops: string[] = []
    let at = i / nodeWidth
    for (let d = 0; d < depth && retainer[at] !== -1; d++) {
      const by = retainer[at]!
      // Element indexes make every chain unique: keep the kind of edge, not its index.
      hops.push(`${groupOf(snapshot, by * nodeWidth)} ${retainerEdge[at]!.startsWith('[') ? '[i]' : retainerEdge[at]}`)
      at = by
    }
    const chain = hops.join(' <- ')
    chains.set(chain, (chains.get(chain) ?? 0) + 1)
  }
  return [...chains].sort((a, b) => b[1] - a[1])
}

function main(): void {
  const args = process.argv.slice(2)
  const files = args.filter((a) => !a.startsWith('--'))
  const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 30)
  const retained = args.find((a) => a.startsWith('--retainers='))?.slice(12)
  if (files.length !== 2) {
    process.stderr.write(
      'usage: node --import tsx bench/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [--top=30] [--retainers=GROUP]\n',
    )
    process.exit(2)
  }
  const afterSnapshot = readSnapshot(files[1]!)
  const before = groupsOf(readSnapshot(files[0]!))
  const after = groupsOf(afterSnapshot)
  const mb = (b: number): string => (b / 2 ** 20).toFixed(2)
  process.stdout.write(
    `before: ${before.count} objects, ${mb(before.totalBytes)} MB; after: ${after.count} objects, ${mb(after.totalBytes)} MB\n`,
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
  if (retained !== undefined) {
    process.stdout.write(`\nwhat holds ${retained} in the second snapshot (count, retainer chain):\n`)
    for (const [chain, count] of retainerChains(afterSnapshot, retained, 6).slice(0, 15))
      process.stdout.write(`${String(count).padStart(7)}  ${chain}\n`)
  }
}

main()
