import { NodeError } from '../primitives/errors.ts'

/**
 * A write to the node's database failed (a full disk, an I/O error, a failed fsync). Critical: the
 * database refuses every later write with this same error until the node restarts (see
 * `NodeDb.write`), so nothing is acknowledged on top of a write whose fate is unknown.
 */
export class StorageWriteError extends NodeError<'STORAGE_WRITE_FAILED', { sync: boolean; errno: string | undefined }> {
  override name = 'StorageWriteError'

  constructor(cause: unknown, sync: boolean) {
    const errno = errnoOf(cause)
    super('STORAGE_WRITE_FAILED', 'database write failed', {
      details: `${sync ? 'fsynced ' : ''}write: ${cause instanceof Error ? cause.message : String(cause)}`,
      hint: 'free disk space or fix the device, then restart the node: it recovers from what reached the disk',
      severity: 'critical',
      cause,
      data: { sync, errno },
    })
  }
}

/** The errno-style code of a failed write (`ENOSPC`, `EIO`), when the error carries one; LevelDB's say it in the message. */
function errnoOf(error: unknown): string | undefined {
  if (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    /^E[A-Z]+$/.test(error.code)
  )
    return error.code
  const text = error instanceof Error ? error.message : String(error)
  if (/no space left on device/i.test(text)) return 'ENOSPC'
  if (/input\/output error|i\/o error/i.test(text)) return 'EIO'
  return undefined
}

/**
 * A LevelDB of the datadir is held by another process: LevelDB takes an exclusive lock (its `LOCK`
 * file) for as long as a database is open, so this is how a running node keeps its datadir to itself,
 * from a second node and from offline tools (`prune-state`) alike.
 */
export class DatabaseLockedError extends NodeError<'STORAGE_LOCKED', { path: string }> {
  override name = 'DatabaseLockedError'

  constructor(path: string, cause: unknown) {
    super('STORAGE_LOCKED', `the database ${path} is in use by another process`, {
      hint: 'a node (or another command) is running on this datadir: stop it first',
      severity: 'critical',
      cause,
      data: { path },
    })
  }
}
