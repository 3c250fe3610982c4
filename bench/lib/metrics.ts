/** Prometheus text scraping for megaeth-node's /metrics: histograms as bucket maps, deltas, quantiles. */

export type Samples = Map<string, number>

export async function scrape(url: string): Promise<Samples> {
  const res = await fetch(url)
  const text = await res.text()
  const out: Samples = new Map()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const sp = line.lastIndexOf(' ')
    // Drop the constant role label so keys are stable.
    const key = line
      .slice(0, sp)
      .replace(/,?role="[^"]*"/, '')
      .replace('{,', '{')
      .replace('{}', '')
    out.set(key, Number(line.slice(sp + 1)))
  }
  return out
}

export interface HistogramDelta {
  count: number
  sum: number
  mean: number
  /** upper bound (seconds) → cumulative count */
  buckets: Array<[number, number]>
  p50: number
  p99: number
}

/** The observations of histogram `name` (optionally one label set) between two scrapes. */
export function histogramDelta(before: Samples, after: Samples, name: string, label = ''): HistogramDelta {
  const get = (s: Samples, k: string): number => s.get(k) ?? 0
  const buckets: Array<[number, number]> = []
  for (const [k] of after) {
    if (!k.startsWith(`${name}_bucket{`)) continue
    const labels = k.slice(`${name}_bucket{`.length, -1)
    const m = /le="([^"]+)"/.exec(labels)
    if (m === null) continue
    const rest = labels.replace(m[0], '').replace(/^,|,$/g, '')
    if (rest !== label) continue
    buckets.push([m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), get(after, k) - get(before, k)])
  }
  buckets.sort((a, b) => a[0] - b[0])
  const suffix = label === '' ? '' : `{${label}}`
  const count = get(after, `${name}_count${suffix}`) - get(before, `${name}_count${suffix}`)
  const sum = get(after, `${name}_sum${suffix}`) - get(before, `${name}_sum${suffix}`)
  const q = (p: number): number => {
    const target = (p / 100) * count
    let prevLe = 0
    let prevCount = 0
    for (const [le, c] of buckets) {
      if (c >= target && count > 0) {
        if (!Number.isFinite(le)) return prevLe
        // Linear interpolation inside the bucket, as Prometheus' histogram_quantile does.
        return prevLe + (le - prevLe) * ((target - prevCount) / Math.max(1e-12, c - prevCount))
      }
      prevLe = le
      prevCount = c
    }
    return Number.NaN
  }
  return { count, sum, mean: count === 0 ? Number.NaN : sum / count, buckets, p50: q(50), p99: q(99) }
}

export function counterDelta(before: Samples, after: Samples, key: string): number {
  return (after.get(key) ?? 0) - (before.get(key) ?? 0)
}
