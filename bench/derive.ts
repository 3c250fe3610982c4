/**
 * Derivation speed: a `--dev` sequencer with its dev L1 takes a load of signed ETH transfers and posts
 * its blocks to L1 (calldata); once L1 holds them all (its `safe` head), a `--sync=l1` replica rebuilds
 * the chain from L1 alone. Reports the replica's L2 blocks/s and tx/s against the sequencer's
 * production (1 block/s, and the transfers/s it sustained), the target being ≥ 2×.
 *
 *   node --import tsx bench/derive.ts [--txs=4000]      (part of: npm run bench -- da)
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { mkdirSync, writeFileSync } from 'node:fs'
import { privateKeyToAccount } from 'viem/accounts'
import {
  DEV_CHAIN_ID,
  DEV_KEYS,
  makeTempDir,
  postRaw,
  removeTempDir,
  rpc,
  startNode,
  waitFor,
} from '../test/helpers/node-process.ts'

export interface DeriveBenchResult {
  l2Txs: number
  /** Blocks the replica rebuilt (genesis excluded): the loaded ones and the idle ones around them. */
  l2Blocks: number
  productionSeconds: number
  productionTps: number
  /** From the replica's spawn to the sequencer's safe head (its start-up included). */
  deriveSeconds: number
  derivedBlocksPerSecond: number
  derivedTps: number
  /** Derived blocks/s over the sequencer's 1 block/s. */
  blocksRatio: number
  /** Derived tx/s over the sequencer's sustained tx/s. */
  txRatio: number
}

const SENDERS = 16
/** The chain the replica rebuilds is at least this long (blocks). */
const MIN_BLOCKS = 60n

export async function runDeriveBench(
  options: { txs?: number } = {},
  log: (line: string) => void = console.log,
): Promise<DeriveBenchResult> {
  const perSender = Math.ceil((options.txs ?? 4000) / SENDERS)
  const txCount = perSender * SENDERS
  const dir = await makeTempDir('megaeth-bench-derive-')
  const sequencer = await startNode({
    l1: true,
    datadir: join(dir, 'sequencer'),
    args: ['--batcher.data-availability-type=calldata'],
  })
  try {
    // Nonce-major: one batch holds a few nonces of every sender (the pool refuses nonces more than 64
    // ahead of a sender's pending ones, and a batch's transactions are admitted in parallel).
    const signed: string[] = []
    for (let nonce = 0; nonce < perSender; nonce++) {
      for (let s = 0; s < SENDERS; s++) {
        const account = privateKeyToAccount(DEV_KEYS[2 + s]!)
        signed.push(
          await account.signTransaction({
            chainId: DEV_CHAIN_ID,
            type: 'eip1559',
            nonce,
            to: `0x${(s * perSender + nonce + 1).toString(16).padStart(40, '0')}`,
            value: 1n,
            gas: 21_000n,
            maxFeePerGas: 10_000_000_000n,
            maxPriorityFeePerGas: 1n,
          }),
        )
      }
    }
    const started = performance.now()
    for (let i = 0; i < signed.length; i += 200) {
      const batch = signed
        .slice(i, i + 200)
        .map((raw, j) => ({ jsonrpc: '2.0', id: i + j, method: 'eth_sendRawTransaction', params: [raw] }))
      const answers = JSON.parse((await postRaw(sequencer.rpcUrl, JSON.stringify(batch))).text) as Array<{
        error?: { message: string }
      }>
      const refused = answers.find((a) => a.error !== undefined)
      if (refused !== undefined) throw new Error(`the sequencer refused a transfer: ${refused.error!.message}`)
    }
    const last = privateKeyToAccount(DEV_KEYS[2 + SENDERS - 1]!).address
    await waitFor(
      'every transfer included',
      async () => {
        for (let s = 0; s < SENDERS; s++) {
          const address = privateKeyToAccount(DEV_KEYS[2 + s]!).address
          if (BigInt(await rpc<string>(sequencer.rpcUrl, 'eth_getTransactionCount', [address, 'latest'])) < BigInt(perSender))
            return false
        }
        return last
      },
      300_000,
      50,
    )
    const productionSeconds = (performance.now() - started) / 1000
    // At least a minute of chain: the replica's start-up (counted in) is then a small share.
    let head = BigInt(await rpc<string>(sequencer.rpcUrl, 'eth_blockNumber'))
    if (head < MIN_BLOCKS) head = MIN_BLOCKS
    await waitFor(
      'the safe head at the loaded blocks',
      async () =>
        BigInt((await rpc<{ safe_l2: { number: number } }>(sequencer.rpcUrl, 'optimism_syncStatus')).safe_l2.number) >= head,
      300_000,
      200,
    )
    const info = await rpc<{ l1: { rpc: string } }>(sequencer.rpcUrl, 'mega_nodeInfo')
    const spawned = performance.now()
    const replica = await startNode({
      datadir: join(dir, 'replica'),
      args: [
        '--role=replica',
        '--sync=l1',
        `--l1.rpc=${info.l1.rpc}`,
        `--rollup.config=${join(dir, 'sequencer', 'rollup.json')}`,
        '--l1.confirmations=0',
      ],
    })
    try {
      await waitFor(
        'the replica at the safe head',
        async () => BigInt(await rpc<string>(replica.rpcUrl, 'eth_blockNumber')) >= head,
        600_000,
        20,
      )
      // From the process's spawn: start-up (datadir, genesis, the L1 reads) counts against derivation.
      const deriveSeconds = (performance.now() - spawned) / 1000
      const l2Blocks = Number(head)
      const result: DeriveBenchResult = {
        l2Txs: txCount,
        l2Blocks,
        productionSeconds,
        productionTps: txCount / productionSeconds,
        deriveSeconds,
        derivedBlocksPerSecond: l2Blocks / deriveSeconds,
        derivedTps: txCount / deriveSeconds,
        blocksRatio: l2Blocks / deriveSeconds,
        txRatio: txCount / deriveSeconds / (txCount / productionSeconds),
      }
      log(
        `derivation from L1: ${l2Blocks} L2 blocks (${txCount} transfers) rebuilt in ${deriveSeconds.toFixed(1)} s = ${result.derivedBlocksPerSecond.toFixed(1)} blocks/s (${result.blocksRatio.toFixed(1)}× the sequencer's 1 block/s), ${result.derivedTps.toFixed(0)} tx/s (${result.txRatio.toFixed(2)}× its ${result.productionTps.toFixed(0)} tx/s sustained)`,
      )
      return result
    } finally {
      await replica.stop()
    }
  } finally {
    await sequencer.stop()
    await removeTempDir(dir)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
  const result = await runDeriveBench({ txs: Number(arg('txs') ?? 4000) })
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  writeFileSync(new URL('./results/derive.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`)
}
