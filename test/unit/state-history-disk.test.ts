/**
 * The state history on disk: each sealed block's reverse diff, kept in the seal batch for the last
 * `--state.history` blocks, gives a restarted node back the undo layers its reads at recent block
 * numbers need; pruning, rewinds and gaps (a snapshot sync's pivot) keep the two in step.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { bytesToHex, hexToBytes, KECCAK256_NULL } from '@ethereumjs/util'
import { deriveDevAccounts } from '../../src/chain/dev.ts'
import { openChain, type OpenedChain, type OpenChainOptions } from '../../src/node/bootstrap.ts'
import { CodecError, encodeRlp } from '../../src/primitives/rlp-fields.ts'
import { encodeStateDiff } from '../../src/primitives/state-diff-codec.ts'
import { emptyStateDiff, type Hex, type StateDiff } from '../../src/primitives/state-diff.ts'
import { FlatState } from '../../src/state/flat-state.ts'
import { StateHistory, StateUnavailableError } from '../../src/state/state-history.ts'
import type { StateReader } from '../../src/state/state-reader.ts'
import { BlockArtifactStore } from '../../src/storage/block-artifact-store.ts'
import { rewindChain } from '../../src/storage/chain-rewind.ts'
import { NodeDb } from '../../src/storage/db.ts'
import { u64 } from '../../src/primitives/u64.ts'
import {
  DEV_COMMON as common,
  DEV_CONFIG as config,
  DEV_GENESIS as genesis,
  devTx as tx,
  includeTx as include,
  startDevSequencer,
} from '../helpers/dev-sequencer.ts'

const [alice, bob, carol] = deriveDevAccounts(3)
const RECIPIENT = '0x00000000000000000000000000000000000000aa' as Hex
const SLOT0 = `0x${'00'.repeat(32)}` as Hex
/** Init code: slot 0 = 5, then deploy a runtime that increments slot 0 on every call. */
const COUNTER_INIT = hexToBytes('0x60056000556960005460010160005500600052600a6016f3')
/** A chain without L1 (no rewind depth): what keeps reverse diffs is the state history alone. */
const NO_L1: OpenChainOptions = { stateCacheBytes: 64 * 1024, rewindDepth: 0n, stateHistoryBlocks: 128 }
/** Short blocks: a test seals a dozen in a few seconds. */
const FAST = { blockMs: 100 }

/** What a read at a block sees of the accounts and slots the test touches. */
function readAll(reader: StateReader, addresses: readonly Hex[]): string {
  return addresses
    .map((address) => {
      const account = reader.getAccount(address)
      const slot = bytesToHex(reader.getStorage(address, SLOT0))
      return `${address}:${account === undefined ? '-' : `${account.nonce}/${account.balance}`}:${slot}`
    })
    .join(',')
}

/** Transfers, a contract's storage write and a contract creation over several blocks; the contracts' addresses. */
async function busyChain(opened: OpenedChain): Promise<Hex[]> {
  const sequencer = await startDevSequencer(opened, FAST)
  try {
    const deployed = await sequencer.submitAndWait(tx(alice!, 0n, { data: COUNTER_INIT }), 30_000)
    const counter = deployed.receipt!.contractAddress!
    await include(sequencer, opened, tx(bob!, 0n, { to: RECIPIENT, value: 1000n }))
    await include(sequencer, opened, tx(alice!, 1n, { to: counter }))
    await include(sequencer, opened, tx(bob!, 1n, { to: RECIPIENT, value: 500n }))
    await include(sequencer, opened, tx(alice!, 2n, { to: counter }))
    const created = (await sequencer.submitAndWait(tx(alice!, 3n, { data: COUNTER_INIT }), 30_000)).receipt!.contractAddress!
    const last = opened.chain.head.header.number + 2n
    while (opened.chain.head.header.number < last) await sleep(10)
    return [counter, created]
  } finally {
    await sequencer.stop()
  }
}

function touched(contracts: readonly Hex[]): Hex[] {
  return [RECIPIENT, alice!.address.toLowerCase() as Hex, bob!.address.toLowerCase() as Hex, ...contracts]
}

/**
 * Every block's reads, from 0 to the head, with each address's whole storage (what a storage root at a block
 * needs), after reading back what the store keeps of the history (as an RPC read does).
 */
