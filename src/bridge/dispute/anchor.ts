/**
 * L1's anchor: the output root the AnchorStateRegistry last settled on (a resolved dispute game's, or the
 * rollup's genesis), with the preimage the output registry holds for it. A node that must not take a peer's
 * word for where the chain is (a validator's checkpoint) opens the root with the preimage: the block hash
 * inside is then as good as L1's settlement.
 */
import { getAddress, type Address, type Hex, type PublicClient } from 'viem'
import { anchorStateRegistryAbi } from '../generated/AnchorStateRegistry.ts'
import { optimismPortal2Abi } from '../generated/OptimismPortal2.ts'
import { outputRegistryOfGameType } from './output-registry.ts'
import { type PublishedOutput, publishedOutputReader } from './published-output.ts'

export interface L1Anchor {
  /** The anchored output root (v0). */
  root: Hex
  /** Its L2 block number. */
  block: bigint
  /**
   * The root's published preimage; undefined at genesis (the rollup config vouches for it) and when L1 holds none:
   * the respected game type's VM keeps no output registry (the dev L1's `UnprovableVM`), or the root was never
   * published there.
   */
  preimage: PublishedOutput | undefined
}

/**
 * Reads the anchor of the rollup whose OptimismPortal2 is `portal` (rollup.json's `deposit_contract_address`);
 * undefined when the portal names no AnchorStateRegistry (a rollup deployed without dispute contracts).
 */
export async function readL1Anchor(client: PublicClient, portal: Address): Promise<L1Anchor | undefined> {
  const [registry, factory] = await Promise.all([
    client.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'anchorStateRegistry' }),
    client.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'disputeGameFactory' }),
  ])
  if (BigInt(registry) === 0n) return undefined
  const [[root, block], gameType] = await Promise.all([
    client.readContract({ address: registry, abi: anchorStateRegistryAbi, functionName: 'getAnchorRoot' }),
    client.readContract({ address: registry, abi: anchorStateRegistryAbi, functionName: 'respectedGameType' }),
  ])
  if (block === 0n) return { root, block, preimage: undefined }
  const outputs = await outputRegistryOfGameType(client, getAddress(factory), gameType)
  const preimage = outputs === undefined ? undefined : await publishedOutputReader(client, outputs)(root)
  return { root, block, preimage }
}
