import { Counter, Gauge, type Registry } from 'prom-client'

/** What the proposer reports; names under `megaeth_proposer_`. */
export interface ProposerMetrics {
  proposed(l2Block: bigint): void
  setBondsAtStake(wei: bigint): void
  resolved(outcome: 'defender_wins' | 'challenger_wins'): void
  creditClaimed(wei: bigint): void
  anchorUpdated(l2Block: bigint): void
  l1Gas(action: string, gas: bigint): void
  failure(kind: string): void
  setAlarm(on: boolean): void
}

export function createProposerMetrics(registry: Registry): ProposerMetrics {
  const registers = [registry]
  const proposals = new Counter({ name: 'megaeth_proposer_proposals_total', help: 'Games created (output proposals)', registers })
  const latest = new Gauge({
    name: 'megaeth_proposer_latest_proposed_block',
    help: 'L2 block of the newest output proposed by this proposer',
    registers,
  })
  const atStake = new Gauge({
    name: 'megaeth_proposer_bonds_at_stake_wei',
    help: 'Root-claim bonds of this proposer’s games still in progress (wei)',
    registers,
  })
  const resolutions = new Counter({
    name: 'megaeth_proposer_resolutions_total',
    help: 'This proposer’s games resolved, by outcome',
    labelNames: ['outcome'],
    registers,
  })
  const credits = new Counter({ name: 'megaeth_proposer_credits_claimed_total', help: 'Credits claimed', registers })
  const creditWei = new Counter({
    name: 'megaeth_proposer_credits_claimed_wei_total',
    help: 'Wei paid out by claimCredit to the proposer',
    registers,
  })
  const anchor = new Gauge({
    name: 'megaeth_proposer_anchor_block',
    help: 'L2 block of the anchor state last set by the proposer',
    registers,
  })
  const gas = new Counter({
    name: 'megaeth_proposer_l1_gas_total',
    help: 'L1 gas used by the proposer’s transactions, by action',
    labelNames: ['action'],
    registers,
  })
  const failures = new Counter({
    name: 'megaeth_proposer_failures_total',
    help: 'Failed proposer rounds, by kind (l1, output, tx)',
    labelNames: ['kind'],
    registers,
  })
  const alarm = new Gauge({
    name: 'megaeth_proposer_alarm',
    help: '1 while the proposer keeps failing (see its error log)',
    registers,
  })
  return {
    proposed(l2Block) {
      proposals.inc()
      latest.set(Number(l2Block))
    },
    setBondsAtStake(wei) {
      atStake.set(Number(wei))
    },
    resolved(outcome) {
      resolutions.inc({ outcome })
    },
    creditClaimed(wei) {
      credits.inc()
      creditWei.inc(Number(wei))
    },
    anchorUpdated(l2Block) {
      anchor.set(Number(l2Block))
    },
    l1Gas(action, used) {
      gas.inc({ action }, Number(used))
    },
    failure(kind) {
      failures.inc({ kind })
    },
    setAlarm(on) {
      alarm.set(on ? 1 : 0)
    },
  }
}
