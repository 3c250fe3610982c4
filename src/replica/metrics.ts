import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface ReplicaMetrics {
  setHead(block: bigint): void
  setVerified(block: bigint, lag: bigint): void
  observeVerified(transactions: number, seconds: number, witnessBytes: number): void
  observeFailure(code: string): void
  observeMiniBlock(): void
  observeSync(kind: string, outcome: 'ok' | 'error'): void
}

export function createReplicaMetrics(registry: Registry): ReplicaMetrics {
  const head = new Gauge({
    name: 'megaeth_replica_head_block',
    help: 'Newest block imported (its state diffs matched its header)',
    registers: [registry],
  })
  const verified = new Gauge({
    name: 'megaeth_replica_verified_block',
    help: 'Newest block verified statelessly from its witness',
    registers: [registry],
  })
  const lag = new Gauge({
    name: 'megaeth_replica_verification_lag_blocks',
    help: 'Imported blocks not yet verified',
    registers: [registry],
  })
  const blocks = new Counter({
    name: 'megaeth_replica_verified_blocks_total',
    help: 'Blocks verified statelessly',
    registers: [registry],
  })
  const txs = new Counter({
    name: 'megaeth_replica_verified_transactions_total',
    help: 'Transactions in blocks verified statelessly',
    registers: [registry],
  })
  const seconds = new Histogram({
    name: 'megaeth_replica_verify_seconds',
    help: 'Stateless verification time of one block (in a worker)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })
  const witness = new Histogram({
    name: 'megaeth_replica_witness_bytes',
    help: 'Witness size per verified block',
    buckets: [1e3, 1e4, 1e5, 5e5, 1e6, 5e6, 1e7, 5e7],
    registers: [registry],
  })
  const failures = new Counter({
    name: 'megaeth_replica_verification_failures_total',
    help: 'Blocks the replica refused, by reason',
    labelNames: ['code'],
    registers: [registry],
  })
  const miniBlocks = new Counter({
    name: 'megaeth_replica_miniblocks_applied_total',
    help: 'Mini-blocks applied to the live state',
    registers: [registry],
  })
  const sync = new Counter({
    name: 'megaeth_replica_sync_requests_total',
    help: 'Sync requests to the sequencer by kind and outcome',
    labelNames: ['kind', 'outcome'],
    registers: [registry],
  })
  return {
    setHead: (n) => head.set(Number(n)),
    setVerified(n, l) {
      verified.set(Number(n))
      lag.set(Number(l))
    },
    observeVerified(transactions, s, bytes) {
      blocks.inc()
      txs.inc(transactions)
      seconds.observe(s)
      witness.observe(bytes)
    },
    observeFailure: (code) => failures.inc({ code }),
    observeMiniBlock: () => miniBlocks.inc(),
    observeSync: (kind, outcome) => sync.inc({ kind, outcome }),
  }
}
