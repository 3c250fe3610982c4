import type { Logger } from 'pino'
import type { BlockTestOptions } from './blocktest/runner.ts'
import type { ExecutorMode } from './options.ts'
import { defaultExecWorkers } from './sequencer/options.ts'
import { helpText, parseCommand } from './config.ts'
import type { NodeOptions } from './options.ts'
import { isNodeError, type NodeError } from './primitives/errors.ts'
import { createLevelledLogger } from './util/log-level.ts'
import type { InitOptions } from './init.ts'
import type { PruneStateOptions } from './node/prune-state.ts'

const VERSION = '0.1.0'
/** Exit code for bad configuration, like most CLIs (and what the product card asks for). */
const EXIT_CONFIG = 2
/**
 * Errors the operator fixes by changing the command line, the genesis or the datadir, all raised
 * before the node starts serving (a later one would leave servers running behind the exit code).
 */
const OPERATOR_ERRORS = [
  'CONFIG_INVALID',
  'ROLE_NOT_AVAILABLE',
  'DATADIR_INVALID',
  'GENESIS_INVALID',
  'DEV_L1_FAILED',
  'STORAGE_LOCKED',
] as const

/** One line for the operator, and what to do about it when the error says. */
function reportOperatorError(error: NodeError): void {
  process.stderr.write(`megaeth-node: ${error.message}\n${error.hint === undefined ? '' : `megaeth-node: hint: ${error.hint}\n`}`)
}

export async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'deploy-l1') return deployL1Command(argv.slice(1))
  if (argv[0] === 'withdraw') return withdrawCommand(argv.slice(1))
  let command
  try {
    command = parseCommand(argv, process.env, process.stdout.isTTY === true)
  } catch (error) {
    if (isNodeError(error, 'CONFIG_INVALID')) {
      reportOperatorError(error)
      return EXIT_CONFIG
    }
    throw error
  }
  switch (command.kind) {
    case 'help':
      process.stdout.write(`${helpText()}\n`)
      return 0
    case 'version':
      process.stdout.write(`megaeth-node ${VERSION}\n`)
      return 0
    case 'init':
      return init(command.init)
    case 'prune-state':
      return pruneState(command.prune)
    case 'blocktest':
      return blocktest(command.paths, command.executor, command.workers, command.stateless)
    case 'run':
      return run(command.options)
  }
}

/** The root logger; `admin_setLogLevel` changes its level and its children's (see util/log-level.ts). */
function createLogger(options: NodeOptions): Logger {
  if (options.log.format === 'pretty') {
    return createLevelledLogger({
      level: options.log.level,
      transport: { target: 'pino-pretty', options: { colorize: process.stdout.isTTY === true, translateTime: 'HH:MM:ss.l' } },
    })
  }
  return createLevelledLogger({ level: options.log.level })
}

/** Writes a new chain's files and prints what an operator needs next: paths and addresses, never a key. */
async function init(options: InitOptions): Promise<number> {
  const { runInit } = await import('./init.ts')
  try {
    const result = await runInit(options)
    const { files, addresses } = result
    process.stdout.write(
      [
        `new chain ${result.chainId} in ${result.datadir}`,
        `  genesis            ${files.genesis}`,
        `  config             ${files.config}`,
        `  sequencer key      ${files.sequencerKey} (address ${addresses.sequencer})`,
        `  batcher key        ${files.batcherKey} (address ${addresses.batcher})`,
        `  proposer key       ${files.proposerKey} (address ${addresses.proposer})`,
        `  admin JWT secret   ${files.adminJwt}`,
        'keys and the secret are 0600 files; no L1 contracts were deployed (the config runs a pure-L2 chain)',
        `run: megaeth-node --config ${files.config}`,
        '',
      ].join('\n'),
    )
    return 0
  } catch (error) {
    if (isNodeError(error, 'CONFIG_INVALID')) {
      reportOperatorError(error)
      return EXIT_CONFIG
    }
    throw error
  }
}

/**
 * `megaeth-node prune-state` (src/node/prune-state.ts): progress and the summary as log lines; exit 0
 * when pruned, 2 when the datadir cannot be pruned (in use, no chain, no trie), 1 when the check after
 * the sweep finds a node missing.
 */
async function pruneState(options: PruneStateOptions): Promise<number> {
  const { pruneState: prune } = await import('./node/prune-state.ts')
  const logger = createLevelledLogger({ level: 'info' })
  try {
    const report = await prune(options, logger)
    logger.info(
      {
        head: report.head.number.toString(),
        stateRoot: report.head.stateRoot,
        nodesBefore: report.nodesBefore,
        marked: report.marked,
        deleted: report.deleted,
        deletedBytes: report.deletedBytes,
        diskBytesBefore: report.diskBytesBefore,
        diskBytesAfter: report.diskBytesAfter,
        bloomBytes: report.bloomBytes,
        verified: report.verified,
        ms: Object.fromEntries(Object.entries(report.ms).map(([phase, ms]) => [phase, Math.round(ms)])),
      },
      'prune-state: done',
    )
    return 0
  } catch (error) {
    if (isNodeError(error, OPERATOR_ERRORS)) {
      reportOperatorError(error)
      return EXIT_CONFIG
    }
    if (isNodeError(error, 'PRUNE_MISSING_NODE')) {
      reportOperatorError(error)
      return 1
    }
    throw error
  } finally {
    logger.flush()
  }
}

