// Compiles the bridge contracts (contracts/L1, contracts/L2) with solc-js and writes typed viem bindings to
// src/bridge/generated/<Name>.ts: `<name>Abi` (as const), `<name>Bytecode` and `<name>DeployedBytecode`.
// The bindings are committed; test/unit/bridge-bindings.test.ts recompiles and fails when they drift from the sources.
//
// Usage: node scripts/compile-contracts.mjs          (npm run contracts)
//
// Plain JS so that it runs without tsx. One binding per .sol file, for the contract named like the file; libraries
// (contracts/libraries) are compiled in where imported.
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join, posix } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import solc from 'solc'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const CONTRACTS_DIR = join(ROOT, 'contracts')
export const GENERATED_DIR = join(ROOT, 'src', 'bridge', 'generated')

const OPTIMIZER_RUNS = 200

/**
 * Source folders and the EVM each targets. Both are `cancun`, for different reasons:
 * - L1: the oldest fork the contracts must run on. Mainnet and the testnets are past it and anvil runs its latest
 *   fork; solc's `prague`/`osaka` targets add nothing its code generation uses that cancun lacks (no new opcode).
 * - L2: the predeploys run on our L2, which executes Cancun today. Code for a later fork could contain opcodes our EVM
 *   rejects (CLZ with osaka); move this to the L2's fork only when the L2 itself moves.
 */
export const GROUPS = [
  { dir: 'L1', evmVersion: 'cancun' },
  { dir: 'L2', evmVersion: 'cancun' },
]

/**
 * solc settings. `bytecodeHash: 'none'` keeps the metadata hash (which covers comments and file paths) out of the
 * bytecode: the L2 predeploys are genesis state, and a comment edit must not change the genesis hash.
 */
function settings(evmVersion) {
  return {
    evmVersion,
    optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
    metadata: { bytecodeHash: 'none' },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  }
}

/**
 * Warnings accepted, each for a reason; any other warning fails the build like an error.
 * - L2ToL1MessagePasser's Burner self-destructs in its constructor: the one way to destroy ETH, and EIP-6780 keeps
 *   that case (an account created and destroyed in one transaction is deleted).
 */
const ACCEPTED_WARNINGS = [/^"selfdestruct" has been deprecated/]

/** Reads an import (a source unit name relative to contracts/), refusing paths that leave the folder. */
function findImport(path) {
  const normalized = posix.normalize(path)
  if (normalized.startsWith('..') || posix.isAbsolute(normalized)) return { error: `import ${path} leaves contracts/` }
  try {
    return { contents: readFileSync(join(CONTRACTS_DIR, normalized), 'utf8') }
  } catch (err) {
    return { error: `cannot read contracts/${normalized}: ${err.message}` }
  }
}

/**
 * Compiles `files` (source unit names under contracts/, e.g. `L1/SystemConfig.sol`) for one EVM version and returns,
 * per file, the contract named like the file: `{ name, source, abi, bytecode, deployedBytecode }`. Throws with solc's
 * messages on any error.
 */
export function compileFiles(files, evmVersion) {
  const sources = Object.fromEntries(files.map((file) => [file, { content: readFileSync(join(CONTRACTS_DIR, file), 'utf8') }]))
  const input = { language: 'Solidity', sources, settings: settings(evmVersion) }
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }))
  const errors = (output.errors ?? []).filter(
    (e) => e.severity === 'error' || (e.severity === 'warning' && !ACCEPTED_WARNINGS.some((re) => re.test(e.message))),
  )
  if (errors.length > 0) throw new Error(`solc ${solc.version()} failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`)
  return files.map((file) => {
    const name = posix.basename(file, '.sol')
    const compiled = output.contracts?.[file]?.[name]
    if (compiled === undefined) throw new Error(`${file} defines no contract named ${name}`)
    return {
      name,
      source: file,
      evmVersion,
      abi: compiled.abi,
      bytecode: `0x${compiled.evm.bytecode.object}`,
      deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
    }
  })
}

/** Every bridge contract, compiled: one entry per .sol file of each group. */
export function compileBridgeContracts() {
  return GROUPS.flatMap(({ dir, evmVersion }) => {
    const files = readdirSync(join(CONTRACTS_DIR, dir))
      .filter((f) => f.endsWith('.sol'))
      .sort()
      .map((f) => `${dir}/${f}`)
    return compileFiles(files, evmVersion)
  })
}

/** `OptimismPortal2` → `optimismPortal2`, `L1Block` → `l1Block`. */
function camel(name) {
  return name[0].toLowerCase() + name.slice(1)
}

/** A JS literal of a JSON value with single-quoted strings and two-space indentation (the codebase's style). */
function literal(value, indent = '') {
  const inner = `${indent}  `
  if (typeof value === 'string') return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    return `[\n${value.map((v) => `${inner}${literal(v, inner)},`).join('\n')}\n${indent}]`
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
    if (entries.length === 0) return '{}'
    return `{\n${entries.map(([k, v]) => `${inner}${/^[A-Za-z_$][\w$]*$/.test(k) ? k : `'${k}'`}: ${literal(v, inner)},`).join('\n')}\n${indent}}`
  }
  return JSON.stringify(value)
}

/** The TypeScript module of one compiled contract. */
export function renderBinding(contract) {
  const id = camel(contract.name)
  return [
    `// Generated by scripts/compile-contracts.mjs from contracts/${contract.source}: do not edit, run \`npm run contracts\`.`,
    `// solc ${solc.version()}, evmVersion ${contract.evmVersion}, optimizer ${OPTIMIZER_RUNS} runs, no metadata hash.`,
    `import type { Hex } from 'viem'`,
    '',
    `export const ${id}Abi = ${literal(contract.abi)} as const`,
    '',
    `/** Creation code (constructor arguments are appended ABI-encoded). */`,
    `export const ${id}Bytecode: Hex =\n  '${contract.bytecode}'`,
    '',
    `/** Runtime code (what a genesis alloc or \`anvil_setCode\` installs). */`,
    `export const ${id}DeployedBytecode: Hex =\n  '${contract.deployedBytecode}'`,
    '',
  ].join('\n')
}

/** `{ path relative to the repo: content }` of every binding the sources give now. */
export function generatedBindings() {
  return Object.fromEntries(
    compileBridgeContracts().map((c) => [posix.join('src', 'bridge', 'generated', `${c.name}.ts`), renderBinding(c)]),
  )
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now()
  const bindings = generatedBindings()
  mkdirSync(GENERATED_DIR, { recursive: true })
  for (const [path, content] of Object.entries(bindings)) writeFileSync(join(ROOT, path), content)
  const names = Object.keys(bindings).map((p) => posix.basename(p, '.ts'))
  process.stdout.write(
    `compiled ${names.join(', ')} with solc ${solc.version()} in ${Date.now() - started} ms → src/bridge/generated/\n`,
  )
}
