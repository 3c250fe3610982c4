/**
 * The admin API's HTTP server: its own port, loopback by default, every request authenticated with an
 * HS256 JWT before anything is read from it. JSON-RPC goes through the same `Dispatcher` as the public
 * RPC (same validation, batches, error shapes) over a registry holding only the admin methods.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { Dispatcher, type MethodRegistry } from '../rpc/index.ts'
import { verifyJwt } from './jwt.ts'
import type { AdminMetrics } from './metrics.ts'
import type { AdminServerOptions } from './options.ts'

export interface AdminServerDeps {
  logger: Logger
  metrics: AdminMetrics | undefined
  /** Seconds since the epoch; injectable so tests can check the `iat` window. */
  now?: () => number
}

const MAX_BATCH = 16

export class AdminServer {
  private server: Server | undefined
  private readonly dispatcher: Dispatcher
  private readonly now: () => number
  private readonly refusals: RefusalLog

  constructor(
    private readonly options: AdminServerOptions,
    registry: MethodRegistry,
    private readonly deps: AdminServerDeps,
  ) {
    this.dispatcher = new Dispatcher(registry, deps.logger, deps.metrics, MAX_BATCH, 16 * 1024 * 1024)
    this.now = deps.now ?? (() => Date.now() / 1000)
    this.refusals = new RefusalLog(deps.logger)
  }

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => {
      this.onRequest(req, res).catch((err: unknown) => {
        this.deps.logger.error({ err }, 'admin request failed')
        if (!res.headersSent) res.writeHead(500)
        res.end()
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    this.server = server
    const address = server.address() as AddressInfo
    return { host: this.options.host, port: address.port }
  }

  async stop(): Promise<void> {
    const server = this.server
    if (server === undefined) return
    this.server = undefined
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const remote = req.socket.remoteAddress ?? 'unknown'
    const reason = this.authenticate(req.headers.authorization)
    if (reason !== undefined) {
      // The reason and who asked, never the token: a log reader must not be able to replay it.
      this.refusals.log(reason, remote)
      this.deps.metrics?.observeUnauthorized()
      req.resume()
      send(res, 401, { error: `unauthorized: ${reason}` })
      return
    }
    if (req.method !== 'POST') {
      req.resume()
      send(res, 405, { error: 'POST a JSON-RPC request' })
      return
    }
    const body = await readBody(req, this.options.maxBodyBytes)
    if (body === undefined) {
      send(res, 413, { error: `request body over ${this.options.maxBodyBytes} bytes` })
      return
    }
    const abort = new AbortController()
    res.once('close', () => abort.abort())
    const json = await this.dispatcher.handle(body, { transport: 'http', signal: abort.signal, remoteAddress: remote })
    res.writeHead(200, { 'content-type': 'application/json' }).end(json ?? '')
  }

  /** undefined when the request carries a valid token; otherwise why not. */
  private authenticate(header: string | undefined): string | undefined {
    if (header === undefined) return 'no Authorization header'
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (match === null) return 'Authorization is not "Bearer <token>"'
    const verdict = verifyJwt(match[1]!, this.options.jwtSecret, this.now())
    return verdict.ok ? undefined : verdict.reason
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

/** The body as text, or undefined past `limit` bytes (the rest is drained, not buffered). */
async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  let over = false
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) over = true
    if (!over) chunks.push(chunk)
  }
  return over ? undefined : Buffer.concat(chunks).toString('utf8')
}

/** Per window, at most this many refused requests are logged one by one; the rest as a count. */
const REFUSALS_LOGGED_PER_WINDOW = 20
const REFUSAL_WINDOW_MS = 60_000

/**
 * Logs refused requests without letting a client that hammers the port fill the disk: each one up to
 * a limit per minute, then one line with how many more there were (the metric counts them all).
 */
class RefusalLog {
  private windowStart = 0
  private logged = 0
  private suppressed = 0

  constructor(private readonly logger: Logger) {}

  log(reason: string, remote: string): void {
    const now = Date.now()
    if (now - this.windowStart >= REFUSAL_WINDOW_MS) {
      if (this.suppressed > 0)
        this.logger.warn({ suppressed: this.suppressed }, 'admin requests refused and not logged in the last minute')
      this.windowStart = now
      this.logged = 0
      this.suppressed = 0
    }
    if (this.logged < REFUSALS_LOGGED_PER_WINDOW) {
      this.logged++
      this.logger.warn({ reason, remote }, 'admin request refused')
    } else this.suppressed++
  }
}
