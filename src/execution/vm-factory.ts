import type { Common } from '@ethereumjs/common'
import { NobleBLS } from '@ethereumjs/evm'
import { createVM, type VM } from '@ethereumjs/vm'
// Side effect: memoized, natively hashed tx senders for every VM in this thread.
import './tx-sender-cache.ts'
// Side effect: memoized jump analysis and EIP lookups in ethereumjs' interpreter.
import './evm-caches.ts'
// Side effect: synchronous interpreter steps for static-gas opcodes.
import './interpreter-sync-steps.ts'
import type { JournaledState } from '../state/journaled-state.ts'

/** Answers BLOCKHASH; may wait for a block whose hash is still being sealed. */
export type BlockHashLookup = (number: bigint) => Promise<Uint8Array | undefined>

const ZERO_HASH = new Uint8Array(32)

/**
 * One VM per executor, built once: `createVM` is expensive (precompiles, opcode tables) and
 * ethereumjs keeps per-VM caches, so executors reuse theirs and swap state views underneath.
 */
export async function createExecutionVM(common: Common, state: JournaledState, blockHash: BlockHashLookup): Promise<VM> {
  const blockchain = {
    async getBlock(number: number) {
      const hash = (await blockHash(BigInt(number))) ?? ZERO_HASH
      return { hash: () => hash }
    },
    async putBlock() {},
    shallowCopy() {
      return blockchain
    },
  }
  const vm = await createVM({ common, stateManager: state, blockchain })
  // ethereumjs builds the EIP-2537 backend only when the VM is created under Prague: a VM created
  // earlier on a chain that schedules Prague would reach the fork without one. noble is its default
  // backend (mcl-wasm, the other one it supports, is not a dependency).
  const evm = vm.evm as unknown as { _bls?: unknown }
  evm._bls ??= new NobleBLS()
  return vm
}
