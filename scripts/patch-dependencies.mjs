// Applies our source patches to installed dependencies, as patch-package does: speed-ups in
// ethereumjs code that no run-time patch reaches without copying whole functions (module-private ESM
// bindings, a few lines inside long methods; the prototype-level patches live in src/execution/).
// Each patch swaps one exact snippet for one with the same observable behaviour; docs/DESIGN.md
// ("ethereumjs hot paths we patch") has the measurements.
//
// Runs as `postinstall` and from ensure-installed.mjs, and is idempotent. A snippet found neither
// patched nor unpatched means the dependency changed under a patch: that fails the install loudly
// instead of running unpatched unnoticed. `--check` only reports.
//
// Plain JS: it runs before tsx exists.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

/** The node_modules that holds `file`: ours, or an ancestor's where a package manager hoisted it. */
function nodeModulesHolding(file) {
  for (let dir = ROOT; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', file))) return join(dir, 'node_modules')
    if (dirname(dir) === dir) return join(ROOT, 'node_modules')
  }
}

// setLength pads by spreading both arrays into a JS array and copying that into a new Uint8Array:
// ~1 µs per 32-byte word, on every MSTORE, SLOAD, SSTORE and LOG topic.
const setLengthBefore = `        return right
            ? new Uint8Array([...msg, ...new Uint8Array(length - msg.length)])
            : new Uint8Array([...new Uint8Array(length - msg.length), ...msg]);`
const setLengthAfter = `        // megaeth-node patch (scripts/patch-dependencies.mjs): pad without array spreads.
        const padded = new Uint8Array(length);
        padded.set(msg, right ? 0 : length - msg.length);
        return padded;`

// bigIntToBytes prefixes the hex with 0x only for hexToBytes to check the prefix with a regular
// expression and strip it again, on every stack value turned into bytes (the same bytes without).
// biome-ignore lint/suspicious/noTemplateCurlyInString: the dependency's source text, matched as written
const bigIntToBytesBefore = '    const bytes = hexToBytes(`0x${padToEven(num.toString(16))}`);'
const bigIntToBytesAfter = `    // megaeth-node patch (scripts/patch-dependencies.mjs): no 0x prefix to add, check and strip.
    const bytes = unprefixedHexToBytes(padToEven(num.toString(16)));`

// bytesToHex appends two characters per byte: a 32-byte word becomes a rope of ~33 string objects
// (~1 KB of garbage), and every Map lookup keyed by it walks the rope. Hex keys name every account
// and slot the state is read by, so this was ~30 % of AMM swap execution. The patched version
// writes the characters into an ASCII scratch buffer and decodes that into one flat string.
const bytesToHexBefore = `export const bytesToHex = (bytes) => {
    // Using deprecated bytesToUnprefixedHex for performance: bytesToHex is a wrapper that adds the 0x prefix.
    // Using bytesToUnprefixedHex directly avoids creating an intermediate prefixed string and then stripping it.
    const unprefixedHex = bytesToUnprefixedHex(bytes);
    return \`0x\${unprefixedHex}\`;
};`
const bytesToHexAfter = `// megaeth-node patch (scripts/patch-dependencies.mjs): one flat string, not a rope of pairs.
const HEX_SCRATCH_BYTES = 1024;
const hexScratch = Buffer.allocUnsafeSlow(2 + 2 * HEX_SCRATCH_BYTES);
hexScratch.write('0x', 0, 'latin1');
const hexScratchPairs = new Uint16Array(hexScratch.buffer, hexScratch.byteOffset, hexScratch.length >> 1);
const HEX_PAIRS = new Uint16Array(256);
for (let i = 0; i < 256; i++) Buffer.from(HEX_PAIRS.buffer).write(i.toString(16).padStart(2, '0'), 2 * i, 'latin1');
export const bytesToHex = (bytes) => {
    if (!(bytes instanceof Uint8Array)) return \`0x\${bytesToUnprefixedHex(bytes)}\`;
    const n = bytes.length;
    if (n > HEX_SCRATCH_BYTES) return \`0x\${Buffer.from(bytes.buffer, bytes.byteOffset, n).toString('hex')}\`;
    for (let i = 0; i < n; i++) hexScratchPairs[i + 1] = HEX_PAIRS[bytes[i]];
    return hexScratch.toString('latin1', 0, 2 + 2 * n);
};`

// noble's bytesToHex, which util re-exports as bytesToUnprefixedHex, builds the same rope of pairs.
// The EVM's journal keys every warm-address and warm-slot check by it (two to four per SLOAD or
// SSTORE), each lookup flattening the rope first: ~600 ns per 32-byte key and lookup against ~220
// flat. The patched version fills the scratch buffer the bytesToHex patch below declares (patches
// apply all or none) and skips its "0x".
const bytesToUnprefixedHexBefore = 'export const bytesToUnprefixedHex = bytesToUnprefixedHexNoble;'
const bytesToUnprefixedHexAfter = `// megaeth-node patch (scripts/patch-dependencies.mjs): one flat string, not a rope of pairs.
export const bytesToUnprefixedHex = (bytes) => {
    if (!(bytes instanceof Uint8Array) || bytes.length > HEX_SCRATCH_BYTES) return bytesToUnprefixedHexNoble(bytes);
    const n = bytes.length;
    for (let i = 0; i < n; i++) hexScratchPairs[i + 1] = HEX_PAIRS[bytes[i]];
    return hexScratch.toString('latin1', 2, 2 + 2 * n);
};`

