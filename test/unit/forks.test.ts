/**
 * The fork schedule: genesis keys, and blocks of one chain executing, hashing and running system
 * calls under the fork of their timestamp (Cancun → Prague at 100 → Osaka at 200).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KECCAK256_NULL, bigIntToBytes, bytesToHex, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { createChainCommon } from '../../src/chain/config.ts'
import { forkScheduleFromGenesisConfig, hardforkAt } from '../../src/chain/forks.ts'
import {
  GenesisError,
  HISTORY_STORAGE_ADDRESS,
  HISTORY_STORAGE_CODE,
  chainConfigFromGenesis,
  devGenesis,
} from '../../src/chain/genesis.ts'
import { buildHeader } from '../../src/chain/header.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import type { BlockEnv } from '../../src/execution/block-env.ts'
import { runCall } from '../../src/execution/call.ts'
import { keccak256 } from '../../src/crypto/native.ts'
import { SequentialExecutor } from '../../src/execution/executor.ts'
import { FlatState } from '../../src/state/flat-state.ts'

const forks = { pragueTime: 100n, osakaTime: 200n }
const common = createChainCommon({ chainId: 777n, name: 'forks-test', forks })

const envAt = (number: bigint, timestamp: bigint): BlockEnv => ({
  number,
  timestamp,
  coinbase: '0x000000000000000000000000000000000000c0fe',
  baseFeePerGas: 7n,
  gasLimit: 30_000_000n,
  prevRandao: keccak256(bigIntToBytes(number)),
  excessBlobGas: 0n,
  parentBeaconBlockRoot: new Uint8Array(32),
})

test("genesis.json schedules forks with geth's keys; a missing key means never", () => {
  assert.deepEqual(forkScheduleFromGenesisConfig({ chainId: 1 }), {})
  assert.deepEqual(forkScheduleFromGenesisConfig({ pragueTime: 0, osakaTime: '0x10' }), { pragueTime: 0n, osakaTime: 16n })
  assert.deepEqual(
    chainConfigFromGenesis(devGenesis(), 'dev').forks,
    { pragueTime: 0n, osakaTime: 0n },
    'the dev chain runs Osaka from genesis',
  )
  assert.deepEqual(
    chainConfigFromGenesis({ config: { chainId: 5 }, alloc: {} }, 'old').forks,
    {},
    'a Cancun-era genesis stays on Cancun',
  )
  assert.throws(
    () => chainConfigFromGenesis({ config: { chainId: 5, osakaTime: 10 }, alloc: {} }, 'x'),
    (e: unknown) => e instanceof GenesisError && /osakaTime 10 needs a pragueTime/.test(e.message),
  )
  assert.throws(
    () => chainConfigFromGenesis({ config: { chainId: 5, pragueTime: 'soon' }, alloc: {} }, 'x'),
    (e: unknown) => e instanceof GenesisError && /pragueTime: "soon" is not a timestamp/.test(e.message),
  )
  assert.equal(hardforkAt(forks, 99n), 'cancun')
  assert.equal(hardforkAt(forks, 100n), 'prague')
  assert.equal(hardforkAt(forks, 250n), 'osaka')
})

test('headers follow their fork: requestsHash from Prague on, none before', () => {
  const fields = {
    parentHash: new Uint8Array(32),
    number: 1n,
    gasLimit: 30_000_000n,
    gasUsed: 0n,
    baseFeePerGas: 7n,
    stateRoot: KECCAK256_NULL,
    transactionsRoot: KECCAK256_NULL,
    receiptsRoot: KECCAK256_NULL,
    logsBloom: new Uint8Array(256),
    coinbase: '0x000000000000000000000000000000000000c0fe' as Hex,
    prevRandao: new Uint8Array(32),
    extraData: new Uint8Array(0),
  }
  assert.equal(buildHeader({ ...fields, timestamp: 50n }, common).requestsHash, undefined)
  assert.equal(
    bytesToHex(buildHeader({ ...fields, timestamp: 150n }, common).requestsHash!),
    '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  )
})

test('one executor runs each block under its fork: CLZ is invalid before Osaka and counts zeros after', async () => {
  const executor = await SequentialExecutor.create(common, new FlatState(), async () => undefined)
  const clzOfOne = { data: hexToBytes('0x60011e5f5260205ff3') } // PUSH1 1 CLZ PUSH0 MSTORE PUSH1 32 PUSH0 RETURN, as init code
  const before = await runCall(executor, envAt(1n, 150n), clzOfOne)
  assert.equal(before.kind, 'halt', 'Prague: 0x1e is not an opcode')
  const after = await runCall(executor, envAt(2n, 250n), clzOfOne)
  assert.equal(after.kind, 'success')
  assert.equal(after.kind === 'success' ? BigInt(bytesToHex(after.returnData)) : -1n, 255n)
  const again = await runCall(executor, envAt(1n, 150n), clzOfOne)
  assert.equal(again.kind, 'halt', 'and back: the executor follows each block, not the last one')
})

test('the EIP-2935 system call writes the parent hash from Prague on, and not before', async () => {
  const state = new FlatState()
  const code = hexToBytes(HISTORY_STORAGE_CODE)
  state.codes.set(bytesToHex(keccak256(code)) as Hex, code)
  state.accounts.set(HISTORY_STORAGE_ADDRESS as Hex, { nonce: 1n, balance: 0n, codeHash: keccak256(code) })
  const parentHash = (n: bigint): Uint8Array => keccak256(bigIntToBytes(n + 1000n))
  const executor = await SequentialExecutor.create(common, state, async (n) => parentHash(n))
  const slot = (n: bigint): Hex => bytesToHex(setLengthLeft(bigIntToBytes(n), 32)) as Hex
  for (const [number, timestamp] of [
    [5n, 50n],
    [6n, 150n],
  ] as const) {
    executor.setBlockEnv(envAt(number, timestamp))
    await executor.applySystemCalls(envAt(number, timestamp))
  }
  const written = executor.takeDiff().accounts.get(HISTORY_STORAGE_ADDRESS as Hex)?.storage
  assert.equal(written?.has(slot(4n)), false, 'block 5 is a Cancun block: no history write')
  assert.equal(
    bytesToHex(written!.get(slot(5n))!),
    bytesToHex(parentHash(5n)),
    "block 6 (Prague) stores its parent's hash at (6 - 1) % 8191",
  )
})
