/**
 * The dev L1: an anvil the node spawns (from the project's `@foundry-rs/anvil` package) on 127.0.0.1 and a free
 * port, chain id 900 as OP devnets use, with the rollup's contracts deployed from dev key #0 (deployer, owner,
 * guardian) and dev key #1 as the batcher (anvil prefunds the same test mnemonic). Its state is kept under the
 * datadir (`l1/anvil-state.json`) so a restarted `npm start --datadir=…` finds its L1 and contracts again, and
 * `<datadir>/rollup.json` (op-node's format) records the deployment.
 *
 * Order: L1 first, then the L2 genesis. The L2 genesis is anchored at the L1 block of the deployment (its
 * timestamp is the L2 genesis timestamp: an L2 block is never older than its L1 origin), so the caller passes a
 * function from that timestamp to the L2 genesis hash; on a restart, rollup.json's `l2_time` is reused.
 *
 * anvil mines on demand while the contracts deploy (no waiting for block times), then every `blockTime` seconds.
 * Stopping the node stops anvil (it writes its state on SIGTERM); an exiting node process kills it.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { createPublicClient, createWalletClient, getAddress, http, parseEther, type Hex, type PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import {
  batcherHash,
  deployL1Contracts,
  type DisputeDeployParams,
  type DisputeDeployment,
  type L1Deployment,
} from '../bridge/deploy.ts'
import { fetchL1BlockRef } from '../bridge/l1-fetch.ts'
import { disputeGameFactoryAbi } from '../bridge/generated/DisputeGameFactory.ts'
import { faultDisputeGameAbi } from '../bridge/generated/FaultDisputeGame.ts'
import { multicall3DeployedBytecode } from '../bridge/generated/Multicall3.ts'
import { optimismPortal2Abi } from '../bridge/generated/OptimismPortal2.ts'
import { systemConfigAbi } from '../bridge/generated/SystemConfig.ts'
import type { ChainConfig } from '../chain/config.ts'
import { DEV_SEQUENCER_KEY, deriveDevAccounts } from '../chain/dev.ts'
import { chainConfigFromGenesis, devGenesis } from '../chain/genesis.ts'
import { parseRollupConfig, type RollupConfig, rollupConfigToJson } from '../chain/rollup-config.ts'
import { NodeError } from '../primitives/errors.ts'
import { ABSOLUTE_PRESTATE } from '../prover/trace/trace-state.ts'

/** OP devnets' L1 chain id. */
export const DEV_L1_CHAIN_ID = 900n
/** OP mainnet's Ecotone fee scalars: the dev chain's L1 data fees look like a real chain's. */
export const DEV_BASE_FEE_SCALAR = 1368
export const DEV_BLOB_BASE_FEE_SCALAR = 810_949

/**
 * The dev chain's dispute game: outputs bisected above depth 30 as on OP mainnet (2^30 one-second blocks between the
 * anchor and a proposal: no proposal can outrun it), and below it the transaction trace of one block. An execution
 * subtree starts at depth 31 with a move on a split-depth claim and holds 2^(47 − 30) = 2^17 leaves at depth 48
 * (the game's `absolutePrestate` check spans 2^(maxDepth − splitDepth) indices, but only the left half is reachable
 * from the exec root): a full block, 2,000,000,000 / 21,000 = 95,239 transactions, plus the opening and the seal,
 * fits 131,072. Clocks and delays short enough to watch a withdrawal or a dispute end in minutes, and small bonds
 * (0.001 ETH at the root, 750x at max depth). Every client reads these from the contracts. The step verifier is
 * `TxStepVerifier` (deployed by `deployDevRollup` with the chain's parameters); the absolute prestate is its trace's
 * (`abi.encode("megaeth-node tx trace v1")`, status UNFINISHED).
 */
export const DEV_DISPUTE: Omit<DisputeDeployParams, 'anchor'> = {
  gameType: 0,
  absolutePrestate: ABSOLUTE_PRESTATE,
  maxGameDepth: 48n,
  splitDepth: 30n,
  clockExtension: 10n,
  maxClockDuration: 120n,
  bondBase: parseEther('0.001'),
  creditDelaySeconds: 4n,
  proofMaturityDelaySeconds: 12n,
  disputeGameFinalityDelaySeconds: 6n,
}

/** The dev chain's header rules (fee recipient, EIP-1559 parameters), for the step verifier's defaults. */
const DEV_CHAIN_CONFIG = chainConfigFromGenesis(devGenesis(), 'megaeth-dev')

