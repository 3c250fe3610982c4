// Makes `npm start` / `npm test` work on a fresh clone: installs dependencies from the lockfile when
// node_modules is missing or was installed from a different lockfile. Plain JS: it runs before tsx exists.
// `npm install`, not `npm ci`: npm 11 writes lockfiles without the other platforms' optional anvil
// binaries and then `npm ci` refuses them as out of sync; `npm install` honours the lockfile as is.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { patchDependenciesOrExit } from './patch-dependencies.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const lockfile = join(root, 'package-lock.json')
const stamp = join(root, 'node_modules', '.megaeth-install-stamp')
const wanted = createHash('sha256').update(readFileSync(lockfile)).digest('hex')

if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== wanted) {
  process.stderr.write('megaeth-node: installing dependencies from package-lock.json…\n')
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const result = spawnSync(npm, ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) {
    process.stderr.write('megaeth-node: npm install failed; see the output above\n')
    process.exit(result.status ?? 1)
  }
  writeFileSync(stamp, wanted)
}

// Also after an install made with --ignore-scripts (no postinstall): cheap when already applied.
patchDependenciesOrExit()
