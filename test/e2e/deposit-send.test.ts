// run-tests: pair — a node or anvil answering a few calls: no load, no assertion on time
/**
 * A user cannot submit an OP deposit (type 0x7E): every send method of a running node refuses it with
 * geth's rejection code and a message saying where deposits come from, and nothing is pooled.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import { encodeDepositTx, userDepositSourceHash } from '../../src/chain/deposit-tx.ts'
import { DepositTx } from '../../src/chain/l2-transaction.ts'
import { rpc, rpcError, startNode, type NodeHandle } from '../helpers/node-process.ts'

let node: NodeHandle
before(async () => {
  node = await startNode()
})
after(async () => {
  await node?.stop()
})

test('eth_sendRawTransaction, eth_sendRawTransactionSync and realtime_sendRawTransaction refuse a 0x7E payload', async () => {
  const deposit = {
    sourceHash: userDepositSourceHash(`0x${'12'.repeat(32)}`, 0),
    from: '0x00000000000000000000000000000000000a11ce',
    to: '0x000000000000000000000000000000000000b0b0',
    mint: 10n ** 18n,
    value: 0n,
    gas: 100_000n,
    isSystemTx: false,
    data: '0x',
  } as const
  const raw = bytesToHex(encodeDepositTx(deposit))
  const refusal = { code: -32000, message: 'deposit transactions come from L1 only' }
  for (const method of ['eth_sendRawTransaction', 'eth_sendRawTransactionSync', 'realtime_sendRawTransaction']) {
    const error = await rpcError(node.rpcUrl, method, [raw])
    assert.deepEqual({ code: error.code, message: error.message }, refusal, method)
  }
  assert.equal(await rpc(node.rpcUrl, 'eth_getTransactionByHash', [DepositTx.fromFields(deposit).hashHex()]), null)
})
