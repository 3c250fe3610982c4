/**
 * The error base: classification by code (never by message), cause chains, details and hints, and
 * the plain-object transport that carries an error's code and data across a worker-thread boundary.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { createBlockHeader } from '@ethereumjs/block'
import { createChainCommon } from '../../src/chain/config.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import { CodecError } from '../../src/primitives/rlp-fields.ts'
import { MissingTrieNodeError } from '../../src/trie/index.ts'
import { P2pTimeoutError } from '../../src/p2p/index.ts'
import { NodeError, fromPlainError, isNodeError, toPlainError, type PlainError } from '../../src/primitives/errors.ts'
import { ReplicaFailure } from '../../src/replica/errors.ts'
import { VerificationPool } from '../../src/replica/verification-pool.ts'
import { isRpcError, methodNotFound } from '../../src/rpc/errors.ts'
import { isTxRejectedError, rejectTx } from '../../src/sequencer/ingest/index.ts'
import { BlockVerificationError } from '../../src/stateless/index.ts'

/** One message through a real `MessagePort`: the structured clone a worker's `postMessage` does. */
async function acrossPort<T>(value: T): Promise<T> {
  const { port1, port2 } = new MessageChannel()
  try {
    const received = new Promise<T>((resolve) => (port2 as MessagePort).once('message', resolve))
    port1.postMessage(value)
    return await received
  } finally {
    port1.close()
    port2.close()
  }
}

test('isNodeError classifies by code, never by message or name', () => {
  const error = new NodeError('SOME_CODE', 'nonce too low')
  assert.ok(isNodeError(error))
  assert.ok(isNodeError(error, 'SOME_CODE'))
  assert.ok(isNodeError(error, ['OTHER', 'SOME_CODE']))
  assert.equal(isNodeError(error, 'OTHER'), false)
  // A plain Error with the same name, message and even a `code` field is not one of ours.
  const impostor = Object.assign(new Error('nonce too low'), { name: 'NodeError', code: 'SOME_CODE' })
  assert.equal(isNodeError(impostor), false)
  assert.equal(isNodeError(impostor, 'SOME_CODE'), false)
  assert.equal(isNodeError('SOME_CODE'), false)
  assert.equal(isNodeError(undefined), false)
  // Every subsystem's error is one, with its own code.
  assert.ok(isNodeError(new CodecError('x'), 'CODEC_INVALID'))
  assert.ok(isNodeError(methodNotFound('eth_foo'), -32601))
  assert.ok(isNodeError(rejectTx('nonce-too-low', { next: 5n, nonce: 3n }), 'nonce-too-low'))
  assert.ok(isNodeError(new P2pTimeoutError('/sync/1', 500), 'P2P_TIMEOUT'))
})

test('message, shortMessage, details and hint', () => {
  const bare = new NodeError('A', 'datadir is locked')
  assert.equal(bare.message, 'datadir is locked')
  assert.equal(bare.shortMessage, 'datadir is locked')
  assert.equal(bare.details, undefined)
  const detailed = new NodeError('A', 'datadir is locked', { details: 'held by pid 42', hint: 'stop the other node first' })
  assert.equal(detailed.message, 'datadir is locked: held by pid 42')
  assert.equal(detailed.shortMessage, 'datadir is locked')
  // The hint is for the operator's console, not part of the message clients and logs match on.
  assert.equal(detailed.hint, 'stop the other node first')
  assert.ok(!detailed.message.includes('stop the other node'))
  // JSON-RPC texts are a compatibility promise: byte-identical, nothing appended.
  assert.equal(rejectTx('nonce-too-low', { next: 5n, nonce: 3n }).message, 'nonce too low: next nonce 5, tx nonce 3')
  assert.deepEqual(methodNotFound('eth_foo').toObject(), {
    code: -32601,
    message: 'the method eth_foo does not exist/is not available',
  })
})

test('cause is kept, as the standard Error cause', () => {
  const root = new MissingTrieNodeError(new Uint8Array(32).fill(7))
  const wrapped = new BlockVerificationError('WITNESS_MISSING_NODE', 'witness lacks a node', { cause: root })
  assert.equal(wrapped.cause, root)
  assert.ok(isNodeError(wrapped.cause, 'TRIE_MISSING_NODE'))
  assert.equal(new NodeError('A', 'no cause').cause, undefined)
  assert.equal(Object.hasOwn(new NodeError('A', 'no cause'), 'cause'), false)
})

