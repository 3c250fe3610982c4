/**
 * A validator-mode node as a process (`--replica.mode=validator` refuses `--datadir`, which `startNode` always
 * passes, so it is spawned here; still tracked by node-process's exit hook), and the probes the replica suites
 * read every node with.
 */
import type { ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Hex } from 'viem'
import { DEV_CHAIN_ID, freePort, rpc, spawnNodeProcess, waitFor } from './node-process.ts'

/** Anything with logs: a `startNode` handle or a validator. */
export interface HasLogs {
  logs(): { stdout: string; stderr: string }
}

export function logTail(name: string, node: HasLogs | undefined, chars = 3_000): string {
  if (node === undefined) return `\n--- ${name}: not started`
  const { stdout, stderr } = node.logs()
  return `\n--- ${name} stderr (tail):\n${stderr.slice(-chars)}\n--- ${name} stdout (tail):\n${stdout.slice(-chars)}`
}

export interface ValidatorHandle extends HasLogs {
  rpcUrl: string
  metricsUrl: string
  child: ChildProcess
  stop(): Promise<void>
}

/**
 * Starts `--dev --role=replica --replica.mode=validator` (one verification worker) dialling `bootnode`, with
 * `args` after, and waits until its RPC answers (not until it is ready: a halted validator answers too).
 */
export async function startValidator(
  bootnode: string,
  args: readonly string[] = [],
  readyTimeoutMs = 60_000,
): Promise<ValidatorHandle> {
  const [port, metricsPort] = [await freePort(), await freePort()]
  const { child, stdout, stderr } = spawnNodeProcess([
    '--dev',
    '--role=replica',
    '--replica.mode=validator',
    '--replica.verify-workers=1',
    `--rpc.port=${port}`,
    `--metrics.port=${metricsPort}`,
    `--p2p.bootnodes=${bootnode}`,
    ...args,
  ])
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null
  const handle: ValidatorHandle = {
    rpcUrl: `http://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    child,
    logs: () => ({ stdout: stdout.toString(), stderr: stderr.toString() }),
    async stop() {
      if (gone()) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      if ((await Promise.race([exited, sleep(15_000, 'timeout' as const, { ref: false })])) === 'timeout') {
        child.kill('SIGKILL')
        await exited
      }
    },
  }
  try {
    await waitFor(
      'the validator to answer eth_chainId',
      async () => {
        if (gone()) throw new Error(`validator exited (code ${child.exitCode}, signal ${child.signalCode})`)
        return (await rpc<Hex>(handle.rpcUrl, 'eth_chainId')) === `0x${DEV_CHAIN_ID.toString(16)}`
      },
      readyTimeoutMs,
      100,
    )
  } catch (error) {
    await handle.stop()
    throw new Error(`${error instanceof Error ? error.message : String(error)}${logTail('validator', handle)}`)
  }
  return handle
}

export async function readyz(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) })
  return { status: res.status, body: await res.text() }
}

export async function waitReady(name: string, url: string, node: HasLogs, timeoutMs = 60_000): Promise<void> {
  let last = ''
  try {
    await waitFor(
      `${name} /readyz to answer 200`,
      async () => {
        const { status, body } = await readyz(url)
        last = `${status} ${body}`
        return status === 200
      },
      timeoutMs,
      100,
    )
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}; last /readyz: ${last}${logTail(name, node)}`)
  }
}
