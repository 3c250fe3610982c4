// The resilience campaign runner (issue 20): runs every campaign under test/resilience in its long form
// (RESILIENCE_LONG=1; each writes bench/results/resilience/<campaign>.json), then rebuilds
// bench/results/resilience/report.md: one table row per campaign report on disk.
// Usage: node scripts/resilience.mjs [--report-only] [test file or folder …]   (npm run resilience)
//   --report-only   rebuild report.md from the JSON reports present, run nothing
//   paths           run only these campaigns (default: test/resilience)
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const resultsDir = join(root, 'bench', 'results', 'resilience')

/** `{a: 1, b: 2}` as `a 1, b 2` (a report's tried/checked counts in one cell). */
function counts(record) {
  const entries = Object.entries(record ?? {})
  return entries.length === 0 ? '–' : entries.map(([k, v]) => `${k} ${v}`).join(', ')
}

function duration(ms) {
  if (typeof ms !== 'number') return '–'
  const s = Math.round(ms / 1000)
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`
}

/** Markdown table cell: no pipes or line breaks from the data. */
const cell = (text) => String(text).replaceAll('|', '\\|').replaceAll('\n', ' ')

/** Reads every `<campaign>.json` in the results folder; a file that does not parse is reported, not skipped silently. */
export function readReports(dir = resultsDir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      try {
        return { file: name, report: JSON.parse(readFileSync(join(dir, name), 'utf8')) }
      } catch (error) {
        return { file: name, error: error instanceof Error ? error.message : String(error) }
      }
    })
}

/** The report.md text for `reports` (from `readReports`). */
export function renderReport(reports, generatedAt = new Date().toISOString()) {
  const lines = [
    '# Resilience campaign results',
    '',
    `Rebuilt ${generatedAt} by \`node scripts/resilience.mjs\` from the \`<campaign>.json\` reports in this folder`,
    "(each written by its campaign's long form, `npm run resilience`). `lost` counts acknowledged data missing or",
    'changed afterwards: every campaign asserts it is 0 before writing its report. Replay a run with',
    '`RESILIENCE_SEED=<seed> RESILIENCE_LONG=1 node scripts/run-tests.mjs test/resilience/<campaign>.test.ts`.',
    '',
    '| campaign | seed | tried | checked | lost | findings | duration | finished |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  const bad = []
  for (const { file, report, error } of reports) {
    if (report === undefined) {
      bad.push(`- \`${file}\`: not valid JSON (${error})`)
      continue
    }
    const findings = Array.isArray(report.findings) ? report.findings : []
    lines.push(
      `| ${cell(report.campaign ?? file)} | ${cell(report.seed ?? '–')} | ${cell(counts(report.tried))} | ${cell(counts(report.checked))} | ` +
        `${cell(report.lost ?? '–')} | ${findings.length === 0 ? 'none' : cell(findings.length)} | ${duration(report.durationMs)} | ` +
        `${cell(report.finishedAt ?? '–')} |`,
    )
  }
  if (reports.length === 0) lines.push('| (no campaign report yet) | | | | | | | |')
  const withFindings = reports.filter(({ report }) => Array.isArray(report?.findings) && report.findings.length > 0)
  if (withFindings.length > 0) {
    lines.push('', '## Findings', '')
    for (const { report } of withFindings) for (const f of report.findings) lines.push(`- **${report.campaign}**: ${f}`)
  }
  const withMeasured = reports.filter(({ report }) => report?.measured !== undefined && Object.keys(report.measured).length > 0)
  if (withMeasured.length > 0) {
    lines.push('', '## Measured', '')
    for (const { report } of withMeasured) lines.push(`- **${report.campaign}**: ${counts(report.measured)}`)
  }
  if (bad.length > 0) lines.push('', '## Unreadable reports', '', ...bad)
  return `${lines.join('\n')}\n`
}

function writeReport() {
  const reports = readReports()
  const path = join(resultsDir, 'report.md')
  writeFileSync(path, renderReport(reports))
  process.stdout.write(`resilience: ${path} (${reports.length} campaign report(s))\n`)
  return reports
}

function main() {
  const args = process.argv.slice(2)
  const reportOnly = args.includes('--report-only')
  const paths = args.filter((a) => !a.startsWith('--'))
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--report-only')
  if (unknown.length > 0) {
    process.stderr.write(`resilience: unknown flag(s) ${unknown.join(' ')} (usage: [--report-only] [paths…])\n`)
    process.exit(2)
  }
  let status = 0
  if (!reportOnly) {
    const started = Date.now()
    const result = spawnSync(
      process.execPath,
      [join(root, 'scripts', 'run-tests.mjs'), ...(paths.length > 0 ? paths : ['test/resilience'])],
      {
        cwd: root,
        stdio: 'inherit',
        env: { ...process.env, RESILIENCE_LONG: '1' },
      },
    )
    status = result.status ?? 1
    process.stdout.write(`resilience: campaigns ran for ${duration(Date.now() - started)} (exit ${status})\n`)
  }
  mkdirSync(resultsDir, { recursive: true })
  const reports = writeReport()
  // A report whose `lost` is not 0 cannot come from a passing campaign: fail loudly if one is on disk.
  const lossy = reports.filter(({ report }) => report !== undefined && report.lost !== 0)
  if (lossy.length > 0) {
    process.stderr.write(`resilience: reports with lost ≠ 0: ${lossy.map(({ file }) => file).join(', ')}\n`)
    status ||= 1
  }
  process.exit(status)
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main()
