/**
 * Transaction validity rules of the Prague and Osaka forks that the node checks itself, with geth's
 * error texts (wallets and tools match on them): the pool refuses a transaction with them, and the
 * executor with the same rule and text when a block carries one.
 */
import type { Common } from '@ethereumjs/common'

/** EIP-7825 (Osaka): the most gas one transaction may ask for, 2^24. */
export const TX_GAS_LIMIT_CAP = 1n << 24n

/** geth's `ErrGasLimitTooHigh` with its detail, when `gasLimit` is over the cap `common`'s fork has; else undefined. */
export function txGasLimitCapError(common: Common, gasLimit: bigint): string | undefined {
  if (!common.isActivatedEIP(7825) || gasLimit <= TX_GAS_LIMIT_CAP) return undefined
  return `transaction gas limit too high (cap: ${TX_GAS_LIMIT_CAP}, tx: ${gasLimit})`
}

/** EIP-7623 (Prague): 21,000 plus 10 gas per calldata token (a zero byte is 1 token, any other byte 4). */
export function calldataFloorGas(data: Uint8Array): bigint {
  let tokens = 0
  for (let i = 0; i < data.length; i++) tokens += data[i] === 0 ? 1 : 4
  return 21_000n + 10n * BigInt(tokens)
}

/** The gas eth_call and eth_estimateGas give a message that names none: the block's limit, within the fork's cap. */
export function defaultCallGas(common: Common, blockGasLimit: bigint): bigint {
  return common.isActivatedEIP(7825) && blockGasLimit > TX_GAS_LIMIT_CAP ? TX_GAS_LIMIT_CAP : blockGasLimit
}
