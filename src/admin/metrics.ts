import { Counter, type Registry } from 'prom-client'
import type { RpcMetrics } from '../rpc/index.ts'

export const ADMIN_REQUESTS_METRIC = 'megaeth_admin_requests_total'

export type AdminOutcome = 'ok' | 'error' | 'unauthorized'

export interface AdminMetrics extends RpcMetrics {
  /** A request refused before dispatch (no or bad token): counted without a method (none was read). */
  observeUnauthorized(): void
}

/** `megaeth_admin_requests_total{method,outcome}`; method is a registered admin method, `other`, or `none` (refused). */
export function createAdminMetrics(registry: Registry): AdminMetrics {
  const existing = registry.getSingleMetric(ADMIN_REQUESTS_METRIC)
  const counter =
    existing instanceof Counter
      ? (existing as Counter<'method' | 'outcome'>)
      : new Counter<'method' | 'outcome'>({
          name: ADMIN_REQUESTS_METRIC,
          help: 'Admin API requests, by method and outcome (ok, error, unauthorized)',
          labelNames: ['method', 'outcome'],
          registers: [registry],
        })
  return {
    // Labels are bounded: the dispatcher passes registered names or `other`.
    observeRequest: (method, _seconds, ok) => counter.inc({ method, outcome: ok ? 'ok' : 'error' }),
    observeUnauthorized: () => counter.inc({ method: 'none', outcome: 'unauthorized' }),
  }
}
