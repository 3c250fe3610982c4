/**
 * What a test observes of a running node from outside, so the node runs unchanged: its resident memory and open
 * file descriptors from /proc (Linux), and its Prometheus metrics.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'

/** A process's resident memory (VmRSS), in MiB. */
export function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match === null ? Number.NaN : Number(match[1]) / 1024
}

/** How many file descriptors a process holds open (sockets included). */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length
}

const TCP_STATES: Record<string, string> = {
  '01': 'established',
  '02': 'syn-sent',
  '03': 'syn-recv',
  '04': 'fin-wait1',
  '05': 'fin-wait2',
  '06': 'time-wait',
  '07': 'close',
  '08': 'close-wait',
  '09': 'last-ack',
  '0A': 'listen',
  '0B': 'closing',
}

/**
 * A process's open fds by kind, to tell what a growth is: TCP sockets as `tcp:<role>:<state>`, the
 * role being the name `ports` gives the socket's local port (`rpc`, `p2p`, …), else `in:<port>` for a
 * connection accepted on another listener or `out` for one the process dialled; other sockets,
 * pipes, eventfds and files by their link (numbers stripped), e.g. `file:/data/chain/*.ldb`.
 */
export function fdBreakdown(
  pid: number,
  ports: Record<string, number> = {},
  owners: Record<string, number> = {},
): Record<string, number> {
  const byPort = new Map(Object.entries(ports).map(([name, port]) => [port, name]))
  const tcp = new Map<string, { local: number; remote: number; state: string }>()
  for (const table of ['tcp', 'tcp6']) {
    let text = ''
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols.length < 10) continue
      tcp.set(cols[9]!, {
        local: Number.parseInt(cols[1]!.split(':')[1]!, 16),
        remote: Number.parseInt(cols[2]!.split(':')[1]!, 16),
        state: TCP_STATES[cols[3]!] ?? cols[3]!,
      })
    }
  }
  // Which of `owners` holds the other end of a loopback connection: the one with a socket bound to its remote port.
  const ownerOfPort = new Map<number, string>()
  for (const [name, ownerPid] of Object.entries(owners))
    for (const inode of socketInodes(ownerPid)) {
      const socket = tcp.get(inode)
      if (socket !== undefined && socket.state !== 'listen') ownerOfPort.set(socket.local, name)
    }
  const listening = new Set([...tcp.values()].filter((s) => s.state === 'listen').map((s) => s.local))
  const kinds: Record<string, number> = {}
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let link: string
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`)
    } catch {
      continue // closed meanwhile
    }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1]
    const socket = inode === undefined ? undefined : tcp.get(inode)
    let kind: string
    if (socket !== undefined) {
      const role = byPort.get(socket.local) ?? (listening.has(socket.local) ? `in:${socket.local}` : 'out')
      const owner = ownerOfPort.get(socket.remote)
      kind = `tcp:${role}:${socket.state}${owner === undefined ? '' : `<-${owner}`}`
    } else if (inode !== undefined) kind = 'socket:other'
    else if (link.startsWith('/')) kind = `file:${link.replace(/[^/]*\d[^/]*$/, '*').replace(/\/\d+\//g, '/*/')}`
    else kind = link.replace(/\d+/g, 'N')
    kinds[kind] = (kinds[kind] ?? 0) + 1
  }
  return kinds
}

function socketInodes(pid: number): string[] {
  const inodes: string[] = []
  let fds: string[] = []
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch {
    return inodes
  }
  for (const fd of fds) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1]
      if (inode !== undefined) inodes.push(inode)
    } catch {
      // closed meanwhile
    }
  }
  return inodes
}

/** What grew (or shrank) between two `fdBreakdown`s: kinds whose count changed, with the change. */
export function fdDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {}
  for (const kind of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const change = (after[kind] ?? 0) - (before[kind] ?? 0)
    if (change !== 0) delta[kind] = change
  }
  return delta
}

/**
 * The summed value of every sample of `name` in a Prometheus text exposition whose labels include `labels` (0 when
 * there is none). Samples carry the registry's default label (`role`), so a bare name never matches alone.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const sample = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]))
    if (Object.entries(labels).every(([k, v]) => sample[k] === v)) total += Number(match[3])
  }
  return total
}

/** The exposition a node's `/metrics` serves now. */
export async function scrapeMetrics(url: string): Promise<string> {
  return (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text()
}

/** One metric from a fresh scrape (see `metricValue`). */
export async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricValue(await scrapeMetrics(url), name, labels)
}
