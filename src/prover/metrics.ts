/** The prover's Prometheus metrics (`prover_*`). */
import { Counter, Gauge, type Registry } from 'prom-client'

export interface ProverMetrics {
  gamesSeen: Counter
  gamesAttacked: Counter
  gamesDefended: Counter
  gamesWon: Counter
  gamesLost: Counter
  moves: Counter<'kind'>
  steps: Counter<'outcome'>
  /** Wei bonded in the prover's claims of games still in progress. */
  bondsAtStake: Gauge
  /** Seconds left on the clock of the side to move, per game the prover plays. */
  clockSecondsLeft: Gauge<'game'>
  gamesWaiting: Gauge
  creditClaimed: Counter
  membershipGap: Counter
}

export function createProverMetrics(registry: Registry): ProverMetrics {
  const registers = [registry]
  return {
    gamesSeen: new Counter({
      name: 'megaeth_prover_games_seen_total',
      help: 'Games of the respected type seen in the factory',
      registers,
    }),
    gamesAttacked: new Counter({
      name: 'megaeth_prover_games_attacked_total',
      help: 'Games whose root claim the prover disputes (it attacked the root)',
      registers,
    }),
    gamesDefended: new Counter({
      name: 'megaeth_prover_games_defended_total',
      help: 'Games whose correct root claim the prover defended against an attack',
      registers,
    }),
    gamesWon: new Counter({ name: 'megaeth_prover_games_won_total', help: 'Games it played that resolved its way', registers }),
    gamesLost: new Counter({
      name: 'megaeth_prover_games_lost_total',
      help: 'Games it played that resolved against it',
      registers,
    }),
    moves: new Counter({
      name: 'megaeth_prover_moves_total',
      help: 'Moves made (attack / defend)',
      labelNames: ['kind'],
      registers,
    }),
    steps: new Counter({
      name: 'megaeth_prover_steps_total',
      help: 'Steps tried (ok / reverted / unavailable)',
      labelNames: ['outcome'],
      registers,
    }),
    bondsAtStake: new Gauge({
      name: 'megaeth_prover_bonds_at_stake_wei',
      help: 'Wei bonded in its claims of games in progress',
      registers,
    }),
    clockSecondsLeft: new Gauge({
      name: 'megaeth_prover_game_clock_seconds_left',
      help: 'Seconds left on the clock of the newest claim’s challenger, per game it plays',
      labelNames: ['game'],
      registers,
    }),
    gamesWaiting: new Gauge({
      name: 'megaeth_prover_games_waiting',
      help: 'Games it does not act on yet: their block or L1 head is not derived',
      registers,
    }),
    creditClaimed: new Counter({
      name: 'megaeth_prover_credit_claimed_wei_total',
      help: 'Wei of credit claimed from games',
      registers,
    }),
    membershipGap: new Counter({
      name: 'megaeth_prover_membership_gap_total',
      help: 'Claims it could not judge: a published block whose transactions are not the derived block’s',
      registers,
    }),
  }
}
