import type { Block, BlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { bigIntToUnpaddedBytes, bytesToHex, equalsBytes } from '@ethereumjs/util'
import { encodeRlp } from '../primitives/rlp-fields.ts'
import { checkHeaderSequence, nextBaseFee } from '../chain/header.ts'
import { orderedTrieRoot } from '../trie/ordered-trie.ts'

/**
 * Ethereum mainnet's header rules that executing a block does not check by itself, as geth's
 * consensus engine verifies them before execution (`VerifyHeader`, `VerifyGaslimit`,
 * `VerifyEIP1559Header`, `VerifyEIP4844Header`) and its block validator checks the body against
 * the header's commitments. The block-test runner applies them so an invalid fixture block is
 * refused for the reason the fixture names. (The L2's own chain rules are `checkChainHeaderRules`.)
 */

/** geth's params.MaxGasLimit and MinGasLimit; the gas limit moves by less than 1/1024 of the parent's per block. */
const MAX_GAS_LIMIT = 2n ** 63n - 1n
const MIN_GAS_LIMIT = 5000n
const GAS_LIMIT_BOUND_DIVISOR = 1024n
/** EIP-1559 on Ethereum: elasticity 2, base fee moves by at most 1/8 per block, no floor. */
const ELASTICITY = 2n
const BASE_FEE_CHANGE_DENOMINATOR = 8n

/** Why `header` may not follow `parent`, or undefined. */
export function checkHeaderAgainstParent(header: BlockHeader, parent: BlockHeader, common: Common): string | undefined {
  const n = header.number
  const outOfSequence = checkHeaderSequence(header, parent)
  if (outOfSequence !== undefined) return `block ${n}: ${outOfSequence}`
  if (header.gasLimit > MAX_GAS_LIMIT) return `block ${n}: gas limit ${header.gasLimit} is above the maximum ${MAX_GAS_LIMIT}`
  if (header.gasLimit < MIN_GAS_LIMIT) return `block ${n}: gas limit ${header.gasLimit} is below the minimum ${MIN_GAS_LIMIT}`
  const change = header.gasLimit > parent.gasLimit ? header.gasLimit - parent.gasLimit : parent.gasLimit - header.gasLimit
  const bound = parent.gasLimit / GAS_LIMIT_BOUND_DIVISOR
  if (change >= bound)
    return `block ${n}: gas limit ${header.gasLimit} moves ${change} from the parent's ${parent.gasLimit}; the bound is below ${bound}`
  if (parent.baseFeePerGas !== undefined) {
    const expected = nextBaseFee(
      { gasUsed: parent.gasUsed, gasLimit: parent.gasLimit, baseFeePerGas: parent.baseFeePerGas },
      ELASTICITY,
      BASE_FEE_CHANGE_DENOMINATOR,
      0n,
    )
    if (header.baseFeePerGas !== expected)
      return `block ${n}: base fee ${header.baseFeePerGas}, EIP-1559 gives ${expected} after the parent`
  }
  if (common.isActivatedEIP(4844) && parent.excessBlobGas !== undefined && parent.blobGasUsed !== undefined) {
    // The child's fork sets the target (EIP-7691 in Prague) and the reserve-price rule (EIP-7918 in Osaka).
    const expected = parent.calcNextExcessBlobGas(header.common)
    if (header.excessBlobGas !== expected)
      return `block ${n}: excess blob gas ${header.excessBlobGas}, EIP-4844 gives ${expected} after the parent`
  }
  return undefined
}

/** Why the block's body does not match its header's commitments (transactions, withdrawals), or undefined. */
export function checkBodyCommitments(block: Block): string | undefined {
  const { header } = block
  const transactionsRoot = orderedTrieRoot(block.transactions.map((tx) => tx.serialize()))
  if (!equalsBytes(transactionsRoot, header.transactionsTrie)) {
    return `block ${header.number}: transactions root ${bytesToHex(transactionsRoot)}, header says ${bytesToHex(header.transactionsTrie)}`
  }
  if (block.withdrawals !== undefined && header.withdrawalsRoot !== undefined) {
    const encoded = block.withdrawals.map((w) =>
      encodeRlp([
        bigIntToUnpaddedBytes(w.index),
        bigIntToUnpaddedBytes(w.validatorIndex),
        w.address.bytes,
        bigIntToUnpaddedBytes(w.amount),
      ]),
    )
    const withdrawalsRoot = orderedTrieRoot(encoded)
    if (!equalsBytes(withdrawalsRoot, header.withdrawalsRoot)) {
      return `block ${header.number}: withdrawals root ${bytesToHex(withdrawalsRoot)}, header says ${bytesToHex(header.withdrawalsRoot)}`
    }
  }
  return undefined
}