/** The dev L2's block time in seconds (rollup.json's `block_time`). */
export const DEV_L2_BLOCK_TIME = 1n

/** Multicall3's canonical address, where the dev L1 installs our `aggregate3` (viem's op-stack `getGames` needs it). */
export const MULTICALL3_ADDRESS = '0xcA11bde05977b3631167028862bE2a173976CA11'

export class DevL1Error extends NodeError<'DEV_L1_FAILED', undefined> {
  override readonly name = 'DevL1Error'
  constructor(message: string, hint?: string) {
    super('DEV_L1_FAILED', message, { severity: 'critical', ...(hint === undefined ? {} : { hint }) })
  }
}

export interface DevL1Options {
  /** Where the L1 state and rollup.json live; undefined (a temporary dev chain): nothing is kept. */
  datadir: string | undefined
  l2ChainId: bigint
  /** The L2 block gas limit SystemConfig records. */
  l2GasLimit: bigint
  /** The hash of the node's L2 genesis block when its timestamp is `l2Time`. */
  l2GenesisHash: (l2Time: bigint) => Hex | Promise<Hex>
  /** The output root of that block: the dispute games' starting anchor (no dispute contracts without it). */
  l2GenesisOutputRoot?: (l2Time: bigint) => Hex | Promise<Hex>
  logger: Logger
  /** Seconds between L1 blocks (default 2). */
  blockTime?: number
}

export interface DevL1 {
  rpcUrl: string
  chainId: bigint
  /** anvil's process id. */
  pid: number
  rollup: RollupConfig
  deployment: L1Deployment
  /** Dev key #1: funded on the dev L1 and the rollup's batcher. */
  batcherKey: Hex
  stop(): Promise<void>
}

const requireFromHere = createRequire(import.meta.url)

/** The anvil binary of `@foundry-rs/anvil` (its platform package), or the package's `bin.mjs` launcher run by node. */
export function anvilCommand(): { command: string; prefixArgs: string[] } {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  const platformPackage = `@foundry-rs/anvil-${process.platform}-${arch}`
  try {
    const binary = join(
      dirname(requireFromHere.resolve(`${platformPackage}/package.json`)),
      'bin',
      process.platform === 'win32' ? 'anvil.exe' : 'anvil',
    )
    if (existsSync(binary)) return { command: binary, prefixArgs: [] }
  } catch {
    // try the launcher
  }
  try {
    const launcher = join(dirname(requireFromHere.resolve('@foundry-rs/anvil/package.json')), 'bin.mjs')
    if (existsSync(launcher)) return { command: process.execPath, prefixArgs: [launcher] }
  } catch {
    // reported below
  }
  throw new DevL1Error(
    `anvil not found (neither ${platformPackage} nor @foundry-rs/anvil is installed)`,
    'the dev L1 runs anvil from the @foundry-rs/anvil dev dependency: install dev dependencies, or run --dev.l1=false for a dev chain without L1',
  )
}

