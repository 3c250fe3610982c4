/**
 * Compiles `contracts/*.sol` with solc-js (standard JSON, evmVersion cancun, optimizer on), once per
 * process. Any compiler error fails loudly with solc's formatted messages.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import solc from 'solc'
import type { Abi, Hex } from 'viem'
import { REPO_ROOT } from './node-process.ts'

export interface CompiledContract {
  abi: Abi
  bytecode: Hex
  deployedBytecode: Hex
}

export type ContractName = 'Token' | 'Reverter' | 'Counter' | 'Factory' | 'Child'

interface SolcOutput {
  errors?: Array<{ severity: 'error' | 'warning' | 'info'; formattedMessage: string }>
  contracts?: Record<
    string,
    Record<string, { abi: Abi; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
  >
}

export const CONTRACTS_DIR = join(REPO_ROOT, 'contracts')

let cache: Map<string, CompiledContract> | undefined

function compileAll(): Map<string, CompiledContract> {
  const files = readdirSync(CONTRACTS_DIR)
    .filter((f) => f.endsWith('.sol'))
    .sort()
  if (files.length === 0) throw new Error(`no .sol files in ${CONTRACTS_DIR}`)
  const sources: Record<string, { content: string }> = {}
  for (const file of files) sources[file] = { content: readFileSync(join(CONTRACTS_DIR, file), 'utf8') }
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      evmVersion: 'cancun',
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input)) as string) as SolcOutput
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0)
    throw new Error(`solc ${solc.version()} failed to compile contracts/:\n${errors.map((e) => e.formattedMessage).join('\n')}`)
  const out = new Map<string, CompiledContract>()
  for (const [file, contracts] of Object.entries(output.contracts ?? {})) {
    for (const [name, c] of Object.entries(contracts)) {
      if (out.has(name)) throw new Error(`contract name ${name} is defined twice (second in ${file})`)
      if (c.evm.bytecode.object === '' && c.abi.length === 0) continue
      out.set(name, {
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
      })
    }
  }
  return out
}

/** `{ abi, bytecode }` of one contract of `contracts/` (all are compiled on first use, then cached). */
export function contract(name: ContractName): CompiledContract {
  cache ??= compileAll()
  const found = cache.get(name)
  if (found === undefined) throw new Error(`contract ${name} not found in contracts/ (have: ${[...cache.keys()].join(', ')})`)
  return found
}
