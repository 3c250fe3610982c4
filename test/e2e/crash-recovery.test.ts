/**
 * Durability end to end (slow: restarts real processes). A mini-block's receipts are a
 * preconfirmation: once any client got one it must survive a crash. So: run a load of concurrent
 * `eth_sendRawTransactionSync` senders against a node with a `--datadir`, SIGKILL it mid-load,
 * restart on the same datadir, and check every receipt any client received is still there,
 * identical, with balances to match and the chain moving on. Plus a graceful SIGTERM restart.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { encodeDeployData, encodeFunctionData, keccak256, type Address, type Hex } from 'viem'
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'
import { contract } from '../helpers/contracts.ts'
import {
  DEV_CHAIN_ID,
  DEV_KEYS,
  JsonRpcCallError,
  makeTempDir,
  removeTempDir,
  rpc,
  rpcRaw,
  startNode,
  waitFor,
  type NodeHandle,
} from '../helpers/node-process.ts'
import { unsealedBlockNumber } from '../../src/rpc/eth/format.ts'
import { fetchBlockWithWitness, verifyDevBlock } from '../helpers/witness.ts'
import { durableReceiptFields, syncSender, type RpcBlockHeader, type RpcReceipt } from '../helpers/receipts.ts'

const FEE = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 0n }

const datadirs: string[] = []
const nodes: NodeHandle[] = []

async function newDatadir(): Promise<string> {
  const dir = await makeTempDir('megaeth-crash-')
  datadirs.push(dir)
  return dir
}

async function start(datadir: string, args: string[] = []): Promise<NodeHandle> {
  const node = await startNode({ datadir, args })
  nodes.push(node)
  return node
}

const durableFields = (r: RpcReceipt) => durableReceiptFields(r, { miniBlock: true })

/** JSON-RPC call with an explicit abort (the load must stop promptly when the node dies). */
async function syncSend(url: string, raw: Hex, signal: AbortSignal): Promise<RpcReceipt> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_sendRawTransactionSync', params: [raw, 5_000] }),
    signal,
  })
  const body = (await res.json()) as { result?: RpcReceipt; error?: { code: number; message: string } }
  if (body.error !== undefined) throw new JsonRpcCallError('eth_sendRawTransactionSync', body.error.code, body.error.message)
  return body.result!
}

after(async () => {
  for (const node of nodes) await node.stop()
  for (const dir of datadirs) await removeTempDir(dir)
})

before(() => {
  contract('Token')
})

