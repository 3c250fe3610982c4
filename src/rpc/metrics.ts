/**
 * RPC metrics. The server depends only on the `RpcMetrics` interface so tests
 * and alternative backends need no prom-client.
 */
import { Histogram, type Registry } from 'prom-client'

export interface RpcMetrics {
  /**
   * One JSON-RPC call finished. `method` is a registered method name or
   * `other` (the server never passes client-chosen names through, so label
   * cardinality is bounded by the registry). `ok` is false for any error response.
   */
  observeRequest(method: string, seconds: number, ok: boolean): void
}

export const RPC_REQUEST_DURATION_METRIC = 'megaeth_rpc_request_duration_seconds'

/** Label used for methods that are not registered (typos, probes, unsupported namespaces). */
export const OTHER_METHOD_LABEL = 'other'

/**
 * Defence in depth against label blow-up should a caller forget to bucket:
 * beyond this many distinct method labels everything new becomes `other`.
 */
const MAX_METHOD_LABELS = 512

// Sub-millisecond to 10 s: cheap reads sit in the first buckets, eth_call/eth_getLogs in the tail.
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

type Labels = 'method' | 'status'

/** prom-client implementation: histogram `megaeth_rpc_request_duration_seconds{method,status}`, status ∈ {ok,error}. */
export function createRpcMetrics(registry: Registry): RpcMetrics {
  // Reuse on a second call with the same registry instead of throwing "already registered".
  const existing = registry.getSingleMetric(RPC_REQUEST_DURATION_METRIC)
  const histogram =
    existing instanceof Histogram
      ? (existing as Histogram<Labels>)
      : new Histogram<Labels>({
          name: RPC_REQUEST_DURATION_METRIC,
          help: 'JSON-RPC call duration in seconds, by method and outcome',
          labelNames: ['method', 'status'],
          buckets: BUCKETS,
          registers: [registry],
        })
  // One child per (method, status): observing through a labels object hashes the labels on every
  // call, once per transaction of a busy eth_sendRawTransaction batch.
  const children = new Map<string, { ok: { observe(v: number): void }; error: { observe(v: number): void } }>()
  const child = (method: string) => ({
    ok: histogram.labels({ method, status: 'ok' }),
    error: histogram.labels({ method, status: 'error' }),
  })
  return {
    observeRequest(method, seconds, ok) {
      let pair = children.get(method)
      if (pair === undefined) {
        const label = children.size >= MAX_METHOD_LABELS ? OTHER_METHOD_LABEL : method
        pair = children.get(label) ?? child(label)
        children.set(label, pair)
      }
      ;(ok ? pair.ok : pair.error).observe(seconds)
    },
  }
}
