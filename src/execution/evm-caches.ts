import { Common } from '@ethereumjs/common'
import { importEvmInternal } from './evm-internals.ts'

/**
 * Two ethereumjs hot spots, measured on ERC-20 transfers (see docs/DESIGN.md):
 * - the interpreter re-analyses a contract's JUMPDESTs and PUSH constants on every call (~9 % of
 *   execution time); the analysis is a pure function of the code bytes, which our state hands out as
 *   stable objects, so it is memoized per code object;
 * - `Common.isActivatedEIP` scans an array on every gas calculation (~5 %); a Set answers it.
 * Both are optimizations only: if ethereumjs' internals move, the patch is skipped, not broken.
 */
type Analysis = unknown
interface InterpreterPrototype {
  _getValidJumpDestinations(this: { _evm: { common: { hardfork(): string } } }, code: Uint8Array): Analysis
}

async function memoizeJumpAnalysis(): Promise<void> {
  const module = await importEvmInternal<{ Interpreter: { prototype: InterpreterPrototype } }>('interpreter.js')
  const prototype = module?.Interpreter?.prototype
  // Internals moved: run unpatched.
  if (prototype === undefined || typeof prototype._getValidJumpDestinations !== 'function') return
  const analyse = prototype._getValidJumpDestinations
  // The analysis also caches each position's opcode entry, which is the fork's (CLZ is an opcode from
  // Osaka, INVALID before): one memo per fork, since VMs of several forks share code objects.
  const analysesByFork = new Map<string, WeakMap<Uint8Array, Analysis>>()
  prototype._getValidJumpDestinations = function (code: Uint8Array): Analysis {
    const fork = this._evm.common.hardfork()
    let analyses = analysesByFork.get(fork)
    if (analyses === undefined) {
      analyses = new WeakMap()
      analysesByFork.set(fork, analyses)
    }
    let analysis = analyses.get(code)
    if (analysis === undefined) {
      analysis = analyse.call(this, code)
      analyses.set(code, analysis)
    }
    return analysis
  }
}

function setBasedEipLookup(): void {
  const eipSets = new WeakMap<object, { source: unknown; set: Set<number> }>()
  Object.defineProperty(Common.prototype, 'isActivatedEIP', {
    configurable: true,
    writable: true,
    value: function isActivatedEIP(this: { _activatedEIPsCache: number[] }, eip: number): boolean {
      const source = this._activatedEIPsCache
      let entry = eipSets.get(this)
      // The cache array is replaced when the hardfork or EIPs change: rebuild the Set then.
      if (entry === undefined || entry.source !== source) {
        entry = { source, set: new Set(source) }
        eipSets.set(this, entry)
      }
      return entry.set.has(eip)
    },
  })
}

setBasedEipLookup()
await memoizeJumpAnalysis()
