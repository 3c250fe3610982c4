import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { DerivedOutputs } from '../../src/node/prover-outputs.ts'

const logger = pino({ level: 'silent' })
const root = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`
const line = (n: number): string => JSON.stringify({ b: String(n), r: root(n), h: '0xc0', p: root(n + 1) })

/** A chain at `head` that has none of its blocks any more: an output is known only if the file recorded it. */
function chainAt(head: bigint): Parameters<typeof DerivedOutputs.open>[1] {
  return { head: { header: { number: head } }, blockByNumber: async () => undefined } as unknown as Parameters<
    typeof DerivedOutputs.open
  >[1]
}

describe('the prover’s derived outputs file', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prover-outputs-'))
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('forgets outputs below the retained block and rewrites the file without them, rewinds and torn lines applied', async () => {
    const path = join(dir, 'prover-outputs.jsonl')
    const lines = Array.from({ length: 3000 }, (_, i) => line(i + 1))
    lines.push(JSON.stringify({ rewind: '2900' }), '{"b":"29')
    await writeFile(path, `${lines.join('\n')}\n`)

    const outputs = await DerivedOutputs.open(path, chainAt(5000n), logger)
    assert.equal((await outputs.outputAt(2600n)).root, root(2600))
    await outputs.retainFrom(2500n)

    const kept = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { b: string; r: string })
    assert.deepEqual(
      kept.map((l) => Number(l.b)),
      Array.from({ length: 401 }, (_, i) => 2500 + i),
    )
    assert.ok(kept.every((l) => l.r === root(Number(l.b))))

    // Reopened from the compacted file: the same outputs, nothing below the retained block.
    const reopened = await DerivedOutputs.open(path, chainAt(5000n), logger)
    assert.equal((await reopened.outputAt(2900n)).messagePasserStorageRoot, root(2901))
    await assert.rejects(reopened.outputAt(2499n), /block 2499 is not derived/)
  })

  it('leaves a file with few dead lines as it is', async () => {
    const path = join(dir, 'few.jsonl')
    const text = `${Array.from({ length: 50 }, (_, i) => line(i + 1)).join('\n')}\n`
    await writeFile(path, text)
    const outputs = await DerivedOutputs.open(path, chainAt(100n), logger)
    await outputs.retainFrom(40n)
    assert.equal(await readFile(path, 'utf8'), text)
    await assert.rejects(outputs.outputAt(39n), /block 39 is not derived/)
    assert.equal((await outputs.outputAt(40n)).root, root(40))
  })
})
