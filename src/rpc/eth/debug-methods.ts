import type { SealedBlock } from '../../chain/block.ts'
import { witnessToJson, type ExecutionWitnessJson } from '../../stateless/index.ts'
import { resourceUnavailable } from '../errors.ts'
import { encodeBlock } from '../../chain/block.ts'
import { expectParams, invalidArgument, parseBlockTag, parseHash, parseQuantity, toData } from '../params.ts'
import type { MethodRegistry } from '../registry.ts'
import type { EthBackend } from './backend.ts'
import { resolveSealedBlock } from './block-selector.ts'

/**
 * Raw consensus data of sealed blocks (geth's `debug_getRaw*`) and their state witnesses (reth's
 * `debug_executionWitness`, MegaETH's `mega_getBlockWitness`): what a stateless verifier needs.
 */
export function registerDebugMethods(registry: MethodRegistry, backend: EthBackend): void {
  const sealed = async (tag: unknown): Promise<SealedBlock | undefined> =>
    resolveSealedBlock(backend.chain, parseBlockTag(tag, 0))

  const witnessOf = async (block: SealedBlock | undefined): Promise<ExecutionWitnessJson | null> => {
    if (block === undefined) return null
    const number = block.header.number
    if (number === 0n) throw resourceUnavailable('block 0 has no witness: genesis is not executed')
    const witness = await backend.witness(number)
    if (witness === undefined)
      throw resourceUnavailable(
        `the witness of block ${number} is no longer kept (this node keeps the most recent blocks' witnesses only)`,
      )
    return witnessToJson(witness)
  }

  registry.registerAll({
    debug_getRawHeader: async (params) => {
      const [tag] = expectParams(params, 1)
      const block = await sealed(tag)
      return block === undefined ? null : toData(block.header.serialize())
    },
    debug_getRawBlock: async (params) => {
      const [tag] = expectParams(params, 1)
      const block = await sealed(tag)
      return block === undefined ? null : toData(encodeBlock(block))
    },
    debug_getRawTransaction: async (params) => {
      const [hash] = expectParams(params, 1)
      const included = await backend.chain.transaction(parseHash(hash, 0), backend.decode)
      return included === undefined ? null : toData(included.tx.serialize())
    },
    debug_executionWitness: async (params) => {
      const [tag] = expectParams(params, 1)
      return witnessOf(await sealed(tag))
    },
    mega_getBlockWitness: async (params) => {
      const [query] = expectParams(params, 1)
      if (typeof query !== 'object' || query === null || Array.isArray(query))
        throw invalidArgument(0, 'expected an object { blockNumber?, blockHash? }')
      const { blockNumber, blockHash } = query as { blockNumber?: unknown; blockHash?: unknown }
      if (blockNumber === undefined && blockHash === undefined) throw invalidArgument(0, 'give blockNumber, blockHash or both')
      const byNumber =
        blockNumber === undefined
          ? undefined
          : await backend.chain.blockByNumber(parseQuantity(blockNumber, 0, { field: 'blockNumber', maxBits: 64 }))
      if (blockHash === undefined) return witnessOf(byNumber)
      const hash = parseHash(blockHash, 0, { field: 'blockHash' })
      if (blockNumber !== undefined && byNumber?.hash !== hash) return null
      return witnessOf(await backend.chain.blockByHash(hash))
    },
  })
}
