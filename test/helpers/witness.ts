/**
 * A block and its witness as a node serves them over JSON-RPC (`debug_getRawBlock`,
 * `debug_executionWitness`), and the stateless verifier run on nothing else.
 */
import { createBlockFromRLP, createBlockHeaderFromBytesArray, type Block, type BlockHeaderBytes } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import type { Hex } from 'viem'
import { createChainCommon } from '../../src/chain/config.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import { verifyBlock, type BlockToVerify, type ExecutionWitness, type VerifiedBlock } from '../../src/stateless/index.ts'
import { rpc } from './node-process.ts'

export const devCommon = createChainCommon(chainConfigFromGenesis(devGenesis(), 'megaeth-dev'))

export interface WitnessJson {
  state: Hex[]
  codes: Hex[]
  keys: Hex[]
  headers: Hex[]
}

export const hexBytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.slice(2), 'hex'))

export const witnessFromJson = (w: WitnessJson): ExecutionWitness => ({
  state: w.state.map(hexBytes),
  codes: w.codes.map(hexBytes),
  keys: w.keys.map(hexBytes),
  headers: w.headers.map(hexBytes),
})

export async function fetchBlockWithWitness(url: string, n: bigint): Promise<{ block: Block; witness: ExecutionWitness }> {
  const tag = `0x${n.toString(16)}`
  const [raw, witness] = await Promise.all([
    rpc<Hex>(url, 'debug_getRawBlock', [tag]),
    rpc<WitnessJson>(url, 'debug_executionWitness', [tag]),
  ])
  return { block: createBlockFromRLP(hexBytes(raw), { common: devCommon }), witness: witnessFromJson(witness) }
}

export function verifyDevBlock(block: Block, witness: ExecutionWitness): Promise<VerifiedBlock> {
  return verifyBlock({ header: block.header, transactions: block.transactions.map((tx) => tx.serialize()) }, witness, {
    common: devCommon,
  })
}

/**
 * A block of an L1-anchored chain and its witness: its transactions stay raw bytes, since ethereumjs
 * does not know deposit transactions (type 0x7E) and cannot build a `Block` from them; the verifier
 * decodes them as the node does.
 */
export async function fetchBlockToVerify(url: string, n: bigint): Promise<{ block: BlockToVerify; witness: ExecutionWitness }> {
  const tag = `0x${n.toString(16)}`
  const [raw, witness] = await Promise.all([
    rpc<Hex>(url, 'debug_getRawBlock', [tag]),
    rpc<WitnessJson>(url, 'debug_executionWitness', [tag]),
  ])
  const [headerFields, transactions] = RLP.decode(hexBytes(raw)) as unknown as [
    BlockHeaderBytes,
    Array<Uint8Array | Uint8Array[]>,
  ]
  return {
    block: {
      header: createBlockHeaderFromBytesArray(headerFields, { common: devCommon }),
      // Typed transactions are byte strings in a block's list, legacy ones lists.
      transactions: transactions.map((tx) => (tx instanceof Uint8Array ? tx : RLP.encode(tx))),
    },
    witness: witnessFromJson(witness),
  }
}
