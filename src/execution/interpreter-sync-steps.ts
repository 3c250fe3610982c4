import { importEvmInternal } from './evm-internals.ts'

/**
 * ethereumjs' interpreter awaits `async runStep()` for every opcode: a promise and a microtask turn
 * per PUSH, ADD or JUMP, and the garbage that comes with them. Most opcodes of a contract call have
 * a static gas cost and a synchronous handler, so this patch runs those steps synchronously and
 * awaits only the rest (dynamic gas, state access, calls), which still go through ethereumjs' own
 * `runStep`. Measured: −14 % CPU on ERC-20 transfers (docs/DESIGN.md).
 *
 * A synchronous step does exactly what `runStep` does for such an opcode: charge the fixed fee,
 * advance the program counter, settle a pending EIP-7928 post-call out-of-gas, run the handler,
 * commit the access witness. Frames this does not cover run ethereumjs' loop untouched: EOF code,
 * step listeners or debug logging (tracers see every step as before), the profiler, EIP-6800/7864
 * code-chunk gas and EIP-8037 state gas. Like the other patches it is an optimization only: if the
 * internals it relies on move, it is skipped.
 */

interface OpcodeInfo {
  readonly code: number
  readonly feeBigInt: bigint
  readonly dynamicGas: boolean
  readonly isAsync: boolean
  readonly isInvalid: boolean
}
interface OpcodeEntry {
  readonly opcodeInfo: OpcodeInfo
  readonly opHandler: (runState: RunState, common: unknown) => unknown
}
interface RunState {
  programCounter: number
  opCode: number
  code: Uint8Array
  validJumps: Uint8Array
  cachedPushes: unknown
  shouldDoJumpAnalysis: boolean
  env: { accessWitness?: { commit(): void; revert(): void } }
}
interface EvmError {
  errorType?: string
  error?: string
}
interface Interpreter {
  _runState: RunState
  _evm: { DEBUG: boolean; events: { listenerCount(event: string): number } }
  common: { isActivatedEIP(eip: number): boolean }
  profilerOpts?: { enabled?: boolean }
  /** Set by the patched `run` when this frame takes the synchronous steps. */
  [SYNC_STEPS]?: boolean
  run(code: Uint8Array, opts?: { pc?: number }): Promise<{ runState: RunState; exceptionError: EvmError | undefined }>
  runStep(entry: OpcodeEntry | undefined): Promise<void> | undefined
  lookupOpInfo(opCode: number): OpcodeEntry
  useGas(amount: bigint, context: OpcodeInfo): void
  _getValidJumpDestinations(code: Uint8Array): { jumps: Uint8Array; pushes: unknown; opcodesCached: OpcodeEntry[] }
}

const SYNC_STEPS = Symbol('megaeth.syncSteps')
/** Interpreter steps between two calls of the step interrupt (a power of two, for the mask). */
const INTERRUPT_EVERY = 1024

let stepInterrupt: (() => void) | undefined
let stepCount = 0

/**
 * Calls `check` every 1,024 interpreter steps of this thread, across frames (undefined: never, the
 * default); `check` throws to stop the execution. The call workers' wall-clock limit: a JUMPDEST loop
 * reads no state, so nothing else would notice its deadline. Costs a step one comparison.
 */
export function setStepInterrupt(check: (() => void) | undefined): void {
  stepInterrupt = check
}
const EOF_MAGIC = 0xef
const JUMP = 0x56
const JUMPI = 0x57
/** The retired JUMPSUB (MCOPY under Cancun): ethereumjs' loop still starts the jump analysis on it, so ours does too. */
const JUMPSUB = 0x5e

