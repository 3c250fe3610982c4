import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RLP } from '@ethereumjs/rlp'
import { createChainCommon } from '../../src/chain/config.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import { DatadirError, openChain, type OpenedChain } from '../../src/node/bootstrap.ts'
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

test('a flat state that does not hash to the head state root is detected at start-up', async () => {
  await withDatadir(async (dir) => {
    const opened = await open(dir)
    await opened.close()
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
