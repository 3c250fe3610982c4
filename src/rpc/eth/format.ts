import { Capability, TransactionType, type TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import type { SealedBlock } from '../../chain/block.ts'
import { isDepositTx, type DepositTx, type L2Transaction } from '../../chain/l2-transaction.ts'
import type { Log, TxReceipt } from '../../chain/receipt.ts'
import { encodeRlp } from '../../primitives/rlp-fields.ts'
import type { Hex } from '../../primitives/state-diff.ts'
import { toData, toQuantity } from '../params.ts'

/**
 * `blockHash` of a receipt or log whose EVM block is not sealed yet, on the standard polling methods
 * (eth_getTransactionReceipt, eth_getLogs, filters): the block number, zero-padded to 32 bytes.
 * MegaETH's realtime methods say `null` (ours too), but ethers v6 rejects a null receipt/log
 * `blockHash`, which breaks `tx.wait()` and `contract.on()`. A plain zero hash would be ambiguous when
 * a client queries by it (eth_getLogs `{ blockHash }`, eth_getBlockByHash); a number-carrying
 * placeholder resolves to exactly one EVM block, sealed or not, and cannot collide with a keccak hash
 * in practice (24 leading zero bytes). See docs/DESIGN.md.
 */
export function unsealedBlockHash(blockNumber: bigint): Hex {
  return `0x${blockNumber.toString(16).padStart(64, '0')}`
}

/** The block number an `unsealedBlockHash` placeholder stands for, or undefined for a real hash. */
export function unsealedBlockNumber(hash: Hex): bigint | undefined {
  return /^0x0{48}[0-9a-f]{16}$/i.test(hash) ? BigInt(hash) : undefined
}

/** JSON-RPC shapes as geth returns them (what viem, ethers, Foundry and MetaMask parse). */
export type RpcObject = Record<string, unknown>

export interface TxPlacement {
  blockHash: Hex | null
  blockNumber: bigint
  transactionIndex: number
  /** What it paid per gas (its receipt's effectiveGasPrice): `gasPrice` of an included 1559 tx. */
  effectiveGasPrice: bigint
  /** A deposit's receipt's `depositNonce`: what op-geth reports as the deposit's `nonce`. */
  depositNonce?: bigint | undefined
}

/** The placement of the transaction whose receipt is `receipt`, in the block `blockHash` (null: not sealed). */
export function placementOf(receipt: TxReceipt, blockHash: Hex | null): TxPlacement {
  return {
    blockHash,
    blockNumber: receipt.blockNumber,
    transactionIndex: receipt.transactionIndex,
    effectiveGasPrice: receipt.effectiveGasPrice,
    depositNonce: receipt.depositNonce,
  }
}

export function formatBlock(
  block: SealedBlock,
  fullTransactions: boolean,
  decode: (raw: Uint8Array) => L2Transaction,
): RpcObject {
  const h = block.header
  const placement = (i: number): TxPlacement => ({
    blockHash: block.hash,
    blockNumber: h.number,
    transactionIndex: i,
    effectiveGasPrice: block.receipts[i]!.effectiveGasPrice,
    depositNonce: block.receipts[i]!.depositNonce,
  })
  return {
    number: toQuantity(h.number),
    hash: block.hash,
    parentHash: toData(h.parentHash),
    nonce: toData(h.nonce),
    mixHash: toData(h.mixHash),
    sha3Uncles: toData(h.uncleHash),
    logsBloom: toData(h.logsBloom),
    transactionsRoot: toData(h.transactionsTrie),
    stateRoot: toData(h.stateRoot),
    receiptsRoot: toData(h.receiptTrie),
    miner: h.coinbase.toString(),
    difficulty: '0x0',
    totalDifficulty: '0x0',
    extraData: toData(h.extraData),
    size: toQuantity(encodeRlp([h.raw(), block.transactions, [], []]).length),
    gasLimit: toQuantity(h.gasLimit),
    gasUsed: toQuantity(h.gasUsed),
    timestamp: toQuantity(h.timestamp),
    baseFeePerGas: toQuantity(h.baseFeePerGas ?? 0n),
    withdrawalsRoot: toData(h.withdrawalsRoot ?? new Uint8Array(32)),
    withdrawals: [],
    blobGasUsed: toQuantity(h.blobGasUsed ?? 0n),
    excessBlobGas: toQuantity(h.excessBlobGas ?? 0n),
    parentBeaconBlockRoot: toData(h.parentBeaconBlockRoot ?? new Uint8Array(32)),
    // Prague headers commit to the EIP-7685 requests (always none on this L2: see docs/DESIGN.md).
    ...(h.requestsHash === undefined ? {} : { requestsHash: toData(h.requestsHash) }),
    uncles: [],
    transactions: fullTransactions
      ? block.transactions.map((raw, i) => formatTransaction(decode(raw), placement(i)))
      : block.receipts.map((r) => r.transactionHash),
    miniBlockCount: toQuantity(block.miniBlocks.count),
  }
}

export function formatTransaction(tx: L2Transaction, placement: TxPlacement | undefined): RpcObject {
  return isDepositTx(tx) ? formatDepositTransaction(tx, placement) : formatTypedTransaction(tx, placement)
}

/**
 * op-geth's shape of a deposit (what viem's `viem/op-stack` formatters parse): no fee fields but a
 * zero `gasPrice`, a zero signature, no `chainId`; `sourceHash`, `mint`, `isSystemTx`; `nonce` is
 * the deposit nonce its receipt recorded (0 while it is unknown).
 */
function formatDepositTransaction(tx: DepositTx, placement: TxPlacement | undefined): RpcObject {
  const d = tx.fields
  return {
    hash: tx.hashHex(),
    type: toQuantity(tx.type),
    sourceHash: d.sourceHash,
    nonce: toQuantity(placement?.depositNonce ?? 0n),
    from: d.from.toLowerCase(),
    to: d.to === null ? null : d.to.toLowerCase(),
    mint: toQuantity(d.mint),
    value: toQuantity(d.value),
    gas: toQuantity(d.gas),
    gasPrice: '0x0',
    input: d.data,
    isSystemTx: d.isSystemTx,
    blockHash: placement?.blockHash ?? null,
    blockNumber: placement === undefined ? null : toQuantity(placement.blockNumber),
    transactionIndex: placement === undefined ? null : toQuantity(placement.transactionIndex),
    v: '0x0',
    r: '0x0',
    s: '0x0',
    ...(placement?.depositNonce === undefined ? {} : { depositReceiptVersion: '0x1' }),
  }
}

function formatTypedTransaction(tx: TypedTransaction, placement: TxPlacement | undefined): RpcObject {
  const json = tx.toJSON()
  const isFeeMarket = tx.supports(Capability.EIP1559FeeMarket)
  const out: RpcObject = {
    hash: bytesToHex(tx.hash()),
    type: toQuantity(tx.type),
    nonce: toQuantity(tx.nonce),
    from: tx.getSenderAddress().toString(),
    to: tx.to?.toString() ?? null,
    value: toQuantity(tx.value),
    gas: toQuantity(tx.gasLimit),
    input: toData(tx.data),
    blockHash: placement?.blockHash ?? null,
    blockNumber: placement === undefined ? null : toQuantity(placement.blockNumber),
    transactionIndex: placement === undefined ? null : toQuantity(placement.transactionIndex),
    v: toQuantity(tx.v ?? 0n),
    r: toQuantity(tx.r ?? 0n),
    s: toQuantity(tx.s ?? 0n),
  }
  if (tx.type !== 0) {
    out.chainId = json.chainId
    out.accessList = json.accessList ?? []
    out.yParity = toQuantity(tx.v ?? 0n)
  } else if (tx.supports(Capability.EIP155ReplayProtection)) {
    out.chainId = toQuantity(tx.common.chainId())
  }
  if (tx.type === TransactionType.EOACodeEIP7702) {
    // geth's shape: quantities without leading zeros, the signature's parity as `yParity`.
    const authorizations = (json as { authorizationList?: Array<Record<string, string>> }).authorizationList ?? []
    const quantity = (hex: string | undefined): string => toQuantity(hex === undefined || hex === '0x' ? 0n : BigInt(hex))
    out.authorizationList = authorizations.map((a) => ({
      chainId: quantity(a.chainId),
      address: a.address,
      nonce: quantity(a.nonce),
      yParity: quantity(a.yParity),
      r: quantity(a.r),
      s: quantity(a.s),
    }))
  }
  if (isFeeMarket) {
    const maxFee = BigInt(json.maxFeePerGas ?? '0x0')
    const tip = BigInt(json.maxPriorityFeePerGas ?? '0x0')
    out.maxFeePerGas = toQuantity(maxFee)
    out.maxPriorityFeePerGas = toQuantity(tip)
    out.gasPrice = toQuantity(placement === undefined ? maxFee : placement.effectiveGasPrice)
  } else {
    out.gasPrice = json.gasPrice ?? '0x0'
  }
  return out
}

export function formatReceipt(receipt: TxReceipt, blockHash: Hex | null): RpcObject {
  return {
    transactionHash: receipt.transactionHash,
    transactionIndex: toQuantity(receipt.transactionIndex),
    blockHash,
    blockNumber: toQuantity(receipt.blockNumber),
    from: receipt.from,
    to: receipt.to,
    cumulativeGasUsed: toQuantity(receipt.cumulativeGasUsed),
    gasUsed: toQuantity(receipt.gasUsed),
    effectiveGasPrice: toQuantity(receipt.effectiveGasPrice),
    contractAddress: receipt.contractAddress,
    logs: receipt.logs.map((log, i) => formatLog(log, receipt, receipt.logIndexStart + i, blockHash)),
    logsBloom: toData(receipt.logsBloom),
    type: toQuantity(receipt.type),
    status: toQuantity(receipt.status),
    miniBlockNumber: toQuantity(receipt.miniBlockNumber),
    ...(receipt.depositNonce === undefined
      ? {}
      : {
          depositNonce: toQuantity(receipt.depositNonce),
          depositReceiptVersion: toQuantity(receipt.depositReceiptVersion ?? 1),
        }),
  }
}

export function formatLog(log: Log, receipt: TxReceipt, logIndex: number, blockHash: Hex | null): RpcObject {
  return {
    address: log.address,
    topics: log.topics,
    data: log.data,
    blockNumber: toQuantity(receipt.blockNumber),
    blockHash,
    transactionHash: receipt.transactionHash,
    transactionIndex: toQuantity(receipt.transactionIndex),
    logIndex: toQuantity(logIndex),
    removed: false,
  }
}
