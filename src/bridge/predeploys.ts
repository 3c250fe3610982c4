/**
 * The L2 predeploys of the bridge and their genesis alloc entries. Their code sits directly at OP's addresses (OP puts
 * proxies there; we have no L2 upgrade path yet, so a proxy would only add a delegatecall to every L1-attributes
 * deposit and every withdrawal).
 */
import type { Address } from 'viem'
import type { GenesisAccount } from '../chain/genesis.ts'
import { l1BlockDeployedBytecode } from './generated/L1Block.ts'
import { l2ToL1MessagePasserDeployedBytecode } from './generated/L2ToL1MessagePasser.ts'

/** L1 attributes of the current epoch, written by the L1-attributes deposit at the start of every L2 block. */
export const L1_BLOCK_ADDRESS: Address = '0x4200000000000000000000000000000000000015'

/** Records L2→L1 messages; its storage root is part of every output root. */
export const L2_TO_L1_MESSAGE_PASSER_ADDRESS: Address = '0x4200000000000000000000000000000000000016'

/** The system account L1-attributes deposits come from; the only caller L1Block's setters accept. */
export const DEPOSITOR_ACCOUNT: Address = '0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001'

/**
 * Genesis alloc entries of the bridge predeploys: runtime code, no balance, nonce 1 (as a created contract has) and
 * empty storage — L1Block is filled by the first L1-attributes deposit, the message passer's nonce starts at 0.
 */
export function l2PredeployAlloc(): Record<Address, GenesisAccount> {
  return {
    [L1_BLOCK_ADDRESS]: { code: l1BlockDeployedBytecode, storage: {}, balance: '0x0', nonce: '0x1' },
    [L2_TO_L1_MESSAGE_PASSER_ADDRESS]: { code: l2ToL1MessagePasserDeployedBytecode, storage: {}, balance: '0x0', nonce: '0x1' },
  }
}
