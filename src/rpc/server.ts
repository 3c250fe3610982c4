/**
 * JSON-RPC 2.0 server over HTTP (`POST /`) and WebSocket (`GET /` upgrade) on
 * one port, plus `/healthz` and `/readyz`.
 *
 * The file has two halves:
 * - `Dispatcher`: transport-agnostic JSON-RPC — parse, validate, run handlers,
 *   serialize. Its `handle()` never rejects, so no code path can produce an
 *   unhandled rejection or crash the process because of client input or a
 *   faulty handler.
 * - `RpcServer`: fastify/@fastify/websocket plumbing, limits, CORS, health,
 *   keepalive and graceful shutdown.
 *
 * Protocol choices (geth-compatible unless noted):
 * - Batch calls start in order and run concurrently (geth runs them one by
 *   one); responses keep batch order. Separate HTTP requests / WS messages
 *   run concurrently too.
 * - Batch over `maxBatchSize`: a one-element array holding a -32600
 *   `batch too large (max N)` error carrying the id of the first call in the
 *   batch (geth's behaviour): clients that sent an array get an array back.
 * - A notification-only request/batch produces no response at all: HTTP 200
 *   with an empty body; nothing on WS.
 * - HTTP status is 200 for every JSON-RPC-level error; 413 for oversized bodies.
 * - A response longer than `maxResponseBytes` is replaced by a -32005 `response too large` error;
 *   in a batch the responses share that budget, and the calls that would overflow it get the error
 *   (geth's batch response limit; geth's code is -32003). A serialization that overflows V8's
 *   longest string (`RangeError: Invalid string length`) is answered the same way.
 * - Any Content-Type is accepted on `POST /` and the body is parsed as JSON
 *   (curl's default form content type works). Not a CSRF concern beyond what
 *   the CORS policy already allows: no cookies or ambient credentials are used.
 */
import websocket from '@fastify/websocket'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { setMaxListeners } from 'node:events'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import {
  RpcError,
  RpcErrorCode,
  internalError,
  invalidParams,
  invalidRequest,
  limitExceeded,
  methodNotFound,
  parseError,
  resourceUnavailable,
} from './errors.ts'
import type { JsonRpcErrorObject } from './errors.ts'
import { OTHER_METHOD_LABEL } from './metrics.ts'
import type { RpcMetrics } from './metrics.ts'
import { resolveRpcServerOptions } from './options.ts'
import type { RpcServerOptions } from './options.ts'
import type { MethodRegistry, RpcContext } from './registry.ts'
import { WsCloseCode, WsConnection } from './ws-connection.ts'
import type { CallScope, WsRawData, WsSocket } from './ws-connection.ts'

// =============================================================================
// JSON-RPC protocol
// =============================================================================

export type JsonRpcId = string | number | null

export type JsonRpcResponse =
  | { jsonrpc: '2.0'; id: JsonRpcId; result: unknown }
  | { jsonrpc: '2.0'; id: JsonRpcId; error: JsonRpcErrorObject }

/** A structurally valid request. `id === undefined` means notification. */
interface ValidRequest {
  kind: 'valid'
  id: JsonRpcId | undefined
  method: string
  /** Array, or a by-name object (rejected per call with -32602 since Ethereum methods are positional). */
  params: unknown[] | Record<string, unknown>
}

/** A request object that failed validation; always answered, even without an id (JSON-RPC 2.0 §5). */
interface InvalidRequest {
  kind: 'invalid'
  id: JsonRpcId
  error: RpcError
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isJsonRpcId(value: unknown): value is JsonRpcId {
  return value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
}

/** Checks one element of a request (or a batch) against JSON-RPC 2.0 §4. */
export function validateRequest(raw: unknown): ValidRequest | InvalidRequest {
  if (!isRecord(raw)) return { kind: 'invalid', id: null, error: invalidRequest('expected a JSON object') }
  const hasId = Object.hasOwn(raw, 'id')
  const id = raw['id']
  if (hasId && !isJsonRpcId(id)) {
    return { kind: 'invalid', id: null, error: invalidRequest('id must be a string, number or null') }
  }
  const replyId: JsonRpcId = hasId ? (id as JsonRpcId) : null
  if (raw['jsonrpc'] !== '2.0') {
    return { kind: 'invalid', id: replyId, error: invalidRequest('jsonrpc must be "2.0"') }
  }
  const method = raw['method']
  if (typeof method !== 'string') {
    return { kind: 'invalid', id: replyId, error: invalidRequest('method must be a string') }
  }
  const params = raw['params']
  // Absent and null params both mean "no arguments" (geth accepts both).
  if (params === undefined || params === null) return { kind: 'valid', id: hasId ? replyId : undefined, method, params: [] }
  if (!Array.isArray(params) && !isRecord(params)) {
    return { kind: 'invalid', id: replyId, error: invalidRequest('params must be an array') }
  }
  return { kind: 'valid', id: hasId ? replyId : undefined, method, params }
}

/** The id geth attaches to a batch-level error: that of the first element that carries a valid one. */
function firstBatchId(batch: readonly unknown[]): JsonRpcId {
  for (const item of batch) {
    if (isRecord(item) && Object.hasOwn(item, 'id') && isJsonRpcId(item['id'])) return item['id']
  }
  return null
}

function errorResponse(id: JsonRpcId, error: RpcError): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: error.toObject() }
}

