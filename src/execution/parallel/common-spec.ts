import type { Common } from '@ethereumjs/common'
import { createChainCommon } from '../../chain/config.ts'
import { forkScheduleOfTestNetwork, type ForkSchedule } from '../../chain/forks.ts'

/**
 * How a worker rebuilds the main thread's `Common` (a `Common` does not cross threads): the L2's
 * chain config with its fork schedule, or mainnet (chain id 1) with the schedule of an
 * ethereum/tests fixture network (`Cancun`, `Prague`, `Osaka`, `CancunToPragueAtTime15k`, …).
 */
export type CommonSpec =
  | { kind: 'chain'; chainId: bigint; name: string; forks?: ForkSchedule }
  | { kind: 'test-network'; network: string }

export function commonFromSpec(spec: CommonSpec): Common {
  if (spec.kind === 'chain') return createChainCommon(spec)
  const forks = forkScheduleOfTestNetwork(spec.network)
  if (forks === undefined) throw new Error(`no fork schedule for test network ${spec.network}`)
  return createChainCommon({ chainId: 1n, name: 'mainnet', forks })
}
