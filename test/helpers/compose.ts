/**
 * docker/docker-compose.yml for tests. The file is YAML written in JSON's syntax plus whole-line `#`
 * comments (no YAML library is installed, and JSON is YAML 1.2), so this reader is strict: it drops the
 * comment lines, refuses tabs and any other YAML-only syntax (JSON.parse fails on it), and returns the
 * typed subset of the Compose spec the file uses. Also: turning a service's container paths, hosts and
 * ports into this machine's, to run the same commands as plain processes.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from './node-process.ts'

export const DOCKER_DIR = join(REPO_ROOT, 'docker')
export const COMPOSE_FILE = join(DOCKER_DIR, 'docker-compose.yml')

export interface ComposeService {
  image: string
  build?: { context: string; dockerfile: string; target: string }
  entrypoint?: string[]
  command?: string[]
  volumes?: string[]
  ports?: string[]
  environment?: Record<string, string>
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test?: string[]; disable?: boolean; interval?: string; timeout?: string; retries?: number }
  restart?: string
  stop_grace_period?: string
}

export interface ComposeFile {
  name: string
  services: Record<string, ComposeService>
  volumes: Record<string, Record<string, never>>
}

/** The compose file's text without its whole-line comments; throws on tabs (YAML forbids them in indentation). */
export function composeJsonText(text: string): string {
  const lines = text.split('\n')
  lines.forEach((line, i) => {
    if (line.includes('\t')) throw new Error(`docker-compose.yml:${i + 1}: tab character`)
  })
  return lines.map((line) => (/^\s*#/.test(line) ? '' : line)).join('\n')
}

export function readCompose(path = COMPOSE_FILE): ComposeFile {
  return JSON.parse(composeJsonText(readFileSync(path, 'utf8'))) as ComposeFile
}

/** `name:/path[:ro]` or `./host:/path[:ro]`. */
export interface Mount {
  kind: 'volume' | 'bind'
  source: string
  target: string
  readOnly: boolean
}

export function parseMount(spec: string): Mount {
  const parts = spec.split(':')
  if (parts.length < 2 || parts.length > 3 || (parts[2] !== undefined && parts[2] !== 'ro' && parts[2] !== 'rw'))
    throw new Error(`volume ${JSON.stringify(spec)}: expected source:/target[:ro]`)
  const [source, target] = parts as [string, string]
  if (!target.startsWith('/')) throw new Error(`volume ${JSON.stringify(spec)}: the target must be absolute`)
  return {
    kind: source.startsWith('.') || source.startsWith('/') ? 'bind' : 'volume',
    source,
    target,
    readOnly: parts[2] === 'ro',
  }
}

/** `127.0.0.1:8545:8545` → host address, host port, container port. */
export function parsePort(spec: string): { host: string; hostPort: number; containerPort: number } {
  const match = /^(\d+\.\d+\.\d+\.\d+):(\d+):(\d+)$/.exec(spec)
  if (match === null) throw new Error(`port ${JSON.stringify(spec)}: expected address:hostPort:containerPort`)
  return { host: match[1]!, hostPort: Number(match[2]), containerPort: Number(match[3]) }
}

/** Services whose command runs megaeth-node (the image's entrypoint), in the file's order. */
export function nodeServices(compose: ComposeFile): [string, ComposeService][] {
  return Object.entries(compose.services).filter(
    ([, service]) => service.image.startsWith('megaeth-node') && service.entrypoint === undefined,
  )
}

export interface Localization {
  /** Named volume → a directory here. */
  volumes: Record<string, string>
  /** Compose service host name → `host:port` here for its RPC (container port 8545). */
  rpcHosts: Record<string, string>
  /** Compose service host name → p2p TCP port here (container port 30303). */
  p2pPorts: Record<string, number>
  /** This service's own ports here. */
  rpcPort: number
  p2pPort: number
  metricsPort: number
}

/**
 * A service's command with its container world replaced by this machine's: mounts by their directories
 * (a bind mount by its file under docker/), service host names by 127.0.0.1 and their ports, bind
 * addresses by loopback. Everything else is passed through untouched.
 */
export function localizeCommand(service: ComposeService, loc: Localization): string[] {
  const mounts = (service.volumes ?? []).map(parseMount).map((m) => ({
    target: m.target,
    local: m.kind === 'bind' ? join(DOCKER_DIR, m.source) : loc.volumes[m.source],
  }))
  return (service.command ?? []).map((arg) => {
    let out = arg
      .replace(/^--rpc\.addr=0\.0\.0\.0$/, '--rpc.addr=127.0.0.1')
      .replace(/^--p2p\.addr=0\.0\.0\.0$/, '--p2p.addr=127.0.0.1')
      .replace(/^--rpc\.port=8545$/, `--rpc.port=${loc.rpcPort}`)
      .replace(/^--p2p\.port=30303$/, `--p2p.port=${loc.p2pPort}`)
      .replace(/^--metrics\.port=9100$/, `--metrics.port=${loc.metricsPort}`)
    out = out.replace(/http:\/\/([a-z0-9-]+):8545/g, (_whole, host: string) => {
      const local = loc.rpcHosts[host]
      if (local === undefined) throw new Error(`${arg}: no local address for service ${host}`)
      return `http://${local}`
    })
    out = out.replace(/\/dns4\/([a-z0-9-]+)\/tcp\/30303\//g, (_whole, host: string) => {
      const port = loc.p2pPorts[host]
      if (port === undefined) throw new Error(`${arg}: no local p2p port for service ${host}`)
      return `/ip4/127.0.0.1/tcp/${port}/`
    })
    const eq = out.indexOf('=')
    if (eq !== -1) {
      const value = out.slice(eq + 1)
      for (const { target, local } of mounts) {
        if (local === undefined) throw new Error(`${arg}: mount ${target} has no local directory`)
        if (value === target || value.startsWith(`${target}/`))
          return `${out.slice(0, eq + 1)}${local}${value.slice(target.length)}`
      }
      if (value.startsWith('/') && !value.startsWith('/ip4/') && !value.startsWith('/dns4/'))
        throw new Error(`${arg}: ${value} is on no volume of this service`)
    }
    return out
  })
}
