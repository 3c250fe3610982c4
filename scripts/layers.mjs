// The layer order of src/, declared once, and its checker. test/unit/layers.test.ts runs the checker on
// every import in src/ (so `npm test` fails on a back-import or a cycle); `node scripts/layers.mjs`
// prints the same report, and `--edges` the folder → folder import counts. Plain JS: tests import it
// (types in layers.d.mts) and it runs without tsx.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

/** The files directly in src/ (cli.ts, config.ts, options.ts, node.ts): the composition root. */
export const ROOT_FILES = '(root)'

/**
 * src/'s folders, bottom up. A folder imports only folders of lower levels; folders of one level
 * (the roles, p2p and rpc, …) never import each other. A new folder must be placed here before it
 * can import or be imported.
 */
export const LAYERS = [
  ['util', 'metrics'], // process plumbing, the Prometheus registry
  ['primitives'], // hex/bytes, RLP fields, state-diff and block-access types
  ['crypto'], // native keccak + secp256k1, KZG
  ['trie'], // our MPT, ordered tries, proofs, witness node collection
  ['state'], // flat state, readers, history, the journaled state, access recording
  ['chain'], // chain config, genesis data, block / mini-block / receipt types and codecs
  ['storage'], // level stores (no engine inside)
  ['execution'], // VM factory, executors, eth_call, the merkleizer thread
  ['stateless'], // witnesses and stateless verification
  ['p2p', 'rpc', 'blocktest', 'dashboard'], // transports, the consensus-test runner that drives execution + stateless, the dashboard's files
  ['bridge'], // L1 contract bindings, L1 watcher
  ['da'], // batch codec, L1 reader / writer
  ['derive'], // derivation pipeline
  ['sequencer', 'replica', 'prover'], // roles: never import each other
  ['admin'], // the admin API: acts on the roles through interfaces it defines (node.ts adapts the roles)
  ['node'], // composition: bootstrap (datadir, genesis, merkleizer), services per role
  [ROOT_FILES], // cli.ts, config.ts, options.ts, node.ts: flags → options → a composed role
]

const SOURCE = /\.(ts|mts|mjs|js)$/
// Worker entries are loaded by URL, not imported: `new Worker(new URL('./thread-entry.mjs', import.meta.url))`.
const URL_REFERENCE = /new\s+URL\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*,\s*import\.meta\.url\s*\)/g

/** Every relative module a source file refers to: static and type imports, re-exports, `import()`, and `new URL(…, import.meta.url)`. */
export function relativeImports(_fileName, text) {
  const { importedFiles } = ts.preProcessFile(text, true, true)
  const specifiers = importedFiles.map((f) => f.fileName)
  for (const match of text.matchAll(URL_REFERENCE)) specifiers.push(match[2])
  return specifiers.filter((s) => s.startsWith('./') || s.startsWith('../'))
}

/** The folder (first path segment under src/) a src-relative path belongs to. */
export function folderOf(path) {
  const parts = path.split('/')
  return parts.length > 1 ? parts[0] : ROOT_FILES
}

/** src/'s source files, as src-relative paths (with `/`) → text. */
export function readSources(srcDir) {
  const files = new Map()
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (SOURCE.test(entry.name)) files.set(relative(srcDir, path).split(sep).join('/'), readFileSync(path, 'utf8'))
    }
  }
  walk(srcDir)
  return files
}

/**
 * Checks `files` (src-relative path → text) against `layers`. Returns the import edges between
 * folders and the problems: folders missing from the order, imports out of src/, imports against the
 * order, and cycles between folders (one per tangle of folders, in import order).
 */
export function checkLayers(files, layers = LAYERS) {
  const level = new Map()
  layers.forEach((folders, i) => folders.forEach((folder) => level.set(folder, i)))
  const problems = []
  const edges = new Map() // 'from -> to' → ['file => target', …]
  const undeclared = new Set()
  for (const [file, text] of files) {
    const from = folderOf(file)
    if (!level.has(from)) undeclared.add(from)
    for (const specifier of relativeImports(file, text)) {
      const target = normalize(join(dirname(file), specifier))
        .split(sep)
        .join('/')
      if (target.startsWith('../')) {
        problems.push(`${file}: imports ${specifier}, outside src/`)
        continue
      }
      const to = folderOf(target)
      if (to === from) continue
      const key = `${from} -> ${to}`
      if (!edges.has(key)) edges.set(key, [])
      edges.get(key).push(`${file} => ${target}`)
    }
  }
  for (const folder of undeclared) problems.push(`src/${folder}/ is not in the layer order (scripts/layers.mjs): place it there`)
  for (const [key, imports] of edges) {
    const [from, to] = key.split(' -> ')
    if (!level.has(from) || !level.has(to)) continue
    const relation =
      level.get(to) === level.get(from)
        ? 'a folder of its own level'
        : level.get(to) > level.get(from)
          ? 'a higher layer'
          : undefined
    if (relation === undefined) continue
    for (const line of imports) problems.push(`${line}: ${from}/ imports ${to}/, ${relation}`)
  }
  const cycles = folderCycles(edges)
  for (const cycle of cycles) problems.push(`import cycle between folders: ${[...cycle, cycle[0]].join(' -> ')}`)
  return { problems, edges, cycles }
}

/** A cycle for each strongly connected component of the folder graph with more than one folder (Tarjan). */
function folderCycles(edges) {
  const next = new Map()
  for (const key of edges.keys()) {
    const [from, to] = key.split(' -> ')
    if (!next.has(from)) next.set(from, [])
    if (!next.has(to)) next.set(to, [])
    next.get(from).push(to)
  }
  const index = new Map()
  const low = new Map()
  const stack = []
  const onStack = new Set()
  const components = []
  let counter = 0
  const visit = (node) => {
    index.set(node, counter)
    low.set(node, counter)
    counter++
    stack.push(node)
    onStack.add(node)
    for (const to of next.get(node)) {
      if (!index.has(to)) {
        visit(to)
        low.set(node, Math.min(low.get(node), low.get(to)))
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node), index.get(to)))
    }
    if (low.get(node) === index.get(node)) {
      const component = []
      let member
      do {
        member = stack.pop()
        onStack.delete(member)
        component.push(member)
      } while (member !== node)
      if (component.length > 1) components.push(component)
    }
  }
  for (const node of [...next.keys()].sort()) if (!index.has(node)) visit(node)
  return components.map((component) => cycleThrough(component, next))
}

/** One cycle inside a strongly connected component, from its first folder by name, in import order (breadth first: a shortest one). */
function cycleThrough(component, next) {
  const members = new Set(component)
  const start = [...component].sort()[0]
  const previous = new Map()
  const queue = [start]
  while (queue.length > 0) {
    const node = queue.shift()
    for (const to of next.get(node)) {
      if (!members.has(to)) continue
      if (to === start) {
        const cycle = [node]
        while (cycle[0] !== start) cycle.unshift(previous.get(cycle[0]))
        return cycle
      }
      if (!previous.has(to)) {
        previous.set(to, node)
        queue.push(to)
      }
    }
  }
  return [start]
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src')
  const { problems, edges } = checkLayers(readSources(src))
  if (process.argv.includes('--edges')) for (const [key, imports] of [...edges].sort()) console.log(`${key} ${imports.length}`)
  for (const problem of problems) console.error(problem)
  console.log(problems.length === 0 ? `layers: ${edges.size} folder edges, all in order` : `layers: ${problems.length} problems`)
  process.exitCode = problems.length === 0 ? 0 : 1
}
