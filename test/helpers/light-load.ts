/**
 * A light load on a dev chain for replica suites: blocks that carry transactions, fresh accounts,
 * contract code and storage changes, without loading two cores.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { encodeFunctionData, type Address, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { contract } from './contracts.ts'
import { DEV_CHAIN_ID, DEV_KEYS, rpc } from './node-process.ts'

const hex = (n: bigint | number): Hex => `0x${n.toString(16)}`

export interface LightLoad {
  /** The block that deployed the Counter: the load runs from the next one on. */
  startBlock: bigint
  /** The Counter the load increments. */
  counter: Address
  sent(): number
  errors(): string[]
  stop(): Promise<void>
}

/**
 * Keeps a light load going until stopped: every ~100 ms one ETH transfer to a fresh address and one
 * Counter increment, each from its own dev account, signed locally with tracked nonces.
 */
export async function startLightLoad(url: string): Promise<LightLoad> {
  const deployer = privateKeyToAccount(DEV_KEYS[0]!)
  const fees = { maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 6n }
  const deployNonce = BigInt(await rpc<Hex>(url, 'eth_getTransactionCount', [deployer.address, 'pending']))
  const deployTx = await deployer.signTransaction({
    chainId: DEV_CHAIN_ID,
    type: 'eip1559',
    nonce: Number(deployNonce),
    gas: 1_000_000n,
    data: contract('Counter').bytecode,
    ...fees,
  })
  const receipt = await rpc<{ status: Hex; contractAddress: Address; blockNumber: Hex }>(url, 'eth_sendRawTransactionSync', [
    deployTx,
    10_000,
  ])
  assert.equal(receipt.status, '0x1', 'Counter deployment failed')
  const counter = receipt.contractAddress
  const increment = encodeFunctionData({ abi: contract('Counter').abi, functionName: 'increment' })

  const senders = [privateKeyToAccount(DEV_KEYS[1]!), privateKeyToAccount(DEV_KEYS[2]!)]
  const nonces = await Promise.all(
    senders.map(async (s) => BigInt(await rpc<Hex>(url, 'eth_getTransactionCount', [s.address, 'pending']))),
  )
  let sent = 0
  const errors: string[] = []
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const txs = [
        { i: 0, tx: { to: `0x${randomBytes(20).toString('hex')}` as Address, value: 10n ** 12n, gas: 21_000n } },
        { i: 1, tx: { to: counter, data: increment, gas: 200_000n } },
      ]
      for (const { i, tx } of txs) {
        const sender = senders[i]!
        try {
          const raw = await sender.signTransaction({
            chainId: DEV_CHAIN_ID,
            type: 'eip1559',
            nonce: Number(nonces[i]!),
            ...fees,
            ...tx,
          })
          await rpc(url, 'eth_sendRawTransaction', [raw])
          nonces[i]!++
          sent++
        } catch (error) {
          if (stopped) break
          errors.push(error instanceof Error ? error.message : String(error))
          nonces[i] = BigInt(
            await rpc<Hex>(url, 'eth_getTransactionCount', [sender.address, 'pending']).catch(() => hex(nonces[i]!)),
          )
        }
      }
      await sleep(100)
    }
  })()
  return {
    startBlock: BigInt(receipt.blockNumber),
    counter,
    sent: () => sent,
    errors: () => errors,
    async stop() {
      stopped = true
      await loop
    },
  }
}