/** Error responses built by the transport itself contain only strings/numbers, so this cannot throw. */
function encodeError(id: JsonRpcId, error: RpcError): string {
  return JSON.stringify(errorResponse(id, error))
}

/** Outcome of one call: the encoded response (undefined for notifications) and whether it succeeded. */
export interface CallOutcome {
  json: string | undefined
  ok: boolean
}

/**
 * Wraps the execution of each call. HTTP runs calls directly; WebSocket wraps
 * them in a subscription scope (see `WsConnection.openScope`).
 */
export type CallRunner = (run: () => Promise<CallOutcome>) => Promise<CallOutcome>

const runDirect: CallRunner = (run) => run()

/**
 * How many characters of JSON one payload's responses may still take: each call's encoded response
 * is charged as it completes, so a batch never holds more than the limit (plus one response being
 * encoded). Characters, not UTF-8 bytes: responses are ASCII but for strings echoed from input.
 */
class ResponseBudget {
  private remaining: number

  constructor(
    readonly limit: number,
    /** Shared by the calls of a batch (for the error message). */
    readonly batch: boolean,
  ) {
    this.remaining = limit
  }

  /** Takes `size` from the budget; false (and nothing taken) when it does not fit. */
  charge(size: number): boolean {
    if (size > this.remaining) return false
    this.remaining -= size
    return true
  }
}

export class Dispatcher {
  private readonly registry: MethodRegistry
  private readonly logger: Logger
  private readonly metrics: RpcMetrics | undefined
  private readonly maxBatchSize: number
  private readonly maxResponseBytes: number

  constructor(
    registry: MethodRegistry,
    logger: Logger,
    metrics: RpcMetrics | undefined,
    maxBatchSize: number,
    maxResponseBytes: number,
  ) {
    this.registry = registry
    this.logger = logger
    this.metrics = metrics
    this.maxBatchSize = maxBatchSize
    this.maxResponseBytes = maxResponseBytes
  }

  /**
   * Handles one payload (an HTTP body or a WS text message). Resolves to the
   * encoded response, or `undefined` when there is nothing to send
   * (notifications only). Never rejects.
   */
  async handle(text: string, ctx: RpcContext, runner: CallRunner = runDirect): Promise<string | undefined> {
    try {
      return await this.handlePayload(text, ctx, runner)
    } catch (err) {
      // Only reachable through a bug in the transport itself; handlers' errors are caught per call.
      this.logger.error({ err }, 'rpc dispatcher failed')
      return encodeError(null, internalError())
    }
  }

  private async handlePayload(text: string, ctx: RpcContext, runner: CallRunner): Promise<string | undefined> {
    const parsed = parsePayload(text)
    if (!parsed.ok) return parsed.answer
    const payload = parsed.payload
    if (!Array.isArray(payload)) return this.handleOne(payload, ctx, runner, new ResponseBudget(this.maxResponseBytes, false))

    if (payload.length === 0) return encodeError(null, new RpcError(RpcErrorCode.InvalidRequest, 'empty batch'))
    if (payload.length > this.maxBatchSize) {
      const error = new RpcError(RpcErrorCode.InvalidRequest, `batch too large (max ${this.maxBatchSize})`)
      return `[${encodeError(firstBatchId(payload), error)}]`
    }
    // Calls start in batch order and run concurrently; responses keep batch order. Starting in order
    // is what keeps consecutive-nonce eth_sendRawTransaction calls ordered (each hands its bytes to
    // the decode queue before yielding), while a 100-transaction batch costs one decode round trip
    // instead of one per transaction.
    const budget = new ResponseBudget(this.maxResponseBytes, true)
    const parts = (await Promise.all(payload.map((item) => this.handleOne(item, ctx, runner, budget)))).filter(
      (part): part is string => part !== undefined,
    )
    // Batch of notifications only: JSON-RPC says return nothing at all.
    return parts.length === 0 ? undefined : `[${parts.join(',')}]`
  }