async function readsByBlock(opened: OpenedChain, addresses: readonly Hex[]): Promise<Map<bigint, string>> {
  const reads = new Map<bigint, string>()
  const { state } = opened.chain
  await state.readyFor(0n)
  for (let b = 0n; b <= opened.chain.head.header.number; b++) {
    const storage = addresses.map((a) => [...state.storageAt(b, a)].map(([k, v]) => `${k}=${bytesToHex(v)}`).join(';'))
    reads.set(b, `${readAll(state.at(b), addresses)}|${storage.join(',')}`)
  }
  return reads
}

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'megaeth-history-disk-'))
  try {
    await run(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('a stored reverse diff decodes to what was stored; a malformed or code-carrying record is a CodecError', async () => {
  await withDir(async (dir) => {
    const db = await NodeDb.open(join(dir, 'db'))
    try {
      const artifacts = new BlockArtifactStore(db, 10n, 0n, 4n)
      const reverse: StateDiff = emptyStateDiff()
      reverse.accounts.set(RECIPIENT, { account: null, storageCleared: true, storage: new Map() })
      reverse.accounts.set(alice!.address.toLowerCase() as Hex, {
        account: { nonce: 3n, balance: 10n ** 18n, codeHash: KECCAK256_NULL },
        storageCleared: false,
        storage: new Map([[SLOT0, new Uint8Array(0)]]),
      })
      await db.write(artifacts.reverseDiffOps(7n, reverse), false)
      // Compared re-encoded: LevelDB hands back Buffers, the test built Uint8Arrays.
      const encoded = (diff: StateDiff | undefined): Hex => bytesToHex(encodeRlp(encodeStateDiff(diff ?? emptyStateDiff())))
      assert.equal(encoded(await artifacts.reverseDiff(7n)), encoded(reverse))
      assert.deepEqual((await artifacts.recentReverseDiffs(7n, 4)).map(encoded), [encoded(reverse)])

      await db.write([db.put('undo', u64(6n), Uint8Array.of(0xc1))], false)
      await assert.rejects(artifacts.reverseDiff(6n), CodecError)
      const withCode = emptyStateDiff()
      withCode.codes.set(bytesToHex(KECCAK256_NULL) as Hex, new Uint8Array(0))
      await db.write([db.put('undo', u64(6n), encodeRlp(encodeStateDiff(withCode)))], false)
      await assert.rejects(artifacts.recentReverseDiffs(7n, 4), CodecError)
    } finally {
      await db.close()
    }
  })
})

test('a reopened chain reads every block of its history as before the restart, on a chain without L1', async () => {
  await withDir(async (dir) => {
    let opened = await openChain(dir, genesis, config, common, NO_L1)
    const addresses = touched(await busyChain(opened))
    const before = await readsByBlock(opened, addresses)
    assert.ok(new Set(before.values()).size >= 5, 'the blocks read differently')
    await opened.close()

    opened = await openChain(dir, genesis, config, common, NO_L1)
    try {
      assert.deepEqual(await readsByBlock(opened, addresses), before)
      assert.equal(opened.chain.state.oldestBlock, 0n)
    } finally {
      await opened.close()
    }
  })
})

test('reverse diffs are pruned at the window edge in the seal batch; a restart serves exactly that window', async () => {
  await withDir(async (dir) => {
    const options = { ...NO_L1, stateHistoryBlocks: 3 }
    let opened = await openChain(dir, genesis, config, common, options)
    const addresses = touched(await busyChain(opened))
    const head = opened.chain.head.header.number
    const before = new Map<bigint, string>()
    for (let b = head - 3n; b <= head; b++) before.set(b, readAll(opened.chain.state.at(b), addresses))
    const kept: bigint[] = []
    for await (const [key] of opened.db.range('undo', u64(0n), u64(head + 1n))) kept.push(BigInt(bytesToHex(key)))
    assert.deepEqual(kept, [head - 2n, head - 1n, head])
    await opened.close()

    opened = await openChain(dir, genesis, config, common, options)
    try {
      assert.equal(opened.chain.state.oldestBlock, head, 'nothing is read back at start')
      await opened.chain.state.readyFor(0n)
      assert.equal(opened.chain.state.oldestBlock, head - 3n)
      for (const [b, reads] of before) assert.equal(readAll(opened.chain.state.at(b), addresses), reads, `block ${b}`)
      assert.throws(() => opened.chain.state.at(head - 4n), StateUnavailableError)
    } finally {
      await opened.close()
    }
  })
})

test('a rewind drops the persisted layers with the in-memory ones: a restart serves the rewound chain', async () => {
  await withDir(async (dir) => {
    let opened = await openChain(dir, genesis, config, common, NO_L1)
    const addresses = touched(await busyChain(opened))
    const before = await readsByBlock(opened, addresses)
    const to = opened.chain.head.header.number - 4n
    await rewindChain(opened, to)
    assert.equal(await opened.artifacts.reverseDiff(to + 1n), undefined)
    const rewound = await readsByBlock(opened, addresses)
    for (const [b, reads] of rewound) assert.equal(reads, before.get(b), `block ${b} reads as before the rewind`)
    await opened.close()

    // Reopened: the same reads up to the rewind's target, then new blocks on top keep both in step.
    opened = await openChain(dir, genesis, config, common, NO_L1)
    assert.deepEqual(await readsByBlock(opened, addresses), rewound)
    const sequencer = await startDevSequencer(opened, FAST)
    await include(sequencer, opened, tx(carol!, 0n, { to: RECIPIENT, value: 7n }))
    await sequencer.stop()
    const extended = await readsByBlock(opened, addresses)
    await opened.close()
    opened = await openChain(dir, genesis, config, common, NO_L1)
    try {
      assert.deepEqual(await readsByBlock(opened, addresses), extended)
    } finally {
      await opened.close()
    }
  })
})

test('history stops at the first block without a reverse diff (a snapshot sync pivot): older reads stay unavailable', async () => {
  await withDir(async (dir) => {
    let opened = await openChain(dir, genesis, config, common, NO_L1)
    const addresses = touched(await busyChain(opened))
    const head = opened.chain.head.header.number
    const pivot = head - 3n
    const before = readAll(opened.chain.state.at(pivot), addresses)
    // A snapshot-synced datadir has no record at or below its pivot.
    await opened.db.write([opened.db.del('undo', u64(pivot))], true)
    await opened.close()

    opened = await openChain(dir, genesis, config, common, NO_L1)
    try {
      await opened.chain.state.readyFor(0n)
      assert.equal(opened.chain.state.oldestBlock, pivot)
      assert.equal(readAll(opened.chain.state.at(pivot), addresses), before)
      assert.throws(() => opened.chain.state.at(pivot - 1n), /state of block \d+ is no longer kept/)
    } finally {
      await opened.close()
    }
  })
})

test('readyFor reads records back only below the oldest one held, within the window, and stops at a gap', async () => {
  const live = new FlatState()
  const history = new StateHistory(live, 10n, 4)
  const reverse = (balance: bigint): StateDiff => ({
    accounts: new Map([
      [RECIPIENT, { account: { nonce: 0n, balance, codeHash: KECCAK256_NULL }, storageCleared: false, storage: new Map() }],
    ]),
    codes: new Map(),
  })
  // Blocks 10 down to 8 stored (block 10 took the balance from 10 to what the live state has); none for 7.
  const stored = new Map([10n, 9n, 8n].map((b) => [b, reverse(b)]))
  const reads: Array<[bigint, number]> = []
  history.attachStore(async (newest, count) => {
    reads.push([newest, count])
    const out: StateDiff[] = []
    for (let b = newest; b > newest - BigInt(count) && stored.has(b); b--) out.push(stored.get(b)!)
    return out
  })
  assert.throws(() => history.at(9n), StateUnavailableError)
  await history.readyFor(9n)
  assert.equal(history.oldestBlock, 9n)
  assert.equal(history.at(9n).getAccount(RECIPIENT)?.balance, 10n)
  await history.readyFor(5n)
  assert.equal(history.oldestBlock, 7n, 'block 7 has no record: blocks before it stay unavailable')
  assert.equal(history.at(7n).getAccount(RECIPIENT)?.balance, 8n)
  assert.throws(() => history.at(6n), StateUnavailableError)
  const asked = reads.length
  await history.readyFor(5n)
  assert.equal(reads.length, asked, 'past the gap, nothing is read again')
})
