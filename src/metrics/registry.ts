import { collectDefaultMetrics, Registry } from 'prom-client'

/** One Prometheus registry per node (tests run several nodes in one process). */
export function createMetricsRegistry(role: string): Registry {
  const registry = new Registry()
  registry.setDefaultLabels({ role })
  collectDefaultMetrics({ register: registry, prefix: 'megaeth_' })
  return registry
}
