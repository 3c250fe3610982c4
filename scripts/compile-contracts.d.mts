// Types for compile-contracts.mjs (plain JS: it runs without tsx).
import type { Abi, Hex } from 'viem'

export interface CompiledContract {
  /** Contract name (= file name without `.sol`). */
  name: string
  /** Source unit name under contracts/, e.g. `L1/SystemConfig.sol`. */
  source: string
  evmVersion: string
  abi: Abi
  bytecode: Hex
  deployedBytecode: Hex
}
export declare const CONTRACTS_DIR: string
export declare const GENERATED_DIR: string
export declare const GROUPS: readonly { dir: string; evmVersion: string }[]
export declare function compileFiles(files: readonly string[], evmVersion: string): CompiledContract[]
export declare function compileBridgeContracts(): CompiledContract[]
export declare function renderBinding(contract: CompiledContract): string
export declare function generatedBindings(): Record<string, string>
