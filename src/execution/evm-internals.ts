import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * Imports one of `@ethereumjs/evm`'s internal ESM modules (`interpreter.js`, `opcodes/…`), which
 * the package does not export, for the hot-path patches next to this file. Resolves to undefined
 * when the file is not there: a patch then skips itself rather than break.
 */
export async function importEvmInternal<T>(path: string): Promise<Partial<T> | undefined> {
  try {
    const require = createRequire(import.meta.url)
    const esmDir = join(dirname(require.resolve('@ethereumjs/evm')), '..', 'esm')
    return (await import(pathToFileURL(join(esmDir, path)).href)) as Partial<T>
  } catch {
    return undefined
  }
}
