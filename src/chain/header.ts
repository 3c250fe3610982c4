import { createBlockHeader, type BlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { hexToBytes, KECCAK256_RLP, KECCAK256_RLP_ARRAY } from '@ethereumjs/util'
import type { ChainConfig } from './config.ts'
import type { Hex } from '../primitives/state-diff.ts'

export interface HeaderFields {
  parentHash: Uint8Array
  number: bigint
  timestamp: bigint
  gasLimit: bigint
  gasUsed: bigint
  baseFeePerGas: bigint
  stateRoot: Uint8Array
  transactionsRoot: Uint8Array
  receiptsRoot: Uint8Array
  logsBloom: Uint8Array
  coinbase: Hex
  prevRandao: Uint8Array
  extraData: Uint8Array
}

/**
 * A post-merge header of the block's fork: constants (no uncles, zero difficulty and nonce), no
 * withdrawals or blobs on this L2, no beacon chain (zero parent beacon root) and, from Prague, no
 * execution-layer requests (`requestsHash` of the empty list, as OP Isthmus). Hashed by ethereumjs,
 * i.e. by Ethereum's rules, so any client can verify it.
 */
export function buildHeader(fields: HeaderFields, common: Common): BlockHeader {
  return createBlockHeader(
    {
      parentHash: fields.parentHash,
      uncleHash: KECCAK256_RLP_ARRAY,
      coinbase: hexToBytes(fields.coinbase),
      stateRoot: fields.stateRoot,
      transactionsTrie: fields.transactionsRoot,
      receiptTrie: fields.receiptsRoot,
      logsBloom: fields.logsBloom,
      difficulty: 0n,
      number: fields.number,
      gasLimit: fields.gasLimit,
      gasUsed: fields.gasUsed,
      timestamp: fields.timestamp,
      extraData: fields.extraData,
      mixHash: fields.prevRandao,
      nonce: new Uint8Array(8),
      baseFeePerGas: fields.baseFeePerGas,
      withdrawalsRoot: KECCAK256_RLP,
      blobGasUsed: 0n,
      excessBlobGas: 0n,
      parentBeaconBlockRoot: new Uint8Array(32),
    },
    // `setHardfork`: the header's fields (Prague adds `requestsHash`) follow its fork by timestamp.
    { common, skipConsensusFormatValidation: true, setHardfork: true },
  )
}

/** EIP-1559 base fee of the block after `parent`, floored at `minBaseFee`. */
export function nextBaseFee(
  parent: { gasUsed: bigint; gasLimit: bigint; baseFeePerGas: bigint },
  elasticity: bigint,
  denominator: bigint,
  minBaseFee: bigint,
): bigint {
  const target = parent.gasLimit / elasticity
  let next = parent.baseFeePerGas
  if (parent.gasUsed > target) {
    const delta = (parent.baseFeePerGas * (parent.gasUsed - target)) / target / denominator
    next = parent.baseFeePerGas + (delta > 1n ? delta : 1n)
  } else if (parent.gasUsed < target) {
    next = parent.baseFeePerGas - (parent.baseFeePerGas * (target - parent.gasUsed)) / target / denominator
  }
  return next < minBaseFee ? minBaseFee : next
}

/** OR of 256-byte blooms. */
export function orBlooms(blooms: Iterable<Uint8Array>): Uint8Array {
  const out = new Uint8Array(256)
  for (const bloom of blooms) for (let i = 0; i < 256; i++) out[i]! |= bloom[i]!
  return out
}

/**
 * Why `header` cannot follow `parent` by the rules every chain here shares (number, time, gas used
 * within the limit), or undefined. The stateless verifier and the block-test runner both apply it.
 */
export function checkHeaderSequence(header: BlockHeader, parent: BlockHeader): string | undefined {
  if (header.number !== parent.number + 1n) return `number does not follow parent ${parent.number}`
  if (header.timestamp <= parent.timestamp) return `timestamp ${header.timestamp} is not after the parent's ${parent.timestamp}`
  if (header.gasUsed > header.gasLimit) return `gas used ${header.gasUsed} exceeds the gas limit ${header.gasLimit}`
  return undefined
}

/**
 * The L2's own header rules, beyond Ethereum's: the sequencer's fee recipient and block gas limit,
 * and the EIP-1559 base fee from the chain's parameters. Returns why `header` breaks them, if it does.
 */
export function checkChainHeaderRules(
  config: Pick<
    ChainConfig,
    'feeRecipient' | 'blockGasLimit' | 'elasticityMultiplier' | 'baseFeeMaxChangeDenominator' | 'minBaseFee'
  >,
): (header: BlockHeader, parent: BlockHeader) => string | undefined {
  return (header, parent) => {
    if (header.coinbase.toString() !== config.feeRecipient.toLowerCase())
      return `coinbase ${header.coinbase.toString()} is not the chain's fee recipient ${config.feeRecipient}`
    if (header.gasLimit !== config.blockGasLimit) return `gas limit ${header.gasLimit} is not the chain's ${config.blockGasLimit}`
    const parentFee = {
      gasUsed: parent.gasUsed,
      gasLimit: parent.gasLimit,
      baseFeePerGas: parent.baseFeePerGas ?? config.minBaseFee,
    }
    const expected = nextBaseFee(parentFee, config.elasticityMultiplier, config.baseFeeMaxChangeDenominator, config.minBaseFee)
    if (header.baseFeePerGas !== expected)
      return `base fee ${header.baseFeePerGas} is not ${expected}, what EIP-1559 gives after the parent`
    return undefined
  }
}