describe('crash recovery (slow)', { timeout: 180_000 }, () => {
  test('kill -9 mid-load: every receipt a client received survives, identical; balances match; the chain continues', async (t) => {
    const datadir = await newDatadir()
    const first = await start(datadir)
    const token = contract('Token')

    // Token senders need tokens: deploy from account 0 and fund three senders.
    const deployer = privateKeyToAccount(DEV_KEYS[0]!)
    let deployerNonce = 0
    const signed = (account: PrivateKeyAccount, nonce: number, tx: { to?: Address; data?: Hex; value?: bigint; gas: bigint }) =>
      account.signTransaction({
        chainId: DEV_CHAIN_ID,
        type: 'eip1559',
        nonce,
        gas: tx.gas,
        value: tx.value ?? 0n,
        ...(tx.to === undefined ? {} : { to: tx.to }),
        ...(tx.data === undefined ? {} : { data: tx.data }),
        ...FEE,
      })
    const deployed = await rpc<RpcReceipt>(first.rpcUrl, 'eth_sendRawTransactionSync', [
      await signed(deployer, deployerNonce++, {
        data: encodeDeployData({ abi: token.abi, bytecode: token.bytecode, args: ['Crash', 'CR', 10n ** 24n] }),
        gas: 2_000_000n,
      }),
    ])
    const tokenAddress = deployed.contractAddress!
    const tokenSenders = [4, 5, 6].map((i) => privateKeyToAccount(DEV_KEYS[i]!))
    for (const s of tokenSenders) {
      const r = await rpc<RpcReceipt>(first.rpcUrl, 'eth_sendRawTransactionSync', [
        await signed(deployer, deployerNonce++, {
          to: tokenAddress,
          data: encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [s.address, 10n ** 21n] }),
          gas: 100_000n,
        }),
      ])
      assert.equal(r.status, '0x1', 'token funding')
    }

    // The load: 3 ETH senders and 3 token senders, each to its own recipient, sync-sending in a loop.
    interface Sender {
      account: PrivateKeyAccount
      kind: 'eth' | 'token'
      recipient: Address
      startNonce: number
      startBalance: bigint
      sent: Array<{ nonce: number; hash: Hex }>
      received: RpcReceipt[]
    }
    const senders: Sender[] = []
    for (const [i, kind] of [
      [1, 'eth'],
      [2, 'eth'],
      [3, 'eth'],
      [4, 'token'],
      [5, 'token'],
      [6, 'token'],
    ] as const) {
      const account = privateKeyToAccount(DEV_KEYS[i]!)
      senders.push({
        account,
        kind,
        recipient: `0x${(0xc0de00 + i).toString(16).padStart(40, '0')}`,
        startNonce: Number(BigInt(await rpc<Hex>(first.rpcUrl, 'eth_getTransactionCount', [account.address, 'latest']))),
        startBalance: BigInt(await rpc<Hex>(first.rpcUrl, 'eth_getBalance', [account.address, 'latest'])),
        sent: [],
        received: [],
      })
    }
    const VALUE = 1_000n
    const stopLoad = new AbortController()
    const loops = senders.map(async (s) => {
      let nonce = s.startNonce
      while (!stopLoad.signal.aborted) {
        const raw = await signed(
          s.account,
          nonce,
          s.kind === 'eth'
            ? { to: s.recipient, value: VALUE, gas: 21_000n }
            : {
                to: tokenAddress,
                data: encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [s.recipient, VALUE] }),
                gas: 100_000n,
              },
        )
        s.sent.push({ nonce, hash: keccak256(raw) })
        try {
          const receipt = await syncSend(first.rpcUrl, raw, stopLoad.signal)
          // Recorded only when the client actually holds the receipt.
          s.received.push(receipt)
          nonce++
        } catch {
          return // the node died (or the load was stopped): this request's outcome is unknown
        }
      }
    })

    const loadStarted = Date.now()
    await waitFor(
      'load to produce receipts',
      () => senders.every((s) => s.received.length >= 5) && Date.now() - loadStarted > 1_500,
      30_000,
      20,
    )
    // Crash while clients hold receipts of the unsealed block (only in the WAL).
    let headBeforeCrash = 0n
    await waitFor(
      'received receipts above the sealed head',
      async () => {
        headBeforeCrash = BigInt(await rpc<Hex>(first.rpcUrl, 'eth_blockNumber'))
        return senders.some((s) => s.received.some((r) => BigInt(r.blockNumber) > headBeforeCrash))
      },
      10_000,
      5,
    )
    await first.kill9()
    stopLoad.abort()
    await Promise.all(loops)
    const received = senders.flatMap((s) => s.received)
    t.diagnostic(
      `received ${received.length} receipts before kill -9 (sealed head was ${headBeforeCrash}); ${senders.reduce((n, s) => n + s.sent.length, 0)} txs sent`,
    )
    assert.ok(received.length >= 30, `enough load before the crash (${received.length} receipts)`)
    assert.ok(
      received.some((r) => BigInt(r.blockNumber) > headBeforeCrash),
      'some received receipts were in the unsealed block (only in the WAL) at the crash',
    )

    const second = await start(datadir)
    const opened = second
      .logs()
      .stdout.split('\n')
      .find((l) => l.includes('"opened chain"'))
    assert.ok(opened !== undefined, 'the restarted node logged "opened chain"')
    const { unsealedMiniBlocks } = JSON.parse(opened) as { unsealedMiniBlocks: number }
    t.diagnostic(`restart replayed ${unsealedMiniBlocks} unsealed mini-blocks from the WAL`)
    assert.ok(unsealedMiniBlocks > 0, 'the crash left mini-blocks only in the WAL, and the restart replayed them')
    // Every received receipt: present and identical.
    const mismatches: string[] = []
    for (const r of received) {
      const after = await rpc<RpcReceipt | null>(second.rpcUrl, 'eth_getTransactionReceipt', [r.transactionHash])
      if (after === null) {
        mismatches.push(
          `${r.transactionHash}: missing after restart (was in block ${BigInt(r.blockNumber)}, mini-block ${r.miniBlockNumber})`,
        )
        continue
      }
      try {
        assert.deepEqual(durableFields(after), durableFields(r))
      } catch {
        mismatches.push(
          `${r.transactionHash}: differs\n  before ${JSON.stringify(durableFields(r))}\n  after  ${JSON.stringify(durableFields(after))}`,
        )
      }
    }
    assert.deepEqual(mismatches, [], `receipts lost or changed by the crash:\n${mismatches.slice(0, 10).join('\n')}`)

    // Recovery seals the WAL's mini-blocks: received receipts now have a block hash, and the block lists them.
    const lastReceived = received.reduce((a, b) => (BigInt(a.blockNumber) > BigInt(b.blockNumber) ? a : b))
    const sealedLast = await waitFor(
      'the last received receipt to be sealed',
      async () => {
        const r = await rpc<RpcReceipt>(second.rpcUrl, 'eth_getTransactionReceipt', [lastReceived.transactionHash])
        // Unsealed receipts carry a placeholder block hash (the zero-padded block number).
        return unsealedBlockNumber(r.blockHash as `0x${string}`) !== undefined ? undefined : r
      },
      10_000,
      50,
    )
    const block = await rpc<RpcBlockHeader>(second.rpcUrl, 'eth_getBlockByHash', [sealedLast.blockHash, false])
    assert.ok(block.transactions.includes(lastReceived.transactionHash), 'the sealed block lists the recovered tx')

    // A request cut by the crash may have been accepted (journaled) and is restored into the pool:
    // let it land before counting.
    await waitFor(
      'the restored pool to drain',
      async () => {
        for (const s of senders) {
          const [latest, pending] = await Promise.all([
            rpc<Hex>(second.rpcUrl, 'eth_getTransactionCount', [s.account.address, 'latest']),
            rpc<Hex>(second.rpcUrl, 'eth_getTransactionCount', [s.account.address, 'pending']),
          ])
          if (latest !== pending) return false
        }
        return true
      },
      10_000,
      50,
    )

    // Per sender: included txs are exactly a nonce prefix; balances account for exactly those.
    for (const s of senders) {
      const nonceAfter = Number(BigInt(await rpc<Hex>(second.rpcUrl, 'eth_getTransactionCount', [s.account.address, 'latest'])))
      const included: RpcReceipt[] = []
      for (const { nonce, hash } of s.sent) {
        const r = await rpc<RpcReceipt | null>(second.rpcUrl, 'eth_getTransactionReceipt', [hash])
        if (nonce < nonceAfter) {
          assert.ok(
            r !== null,
            `${s.account.address}: nonce ${nonce} < account nonce ${nonceAfter} but its tx ${hash} has no receipt`,
          )
          included.push(r)
        } else {
          assert.equal(r, null, `${s.account.address}: tx at nonce ${nonce} ≥ account nonce ${nonceAfter} has a receipt`)
        }
      }
      assert.ok(
        nonceAfter - s.startNonce >= s.received.length,
        `${s.account.address}: nonce ${nonceAfter} does not cover the ${s.received.length} received receipts`,
      )
      for (const r of included) assert.equal(r.status, '0x1', `load tx ${r.transactionHash} succeeded`)
      const fees = included.reduce((sum, r) => sum + BigInt(r.gasUsed) * BigInt(r.effectiveGasPrice), 0n)
      const spentValue = s.kind === 'eth' ? VALUE * BigInt(included.length) : 0n
      assert.equal(
        BigInt(await rpc<Hex>(second.rpcUrl, 'eth_getBalance', [s.account.address, 'latest'])),
        s.startBalance - fees - spentValue,
        `${s.account.address}: ETH balance`,
      )
      const recipientBalance =
        s.kind === 'eth'
          ? BigInt(await rpc<Hex>(second.rpcUrl, 'eth_getBalance', [s.recipient, 'latest']))
          : BigInt(
              await rpc<Hex>(second.rpcUrl, 'eth_call', [
                {
                  to: tokenAddress,
                  data: encodeFunctionData({ abi: token.abi, functionName: 'balanceOf', args: [s.recipient] }),
                },
                'latest',
              ]),
            )
      assert.equal(
        recipientBalance,
        VALUE * BigInt(included.length),
        `${s.recipient}: ${s.kind} balance = ${included.length} transfers`,
      )
    }

    // The chain is intact across the crash: parent hashes link block by block, and every block —
    // those sealed from the WAL after the restart included — verifies statelessly from its witness.
    const head = BigInt(await rpc<Hex>(second.rpcUrl, 'eth_blockNumber'))
    let parent = await rpc<RpcBlockHeader>(second.rpcUrl, 'eth_getBlockByNumber', ['0x0', false])
    for (let n = 1n; n <= head; n++) {
      const b = await rpc<RpcBlockHeader>(second.rpcUrl, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, false])
      assert.equal(b.parentHash, parent.hash, `block ${n} links to block ${n - 1n}`)
      parent = b
      const { block, witness } = await fetchBlockWithWitness(second.rpcUrl, n)
      await verifyDevBlock(block, witness)
    }

    // ...and continues: a new tx from every sender lands, new blocks are sealed.
    for (const s of senders) {
      const nonce = Number(BigInt(await rpc<Hex>(second.rpcUrl, 'eth_getTransactionCount', [s.account.address, 'pending'])))
      const r = await rpc<RpcReceipt>(second.rpcUrl, 'eth_sendRawTransactionSync', [
        await signed(s.account, nonce, { to: s.recipient, value: 1n, gas: 21_000n }),
      ])
      assert.equal(r.status, '0x1', 'post-recovery tx succeeded')
      assert.ok(BigInt(r.blockNumber) > BigInt(lastReceived.blockNumber), 'post-recovery txs go into later blocks')
    }
    await waitFor(
      'a new block after the restart',
      async () => BigInt(await rpc<Hex>(second.rpcUrl, 'eth_blockNumber')) > head,
      10_000,
      100,
    )
    await second.stop()
  })

  test('kill -9 right after eth_sendRawTransaction answered: every acknowledged transaction still lands', async (t) => {
    const datadir = await newDatadir()
    // Slow mini-blocks: the crash lands while the acknowledged transactions are only in the pool.
    const first = await start(datadir, ['--miniblock-ms=2000', '--block-ms=4000'])
    const account = privateKeyToAccount(DEV_KEYS[8]!)
    const recipient: Address = '0x000000000000000000000000000000000000c0fe'
    const raws = await Promise.all(
      Array.from({ length: 50 }, (_, nonce) =>
        account.signTransaction({
          chainId: DEV_CHAIN_ID,
          type: 'eip1559',
          nonce,
          gas: 21_000n,
          to: recipient,
          value: 1n,
          ...FEE,
        }),
      ),
    )
    // Wait out the first mini-block so the next one is ~2 s away, then submit one batch and crash at once.
    await waitFor(
      'a mini-block boundary',
      async () => BigInt((await rpc<{ head: { miniBlock: Hex } }>(first.rpcUrl, 'mega_nodeInfo')).head.miniBlock) > 0n,
      10_000,
      20,
    )
    const res = await fetch(first.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(raws.map((raw, id) => ({ jsonrpc: '2.0', id, method: 'eth_sendRawTransaction', params: [raw] }))),
    })
    const answers = (await res.json()) as Array<{ result?: Hex; error?: unknown }>
    await first.kill9()
    const hashes = answers.map((a) => a.result).filter((h): h is Hex => h !== undefined)
    assert.equal(
      hashes.length,
      50,
      `every transaction acknowledged: ${JSON.stringify(answers.find((a) => a.error !== undefined))}`,
    )

    const second = await start(datadir)
    const restored = second
      .logs()
      .stdout.split('\n')
      .find((l) => l.includes('restored the transaction pool'))
    t.diagnostic(restored ?? 'no pool restore logged')
    assert.ok(restored !== undefined, 'the restart restored the pool from its journal')
    for (const hash of hashes) {
      const receipt = await waitFor(
        `receipt of acknowledged ${hash}`,
        () => rpc<RpcReceipt | null>(second.rpcUrl, 'eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined),
        10_000,
        50,
      )
      assert.equal(receipt.status, '0x1')
    }
    assert.equal(BigInt(await rpc<Hex>(second.rpcUrl, 'eth_getBalance', [recipient, 'latest'])), 50n)
    await second.stop()
  })

  test('graceful restart (SIGTERM): exits 0, everything sealed, same head and state after restart', async (t) => {
    const datadir = await newDatadir()
    // debug level: the sealer logs each block it seals (used to learn the final head at shutdown).
    const first = await start(datadir, ['--log.level=debug'])
    const counter = contract('Counter')
    const account = privateKeyToAccount(DEV_KEYS[7]!)
    const send = syncSender(first.rpcUrl, account, FEE)
    const deployed = await send({ data: counter.bytecode, gas: 500_000n })
    const counterAddress = deployed.contractAddress!
    for (let i = 0; i < 5; i++)
      await send({ to: counterAddress, data: encodeFunctionData({ abi: counter.abi, functionName: 'increment' }), gas: 100_000n })
    const recipient: Address = '0x000000000000000000000000000000000000beef'
    const last = await send({ to: recipient, value: 12_345n, gas: 21_000n })

    const stateOf = async (url: string) => ({
      balance: await rpc<Hex>(url, 'eth_getBalance', [account.address, 'latest']),
      recipient: await rpc<Hex>(url, 'eth_getBalance', [recipient, 'latest']),
      nonce: await rpc<Hex>(url, 'eth_getTransactionCount', [account.address, 'latest']),
      count: await rpc<Hex>(url, 'eth_getStorageAt', [counterAddress, '0x0', 'latest']),
      code: await rpc<Hex>(url, 'eth_getCode', [counterAddress, 'latest']),
    })
    const before = await stateOf(first.rpcUrl)
    assert.equal(BigInt(before.count), 5n)
    const headBefore = await rpc<RpcBlockHeader>(first.rpcUrl, 'eth_getBlockByNumber', ['latest', false])

    const stopStarted = Date.now()
    const exit = await first.stop()
    t.diagnostic(`graceful stop took ${Date.now() - stopStarted} ms`)
    assert.equal(
      exit.code,
      0,
      `clean exit code (got ${exit.code}, signal ${exit.signal}); stderr: ${first.logs().stderr.slice(-500)}`,
    )
    // The last block the stopping node sealed.
    const sealedNumbers = first
      .logs()
      .stdout.split('\n')
      .filter((l) => l.includes('"sealed block"'))
      .map((l) => BigInt((JSON.parse(l) as { number: string }).number))
    assert.ok(sealedNumbers.length > 0, 'the sealer logged its blocks at debug level')
    const finalHead = sealedNumbers[sealedNumbers.length - 1]!
    assert.ok(finalHead >= BigInt(headBefore.number), 'stop seals at least up to the head seen before it')

    const second = await start(datadir, ['--log.level=debug'])
    const opened = second
      .logs()
      .stdout.split('\n')
      .find((l) => l.includes('"opened chain"'))
    assert.ok(opened !== undefined, 'the restarted node logged "opened chain"')
    const openedInfo = JSON.parse(opened) as { head: string; unsealedMiniBlocks: number }
    assert.equal(BigInt(openedInfo.head), finalHead, 'restart resumes at the head sealed at shutdown')
    assert.equal(openedInfo.unsealedMiniBlocks, 0, 'a graceful stop leaves no unsealed mini-blocks in the WAL')

    const sameBlock = await rpc<RpcBlockHeader>(second.rpcUrl, 'eth_getBlockByNumber', [headBefore.number, false])
    assert.equal(sameBlock.hash, headBefore.hash, 'blocks sealed before the stop are unchanged')
    assert.equal(sameBlock.stateRoot, headBefore.stateRoot)
    assert.deepEqual(await stateOf(second.rpcUrl), before, 'same state after the restart')
    const receipt = await rpc<RpcReceipt>(second.rpcUrl, 'eth_getTransactionReceipt', [last.transactionHash])
    assert.deepEqual(durableFields(receipt), durableFields(last))
    assert.equal(unsealedBlockNumber(receipt.blockHash as `0x${string}`), undefined, 'the last receipt is sealed')

    // The chain continues from there.
    const more = await send({ to: recipient, value: 1n, gas: 21_000n }, second.rpcUrl)
    assert.equal(more.status, '0x1', 'a tx after the restart lands')
    assert.ok(BigInt(more.blockNumber) > finalHead, 'in a block after the restored head')
    await waitFor(
      'a block above the restored head',
      async () => BigInt(await rpc<Hex>(second.rpcUrl, 'eth_blockNumber')) > finalHead,
      10_000,
      100,
    )
    const r = await rpcRaw<Hex>(second.rpcUrl, 'eth_getBalance', [recipient, 'latest'])
    assert.equal(BigInt(r.result!), 12_346n)
  })
})
