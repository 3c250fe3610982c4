/**
 * Chain configuration: the parameters every role must agree on, and the ethereumjs `Common`
 * built from them (with native crypto plugged in).
 */
import { Common, Hardfork, Mainnet, createCustomCommon } from '@ethereumjs/common'
import { TransactionType, type TypedTransaction } from '@ethereumjs/tx'
import { nativeCrypto } from '../crypto/native.ts'

export interface ChainConfig {
  chainId: bigint
  /** Human-readable name, shown by `web3_clientVersion` and logs. */
  name: string
  /**
   * The L2 executes Cancun rules: the fork the official consensus fixtures we test against use,
   * and the one every wallet and library supports. See docs/DESIGN.md.
   */
  hardfork: typeof Hardfork.Cancun
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

export function createChainCommon(config: Pick<ChainConfig, 'chainId' | 'name'>): Common {
  return createCustomCommon(
    { chainId: Number(config.chainId), name: config.name },
    Mainnet,
    { hardfork: Hardfork.Cancun, customCrypto: nativeCrypto },
  )
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
