/** Result files: per-scenario JSON, summary.json, summary.md, and hand-written SVG bar charts. */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url))

export interface Environment {
  date: string
  node: string
  platform: string
  machine: { cores: number; cpuModel: string; memoryGb: number; loadavgAtStart: number[] }
  command: string
  packageVersion: string
  /** The megaeth-node source measured: git HEAD and how many files under src/ differ from it. */
  source: { dir: string; commit: string; dirtySrcFiles: number }
}

function gitInfo(dir: string): { commit: string; dirtySrcFiles: number } {
  try {
    const commit = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
    const dirty = execFileSync('git', ['-C', dir, 'status', '--porcelain', '--', 'src', 'bin'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    return { commit, dirtySrcFiles: dirty.split('\n').filter((l) => l.trim() !== '').length }
  } catch {
    // A `git archive` snapshot: the recipe in bench/README.md leaves the commit in .source-commit.
    const file = `${dir.replace(/\/$/, '')}/.source-commit`
    return {
      commit: existsSync(file) ? `${readFileSync(file, 'utf8').trim()} (snapshot)` : 'unknown (not a git checkout)',
      dirtySrcFiles: 0,
    }
  }
}

export function environment(command: string, packageVersion: string, nodeDir: string): Environment {
  return {
    source: { dir: nodeDir, ...gitInfo(nodeDir) },
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    machine: {
      cores: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGb: Math.round(totalmem() / 2 ** 30),
      loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    },
    command,
    packageVersion,
  }
}

export function writeJson(name: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true })
  const path = `${RESULTS_DIR}${name}`
  writeFileSync(path, `${JSON.stringify(data, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`)
  return path
}

export function writeText(name: string, text: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true })
  const path = `${RESULTS_DIR}${name}`
  writeFileSync(path, text)
  return path
}

export interface BarGroup {
  label: string
  bars: Array<{ series: string; value: number | null; note?: string }>
}

const COLORS: Record<string, string> = { 'megaeth-node': '#2563eb', anvil: '#f97316' }
const FALLBACK = ['#2563eb', '#f97316', '#10b981', '#a855f7']

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** A grouped vertical bar chart as standalone SVG (no dependencies). */
export function barChartSvg(opts: {
  title: string
  subtitle?: string
  unit: string
  groups: BarGroup[]
  series: string[]
  width?: number
}): string {
  const W = opts.width ?? 720
  const H = 400
  const m = { top: 64, right: 24, bottom: 64, left: 72 }
  const plotW = W - m.left - m.right
  const plotH = H - m.top - m.bottom
  const max = Math.max(1, ...opts.groups.flatMap((g) => g.bars.map((b) => b.value ?? 0)))
  const mag = 10 ** Math.floor(Math.log10(max))
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => max / s <= 6) ?? mag * 10
  const top = Math.ceil(max / step) * step
  const y = (v: number): number => Number((m.top + plotH - (v / top) * plotH).toFixed(1))
  const groupW = plotW / opts.groups.length
  const barW = Math.min(80, (groupW * 0.7) / opts.series.length)
  const fmtN = (v: number): string => (v >= 100 ? Math.round(v).toLocaleString('en-US') : Number(v.toFixed(2)).toString())
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
  )
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`)
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="600">${esc(opts.title)}</text>`)
  if (opts.subtitle !== undefined)
    out.push(`<text x="${W / 2}" y="42" text-anchor="middle" fill="#555">${esc(opts.subtitle)}</text>`)
  for (let v = 0; v <= top + 1e-9; v += step) {
    out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`)
    out.push(`<text x="${m.left - 8}" y="${y(v) + 4}" text-anchor="end" fill="#555">${fmtN(v)}</text>`)
  }
  out.push(
    `<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(opts.unit)}</text>`,
  )
  opts.groups.forEach((g, gi) => {
    const gx = Number((m.left + gi * groupW + (groupW - barW * opts.series.length) / 2).toFixed(1))
    opts.series.forEach((s, si) => {
      const bar = g.bars.find((b) => b.series === s)
      const x = gx + si * barW
      const color = COLORS[s] ?? FALLBACK[si % FALLBACK.length]!
      if (bar === undefined || bar.value === null || !Number.isFinite(bar.value)) {
        out.push(`<text x="${x + barW / 2}" y="${y(0) - 6}" text-anchor="middle" fill="#999">n/a</text>`)
        return
      }
      out.push(
        `<rect x="${x + 2}" y="${y(bar.value)}" width="${barW - 4}" height="${y(0) - y(bar.value)}" fill="${color}" rx="2"><title>${esc(`${s}: ${fmtN(bar.value)} ${opts.unit}`)}</title></rect>`,
      )
      out.push(
        `<text x="${x + barW / 2}" y="${y(bar.value) - 6}" text-anchor="middle" font-weight="600">${fmtN(bar.value)}</text>`,
      )
      if (bar.note !== undefined)
        out.push(
          `<text x="${x + barW / 2}" y="${y(bar.value) - 20}" text-anchor="middle" fill="#555" font-size="10">${esc(bar.note)}</text>`,
        )
    })
    out.push(
      `<text x="${m.left + gi * groupW + groupW / 2}" y="${m.top + plotH + 20}" text-anchor="middle" fill="#111">${esc(g.label)}</text>`,
    )
  })
  out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${y(0)}" y2="${y(0)}" stroke="#111"/>`)
  let lx = m.left
  opts.series.forEach((s, si) => {
    const color = COLORS[s] ?? FALLBACK[si % FALLBACK.length]!
    out.push(
      `<rect x="${lx}" y="${H - 24}" width="12" height="12" fill="${color}" rx="2"/><text x="${lx + 18}" y="${H - 14}">${esc(s)}</text>`,
    )
    lx += 30 + s.length * 7
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
