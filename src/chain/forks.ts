/**
 * The chain's fork schedule: which Ethereum execution rules apply to a block, by its timestamp.
 *
 * Every chain starts on Cancun (Shanghai and the pre-merge forks are active at block 0); Prague and
 * Osaka activate at the timestamps a geth-style `genesis.json` gives as `config.pragueTime` and
 * `config.osakaTime`. A missing key means "never", as in geth, so a genesis written for the Cancun-only
 * releases of this node keeps its rules. The dev chain runs Osaka from genesis (`OSAKA_FROM_GENESIS`).
 *
 * The schedule is turned into an ethereumjs hardfork list (`chainHardforks`): a `Common` built on it
 * picks the EIPs of a block with `setHardforkBy({ blockNumber, timestamp })`, the way ethereumjs
 * switches forks itself; no EIP is enabled by hand.
 */
import { Hardfork, type HardforkTransitionConfig } from '@ethereumjs/common'
import { NodeError } from '../primitives/errors.ts'

export interface ForkSchedule {
  /** Unix seconds from which Prague applies; undefined: never. */
  pragueTime?: bigint
  /** Unix seconds from which Osaka applies (at or after Prague); undefined: never. */
  osakaTime?: bigint
}

/** The rules of the dev chain and of the chains this release creates by default. */
export const OSAKA_FROM_GENESIS: ForkSchedule = { pragueTime: 0n, osakaTime: 0n }

/** The forks a schedule may name, in activation order, with their geth `genesis.json` keys. */
const SCHEDULED = [
  { fork: Hardfork.Prague, key: 'pragueTime' },
  { fork: Hardfork.Osaka, key: 'osakaTime' },
] as const

/** Forks active at block 0 on every chain (post-merge, Cancun included). */
const GENESIS_FORKS = [
  Hardfork.Chainstart,
  Hardfork.Homestead,
  Hardfork.Dao,
  Hardfork.TangerineWhistle,
  Hardfork.SpuriousDragon,
  Hardfork.Byzantium,
  Hardfork.Constantinople,
  Hardfork.Petersburg,
  Hardfork.Istanbul,
  Hardfork.MuirGlacier,
  Hardfork.Berlin,
  Hardfork.London,
  Hardfork.ArrowGlacier,
  Hardfork.GrayGlacier,
  Hardfork.Paris,
  Hardfork.Shanghai,
  Hardfork.Cancun,
] as const

/** A genesis `config` whose fork times cannot be read or are out of order. */
export class ForkScheduleError extends NodeError<'FORK_SCHEDULE_INVALID', undefined> {
  override name = 'ForkScheduleError'
  constructor(message: string) {
    super('FORK_SCHEDULE_INVALID', message, {
      hint: 'set pragueTime and osakaTime in genesis.json config as seconds, Prague at or before Osaka',
    })
  }
}

/**
 * Reads `pragueTime` and `osakaTime` from a genesis `config` object (numbers or decimal/0x strings).
 * Osaka without Prague, or before it, is refused: Osaka's rules build on Prague's.
 */
export function forkScheduleFromGenesisConfig(config: Record<string, unknown>): ForkSchedule {
  const schedule: ForkSchedule = {}
  for (const { key } of SCHEDULED) {
    const raw = config[key]
    if (raw === undefined || raw === null) continue
    let time: bigint
    try {
      if (typeof raw !== 'number' && typeof raw !== 'string') throw new Error('not a number')
      time = BigInt(raw)
    } catch {
      throw new ForkScheduleError(
        `genesis config.${key}: ${JSON.stringify(raw)} is not a timestamp (use decimal or 0x-hex seconds)`,
      )
    }
    if (time < 0n) throw new ForkScheduleError(`genesis config.${key}: ${time} is negative`)
    schedule[key] = time
  }
  if (schedule.osakaTime !== undefined && (schedule.pragueTime === undefined || schedule.osakaTime < schedule.pragueTime)) {
    throw new ForkScheduleError(`genesis config.osakaTime ${schedule.osakaTime} needs a pragueTime at or before it`)
  }
  return schedule
}

/** The schedule as geth writes it in `genesis.json`'s `config` (what `devGenesis` emits). */
export function forkScheduleToGenesisConfig(schedule: ForkSchedule): Record<string, number> {
  const out: Record<string, number> = {}
  for (const { key } of SCHEDULED) if (schedule[key] !== undefined) out[key] = Number(schedule[key])
  return out
}

/** The ethereumjs hardfork list of a chain following `schedule` (the `hardforks` of its chain config). */
export function chainHardforks(schedule: ForkSchedule): HardforkTransitionConfig[] {
  const list: HardforkTransitionConfig[] = GENESIS_FORKS.map((name) => ({ name, block: 0 }))
  for (const { fork, key } of SCHEDULED) {
    const time = schedule[key]
    if (time !== undefined) list.push({ name: fork, block: null, timestamp: time.toString() })
  }
  return list
}

/** The fork whose rules apply at `timestamp`. */
export function hardforkAt(schedule: ForkSchedule, timestamp: bigint): Hardfork {
  let fork: Hardfork = Hardfork.Cancun
  for (const { fork: next, key } of SCHEDULED) {
    const time = schedule[key]
    if (time !== undefined && time <= timestamp) fork = next
  }
  return fork
}

/** The last fork the schedule reaches (what a chain runs once every scheduled time has passed). */
export function latestScheduledFork(schedule: ForkSchedule): Hardfork {
  return hardforkAt(schedule, BigInt(Number.MAX_SAFE_INTEGER))
}

/**
 * The schedule of an ethereum/tests fixture network: a fork (`Cancun`, `Prague`, `Osaka`) or a
 * transition (`CancunToPragueAtTime15k`, `PragueToOsakaAtTime15k`); undefined for anything else.
 */
export function forkScheduleOfTestNetwork(network: string): ForkSchedule | undefined {
  switch (network) {
    case 'Cancun':
      return {}
    case 'Prague':
      return { pragueTime: 0n }
    case 'Osaka':
      return { pragueTime: 0n, osakaTime: 0n }
    case 'CancunToPragueAtTime15k':
      return { pragueTime: 15_000n }
    case 'PragueToOsakaAtTime15k':
      return { pragueTime: 0n, osakaTime: 15_000n }
    default:
      return undefined
  }
}

/** Whether `fork` (Prague or Osaka) applies at `timestamp`. */
export function forkActiveAt(
  schedule: ForkSchedule,
  fork: typeof Hardfork.Prague | typeof Hardfork.Osaka,
  timestamp: bigint,
): boolean {
  const time = fork === Hardfork.Prague ? schedule.pragueTime : schedule.osakaTime
  return time !== undefined && time <= timestamp
}
