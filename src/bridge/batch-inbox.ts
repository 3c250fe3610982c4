import { concat, getAddress, keccak256, slice, toHex, type Address } from 'viem'

/**
 * The batch inbox of an L2 chain by OP's convention (op-deployer's `chainIdToBatchInboxAddress`): a version byte 0
 * followed by the first 19 bytes of `keccak256(bytes32(chainId))`. Nobody holds its key; batchers send data to it.
 */
export function batchInboxAddress(chainId: bigint | number): Address {
  const id = BigInt(chainId)
  if (id <= 0n || id >= 2n ** 256n) throw new RangeError(`batchInboxAddress: chain id ${id} is not a positive uint256`)
  return getAddress(concat(['0x00', slice(keccak256(toHex(id, { size: 32 })), 0, 19)]))
}