// Object spreads V8 takes a slow path on, once per call frame: a nested literal spread before a
// Message (~20–30 µs) and three run-state objects merged into one (~35 µs). The same objects, with
// the same keys in the same order, built without those spreads.
const interpreterMessageBefore = `            result = await this.runInterpreter({
                ...{ codeAddress: message.codeAddress },
                ...message,
                gasLimit,
            }, { initialLogs: eip7708Log ? [eip7708Log] : undefined });`
const interpreterMessageAfter = `            // megaeth-node patch (scripts/patch-dependencies.mjs): no nested literal spread.
            const interpreterMessage = { codeAddress: message.codeAddress, ...message };
            interpreterMessage.gasLimit = gasLimit;
            result = await this.runInterpreter(interpreterMessage, { initialLogs: eip7708Log ? [eip7708Log] : undefined });`
// The result of every call frame was `{ ...result, runState: {...}, exceptionError, … }`: a spread
// followed by keys the spread did not have takes a slow path in V8 (~10–25 µs per frame in a
// micro-benchmark, against ~0.5 µs for the same object built by Object.assign), and the `runState`
// snapshot merges the run state, the result and the environment into one ~45-key object (~10 µs),
// which nothing in ethereumjs or the node reads. The patched frame result is built by Object.assign
// and takes that snapshot on first read (a getter of the class below, which then leaves an own data
// property); every other key, its value and its order are as before. An earlier version of this patch
// only replaced the snapshot's three spreads by one Object.assign (`previous`).
const frameResultBefore = `        message.accessWitness?.commit();
        return {
            ...result,
            runState: {
                ...interpreterRes.runState,
                ...result,
                ...interpreter._env,
            },
            exceptionError: interpreterRes.exceptionError,`
const frameResultPrevious = `        message.accessWitness?.commit();
        return {
            ...result,
            // megaeth-node patch (scripts/patch-dependencies.mjs): one copy, not three spreads.
            runState: Object.assign({}, interpreterRes.runState, result, interpreter._env),
            exceptionError: interpreterRes.exceptionError,`
const frameResultAfter = `        message.accessWitness?.commit();
        // megaeth-node patch (scripts/patch-dependencies.mjs): Object.assign, not a spread followed by
        // new keys (V8's slow path), and the runState snapshot taken when read (FrameResult).
        return Object.assign(new FrameResult(interpreterRes.runState, result, interpreter._env), result, {
            exceptionError: interpreterRes.exceptionError,`
const frameResultEndBefore = `            returnValue: result.returnValue ?? new Uint8Array(0),
        };
    }`
const frameResultEndAfter = `            returnValue: result.returnValue ?? new Uint8Array(0),
        });
    }`
const frameResultClassBefore = `const debug = debugDefault('evm:evm');`
const frameResultClassAfter = `const debug = debugDefault('evm:evm');
// megaeth-node patch (scripts/patch-dependencies.mjs): a call frame's result, whose \`runState\`
// snapshot is built when first read (then kept as an own property) rather than for every frame.
class FrameResult {
    #runStateSources;
    constructor(runState, result, env) {
        this.#runStateSources = [runState, result, env];
    }
    get runState() {
        const snapshot = Object.assign({}, ...this.#runStateSources);
        Object.defineProperty(this, 'runState', { value: snapshot, writable: true, enumerable: true, configurable: true });
        return snapshot;
    }
    set runState(value) {
        Object.defineProperty(this, 'runState', { value, writable: true, enumerable: true, configurable: true });
    }
}`
// The same slow path when a frame fails: its result is copied with fresh logs, self-destructs and
// created addresses, a key the result may not have had.
const failedFrameBefore = `            result = {
                ...result,
                logs: [],
                selfdestruct: new Map(),
                createdAddresses: new Set(),
            };`
const failedFrameAfter = `            // megaeth-node patch (scripts/patch-dependencies.mjs): Object.assign, not a spread followed by new keys.
            result = Object.assign({}, result, { logs: [], selfdestruct: new Map(), createdAddresses: new Set() });`

// Every call frame's memory starts as a zeroed 8 KiB array (an off-heap backing store, so each one
// also weighs on the GC as external memory), though most frames use a few hundred bytes: an AMM
// swap's frames allocate ~50 KiB. The patched memory starts at 1 KiB and doubles as it grows
// (never less than the word-rounded size asked for); reads, writes and their zero fill are unchanged.
const memoryInitBefore = `    constructor() {
        this._store = new Uint8Array(CONTAINER_SIZE);
    }`
