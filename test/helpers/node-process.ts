/**
 * Real processes for end-to-end tests: a `megaeth-node --dev` child (HTTP + WS JSON-RPC on a free
 * port) and an anvil child for differential tests, plus small JSON-RPC / WebSocket clients that
 * talk to them without any library in between (so tests can send malformed input too).
 *
 * Every child started here is tracked by pid; `stop()` / `kill9()` end it, and a process `exit`
 * hook SIGKILLs any child a test forgot, so no orphan outlives the test run.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { pbkdf2Sync } from 'node:crypto'
import { existsSync, rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { HDKey } from 'viem/accounts'
import { freePort } from './ports.ts'

export { freePort }

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export const DEV_MNEMONIC = 'test test test test test test test test test test test junk'

/**
 * The 20 keys of the standard test mnemonic (anvil / Hardhat / Foundry), 10,000 ETH each on the dev
 * chain: BIP-39 seed → m/44'/60'/0'/0/i, derived here independently of the node's own code.
 */
export const DEV_KEYS: readonly `0x${string}`[] = (() => {
  const seed = pbkdf2Sync(DEV_MNEMONIC.normalize('NFKD'), 'mnemonic', 2048, 64, 'sha512')
  const master = HDKey.fromMasterSeed(seed)
  const keys: `0x${string}`[] = []
  for (let i = 0; i < 20; i++) keys.push(`0x${Buffer.from(master.derive(`m/44'/60'/0'/0/${i}`).privateKey!).toString('hex')}`)
  // anvil's well-known account 0 (address 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266).
  if (keys[0] !== '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
    throw new Error('dev key derivation is wrong')
  return keys
})()

export const DEV_CHAIN_ID = 6342

/**
 * anvil as the dev chain's twin in differential tests: its chain id, Osaka (the dev chain's fork; pinned, not
 * anvil's default), a base fee the dev genesis also starts at, the same 20 test-mnemonic accounts.
 */
export const DEV_CHAIN_ANVIL_ARGS: readonly string[] = [
  '--chain-id',
  String(DEV_CHAIN_ID),
  '--hardfork',
  'osaka',
  '--block-base-fee-per-gas',
  '1000000',
  '--accounts',
  '20',
  '--quiet',
]

// --- child tracking -----------------------------------------------------------------------------

const live = new Set<ChildProcess>()
/** Temporary datadirs this process created and has not removed yet. */
const tempDirs = new Set<string>()
let exitHookInstalled = false

function track(child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
  ensureExitHook()
}

function ensureExitHook(): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    // Last resort for a test that failed before its `after` ran: kill what we started, by pid.
    process.once('exit', killLeftovers)
    // The test runner ends a timed-out or cancelled file with SIGTERM/SIGINT, which skips 'exit'.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        killLeftovers()
        process.kill(process.pid, signal)
      })
    }
  }
}

