/**
 * The admin API wired to a running role: loads (or, with --dev, creates) the JWT secret, adapts the
 * role's parts to the admin controls, and serves them as a service started last and stopped first.
 * Off unless `--admin.port` is set.
 */
import { chmod, open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import {
  AdminServer,
  type AdminControls,
  createAdminMetrics,
  DEFAULT_ADMIN_MAX_BODY_BYTES,
  generateJwtSecretHex,
  JwtSecretError,
  parseJwtSecret,
  registerAdminMethods,
  type SequencerControl,
} from './admin/index.ts'
import { ConfigError } from './config.ts'
import type { NodeOptions } from './options.ts'
import type { P2pHost } from './p2p/index.ts'
import type { Hex } from './primitives/state-diff.ts'
import { MethodRegistry } from './rpc/index.ts'
import type { Sequencer } from './sequencer/sequencer.ts'
import type { Services } from './node/services.ts'
import { setLogLevel } from './util/log-level.ts'

export interface AdminWiring {
  options: NodeOptions
  logger: Logger
  metrics: Registry
  services: Services
  /** Where `--dev` keeps a generated secret; undefined for a validator. */
  datadir: string | undefined
  sequencer: Sequencer | undefined
  host: P2pHost | undefined
  /** The sealed head. */
  head: (() => { number: bigint; hash: Hex }) | undefined
  /** The role's `mega_nodeInfo` (already free of secrets). */
  info: () => Record<string, unknown>
}

export const DEV_ADMIN_JWT_FILE = 'admin-jwt.hex'

/** Starts the admin API when `--admin.port` is set; its URL, or undefined when off. */
export async function serveAdmin(wiring: AdminWiring): Promise<string | undefined> {
  const { options, logger, services } = wiring
  if (options.admin.port === undefined) return undefined
  const secret = await loadAdminSecret(options, wiring.datadir, logger)
  const registry = new MethodRegistry()
  registerAdminMethods(registry, adminControls(wiring))
  const server = new AdminServer(
    { host: options.admin.addr, port: options.admin.port, jwtSecret: secret, maxBodyBytes: DEFAULT_ADMIN_MAX_BODY_BYTES },
    registry,
    { logger: logger.child({ module: 'admin' }), metrics: createAdminMetrics(wiring.metrics) },
  )
  const address = await services.open(
    'admin API',
    () => server.start(),
    () => server.stop(),
  )
  const url = `http://${address.host}:${address.port}`
  logger.info({ admin: url }, 'admin API listening (JWT-authenticated)')
  return url
}

function adminControls(wiring: AdminWiring): AdminControls {
  const { sequencer, host, head, logger, options } = wiring
  // A stop seals the open block before it resolves; a start meanwhile would run the loop beside it.
  let stopping = false
  const sequencerControl: SequencerControl | undefined =
    sequencer === undefined || head === undefined
      ? undefined
      : {
          active: () => sequencer.producing,
          stop: async () => {
            stopping = true
            try {
              const hash = await sequencer.pause()
              logger.warn({ head: hash }, 'sequencer stopped by admin_stopSequencer; transactions stay in the pool')
              return hash
            } finally {
              stopping = false
            }
          },
          start: () => {
            if (stopping) throw new Error('the sequencer is still stopping (sealing its last block); retry')
            sequencer.resume()
            if (!sequencer.producing) throw new Error('block production halted after a failure and cannot restart')
            logger.warn({ head: head().hash }, 'sequencer started by admin_startSequencer')
          },
          headHash: () => head().hash,
        }
  return {
    sequencer: sequencerControl,
    peers:
      host === undefined
        ? undefined
        : { peers: () => host.peers(), addPeer: (addr) => host.addPeer(addr), removePeer: (peer) => host.removePeer(peer) },
    logLevel: {
      level: () => logger.level as ReturnType<AdminControls['logLevel']['level']>,
      setLevel: (level) => {
        // Logged under the more verbose of the two levels, so the change shows whenever either shows warnings.
        const from = logger.level
        const louder = logger.levels.values[level]! < logger.levelVal
        if (louder) setLogLevel(logger, level)
        logger.warn({ from, to: level }, 'log level changed by admin_setLogLevel')
        if (!louder) setLogLevel(logger, level)
      },
    },
    nodeInfo: () => {
      const addrs = host?.multiaddrs() ?? []
      const current = head?.()
      return {
        // geth's admin_nodeInfo, with libp2p's identity where geth has its enode.
        id: host?.peerId ?? null,
        name: 'megaeth-node',
        enode: addrs[0] ?? null,
        multiaddrs: addrs,
        ip: options.p2p.addr,
        listenAddr: addrs[0] ?? null,
        ports: { listener: portOf(addrs[0]), rpc: options.rpc.port, admin: options.admin.port ?? null },
        protocols: {
          megaeth: {
            ...wiring.info(),
            ...(current === undefined ? {} : { head: { number: `0x${current.number.toString(16)}`, hash: current.hash } }),
          },
        },
      }
    },
  }
}

function portOf(addr: string | undefined): number | null {
  const match = addr === undefined ? null : /\/tcp\/(\d+)/.exec(addr)
  return match === null ? null : Number(match[1])
}

/**
 * The secret from `--admin.jwt-secret`, or with `--dev` from `<datadir>/admin-jwt.hex`, created (0600)
 * when absent. Its path is logged, never its contents.
 */
async function loadAdminSecret(options: NodeOptions, datadir: string | undefined, logger: Logger): Promise<Uint8Array> {
  let path = options.admin.jwtSecret
  if (path === undefined) {
    // config validation allows this only with --dev and a datadir.
    if (datadir === undefined) throw new ConfigError('--admin.port needs --admin.jwt-secret')
    path = join(datadir, DEV_ADMIN_JWT_FILE)
    try {
      const handle = await open(path, 'wx', 0o600)
      await handle.writeFile(`${generateJwtSecretHex()}\n`)
      await handle.close()
      await chmod(path, 0o600)
      logger.info({ file: path }, 'generated the admin API JWT secret (--dev)')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`--admin.jwt-secret ${path}: cannot read (${error instanceof Error ? error.message : String(error)})`)
  }
  try {
    return parseJwtSecret(text)
  } catch (error) {
    if (error instanceof JwtSecretError) throw new ConfigError(`--admin.jwt-secret ${path}: ${error.message}`)
    throw error
  }
}
