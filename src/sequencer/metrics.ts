import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface SequencerMetrics {
  observeMiniBlock(intervalSeconds: number | undefined, buildSeconds: number, txs: number, gasUsed: bigint): void
  observeRejected(reason: string): void
  observeSeal(merkleSeconds: number, totalSeconds: number, accounts: number, witnessBytes: number): void
  setPool(pending: number, queued: number): void
  /** Transactions the producer takes from the pool for the next mini-block (see `BlockProducer`). */
  setPickLimit(count: number): void
  /** Wait of one eth_sendRawTransactionSync / realtime_sendRawTransaction: decode to durable receipt. */
  observeSyncSend(seconds: number, decodedInline: boolean): void
  /** Reports the executor's count of transactions applied as native transfers (read at scrape time). */
  trackNativeTransfers(count: () => number): void
  /** Reports whether production halted on a failure (a storage write, a seal), read at scrape time: the alarm gauge. */
  trackHalted(halted: () => boolean): void
}

const MS = [0.001, 0.002, 0.005, 0.008, 0.01, 0.011, 0.0125, 0.015, 0.02, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

export function createSequencerMetrics(registry: Registry): SequencerMetrics {
  const interval = new Histogram({
    name: 'megaeth_miniblock_interval_seconds',
    help: 'Time between consecutive mini-blocks',
    buckets: MS,
    registers: [registry],
  })
  const build = new Histogram({
    name: 'megaeth_miniblock_build_seconds',
    help: 'Execution plus WAL fsync time of one mini-block',
    buckets: MS,
    registers: [registry],
  })
  const txs = new Counter({
    name: 'megaeth_transactions_included_total',
    help: 'Transactions included in mini-blocks (rate() gives tx/s)',
    registers: [registry],
  })
  const gas = new Counter({ name: 'megaeth_gas_used_total', help: 'Gas used by included transactions', registers: [registry] })
  const rejected = new Counter({
    name: 'megaeth_transactions_dropped_total',
    help: 'Transactions dropped at execution',
    labelNames: ['reason'],
    registers: [registry],
  })
  const seal = new Histogram({
    name: 'megaeth_seal_seconds',
    help: 'EVM block sealing time by phase',
    labelNames: ['phase'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  const sealAccounts = new Histogram({
    name: 'megaeth_seal_accounts',
    help: 'Accounts merkleized per EVM block',
    buckets: [1, 10, 100, 1000, 5000, 10000, 50000],
    registers: [registry],
  })
  const witness = new Histogram({
    name: 'megaeth_witness_bytes',
    help: 'Encoded state witness size per EVM block',
    buckets: [1e3, 1e4, 1e5, 5e5, 1e6, 5e6, 1e7, 5e7],
    registers: [registry],
  })
  const pool = new Gauge({
    name: 'megaeth_txpool_transactions',
    help: 'Transactions in the pool',
    labelNames: ['kind'],
    registers: [registry],
  })
  const pickLimit = new Gauge({
    name: 'megaeth_miniblock_pick_limit',
    help: 'Transactions taken from the pool per mini-block: the execution budget fits about 2/3 of it',
    registers: [registry],
  })
  const syncSend = new Histogram({
    name: 'megaeth_sync_send_seconds',
    help: 'eth_sendRawTransactionSync and realtime_sendRawTransaction inside the node: decode, pool, mini-block, WAL fsync, receipt',
    labelNames: ['decode'],
    buckets: [0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.02, 0.05, 0.1, 0.5, 1],
    registers: [registry],
  })
  let nativeCount = (): number => 0
  let nativeReported = 0
  new Counter({
    name: 'megaeth_native_transfers_total',
    help: 'Transactions executed as plain value transfers, without the interpreter',
    registers: [registry],
    collect() {
      const count = nativeCount()
      this.inc(count - nativeReported)
      nativeReported = count
    },
  })
  let haltedNow = (): boolean => false
  new Gauge({
    name: 'megaeth_sequencer_halted',
    help: 'Block production halted on a failure (a storage write or a seal; see /readyz): 1 is an alarm, a restart clears it',
    registers: [registry],
    collect() {
      this.set(haltedNow() ? 1 : 0)
    },
  })
  return {
    observeMiniBlock(intervalSeconds, buildSeconds, count, gasUsed) {
      if (intervalSeconds !== undefined) interval.observe(intervalSeconds)
      build.observe(buildSeconds)
      txs.inc(count)
      gas.inc(Number(gasUsed))
    },
    observeRejected(reason) {
      rejected.inc({ reason })
    },
    observeSeal(merkleSeconds, totalSeconds, accounts, witnessBytes) {
      seal.observe({ phase: 'merkleize' }, merkleSeconds)
      seal.observe({ phase: 'total' }, totalSeconds)
      sealAccounts.observe(accounts)
      witness.observe(witnessBytes)
    },
    setPool(pending, queued) {
      pool.set({ kind: 'pending' }, pending)
      pool.set({ kind: 'queued' }, queued)
    },
    observeSyncSend(seconds, decodedInline) {
      syncSend.observe({ decode: decodedInline ? 'inline' : 'worker' }, seconds)
    },
    setPickLimit(count) {
      pickLimit.set(count)
    },
    trackHalted(halted) {
      haltedNow = halted
    },
    trackNativeTransfers(count) {
      nativeCount = count
      nativeReported = count()
    },
  }
}
