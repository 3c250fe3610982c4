import { bytesToHex } from '@ethereumjs/util'
import type { Hex } from '../../primitives/state-diff.ts'
import type { BlockEnv } from '../block-env.ts'
import { runCall, type AccessListJson, type CallMessage, type CallOutcome } from '../call.ts'
import type { SequentialExecutor } from '../executor.ts'
import type { StateReader } from '../../state/state-reader.ts'

/** One eth_call, eth_estimateGas (the whole search) or eth_createAccessList: what a call worker runs as a unit. */
export type CallTask =
  | { kind: 'call'; message: CallMessage }
  | { kind: 'estimateGas'; message: CallMessage; gasCap: bigint }
  | { kind: 'createAccessList'; message: CallMessage }

export type EstimateOutcome = { kind: 'estimate'; gas: bigint } | Exclude<CallOutcome, { kind: 'success' }>
export type AccessListOutcome =
  | { kind: 'accessList'; accessList: AccessListJson; gasUsed: bigint; error?: string }
  | { kind: 'invalid'; error: string }
export type CallTaskOutcome = CallOutcome | EstimateOutcome | AccessListOutcome

/** Runs `task` on `executor`, whose base is `state` (the pinned state the task reads). */
export function runCallTask(
  executor: SequentialExecutor,
  state: StateReader,
  env: BlockEnv,
  task: CallTask,
): Promise<CallTaskOutcome> {
  switch (task.kind) {
    case 'call':
      return runCall(executor, env, task.message)
    case 'estimateGas':
      return estimateGas(executor, state, env, task.message, task.gasCap)
    case 'createAccessList':
      return createAccessList(executor, env, task.message)
  }
}

/**
 * geth's search: run at the cap to learn whether the call can succeed at all, then binary-search
 * the smallest gas limit that still succeeds. Exact (anvil's answer, not geth's 1.5 % tolerance):
 * a call costs well under a millisecond here, and an exact estimate is what tests compare.
 */
async function estimateGas(
  executor: SequentialExecutor,
  state: StateReader,
  env: BlockEnv,
  message: CallMessage,
  gasCap: bigint,
): Promise<EstimateOutcome> {
  const cap = message.gas !== undefined && message.gas < gasCap ? message.gas : gasCap
  // A plain transfer to an account without code costs exactly the intrinsic 21,000 (geth's shortcut).
  if (
    message.to !== undefined &&
    (message.data === undefined || message.data.length === 0) &&
    !hasCode(state, message.to) &&
    cap >= 21_000n
  ) {
    const plain = await runCall(executor, env, { ...message, gas: 21_000n })
    if (plain.kind === 'success') return { kind: 'estimate', gas: 21_000n }
  }
  const atCap = await runCall(executor, env, { ...message, gas: cap })
  if (atCap.kind === 'halt' && atCap.error === 'out of gas') return { ...atCap, error: `gas required exceeds allowance (${cap})` }
  if (atCap.kind !== 'success') return atCap
  let lo = atCap.gasUsed - 1n
  let hi = cap
  // Most calls succeed with what they used plus the 1/64 every call frame withholds (EIP-150).
  const guess = (atCap.gasUsed * 64n) / 63n + 2_300n
  if (guess < hi) {
    if ((await runCall(executor, env, { ...message, gas: guess })).kind === 'success') hi = guess
    else lo = guess
  }
  while (lo + 1n < hi) {
    const mid = (lo + hi) / 2n
    if ((await runCall(executor, env, { ...message, gas: mid })).kind === 'success') hi = mid
    else lo = mid
  }
  return { kind: 'estimate', gas: hi }
}

/**
 * geth's algorithm: run, take the touched addresses and slots as the access list, and repeat with that
 * list until it stops changing (warm accesses can change the path); report the gas used with it.
 */
async function createAccessList(executor: SequentialExecutor, env: BlockEnv, message: CallMessage): Promise<AccessListOutcome> {
  let accessList: AccessListJson = message.accessList ?? []
  for (let round = 0; round < 8; round++) {
    const outcome = await runCall(executor, env, { ...message, accessList }, true)
    if (outcome.kind !== 'success') {
      const error =
        outcome.kind === 'revert'
          ? `execution reverted${outcome.reason === undefined ? '' : `: ${outcome.reason}`}`
          : outcome.error
      return { kind: 'accessList', accessList, gasUsed: outcome.kind === 'invalid' ? 0n : outcome.gasUsed, error }
    }
    const next = outcome.accessList ?? []
    if (JSON.stringify(next) === JSON.stringify(accessList)) return { kind: 'accessList', accessList, gasUsed: outcome.gasUsed }
    accessList = next
  }
  return { kind: 'invalid', error: 'access list did not converge' }
}

function hasCode(state: StateReader, address: Hex): boolean {
  const account = state.getAccount(address)
  if (account === undefined) return false
  return (state.getCode(bytesToHex(account.codeHash) as Hex)?.length ?? 0) > 0
}
