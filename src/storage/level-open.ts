import { DatabaseLockedError } from './errors.ts'

/**
 * Opens a LevelDB, turning classic-level's lock failure (`LEVEL_DATABASE_NOT_OPEN` caused by
 * `LEVEL_LOCKED`: another process has it open) into a `DatabaseLockedError` that says so.
 */
export async function openLevel(level: { open(): Promise<void> }, path: string): Promise<void> {
  try {
    await level.open()
  } catch (error) {
    if (isLockedError(error)) throw new DatabaseLockedError(path, error)
    throw error
  }
}

function isLockedError(error: unknown): boolean {
  return error instanceof Error && error.cause instanceof Error && 'code' in error.cause && error.cause.code === 'LEVEL_LOCKED'
}
