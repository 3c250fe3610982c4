/**
 * Reads at recent block numbers survive a restart (docs/DESIGN.md "State history on disk"), end to end:
 * a --dev sequencer without L1 (which keeps no reverse diffs for rewinds) takes ETH and token traffic
 * over several blocks; `eth_getBalance`, `eth_getStorageAt`, `eth_getTransactionCount`, `eth_call` and
 * `eth_getProof` answers at past block numbers are recorded; after a SIGTERM and then a SIGKILL restart
 * the node gives the same answers at the same numbers. (The window's edge and a snapshot sync's pivot:
 * test/unit/state-history-disk.test.ts.)
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeDeployData, encodeFunctionData, keccak256, pad, toHex, type Address, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { contract } from '../helpers/contracts.ts'
import { DEV_KEYS, makeTempDir, removeTempDir, rpc, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'
import { succeedingSender } from '../helpers/receipts.ts'

const FEE = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 0n }
/** Four blocks a second: the default 128-block history (32 s) holds every block the test reads at. */
const ARGS = ['--block-ms=250']

const nodes: NodeHandle[] = []
let datadir: string | undefined

after(async () => {
  for (const node of nodes) await node.stop()
  if (datadir !== undefined) await removeTempDir(datadir)
})

async function start(dir: string): Promise<NodeHandle> {
  const node = await startNode({ datadir: dir, args: ARGS })
  nodes.push(node)
  return node
}

const sealedNumber = async (node: NodeHandle): Promise<bigint> => BigInt(await rpc<Hex>(node.rpcUrl, 'eth_blockNumber'))

describe('state history across restarts', { timeout: 90_000 }, () => {
  test('reads at past block numbers answer the same after a SIGTERM and a SIGKILL restart', async () => {
    datadir = await makeTempDir('megaeth-history-restart-')
    let node = await start(datadir)
    const token = contract('Token')
    const sender = privateKeyToAccount(DEV_KEYS[0]!)
    const send = succeedingSender(node.rpcUrl, sender, FEE)
    const deployed = await send({
      data: encodeDeployData({ abi: token.abi, bytecode: token.bytecode, args: ['History', 'HS', 10n ** 24n] }),
      gas: 2_000_000n,
    })
    const tokenAddress = deployed.contractAddress!
    const recipient = `0x${'5'.repeat(40)}` as Address
    // The token's `balanceOf` slot (slot 3 of contracts/Token.sol) of the recipient.
    const slot = keccak256(`${pad(recipient)}${pad('0x3').slice(2)}` as Hex)
    const blocks = [BigInt(deployed.blockNumber)]
    for (let i = 1n; i <= 4n; i++) {
      await send({ to: recipient, value: 10n ** 15n * i, gas: 21_000n })
      const moved = await send({
        to: tokenAddress,
        data: encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [recipient, 1000n * i] }),
        gas: 100_000n,
      })
      blocks.push(BigInt(moved.blockNumber))
      // The next round in a later block: each block read at holds a different state.
      await waitFor('the round sealed', async () => (await sealedNumber(node)) >= BigInt(moved.blockNumber), 10_000)
    }
    const last = blocks.at(-1)!
    await waitFor('the traffic sealed', async () => (await sealedNumber(node)) > last, 10_000)
    // Each transfer's block and the one before it: the state the block wrote, and what it overwrote.
    const numbers = [...new Set(blocks.flatMap((b) => [b - 1n, b]))].sort((a, b) => Number(a - b))
    const balanceOf = encodeFunctionData({ abi: token.abi, functionName: 'balanceOf', args: [recipient] })

    /** Every read at every recorded block number, as JSON-RPC answers them. */
    const answers = async (at: NodeHandle): Promise<unknown[]> =>
      Promise.all(
        numbers.map(async (number) => {
          const tag = toHex(number)
          return {
            number,
            balance: await rpc<Hex>(at.rpcUrl, 'eth_getBalance', [recipient, tag]),
            nonce: await rpc<Hex>(at.rpcUrl, 'eth_getTransactionCount', [sender.address, tag]),
            storage: await rpc<Hex>(at.rpcUrl, 'eth_getStorageAt', [tokenAddress, slot, tag]),
            code: (await rpc<Hex>(at.rpcUrl, 'eth_getCode', [tokenAddress, tag])).length,
            call: await rpc<Hex>(at.rpcUrl, 'eth_call', [{ to: tokenAddress, data: balanceOf }, tag]),
            proof: await rpc(at.rpcUrl, 'eth_getProof', [tokenAddress, [slot], tag]),
          }
        }),
      )
    const before = await answers(node)
    const distinct = new Set(before.map((a) => JSON.stringify({ ...(a as object), number: 0 }))).size
    assert.ok(distinct >= 5, `the blocks read differ (${distinct} distinct of ${numbers.length})`)

    await node.stop()
    node = await start(datadir)
    assert.deepEqual(await answers(node), before, 'after a SIGTERM restart')

    await node.kill9()
    node = await start(datadir)
    assert.deepEqual(await answers(node), before, 'after a SIGKILL restart')

    await node.stop()
  })
})
