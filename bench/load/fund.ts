/**
 * Setup transactions sent from the orchestrator: funding bench senders from the 20 dev accounts,
 * deploying contracts. Submitted in nonce order in batches, resubmitted while rejected for
 * ordering reasons, then awaited by receipt.
 */
import type { Server } from '../lib/servers.ts'
import { hexNum, type RpcClient } from '../lib/rpc.ts'
import { sleep } from '../lib/stats.ts'
import { benchAccounts, devAccounts, type BenchAccount } from './keys.ts'
import { signNative, toHexString, txHash, type TxFields } from './sign.ts'

export interface SignedTx {
  raw: string
  hash: string
}

export function sign(
  server: Server,
  from: BenchAccount,
  fields: Omit<TxFields, 'chainId' | 'maxFeePerGas' | 'maxPriorityFeePerGas'>,
): SignedTx {
  const raw = signNative(
    {
      ...fields,
      chainId: server.chainId,
      maxFeePerGas: server.fees.maxFeePerGas,
      maxPriorityFeePerGas: server.fees.maxPriorityFeePerGas,
    },
    from.privateKey,
  )
  return { raw: toHexString(raw), hash: txHash(raw) }
}

export async function nonceOf(rpc: RpcClient, address: string): Promise<number> {
  return hexNum(await rpc.call<string>('eth_getTransactionCount', [address, 'pending']))
}

/** Submits `txs` in order, `batchSize` per request, one request at a time; retries ordering rejections. */
export async function submitAll(rpc: RpcClient, txs: SignedTx[], batchSize = 100, timeoutMs = 60_000): Promise<void> {
  let todo = txs
  const deadline = Date.now() + timeoutMs
  while (todo.length > 0) {
    const again: SignedTx[] = []
    let lastError = ''
    for (let i = 0; i < todo.length; i += batchSize) {
      const chunk = todo.slice(i, i + batchSize)
      const res = await rpc.batch<string>(chunk.map((t) => ['eth_sendRawTransaction', [t.raw]]))
      res.forEach((r, k) => {
        if (r.error === undefined || /already known|already imported/i.test(r.error.message)) return
        if (/nonce too low/i.test(r.error.message) && todo !== txs) return
        lastError = r.error.message
        again.push(chunk[k]!)
      })
    }
    if (again.length === 0) return
    if (Date.now() > deadline) throw new Error(`${again.length} setup txs still rejected: ${lastError}`)
    todo = again
    await sleep(100)
  }
}

/** Waits until every hash has a successful receipt. */
export async function waitReceipts(
  rpc: RpcClient,
  hashes: string[],
  timeoutMs = 60_000,
): Promise<Array<{ blockNumber: number; contractAddress: string | null }>> {
  const deadline = Date.now() + timeoutMs
  const out = new Map<string, { blockNumber: number; contractAddress: string | null }>()
  while (out.size < hashes.length) {
    const missing = hashes.filter((h) => !out.has(h))
    for (let i = 0; i < missing.length; i += 200) {
      const res = await rpc.batch<{ status: string; blockNumber: string; contractAddress: string | null } | null>(
        missing.slice(i, i + 200).map((h) => ['eth_getTransactionReceipt', [h]]),
      )
      res.forEach((r, k) => {
        const rc = r.result
        if (rc === null || rc === undefined) return
        if (rc.status !== '0x1') throw new Error(`setup tx ${missing[i + k]} reverted`)
        out.set(missing[i + k]!, { blockNumber: hexNum(rc.blockNumber), contractAddress: rc.contractAddress })
      })
    }
    if (out.size < hashes.length) {
      if (Date.now() > deadline) throw new Error(`${hashes.length - out.size} setup txs not included after ${timeoutMs} ms`)
      await sleep(50)
    }
  }
  return hashes.map((h) => out.get(h)!)
}

/** Waits until block `n` is visible through eth_blockNumber (megaeth-node: sealed). */
export async function waitBlock(rpc: RpcClient, n: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (hexNum(await rpc.call<string>('eth_blockNumber')) < n) {
    if (Date.now() > deadline) throw new Error(`block ${n} not sealed after ${timeoutMs} ms`)
    await sleep(50)
  }
}

/**
 * Gives every account of `set` [0, count) `amountWei`, from the 20 dev accounts (account i is
 * funded by dev account i mod 20). Returns once all transfers are in a sealed block.
 */
export async function fundAccounts(server: Server, set: string, count: number, amountWei: bigint): Promise<BenchAccount[]> {
  const accounts = benchAccounts(set, 0, count)
  const dev = devAccounts()
  const nonces = await Promise.all(dev.map((d) => nonceOf(server.rpc, d.addressHex)))
  const txs: SignedTx[] = []
  const perDev = Math.ceil(count / dev.length)
  // Ordered by round so each batch carries consecutive nonces of every dev account.
  for (let r = 0; r < perDev; r++) {
    for (let d = 0; d < dev.length; d++) {
      const i = r * dev.length + d
      if (i >= count) break
      txs.push(
        sign(server, dev[d]!, {
          nonce: nonces[d]!++,
          gasLimit: 21_000n,
          to: accounts[i]!.address,
          value: amountWei,
          data: new Uint8Array(0),
        }),
      )
    }
  }
  await submitAll(server.rpc, txs)
  const lastPerDev = txs.slice(-dev.length).map((t) => t.hash)
  const receipts = await waitReceipts(server.rpc, lastPerDev)
  await waitBlock(server.rpc, Math.max(...receipts.map((r) => r.blockNumber)))
  return accounts
}
