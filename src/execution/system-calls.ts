/**
 * The start-of-block system calls of the forks the chain runs: EIP-4788 (Cancun, parent beacon root)
 * and EIP-2935 (Prague, parent block hash). Each is applied as the storage writes its system contract
 * would make when called by the system address — what ethereumjs' `runBlock` does too — once per EVM
 * block, before its first transaction. On this L2 an EVM block is ~100 mini-blocks: the block producer
 * applies them in the block's first mini-block (their writes ride in its state diff), and every
 * re-execution (stateless verifier, block-test runner, WAL recovery) applies them at the same point,
 * so the block's state is deterministic. A contract without code makes its call a no-op, as on L1.
 */
import type { Common } from '@ethereumjs/common'
import { bigIntToBytes, createAddressFromString, setLengthLeft } from '@ethereumjs/util'
import type { BlockEnv } from './block-env.ts'
import type { JournaledState } from '../state/journaled-state.ts'

/** EIP-4788 beacon-roots contract. */
export const BEACON_ROOTS_CONTRACT = createAddressFromString('0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02')
const HISTORICAL_ROOTS_LENGTH = 8191n

/** EIP-2935 history-storage contract. */
export const HISTORY_STORAGE_CONTRACT = createAddressFromString('0x0000F90827F1C53a10cb7A02335B175320002935')
/** EIP-2935 HISTORY_SERVE_WINDOW: the ring buffer's length. */
const HISTORY_SERVE_WINDOW = 8191n

/** Whether the block at `common`'s fork has a system call that needs its parent's hash (EIP-2935). */
export function needsParentHash(common: Common): boolean {
  return common.isActivatedEIP(2935)
}

/**
 * Applies the system calls active at `common`'s fork for the block `env`. `parentHash` is the hash of
 * block `env.number - 1`; only EIP-2935 reads it.
 */
export async function applyBlockStartSystemCalls(
  state: JournaledState,
  common: Common,
  env: BlockEnv,
  parentHash: Uint8Array | undefined,
): Promise<void> {
  if (common.isActivatedEIP(4788) && (await state.getCode(BEACON_ROOTS_CONTRACT)).length > 0) {
    const index = env.timestamp % HISTORICAL_ROOTS_LENGTH
    await state.putStorage(BEACON_ROOTS_CONTRACT, slotKey(index), bigIntToBytes(env.timestamp))
    await state.putStorage(BEACON_ROOTS_CONTRACT, slotKey(index + HISTORICAL_ROOTS_LENGTH), env.parentBeaconBlockRoot)
  }
  if (needsParentHash(common) && env.number > 0n && (await state.getCode(HISTORY_STORAGE_CONTRACT)).length > 0) {
    if (parentHash === undefined)
      throw new Error(`EIP-2935 system call of block ${env.number} needs the hash of block ${env.number - 1n}`)
    await state.putStorage(HISTORY_STORAGE_CONTRACT, slotKey((env.number - 1n) % HISTORY_SERVE_WINDOW), parentHash)
  }
}

function slotKey(index: bigint): Uint8Array {
  return setLengthLeft(bigIntToBytes(index), 32)
}
