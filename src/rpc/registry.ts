/**
 * Method registry: the seam between the generic transport and chain logic.
 *
 * Handlers receive the positional params (already checked to be an array) and
 * a context describing where the call came from. They return a JSON-ready
 * value (hex strings, not bigints) or throw an `RpcError`; anything else
 * thrown becomes a -32603 `internal error`.
 */
import type { WsConnection } from './ws-connection.ts'

interface RpcContextBase {
  /** Aborted when the client goes away (HTTP disconnect / WS close) or the server is force-stopped. */
  signal: AbortSignal
  /** Peer address of the underlying socket. */
  remoteAddress: string
}

/** Per-call context. `connection` is only present for WebSocket calls, so handlers can subscribe. */
export type RpcContext =
  | (RpcContextBase & { transport: 'http'; connection?: undefined })
  | (RpcContextBase & { transport: 'ws'; connection: WsConnection })

// `unknown | Promise<unknown>` is just `unknown` to the compiler; spelled out for readers.
export type RpcHandler = (params: unknown[], ctx: RpcContext) => unknown | Promise<unknown>

/** Method names are JSON-RPC strings; keep them to the usual `namespace_method` charset. */
const METHOD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/

export class MethodRegistry {
  // A Map, not a plain object: `constructor`, `__proto__`, `toString` must
  // not resolve to anything for a client that sends them as method names.
  private readonly handlers = new Map<string, RpcHandler>()

  /** Registers one method. Duplicate names are a wiring bug, so they throw. */
  register(name: string, handler: RpcHandler): this {
    if (!METHOD_NAME.test(name)) throw new TypeError(`invalid RPC method name: ${JSON.stringify(name)}`)
    if (this.handlers.has(name)) throw new Error(`RPC method ${name} is already registered`)
    this.handlers.set(name, handler)
    return this
  }

  /** Registers every entry of a `{ eth_chainId: handler, ... }` record. */
  registerAll(record: Readonly<Record<string, RpcHandler>>): this {
    for (const [name, handler] of Object.entries(record)) this.register(name, handler)
    return this
  }

  has(name: string): boolean {
    return this.handlers.has(name)
  }

  get(name: string): RpcHandler | undefined {
    return this.handlers.get(name)
  }

  /** Registered method names, in registration order (for `rpc_modules`-style introspection and logs). */
  names(): string[] {
    return [...this.handlers.keys()]
  }

  get size(): number {
    return this.handlers.size
  }
}
