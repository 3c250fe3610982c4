/**
 * EIP-7702 through the execution and witness paths: a block whose first transaction calls a
 * delegated EOA (running its delegate's code) and whose second re-delegates that EOA. The block's
 * witness must carry the code that ran (the old designator and delegate), although the post-state
 * holds another designator; re-executing the block from the witness alone (what the stateless
 * verifier does) must give the same receipts and state diff. Also: the native-transfer path refuses
 * a value transfer to a delegated EOA (its code must run).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTx, type TypedTransaction } from '@ethereumjs/tx'
import {
  KECCAK256_NULL,
  bigIntToBytes,
  bytesToHex,
  concatBytes,
  eoaCode7702SignAuthorization,
  hexToBytes,
} from '@ethereumjs/util'
import { createChainCommon } from '../../src/chain/config.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { encodeStateDiff } from '../../src/primitives/state-diff-codec.ts'
import { encodeRlp } from '../../src/primitives/rlp-fields.ts'
import type { BlockEnv } from '../../src/execution/block-env.ts'
import { keccak256, privateKeyToAddress } from '../../src/crypto/native.ts'
import { SequentialExecutor, type BlockCursor } from '../../src/execution/executor.ts'
import { StateTrie } from '../../src/trie/index.ts'
import { FlatState } from '../../src/state/flat-state.ts'
import { trieEntries } from '../../src/state/trie-entries.ts'
import { BlockAccessRecorder, recordingReader } from '../../src/state/access-set.ts'
import { TrieNodeCollector, applyDiffRecordingWitness } from '../../src/trie/witness-builder.ts'
import { WitnessNodes } from '../../src/stateless/witness-nodes.ts'
import { WitnessState } from '../../src/stateless/witness-state.ts'

const CHAIN_ID = 6342n
const common = createChainCommon({ chainId: CHAIN_ID, name: 'eip7702-test' })
const keyOf = (label: string): Uint8Array => keccak256(new TextEncoder().encode(`eip7702-test/${label}`))
const SENDER_KEY = keyOf('sender')
const EOA_KEY = keyOf('eoa')
const SENDER = bytesToHex(privateKeyToAddress(SENDER_KEY)) as Hex
const EOA = bytesToHex(privateKeyToAddress(EOA_KEY)) as Hex
const DELEGATE_A = '0x00000000000000000000000000000000000a0a0a' as Hex
const DELEGATE_B = '0x00000000000000000000000000000000000b0b0b' as Hex
/** SSTORE(0, CALLER); STOP */
const CODE_A = hexToBytes('0x335f5500')
/** SSTORE(1, CALLER); STOP */
const CODE_B = hexToBytes('0x3360015500')
const designator = (target: Hex): Uint8Array => concatBytes(hexToBytes('0xef0100'), hexToBytes(target))

function put(state: FlatState, address: Hex, balance: bigint, code?: Uint8Array, nonce = 0n): void {
  const codeHash = code === undefined ? KECCAK256_NULL : keccak256(code)
  if (code !== undefined) state.codes.set(bytesToHex(codeHash) as Hex, code)
  state.accounts.set(address, { nonce, balance, codeHash })
}

function preState(): FlatState {
  const state = new FlatState()
  put(state, SENDER, 10n ** 20n)
  put(state, EOA, 10n ** 18n, designator(DELEGATE_A), 1n)
  put(state, DELEGATE_A, 0n, CODE_A)
  put(state, DELEGATE_B, 0n, CODE_B)
  return state
}

const env: BlockEnv = {
  number: 1n,
  timestamp: 1_700_000_000n,
  coinbase: '0x000000000000000000000000000000000000c0fe',
  baseFeePerGas: 7n,
  gasLimit: 30_000_000n,
  prevRandao: keccak256(bigIntToBytes(1n)),
  excessBlobGas: 0n,
  parentBeaconBlockRoot: keccak256(bigIntToBytes(8n)),
}

