/**
 * The Docker devnet checked without Docker (no engine here, and CI cannot pull base images): the compose
 * file parses (strict JSON-syntax YAML), every megaeth-node command passes the node's own flag parser
 * (deploy-l1 through its own), volumes/ports/dependencies are consistent, the replicas' bootnode is the
 * committed p2p key's peer id, the Dockerfile has the instructions the brief requires, Prometheus scrapes
 * exactly the nodes that serve metrics, and the Grafana dashboard points at the provisioned datasource.
 * (That the dashboard's metric names exist is checked against real /metrics in test/e2e/devnet-processes.test.ts.)
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { parseCommand } from '../../src/config.ts'
import { parseDeployL1 } from '../../src/deploy-l1.ts'
import { loadOrCreateIdentity } from '../../src/p2p/identity.ts'
import { composeJsonText, DOCKER_DIR, nodeServices, parseMount, parsePort, readCompose } from '../helpers/compose.ts'
import { REPO_ROOT } from '../helpers/node-process.ts'

const compose = readCompose()
const dockerfile = readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8')
const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully'])

function flag(command: readonly string[], name: string): string | undefined {
  const hit = command.find((arg) => arg.startsWith(`--${name}=`))
  return hit?.slice(name.length + 3)
}

describe('docker-compose.yml', () => {
  it('is JSON-syntax YAML: comment lines only, no tabs, and a strict parse', () => {
    assert.throws(() => composeJsonText('{\n\t"a": 1\n}'), /tab/)
    assert.throws(() => JSON.parse(composeJsonText('services:\n  a: {}\n')))
    assert.equal(compose.name, 'megaeth-devnet')
    for (const name of ['l1', 'deploy', 'sequencer', 'replica', 'validator', 'l1-replica', 'prover', 'prometheus', 'grafana'])
      assert.ok(compose.services[name] !== undefined, `service ${name}`)
  })

  it("runs every megaeth-node command through the node's flag parser", () => {
    const services = nodeServices(compose)
    assert.deepEqual(
      services.map(([name]) => name),
      ['deploy', 'sequencer', 'replica', 'validator', 'l1-replica', 'prover'],
    )
    for (const [name, service] of services) {
      const command = service.command ?? []
      if (command[0] === 'deploy-l1') {
        const options = parseDeployL1(command.slice(1), {})
        assert.equal(options.rollupPath, '/shared/rollup.json')
        continue
      }
      const parsed = parseCommand(command, {}, false)
      assert.equal(parsed.kind, 'run', name)
      if (parsed.kind !== 'run') continue
      const { options } = parsed
      assert.equal(options.rpc.addr, '0.0.0.0', `${name} listens beyond its container`)
      assert.equal(options.rpc.port, 8545, name)
      assert.equal(options.metricsPort, 9100, name)
      assert.equal(options.log.format, 'json', `${name} logs JSON (greppable fields)`)
      assert.equal(options.l1.rpc, 'http://l1:8545', `${name} follows the devnet's L1`)
      assert.equal(options.l1.rollupConfig, '/shared/rollup.json', name)
    }
    const roles = Object.fromEntries(
      services
        .filter(([, s]) => s.command?.[0] !== 'deploy-l1')
        .map(([name, s]) => {
          const parsed = parseCommand(s.command ?? [], {}, false)
          assert.ok(parsed.kind === 'run')
          const o = parsed.options
          return [name, `${o.role}/${o.role === 'replica' ? (o.replica.sync === 'l1' ? 'l1' : o.replica.mode) : '-'}`]
        }),
    )
    assert.deepEqual(roles, {
      sequencer: 'sequencer/-',
      replica: 'replica/full',
      validator: 'replica/validator',
      'l1-replica': 'replica/l1',
      prover: 'prover/-',
    })
  })

  it("gives the replicas the committed sequencer identity's peer id", async () => {
    const sequencer = compose.services['sequencer']!
    const keyMount = (sequencer.volumes ?? [])
      .map(parseMount)
      .find((m) => m.target === flag(sequencer.command ?? [], 'p2p.key-file'))
    assert.ok(keyMount !== undefined && keyMount.kind === 'bind' && keyMount.readOnly)
    const key = await loadOrCreateIdentity(join(DOCKER_DIR, keyMount.source))
    const peerId = peerIdFromPrivateKey(key).toString()
    for (const name of ['replica', 'validator']) {
      assert.equal(flag(compose.services[name]!.command ?? [], 'p2p.bootnodes'), `/dns4/sequencer/tcp/30303/p2p/${peerId}`, name)
    }
  })

  it('keeps volumes, mounts, ports and dependencies consistent', () => {
    const declared = new Set(Object.keys(compose.volumes))
    const used = new Set<string>()
    const hostPorts = new Set<number>()
    for (const [name, service] of Object.entries(compose.services)) {
      const mounts = (service.volumes ?? []).map(parseMount)
      for (const mount of mounts) {
        if (mount.kind === 'volume') {
          assert.ok(declared.has(mount.source), `${name}: volume ${mount.source} is declared`)
          used.add(mount.source)
        } else assert.ok(existsSync(join(DOCKER_DIR, mount.source)), `${name}: bind source ${mount.source} exists`)
      }
      // Every absolute path a command names lies on one of the service's mounts.
      for (const arg of service.command ?? []) {
        const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : arg
        if (!value.startsWith('/') || value.startsWith('/dns4/') || value.startsWith('/ip4/')) continue
        assert.ok(
          mounts.some((m) => value === m.target || value.startsWith(`${m.target}/`)),
          `${name}: ${value} is on a mount`,
        )
      }
      for (const spec of service.ports ?? []) {
        const port = parsePort(spec)
        assert.equal(port.host, '127.0.0.1', `${name}: ${spec} is published on loopback only`)
        assert.ok(!hostPorts.has(port.hostPort), `${name}: host port ${port.hostPort} is unique`)
        hostPorts.add(port.hostPort)
        const rpcPort = flag(service.command ?? [], 'rpc.port')
        if (rpcPort !== undefined) assert.equal(port.containerPort, Number(rpcPort), `${name} publishes its RPC port`)
      }
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        assert.ok(compose.services[dependency] !== undefined, `${name} depends on ${dependency}, a service`)
        assert.ok(CONDITIONS.has(condition), `${name}: ${condition}`)
      }
      if (service.build !== undefined) {
        assert.equal(service.build.context, '..')
        assert.equal(service.build.dockerfile, 'docker/Dockerfile')
        assert.match(
          dockerfile,
          new RegExp(`^FROM \\S+ AS ${service.build.target}$`, 'm'),
          `${name}: stage ${service.build.target}`,
        )
      }
      // Images are built once per tag: a service using a tag nobody builds would pull a stranger's image.
      if (service.image.startsWith('megaeth-node'))
        assert.ok(
          Object.values(compose.services).some((s) => s.image === service.image && s.build !== undefined),
          service.image,
        )
    }
    assert.deepEqual([...used].sort(), [...declared].sort(), 'every declared volume is used')
    const deps = (name: string) => compose.services[name]!.depends_on ?? {}
    assert.equal(deps('deploy')['l1']?.condition, 'service_healthy')
    for (const name of ['sequencer', 'l1-replica', 'prover'])
      assert.equal(deps(name)['deploy']?.condition, 'service_completed_successfully')
    for (const name of ['replica', 'validator']) assert.equal(deps(name)['sequencer']?.condition, 'service_healthy')
    assert.equal(compose.services['deploy']!.restart, 'no')
    // anvil comes from the image's own node_modules (the devnet stage has the dev dependencies).
    assert.deepEqual(compose.services['l1']!.entrypoint, ['node', 'node_modules/@foundry-rs/anvil/bin.mjs'])
    assert.ok(existsSync(join(REPO_ROOT, 'node_modules/@foundry-rs/anvil/bin.mjs')))
  })
})

describe('Dockerfile', () => {
  it('builds from the lockfile, runs as non-root with production deps, stops on SIGTERM, checks /readyz', () => {
    const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\S+)$/gm)].map((m) => m[2])
    assert.deepEqual(stages, ['deps', 'prod-deps', 'node', 'devnet'])
    assert.match(dockerfile, /^COPY package\.json package-lock\.json \.\/$/m)
    assert.match(dockerfile, /^RUN npm install --no-audit --no-fund$/m)
    assert.doesNotMatch(dockerfile, /^RUN .*npm ci/m)
    assert.match(dockerfile, /^RUN npm prune --omit=dev/m)
    assert.match(dockerfile, /^COPY --from=prod-deps \/app\/node_modules/m)
    const runtime = dockerfile.slice(dockerfile.indexOf(' AS node'), dockerfile.indexOf(' AS devnet'))
    assert.match(runtime, /^USER node$/m)
    assert.match(runtime, /^STOPSIGNAL SIGTERM$/m)
    assert.match(runtime, /^HEALTHCHECK .*\\\n\s+CMD \[.*\/readyz/m)
    assert.match(runtime, /^ENTRYPOINT \["\/app\/bin\/megaeth-node"\]$/m)
    for (const match of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm))
      for (const source of match[1]!.split(' ')) assert.ok(existsSync(join(REPO_ROOT, source)), `COPY source ${source} exists`)
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    assert.match(ignored, /^node_modules$/m, 'the build context leaves node_modules out')
  })
})

describe('Prometheus and Grafana', () => {
  it('scrapes every node that serves metrics, and nothing else', () => {
    const text = readFileSync(join(DOCKER_DIR, 'prometheus.yml'), 'utf8')
    const targets = [...text.matchAll(/targets: \['([a-z0-9-]+):(\d+)'\]/g)].map((m) => `${m[1]}:${m[2]}`).sort()
    const serving = nodeServices(compose)
      .filter(([, s]) => flag(s.command ?? [], 'metrics.port') !== undefined)
      .map(([name, s]) => `${name}:${flag(s.command ?? [], 'metrics.port')}`)
      .sort()
    assert.deepEqual(targets, serving)
    const prometheus = compose.services['prometheus']!
    assert.ok((prometheus.volumes ?? []).includes('./prometheus.yml:/etc/prometheus/prometheus.yml:ro'))
  })

  it('provisions the datasource and the dashboard the compose file mounts', () => {
    const datasource = readFileSync(join(DOCKER_DIR, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')
    assert.match(datasource, /uid: prometheus$/m)
    assert.match(datasource, /url: http:\/\/prometheus:9090$/m)
    const provider = readFileSync(join(DOCKER_DIR, 'grafana/provisioning/dashboards/megaeth-node.yml'), 'utf8')
    const path = /path: (\S+)$/m.exec(provider)?.[1]
    const grafana = compose.services['grafana']!
    assert.ok((grafana.volumes ?? []).includes(`./grafana/dashboards:${path}:ro`))
    assert.ok((grafana.volumes ?? []).includes('./grafana/provisioning:/etc/grafana/provisioning:ro'))
    const dashboard = JSON.parse(readFileSync(join(DOCKER_DIR, 'grafana/dashboards/megaeth-node.json'), 'utf8')) as {
      uid: string
      panels: { type: string; datasource?: { uid: string }; targets?: { expr: string; datasource: { uid: string } }[] }[]
    }
    assert.equal(dashboard.uid, 'megaeth-node')
    const graphs = dashboard.panels.filter((p) => p.type !== 'row')
    assert.ok(graphs.length >= 15)
    for (const panel of graphs) {
      assert.equal(panel.datasource?.uid, 'prometheus')
      assert.ok((panel.targets ?? []).length > 0)
      for (const target of panel.targets ?? []) {
        assert.equal(target.datasource.uid, 'prometheus')
        assert.match(target.expr, /megaeth_[a-z0-9_]+/)
      }
    }
  })
})