function killLeftovers(): void {
  for (const c of live) {
    if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(c.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  tempDirs.clear()
}

/**
 * Keeps the first `headLimit` and the last `limit` characters of a stream (a child's output must be
 * drained, or it blocks on a full pipe): startup lines and the latest lines stay searchable.
 */
class Tail {
  private head = ''
  private text = ''
  private truncated = false
  constructor(
    private readonly limit = 64 * 1024,
    private readonly headLimit = 16 * 1024,
  ) {}
  push(chunk: Buffer | string): void {
    let s = chunk.toString()
    if (this.head.length < this.headLimit) {
      const take = s.slice(0, this.headLimit - this.head.length)
      this.head += take
      s = s.slice(take.length)
    }
    this.text += s
    if (this.text.length > this.limit * 2) {
      this.text = this.text.slice(-this.limit)
      this.truncated = true
    }
  }
  toString(): string {
    if (!this.truncated && this.text.length <= this.limit) return this.head + this.text
    return `${this.head}\n…\n${this.text.slice(-this.limit)}`
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

/** Resolves with the exit code/signal once the child is gone (immediately if it already is). */
function waitExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (exited(child)) return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
}

async function waitExitWithin(
  child: ChildProcess,
  ms: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
  const timer = sleep(ms, undefined, { ref: false })
  return Promise.race([waitExit(child), timer])
}

/** Sends `signal` to the child by pid; waits `graceMs` for it to exit, then SIGKILLs it. */
async function terminate(
  child: ChildProcess,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (exited(child)) return { code: child.exitCode, signal: child.signalCode }
  if (child.pid !== undefined) {
    try {
      process.kill(child.pid, signal)
    } catch {
      // raced with its exit
    }
  }
  const result = await waitExitWithin(child, graceMs)
  if (result !== undefined) return result
  if (child.pid !== undefined) {
    try {
      process.kill(child.pid, 'SIGKILL')
    } catch {
      // raced with its exit
    }
  }
  return waitExit(child)
}

// --- JSON-RPC over HTTP -----------------------------------------------------------------------------

export interface RpcErrorObject {
  code: number
  message: string
  data?: unknown
}

export interface RpcResponse<T = unknown> {
  jsonrpc: '2.0'
  id: number | string | null
  result?: T
  error?: RpcErrorObject
}

let nextId = 1

/** POSTs `body` verbatim; returns the HTTP status and the raw text (for malformed-input tests). */
export async function postRaw(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers, body })
  return { status: res.status, text: await res.text() }
}

/** One JSON-RPC call; returns the whole response object (result or error). */
export async function rpcRaw<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<RpcResponse<T>> {
  const id = nextId++
  const { status, text } = await postRaw(url, JSON.stringify({ jsonrpc: '2.0', id, method, params }))
  let parsed: RpcResponse<T>
  try {
    parsed = JSON.parse(text) as RpcResponse<T>
  } catch {
    throw new Error(`${method}: HTTP ${status}, not JSON: ${text.slice(0, 300)}`)
  }
  return parsed
}

/** Error thrown by `rpc()` for a JSON-RPC error response; keeps code/data for assertions. */
export class JsonRpcCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(`${method}: [${code}] ${message}`)
  }
}

/** One JSON-RPC call; returns the result or throws `JsonRpcCallError`. */
export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const response = await rpcRaw<T>(url, method, params)
  if (response.error !== undefined)
    throw new JsonRpcCallError(method, response.error.code, response.error.message, response.error.data)
  return response.result as T
}

/** Calls `rpc` expecting an error; returns it (fails if the call succeeds). */
export async function rpcError(url: string, method: string, params: unknown[] = []): Promise<RpcErrorObject> {
  const response = await rpcRaw(url, method, params)
  if (response.error === undefined)
    throw new Error(`${method}: expected an error, got result ${JSON.stringify(response.result)?.slice(0, 300)}`)
  return response.error
}

/** One answer of `rpcBatch`: its result or its error, without the envelope. */
export type RpcBatchAnswer<T = unknown> = Pick<RpcResponse<T>, 'result' | 'error'>

/**
 * JSON-RPC batches of `chunk` calls (the node's batch cap is far above 200); answers in call order, a
 * call the node left unanswered as an error with code 0. Throws when an answer is not a batch.
 */
export async function rpcBatch<T = unknown>(
  url: string,
  calls: ReadonlyArray<readonly [string, readonly unknown[]]>,
  { timeoutMs = 30_000, chunk = 200 }: { timeoutMs?: number; chunk?: number } = {},
): Promise<Array<RpcBatchAnswer<T>>> {
  const out: Array<RpcBatchAnswer<T>> = []
  for (let start = 0; start < calls.length; start += chunk) {
    const part = calls.slice(start, start + chunk)
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(part.map(([method, params], id) => ({ jsonrpc: '2.0', id, method, params }))),
      signal: AbortSignal.timeout(timeoutMs),
    })
    const text = await res.text()
    const answers = JSON.parse(text) as Array<RpcResponse<T>>
    if (!Array.isArray(answers)) throw new Error(`batch of ${part.length} to ${url}: HTTP ${res.status}, ${text.slice(0, 300)}`)
    const byId = new Map(answers.map((a) => [a.id, a]))
    for (let i = 0; i < part.length; i++) {
      const answer = byId.get(i)
      out.push(
        answer === undefined
          ? { error: { code: 0, message: `no answer for ${part[i]![0]} in the batch` } }
          : answer.error === undefined
            ? { result: answer.result }
            : { error: answer.error },
      )
    }
  }
  return out
}

