/**
 * `megaeth-node deploy-l1`: deploys the dev rollup's L1 contracts on an L1 someone else runs (the devnet's
 * anvil container) and writes what the nodes need to join it: op-node's `rollup.json` (at `--rollup.config`)
 * and the batcher's key (at `--batcher.key-file`, mode 0600). It is what the dev L1 does on its own anvil,
 * as a one-shot step, so a sequencer, its replicas and an L1-derived replica can be separate processes or
 * containers that share only those two files.
 *
 * Dev only (`--dev`): the deployer, owner and guardian are dev key #0 and the batcher dev key #1, the keys of
 * the test mnemonic anvil prefunds; the L2 genesis is the dev genesis anchored at the deployment block.
 * Idempotent: when `rollup.json` exists and its genesis L1 block is still on that L1, nothing is deployed
 * again (a restarted devnet keeps its chain); an L1 that lost that block is an error, not a silent redeploy.
 * Flags are the node's own (same parser, same names), so one command line serves both.
 */
import { existsSync } from 'node:fs'
import { readFile, rename, writeFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import { createPublicClient, http } from 'viem'
import { fetchL1BlockRef } from './bridge/l1-fetch.ts'
import { createChainCommon } from './chain/config.ts'
import { deriveDevAccounts } from './chain/dev.ts'
import { chainConfigFromGenesis, devGenesis } from './chain/genesis.ts'
import { parseRollupConfig, rollupConfigToJson, type RollupConfig } from './chain/rollup-config.ts'
import { ConfigError, parseCommand } from './config.ts'
import { genesisHash } from './node/bootstrap.ts'
import { DevL1Error, deployDevRollup } from './node/dev-l1.ts'
import { anchoredDevGenesis } from './node/l1-services.ts'

export interface DeployL1Options {
  /** The L1 JSON-RPC URL (a secret: never logged whole). */
  l1Rpc: string
  /** Where rollup.json is written (the nodes' `--rollup.config`). */
  rollupPath: string
  /** Where the batcher's key is written (the sequencer's `--batcher.key-file`). */
  batcherKeyPath: string
}

/** The subcommand's flags, through the node's parser: `--dev --l1.rpc=… --rollup.config=… --batcher.key-file=…`. */
export function parseDeployL1(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): DeployL1Options {
  const command = parseCommand(argv, env, false)
  if (command.kind !== 'run')
    throw new ConfigError('deploy-l1: takes the flags --dev --l1.rpc --rollup.config --batcher.key-file')
  const { options } = command
  if (!options.dev) throw new ConfigError('deploy-l1: only the dev rollup is deployed this way: add --dev')
  if (options.role !== 'sequencer') throw new ConfigError('deploy-l1: --role does not apply')
  const { rpc, rollupConfig } = options.l1
  if (rpc === undefined || rollupConfig === undefined)
    throw new ConfigError('deploy-l1: needs --l1.rpc (the L1 to deploy on) and --rollup.config (where rollup.json goes)')
  if (options.batcher.keyFile === undefined) throw new ConfigError('deploy-l1: needs --batcher.key-file (where the key goes)')
  return { l1Rpc: rpc, rollupPath: rollupConfig, batcherKeyPath: options.batcher.keyFile }
}

/** Deploys (or finds the earlier deployment) and writes rollup.json and the batcher key. */
export async function deployL1(options: DeployL1Options, logger: Logger): Promise<{ rollup: RollupConfig; deployed: boolean }> {
  const client = createPublicClient({ transport: http(options.l1Rpc, { retryCount: 2 }) })
  const [, batcher] = deriveDevAccounts(2)
  let rollup: RollupConfig
  let deployed: boolean
  if (existsSync(options.rollupPath)) {
    rollup = parseRollupConfig(JSON.parse(await readFile(options.rollupPath, 'utf8')))
    const start = await fetchL1BlockRef(client, rollup.genesis.l1.number).catch(() => undefined)
    if (start?.hash !== rollup.genesis.l1.hash)
      throw new DevL1Error(
        `${options.rollupPath} names genesis L1 block ${rollup.genesis.l1.number} (${rollup.genesis.l1.hash}), which this L1 does not hold`,
        'the L1 was reset: remove rollup.json and the nodes’ datadirs (a new deployment is a new chain)',
      )
    deployed = false
    logger.info(
      { rollup: options.rollupPath, genesisL1: rollup.genesis.l1.number.toString() },
      'rollup already deployed on this L1',
    )
  } else {
    const genesis = devGenesis()
    const config = chainConfigFromGenesis(genesis, 'megaeth-dev')
    const common = createChainCommon(config)
    ;({ rollup } = await deployDevRollup(client, {
      rpcUrl: options.l1Rpc,
      l2ChainId: config.chainId,
      l2GasLimit: config.blockGasLimit,
      l2GenesisHash: (l2Time) => genesisHash(anchoredDevGenesis(genesis, l2Time), config, common),
    }))
    const tmp = `${options.rollupPath}.tmp`
    await writeFile(tmp, `${JSON.stringify(rollupConfigToJson(rollup), null, 2)}\n`)
    await rename(tmp, options.rollupPath)
    deployed = true
    logger.info(
      {
        rollup: options.rollupPath,
        genesisL1: rollup.genesis.l1.number.toString(),
        portal: rollup.depositContractAddress,
        systemConfig: rollup.l1SystemConfigAddress,
        batchInbox: rollup.batchInboxAddress,
      },
      'rollup deployed',
    )
  }
  // Rewritten each time (same key): a volume restored without it still gives the sequencer its batcher.
  await writeFile(options.batcherKeyPath, `${batcher!.privateKey}\n`, { mode: 0o600 })
  return { rollup, deployed }
}