export async function startDevL1(options: DevL1Options): Promise<DevL1> {
  const { datadir, logger } = options
  const blockTime = options.blockTime ?? 2
  const statePath = datadir === undefined ? undefined : join(datadir, 'l1', 'anvil-state.json')
  const rollupPath = datadir === undefined ? undefined : join(datadir, 'rollup.json')
  const hadState = statePath !== undefined && existsSync(statePath)
  const hadRollup = rollupPath !== undefined && existsSync(rollupPath)
  if (hadRollup && !hadState)
    throw new DevL1Error(
      `${rollupPath} exists but the dev L1 state ${statePath} does not: the L1 this chain was deployed on is gone`,
      'use a fresh --datadir (the chain in this one is anchored to that L1)',
    )
  if (statePath !== undefined) await mkdir(dirname(statePath), { recursive: true })

  const anvil = await spawnAnvil(statePath, logger)
  try {
    const rpcUrl = `http://127.0.0.1:${anvil.port}`
    const transport = http(rpcUrl, { retryCount: 0 })
    const publicClient = createPublicClient({ transport })
    const [, batcherAccount] = deriveDevAccounts(2)
    let rollup: RollupConfig
    let deployment: L1Deployment
    if (hadRollup && rollupPath !== undefined) {
      rollup = await reuseDeployment(rollupPath, options, publicClient)
      const superchainConfig = await publicClient.readContract({
        address: rollup.l1SystemConfigAddress,
        abi: systemConfigAbi,
        functionName: 'superchainConfig',
      })
      deployment = {
        superchainConfig: getAddress(superchainConfig),
        optimismPortal: getAddress(rollup.depositContractAddress),
        systemConfig: getAddress(rollup.l1SystemConfigAddress),
        batchInbox: getAddress(rollup.batchInboxAddress),
        startBlock: rollup.genesis.l1.number,
      }
      const dispute = await readDisputeDeployment(publicClient, deployment.optimismPortal)
      if (dispute !== undefined) deployment.dispute = dispute
      logger.info({ l1: rpcUrl, genesisL1: rollup.genesis.l1.number.toString() }, 'dev L1 restarted from its state')
    } else {
      ;({ rollup, deployment } = await deployDevRollup(publicClient, {
        rpcUrl,
        l2ChainId: options.l2ChainId,
        l2GasLimit: options.l2GasLimit,
        l2GenesisHash: options.l2GenesisHash,
        ...(options.l2GenesisOutputRoot === undefined ? {} : { l2GenesisOutputRoot: options.l2GenesisOutputRoot }),
      }))
      if (rollupPath !== undefined) {
        await writeFile(`${rollupPath}.tmp`, `${JSON.stringify(rollupConfigToJson(rollup), null, 2)}\n`)
        await rename(`${rollupPath}.tmp`, rollupPath)
      }
      logger.info(
        {
          l1: rpcUrl,
          portal: deployment.optimismPortal,
          systemConfig: deployment.systemConfig,
          disputeGameFactory: deployment.dispute?.disputeGameFactory,
          genesisL1: rollup.genesis.l1.number.toString(),
        },
        'dev L1 started and the rollup contracts deployed',
      )
    }
    // From now on a block every `blockTime` seconds, transactions or not (anvil mined on demand until here).
    await publicClient.request({ method: 'evm_setIntervalMining' as 'eth_chainId', params: [blockTime] as unknown as undefined })
    return {
      rpcUrl,
      chainId: DEV_L1_CHAIN_ID,
      pid: anvil.pid,
      rollup,
      deployment,
      batcherKey: batcherAccount!.privateKey,
      stop: anvil.stop,
    }
  } catch (error) {
    await anvil.stop()
    throw error
  }
}

/**
 * Deploys the rollup contracts from dev key #0 (batcher: dev key #1) on the L1 at `rpcUrl`, and the
 * dev rollup config anchored at the deployment block: what the dev L1 runs on its own anvil, and what
 * tests run on an anvil they own (to stop the sequencer while L1 goes on). With `l2GenesisOutputRoot`, the
 * dispute contracts too (`DEV_DISPUTE`), anchored at the L2 genesis output.
 */
