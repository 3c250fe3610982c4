/**
 * Free TCP ports on 127.0.0.1 for the processes tests and benchmarks start.
 *
 * Ports come from below the kernel's ephemeral range: a process binding port 0 (a node's p2p
 * listener, anvil, an outgoing connection — ours or another process's on a shared machine) is never
 * handed one of them, so a port chosen here and released stays ours until the process we pass it to
 * binds it, even one that takes seconds to start. (Binding port 0 here instead raced with exactly
 * those: the OS handed the port it had just released to a node's own p2p listener, and the node's
 * metrics server then failed with EADDRINUSE.)
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

const PORT_RANGE = ((): { low: number; high: number } => {
  try {
    const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)
    if (ephemeralLow !== undefined && ephemeralLow > 12_000) return { low: 10_000, high: ephemeralLow - 1 }
  } catch {
    // not Linux: the IANA dynamic range starts at 49152
  }
  return { low: 20_000, high: 32_767 }
})()
/** Ports this process handed out: never twice, even if their user has not bound them yet. */
const handedOut = new Set<number>()

/** A port on 127.0.0.1 that is free right now, outside the ephemeral range. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.low + Math.floor(Math.random() * (PORT_RANGE.high - PORT_RANGE.low + 1))
    if (handedOut.has(port)) continue
    if (await canBind(port)) {
      handedOut.add(port)
      return port
    }
  }
  throw new Error(`freePort: no free port found in ${PORT_RANGE.low}–${PORT_RANGE.high}`)
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolveBind) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolveBind(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolveBind(true)))
  })
}
