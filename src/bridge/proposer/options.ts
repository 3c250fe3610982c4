/** How the proposer paces itself (`--proposer.*`). */
export interface ProposerOptions {
  /** L2 blocks between proposals: only blocks that are a multiple of it are proposed (`--proposer.interval`). */
  intervalBlocks: bigint
  /** How often L1 and the safe head are looked at (`--proposer.poll-interval`). */
  pollIntervalMs: number
  /** Longest wait between attempts while L1 keeps failing (the wait doubles from the poll interval up to this). */
  maxBackoffMs: number
  /** Consecutive failed rounds before the alarm is raised (error log, `megaeth_proposer_alarm` = 1). */
  alarmAfterFailures: number
}

/**
 * Mainnet-like pacing: one proposal an hour at 1 s blocks (OP proposes about hourly), looked at every 6 s
 * (op-proposer's default poll interval).
 */
export const DEFAULT_PROPOSER_OPTIONS: Readonly<ProposerOptions> = Object.freeze({
  intervalBlocks: 3600n,
  pollIntervalMs: 6_000,
  maxBackoffMs: 60_000,
  alarmAfterFailures: 3,
})

/** `--dev`: a proposal every 10 blocks, so a withdrawal can be proven within seconds. */
export const DEV_PROPOSER_OPTIONS: Readonly<ProposerOptions> = Object.freeze({
  ...DEFAULT_PROPOSER_OPTIONS,
  intervalBlocks: 10n,
  pollIntervalMs: 1_000,
  maxBackoffMs: 10_000,
})
