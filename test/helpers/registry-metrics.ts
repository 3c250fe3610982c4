/** Reading an in-process prom-client registry in unit tests (a node process's metrics: node-observations.ts). */
import type { Registry } from 'prom-client'

/** The sum of metric `name`'s values whose labels include `labels`. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)
  let total = 0
  for (const v of (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[])
    if (Object.entries(labels).every(([k, want]) => v.labels[k] === want)) total += v.value
  return total
}
