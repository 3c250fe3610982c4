/**
 * The source patches scripts/patch-dependencies.mjs applies to ethereumjs at install time: they
 * are in place, they behave exactly as the code they replace (checked against that code's own
 * construction on random inputs), and the patcher is idempotent and refuses a dependency that
 * changed under a patch.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { test } from 'node:test'
import { bigIntToBytes, bytesToHex, bytesToUnprefixedHex, hexToBytes, setLengthLeft, setLengthRight } from '@ethereumjs/util'
import { PATCHES, patchDependencies } from '../../scripts/patch-dependencies.mjs'
import { rng } from '../helpers/rng.ts'

test('every dependency patch is applied in this install', () => {
  const report = patchDependencies({ check: true })
  assert.equal(report.length, PATCHES.length)
  for (const line of report) assert.match(line, /: patched$/)
})

test('patched setLengthLeft/Right and bigIntToBytes give what the unpatched code gives', () => {
  const rand = rng(4242).next
  for (let i = 0; i < 5000; i++) {
    const msg = Uint8Array.from({ length: Math.floor(rand() * 33) }, () => Math.floor(rand() * 256))
    const length = msg.length + Math.floor(rand() * 8)
    const zeros = new Uint8Array(length - msg.length)
    assert.deepEqual(setLengthLeft(msg, length), new Uint8Array([...zeros, ...msg]))
    assert.deepEqual(setLengthRight(msg, length), new Uint8Array([...msg, ...zeros]))
    const bits = 1 + Math.floor(rand() * 256)
    const value = BigInt.asUintN(bits, BigInt(bytesToHex(Uint8Array.from({ length: 32 }, () => Math.floor(rand() * 256)))))
    const hex = value.toString(16)
    assert.deepEqual(bigIntToBytes(value), hexToBytes(`0x${hex.length % 2 === 0 ? hex : `0${hex}`}`))
  }
  assert.deepEqual(bigIntToBytes(0n), Uint8Array.of(0))
  assert.throws(() => setLengthLeft(new Uint8Array(33), 32), /exceeds target length/)
})

test('patched bytesToHex and bytesToUnprefixedHex give what the unpatched code gives, for any length and view', () => {
  const rand = rng(4343).next
  const backing = Uint8Array.from({ length: 4096 }, () => Math.floor(rand() * 256))
  for (let i = 0; i < 5000; i++) {
    // Short words (the scratch-buffer path), long code (the fallback path), and views at an offset.
    const length = i % 10 === 0 ? 1000 + Math.floor(rand() * 2000) : Math.floor(rand() * 65)
    const offset = Math.floor(rand() * (backing.length - length))
    const bytes = backing.subarray(offset, offset + length)
    // Node's own encoder as the reference: both patched functions replace noble's pair-by-pair one.
    const expected = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')
    assert.equal(bytesToUnprefixedHex(bytes), expected)
    assert.equal(bytesToHex(bytes), `0x${expected}`)
  }
  assert.equal(bytesToHex(Buffer.from('00ff10', 'hex')), '0x00ff10')
  assert.equal(bytesToUnprefixedHex(Buffer.from('00ff10', 'hex')), '00ff10')
  // Results do not share the scratch buffer: an earlier string keeps its value.
  const first = bytesToHex(Uint8Array.of(1, 2))
  const firstUnprefixed = bytesToUnprefixedHex(Uint8Array.of(5, 6))
  bytesToHex(Uint8Array.of(3, 4))
  bytesToUnprefixedHex(Uint8Array.of(7, 8))
  assert.equal(first, '0x0102')
  assert.equal(firstUnprefixed, '0506')
  assert.throws(() => bytesToHex([1, 2] as unknown as Uint8Array), /expected Uint8Array/)
  assert.throws(() => bytesToUnprefixedHex([1, 2] as unknown as Uint8Array), /expected Uint8Array/)
})

test('patched EVM memory reads and writes what a zero-filled, word-rounded memory holds', async () => {
  // Not exported by the package: load the installed (patched) module file itself.
  const evmIndex = createRequire(import.meta.url).resolve('@ethereumjs/evm')
  const { Memory } = (await import(pathToFileURL(join(dirname(evmIndex), '..', 'esm', 'memory.js')).href)) as {
    Memory: new () => {
      _store: Uint8Array
      write(offset: number, size: number, value: Uint8Array): void
      read(offset: number, size: number, avoidCopy?: boolean): Uint8Array
    }
  }
  const rand = rng(4444).next
  for (let frame = 0; frame < 200; frame++) {
    const memory = new Memory()
    const model: number[] = []
    for (let op = 0; op < 40; op++) {
      // Mostly the low kilobytes (Solidity's scratch space and free memory pointer), sometimes far out.
      const offset = rand() < 0.9 ? Math.floor(rand() * 2048) : Math.floor(rand() * 70_000)
      const size = rand() < 0.1 ? 0 : Math.floor(rand() * (rand() < 0.8 ? 64 : 5000))
      if (rand() < 0.5) {
        const value = Uint8Array.from({ length: size }, () => Math.floor(rand() * 256))
        memory.write(offset, size, value)
        for (let i = 0; i < size; i++) model[offset + i] = value[i]!
      } else {
        const read = memory.read(offset, size, rand() < 0.5)
        assert.deepEqual(
          [...read],
          Array.from({ length: size }, (_, i) => model[offset + i] ?? 0),
        )
      }
      if (size > 0) assert.ok(memory._store.length >= Math.ceil((offset + size) / 32) * 32, 'memory covers every word touched')
    }
  }
  assert.throws(() => new Memory().write(0, 2, Uint8Array.of(1)), /Invalid value size/)
})

test('the patcher applies a patch once, leaves it on re-runs and refuses code it does not recognise', () => {
  const nodeModules = mkdtempSync(join(tmpdir(), 'patch-deps-'))
  mkdirSync(join(nodeModules, 'dep'))
  const file = join(nodeModules, 'dep', 'index.js')
  const patches = [{ file: 'dep/index.js', before: 'slow()', after: 'fast()' }]
  writeFileSync(file, 'export const f = () => slow()\n')
  assert.deepEqual(patchDependencies({ check: true, nodeModules, patches }), ['dep/index.js: NOT patched'])
  assert.deepEqual(patchDependencies({ nodeModules, patches }), ['dep/index.js: patched now'])
  assert.equal(readFileSync(file, 'utf8'), 'export const f = () => fast()\n')
  assert.deepEqual(patchDependencies({ nodeModules, patches }), ['dep/index.js: patched'])
  writeFileSync(file, 'export const f = () => rewritten()\n')
  assert.throws(() => patchDependencies({ nodeModules, patches }), /dep\/index\.js: the code this patch replaces is not there/)
  // A file an earlier version of the patch left behind is upgraded to the current one.
  const upgraded = [{ file: 'dep/index.js', before: 'slow()', after: 'fastest()', previous: ['fast()'] }]
  writeFileSync(file, 'export const f = () => fast()\n')
  assert.deepEqual(patchDependencies({ check: true, nodeModules, patches: upgraded }), ['dep/index.js: NOT patched'])
  assert.deepEqual(patchDependencies({ nodeModules, patches: upgraded }), ['dep/index.js: patched now'])
  assert.equal(readFileSync(file, 'utf8'), 'export const f = () => fastest()\n')
})

test('a call frame result has the keys, order and values it had before the frame-result patch; its runState snapshot is built when read', async () => {
  const { createEVM } = await import('@ethereumjs/evm')
  const { Address, hexToBytes: toBytes } = await import('@ethereumjs/util')
  const evm = await createEVM()
  const to = new Address(toBytes('0x00000000000000000000000000000000000000aa'))
  // PUSH1 0x2a PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN: returns 42 as one word.
  await evm.stateManager.putCode(to, toBytes('0x602a60005260206000f3'))
  const ok = (await evm.runCall({ to, gasLimit: 100_000n })).execResult as unknown as Record<string, unknown>
  assert.deepEqual(Object.keys(ok), [
    'logs',
    'returnValue',
    'selfdestruct',
    'createdAddresses',
    'exceptionError',
    'gas',
    'executionGasUsed',
    'gasRefund',
    'stateGasSpilled',
  ])
  assert.equal(BigInt(bytesToHex(ok.returnValue as Uint8Array)), 42n)
  // The snapshot, as the unpatched frame built it: run state, then the result, then the environment.
  const runState = ok.runState as Record<string, unknown>
  assert.equal(runState.programCounter, 10)
  assert.equal((runState.address as { toString(): string }).toString(), to.toString())
  assert.equal(runState.returnValue, ok.returnValue)
  assert.ok(Object.keys(ok).includes('runState'), 'read once, the snapshot stays as an own property')
  // A failing frame (INVALID): fresh logs, self-destructs and created addresses, all gas used.
  await evm.stateManager.putCode(to, toBytes('0xfe'))
  const failed = (await evm.runCall({ to, gasLimit: 100_000n })).execResult as unknown as Record<string, unknown>
  assert.deepEqual(failed.logs, [])
  assert.ok(failed.selfdestruct instanceof Map && failed.createdAddresses instanceof Set)
  assert.equal(failed.executionGasUsed, 100_000n)
})

test('the patched bloom sets the bits the DataView reads chose, for digests at any offset', async () => {
  const { Bloom } = (await import(
    pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('@ethereumjs/vm')), '..', 'esm', 'bloom', 'index.js')).href
  )) as { Bloom: new (bitvector?: Uint8Array, common?: unknown) => { bitvector: Uint8Array; add(e: Uint8Array): void } }
  const rand = rng(4545).next
  for (let i = 0; i < 500; i++) {
    const backing = Uint8Array.from({ length: 40 }, () => Math.floor(rand() * 256))
    // The hook under test returns the "digest" as given: at offset 0, or a view further into its buffer.
    const digest = i % 2 === 0 ? backing.subarray(0, 32) : backing.subarray(1 + Math.floor(rand() * 8), 40)
    const bloom = new Bloom(undefined, { customCrypto: { keccak256: () => digest } })
    bloom.add(new Uint8Array(20))
    const expected = new Uint8Array(256)
    for (let j = 0; j < 3; j++) {
      const loc = 2047 & new DataView(digest.buffer).getUint16(j * 2)
      expected[256 - (loc >> 3) - 1]! |= 1 << (loc % 8)
    }
    assert.deepEqual(bloom.bitvector, expected)
  }
})
