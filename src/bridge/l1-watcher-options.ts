/** How the L1 watcher polls and what it keeps. */
export interface L1WatcherOptions {
  /** Poll interval (ms). */
  pollMs: number
  /** L1 blocks below the head before a block becomes an origin (`--l1.confirmations`). */
  confirmations: number
  /** Origins kept behind the oldest one a caller still needs (`prune`), or behind the confirmed head without one. */
  retainOrigins: number
  /** Blocks fetched concurrently while catching up (each: one header and one `eth_getLogs`). */
  fetchConcurrency: number
  /** Longest wait between polls while L1 keeps failing (the wait doubles from `pollMs` up to this). */
  maxBackoffMs: number
  /** The blob base fee update fraction of the L1's fork, when the header cannot tell it (BPO forks). */
  blobBaseFeeUpdateFraction?: bigint
}

export const DEFAULT_L1_WATCHER_OPTIONS: Readonly<L1WatcherOptions> = Object.freeze({
  pollMs: 1000,
  confirmations: 4,
  retainOrigins: 4096,
  fetchConcurrency: 16,
  maxBackoffMs: 30_000,
})

/** Dev chains poll faster: the dev L1 makes a block every 2 s and tests wait on it. */
export const DEV_L1_POLL_MS = 250
