/**
 * What a test observes of a running node from outside, so the node runs unchanged: its resident memory and open
 * file descriptors from /proc (Linux), and its Prometheus metrics.
 */
import { readdirSync, readFileSync } from 'node:fs'

/** A process's resident memory (VmRSS), in MiB. */
export function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match === null ? Number.NaN : Number(match[1]) / 1024
}

/** How many file descriptors a process holds open (sockets included). */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length
}

/**
 * The summed value of every sample of `name` in a Prometheus text exposition whose labels include `labels` (0 when
 * there is none). Samples carry the registry's default label (`role`), so a bare name never matches alone.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const sample = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]))
    if (Object.entries(labels).every(([k, v]) => sample[k] === v)) total += Number(match[3])
  }
  return total
}

/** The exposition a node's `/metrics` serves now. */
export async function scrapeMetrics(url: string): Promise<string> {
  return (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text()
}

/** One metric from a fresh scrape (see `metricValue`). */
export async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricValue(await scrapeMetrics(url), name, labels)
}
