/**
 * A small tmpfs to run a node's datadir on a disk that fills up (the disk-fault campaign). Needs
 * root (CI and this machine run as root); a failure to mount throws with the reason, never skips.
 */
import { execFile } from 'node:child_process'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface Tmpfs {
  dir: string
  /** Writes a filler file until the filesystem is full (ENOSPC); returns the bytes written. */
  fill(): Promise<number>
  /** Deletes the filler: the space is back. */
  free(): Promise<void>
  /** Unmounts (lazily, so a process still holding files cannot keep it mounted). Idempotent. */
  unmount(): Promise<void>
}

export async function mountTmpfs(dir: string, sizeMb: number): Promise<Tmpfs> {
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir])
  } catch (error) {
    throw new Error(
      `cannot mount a ${sizeMb} MiB tmpfs at ${dir} (the disk-fault campaign needs root and mount(8)): ${error instanceof Error ? error.message : String(error)}`,
    )
  }
  const filler = join(dir, 'filler')
  let mounted = true
  return {
    dir,
    async fill() {
      const file = await open(filler, 'a')
      const chunk = Buffer.alloc(1 << 20)
      let written = 0
      try {
        for (;;) {
          try {
            const { bytesWritten } = await file.write(chunk)
            written += bytesWritten
            if (bytesWritten < chunk.length) break
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break
            throw error
          }
        }
        // The last partial page: single bytes until nothing fits.
        for (;;) {
          try {
            await file.write(Buffer.alloc(512))
            written += 512
          } catch {
            break
          }
        }
      } finally {
        await file.close()
      }
      return written
    },
    async free() {
      await rm(filler, { force: true })
    },
    async unmount() {
      if (!mounted) return
      mounted = false
      await run('umount', ['-l', dir])
    },
  }
}
