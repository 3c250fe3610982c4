/** The prover's options (`--prover.*`). */
export interface ProverOptions {
  /** How often the factory and the games it plays are read (ms). */
  pollMs: number
  /**
   * How far back (seconds of L1 time before now) the start-up scan of the factory looks for games: a game lasts at
   * most two max clocks, then waits the credit delay; older games are over and paid out. Added to that bound.
   */
  lookbackMarginSeconds: bigint
}

export const DEFAULT_PROVER_OPTIONS: Readonly<ProverOptions> = Object.freeze({
  pollMs: 1000,
  lookbackMarginSeconds: 3600n,
})