async function installSyncSteps(): Promise<boolean> {
  const [interpreterModule, eip7928, errors] = await Promise.all([
    importEvmInternal<{ Interpreter: { prototype: Interpreter } }>('interpreter.js'),
    importEvmInternal<{ consumeEip7928PostTargetCallOog: (runState: RunState) => void }>('opcodes/EIP7928.js'),
    importEvmInternal<{ EVMErrorTypeString: string; EVMError: { errorMessages: { STOP: string } } }>('errors.js'),
  ])
  const prototype = interpreterModule?.Interpreter?.prototype
  const settlePostCallOog = eip7928?.consumeEip7928PostTargetCallOog
  const evmErrorType = errors?.EVMErrorTypeString
  const stop = errors?.EVMError?.errorMessages.STOP
  if (prototype === undefined || settlePostCallOog === undefined || evmErrorType === undefined || stop === undefined) return false
  for (const method of ['run', 'runStep', 'lookupOpInfo', 'useGas', '_getValidJumpDestinations'] as const) {
    if (typeof prototype[method] !== 'function') return false
  }
  const asyncRun = prototype.run
  const asyncRunStep = prototype.runStep

  prototype.runStep = function runStep(this: Interpreter, entry: OpcodeEntry | undefined): Promise<void> | undefined {
    const runState = this._runState
    const opEntry = entry ?? this.lookupOpInfo(runState.opCode)
    const info = opEntry.opcodeInfo
    if (this[SYNC_STEPS] !== true || info.dynamicGas || info.isAsync || info.isInvalid) return asyncRunStep.call(this, entry)
    this.useGas(info.feeBigInt, info)
    runState.programCounter++
    settlePostCallOog(runState)
    opEntry.opHandler(runState, this.common)
    runState.env.accessWitness?.commit()
    return undefined
  }

  prototype.run = async function run(this: Interpreter, code: Uint8Array, opts: { pc?: number } = {}) {
    const common = this.common
    const untouched =
      (code[0] === EOF_MAGIC && common.isActivatedEIP(3540)) ||
      common.isActivatedEIP(6800) ||
      common.isActivatedEIP(7864) ||
      common.isActivatedEIP(8037) ||
      this.profilerOpts?.enabled === true ||
      this._evm.DEBUG ||
      this._evm.events.listenerCount('step') > 0
    if (untouched) return asyncRun.call(this, code, opts)
    this[SYNC_STEPS] = true
    const runState = this._runState
    runState.code = code
    runState.programCounter = opts.pc ?? runState.programCounter
    const start = runState.programCounter
    if (start !== 0 && (start < 0 || start >= code.length)) throw new Error('Internal error: program counter not in range')
    let exceptionError: EvmError | undefined
    // As ethereumjs does: steps look opcodes up until the first jump needs the analysis, then read
    // them from the analysed code.
    let analysed: OpcodeEntry[] | undefined
    while (runState.programCounter < runState.code.length) {
      const pc = runState.programCounter
      let entry: OpcodeEntry | undefined
      let opCode: number
      if (analysed === undefined) {
        opCode = runState.code[pc]!
        if (opCode === JUMP || opCode === JUMPI || opCode === JUMPSUB) {
          const { jumps, pushes, opcodesCached } = this._getValidJumpDestinations(runState.code)
          runState.validJumps = jumps
          runState.cachedPushes = pushes
          runState.shouldDoJumpAnalysis = false
          analysed = opcodesCached
        }
      } else {
        entry = analysed[pc]!
        opCode = entry.opcodeInfo.code
      }
      runState.opCode = opCode
      if (stepInterrupt !== undefined && (++stepCount & (INTERRUPT_EVERY - 1)) === 0) stepInterrupt()
      try {
        const pending = this.runStep(entry)
        if (pending !== undefined) await pending
      } catch (error) {
        runState.env.accessWitness?.revert()
        const evmError = error as EvmError
        if (typeof error !== 'object' || error === null || evmError.errorType !== evmErrorType) throw error
        if (evmError.error !== stop) exceptionError = evmError
        break
      }
    }
    return { runState, exceptionError }
  }
  return true
}

/** False when the internals moved and the patch skipped itself (a test flags that). */
export const syncStepsInstalled: boolean = await installSyncSteps()
