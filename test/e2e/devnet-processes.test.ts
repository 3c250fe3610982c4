/**
 * The Docker devnet's topology as plain processes, from the compose file's own commands (container paths,
 * hosts and ports replaced by this machine's; nothing else changed): anvil as L1 with the l1 service's
 * arguments, the deploy service's `deploy-l1`, then the sequencer, the full replica, the validator, the
 * `--sync=l1` replica and the prover. They must all agree: the L2 blocks L1 holds (the sequencer's safe head)
 * have the same hashes on the sequencer, the full replica, the L1-derived replica and the prover, and the
 * validator verified them. Every node's real /metrics is scraped too: each metric the Grafana dashboard queries must exist.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { DOCKER_DIR, type ComposeService, localizeCommand, nodeServices, readCompose } from '../helpers/compose.ts'
import {
  type AnvilHandle,
  freePort,
  makeTempDir,
  removeTempDir,
  rpc,
  runCli,
  spawnNodeProcess,
  startAnvil,
  waitFor,
} from '../helpers/node-process.ts'

interface Proc {
  name: string
  rpcUrl: string
  metricsUrl: string
  stop(): Promise<void>
  logs(): string
}

interface Block {
  number: string
  hash: string
}

const compose = readCompose()

describe('devnet topology as plain processes', { timeout: 240_000 }, () => {
  let dir: string
  let anvil: AnvilHandle
  const procs = new Map<string, Proc>()
  const rpcHosts: Record<string, string> = {}
  const p2pPorts: Record<string, number> = {}
  const volumes: Record<string, string> = {}

  async function startService(name: string, service: ComposeService): Promise<Proc> {
    const [rpcPort, p2pPort, metricsPort] = [await freePort(), await freePort(), await freePort()]
    rpcHosts[name] = `127.0.0.1:${rpcPort}`
    p2pPorts[name] = p2pPort
    const args = localizeCommand(service, { volumes, rpcHosts, p2pPorts, rpcPort, p2pPort, metricsPort })
    const { child, stdout, stderr } = spawnNodeProcess(args)
    const rpcUrl = `http://127.0.0.1:${rpcPort}`
    const proc: Proc = {
      name,
      rpcUrl,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      logs: () => `${name} stderr:\n${stderr.toString().slice(-3000)}\n${name} stdout:\n${stdout.toString().slice(-3000)}`,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await Promise.race([exited, sleep(20_000)])
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      },
    }
    procs.set(name, proc)
    // Ready as the compose healthcheck sees it: GET /readyz answers 200.
    await waitFor(
      `${name} ready (/readyz)`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}\n${proc.logs()}`)
        const res = await fetch(`${rpcUrl}/readyz`).catch(() => undefined)
        return res?.status === 200
      },
      90_000,
      200,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${proc.logs()}`)
    })
    return proc
  }

  before(async () => {
    dir = await makeTempDir('megaeth-devnet-')
    for (const volume of Object.keys(compose.volumes)) {
      volumes[volume] = join(dir, volume)
      await mkdir(volumes[volume]!, { recursive: true })
    }
    // The l1 service: anvil with its arguments but this machine's address, port and state file.
    const l1 = compose.services['l1']!.command!
    const anvilArgs: string[] = []
    for (let i = 0; i < l1.length; i++) {
      if (l1[i] === '--host' || l1[i] === '--port') i++
      else if (l1[i] === '--state') {
        anvilArgs.push('--state', join(volumes['l1-data']!, 'anvil-state.json'))
        i++
      } else anvilArgs.push(l1[i]!)
    }
    anvil = await startAnvil(anvilArgs)
    rpcHosts['l1'] = `127.0.0.1:${anvil.port}`
  })

  after(async () => {
    await Promise.all([...procs.values()].map((p) => p.stop()))
    await anvil?.stop()
    if (dir !== undefined) await removeTempDir(dir)
  })

  it('deploys with the deploy service, and every node starts from its compose command', async () => {
    const services = nodeServices(compose)
    const [deployName, deploy] = services[0]!
    assert.equal(deployName, 'deploy')
    const args = localizeCommand(deploy, { volumes, rpcHosts, p2pPorts, rpcPort: 0, p2pPort: 0, metricsPort: 0 })
    const result = await runCli(args, 90_000)
    assert.equal(result.code, 0, `deploy-l1 failed:\n${result.stderr}\n${result.stdout}`)
    const rollup = JSON.parse(readFileSync(join(volumes['shared']!, 'rollup.json'), 'utf8')) as { l2_chain_id: number }
    assert.equal(rollup.l2_chain_id, 6342)
    // The sequencer from its compose command; meanwhile a second deploy (a restarted devnet) must find
    // the deployment and keep it.
    const [again] = await Promise.all([runCli(args, 60_000), startService('sequencer', compose.services['sequencer']!)])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /rollup already deployed on this L1/)
    // Then the replicas, together (compose starts them together once the sequencer is healthy).
    const rest = services.slice(1).filter(([name]) => name !== 'sequencer')
    assert.deepEqual(
      rest.map(([name]) => name),
      ['replica', 'validator', 'l1-replica', 'prover'],
    )
    await Promise.all(rest.map(([name, service]) => startService(name, service)))
  })

  it('reaches the same chain on every node: the same safe blocks, verified by the validator', async () => {
    const sequencer = procs.get('sequencer')!
    const safe = await waitFor(
      'the sequencer to have blocks safe on L1',
      async () => {
        const block = await rpc<Block | null>(sequencer.rpcUrl, 'eth_getBlockByNumber', ['safe', false])
        return block !== null && Number(block.number) >= 2 ? block : undefined
      },
      60_000,
      250,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${sequencer.logs()}`)
    })
    const number = safe.number
    for (const name of ['replica', 'l1-replica', 'prover']) {
      const node = procs.get(name)!
      const block = await waitFor(
        `${name} to hold block ${Number(number)}`,
        () => rpc<Block | null>(node.rpcUrl, 'eth_getBlockByNumber', [number, false]).then((b) => b ?? undefined),
        30_000,
        250,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${node.logs()}`)
      })
      assert.equal(block.hash, safe.hash, `${name}: block ${Number(number)}`)
    }
    const l1Safe = await rpc<Block>(procs.get('l1-replica')!.rpcUrl, 'eth_getBlockByNumber', ['safe', false])
    assert.ok(Number(l1Safe.number) >= Number(number), 'the L1 replica marks what it derived safe')
    const validator = procs.get('validator')!
    await waitFor(
      `the validator to verify block ${Number(number)}`,
      async () => {
        const info = await rpc<{ verified: { block: string; failures: number } }>(validator.rpcUrl, 'mega_nodeInfo')
        assert.equal(info.verified.failures, 0)
        return Number(info.verified.block) >= Number(number)
      },
      30_000,
      250,
    )
  })

  it('serves every metric the Grafana dashboard queries', async () => {
    const exposed = new Map<string, string>()
    for (const proc of procs.values()) {
      const text = await (await fetch(proc.metricsUrl)).text()
      for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) exposed.set(match[1]!, match[2]!)
    }
    const dashboard = readFileSync(join(DOCKER_DIR, 'grafana/dashboards/megaeth-node.json'), 'utf8')
    const queried = new Set([...dashboard.matchAll(/megaeth_[a-z0-9_]+/g)].map((m) => m[0]))
    assert.ok(queried.size >= 20)
    const missing = [...queried].filter((name) => {
      if (exposed.has(name)) return false
      const base = name.replace(/_(bucket|sum|count)$/, '')
      return !(base !== name && (exposed.get(base) === 'histogram' || exposed.get(base) === 'summary'))
    })
    assert.deepEqual(missing, [], 'metrics the dashboard queries but no node exposes')
  })
})
