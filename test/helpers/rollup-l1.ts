/**
 * An L1 a test owns (anvil, 1 s blocks, chain id 900) with the dev rollup deployed on it, as the dev L1
 * deploys it: for suites that must keep L1 running while the sequencer is down or L1 misbehaves. Nodes
 * join it with `l1Args` (the rollup.json and the batcher key are written into the test's directory).
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createPublicClient, http } from 'viem'
import { createChainCommon } from '../../src/chain/config.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import { rollupConfigToJson, type RollupConfig } from '../../src/chain/rollup-config.ts'
import { genesisHash } from '../../src/node/bootstrap.ts'
import { deployDevRollup } from '../../src/node/dev-l1.ts'
import { anchoredDevGenesis } from '../../src/node/l1-services.ts'
import { DEV_KEYS, startAnvil, type AnvilHandle } from './node-process.ts'

export interface RollupL1 {
  anvil: AnvilHandle
  rollup: RollupConfig
  /** Flags of any node on this L1 (`--l1.rpc`, `--rollup.config`, the confirmation depth, a fast poll). */
  l1Args(confirmations: number): string[]
  /** Flags of the sequencer: the batcher key (dev key #1) and calldata batches. */
  batcherArgs(): string[]
}

/** `seqWindowSize`: a shorter sequencing window than the dev rollup's 40 L1 blocks, for suites that wait it out. */
export async function startRollupL1(dir: string, overrides: { seqWindowSize?: bigint } = {}): Promise<RollupL1> {
  const anvil = await startAnvil(['--chain-id', '900', '--block-time', '1'])
  const genesis = devGenesis()
  const config = chainConfigFromGenesis(genesis, 'megaeth-dev')
  const common = createChainCommon(config)
  const { rollup: deployed } = await deployDevRollup(createPublicClient({ transport: http(anvil.rpcUrl) }), {
    rpcUrl: anvil.rpcUrl,
    l2ChainId: config.chainId,
    l2GasLimit: config.blockGasLimit,
    l2GenesisHash: (l2Time) => genesisHash(anchoredDevGenesis(genesis, l2Time), config, common),
  })
  const rollup: RollupConfig = { ...deployed, ...overrides }
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
