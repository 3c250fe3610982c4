// run-tests: alone — real libp2p hosts
/**
 * The validator's start (issue 23) against a scripted sequencer: two real libp2p hosts on loopback, the "sequencer"
 * answering the sync protocol from a table of signed block announcements (no execution: these tests end at the
 * checkpoint, before any block is verified). What the e2e suite cannot make cheaply: a sequencer that pruned the
 * blocks a checkpoint needs, a checkpoint block sealed only later, and an L1 anchor read that fails before it works.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { pino } from 'pino'
import { createChainCommon } from '../../src/chain/config.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import { buildHeader } from '../../src/chain/header.ts'
import { privateKeyToAddress } from '../../src/crypto/native.ts'
import {
  type BlockBundle,
  decodeSyncRequest,
  encodeBlockBundles,
  encodeSyncStatus,
  NOT_KEPT,
  P2pHost,
  signBlockAnnouncement,
  syncProtocolId,
} from '../../src/p2p/index.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { ReplicaFailure } from '../../src/replica/errors.ts'
import type { TrustedCheckpoint } from '../../src/replica/options.ts'
import type { ReplicaStatus } from '../../src/replica/replica.ts'
import { Validator } from '../../src/replica/validator.ts'

const logger = pino({ level: 'silent' })
const config = chainConfigFromGenesis(devGenesis(), 'megaeth-dev')
const common = createChainCommon(config)
const KEY = hexToBytes('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d')
const SEQUENCER = bytesToHex(privateKeyToAddress(KEY)) as Hex
const GENESIS_HASH = `0x${'9e'.repeat(32)}` as Hex
const hosts: P2pHost[] = []

after(async () => {
  await Promise.all(hosts.map((host) => host.stop()))
})

/** A chain of signed bundles from block 1, each the child of the one before (block 0's hash: `GENESIS_HASH`). */
function chainOf(length: number): BlockBundle[] {
  const bundles: BlockBundle[] = []
  let parentHash = hexToBytes(GENESIS_HASH)
  for (let n = 1n; n <= BigInt(length); n++) {
    const header = buildHeader(
      {
        parentHash,
        number: n,
        timestamp: 1_700_000_000n + n,
        gasLimit: config.blockGasLimit,
        gasUsed: 0n,
        baseFeePerGas: config.minBaseFee,
        stateRoot: new Uint8Array(32).fill(7),
        transactionsRoot: new Uint8Array(32).fill(2),
        receiptsRoot: new Uint8Array(32).fill(3),
        logsBloom: new Uint8Array(256),
        coinbase: config.feeRecipient,
        prevRandao: new Uint8Array(32).fill(4),
        extraData: new Uint8Array(0),
      },
      common,
    )
    const announcement = signBlockAnnouncement(header, { first: n, count: 1, lastHash: GENESIS_HASH }, config.chainId, KEY)
    bundles.push({ announcement, transactions: [], receipts: [], diff: { accounts: new Map(), codes: new Map() } })
    parentHash = header.hash()
  }
  return bundles
}

const hashOf = (bundle: BlockBundle): Hex => bytesToHex(bundle.announcement.header.hash()) as Hex

/** A sequencer that serves `chain` up to `head`, answering "no longer kept" for the blocks `pruned` says. */
async function scriptedSequencer(chain: BlockBundle[], state: { head: number; pruned: (n: bigint) => boolean }) {
  const host = await P2pHost.start({}, { logger })
  hosts.push(host)
  await host.handle(syncProtocolId(config.chainId), async (bytes) => {
    const request = decodeSyncRequest(bytes)
    if (request.kind === 'status') {
      const headHash = state.head === 0 ? GENESIS_HASH : hashOf(chain[state.head - 1]!)
      return encodeSyncStatus({
        head: BigInt(state.head),
        headHash,
        miniBlocks: 0n,
        rpcUrl: 'http://127.0.0.1:1',
        historyFrom: BigInt(state.head) + 1n,
      })
    }
    if (request.kind === 'blocks') {
      // What the real sequencer answers (sequencer/p2p-service.ts) for a block past its window.
      if (state.pruned(request.from))
        throw new Error(`the state diff of block ${request.from} is ${NOT_KEPT} (--history.witnesses)`)
      const from = Number(request.from)
      return encodeBlockBundles(chain.slice(from - 1, Math.min(state.head, from - 1 + request.count)))
    }
    throw new Error(`not scripted: ${request.kind}`)
  })
  return host
}

async function startValidator(
  sequencer: P2pHost,
  checkpoint: TrustedCheckpoint | undefined,
  l1Anchor?: () => Promise<TrustedCheckpoint | undefined>,
): Promise<Validator> {
  const bootnode = sequencer.multiaddrs()[0]!
  const host = await P2pHost.start({ bootnodes: [bootnode] }, { logger })
  hosts.push(host)
  const validator = Validator.create({
    config,
    common,
    host,
    options: { mode: 'validator', sequencerAddress: SEQUENCER, sequencerRpc: undefined, verifyWorkers: 1, checkpoint },
    bootnodes: [bootnode],
    logger,
    genesisHash: () => GENESIS_HASH,
    ...(l1Anchor === undefined ? {} : { l1Anchor }),
  })
  await validator.start()
  return validator
}