/** Polls `fn` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await fn()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`)
    }
    await sleep(intervalMs)
  }
}

/**
 * A temporary directory removed by `removeTempDir` — or, if the test run is interrupted, by the
 * exit/signal hook. For datadirs that must outlive one node (restart tests).
 */
export async function makeTempDir(prefix = 'megaeth-e2e-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  tempDirs.add(dir)
  ensureExitHook()
  return dir
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  tempDirs.delete(dir)
}

// --- megaeth-node ---------------------------------------------------------------------------------

export interface StartNodeOptions {
  /** Extra CLI flags after `--dev --rpc.port=… --datadir=…` (e.g. `--block-ms=500`). */
  args?: string[]
  /**
   * Data directory. Given: the caller owns it (it survives stop/kill9, for restart tests).
   * Omitted: a fresh temporary directory, removed after the node stops.
   */
  datadir?: string
  /** RPC port; a free one by default. */
  port?: number
  /** How long to wait for `eth_chainId` to answer. */
  readyTimeoutMs?: number
  env?: Record<string, string>
  /**
   * Spawn the dev L1 (anvil with the rollup contracts), as `--dev` does by default. Off unless asked:
   * `--dev.l1=false` keeps the pure-L2 dev chain most suites test (no L1, no deposits, no anvil).
   */
  l1?: boolean
}

export interface NodeHandle {
  rpcUrl: string
  wsUrl: string
  pid: number
  datadir: string
  port: number
  /** Graceful stop: SIGTERM, wait (bounded), SIGKILL fallback. Idempotent. Returns the exit status. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Crash: SIGKILL and wait for the exit. */
  kill9(): Promise<void>
  /** Last 64 KiB of the child's stdout (pino JSON logs) and stderr, for failure messages. */
  logs(): { stdout: string; stderr: string }
  readonly exited: boolean
}

