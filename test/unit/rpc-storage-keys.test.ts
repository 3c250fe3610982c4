/**
 * Issue 22, item 4: storage keys were parsed as quantities, so `0x01`, `0x0000…0001` and every
 * keccak-derived slot starting with a 0 digit failed ("hex number with leading zero digits") and
 * `cast storage <addr> 0` did not work. Storage keys are data of up to 32 bytes, left-padded, as geth
 * decodes them. The audit of the other parsers for the same quantity/data confusion is covered here
 * too: access-list keys and state-override slots are 32-byte words (they were taken at any length,
 * longer ones silently truncated), and `eth_feeHistory`'s block count is geth's hex-or-decimal.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTxFromRLP } from '@ethereumjs/tx'
import { keccak256 } from 'viem'
import { createChainCommon } from '../../src/chain/config.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { RpcError } from '../../src/rpc/errors.ts'
import { DEFAULT_ETH_RPC_OPTIONS } from '../../src/rpc/eth/backend.ts'
import { registerFeeMethods } from '../../src/rpc/eth/fee-methods.ts'
import { parseCallMessage, parseOverrides, registerStateMethods } from '../../src/rpc/eth/state-methods.ts'
import { OverriddenState } from '../../src/execution/call.ts'
import type { StateReader } from '../../src/state/state-reader.ts'
import { MethodRegistry, type RpcContext } from '../../src/rpc/index.ts'
import { parseStorageKey } from '../../src/rpc/params.ts'
import { openChain, type OpenedChain } from '../../src/node/bootstrap.ts'
import { TestBackend } from '../helpers/eth-backend.ts'
import { rpcError } from '../helpers/rpc-error.ts'

const CTX: RpcContext = { transport: 'http', signal: new AbortController().signal, remoteAddress: '127.0.0.1' }
const CONTRACT = '0x1000000000000000000000000000000000000001'
const word = (n: bigint): Hex => `0x${n.toString(16).padStart(64, '0')}`
/** A mapping slot whose key starts with a zero digit, as 1 in 16 keccak-derived slots do. */
const MAPPING_SLOT = (() => {
  for (let i = 0n; ; i++) {
    const slot = keccak256(word(i))
    if (slot.startsWith('0x0')) return slot
  }
})()

describe('parseStorageKey (geth decodeStorageKey)', () => {
  test('hex of up to 32 bytes, any leading zeros, odd length and a missing 0x accepted, left-padded', () => {
    for (const [input, expected] of [
      ['0x0', word(0n)],
      ['0x', word(0n)],
      ['0x00', word(0n)],
      ['0x01', word(1n)],
      ['0x1', word(1n)],
      ['0X0abc', word(0xabcn)],
      ['01', word(1n)],
      [word(1n), word(1n)],
      [MAPPING_SLOT.toUpperCase().replace('0X', '0x'), MAPPING_SLOT],
    ] as const) {
      assert.equal(parseStorageKey(input, 1).key, expected, input)
    }
    assert.equal(parseStorageKey('0x01', 1).inputLength, 1)
    assert.equal(parseStorageKey(word(1n), 1).inputLength, 32)
  })

  test("longer than 32 bytes, bad digits and non-strings are -32602 with geth's messages", () => {
    assert.equal(
      rpcError(() => parseStorageKey(`0x00${word(1n).slice(2)}`, 1)).message,
      'invalid argument 1: storage key too long (want at most 32 bytes)',
    )
    assert.equal(
      rpcError(() => parseStorageKey(`0x${'f'.repeat(1_000_000)}`, 1)).message,
      'invalid argument 1: storage key too long (want at most 32 bytes)',
    )
    assert.equal(rpcError(() => parseStorageKey('0xzz', 1)).message, 'invalid argument 1: invalid hex in storage key')
    assert.equal(rpcError(() => parseStorageKey(1, 1)).code, -32602)
  })
})

