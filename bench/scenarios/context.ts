import type { ServerKind, ServerOptions } from '../lib/servers.ts'

export interface BenchContext {
  quick: boolean
  servers: ServerKind[]
  /** Load-generator processes for max-rate submission. */
  generators: number
  /** Requests in flight, across generators. */
  concurrency: number
  batchSize: number
  serverOpts: ServerOptions
  log: (line: string) => void
}

export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a'
export const round = (n: number, digits = 2): number => Number(n.toFixed(digits))
