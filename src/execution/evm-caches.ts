import { Common } from '@ethereumjs/common'
import { importEvmInternal } from './evm-internals.ts'

/**
 * ethereumjs hot spots, measured on ERC-20 transfers (see docs/DESIGN.md):
 * - the interpreter re-analyses a contract's JUMPDESTs and PUSH constants on every call (~9 % of
 *   execution time); the analysis is a pure function of the code bytes, which our state hands out as
 *   stable objects, so it is memoized per code object;
 * - `Common.isActivatedEIP` scans an array on every gas calculation (~5 %); a Set answers it;
 * - `Common.param`, `gteHardfork` and `consensusType` convert or walk lists on every call (below).
 * All are optimizations only: if ethereumjs' internals move, the patch is skipped, not broken.
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

/**
 * A memo kept on the Common instance itself (a non-enumerable symbol-keyed property: `Common.copy()`
 * copies enumerable own properties only), valid while `key` still holds: a property load is cheaper
 * than a WeakMap lookup, and these run on every gas calculation.
 */
function instanceMemo<K, V extends { readonly key: K }>(symbol: symbol, common: object, key: K, create: (key: K) => V): V {
  const holder = common as Record<symbol, V | undefined>
  let memo = holder[symbol]
  if (memo === undefined || memo.key !== key) {
    memo = create(key)
    if (Object.hasOwn(holder, symbol)) holder[symbol] = memo
    else Object.defineProperty(holder, symbol, { value: memo, writable: true, enumerable: false, configurable: true })
  }
  return memo
}

const EIP_SET = Symbol('megaeth.eipSet')

function setBasedEipLookup(): void {
  Object.defineProperty(Common.prototype, 'isActivatedEIP', {
    configurable: true,
    writable: true,
    value: function isActivatedEIP(this: { _activatedEIPsCache: number[] }, eip: number): boolean {
      // The cache array is replaced when the hardfork or EIPs change: a new Set then.
      return instanceMemo(EIP_SET, this, this._activatedEIPsCache, (key) => ({ key, set: new Set(key) })).set.has(eip)
    },
  })
}

/**
 * `Common.param(name)` converts the cached number to a fresh bigint on every call (each gas
 * calculation asks for a few), and `gteHardfork` / `consensusType` walk the hardfork list comparing
 * names (every SSTORE, every transaction's journal clean-up, every call frame). Their answers are
 * pure functions of the params cache object (rebuilt, never edited, when the hardfork or params
 * change) and of the current hardfork name, so they are memoized under those.
 */
const PARAMS = Symbol('megaeth.params')
const BY_HARDFORK = Symbol('megaeth.byHardfork')

function memoizeCommonLookups(): void {
  type CommonInternals = {
    _paramsCache: Record<string, unknown>
    _hardfork: string
  }
  const prototype = Common.prototype as unknown as {
    param(this: CommonInternals, name: string): bigint
    gteHardfork(this: CommonInternals, hardfork: string): boolean
    consensusType(this: CommonInternals): string
  }
  const param = prototype.param
  const gteHardfork = prototype.gteHardfork
  const consensusType = prototype.consensusType
  if (typeof param !== 'function' || typeof gteHardfork !== 'function' || typeof consensusType !== 'function') return
  prototype.param = function (this: CommonInternals, name: string): bigint {
    const values = instanceMemo(PARAMS, this, this._paramsCache, (key) => ({ key, values: new Map<string, bigint>() })).values
    let value = values.get(name)
    if (value === undefined) {
      // Throws for an unknown name, as before (and caches nothing then).
      value = param.call(this, name)
      values.set(name, value)
    }
    return value
  }
  const byHardfork = (common: CommonInternals) =>
    instanceMemo(BY_HARDFORK, common, common._hardfork, (key) => ({
      key,
      gte: new Map<string, boolean>(),
      consensus: undefined as string | undefined,
    }))
  prototype.gteHardfork = function (this: CommonInternals, hardfork: string): boolean {
    const memo = byHardfork(this)
    let answer = memo.gte.get(hardfork)
    if (answer === undefined) {
      answer = gteHardfork.call(this, hardfork)
      memo.gte.set(hardfork, answer)
    }
    return answer
  }
  prototype.consensusType = function (this: CommonInternals): string {
    const memo = byHardfork(this)
    memo.consensus ??= consensusType.call(this)
    return memo.consensus
  }
}

setBasedEipLookup()
memoizeCommonLookups()
await memoizeJumpAnalysis()