describe('storage reads by key', () => {
  let dir: string
  let opened: OpenedChain
  let registry: MethodRegistry

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'megaeth-storage-keys-'))
    const genesis = devGenesis()
    genesis.alloc[CONTRACT] = {
      balance: '0x0',
      code: '0x00',
      storage: { [word(0n)]: word(7n), [word(1n)]: word(8n), [MAPPING_SLOT]: word(9n) },
    }
    const config = chainConfigFromGenesis(genesis, 'dev')
    const common = createChainCommon(config)
    opened = await openChain(dir, genesis, config, common)
    registry = new MethodRegistry()
    const backend = new TestBackend(opened.chain, config, common, DEFAULT_ETH_RPC_OPTIONS, (raw) =>
      createTxFromRLP(raw, { common }),
    )
    registerStateMethods(registry, backend)
    registerFeeMethods(registry, backend)
  })

  after(async () => {
    await opened.close()
    await rm(dir, { recursive: true, force: true })
  })

  const call = async (method: string, params: unknown[]): Promise<unknown> => registry.get(method)!(params, CTX)

  test('eth_getStorageAt: 0x0, 0x01, 32-byte keys with leading zeros and mapping slots starting with 0 (cast storage <addr> 0)', async () => {
    for (const [slot, value] of [
      ['0x0', 7n],
      ['0x00', 7n],
      [word(0n), 7n],
      ['0x01', 8n],
      ['0x1', 8n],
      [word(1n), 8n],
      [MAPPING_SLOT, 9n],
      ['0x02', 0n],
    ] as const) {
      assert.equal(await call('eth_getStorageAt', [CONTRACT, slot, 'latest']), word(value), slot)
    }
  })

  test('eth_getStorageAt: a key over 32 bytes is -32602', async () => {
    await assert.rejects(
      call('eth_getStorageAt', [CONTRACT, `0x01${word(0n).slice(2)}`, 'latest']),
      (e: unknown) => e instanceof RpcError && e.code === -32602 && /too long/.test(e.message),
    )
  })

  test('access-list storage keys are 32-byte hashes, as geth decodes them', () => {
    const message = parseCallMessage(
      { to: CONTRACT, accessList: [{ address: CONTRACT, storageKeys: [word(1n)] }] },
      0,
      1_000_000n,
    )
    assert.deepEqual(message.accessList, [{ address: CONTRACT, storageKeys: [word(1n)] }])
    assert.equal(
      rpcError(() => parseCallMessage({ accessList: [{ address: CONTRACT, storageKeys: ['0x01'] }] }, 0, 1_000_000n)).code,
      -32602,
    )
    assert.equal(
      rpcError(() =>
        parseCallMessage({ accessList: [{ address: CONTRACT, storageKeys: [`0x00${word(1n).slice(2)}`] }] }, 0, 1_000_000n),
      ).code,
      -32602,
    )
    assert.equal(rpcError(() => parseCallMessage({ accessList: 'none' }, 0, 1_000_000n)).code, -32602)
  })

  test('call gas defaults to the gas cap and is capped by it (geth)', () => {
    assert.equal(parseCallMessage({ to: CONTRACT }, 0, 1_000_000n).gas, 1_000_000n)
    assert.equal(parseCallMessage({ to: CONTRACT, gas: '0x5208' }, 0, 1_000_000n).gas, 21_000n)
    assert.equal(parseCallMessage({ to: CONTRACT, gas: '0xffffffff' }, 0, 1_000_000n).gas, 1_000_000n)
  })

  test('call nonce and gas are 64-bit quantities (geth hexutil.Uint64)', () => {
    assert.equal(parseCallMessage({ nonce: '0xffffffffffffffff' }, 0, 1_000_000n).nonce, 0xffffffffffffffffn)
    assert.match(rpcError(() => parseCallMessage({ nonce: '0x10000000000000000' }, 0, 1_000_000n)).message, /> 64 bits/)
    assert.match(rpcError(() => parseCallMessage({ gas: '0x10000000000000000' }, 0, 1_000_000n)).message, /> 64 bits/)
  })

  test('state-override slots and values are words of up to 32 bytes; longer ones are refused, not truncated', () => {
    const state = opened.chain.latestState()
    const withOverrides = (base: StateReader, value: unknown, index: number): StateReader => {
      const overrides = parseOverrides(value, index)
      return overrides === undefined ? base : new OverriddenState(base, overrides.accounts, overrides.codes)
    }
    const overridden = withOverrides(state, { [CONTRACT]: { stateDiff: { '0x01': '0x05', [MAPPING_SLOT]: word(6n) } } }, 2)
    assert.equal(BigInt(`0x${Buffer.from(overridden.getStorage(CONTRACT, word(1n))).toString('hex') || '0'}`), 5n)
    assert.equal(BigInt(`0x${Buffer.from(overridden.getStorage(CONTRACT, MAPPING_SLOT)).toString('hex') || '0'}`), 6n)
    const long = `0x01${word(0n).slice(2)}`
    assert.equal(rpcError(() => withOverrides(state, { [CONTRACT]: { state: { [long]: word(1n) } } }, 2)).code, -32602)
    assert.equal(rpcError(() => withOverrides(state, { [CONTRACT]: { state: { [word(1n)]: long } } }, 2)).code, -32602)
  })

  test("eth_feeHistory's block count is geth's hex-or-decimal (leading zeros and decimal strings accepted)", async () => {
    for (const count of ['0x01', '1', 1, '0x1']) {
      const result = (await call('eth_feeHistory', [count, 'latest'])) as { gasUsedRatio: number[] }
      assert.equal(result.gasUsedRatio.length, 1, String(count))
    }
    await assert.rejects(call('eth_feeHistory', ['-1', 'latest']), (e: unknown) => e instanceof RpcError && e.code === -32602)
    await assert.rejects(
      call('eth_feeHistory', ['0x10000000000000000', 'latest']),
      (e: unknown) => e instanceof RpcError && e.code === -32602,
    )
  })
})