async function until(validator: Validator, what: string, done: (status: ReplicaStatus) => boolean): Promise<ReplicaStatus> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const status = validator.status()
    if (done(status)) return status
    if (Date.now() > deadline)
      assert.fail(`timed out waiting for ${what}: ${JSON.stringify(status, (_k, v) => (typeof v === 'bigint' ? `${v}` : v))}`)
    await sleep(20)
  }
}

test('the flag’s block, the sequencer’s to the hash: the validator starts there, from the flag', async () => {
  const chain = chainOf(5)
  const validator = await startValidator(await scriptedSequencer(chain, { head: 5, pruned: () => false }), {
    number: 5n,
    hash: hashOf(chain[4]!),
  })
  const status = await until(validator, 'the checkpoint', (s) => s.checkpoint !== undefined || s.failure !== undefined)
  assert.equal(status.failure, undefined)
  assert.deepEqual(status.checkpoint, { number: 5n, hash: hashOf(chain[4]!), source: 'flag' })
  assert.equal(status.caughtUp, true)
  await validator.stop()
})

test('a checkpoint block the sequencer pruned halts the validator with CHECKPOINT_UNAVAILABLE, saying what to do', async () => {
  const chain = chainOf(20)
  const validator = await startValidator(await scriptedSequencer(chain, { head: 20, pruned: (n) => n < 10n }), {
    number: 5n,
    hash: hashOf(chain[4]!),
  })
  const { failure, checkpoint } = await until(validator, 'the failure', (s) => s.failure !== undefined)
  assert.ok(failure instanceof ReplicaFailure)
  assert.equal(failure.code, 'CHECKPOINT_UNAVAILABLE')
  assert.equal(failure.data.block, 5n)
  assert.match(failure.message, /checkpoint block 5 is no longer kept by the sequencer.*10,000.*--replica\.checkpoint/)
  assert.equal(checkpoint, undefined)
  await validator.stop()
})

test('blocks after the checkpoint the sequencer pruned halt it with WITNESS_UNAVAILABLE at the first of them', async () => {
  const chain = chainOf(8)
  const validator = await startValidator(await scriptedSequencer(chain, { head: 8, pruned: (n) => n > 5n }), {
    number: 5n,
    hash: hashOf(chain[4]!),
  })
  const { failure } = await until(validator, 'the failure', (s) => s.failure !== undefined)
  assert.equal(failure?.code, 'WITNESS_UNAVAILABLE')
  assert.equal(failure?.data.block, 6n)
  assert.match(failure?.message ?? '', /no longer kept by the sequencer/)
  await validator.stop()
})

test('a checkpoint the sequencer has not sealed yet is waited for', async () => {
  const chain = chainOf(8)
  const state = { head: 5, pruned: () => false }
  const validator = await startValidator(await scriptedSequencer(chain, state), { number: 8n, hash: hashOf(chain[7]!) })
  await sleep(1_500)
  assert.equal(validator.status().checkpoint, undefined, 'not started before its block exists')
  assert.equal(validator.status().failure, undefined)
  state.head = 8
  const status = await until(validator, 'the checkpoint', (s) => s.checkpoint !== undefined || s.failure !== undefined)
  assert.deepEqual(status.checkpoint, { number: 8n, hash: hashOf(chain[7]!), source: 'flag' })
  await validator.stop()
})

test('L1’s anchor: read again while L1 fails, once when it answers; the flag wins over it; a refusal halts', async () => {
  const chain = chainOf(5)
  const sequencer = await scriptedSequencer(chain, { head: 5, pruned: () => false })
  let reads = 0
  const anchor = async (): Promise<TrustedCheckpoint> => {
    reads++
    if (reads === 1) throw new Error('L1 not answering')
    return { number: 3n, hash: hashOf(chain[2]!) }
  }
  const fromL1 = await startValidator(sequencer, undefined, anchor)
  const status = await until(fromL1, 'the checkpoint', (s) => s.checkpoint !== undefined || s.failure !== undefined)
  assert.deepEqual(status.checkpoint, { number: 3n, hash: hashOf(chain[2]!), source: 'L1 anchor' })
  assert.equal(reads, 2)
  await fromL1.stop()

  const flagged = await startValidator(sequencer, { number: 4n, hash: hashOf(chain[3]!) }, anchor)
  const flaggedStatus = await until(flagged, 'the checkpoint', (s) => s.checkpoint !== undefined || s.failure !== undefined)
  assert.equal(flaggedStatus.checkpoint?.source, 'flag')
  assert.equal(reads, 2, 'L1 not read when the operator names the block')
  await flagged.stop()

  const refused = await startValidator(sequencer, undefined, async () => {
    throw new ReplicaFailure('CHECKPOINT_UNAVAILABLE', 9n, "L1's anchor has no published preimage")
  })
  const { failure } = await until(refused, 'the failure', (s) => s.failure !== undefined)
  assert.equal(failure?.code, 'CHECKPOINT_UNAVAILABLE')
  await refused.stop()

  // A rollup without dispute contracts has no anchor: the sequencer's head, as without an L1 (the devnet's deploy).
  const noAnchor = await startValidator(sequencer, undefined, async () => undefined)
  const headStatus = await until(noAnchor, 'the checkpoint', (s) => s.checkpoint !== undefined || s.failure !== undefined)
  assert.equal(headStatus.failure, undefined)
  assert.equal(headStatus.checkpoint?.source, 'sequencer head')
  await noAnchor.stop()
})
