/**
 * The layer order of src/ (declared in scripts/layers.mjs): every import goes down the order, folders
 * of one level never import each other, and there is no cycle between folders. The checker itself is
 * tested on planted file sets, so a green run means the order holds rather than that nothing was read.
 */
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { LAYERS, ROOT_FILES, checkLayers, readSources, relativeImports } from '../../scripts/layers.mjs'

const SRC = fileURLToPath(new URL('../../src', import.meta.url))

test('every import in src/ follows the layer order, with no cycle between folders', () => {
  const files = readSources(SRC)
  const { problems, edges } = checkLayers(files)
  assert.deepEqual(problems, [])
  // The walk saw the tree: the worker entries (.mjs) and the bottom-to-top edges are there.
  assert.ok(
    [...files.keys()].some((f) => f.endsWith('thread-entry.mjs')),
    'the merkleizer worker entry is read',
  )
  assert.ok(edges.has('chain -> primitives') && edges.has(`${ROOT_FILES} -> node`), 'edges between folders are found')
})

test('the checker reads static, type, re-export, dynamic and worker-URL imports, not package imports', () => {
  const text = [
    "import { a } from './a.ts'",
    "import type { B } from '../b/b.ts'",
    "export { c } from './c.ts'",
    "import './side-effect.ts'",
    "const d = await import('./d.ts')",
    "const w = new Worker(new URL('./worker-entry.mjs', import.meta.url))",
    "import { Level } from 'level'",
  ].join('\n')
  assert.deepEqual(
    relativeImports('x/file.ts', text).sort(),
    ['../b/b.ts', './a.ts', './c.ts', './d.ts', './side-effect.ts', './worker-entry.mjs'].sort(),
  )
})

test('the checker catches a planted back-import', () => {
  const files = new Map([
    ['primitives/hex.ts', 'export const x = 1\n'],
    ['chain/block.ts', "import { x } from '../primitives/hex.ts'\nexport const y = x\n"],
    // A primitive reaching up into chain/ (type-only imports count: they tie the layers just the same).
    ['primitives/bad.ts', "import type { y } from '../chain/block.ts'\n"],
  ])
  const { problems } = checkLayers(files)
  assert.equal(problems.length, 2, problems.join('\n'))
  assert.match(problems[0]!, /^primitives\/bad\.ts => chain\/block\.ts: primitives\/ imports chain\/, a higher layer$/)
  assert.match(problems[1]!, /^import cycle between folders: chain -> primitives -> chain$/)
})

test('the checker catches a dynamic import of a higher layer from a worker entry', () => {
  const files = new Map([
    ['trie/thread-entry.mjs', "const { serve } = await import('../execution/merkleizer/thread.ts')\nserve()\n"],
    ['execution/merkleizer/thread.ts', 'export function serve() {}\n'],
  ])
  assert.match(
    checkLayers(files).problems.join('\n'),
    /trie\/thread-entry\.mjs => execution\/merkleizer\/thread\.ts: trie\/ imports execution\/, a higher layer/,
  )
})

test('the checker catches roles importing each other, and a cycle through three folders', () => {
  const roles = new Map([
    ['sequencer/a.ts', "import '../replica/b.ts'\n"],
    ['replica/b.ts', 'export {}\n'],
  ])
  assert.match(checkLayers(roles).problems.join('\n'), /sequencer\/ imports replica\/, a folder of its own level/)

  // A cycle the order alone would report only as back-imports: the cycle is named as such.
  const layers = [['a'], ['b'], ['c']]
  const circle = new Map([
    ['a/x.ts', "import '../c/z.ts'\n"],
    ['b/y.ts', "import '../a/x.ts'\n"],
    ['c/z.ts', "import '../b/y.ts'\n"],
  ])
  const { cycles, problems } = checkLayers(circle, layers)
  assert.deepEqual(cycles, [['a', 'c', 'b']])
  assert.ok(problems.includes('import cycle between folders: a -> c -> b -> a'), problems.join('\n'))
})

test('a folder missing from the order, or an import out of src/, is reported', () => {
  const files = new Map([['gadgets/thing.ts', "import '../../bench/x.ts'\n"]])
  const { problems } = checkLayers(files)
  assert.ok(problems.includes('src/gadgets/ is not in the layer order (scripts/layers.mjs): place it there'), problems.join('\n'))
  assert.ok(
    problems.some((p) => p === 'gadgets/thing.ts: imports ../../bench/x.ts, outside src/'),
    problems.join('\n'),
  )
  // The declared order names each folder once.
  const declared = LAYERS.flat()
  assert.equal(new Set(declared).size, declared.length)
})
