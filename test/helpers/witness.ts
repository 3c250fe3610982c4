/**
 * A block and its witness as a node serves them over JSON-RPC (`debug_getRawBlock`,
 * `debug_executionWitness`), and the stateless verifier run on nothing else.
 */
import { createBlockFromRLP, type Block } from '@ethereumjs/block'
import type { Hex } from 'viem'
import { createChainCommon } from '../../src/chain/config.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import { verifyBlock, type ExecutionWitness, type VerifiedBlock } from '../../src/stateless/index.ts'
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
