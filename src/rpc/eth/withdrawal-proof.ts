/**
 * `mega_getWithdrawalProof(withdrawalHash, block)` (also `eth_getWithdrawalProof`, the name MegaETH's older
 * docs list beside it): everything `OptimismPortal.proveWithdrawalTransaction`
 * takes besides the withdrawal itself and the dispute game, from one call. The portal checks the game's
 * root claim against the output root v0 of `outputRootProof`, then that `withdrawalProof` proves
 * `sentMessages[withdrawalHash] = 1` (slot `keccak256(abi.encode(withdrawalHash, uint256(0)))`) against
 * `messagePasserStorageRoot`. What viem's `buildProveWithdrawal` assembles from `eth_getProof` and
 * `eth_getBlockByNumber`, at the L2 block the game proposes.
 */
import { bytesToHex, concatBytes, hexToBytes } from '@ethereumjs/util'
import { keccak256 } from '../../crypto/native.ts'
import type { Hex } from '../../primitives/state-diff.ts'
import { resourceNotFound } from '../errors.ts'
import { MESSAGE_PASSER_ADDRESS, outputRootV0 } from '../optimism-methods.ts'
import { expectParams, parseBlockTag, parseHash, toData, toQuantity } from '../params.ts'
import type { MethodRegistry, RpcHandler } from '../registry.ts'
import type { EthBackend } from './backend.ts'
import { resolveSealedBlock } from './block-selector.ts'
import { provenAccount } from './state-proof.ts'

/** The message passer's `sentMessages` mapping is slot 0: a withdrawal's entry sits at keccak256(hash ‖ 0). */
export function withdrawalStorageSlot(withdrawalHash: Uint8Array): Uint8Array {
  return keccak256(concatBytes(withdrawalHash, new Uint8Array(32)))
}

export function registerWithdrawalProofMethods(registry: MethodRegistry, backend: EthBackend): void {
  const getWithdrawalProof: RpcHandler = async (params) => {
    const [hash, tag] = expectParams(params, 2)
    const withdrawalHash = parseHash(hash, 0)
    const block = await resolveSealedBlock(backend.chain, parseBlockTag(tag, 1))
    if (block === undefined) throw resourceNotFound('block not found')
    const slot = bytesToHex(withdrawalStorageSlot(hexToBytes(withdrawalHash))) as Hex
    const number = block.header.number
    const proof = await provenAccount(backend, number, MESSAGE_PASSER_ADDRESS, [slot])
    const entry = proof.storageProof[0]!
    if (entry.value.length === 0)
      throw resourceNotFound(`withdrawal ${withdrawalHash} was not initiated in L2ToL1MessagePasser by block ${number}`)
    const stateRoot = block.header.stateRoot
    return {
      outputRootProof: {
        version: toData(new Uint8Array(32)),
        stateRoot: toData(stateRoot),
        messagePasserStorageRoot: toData(proof.storageHash),
        latestBlockhash: block.hash,
      },
      outputRoot: toData(outputRootV0(stateRoot, proof.storageHash, hexToBytes(block.hash))),
      withdrawalProof: entry.proof.map(toData),
      l2BlockNumber: toQuantity(number),
    }
  }
  registry.registerAll({ mega_getWithdrawalProof: getWithdrawalProof, eth_getWithdrawalProof: getWithdrawalProof })
}
