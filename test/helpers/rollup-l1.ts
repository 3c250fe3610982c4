/**
 * An L1 a test owns (anvil, 1 s blocks, chain id 900) with the dev rollup deployed on it, as the dev L1
 * deploys it: for suites that must keep L1 running while the sequencer is down or L1 misbehaves. Nodes
 * join it with `l1Args` (the rollup.json and the batcher key are written into the test's directory).
 *
 * Like the dev L1, anvil mines on demand while the contracts deploy and only then a block a second: the
 * deployment is a dozen transactions sent one after the other, and with 1 s blocks (and viem's receipt polling)
 * it took about 40 s of every suite's set-up. No suite depends on how the deployment blocks were mined.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Address, createPublicClient, createWalletClient, defineChain, type Hex, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { getL2TransactionHashes, walletActionsL1 } from 'viem/op-stack'
import { createChainCommon } from '../../src/chain/config.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import { rollupConfigToJson, type RollupConfig } from '../../src/chain/rollup-config.ts'
import type { DisputeDeployParams } from '../../src/bridge/deploy.ts'
import { genesisHash, genesisOutputRoot } from '../../src/node/bootstrap.ts'
import { deployDevRollup } from '../../src/node/dev-l1.ts'
import { anchoredDevGenesis } from '../../src/node/l1-services.ts'
import { DEV_KEYS, rpc, startAnvil, type AnvilHandle } from './node-process.ts'

export interface RollupL1 {
  anvil: AnvilHandle
  rollup: RollupConfig
  /** Flags of any node on this L1 (`--l1.rpc`, `--rollup.config`, the confirmation depth, a fast poll). */
  l1Args(confirmations: number): string[]
  /** Flags of the sequencer: the batcher key (dev key #1) and calldata batches. */
  batcherArgs(): string[]
}

/**
 * `seqWindowSize`: another sequencing window than the dev rollup's 40 L1 blocks (shorter, for suites that wait it
 * out; longer, for suites that must not). `dispute`: deploy the dispute contracts too, anchored at the L2 genesis output, with these overrides of the dev
 * game (a small tree and short clocks for suites that play games to the end).
 */
export async function startRollupL1(
  dir: string,
  overrides: { seqWindowSize?: bigint } = {},
  dispute?: Partial<Omit<DisputeDeployParams, 'anchor'>>,
): Promise<RollupL1> {
  const anvil = await startAnvil(['--chain-id', '900'])
  const genesis = devGenesis()
  const config = chainConfigFromGenesis(genesis, 'megaeth-dev')
  const common = createChainCommon(config)
  let deployed: RollupConfig
  try {
    ;({ rollup: deployed } = await deployDevRollup(createPublicClient({ transport: http(anvil.rpcUrl) }), {
      rpcUrl: anvil.rpcUrl,
      l2ChainId: config.chainId,
      l2GasLimit: config.blockGasLimit,
      l2GenesisHash: (l2Time) => genesisHash(anchoredDevGenesis(genesis, l2Time), config, common),
      ...(dispute === undefined
        ? {}
        : {
            l2GenesisOutputRoot: (l2Time: bigint) => genesisOutputRoot(anchoredDevGenesis(genesis, l2Time), config, common),
            dispute,
          }),
    }))
    // From here on a block every second, transactions or not (what the suites' L1 clocks and windows assume).
    await rpc(anvil.rpcUrl, 'evm_setIntervalMining', [1])
  } catch (error) {
    // A failed set-up leaves no anvil behind (the suite's `after` has no handle on it; it would keep the run alive).
    await anvil.stop()
    throw error
  }
  const { seqWindowSize } = overrides
  const rollup: RollupConfig = { ...deployed, ...(seqWindowSize === undefined ? {} : { seqWindowSize }) }
  const rollupPath = join(dir, 'rollup.json')
  const keyPath = join(dir, 'batcher.key')
  await writeFile(rollupPath, JSON.stringify(rollupConfigToJson(rollup)))
  await writeFile(keyPath, DEV_KEYS[1]!)
  return {
    anvil,
    rollup,
    l1Args: (confirmations) => [
      `--l1.rpc=${anvil.rpcUrl}`,
      `--rollup.config=${rollupPath}`,
      `--l1.confirmations=${confirmations}`,
      '--l1.poll-interval=200',
    ],
    batcherArgs: () => [`--batcher.key-file=${keyPath}`, '--batcher.data-availability-type=calldata'],
  }
}

/**
 * A user deposit made with viem's op-stack `depositTransaction` on `l1` from dev key `keyIndex`: mints
 * 2 ETH on L2 and sends 1 ETH of it to `recipient`. Returns the L1 receipt's block and the deposit's L2
 * transaction hash.
 */
export async function depositOnL1(l1: RollupL1, keyIndex: number, recipient: Address): Promise<{ l1Block: bigint; l2Hash: Hex }> {
  const chain = defineChain({
    id: Number(l1.rollup.l1ChainId),
    name: 'l1',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [l1.anvil.rpcUrl] } },
  })
  // Polled every 200 ms, not viem's 4 s: L1 mines a block a second.
  const client = createPublicClient({ chain, transport: http(l1.anvil.rpcUrl), pollingInterval: 200 })
  const account = privateKeyToAccount(DEV_KEYS[keyIndex]!)
  const wallet = createWalletClient({ account, chain, transport: http(l1.anvil.rpcUrl) }).extend(walletActionsL1())
  const hash = await wallet.depositTransaction({
    portalAddress: l1.rollup.depositContractAddress,
    request: { to: recipient, mint: parseEther('2'), value: parseEther('1'), gas: 100_000n },
  })
  const receipt = await client.waitForTransactionReceipt({ hash })
  const [l2Hash] = getL2TransactionHashes(receipt)
  assert.ok(l2Hash !== undefined, 'the L1 receipt carries a deposit')
  return { l1Block: receipt.blockNumber, l2Hash }
}

/** Asserts that two nodes hold the same blocks 1…`through` (by hash). */
export async function assertSameBlocks(a: string, b: string, through: bigint): Promise<void> {
  for (let n = 1n; n <= through; n++) {
    const tag = `0x${n.toString(16)}`
    const [ours, theirs] = await Promise.all([
      rpc<{ hash: Hex }>(a, 'eth_getBlockByNumber', [tag, false]),
      rpc<{ hash: Hex }>(b, 'eth_getBlockByNumber', [tag, false]),
    ])
    assert.equal(theirs.hash, ours.hash, `block ${n}`)
  }
}