  /**
   * Answers every call in a payload with `error` without running any (a limit hit before dispatch:
   * too many messages in flight on a WebSocket). Notifications get nothing, as always; envelope
   * errors (not JSON, invalid request objects, an oversized batch) get their usual answer.
   */
  refuse(text: string, error: RpcError): string | undefined {
    const parsed = parsePayload(text)
    if (!parsed.ok) return parsed.answer
    const payload = parsed.payload
    const one = (raw: unknown): string | undefined => {
      const request = validateRequest(raw)
      if (request.kind === 'invalid') return encodeError(request.id, request.error)
      return request.id === undefined ? undefined : encodeError(request.id, error)
    }
    if (!Array.isArray(payload)) return one(payload)
    if (payload.length === 0) return encodeError(null, new RpcError(RpcErrorCode.InvalidRequest, 'empty batch'))
    if (payload.length > this.maxBatchSize) {
      const tooLarge = new RpcError(RpcErrorCode.InvalidRequest, `batch too large (max ${this.maxBatchSize})`)
      return `[${encodeError(firstBatchId(payload), tooLarge)}]`
    }
    const parts = payload.map(one).filter((part): part is string => part !== undefined)
    return parts.length === 0 ? undefined : `[${parts.join(',')}]`
  }

  private async handleOne(
    raw: unknown,
    ctx: RpcContext,
    runner: CallRunner,
    budget: ResponseBudget,
  ): Promise<string | undefined> {
    const request = validateRequest(raw)
    if (request.kind === 'invalid') return encodeError(request.id, request.error)
    const outcome = await runner(() => this.execute(request, ctx, budget))
    return outcome.json
  }

  private async execute(request: ValidRequest, ctx: RpcContext, budget: ResponseBudget): Promise<CallOutcome> {
    const started = performance.now()
    const { method } = request
    const handler = this.registry.get(method)
    let result: unknown = null
    let error: RpcError | undefined
    if (handler === undefined) {
      error = methodNotFound(method)
    } else if (!Array.isArray(request.params)) {
      error = invalidParams('invalid params: expected an array of positional arguments')
    } else {
      try {
        // `await` also turns a synchronous throw into the catch below.
        result = await handler(request.params, ctx)
      } catch (err) {
        error = this.toRpcError(err, method, ctx)
      }
    }

    let outcome: CallOutcome
    if (request.id === undefined) {
      outcome = { json: undefined, ok: error === undefined }
    } else if (error !== undefined) {
      outcome = this.encode(errorResponse(request.id, error), method, budget)
    } else {
      // A handler returning nothing means JSON null (geth does the same for void methods).
      outcome = this.encode({ jsonrpc: '2.0', id: request.id, result: result === undefined ? null : result }, method, budget)
    }
    this.observe(handler === undefined ? OTHER_METHOD_LABEL : method, (performance.now() - started) / 1000, outcome.ok)
    return outcome
  }

  /**
   * JSON.stringify without a replacer (fast for big eth_getLogs responses), charged to `budget`.
   * Past V8's longest string it throws a RangeError: that is a response too large, like one over the
   * budget. Anything else it throws (bigint, cycles) is a handler bug, reported as an internal error
   * for this call only rather than failing the whole batch.
   */
  private encode(response: JsonRpcResponse, method: string, budget: ResponseBudget): CallOutcome {
    let json: string
    try {
      json = JSON.stringify(response)
    } catch (err) {
      if (err instanceof RangeError) return this.tooLarge(response.id, budget, method, undefined)
      this.logger.error({ err, method }, 'rpc response is not JSON-serializable (a bigint must be hex-encoded first)')
      json = encodeError(response.id, internalError('internal error: response is not JSON-serializable'))
      budget.charge(json.length)
      return { json, ok: false }
    }
    if (!budget.charge(json.length)) return this.tooLarge(response.id, budget, method, json.length)
    return { json, ok: !('error' in response) }
  }

