import { Counter, Gauge, type Registry } from 'prom-client'
import type { DiskFlatState } from './disk-flat-state.ts'

/**
 * The disk-backed live state's cache, read at scrape time: misses (each a synchronous LevelDB read on
 * the thread that executes) say whether `--cache` holds the working set; dirty entries that only grow
 * would mean a block whose seal never reported itself durable.
 */
export function registerLiveStateMetrics(registry: Registry, state: DiskFlatState): void {
  const reported = { accounts: 0, codes: 0 }
  new Counter({
    name: 'megaeth_state_cache_misses_total',
    help: 'Reads of the live state the cache could not answer (read from the store), by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      this.inc({ kind: 'account' }, state.missed.accounts - reported.accounts)
      this.inc({ kind: 'code' }, state.missed.codes - reported.codes)
      reported.accounts = state.missed.accounts
      reported.codes = state.missed.codes
    },
  })
  new Gauge({
    name: 'megaeth_state_cache_entries',
    help: 'Accounts and codes held by the live state: cached (evictable) and dirty (written by blocks not yet durable)',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      this.set({ kind: 'cached' }, state.cachedEntries)
      this.set({ kind: 'dirty' }, state.dirtyEntries)
    },
  })
}
