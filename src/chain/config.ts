/**
 * Chain configuration: the parameters every role must agree on, and the ethereumjs `Common`
 * built from them (with native crypto plugged in).
 */
import { type Common, Mainnet, createCustomCommon } from '@ethereumjs/common'
import { TransactionType, type TypedTransaction } from '@ethereumjs/tx'
import { nativeCrypto } from '../crypto/native.ts'
import { OSAKA_FROM_GENESIS, chainHardforks, latestScheduledFork, type ForkSchedule } from './forks.ts'

export interface ChainConfig {
  chainId: bigint
  /** Human-readable name, shown by `web3_clientVersion` and logs. */
  name: string
  /**
   * When Prague and Osaka activate (Cancun applies from genesis): part of the genesis, so a datadir
   * keeps the rules it was created with. See src/chain/forks.ts.
   */
  forks: ForkSchedule
  /** Address that receives priority fees (the sequencer's fee vault). */
  feeRecipient: `0x${string}`
  /** Gas limit of an EVM block (the 1 s tier). */
  blockGasLimit: bigint
  /** Gas limit of one mini-block (the 10 ms tier); at most `blockGasLimit`. */
  miniBlockGasLimit: bigint
  /** EIP-1559 elasticity multiplier and base-fee max change denominator. */
  elasticityMultiplier: bigint
  baseFeeMaxChangeDenominator: bigint
  /** Base fee never drops below this (wei); keeps fees meaningful on an idle chain. */
  minBaseFee: bigint
}

/** The dev chain id: distinct from anvil/Hardhat (31337), geth --dev (1337) and MegaETH's 4326/6343. */
export const DEV_CHAIN_ID = 6342n

/**
 * The chain's `Common`: its hardfork list follows `config.forks` (default: Osaka from genesis), and it
 * is set to the latest scheduled fork, the rules new transactions are decoded by. Whatever executes or
 * hashes a block switches its own copy to the block's fork (`setHardforkBy` / `setHardfork: true`).
 */
export function createChainCommon(config: Pick<ChainConfig, 'chainId' | 'name'> & { forks?: ForkSchedule }): Common {
  const forks = config.forks ?? OSAKA_FROM_GENESIS
  return createCustomCommon({ chainId: Number(config.chainId), name: config.name, hardforks: chainHardforks(forks) }, Mainnet, {
    hardfork: latestScheduledFork(forks),
    customCrypto: nativeCrypto,
  })
}

/**
 * Transaction rules of the chain beyond what its Common decodes; returns a reason to reject. The L2
 * has no blob data availability, so blob (type 3) transactions are never valid in its blocks. Ingest
 * refuses them before decoding (`type-not-supported`); block verification needs this check because
 * the chain's Common decodes them, carrying the KZG backend the 0x0a precompile needs.
 */
export function checkChainTransactionRules(tx: TypedTransaction): string | undefined {
  return tx.type === TransactionType.BlobEIP4844 ? 'blob transactions are not valid on this chain' : undefined
}
