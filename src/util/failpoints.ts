/**
 * Failpoints: named places in the code where a resilience test can make the process die or an I/O
 * call fail, at an exact moment no outside `kill -9` can hit reliably (between a seal batch's write
 * and the head's update, after a WAL append and before its fsync, after a batch's L1 transaction is
 * sent and before it is recorded). The design of etcd's gofail and TiKV's fail-rs.
 *
 * Off unless `MEGAETH_FAILPOINTS` is set when the process starts; then `failpoint(name)` is one Map
 * lookup. Syntax: `name=action[@n][,name=action[@n]…]`, where action is
 * - `kill`: SIGKILL this process (nothing flushed, no handler runs: the same as `kill -9`);
 * - `error`: throw a `FailpointError` with code `EIO`, as a failed write or fsync would;
 * - `error-always`: the same on every hit from the n-th on (a disk that stays broken).
 * `@n` fires on the n-th hit (1-based, default 1). Other hits pass.
 * Example: `MEGAETH_FAILPOINTS=seal.after-write=kill@3,wal.fsync=error@10`.
 */

export type FailpointAction = 'kill' | 'error' | 'error-always'

interface Armed {
  action: FailpointAction
  at: number
  hits: number
}

/** What a failpoint's `error` action throws: shaped like the fs error it stands in for (`code: 'EIO'`). */
export class FailpointError extends Error {
  readonly code = 'EIO'
  constructor(readonly failpoint: string) {
    super(`EIO: i/o error (failpoint ${failpoint})`)
    this.name = 'FailpointError'
  }
}

const ACTIONS: readonly FailpointAction[] = ['kill', 'error', 'error-always']

/** Parses `MEGAETH_FAILPOINTS`; a malformed entry throws, so a test cannot silently arm nothing. */
export function parseFailpoints(spec: string): Map<string, Armed> {
  const armed = new Map<string, Armed>()
  for (const entry of spec.split(',')) {
    const trimmed = entry.trim()
    if (trimmed === '') continue
    const match = /^([a-z0-9.-]+)=([a-z-]+)(?:@(\d+))?$/.exec(trimmed)
    const action = match?.[2] as FailpointAction | undefined
    if (match === null || action === undefined || !ACTIONS.includes(action))
      throw new Error(`MEGAETH_FAILPOINTS: cannot parse "${trimmed}" (expected name=kill|error|error-always[@n])`)
    const at = match[3] === undefined ? 1 : Number(match[3])
    if (at < 1) throw new Error(`MEGAETH_FAILPOINTS: "${trimmed}": @n counts from 1`)
    armed.set(match[1]!, { action, at, hits: 0 })
  }
  return armed
}

const ARMED: Map<string, Armed> = parseFailpoints(process.env.MEGAETH_FAILPOINTS ?? '')

/** Marks a failpoint: a no-op unless a test armed `name` through `MEGAETH_FAILPOINTS`. */
export function failpoint(name: string): void {
  if (ARMED.size === 0) return
  const armed = ARMED.get(name)
  if (armed === undefined) return
  armed.hits++
  if (armed.hits < armed.at) return
  if (armed.action === 'error-always') throw new FailpointError(name)
  if (armed.hits !== armed.at) return
  if (armed.action === 'kill') process.kill(process.pid, 'SIGKILL')
  throw new FailpointError(name)
}
