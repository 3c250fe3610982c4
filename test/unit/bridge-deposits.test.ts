/**
 * Pure parts of src/bridge: picking the portal's `TransactionDeposited` logs and their decoded fields (the decoder's
 * refusals are tested in deposit-tx.test.ts), the source hash (against viem's `getSourceHash`), the batch inbox convention and the predeploy alloc.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  encodeAbiParameters,
  getAddress,
  encodeEventTopics,
  encodePacked,
  keccak256,
  pad,
  size,
  toHex,
  type Address,
  type Hex,
} from 'viem'
import { getSourceHash } from 'viem/op-stack'
import {
  batchInboxAddress,
  decodeDepositLog,
  l2PredeployAlloc,
  L1_BLOCK_ADDRESS,
  L2_TO_L1_MESSAGE_PASSER_ADDRESS,
  optimismPortal2Abi,
  readDepositEvents,
  type DepositLog,
} from '../../src/bridge/index.ts'
import { l1BlockDeployedBytecode } from '../../src/bridge/generated/L1Block.ts'
import { DepositTxError } from '../../src/chain/deposit-tx.ts'

const PORTAL: Address = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const FROM: Address = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const TO: Address = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'
const BLOCK_HASH: Hex = '0x7f3c9e5d1a2b4c6d8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f'

function depositLog(opts: { opaque?: Hex; data?: Hex; version?: bigint; to?: Address; topics?: Hex[] } = {}): DepositLog {
  const opaque =
    opts.opaque ??
    encodePacked(['uint256', 'uint256', 'uint64', 'bool', 'bytes'], [10n ** 18n, 5n, 100_000n, false, '0xdeadbeef'])
  const topics =
    opts.topics ??
    (encodeEventTopics({
      abi: optimismPortal2Abi,
      eventName: 'TransactionDeposited',
      args: { from: FROM, to: opts.to ?? TO, version: opts.version ?? 0n },
    }) as Hex[])
  return {
    address: PORTAL,
    topics,
    data: opts.data ?? encodeAbiParameters([{ type: 'bytes' }], [opaque]),
    blockHash: BLOCK_HASH,
    logIndex: 3,
  }
}

describe('decodeDepositLog', () => {
  test('decodes every field of a version-0 deposit', () => {
    assert.deepEqual(decodeDepositLog(depositLog()), {
      from: FROM,
      to: TO,
      mint: 10n ** 18n,
      value: 5n,
      gasLimit: 100_000n,
      isCreation: false,
      data: '0xdeadbeef',
      sourceHash: getSourceHash({ domain: 'userDeposit', l1BlockHash: BLOCK_HASH, l1LogIndex: 3 }),
      l1BlockHash: BLOCK_HASH,
      logIndex: 3,
    })
  })

  test('a creation has no recipient, whatever the topic says; empty data decodes as 0x', () => {
    const opaque = encodePacked(['uint256', 'uint256', 'uint64', 'bool', 'bytes'], [0n, 0n, 21_000n, true, '0x'])
    const deposit = decodeDepositLog(depositLog({ opaque }))
    assert.equal(deposit.to, null)
    assert.equal(deposit.isCreation, true)
    assert.equal(deposit.data, '0x')
    assert.equal(deposit.mint, 0n)
  })

  test('a pending log (no block hash) is refused; malformed logs are refused by chain/deposit-log (deposit-tx.test.ts)', () => {
    assert.throws(
      () => decodeDepositLog({ ...depositLog(), blockHash: null }),
      (err: unknown) => err instanceof DepositTxError && /pending/.test(err.message),
    )
    assert.throws(() => decodeDepositLog(depositLog({ version: 1n })), DepositTxError)
  })

  test('readDepositEvents keeps only the portal’s TransactionDeposited logs, in order', () => {
    const other = { ...depositLog(), address: TO }
    const unrelated = {
      ...depositLog(),
      topics: [keccak256(toHex('Transfer(address,address,uint256)')), ...depositLog().topics.slice(1)],
    }
    const second = { ...depositLog(), logIndex: 9 }
    const deposits = readDepositEvents([other, depositLog(), unrelated, second], PORTAL.toLowerCase() as Address)
    assert.deepEqual(
      deposits.map((d) => d.logIndex),
      [3, 9],
    )
  })
})

test('a decoded deposit carries viem’s getSourceHash (domain 0) for its block hash and log index', () => {
  for (const logIndex of [0, 1, 255, 65_537]) {
    assert.equal(
      decodeDepositLog({ ...depositLog(), logIndex }).sourceHash,
      getSourceHash({ domain: 'userDeposit', l1BlockHash: BLOCK_HASH, l1LogIndex: logIndex }),
    )
  }
})

test('batchInboxAddress is 0x00 ‖ keccak256(bytes32(chainId))[:19]', () => {
  for (const chainId of [1n, 10n, 6342n, 2n ** 64n + 7n]) {
    const inbox = batchInboxAddress(chainId)
    assert.equal(size(inbox), 20)
    assert.equal(inbox, getAddress(`0x00${keccak256(pad(toHex(chainId))).slice(2, 40)}`))
  }
  assert.equal(batchInboxAddress(6342), batchInboxAddress(6342n))
  assert.throws(() => batchInboxAddress(0), RangeError)
})

test('l2PredeployAlloc installs the runtime code at OP’s predeploy addresses', () => {
  const alloc = l2PredeployAlloc()
  assert.deepEqual(Object.keys(alloc).sort(), [L1_BLOCK_ADDRESS, L2_TO_L1_MESSAGE_PASSER_ADDRESS].sort())
  assert.equal(alloc[L1_BLOCK_ADDRESS]!.code, l1BlockDeployedBytecode)
  for (const account of Object.values(alloc)) assert.ok(size(account.code!) > 100)
})
