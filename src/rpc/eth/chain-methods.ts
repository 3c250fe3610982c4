import type { SealedBlock } from '../../chain/block.ts'
import type { Hex } from '../../primitives/state-diff.ts'
import type { MethodRegistry } from '../registry.ts'
import { expectParams, parseBlockTag, parseBoolean, parseHash, parseQuantity, toQuantity, type BlockSelector } from '../params.ts'
import type { EthBackend } from './backend.ts'
import { resolveSealedBlock } from './block-selector.ts'
import {
  formatBlock,
  formatReceipt,
  formatTransaction,
  placementOf,
  unsealedBlockHash,
  unsealedBlockNumber,
  type RpcObject,
} from './format.ts'

export const CLIENT_VERSION = `megaeth-node/v0.1.0/${process.platform}-${process.arch}/node${process.versions.node}`

/** Chain identity, blocks, transactions and receipts. */
export function registerChainMethods(registry: MethodRegistry, backend: EthBackend): void {
  const { chain } = backend
  const chainId = toQuantity(backend.config.chainId)

  const blockBy = async (selector: BlockSelector, full: boolean): Promise<RpcObject | null> => {
    if (selector.kind === 'tag' && selector.tag === 'pending') return pendingBlock(backend, full)
    const placeholder = selector.kind === 'hash' ? unsealedBlockNumber(selector.hash) : undefined
    if (placeholder !== undefined) {
      // A placeholder from a realtime receipt: the block it names, sealed by now or still pending.
      if (placeholder === chain.pendingBlockNumber) return pendingBlock(backend, full)
      const sealed = await chain.blockByNumber(placeholder)
      return sealed === undefined ? null : formatBlock(sealed, full, backend.decode)
    }
    const block = await resolveSealedBlock(chain, selector)
    return block === undefined ? null : formatBlock(block, full, backend.decode)
  }

  registry.registerAll({
    eth_chainId: (params) => {
      expectParams(params, 0)
      return chainId
    },
    net_version: (params) => {
      expectParams(params, 0)
      return backend.config.chainId.toString()
    },
    net_listening: () => true,
    net_peerCount: () => '0x0',
    web3_clientVersion: () => CLIENT_VERSION,
    eth_syncing: () => false,
    eth_accounts: () => [],
    eth_mining: () => false,
    eth_hashrate: () => '0x0',
    eth_protocolVersion: () => '0x44',
    eth_blockNumber: (params) => {
      expectParams(params, 0)
      return toQuantity(chain.head.header.number)
    },
    eth_getBlockByNumber: (params) => {
      const [tag, full] = expectParams(params, 2)
      return blockBy(parseBlockTag(tag, 0), parseBoolean(full, 1))
    },
    eth_getBlockByHash: (params) => {
      const [hash, full] = expectParams(params, 2)
      return blockBy({ kind: 'hash', hash: parseHash(hash, 0), requireCanonical: false }, parseBoolean(full, 1))
    },
    eth_getBlockTransactionCountByNumber: async (params) => {
      const [tag] = expectParams(params, 1)
      const block = await resolveSealedBlock(chain, parseBlockTag(tag, 0))
      return block === undefined ? null : toQuantity(block.transactions.length)
    },
    eth_getBlockTransactionCountByHash: async (params) => {
      const [hash] = expectParams(params, 1)
      const block = await chain.blockByHash(parseHash(hash, 0))
      return block === undefined ? null : toQuantity(block.transactions.length)
    },
    eth_getUncleCountByBlockNumber: () => '0x0',
    eth_getUncleCountByBlockHash: () => '0x0',
    eth_getUncleByBlockNumberAndIndex: () => null,
    eth_getUncleByBlockHashAndIndex: () => null,
    eth_getBlockReceipts: async (params) => {
      const [tag] = expectParams(params, 1)
      const selector = parseBlockTag(tag, 0)
      if (selector.kind === 'tag' && selector.tag === 'pending') return null
      const block = await resolveSealedBlock(chain, selector)
      return block === undefined ? null : block.receipts.map((r) => formatReceipt(r, block.hash))
    },
    eth_getTransactionByHash: async (params) => {
      const [hash] = expectParams(params, 1)
      const found = await chain.transaction(parseHash(hash, 0), backend.decode)
      if (found === undefined) return null
      return formatTransaction(found.tx, placementOf(found.receipt, found.blockHash))
    },
    eth_getTransactionByBlockNumberAndIndex: async (params) => {
      const [tag, index] = expectParams(params, 2)
      return transactionAt(await resolveSealedBlock(chain, parseBlockTag(tag, 0)), parseQuantity(index, 1), backend)
    },
    eth_getTransactionByBlockHashAndIndex: async (params) => {
      const [hash, index] = expectParams(params, 2)
      return transactionAt(await chain.blockByHash(parseHash(hash, 0)), parseQuantity(index, 1), backend)
    },
    eth_getRawTransactionByHash: async (params) => {
      const [hash] = expectParams(params, 1)
      const found = await chain.transaction(parseHash(hash, 0), backend.decode)
      return found === undefined ? null : `0x${Buffer.from(found.tx.serialize()).toString('hex')}`
    },
    eth_getTransactionReceipt: async (params) => {
      const [hash] = expectParams(params, 1)
      const found = await chain.receipt(parseHash(hash, 0))
      return found === undefined
        ? null
        : formatReceipt(found.receipt, found.blockHash ?? unsealedBlockHash(found.receipt.blockNumber))
    },
    mega_nodeInfo: () => backend.nodeInfo(),
  })
}

function transactionAt(block: SealedBlock | undefined, index: bigint, backend: EthBackend): RpcObject | null {
  if (block === undefined || index >= BigInt(block.transactions.length)) return null
  const i = Number(index)
  return formatTransaction(backend.decode(block.transactions[i]!), placementOf(block.receipts[i]!, block.hash))
}

/**
 * The EVM block being built: its mini-blocks so far, no hash yet (geth's pending block has
 * hash/nonce/miner null too). Lets MetaMask-style "pending" polling see realtime inclusion.
 */
function pendingBlock(backend: EthBackend, full: boolean): RpcObject {
  const { chain } = backend
  const number = chain.pendingBlockNumber
  const miniBlocks = chain.unsealedMiniBlocks.filter((mb) => mb.blockNumber === number)
  const receipts = miniBlocks.flatMap((mb) => mb.receipts)
  const raws = miniBlocks.flatMap((mb) => mb.transactions)
  const head = chain.head
  const baseFee = backend.pendingBaseFee()
  return {
    number: toQuantity(number),
    hash: null,
    parentHash: head.hash,
    nonce: null,
    miner: null,
    difficulty: '0x0',
    totalDifficulty: '0x0',
    extraData: '0x',
    gasLimit: toQuantity(backend.config.blockGasLimit),
    gasUsed: toQuantity(receipts.length === 0 ? 0n : receipts[receipts.length - 1]!.cumulativeGasUsed),
    timestamp: toQuantity(miniBlocks[0]?.blockTimestamp ?? head.header.timestamp + 1n),
    baseFeePerGas: toQuantity(baseFee),
    logsBloom: null,
    transactions: full
      ? raws.map((raw, i) => formatTransaction(backend.decode(raw), { ...placementOf(receipts[i]!, null), transactionIndex: i }))
      : receipts.map((r) => r.transactionHash as Hex),
    uncles: [],
    withdrawals: [],
    miniBlockCount: toQuantity(miniBlocks.length),
  }
}
