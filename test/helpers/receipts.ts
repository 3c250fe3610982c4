/**
 * The JSON-RPC receipt and block shapes crash tests hold on to, and the part of a receipt a crash
 * must not change. Shared by the crash-recovery e2e test and the crash campaign, which both compare
 * what a client was told before a `kill -9` with what the restarted node answers.
 */
import assert from 'node:assert/strict'
import type { Address, Hex } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import { DEV_CHAIN_ID, rpc } from './node-process.ts'

export interface RpcLog {
  address: Address
  topics: Hex[]
  data: Hex
  logIndex: Hex
  transactionIndex?: Hex
  blockNumber?: Hex
}

export interface RpcReceipt {
  transactionHash: Hex
  transactionIndex: Hex
  /** Null (sync sends) or a placeholder (the zero-padded block number) before the block is sealed. */
  blockHash: Hex | null
  blockNumber: Hex
  from: Address
  to: Address | null
  cumulativeGasUsed: Hex
  gasUsed: Hex
  effectiveGasPrice: Hex
  contractAddress: Address | null
  logs: RpcLog[]
  status: Hex
  miniBlockNumber?: Hex
}

export interface RpcBlockHeader {
  number: Hex
  hash: Hex
  parentHash: Hex
  stateRoot: Hex
  /** Hashes (the blocks are read with `false`). */
  transactions: Hex[]
}

/**
 * The fields of a receipt a crash must not change. The block hash is left out: a receipt given
 * before its block was sealed has none or a placeholder, so callers compare it where it is known.
 * `miniBlock`: compare the mini-block number too (a node restarting from its own WAL replays its
 * mini-blocks as they were).
 */
export function durableReceiptFields(r: RpcReceipt, opts: { miniBlock?: boolean } = {}) {
  return {
    ...(opts.miniBlock === true ? { miniBlockNumber: r.miniBlockNumber } : {}),
    transactionHash: r.transactionHash,
    transactionIndex: r.transactionIndex,
    blockNumber: r.blockNumber,
    status: r.status,
    gasUsed: r.gasUsed,
    cumulativeGasUsed: r.cumulativeGasUsed,
    effectiveGasPrice: r.effectiveGasPrice,
    from: r.from,
    to: r.to,
    contractAddress: r.contractAddress,
    logs: r.logs.map((l) => ({ address: l.address, topics: l.topics, data: l.data, logIndex: l.logIndex })),
  }
}

/** The fields of a transaction a test varies; the rest is an EIP-1559 transaction at the sender's fees. */
export interface SyncTx {
  to?: Address
  data?: Hex
  value?: bigint
  gas: bigint
}

/**
 * Sends `account`'s transactions to the dev chain at `url` (or, per call, another node of the same chain, e.g. the
 * restarted one) one at a time with `eth_sendRawTransactionSync`, nonces counted from 0, and answers each one's
 * receipt (the one a crash test later holds the node to).
 */
export function syncSender(
  url: string,
  account: PrivateKeyAccount,
  fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
): (tx: SyncTx, nodeUrl?: string) => Promise<RpcReceipt> {
  let nonce = 0
  return async (tx, nodeUrl = url) =>
    rpc<RpcReceipt>(nodeUrl, 'eth_sendRawTransactionSync', [
      await account.signTransaction({
        chainId: DEV_CHAIN_ID,
        type: 'eip1559',
        nonce: nonce++,
        gas: tx.gas,
        value: tx.value ?? 0n,
        ...(tx.to === undefined ? {} : { to: tx.to }),
        ...(tx.data === undefined ? {} : { data: tx.data }),
        ...fees,
      }),
    ])
}

/** `syncSender` whose receipts must succeed (status 1): traffic a test builds state with, not tests of failure. */
export function succeedingSender(
  url: string,
  account: PrivateKeyAccount,
  fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
): (tx: SyncTx) => Promise<RpcReceipt> {
  const sendSync = syncSender(url, account, fees)
  return async (tx) => {
    const receipt = await sendSync(tx)
    assert.equal(receipt.status, '0x1')
    return receipt
  }
}