  /** The -32005 answer that replaces a response over the budget (small: never charged). */
  private tooLarge(id: JsonRpcId, budget: ResponseBudget, method: string, size: number | undefined): CallOutcome {
    this.logger.debug({ method, size, limit: budget.limit }, 'rpc response too large')
    const what = size === undefined ? 'longer than the longest string this node can build' : `${size} bytes`
    const message = budget.batch
      ? `response too large: ${what}, and the batch's responses together may take at most ${budget.limit} bytes; split the batch or narrow the request`
      : `response too large: ${what}, max ${budget.limit} bytes; narrow the request`
    return { json: encodeError(id, limitExceeded(message)), ok: false }
  }

  private toRpcError(err: unknown, method: string, ctx: RpcContext): RpcError {
    if (err instanceof RpcError) return err
    if (ctx.signal.aborted) {
      // Handler gave up because the peer left or we are shutting down: not a bug, and nobody reads the answer.
      this.logger.debug({ err, method }, 'rpc call aborted')
      return resourceUnavailable('request aborted')
    }
    // Full details (stack included) go to the log only.
    this.logger.error({ err, method }, 'rpc handler threw')
    return internalError()
  }

  private observe(label: string, seconds: number, ok: boolean): void {
    if (this.metrics === undefined) return
    try {
      this.metrics.observeRequest(label, seconds, ok)
    } catch (err) {
      this.logger.warn({ err }, 'rpc metrics observer threw')
    }
  }
}

// =============================================================================
// Transport
// =============================================================================

export interface HealthProbe {
  /** Liveness: the process is functioning (restart it if not). */
  healthz(): boolean
  /** Readiness: the node should receive traffic (e.g. synced, DB open). */
  readyz(): { ready: boolean; reason?: string }
}

/**
 * A fixed HTTP resource served next to JSON-RPC (the dashboard's files): its bytes and every header
 * it is sent with (content type, CSP, cache policy). `etag` lets a browser revalidate with a 304.
 */
export interface StaticAsset {
  body: Buffer
  etag: string
  headers: Readonly<Record<string, string>>
}

export interface RpcServerDeps {
  logger: Logger
  metrics?: RpcMetrics
  health?: HealthProbe
  /** Extra GET routes (path → asset), e.g. `/dashboard`. They never shadow `/`, `/healthz` or `/readyz`. */
  assets?: ReadonlyMap<string, StaticAsset>
}

type ServerState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped'

const WS_OPEN = 1

/** Request header list a preflight may ask for; anything odder falls back to Content-Type. */
const HEADER_LIST = /^[A-Za-z0-9-]+(?:\s*,\s*[A-Za-z0-9-]+)*$/

function wsDataToString(data: WsRawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8')
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  return Buffer.from(data).toString('utf8')
}

/** One static asset: 304 when the browser's copy is current (If-None-Match), else the bytes. */
function serveAsset(asset: StaticAsset, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.headers(asset.headers).header('etag', asset.etag)
  const cached = request.headers['if-none-match']
  if (typeof cached === 'string' && cached.split(',').some((tag) => tag.trim() === asset.etag)) return reply.code(304).send()
  return reply.code(200).send(asset.body)
}

/** fastify-style error body for non-RPC routes. */
function httpErrorBody(
  statusCode: number,
  error: string,
  message: string,
): { statusCode: number; error: string; message: string } {
  return { statusCode, error, message }
}

