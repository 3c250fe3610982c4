import { Counter, Gauge, type Registry } from 'prom-client'

export interface L1WatcherMetrics {
  setHeads(heads: { head?: bigint; confirmed?: bigint; safe?: bigint; finalized?: bigint }): void
  setCachedOrigins(count: number): void
  observeOrigin(deposits: number): void
  observeReorg(depth: number): void
  observeRpcError(): void
  observeSkippedLog(kind: 'deposit' | 'config'): void
}

export function createL1WatcherMetrics(registry: Registry): L1WatcherMetrics {
  const heads = new Gauge({
    name: 'megaeth_l1_block',
    help: 'L1 block numbers the watcher follows, by kind (head, confirmed, safe, finalized)',
    labelNames: ['kind'],
    registers: [registry],
  })
  const cached = new Gauge({ name: 'megaeth_l1_origins_cached', help: 'L1 origins held in memory', registers: [registry] })
  const origins = new Counter({ name: 'megaeth_l1_origins_total', help: 'Confirmed L1 origins read', registers: [registry] })
  const deposits = new Counter({
    name: 'megaeth_l1_deposits_total',
    help: 'User deposits read from confirmed L1 origins',
    registers: [registry],
  })
  const reorgs = new Counter({
    name: 'megaeth_l1_reorgs_total',
    help: 'L1 reorgs that dropped confirmed origins',
    registers: [registry],
  })
  const reorgDepth = new Gauge({
    name: 'megaeth_l1_last_reorg_depth',
    help: 'Origins dropped by the last L1 reorg',
    registers: [registry],
  })
  const rpcErrors = new Counter({ name: 'megaeth_l1_rpc_errors_total', help: 'Failed L1 polls', registers: [registry] })
  const skipped = new Counter({
    name: 'megaeth_l1_skipped_logs_total',
    help: 'Portal or SystemConfig logs ignored because op-node would reject them',
    labelNames: ['kind'],
    registers: [registry],
  })
  return {
    setHeads(h) {
      for (const kind of ['head', 'confirmed', 'safe', 'finalized'] as const) {
        const value = h[kind]
        if (value !== undefined) heads.set({ kind }, Number(value))
      }
    },
    setCachedOrigins: (count) => cached.set(count),
    observeOrigin(n) {
      origins.inc()
      if (n > 0) deposits.inc(n)
    },
    observeReorg(depth) {
      reorgs.inc()
      reorgDepth.set(depth)
    },
    observeRpcError: () => rpcErrors.inc(),
    observeSkippedLog: (kind) => skipped.inc({ kind }),
  }
}
