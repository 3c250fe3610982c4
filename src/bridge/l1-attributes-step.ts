/**
 * What `L1AttributesStep` (contracts/L1/L1AttributesStep.sol) is deployed with: the L1Block runtime code it
 * interprets (by hash) and that code's fixed gas. The step executes the L1-attributes deposit without an EVM because
 * its callee is our own genesis predeploy: the same code, so the same gas, in every block.
 */
import { keccak256 } from 'viem'
import type { Hex } from 'viem'
import { l1BlockDeployedBytecode } from './generated/L1Block.ts'
import { BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE } from './l1-fetch.ts'

/** keccak256 of L1Block's runtime code, as the genesis alloc installs it (`l2PredeployAlloc`). */
export const L1_BLOCK_CODE_HASH: Hex = keccak256(l1BlockDeployedBytecode)

/**
 * The execution gas of `setL1BlockValuesIsthmus()` besides its seven SSTOREs: dispatch, the caller check, the calldata
 * loads and shifts. A property of the compiled L1Block code (solc 0.8, 200 runs): recompiling L1Block changes it, and
 * test/unit/l1-attributes-step.test.ts, which measures it with the node's executor, fails until it is updated here.
 */
export const L1_BLOCK_ISTHMUS_SETTER_GAS = 293n

/**
 * The constructor arguments of `L1AttributesStep`: with the rollup's genesis L1 block (where the first block's epoch
 * rule starts) and the L1's blob base fee update fraction its origin check recomputes the deposit's blob base fee
 * with — Prague's (Osaka keeps it), what the L1 watcher uses by default on a Prague+ L1; an L1 past a BPO fork needs
 * the fraction the watcher is configured with.
 */
export function l1AttributesStepArgs(
  genesisL1: { number: bigint; hash: Hex },
  blobBaseFeeUpdateFraction: bigint = BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE,
): readonly [Hex, bigint, bigint, bigint, Hex] {
  return [L1_BLOCK_CODE_HASH, L1_BLOCK_ISTHMUS_SETTER_GAS, blobBaseFeeUpdateFraction, genesisL1.number, genesisL1.hash]
}