const memoryInitAfter = `    constructor() {
        // megaeth-node patch (scripts/patch-dependencies.mjs): start small, grow by doubling.
        this._store = new Uint8Array(1024);
    }`
const memoryGrowBefore = `        if (sizeDiff > 0) {
            const expandBy = Math.ceil(sizeDiff / CONTAINER_SIZE) * CONTAINER_SIZE;
            this._store = concatBytes(this._store, new Uint8Array(expandBy));
        }`
const memoryGrowAfter = `        if (sizeDiff > 0) {
            // megaeth-node patch (scripts/patch-dependencies.mjs): double, or to the size asked for.
            const grown = new Uint8Array(Math.max(newSize, this._store.length * 2));
            grown.set(this._store);
            this._store = grown;
        }`

// A receipt's bloom reads three bit positions from each log item's hash through a new DataView
// each (twelve per ERC-20 Transfer). The same two bytes, read straight from the digest (at the
// buffer's start, as the DataView reads them whatever the digest's offset).
const bloomAddBefore = `        for (let i = 0; i < 3; i++) {
            const first2bytes = new DataView(e.buffer).getUint16(i * 2);`
const bloomAddAfter = `        // megaeth-node patch (scripts/patch-dependencies.mjs): no DataView per bit position.
        const bytes = e.byteOffset === 0 ? e : new Uint8Array(e.buffer);
        for (let i = 0; i < 3; i++) {
            const first2bytes = (bytes[i * 2] << 8) | bytes[i * 2 + 1];`

/**
 * `previous`: what earlier versions of a patch left in place of `before`, upgraded to `after` too.
 * @type {Array<{ file: string, before: string, after: string, previous?: string[] }>}
 */
export const PATCHES = [
  { file: '@ethereumjs/util/dist/esm/bytes.js', before: setLengthBefore, after: setLengthAfter },
  { file: '@ethereumjs/util/dist/cjs/bytes.js', before: setLengthBefore, after: setLengthAfter },
  { file: '@ethereumjs/util/dist/esm/bytes.js', before: bigIntToBytesBefore, after: bigIntToBytesAfter },
  { file: '@ethereumjs/util/dist/esm/bytes.js', before: bytesToHexBefore, after: bytesToHexAfter },
  { file: '@ethereumjs/util/dist/esm/bytes.js', before: bytesToUnprefixedHexBefore, after: bytesToUnprefixedHexAfter },
  { file: '@ethereumjs/evm/dist/esm/evm.js', before: interpreterMessageBefore, after: interpreterMessageAfter },
  { file: '@ethereumjs/evm/dist/esm/evm.js', before: frameResultClassBefore, after: frameResultClassAfter },
  {
    file: '@ethereumjs/evm/dist/esm/evm.js',
    before: frameResultBefore,
    after: frameResultAfter,
    previous: [frameResultPrevious],
  },
  { file: '@ethereumjs/evm/dist/esm/evm.js', before: frameResultEndBefore, after: frameResultEndAfter },
  { file: '@ethereumjs/evm/dist/esm/evm.js', before: failedFrameBefore, after: failedFrameAfter },
  { file: '@ethereumjs/vm/dist/esm/bloom/index.js', before: bloomAddBefore, after: bloomAddAfter },
  { file: '@ethereumjs/evm/dist/esm/memory.js', before: memoryInitBefore, after: memoryInitAfter },
  { file: '@ethereumjs/evm/dist/esm/memory.js', before: memoryGrowBefore, after: memoryGrowAfter },
]

/** Applies every patch not applied yet; returns what it did, throws on a snippet it cannot find. */
export function patchDependencies({ check = false, nodeModules = undefined, patches = PATCHES } = {}) {
  const report = []
  for (const { file, before, after, previous = [] } of patches) {
    const path = join(nodeModules ?? nodeModulesHolding(file), file)
    const source = readFileSync(path, 'utf8')
    if (source.includes(after)) {
      report.push(`${file}: patched`)
      continue
    }
    const found = [before, ...previous].find((text) => source.includes(text))
    if (found === undefined) {
      throw new Error(
        `${file}: the code this patch replaces is not there (did the dependency change?). Update or drop the patch in scripts/patch-dependencies.mjs.`,
      )
    }
    if (check) {
      report.push(`${file}: NOT patched`)
      continue
    }
    writeFileSync(path, source.replace(found, after))
    report.push(`${file}: patched now`)
  }
  return report
}

/** For scripts: applies the patches, or says why it could not and exits with 1. */
export function patchDependenciesOrExit() {
  try {
    patchDependencies()
  } catch (error) {
    process.stderr.write(
      `megaeth-node: patching dependencies failed: ${error instanceof Error ? error.message : String(error)}\n`,
    )
    process.exit(1)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const report = patchDependencies({ check: true })
    for (const line of report) process.stdout.write(`${line}\n`)
    if (report.some((line) => line.endsWith('NOT patched'))) process.exitCode = 1
  } else {
    patchDependenciesOrExit()
  }
}
