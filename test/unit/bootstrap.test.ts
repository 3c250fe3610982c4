import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RLP } from '@ethereumjs/rlp'
import { createChainCommon } from '../../src/chain/config.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import { KECCAK256_NULL, hexToBytes } from '@ethereumjs/util'
import { DatadirError, TRIE_DIR, openChain, type OpenedChain } from '../../src/node/bootstrap.ts'
import type { Hex, StateDiff } from '../../src/primitives/state-diff.ts'
import { encodeRlp, unpaddedBytes } from '../../src/primitives/rlp-fields.ts'
import { u64 } from '../../src/primitives/u64.ts'
import { NodeDb } from '../../src/storage/db.ts'

const genesis = devGenesis()
const config = chainConfigFromGenesis(genesis, 'test')
const common = createChainCommon(config)

/** The dev chain's datadir at `dir`, opened (or initialized). */
function open(dir: string): Promise<OpenedChain> {
  return openChain(dir, genesis, config, common)
}

async function withDatadir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'megaeth-bootstrap-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('a datadir initializes genesis once and reopens at the same head and state root', async () => {
  await withDatadir(async (dir) => {
    const first = await open(dir)
    const head = first.chain.head
    const funded = first.chain.latestState().getAccount('0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266')
    await first.close()
    assert.equal(funded?.balance, 10_000n * 10n ** 18n)

    const second = await open(dir)
    assert.equal(second.chain.head.hash, head.hash)
    assert.equal(second.chain.genesisHash, head.hash)
    assert.deepEqual(await second.merkleizer.root(), head.header.stateRoot)
    assert.equal(second.unsealed.length, 0)
    await second.close()
  })
})

test('opening a datadir with a different genesis is refused', async () => {
  await withDatadir(async (dir) => {
    const opened = await open(dir)
    await opened.close()
    const other = devGenesis()
    other.config.chainId = 777
    const otherConfig = chainConfigFromGenesis(other, 'other')
    await assert.rejects(
      openChain(dir, other, otherConfig, createChainCommon(otherConfig)),
      (e: unknown) => e instanceof DatadirError && /holds chain id 6342, but the configured chain id is 777/.test(e.message),
    )
  })
})

test('a flat state that does not hash to the head state root is detected when the trie is rebuilt', async () => {
  await withDatadir(async (dir) => {
    const opened = await open(dir)
    await opened.close()
    // Without persisted trie nodes (a datadir from before them) the start rebuilds from the flat state.
    await rm(join(dir, TRIE_DIR), { recursive: true, force: true })
    // Corrupt one stored account behind the node's back.
    const db = await NodeDb.open(join(dir, 'chaindata'))
    const ops = []
    for await (const [key] of db.range('state', Uint8Array.of(0x61), Uint8Array.of(0x62))) {
      ops.push(db.del('state', Uint8Array.from(key)))
      break
    }
    await db.write(ops, true)
    await db.close()
    await assert.rejects(
      open(dir),
      (e: unknown) => e instanceof DatadirError && /does not match head block 0 state root/.test(e.message),
    )
  })
})

test('the head keeps its last mini-block hash; a body stored before that field existed still opens, without it', async () => {
  await withDatadir(async (dir) => {
    const opened = await open(dir)
    const head = opened.chain.head
    await opened.close()
    // Genesis chains its first mini-block to its own hash.
    assert.equal(head.miniBlocks.lastHash, head.hash)

    const db = await NodeDb.open(join(dir, 'chaindata'))
    await db.write([db.put('bodies', u64(0n), RLP.encode([[], new Uint8Array(0), new Uint8Array(0)]))], true)
    await db.close()
    const legacy = await open(dir)
    assert.deepEqual(legacy.chain.head.miniBlocks, { first: 0n, count: 0 })
    await legacy.close()
  })
})

const FUNDED = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'