test('severity drives retries: witness faults are temporary, block faults and replica failures critical', () => {
  assert.equal(new BlockVerificationError('WITNESS_MISSING_NODE', 'x').severity, 'temporary')
  assert.equal(new BlockVerificationError('WITNESS_MISSING_NODE', 'x').blamesWitness, true)
  assert.equal(new BlockVerificationError('STATE_ROOT_MISMATCH', 'x').severity, 'critical')
  assert.equal(new ReplicaFailure('PARENT_MISMATCH', 9n, 'x').severity, 'critical')
  assert.equal(new P2pTimeoutError('/sync/1', 500).severity, 'temporary')
  assert.equal(new NodeError('A', 'x', { severity: 'reset' }).severity, 'reset')
  assert.equal(new NodeError('A', 'x').severity, undefined)
})

test('structured clone alone drops the code and data; the plain form keeps them', async () => {
  const error = new ReplicaFailure('STATE_ROOT_MISMATCH', 12n, 'block 12: state root differs')
  const cloned = await acrossPort(error)
  assert.equal(isNodeError(cloned), false)
  assert.equal((cloned as unknown as { code?: string }).code, undefined)

  const back = fromPlainError(await acrossPort(toPlainError(error)))
  assert.ok(isNodeError(back, 'STATE_ROOT_MISMATCH'))
  assert.deepEqual(back.data, { block: 12n })
  assert.equal(back.message, error.message)
  assert.equal(back.name, 'ReplicaFailure')
  assert.equal(back.severity, 'critical')
  assert.equal(back.stack, error.stack)
})

test('the plain form round-trips every field, bytes and bigints in data, and the cause chain', async () => {
  const hash = new Uint8Array(32).fill(0xab)
  const inner = new MissingTrieNodeError(hash)
  const outer = new NodeError('OUTER', 'sealing failed', {
    details: 'trie read',
    hint: 'restart',
    severity: 'reset',
    data: { block: 3n },
    cause: inner,
  })
  const plain: PlainError = structuredClone(toPlainError(outer))
  const back = fromPlainError(plain)
  assert.ok(isNodeError(back, 'OUTER'))
  assert.equal(back.message, 'sealing failed: trie read')
  assert.equal(back.shortMessage, 'sealing failed')
  assert.equal(back.details, 'trie read')
  assert.equal(back.hint, 'restart')
  assert.equal(back.severity, 'reset')
  assert.deepEqual(back.data, { block: 3n })
  assert.ok(isNodeError(back.cause, 'TRIE_MISSING_NODE'))
  assert.deepEqual((back.cause as NodeError<'TRIE_MISSING_NODE', { hash: Uint8Array }>).data.hash, hash)
  assert.equal((back.cause as Error).message, inner.message)
})

test('the plain form of a foreign error or a non-error keeps what there is, with no code', () => {
  const foreign = new TypeError('boom', { cause: 'a string cause' })
  const back = fromPlainError(structuredClone(toPlainError(foreign)))
  assert.equal(isNodeError(back), false)
  assert.equal(back.name, 'TypeError')
  assert.equal(back.message, 'boom')
  assert.equal(back.stack, foreign.stack)
  assert.equal((back.cause as Error).message, 'a string cause')
  assert.deepEqual(toPlainError(42), { name: 'Error', message: '42' })
})

test('a transaction rejection crosses from an ingest worker as a rejection, by its code', async () => {
  const rejection = rejectTx('insufficient-funds', { balance: 1n, cost: 2n })
  const back = fromPlainError(await acrossPort(toPlainError(rejection)))
  assert.ok(isTxRejectedError(back))
  assert.equal(back.code, 'insufficient-funds')
  assert.equal(back.message, 'insufficient funds for gas * price + value: balance 1, tx cost 2')
  // A JSON-RPC error is not a rejection, though both are NodeErrors.
  assert.equal(isTxRejectedError(methodNotFound('x')), false)
  assert.ok(isRpcError(methodNotFound('x')))
})

test('a verify worker thread reports undecodable witness bytes as WITNESS_MALFORMED, with the codec error as its cause', async () => {
  const config = chainConfigFromGenesis(devGenesis(), 'megaeth-dev')
  const header = createBlockHeader(
    { number: 1n, gasLimit: 30_000_000n, baseFeePerGas: 7n, timestamp: 1n },
    { common: createChainCommon(config) },
  )
  const pool = VerificationPool.start(config, 1)
  try {
    const outcome = await pool.verify(header.serialize(), [], Uint8Array.of(0xc3, 0x01))
    assert.equal(outcome.ok, false)
    if (outcome.ok) return
    assert.equal(outcome.error.code, 'WITNESS_MALFORMED')
    const error = fromPlainError(outcome.error)
    assert.ok(isNodeError(error, 'WITNESS_MALFORMED'))
    assert.equal(error.severity, 'temporary')
    assert.ok(isNodeError(error.cause, 'CODEC_INVALID'), String(error.cause))
    assert.equal(error.message, (error.cause as Error).message)
  } finally {
    await pool.stop()
  }
})