/** Resolves true if `promise` settles within `ms`, false otherwise. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, ms, false)
  })
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ])
  } finally {
    clearTimeout(timer)
  }
}

export class RpcServer {
  readonly options: RpcServerOptions
  private readonly registry: MethodRegistry
  private readonly logger: Logger
  private readonly health: HealthProbe | undefined
  private readonly assets: ReadonlyMap<string, StaticAsset>
  private readonly dispatcher: Dispatcher
  private readonly corsAny: boolean
  private readonly corsOrigins: ReadonlySet<string>
  private readonly connections = new Set<WsConnection>()
  /** Open WebSocket connections by remote address (for `maxWsConnectionsPerIp`); entries at 0 are removed. */
  private readonly connectionsPerIp = new Map<string, number>()
  /** Every payload being processed (HTTP request or WS message); `stop()` waits for these. */
  private readonly inflight = new Set<Promise<unknown>>()
  /** Aborted when `stop()` gives up waiting: handlers' `ctx.signal` follows it. */
  private readonly shutdown = new AbortController()
  private app: FastifyInstance | undefined
  private heartbeat: NodeJS.Timeout | undefined
  private state: ServerState = 'idle'
  private startPromise: Promise<{ host: string; port: number }> | undefined
  private stopPromise: Promise<void> | undefined

  constructor(opts: Partial<RpcServerOptions>, registry: MethodRegistry, deps: RpcServerDeps) {
    this.options = resolveRpcServerOptions(opts)
    this.registry = registry
    this.logger = deps.logger.child({ module: 'rpc' })
    this.health = deps.health
    this.assets = deps.assets ?? new Map()
    this.dispatcher = new Dispatcher(
      registry,
      this.logger,
      deps.metrics,
      this.options.maxBatchSize,
      this.options.maxResponseBytes,
    )
    this.corsAny = this.options.corsOrigins.includes('*')
    this.corsOrigins = new Set(this.options.corsOrigins)
    // One listener per in-flight HTTP request (see requestAborter): no leak warning at 11.
    setMaxListeners(0, this.shutdown.signal)
  }

  /** Number of open WebSocket connections. */
  get wsConnectionCount(): number {
    return this.connections.size
  }

  /** Binds and starts serving. Resolves with the bound address (useful with `port: 0`). */
  start(): Promise<{ host: string; port: number }> {
    if (this.state !== 'idle') return Promise.reject(new Error(`rpc server cannot start: it is ${this.state}`))
    this.state = 'starting'
    this.startPromise = this.doStart()
    return this.startPromise
  }

  /**
   * Graceful stop: stop accepting, close WebSockets with 1001, wait up to
   * `shutdownTimeoutMs` for in-flight requests, then abort what is left and
   * drop remaining sockets. Idempotent.
   */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop()
    return this.stopPromise
  }

  private async doStart(): Promise<{ host: string; port: number }> {
    const app = await this.buildApp()
    this.app = app
    try {
      await app.listen({ host: this.options.host, port: this.options.port })
    } catch (err) {
      this.state = 'stopped'
      await app.close().catch(() => undefined)
      throw err
    }
    const address = app.server.address() as AddressInfo | string | null
    if (address === null || typeof address === 'string') throw new Error('rpc server: unexpected listen address')
    this.heartbeat = setInterval(() => {
      for (const conn of this.connections) conn.heartbeat()
    }, this.options.wsPingIntervalMs)
    this.heartbeat.unref()
    this.state = 'running'
    this.logger.info({ host: address.address, port: address.port, methods: this.registry.size }, 'rpc server listening')
    return { host: address.address, port: address.port }
  }

  private async doStop(): Promise<void> {
    if (this.startPromise !== undefined) await this.startPromise.catch(() => undefined)
    const app = this.app
    if (app === undefined || this.state === 'stopped') {
      this.state = 'stopped'
      return
    }
    this.state = 'stopping'
    clearInterval(this.heartbeat)
    for (const conn of this.connections) conn.close(WsCloseCode.GoingAway, 'server shutting down')
    // Stops listening; fastify answers new requests on kept-alive sockets with 503 and lets in-flight ones finish.
    const closed = app.close().catch((err: unknown) => this.logger.warn({ err }, 'rpc server close failed'))
    const graceful = await settlesWithin(
      (async () => {
        await this.drain()
        // Requests that were in flight when close() ran kept their keep-alive sockets; those are idle now.
        app.server.closeIdleConnections()
        await closed
      })(),
      this.options.shutdownTimeoutMs,
    )
    if (!graceful) {
      this.logger.warn(
        { inflight: this.inflight.size, wsConnections: this.connections.size },
        'rpc shutdown timed out; aborting in-flight requests',
      )
      this.shutdown.abort(new Error('rpc server shutting down'))
      for (const conn of this.connections) conn.terminate()
      app.server.closeAllConnections()
      await closed
    }
    this.state = 'stopped'
    this.logger.info('rpc server stopped')
  }

  private async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inflight.add(promise)
    const remove = (): void => {
      this.inflight.delete(promise)
    }
    // Two-argument then: the derived promise can never reject, so it cannot become an unhandled rejection.
    promise.then(remove, remove)
    return promise
  }

  // --- fastify wiring --------------------------------------------------------

  private async buildApp(): Promise<FastifyInstance> {
    const o = this.options
    const app = Fastify({
      logger: false, // we log through our own pino instance
      bodyLimit: o.maxBodyBytes,
      requestTimeout: o.requestTimeoutMs,
      // Slow-loris guard, set where Node reads it: when the server is built. fastify only assigns
      // `requestTimeout` afterwards and leaves `headersTimeout` at Node's 60 s; with headers allowed
      // longer than the whole request, Node's connection checker never expired a request whose
      // headers were complete, so a body trickled a byte at a time held its socket forever (found by
      // the hostile-rpc campaign: still open after 70 s with a 3 s request timeout). Both deadlines
      // equal here, checked every tenth of the timeout (Node's default is every 30 s), so such a
      // client is cut off within 1.1 × requestTimeoutMs.
      http: {
        headersTimeout: o.requestTimeoutMs,
        requestTimeout: o.requestTimeoutMs,
        connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(o.requestTimeoutMs / 10))),
      },
      return503OnClosing: true,
      // Reap idle keep-alive sockets on close(), let in-flight requests finish (bounded by stop()).
      forceCloseConnections: 'idle',
    })

    // Lenient content types (see header comment): every body reaches the dispatcher as a UTF-8 string.
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
      done(null, body)
    })

    await app.register(websocket, {
      options: { maxPayload: o.maxWsMessageBytes, perMessageDeflate: false },
      // Socket-level errors (oversized frame → ws already closes with 1009, resets, bad frames).
      errorHandler: (error, socket) => {
        this.logger.debug({ err: error }, 'websocket error')
        const s = socket as WsSocket
        if (s.readyState === WS_OPEN) s.terminate()
      },
    })

    app.addHook('onRequest', (request, reply, done) => {
      this.applyCors(request, reply)
      done()
    })

    app.setErrorHandler((error: unknown, request, reply) => this.onHttpError(error, request, reply))
    app.setNotFoundHandler((request, reply) => {
      reply
        .code(404)
        .send(httpErrorBody(404, 'Not Found', `${request.method} ${request.url} not found; JSON-RPC is served at POST /`))
    })

    app.post(
      '/',
      {
        // The body is JSON whatever the header says. Dropping the header also covers values fastify
        // would otherwise refuse with 415 before any parser runs (empty or malformed media types).
        onRequest: (request, _reply, done) => {
          delete request.headers['content-type']
          done()
        },
      },
      (request, reply) => this.onHttpRpc(request, reply),
    )
    app.route({
      method: 'GET',
      url: '/',
      // Upgrade requests are vetted before the handshake, so a refused peer costs no WebSocket state.
      preHandler: (request, reply, done) => {
        if (request.ws && !this.admitWs(request, reply)) return
        done()
      },
      handler: (_request, reply) => this.methodNotAllowed(reply),
      wsHandler: (socket, request) => this.onWsConnection(socket as WsSocket, request),
    })
    app.route({ method: ['PUT', 'DELETE', 'PATCH'], url: '/', handler: (_request, reply) => this.methodNotAllowed(reply) })
    app.options('*', (request, reply) => this.onPreflight(request, reply))
    app.get('/healthz', (_request, reply) => this.onHealthz(reply))
    app.get('/readyz', (_request, reply) => this.onReadyz(reply))
    for (const [url, asset] of this.assets) {
      if (url === '/' || url === '/healthz' || url === '/readyz') throw new Error(`rpc server: asset route ${url} is reserved`)
      app.get(url, (request, reply) => serveAsset(asset, request, reply))
    }
    return app
  }

  // --- HTTP ------------------------------------------------------------------

  private async onHttpRpc(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const text = typeof request.body === 'string' ? request.body : ''
    const aborter = this.requestAborter()
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) aborter.abort(new Error('client disconnected'))
    })
    const ctx: RpcContext = { transport: 'http', signal: aborter.signal, remoteAddress: request.ip }
    let json: string | undefined
    try {
      json = await this.track(this.dispatcher.handle(text, ctx))
    } finally {
      aborter.release()
    }
    reply.code(200)
    // Finished during shutdown: don't leave a keep-alive socket behind that would hold close() open.
    if (this.state === 'stopping') reply.header('connection', 'close')
    if (json === undefined) return reply.send()
    return reply.type('application/json; charset=utf-8').send(json)
  }

  /**
   * One request's abort signal: aborted when its client leaves or when `stop()` gives up waiting.
   * Wired by hand rather than with `AbortSignal.any([clientGone, shutdown])`: on Node 20 a source
   * signal keeps every signal derived from it (nodejs/node#55351), so the server-lifetime shutdown
   * signal would hold one per request ever served. `release()` unhooks it once the request is done.
   */
  private requestAborter(): { signal: AbortSignal; abort(reason: Error): void; release(): void } {
    const controller = new AbortController()
    const shutdown = this.shutdown.signal
    const onShutdown = (): void => controller.abort(shutdown.reason)
    if (shutdown.aborted) onShutdown()
    else shutdown.addEventListener('abort', onShutdown, { once: true })
    return {
      signal: controller.signal,
      abort: (reason) => controller.abort(reason),
      release: () => shutdown.removeEventListener('abort', onShutdown),
    }
  }

  /** Errors raised by fastify before our handler runs (body limit, bad content-length, …), as JSON-RPC bodies. */
  private onHttpError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const status =
      typeof error === 'object' && error !== null && 'statusCode' in error && typeof error.statusCode === 'number'
        ? error.statusCode
        : 500
    let rpcError: RpcError
    if (status === 413) {
      rpcError = new RpcError(RpcErrorCode.InvalidRequest, `request body too large (max ${this.options.maxBodyBytes} bytes)`)
    } else if (status >= 400 && status < 500) {
      const detail = error instanceof Error ? error.message : 'bad request'
      rpcError = invalidRequest(detail)
    } else {
      this.logger.error({ err: error, url: request.url }, 'rpc http request failed')
      rpcError = internalError()
    }
    reply
      .code(status >= 400 && status < 600 ? status : 500)
      .type('application/json; charset=utf-8')
      .send(encodeError(null, rpcError))
  }

  private methodNotAllowed(reply: FastifyReply): void {
    reply
      .code(405)
      .header('allow', 'POST, GET, OPTIONS')
      .send(httpErrorBody(405, 'Method Not Allowed', 'use POST for JSON-RPC, or GET with a WebSocket upgrade'))
  }

  private onHealthz(reply: FastifyReply): void {
    let healthy: boolean
    try {
      healthy = this.health === undefined ? true : this.health.healthz() === true
    } catch (err) {
      this.logger.error({ err }, 'healthz probe threw')
      healthy = false
    }
    reply.code(healthy ? 200 : 503).send({ status: healthy ? 'ok' : 'unhealthy' })
  }

  private onReadyz(reply: FastifyReply): void {
    let result: { ready: boolean; reason?: string }
    if (this.state !== 'running') {
      result = { ready: false, reason: 'shutting down' }
    } else {
      try {
        result = this.health === undefined ? { ready: true } : this.health.readyz()
      } catch (err) {
        this.logger.error({ err }, 'readyz probe threw')
        result = { ready: false, reason: 'readiness probe failed' }
      }
    }
    const body = result.reason === undefined ? { ready: result.ready } : { ready: result.ready, reason: result.reason }
    reply.code(result.ready ? 200 : 503).send(body)
  }

  // --- CORS ------------------------------------------------------------------

  private originAllowed(origin: string): boolean {
    return this.corsAny || this.corsOrigins.has(origin)
  }

  /** Adds CORS response headers for browser requests (those with an Origin header). */
  private applyCors(request: FastifyRequest, reply: FastifyReply): void {
    const origin = request.headers.origin
    if (origin === undefined) return
    if (this.corsAny) {
      reply.header('access-control-allow-origin', '*')
      return
    }
    // The answer depends on Origin: caches must not reuse it across origins.
    reply.header('vary', 'Origin')
    if (this.corsOrigins.has(origin)) reply.header('access-control-allow-origin', origin)
  }

  private onPreflight(request: FastifyRequest, reply: FastifyReply): void {
    const origin = request.headers.origin
    if (origin !== undefined && !this.originAllowed(origin)) {
      reply.code(403).send(httpErrorBody(403, 'Forbidden', 'origin not allowed'))
      return
    }
    const requested = request.headers['access-control-request-headers']
    reply
      .code(204)
      .header('access-control-allow-methods', 'POST, GET, OPTIONS')
      // Wallet SDKs add their own headers; echo a well-formed request list rather than guessing.
      .header(
        'access-control-allow-headers',
        typeof requested === 'string' && requested.length <= 1024 && HEADER_LIST.test(requested) ? requested : 'Content-Type',
      )
      .header('access-control-max-age', '600')
      .send()
  }

  // --- WebSocket -------------------------------------------------------------

  /** Pre-handshake checks; replies with an HTTP error and returns false to refuse the upgrade. */
  private admitWs(request: FastifyRequest, reply: FastifyReply): boolean {
    const origin = request.headers.origin
    // Browsers do not apply CORS to WebSockets, so the origin policy is enforced here (as geth's --ws.origins).
    if (origin !== undefined && !this.originAllowed(origin)) {
      reply.code(403).send(httpErrorBody(403, 'Forbidden', 'origin not allowed'))
      return false
    }
    const refused = this.wsConnectionRefusal(request.ip)
    if (refused !== undefined) {
      reply.code(503).send(httpErrorBody(503, 'Service Unavailable', refused))
      return false
    }
    return true
  }

  /** Why one more WebSocket connection from `ip` is refused (undefined: it is not). */
  private wsConnectionRefusal(ip: string): string | undefined {
    if (this.connections.size >= this.options.maxWsConnections)
      return `too many connections (max ${this.options.maxWsConnections})`
    if ((this.connectionsPerIp.get(ip) ?? 0) >= this.options.maxWsConnectionsPerIp)
      return `too many connections from this address (max ${this.options.maxWsConnectionsPerIp})`
    return undefined
  }

  private onWsConnection(socket: WsSocket, request: FastifyRequest): void {
    if (this.state !== 'running') {
      socket.close(WsCloseCode.GoingAway, 'server shutting down')
      return
    }
    // Concurrent handshakes can all pass admitWs; the caps are enforced again once upgraded.
    const ip = request.ip
    const refused = this.wsConnectionRefusal(ip)
    if (refused !== undefined) {
      socket.close(WsCloseCode.TryAgainLater, refused)
      return
    }
    const conn = new WsConnection(socket, {
      maxSubscriptions: this.options.maxSubscriptionsPerConnection,
      maxBufferedBytes: this.options.wsMaxBufferedBytes,
      remoteAddress: request.ip,
      logger: this.logger,
    })
    this.connections.add(conn)
    this.connectionsPerIp.set(ip, (this.connectionsPerIp.get(ip) ?? 0) + 1)
    conn.onClose(() => {
      this.connections.delete(conn)
      const left = (this.connectionsPerIp.get(ip) ?? 1) - 1
      if (left > 0) this.connectionsPerIp.set(ip, left)
      else this.connectionsPerIp.delete(ip)
    })
    let inflight = 0
    const limit = this.options.maxWsRequestsInFlight
    socket.on('message', (data) => {
      // Once closing, start no new work: the answer could not be delivered.
      if (!conn.isOpen) return
      const text = wsDataToString(data)
      if (inflight >= limit) {
        // Answered at once without running: the peer keeps what it asked for bounded, others keep their share.
        const json = this.dispatcher.refuse(
          text,
          limitExceeded(`too many requests in flight on this connection (limit ${limit}); wait for answers`),
        )
        if (json !== undefined) conn.send(json)
        return
      }
      inflight++
      const done = (): void => {
        inflight--
      }
      void this.track(this.onWsMessage(conn, text)).then(done, done)
    })
  }

  /**
   * Each call runs in a subscription scope; scopes are settled only after the
   * response is queued, so an `eth_subscribe` answer always precedes the
   * first notification for its id. Never rejects (dispatcher.handle doesn't).
   */
  private async onWsMessage(conn: WsConnection, text: string): Promise<void> {
    const ctx: RpcContext = { transport: 'ws', connection: conn, signal: conn.signal, remoteAddress: conn.remoteAddress }
    const scopes: Array<{ scope: CallScope; ok: boolean }> = []
    const runner: CallRunner = async (run) => {
      const scope = conn.openScope()
      const outcome = await conn.runInScope(scope, run)
      scopes.push({ scope, ok: outcome.ok })
      return outcome
    }
    const json = await this.dispatcher.handle(text, ctx, runner)
    if (json !== undefined) conn.send(json)
    for (const { scope, ok } of scopes) conn.settleScope(scope, ok)
  }
}

/** A request body as JSON, or the parse-error answer it gets (-32700, saying why). */
function parsePayload(text: string): { ok: true; payload: unknown } | { ok: false; answer: string } {
  try {
    return { ok: true, payload: JSON.parse(text) }
  } catch (err) {
    const detail = text.trim() === '' ? 'empty body' : err instanceof Error ? err.message : undefined
    return { ok: false, answer: encodeError(null, parseError(detail)) }
  }
}
