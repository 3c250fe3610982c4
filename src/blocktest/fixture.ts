import type { Hex } from '../primitives/state-diff.ts'

/** The JSON shape of an ethereum/tests BlockchainTests fixture (the parts we use). */
import type { GenesisAccount } from '../chain/genesis.ts'

export type FixtureAccount = GenesisAccount

export interface FixtureBlock {
  rlp: Hex
  blockHeader?: { hash: Hex; stateRoot: Hex; number: Hex }
  expectException?: string
}

export interface BlockchainFixture {
  network: string
  genesisBlockHeader: { hash: Hex; stateRoot: Hex }
  genesisRLP: Hex
  pre: Record<Hex, FixtureAccount>
  postState?: Record<Hex, FixtureAccount>
  postStateHash?: Hex
  blocks: FixtureBlock[]
  lastblockhash: Hex
  sealEngine?: string
}

export type FixtureFile = Record<string, BlockchainFixture>