function blockTxs(): TypedTransaction[] {
  const fees = { maxFeePerGas: 100n, maxPriorityFeePerGas: 1n, gasLimit: 200_000n }
  const call = createTx({ type: 2, nonce: 0n, to: EOA, value: 5n, ...fees }, { common }).sign(SENDER_KEY)
  const authorization = eoaCode7702SignAuthorization(
    { chainId: `0x${CHAIN_ID.toString(16)}`, address: DELEGATE_B, nonce: '0x1' },
    EOA_KEY,
  )
  const redelegate = createTx({ type: 4, nonce: 1n, to: EOA, authorizationList: [authorization], ...fees }, { common }).sign(
    SENDER_KEY,
  )
  return [call, redelegate]
}

async function run(executor: SequentialExecutor): Promise<unknown[]> {
  executor.setBlockEnv(env)
  const cursor: BlockCursor = { gasUsed: 0n, txIndex: 0, logIndex: 0, miniBlockNumber: 1n }
  const receipts: unknown[] = []
  for (const tx of blockTxs()) {
    const outcome = await executor.applyTx(tx, cursor)
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.error.message)
    receipts.push(outcome.receipt)
  }
  return receipts
}

test('a block that runs a delegated EOA and then re-delegates it verifies from its witness alone', async () => {
  const state = preState()
  const access = new BlockAccessRecorder()
  const executor = await SequentialExecutor.create(common, recordingReader(state, access), async () => undefined)
  const receipts = await run(executor)
  const diff = executor.takeDiff()
  const eoaAfter = diff.accounts.get(EOA)?.account
  assert.ok(eoaAfter != null)
  assert.equal(bytesToHex(eoaAfter.codeHash), bytesToHex(keccak256(designator(DELEGATE_B))), 'the EOA now delegates to B')
  assert.equal(eoaAfter.nonce, 2n, "the authorization bumped the authority's nonce")
  assert.equal(
    bytesToHex(diff.accounts.get(EOA)!.storage.get(`0x${'00'.repeat(32)}` as Hex)!),
    SENDER,
    'delegate A ran in the EOA',
  )

  const collector = new TrieNodeCollector()
  const trie = StateTrie.fromAccounts(trieEntries(state), { onNodeRead: collector.onNodeRead })
  const root = trie.root()
  const recorded = applyDiffRecordingWitness(trie, collector, diff, access.take())
  const codes = recorded.codeHashes.map((hash) => state.getCode(hash) ?? diff.codes.get(hash)!)
  assert.ok(
    recorded.codeHashes.includes(bytesToHex(keccak256(designator(DELEGATE_A))) as Hex),
    'the designator that ran is in the witness',
  )
  assert.ok(recorded.codeHashes.includes(bytesToHex(keccak256(CODE_A)) as Hex), 'the delegate that ran is in the witness')

  const witnessState = new WitnessState(
    new StateTrie({ open: { root, source: new WitnessNodes(recorded.nodes) } }),
    new Map(codes.map((c) => [bytesToHex(keccak256(c)) as Hex, c])),
  )
  const verifier = await SequentialExecutor.create(common, witnessState, async () => undefined)
  const reexecuted = await run(verifier)
  assert.equal(witnessState.failure, undefined, `witness read failed: ${String(witnessState.failure)}`)
  assert.deepEqual(reexecuted, receipts)
  assert.deepEqual(encodeRlp(encodeStateDiff(verifier.takeDiff())), encodeRlp(encodeStateDiff(diff)))
})

test('a value transfer to a delegated EOA runs its delegate: the native path refuses it', async () => {
  const transfer = createTx(
    { type: 2, nonce: 0n, to: EOA, value: 5n, maxFeePerGas: 100n, maxPriorityFeePerGas: 1n, gasLimit: 100_000n },
    { common },
  ).sign(SENDER_KEY)
  const executor = await SequentialExecutor.create(common, preState(), async () => undefined)
  executor.setBlockEnv(env)
  const outcome = await executor.applyTx(transfer, { gasUsed: 0n, txIndex: 0, logIndex: 0, miniBlockNumber: 1n })
  assert.ok(outcome.ok)
  assert.equal(executor.nativeTransferCount, 0)
  assert.ok(outcome.receipt.gasUsed > 21_000n, `the delegate's SSTORE was charged: ${outcome.receipt.gasUsed}`)
})