/** `node bin/megaeth-node` with the repo as cwd; the launcher registers tsx itself. */
export function spawnNodeProcess(
  args: readonly string[],
  env: Record<string, string> = {},
): { child: ChildProcess; stdout: Tail; stderr: Tail } {
  const child = spawn(process.execPath, ['bin/megaeth-node', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  track(child)
  const stdout = new Tail()
  const stderr = new Tail()
  child.stdout?.on('data', (c: Buffer) => stdout.push(c))
  child.stderr?.on('data', (c: Buffer) => stderr.push(c))
  return { child, stdout, stderr }
}

/** Runs the CLI to completion (for config-error tests): exit code, stdout, stderr. Bounded by `timeoutMs`. */
export async function runCli(
  args: readonly string[],
  timeoutMs = 30_000,
  env: Record<string, string> = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const { child, stdout, stderr } = spawnNodeProcess(args, env)
  const result = await waitExitWithin(child, timeoutMs)
  if (result === undefined) {
    await terminate(child, 'SIGKILL', 5_000)
    throw new Error(
      `megaeth-node ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr: ${stderr.toString().slice(-2000)}`,
    )
  }
  return { ...result, stdout: stdout.toString(), stderr: stderr.toString() }
}

/** Starts `megaeth-node --dev` on a free port and waits until `eth_chainId` answers. */
export async function startNode(options: StartNodeOptions = {}): Promise<NodeHandle> {
  const ownsDatadir = options.datadir === undefined
  const datadir = options.datadir ?? (await mkdtemp(join(tmpdir(), 'megaeth-e2e-')))
  if (ownsDatadir) tempDirs.add(datadir)
  const port = options.port ?? (await freePort())
  const args = [
    '--dev',
    `--rpc.port=${port}`,
    `--datadir=${datadir}`,
    ...(options.l1 === true ? [] : ['--dev.l1=false']),
    ...(options.args ?? []),
  ]
  const { child, stdout, stderr } = spawnNodeProcess(args, options.env)
  const rpcUrl = `http://127.0.0.1:${port}`
  const wsUrl = `ws://127.0.0.1:${port}`
  const cleanup = async (): Promise<void> => {
    if (!ownsDatadir) return
    await rm(datadir, { recursive: true, force: true })
    tempDirs.delete(datadir)
  }

  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000
  const deadline = Date.now() + readyTimeoutMs
  for (;;) {
    if (exited(child)) {
      await cleanup()
      throw new Error(
        `megaeth-node exited before it answered (code ${child.exitCode}, signal ${child.signalCode}); args: ${args.join(' ')}\nstderr:\n${stderr.toString().slice(-4000)}\nstdout:\n${stdout.toString().slice(-4000)}`,
      )
    }
    try {
      const res = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        signal: AbortSignal.timeout(2_000),
      })
      const body = (await res.json()) as RpcResponse
      if (body.result !== undefined) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await terminate(child, 'SIGKILL', 5_000)
      await cleanup()
      throw new Error(
        `megaeth-node did not answer eth_chainId within ${readyTimeoutMs} ms; args: ${args.join(' ')}\nstderr:\n${stderr.toString().slice(-4000)}\nstdout:\n${stdout.toString().slice(-4000)}`,
      )
    }
    await sleep(100)
  }

  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined
  return {
    rpcUrl,
    wsUrl,
    pid: child.pid!,
    datadir,
    port,
    get exited() {
      return exited(child)
    },
    logs: () => ({ stdout: stdout.toString(), stderr: stderr.toString() }),
    stop(graceMs = 20_000) {
      stopping ??= (async () => {
        const result = await terminate(child, 'SIGTERM', graceMs)
        await cleanup()
        return result
      })()
      return stopping
    },
    async kill9() {
      await terminate(child, 'SIGKILL', 10_000)
      // A crashed temp node's directory is useless to anyone: remove it (restart tests pass their own datadir).
      await cleanup()
    },
  }
}

/**
 * Nodes started one after another on one datadir, for restart tests: `start()` runs `megaeth-node --dev`
 * with `args` on the datadir (made on first use); `cleanup()`, for `after`, stops whichever still run
 * and removes the datadir.
 */
export class RestartedNodes {
  private readonly nodes: NodeHandle[] = []
  private dir: string | undefined

  constructor(
    private readonly prefix: string,
    private readonly args: string[],
  ) {}

  async datadir(): Promise<string> {
    this.dir ??= await makeTempDir(this.prefix)
    return this.dir
  }

  async start(): Promise<NodeHandle> {
    const node = await startNode({ datadir: await this.datadir(), args: this.args })
    this.nodes.push(node)
    return node
  }

  async cleanup(): Promise<void> {
    for (const node of this.nodes) await node.stop()
    if (this.dir !== undefined) await removeTempDir(this.dir)
  }
}

// --- anvil ------------------------------------------------------------------------------------------

const requireCjs = createRequire(import.meta.url)

