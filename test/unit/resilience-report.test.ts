/** The resilience runner's report.md: one row per campaign JSON, findings listed, bad files named. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
// @ts-expect-error: a plain .mjs script without type declarations
import { readReports, renderReport } from '../../scripts/resilience.mjs'

describe('scripts/resilience.mjs report', () => {
  it('renders one row per campaign report, with counts, findings and unreadable files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'resil-report-'))
    try {
      await writeFile(
        join(dir, 'crash.json'),
        JSON.stringify({
          campaign: 'crash',
          seed: 7,
          tried: { sequencerKills: 100, replicaKills: 12 },
          checked: { receipts: 5000 },
          lost: 0,
          findings: ['a | piped finding'],
          measured: { rssMb: 200 },
          durationMs: 754_000,
          finishedAt: '2026-12-07T06:00:00.000Z',
        }),
      )
      await writeFile(join(dir, 'disk.json'), '{ not json')
      await writeFile(join(dir, 'notes.txt'), 'ignored')
      const reports = readReports(dir) as Array<{ file: string }>
      assert.deepEqual(
        reports.map((r) => r.file),
        ['crash.json', 'disk.json'],
      )
      const md = renderReport(reports, 'NOW') as string
      assert.match(md, /\| crash \| 7 \| sequencerKills 100, replicaKills 12 \| receipts 5000 \| 0 \| 1 \| 12 min 34 s \|/)
      assert.match(md, /- \*\*crash\*\*: a \| piped finding/)
      assert.match(md, /- \*\*crash\*\*: rssMb 200/)
      assert.match(md, /`disk.json`: not valid JSON/)
      assert.equal(renderReport([], 'NOW').includes('(no campaign report yet)'), true)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
