/** The EIP-1559 fee fields a transaction carries (legacy and EIP-2930 ones: the gas price as both). */
export interface FeeCaps {
  readonly maxFeePerGas: bigint
  readonly maxPriorityFeePerGas: bigint
}

/**
 * What the block producer earns per gas: min(tip, fee cap − base fee); negative if the transaction
 * cannot pay the base fee. The price paid per gas (the receipt's `effectiveGasPrice`) is the base
 * fee plus this: for a legacy gas price as both fields, the gas price itself.
 */
export function effectiveTip(fees: FeeCaps, baseFee: bigint): bigint {
  const headroom = fees.maxFeePerGas - baseFee
  return fees.maxPriorityFeePerGas < headroom ? fees.maxPriorityFeePerGas : headroom
}