/** The anvil binary shipped by `@foundry-rs/anvil` (its platform package), or its `bin.mjs` launcher. */
export function anvilCommand(): { command: string; prefixArgs: string[] } {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  const platformPackage = `@foundry-rs/anvil-${process.platform}-${arch}`
  try {
    const pkg = requireCjs.resolve(`${platformPackage}/package.json`)
    const binary = join(dirname(pkg), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil')
    if (existsSync(binary)) return { command: binary, prefixArgs: [] }
  } catch {
    // fall through to the launcher
  }
  const launcher = join(REPO_ROOT, 'node_modules', '@foundry-rs', 'anvil', 'bin.mjs')
  if (existsSync(launcher)) return { command: process.execPath, prefixArgs: [launcher] }
  throw new Error(`anvil not found: neither ${platformPackage} nor node_modules/@foundry-rs/anvil/bin.mjs is installed`)
}

export interface AnvilHandle {
  rpcUrl: string
  wsUrl: string
  pid: number
  port: number
  stop(): Promise<void>
  logs(): { stdout: string; stderr: string }
}

/**
 * Starts anvil on 127.0.0.1 and a free port with `args` (e.g. `['--chain-id', '6342']`); waits until it answers.
 * One anvil in CI once stayed silent for 30 s (no exit, nothing on stderr) while the suite's other anvils started:
 * a start that does not answer is killed and tried once more on a fresh port before the test fails.
 */
export async function startAnvil(args: readonly string[] = [], readyTimeoutMs = 30_000): Promise<AnvilHandle> {
  try {
    return await startAnvilOnce(args, readyTimeoutMs)
  } catch (err) {
    if (!(err instanceof AnvilSilentError)) throw err
    console.error(`startAnvil: retrying on a fresh port: ${err.message}`)
    return startAnvilOnce(args, readyTimeoutMs)
  }
}

class AnvilSilentError extends Error {}

async function startAnvilOnce(args: readonly string[], readyTimeoutMs: number): Promise<AnvilHandle> {
  const port = await freePort()
  const { command, prefixArgs } = anvilCommand()
  const fullArgs = [...prefixArgs, '--host', '127.0.0.1', '--port', String(port), ...args]
  const child = spawn(command, fullArgs, { stdio: ['ignore', 'pipe', 'pipe'] })
  track(child)
  const stdout = new Tail()
  const stderr = new Tail()
  child.stdout?.on('data', (c: Buffer) => stdout.push(c))
  child.stderr?.on('data', (c: Buffer) => stderr.push(c))
  const rpcUrl = `http://127.0.0.1:${port}`
  const deadline = Date.now() + readyTimeoutMs
  for (;;) {
    if (exited(child))
      throw new Error(
        `anvil exited early (code ${child.exitCode}); args: ${fullArgs.join(' ')}\nstderr:\n${stderr.toString().slice(-4000)}`,
      )
    let lastAnswer = 'no answer yet'
    try {
      const res = await rpcRaw(rpcUrl, 'eth_chainId')
      if (res.result !== undefined) break
      lastAnswer = `answered without a result: ${JSON.stringify(res).slice(0, 300)}`
    } catch (err) {
      lastAnswer = (err as Error).message // not listening yet
    }
    if (Date.now() > deadline) {
      await terminate(child, 'SIGKILL', 5_000)
      throw new AnvilSilentError(
        `anvil on port ${port} did not answer within ${readyTimeoutMs} ms (last: ${lastAnswer})\n` +
          `stdout:\n${stdout.toString().slice(-2000)}\nstderr:\n${stderr.toString().slice(-4000)}`,
      )
    }
    await sleep(50)
  }
  let stopping: Promise<void> | undefined
  return {
    rpcUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    pid: child.pid!,
    port,
    logs: () => ({ stdout: stdout.toString(), stderr: stderr.toString() }),
    stop() {
      stopping ??= terminate(child, 'SIGTERM', 10_000).then(() => undefined)
      return stopping
    },
  }
}

// --- a minimal WebSocket JSON-RPC client (the `ws` package; it ships no type declarations) --------

interface WsLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  terminate(): void
  on(event: 'open', listener: () => void): unknown
  on(event: 'message', listener: (data: Buffer) => void): unknown
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown
  on(event: 'error', listener: (err: Error) => void): unknown
  on(event: 'unexpected-response', listener: (req: unknown, res: { statusCode?: number }) => void): unknown
  once(event: 'close', listener: (code: number, reason: Buffer) => void): unknown
}
type WsCtor = new (url: string, options?: Record<string, unknown>) => WsLike
export const WebSocketClient = requireCjs('ws') as WsCtor