export async function deployDevRollup(
  publicClient: PublicClient,
  params: {
    rpcUrl: string
    l2ChainId: bigint
    l2GasLimit: bigint
    l2GenesisHash: (l2Time: bigint) => Hex | Promise<Hex>
    l2GenesisOutputRoot?: (l2Time: bigint) => Hex | Promise<Hex>
    /** The L2's header rules the step verifier checks (default: the dev genesis's). */
    l2FeeRules?: Pick<ChainConfig, 'feeRecipient' | 'elasticityMultiplier' | 'baseFeeMaxChangeDenominator' | 'minBaseFee'>
    /** Overrides of `DEV_DISPUTE` (tests: a small tree, short clocks). */
    dispute?: Partial<Omit<DisputeDeployParams, 'anchor'>>
  },
): Promise<{ rollup: RollupConfig; deployment: L1Deployment }> {
  const transport = http(params.rpcUrl, { retryCount: 0 })
  const [deployerAccount, batcherAccount] = deriveDevAccounts(2)
  const deployer = privateKeyToAccount(deployerAccount!.privateKey)
  const outputRootAt = params.l2GenesisOutputRoot
  const deployment = await deployL1Contracts({
    // Receipts polled every 250 ms, not viem's 4 s: the deployment is a dozen transactions sent one after the other,
    // each waiting for its receipt. On an L1 that mines on demand (`--dev`'s, the tests') the first look finds it; on
    // one that mines a block a second (the Docker devnet's anvil, `deploy-l1`) every transaction waited up to 4 s.
    l1Client: createWalletClient({ transport, pollingInterval: 250 }),
    deployer,
    params: {
      l2ChainId: params.l2ChainId,
      guardian: deployer.address,
      owner: deployer.address,
      batcher: batcherAccount!.address,
      unsafeBlockSigner: privateKeyToAccount(DEV_SEQUENCER_KEY).address,
      gasLimit: params.l2GasLimit,
      basefeeScalar: DEV_BASE_FEE_SCALAR,
      blobbasefeeScalar: DEV_BLOB_BASE_FEE_SCALAR,
      ...(outputRootAt === undefined
        ? {}
        : {
            dispute: {
              ...DEV_DISPUTE,
              stepVerifier: {
                chainId: params.l2ChainId,
                blockTime: DEV_L2_BLOCK_TIME,
                gasLimit: params.l2GasLimit,
                feeRecipient: getAddress(params.l2FeeRules?.feeRecipient ?? DEV_CHAIN_CONFIG.feeRecipient),
                elasticityMultiplier: params.l2FeeRules?.elasticityMultiplier ?? DEV_CHAIN_CONFIG.elasticityMultiplier,
                baseFeeMaxChangeDenominator:
                  params.l2FeeRules?.baseFeeMaxChangeDenominator ?? DEV_CHAIN_CONFIG.baseFeeMaxChangeDenominator,
                minBaseFee: params.l2FeeRules?.minBaseFee ?? DEV_CHAIN_CONFIG.minBaseFee,
              },
              ...params.dispute,
              // The L2 genesis is timed by the SystemConfig block, so its output is known only once that is mined.
              anchor: async (startBlock: bigint) => ({
                root: await outputRootAt((await fetchL1BlockRef(publicClient, startBlock)).timestamp),
                l2BlockNumber: 0n,
              }),
            },
          }),
    },
  })
  // anvil has no Multicall3; viem's withdrawal actions read games through it at its canonical address.
  await publicClient.request({
    method: 'anvil_setCode' as 'eth_chainId',
    params: [MULTICALL3_ADDRESS, multicall3DeployedBytecode] as unknown as undefined,
  })
  const start = await fetchL1BlockRef(publicClient, deployment.startBlock)
  const rollup: RollupConfig = {
    genesis: {
      l1: { number: start.number, hash: start.hash },
      l2: { number: 0n, hash: (await params.l2GenesisHash(start.timestamp)).toLowerCase() as Hex },
      l2Time: start.timestamp,
      systemConfig: {
        batcherHash: batcherHash(batcherAccount!.address),
        baseFeeScalar: DEV_BASE_FEE_SCALAR,
        blobBaseFeeScalar: DEV_BLOB_BASE_FEE_SCALAR,
        operatorFeeScalar: 0,
        operatorFeeConstant: 0n,
        gasLimit: params.l2GasLimit,
      },
    },
    blockTime: DEV_L2_BLOCK_TIME,
    maxSequencerDrift: 600n,
    seqWindowSize: 40n,
    channelTimeout: 20n,
    l1ChainId: DEV_L1_CHAIN_ID,
    l2ChainId: params.l2ChainId,
    batchInboxAddress: deployment.batchInbox.toLowerCase() as Hex,
    depositContractAddress: deployment.optimismPortal.toLowerCase() as Hex,
    l1SystemConfigAddress: deployment.systemConfig.toLowerCase() as Hex,
  }
  return { rollup, deployment }
}

/** The dispute contracts a restarted dev L1 holds, found from the portal (none if it was deployed without them). */
async function readDisputeDeployment(client: PublicClient, portal: Hex): Promise<DisputeDeployment | undefined> {
  const factory = await client.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'disputeGameFactory' })
  if (BigInt(factory) === 0n) return undefined
  const registry = await client.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'anchorStateRegistry' })
  const gameType = await client.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'respectedGameType' })
  const game = await client.readContract({
    address: factory,
    abi: disputeGameFactoryAbi,
    functionName: 'gameImpls',
    args: [gameType],
  })
  const vm = await client.readContract({ address: game, abi: faultDisputeGameAbi, functionName: 'vm' })
  return {
    disputeGameFactory: getAddress(factory),
    anchorStateRegistry: getAddress(registry),
    faultDisputeGame: getAddress(game),
    vm: getAddress(vm),
    gameType,
  }
}

