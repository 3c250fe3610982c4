/** Compiles bench/contracts/BenchToken.sol with solc-js (no native solc on these machines). */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

interface SolcOutput {
  errors?: Array<{ severity: string; formattedMessage: string }>
  contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>
}
interface Solc {
  compile(input: string): string
  version(): string
}

export interface Compiled {
  bytecode: string
  abi: unknown[]
  solcVersion: string
  compileMs: number
}

export function compileBenchToken(): Compiled {
  const t = performance.now()
  const solc = createRequire(import.meta.url)('solc') as Solc
  const source = readFileSync(new URL('./BenchToken.sol', import.meta.url), 'utf8')
  const input = {
    language: 'Solidity',
    sources: { 'BenchToken.sol': { content: source } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'cancun',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  }
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`)
  const c = out.contracts['BenchToken.sol']!.BenchToken!
  return {
    bytecode: `0x${c.evm.bytecode.object}`,
    abi: c.abi,
    solcVersion: solc.version(),
    compileMs: Math.round(performance.now() - t),
  }
}