async function run(options: NodeOptions): Promise<number> {
  const logger = createLogger(options)
  let node
  try {
    // Loaded only once the command line is valid: a config error answers without compiling the node.
    const { startNode } = await import('./node.ts')
    node = await startNode(options, logger)
  } catch (error) {
    if (isNodeError(error, OPERATOR_ERRORS)) {
      reportOperatorError(error)
      logger.flush()
      return EXIT_CONFIG
    }
    throw error
  }
  const running = node
  return new Promise<number>((resolve) => {
    let signals = 0
    const shutdown = (signal: NodeJS.Signals): void => {
      signals++
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: exiting without a clean shutdown')
        process.exit(1)
      }
      logger.info({ signal }, 'shutting down')
      running.stop().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed')
          resolve(1)
        },
      )
    }
    process.on('SIGINT', shutdown)
    process.on('SIGTERM', shutdown)
  })
}

/**
 * `megaeth-node withdraw status|prove|finalize …` (src/withdraw.ts): exit 0 when the step was taken (or the status
 * printed), 1 when the withdrawal is not ready for it (the message says what it waits for), 2 for bad flags.
 */
async function withdrawCommand(argv: readonly string[]): Promise<number> {
  const { parseWithdraw, runWithdraw, shortError } = await import('./withdraw.ts')
  try {
    const lines = await runWithdraw(parseWithdraw(argv))
    process.stdout.write(`${lines.join('\n')}\n`)
    return 0
  } catch (error) {
    if (isNodeError(error, 'CONFIG_INVALID')) {
      reportOperatorError(error)
      return EXIT_CONFIG
    }
    process.stderr.write(
      `megaeth-node withdraw: ${isNodeError(error, 'WITHDRAWAL_NOT_READY') ? error.message : shortError(error)}\n`,
    )
    return 1
  }
}

/** `megaeth-node deploy-l1 …` (src/deploy-l1.ts): the devnet's one-shot contract deployment. */
async function deployL1Command(argv: readonly string[]): Promise<number> {
  const { parseDeployL1, deployL1 } = await import('./deploy-l1.ts')
  let options
  try {
    options = parseDeployL1(argv, process.env)
  } catch (error) {
    if (isNodeError(error, 'CONFIG_INVALID')) {
      reportOperatorError(error)
      return EXIT_CONFIG
    }
    throw error
  }
  const logger = createLevelledLogger({ level: 'info' })
  try {
    await deployL1(options, logger)
    return 0
  } catch (error) {
    if (isNodeError(error, OPERATOR_ERRORS)) {
      reportOperatorError(error)
      return EXIT_CONFIG
    }
    throw error
  }
}

async function blocktest(
  paths: string[],
  executor: ExecutorMode,
  workers: number | undefined,
  stateless: boolean,
): Promise<number> {
  let passed = 0
  let failed = 0
  let skipped = 0
  const [{ collectFixtureFiles, runBlockTestFile }, { ExecWorkerPool }] = await Promise.all([
    import('./blocktest/runner.ts'),
    import('./execution/parallel/index.ts'),
  ])
  const options: BlockTestOptions = { stateless }
  const parallel = { blocks: 0, rounds: 0, mainTxs: 0, deferredTxs: 0, workerTxs: 0, reexecuted: 0 }
  if (executor === 'parallel') {
    options.pool = await ExecWorkerPool.start(workers ?? defaultExecWorkers(), { kind: 'test-network', network: 'Cancun' })
    options.onParallelStats = (stats) => {
      parallel.blocks++
      parallel.rounds += stats.rounds
      parallel.mainTxs += stats.mainTxs
      parallel.deferredTxs += stats.deferredTxs
      parallel.workerTxs += stats.workerTxs
      parallel.reexecuted += stats.reexecuted
    }
  }
  try {
    for (const file of await collectFixtureFiles(paths)) {
      for (const result of await runBlockTestFile(file, options)) {
        if (result.status === 'passed') passed++
        else if (result.status === 'skipped') {
          skipped++
          process.stdout.write(`SKIP ${result.file} ${result.name}: ${result.reason}\n`)
        } else {
          failed++
          process.stdout.write(`FAIL ${result.file} ${result.name}: ${result.reason}\n`)
        }
      }
    }
  } finally {
    await options.pool?.close()
  }
  if (options.pool !== undefined) {
    process.stdout.write(
      `parallel executor (${options.pool.size} workers): ${parallel.rounds} parallel rounds over ${parallel.blocks} blocks; ` +
        `${parallel.mainTxs} txs in the main thread's chunks, ${parallel.deferredTxs} deferred to it, ${parallel.workerTxs} on workers, ${parallel.reexecuted} of those re-executed\n`,
    )
  }
  process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`)
  return failed === 0 ? 0 : 1
}