/** A diff the merkleizer applies without the seal that would record it (a crash between the two). */
function unsealedDiff(): StateDiff {
  const account = { nonce: 9n, balance: 1n, codeHash: KECCAK256_NULL }
  return {
    accounts: new Map([
      ['0x00000000000000000000000000000000000000aa' as Hex, { account, storageCleared: false, storage: new Map() }],
    ]),
    codes: new Map(),
  }
}

test('a restart opens the persisted head root; nodes written without a seal leave it; a datadir without a trie is migrated once', async () => {
  await withDatadir(async (dir) => {
    const first = await open(dir)
    assert.equal(first.trie.source, 'genesis')
    const head = first.chain.head
    const proof = await first.merkleizer.getProof(hexToBytes(FUNDED), [])
    // The nodes of a root the chain never sealed reach the store, then the process goes away.
    const unsealedRoot = await first.merkleizer.applyDiff(unsealedDiff())
    assert.notDeepEqual(unsealedRoot, head.header.stateRoot)
    await first.close()

    const second = await open(dir)
    assert.equal(second.trie.source, 'persisted')
    assert.deepEqual(await second.merkleizer.root(), head.header.stateRoot)
    assert.deepEqual(await second.merkleizer.getProof(hexToBytes(FUNDED), []), proof)
    const stats = await second.merkleizer.storeStats()
    assert.ok(stats !== undefined && stats.dbReads > 0, 'nodes were read from the store, not rebuilt')
    await second.close()

    // A datadir from before persisted tries: rebuilt from the flat state once, then opened.
    await rm(join(dir, TRIE_DIR), { recursive: true, force: true })
    const migrated = await open(dir)
    assert.equal(migrated.trie.source, 'rebuilt')
    assert.deepEqual(await migrated.merkleizer.root(), head.header.stateRoot)
    await migrated.close()
    const third = await open(dir)
    assert.equal(third.trie.source, 'persisted')
    assert.deepEqual(await third.merkleizer.getProof(hexToBytes(FUNDED), []), proof)
    await third.close()

    // A non-durable update (a derived block's, fsynced no more than its commit) writes its nodes without an fsync.
    const fourth = await openChain(dir, genesis, config, common)
    const before = (await fourth.merkleizer.storeStats())!
    await fourth.merkleizer.applyDiff(unsealedDiff(), { durable: false })
    const lazy = (await fourth.merkleizer.storeStats())!
    assert.ok(lazy.written > before.written, 'the nodes were written')
    assert.equal(lazy.syncedWrites, before.syncedWrites, 'without an fsync')
    const other = unsealedDiff()
    other.accounts.get('0x00000000000000000000000000000000000000aa' as Hex)!.account!.nonce = 10n
    await fourth.merkleizer.applyDiff(other)
    assert.equal((await fourth.merkleizer.storeStats())!.syncedWrites, before.syncedWrites + 1, 'a durable update fsyncs')
    await fourth.close()

    // What every start did before: rebuild on request (the benchmark's "before").
    const forced = await openChain(dir, genesis, config, common, { rebuildTrie: true })
    assert.equal(forced.trie.source, 'rebuilt')
    await forced.close()
  })
})

test('a flat account that differs from the persisted trie is detected at start-up', async () => {
  await withDatadir(async (dir) => {
    const opened = await open(dir)
    await opened.close()
    // Change the first stored account's balance behind the node's back (the first the check samples).
    const db = await NodeDb.open(join(dir, 'chaindata'))
    const ops = []
    for await (const [key] of db.range('state', Uint8Array.of(0x61), Uint8Array.of(0x62))) {
      ops.push(db.put('state', Uint8Array.from(key), encodeRlp([unpaddedBytes(1n), unpaddedBytes(12345n), KECCAK256_NULL])))
      break
    }
    await db.write(ops, true)
    await db.close()
    await assert.rejects(
      open(dir),
      (e: unknown) => e instanceof DatadirError && /differs between the flat state and the persisted state trie/.test(e.message),
    )
  })
})