export interface Notification {
  subscription: string
  result: unknown
}

export class WsRpc {
  private readonly pending = new Map<number, { resolve: (r: RpcResponse) => void; reject: (e: Error) => void }>()
  private readonly subs = new Map<string, Array<(result: unknown) => void>>()
  /** Every notification received, in arrival order. */
  readonly notifications: Notification[] = []
  closed: { code: number; reason: string } | undefined
  private id = 1

  private constructor(readonly socket: WsLike) {
    socket.on('message', (data) => {
      let msg: unknown
      try {
        msg = JSON.parse(data.toString())
      } catch {
        return
      }
      const handle = (m: Record<string, unknown>): void => {
        if (m['method'] === 'eth_subscription') {
          const params = m['params'] as Notification
          this.notifications.push(params)
          for (const listener of this.subs.get(params.subscription) ?? []) listener(params.result)
          return
        }
        const waiter = this.pending.get(m['id'] as number)
        if (waiter !== undefined) {
          this.pending.delete(m['id'] as number)
          waiter.resolve(m as unknown as RpcResponse)
        }
      }
      if (Array.isArray(msg)) for (const m of msg) handle(m as Record<string, unknown>)
      else if (typeof msg === 'object' && msg !== null) handle(msg as Record<string, unknown>)
    })
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() }
      for (const waiter of this.pending.values()) waiter.reject(new Error(`websocket closed (${code} ${reason.toString()})`))
      this.pending.clear()
    })
  }

  /** Opens a connection; rejects with the HTTP status when the upgrade is refused. */
  static connect(url: string, timeoutMs = 10_000): Promise<WsRpc> {
    return new Promise((resolveWs, reject) => {
      const socket = new WebSocketClient(url)
      const timer = setTimeout(() => {
        socket.terminate()
        reject(new Error(`websocket ${url}: no open within ${timeoutMs} ms`))
      }, timeoutMs)
      socket.on('open', () => {
        clearTimeout(timer)
        resolveWs(new WsRpc(socket))
      })
      socket.on('unexpected-response', (_req, res) => {
        clearTimeout(timer)
        socket.terminate()
        reject(Object.assign(new Error(`websocket upgrade refused: HTTP ${res.statusCode}`), { statusCode: res.statusCode }))
      })
      socket.on('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
    })
  }

  get isOpen(): boolean {
    return this.socket.readyState === 1
  }

  sendRaw(text: string): void {
    this.socket.send(text)
  }

  request<T = unknown>(method: string, params: unknown[] = [], timeoutMs = 10_000): Promise<RpcResponse<T>> {
    const id = this.id++
    return new Promise((resolveReq, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`ws ${method}: no answer within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer)
          resolveReq(r as RpcResponse<T>)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    })
  }

  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const r = await this.request<T>(method, params)
    if (r.error !== undefined) throw new JsonRpcCallError(method, r.error.code, r.error.message, r.error.data)
    return r.result as T
  }

  /** `eth_subscribe`; returns the id. Listener sees each notification's `result`. */
  async subscribe(params: unknown[], listener?: (result: unknown) => void): Promise<string> {
    const id = await this.call<string>('eth_subscribe', params)
    const list = this.subs.get(id) ?? []
    if (listener !== undefined) list.push(listener)
    this.subs.set(id, list)
    return id
  }

  /** Results of notifications for `subscription` received so far. */
  resultsOf(subscription: string): unknown[] {
    return this.notifications.filter((n) => n.subscription === subscription).map((n) => n.result)
  }

  close(): Promise<void> {
    if (this.closed !== undefined || this.socket.readyState === 3) return Promise.resolve()
    return new Promise((resolveClose) => {
      const timer = setTimeout(() => {
        this.socket.terminate()
        resolveClose()
      }, 2_000)
      this.socket.once('close', () => {
        clearTimeout(timer)
        resolveClose()
      })
      this.socket.close(1000, 'bye')
    })
  }
}