/** rollup.json from an earlier run, checked against the L1 that came back and the node's L2 genesis. */
async function reuseDeployment(
  rollupPath: string,
  options: DevL1Options,
  client: ReturnType<typeof createPublicClient>,
): Promise<RollupConfig> {
  const rollup = parseRollupConfig(JSON.parse(await readFile(rollupPath, 'utf8')))
  if (rollup.l2ChainId !== options.l2ChainId)
    throw new DevL1Error(`${rollupPath}: l2_chain_id ${rollup.l2ChainId} is not this chain's (${options.l2ChainId})`)
  const start = await fetchL1BlockRef(client, rollup.genesis.l1.number).catch(() => undefined)
  if (start?.hash !== rollup.genesis.l1.hash)
    throw new DevL1Error(`the dev L1 state does not hold ${rollupPath}'s genesis L1 block ${rollup.genesis.l1.hash}`)
  const expected = (await options.l2GenesisHash(rollup.genesis.l2Time)).toLowerCase()
  if (expected !== rollup.genesis.l2.hash)
    throw new DevL1Error(`${rollupPath}: genesis.l2.hash ${rollup.genesis.l2.hash} is not this node's L2 genesis (${expected})`)
  return rollup
}

interface SpawnedAnvil {
  port: number
  pid: number
  stop(): Promise<void>
}

/**
 * Runs anvil under a small POSIX shell guard that holds the read end of a pipe from this process: when the node
 * process dies in any way (SIGKILL and crashes included), the pipe closes and the guard stops anvil, so no
 * orphan keeps the port. The guard forwards SIGTERM (anvil then writes its state) and prints anvil's pid.
 */
const GUARD_SCRIPT = [
  'exec 3<&0',
  '"$@" >/dev/null <&- 3<&- &',
  'child=$!',
  'echo "$child"',
  '( cat <&3 >/dev/null; kill -TERM "$child" 2>/dev/null ) &',
  'trap \'kill -TERM "$child" 2>/dev/null\' TERM INT',
  'wait "$child"',
  'wait "$child"',
].join('\n')

/** anvil on a free port, answering; killed with the node process. A port lost to a race is retried. */
async function spawnAnvil(statePath: string | undefined, logger: Logger): Promise<SpawnedAnvil> {
  const { command, prefixArgs } = anvilCommand()
  let lastError = ''
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    // Prague, not anvil's default Osaka: Osaka's blob transactions need PeerDAS cell proofs, which the
    // batcher's KZG does not make; Prague takes the version-0 sidecars it does.
    const args = [
      ...prefixArgs,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--chain-id',
      String(DEV_L1_CHAIN_ID),
      '--hardfork',
      'prague',
      '--quiet',
    ]
    // Dumped every 10 s as well as on exit, so a node that dies without stopping anvil loses little.
    if (statePath !== undefined) args.push('--state', statePath, '--state-interval', '10')
    const guarded = process.platform !== 'win32'
    const child = guarded
      ? spawn('/bin/sh', ['-c', GUARD_SCRIPT, 'anvil-guard', command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000)
    })
    const anvilPid = guarded ? firstLine(child) : Promise.resolve(child.pid)
    const killOnExit = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
    process.once('exit', killOnExit)
    const stop = async (): Promise<void> => {
      process.removeListener('exit', killOnExit)
      await terminate(child)
      child.stdin?.destroy()
    }
    if (await answers(port, child)) {
      const pid = Number(await anvilPid)
      logger.debug({ pid, port }, 'dev L1 (anvil) answering')
      return { port, pid, stop }
    }
    await stop()
    lastError = stderr.trim()
  }
  throw new DevL1Error(`anvil did not start: ${lastError || 'no answer on its port'}`)
}

/** The guard's first output line: anvil's pid. */
function firstLine(child: ChildProcess): Promise<string | undefined> {
  return new Promise((resolve) => {
    let text = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      const end = text.indexOf('\n')
      if (end !== -1) resolve(text.slice(0, end).trim())
    })
    child.once('exit', () => resolve(undefined))
  })
}

async function answers(port: number, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false
    try {
      const res = await fetch(`http://127.0.0.1:${port}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        signal: AbortSignal.timeout(1000),
      })
      if (res.ok) return true
    } catch {
      // not listening yet
    }
    await sleep(50)
  }
  return false
}

/** SIGTERM (anvil writes its state), then SIGKILL after 5 s. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = sleep(5_000, 'timeout' as const, { ref: false })
  if ((await Promise.race([exited, timer])) === 'timeout') {
    child.kill('SIGKILL')
    await exited
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
