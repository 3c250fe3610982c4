/**
 * The replica-facing wire formats: block announcements (signed by the sequencer, bound to chain and
 * mini-block range), sync requests and their responses. Every field must round-trip, and anything
 * forged or malformed must be refused with a `CodecError` or a signer that is not the sequencer.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, hexToBytes, KECCAK256_NULL } from '@ethereumjs/util'
import { createChainCommon } from '../../src/chain/config.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import { buildHeader } from '../../src/chain/header.ts'
import { CodecError } from '../../src/primitives/rlp-fields.ts'
import type { Hex, StateDiff } from '../../src/primitives/state-diff.ts'
import { privateKeyToAddress } from '../../src/crypto/native.ts'
import {
  decodeBlockAnnouncement,
  decodeBlockBundles,
  decodeSyncRequest,
  decodeSyncStatus,
  encodeBlockAnnouncement,
  encodeBlockBundles,
  encodeSyncRequest,
  encodeSyncStatus,
  isNotKeptAnswer,
  MAX_BLOCKS_PER_REQUEST,
  NOT_KEPT,
  P2pRequestError,
  MAX_MINI_BLOCKS_PER_REQUEST,
  peerIdOfMultiaddr,
  recoverAnnouncementSigner,
  signBlockAnnouncement,
  type SyncRequest,
} from '../../src/p2p/index.ts'
import { checkAnnouncedLastHash } from '../../src/replica/mini-block-chain.ts'
import { ReplicaFailure } from '../../src/replica/errors.ts'
import { decodeWitness, encodeWitness, joinEncodedWitness } from '../../src/stateless/index.ts'
import type { MiniBlockRange } from '../../src/chain/block.ts'

const config = chainConfigFromGenesis(devGenesis(), 'megaeth-dev')
const common = createChainCommon(config)
const KEY = hexToBytes('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d')
const SEQUENCER = bytesToHex(privateKeyToAddress(KEY))

function header(number: bigint, stateRoot = new Uint8Array(32).fill(7)) {
  return buildHeader(
    {
      parentHash: new Uint8Array(32).fill(1),
      number,
      timestamp: 1_700_000_000n + number,
      gasLimit: config.blockGasLimit,
      gasUsed: 21_000n,
      baseFeePerGas: config.minBaseFee,
      stateRoot,
      transactionsRoot: new Uint8Array(32).fill(2),
      receiptsRoot: new Uint8Array(32).fill(3),
      logsBloom: new Uint8Array(256),
      coinbase: config.feeRecipient,
      prevRandao: new Uint8Array(32).fill(4),
      extraData: new Uint8Array(0),
    },
    common,
  )
}

const LAST_HASH = `0x${'5c'.repeat(32)}` as Hex

test('a block announcement round-trips and recovers to the sequencer, with or without the last mini-block hash', () => {
  for (const miniBlocks of [
    { first: 400n, count: 100, lastHash: LAST_HASH },
    { first: 400n, count: 100 },
  ]) {
    const announcement = signBlockAnnouncement(header(5n), miniBlocks, config.chainId, KEY)
    const decoded = decodeBlockAnnouncement(encodeBlockAnnouncement(announcement), common)
    assert.equal(bytesToHex(decoded.header.hash()), bytesToHex(announcement.header.hash()))
    assert.deepEqual(decoded.miniBlocks, miniBlocks)
    assert.equal(recoverAnnouncementSigner(decoded, config.chainId), SEQUENCER)
  }
})

test('an announcement re-targeted in any signed field no longer recovers to the sequencer', () => {
  const announcement = signBlockAnnouncement(header(5n), { first: 400n, count: 100, lastHash: LAST_HASH }, config.chainId, KEY)
  const forgeries = [
    { ...announcement, header: header(5n, new Uint8Array(32).fill(8)) },
    { ...announcement, miniBlocks: { first: 401n, count: 100, lastHash: LAST_HASH } },
    { ...announcement, miniBlocks: { first: 400n, count: 99, lastHash: LAST_HASH } },
    { ...announcement, miniBlocks: { first: 400n, count: 100, lastHash: `0x${'5d'.repeat(32)}` as Hex } },
    { ...announcement, miniBlocks: { first: 400n, count: 100 } },
  ]
  for (const forged of forgeries) assert.notEqual(recoverAnnouncementSigner(forged, config.chainId), SEQUENCER)
  // Another chain id: a signature replayed across chains is not the sequencer's there.
  assert.notEqual(recoverAnnouncementSigner(announcement, config.chainId + 1n), SEQUENCER)
})

test('a replica refuses a block whose announced last mini-block hash is not the mini-block it applied', () => {
  const applied = [
    { number: 498n, hash: new Uint8Array(32).fill(0x11) },
    { number: 499n, hash: hexToBytes(LAST_HASH) },
  ]
  const announce = (miniBlocks: MiniBlockRange) => signBlockAnnouncement(header(5n), miniBlocks, config.chainId, KEY)
  // The named hash is the applied last one; or nothing to compare (not applied here, or no hash announced).
  checkAnnouncedLastHash(announce({ first: 400n, count: 100, lastHash: LAST_HASH }), applied)
  checkAnnouncedLastHash(announce({ first: 400n, count: 101, lastHash: LAST_HASH }), applied)
  checkAnnouncedLastHash(announce({ first: 400n, count: 100 }), applied)
  assert.throws(
    () => checkAnnouncedLastHash(announce({ first: 400n, count: 99, lastHash: LAST_HASH }), applied),
    (error: unknown) =>
      error instanceof ReplicaFailure &&
      error.code === 'MINI_BLOCKS_MISMATCH' &&
      error.data.block === 5n &&
      /mini-block 498/.test(error.message),
  )
})

test('malformed announcements are CodecErrors', () => {
  const good = RLP.decode(
    encodeBlockAnnouncement(signBlockAnnouncement(header(5n), { first: 1n, count: 1, lastHash: LAST_HASH }, config.chainId, KEY)),
  ) as Uint8Array[]
  const cases: Uint8Array[] = [
    Uint8Array.of(0xff, 0x00),
    RLP.encode(good.slice(0, 4)),
    RLP.encode([Uint8Array.of(1, 2, 3), good[1]!, good[2]!, good[3]!, good[4]!]),
    RLP.encode([good[0]!, good[1]!, good[2]!, new Uint8Array(31), good[4]!]),
    RLP.encode([good[0]!, good[1]!, good[2]!, good[3]!, new Uint8Array(64)]),
  ]
  for (const bytes of cases) assert.throws(() => decodeBlockAnnouncement(bytes, common), CodecError)
  const badRecovery = { ...decodeBlockAnnouncement(RLP.encode(good), common) }
  badRecovery.signature = Uint8Array.from(badRecovery.signature)
  badRecovery.signature[64] = 7
  assert.throws(() => recoverAnnouncementSigner(badRecovery, config.chainId), CodecError)
})

test('sync requests round-trip, clamp their counts, and refuse unknown kinds', () => {
  const requests: SyncRequest[] = [
    { kind: 'status' },
    { kind: 'blocks', from: 12n, count: 3 },
    { kind: 'miniBlocks', from: 9_000n, count: 77 },
    { kind: 'witness', block: 41n },
  ]
  for (const request of requests) assert.deepEqual(decodeSyncRequest(encodeSyncRequest(request)), request)
  assert.deepEqual(decodeSyncRequest(encodeSyncRequest({ kind: 'blocks', from: 1n, count: 1_000_000 })), {
    kind: 'blocks',
    from: 1n,
    count: MAX_BLOCKS_PER_REQUEST,
  })
  assert.deepEqual(decodeSyncRequest(encodeSyncRequest({ kind: 'miniBlocks', from: 1n, count: 1_000_000 })), {
    kind: 'miniBlocks',
    from: 1n,
    count: MAX_MINI_BLOCKS_PER_REQUEST,
  })
  assert.throws(() => decodeSyncRequest(RLP.encode([Uint8Array.of(9), new Uint8Array(0), new Uint8Array(0)])), /unknown kind/)
  assert.throws(() => decodeSyncRequest(Uint8Array.of(0xc1)), CodecError)
  assert.throws(() => decodeSyncRequest(RLP.encode([new Uint8Array(0)])), CodecError)
})

test('status and block bundles round-trip', () => {
  const status = {
    head: 99n,
    headHash: `0x${'ab'.repeat(32)}` as Hex,
    miniBlocks: 9_913n,
    rpcUrl: 'http://127.0.0.1:8545',
    historyFrom: 42n,
  }
  assert.deepEqual(decodeSyncStatus(encodeSyncStatus(status)), status)
  const diff: StateDiff = {
    accounts: new Map([
      [
        `0x${'12'.repeat(20)}` as Hex,
        {
          account: { nonce: 3n, balance: 10n ** 18n, codeHash: KECCAK256_NULL },
          storageCleared: false,
          storage: new Map([[`0x${'00'.repeat(31)}01` as Hex, Uint8Array.of(5)]]),
        },
      ],
    ]),
    codes: new Map(),
  }
  const bundle = {
    announcement: signBlockAnnouncement(header(6n), { first: 500n, count: 2, lastHash: LAST_HASH }, config.chainId, KEY),
    transactions: [Uint8Array.of(2, 9, 9)],
    receipts: [],
    diff,
  }
  const [decoded] = decodeBlockBundles(encodeBlockBundles([bundle]), common)
  assert.ok(decoded !== undefined)
  assert.equal(recoverAnnouncementSigner(decoded.announcement, config.chainId), SEQUENCER)
  assert.equal(decoded.announcement.miniBlocks.lastHash, LAST_HASH)
  assert.deepEqual(decoded.transactions, bundle.transactions)
  assert.deepEqual(decoded.diff, diff)
})

test('the peer id of a bootnode multiaddr', () => {
  const id = '12D3KooWABodF4ydC8gRQNutfjQPVeykCGQvzxB58RMbMNSicTDA'
  assert.equal(peerIdOfMultiaddr(`/ip4/127.0.0.1/tcp/30303/p2p/${id}`), id)
  assert.equal(peerIdOfMultiaddr('/ip4/127.0.0.1/tcp/30303'), undefined)
  assert.equal(peerIdOfMultiaddr('not a multiaddr'), undefined)
})

test('a witness joined from pre-encoded lists is byte-identical to encoding it whole', () => {
  const big = (n: number, size: number) => Array.from({ length: n }, (_, i) => new Uint8Array(size).fill(i & 0xff))
  for (const witness of [
    { state: [], codes: [], keys: [], headers: [] },
    { state: big(3, 10), codes: [], keys: big(1, 20), headers: big(1, 5) },
    { state: big(400, 532), codes: big(2, 3000), keys: big(300, 32), headers: big(2, 600) },
  ]) {
    const joined = joinEncodedWitness({
      state: RLP.encode(witness.state),
      codes: RLP.encode(witness.codes),
      keys: RLP.encode(witness.keys),
      headers: RLP.encode(witness.headers),
    })
    assert.deepEqual(joined, encodeWitness(witness))
    assert.deepEqual(decodeWitness(joined), witness)
  }
})

test('an answer saying a block is no longer kept is told apart from "not yet" and from failures', () => {
  const protocol = '/megaeth/6342/sync/1'
  assert.equal(isNotKeptAnswer(new P2pRequestError(protocol, `the witness of block 3 is ${NOT_KEPT} (…)`)), true)
  assert.equal(isNotKeptAnswer(new P2pRequestError(protocol, 'no witness for block 9: not sealed yet')), false)
  assert.equal(isNotKeptAnswer(new P2pRequestError(protocol, 'rate limited: over 50 requests per second')), false)
  // Only the sequencer's answer counts: the same words in a local error say nothing about what it keeps.
  assert.equal(isNotKeptAnswer(new Error(NOT_KEPT)), false)
})
