/**
 * The rewind primitive on a real datadir: a sequencer (pure L2, in-process) seals blocks that create,
 * change and delete state; `rewindChain` takes the chain back to an older block. The head, the state
 * root (trie and flat state), balances and storage are the older block's, the dropped blocks and their
 * transactions are gone from every index, the whole change is one LevelDB batch, a reopened datadir
 * passes the start-up root check, and a sequencer builds different blocks on top.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { deriveDevAccounts } from '../../src/chain/dev.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import type { Sequencer } from '../../src/sequencer/sequencer.ts'
import { openChain, type OpenedChain } from '../../src/node/bootstrap.ts'
import { rewindChain, RewindError } from '../../src/storage/chain-rewind.ts'
import {
  DEV_COMMON as common,
  DEV_CONFIG as config,
  DEV_GENESIS as genesis,
  devTx as tx,
  includeTx as include,
  startDevSequencer,
} from '../helpers/dev-sequencer.ts'

const [alice, bob] = deriveDevAccounts(2)
const RECIPIENT = '0x00000000000000000000000000000000000000aa' as Hex
const SLOT0 = `0x${'00'.repeat(32)}` as Hex
/** Init code: slot 0 = 5, then deploy a runtime that increments slot 0 on every call. */
const COUNTER_INIT = hexToBytes('0x60056000556960005460010160005500600052600a6016f3')

const startSequencer = (opened: OpenedChain): Promise<Sequencer> => startDevSequencer(opened)
/** As a node opens its datadir by default: accounts and code on disk, here behind a cache small enough to evict. */
const DISK_STATE = { stateCacheBytes: 64 * 1024 }

test('rewinding to block M restores M exactly, drops the later blocks everywhere in one batch, and the chain goes on', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'megaeth-rewind-'))
  try {
    let opened = await openChain(dir, genesis, config, common, DISK_STATE)
    let sequencer = await startSequencer(opened)
    const deployed = await include(sequencer, opened, tx(alice!, 0n, { data: COUNTER_INIT }))
    const counter = deployed.contractAddress!
    await include(sequencer, opened, tx(bob!, 0n, { to: RECIPIENT, value: 1000n }))
    const m = opened.chain.head.header.number
    const atM = {
      block: opened.chain.head,
      recipient: opened.chain.state.live.getAccount(RECIPIENT)?.balance,
      alice: opened.chain.state.live.getAccount(alice!.address.toLowerCase() as Hex),
      counter: bytesToHex(opened.chain.state.live.getStorage(counter, SLOT0)),
    }
    assert.equal(atM.counter, '0x05')

    // After M: a storage change, a balance change, a new contract with storage, across blocks.
    const later = [
      await include(sequencer, opened, tx(alice!, 1n, { to: counter })),
      await include(sequencer, opened, tx(bob!, 1n, { to: RECIPIENT, value: 500n })),
    ]
    later.push(await include(sequencer, opened, tx(alice!, 2n, { data: COUNTER_INIT })))
    const created = later[2]!.contractAddress!
    await sequencer.stop()
    const oldHead = opened.chain.head
    assert.ok(oldHead.header.number > m + 1n, 'the later transactions span blocks')
    const oldNext = (await opened.chain.blockByNumber(m + 1n))!
    assert.equal(bytesToHex(opened.chain.state.live.getStorage(counter, SLOT0)), '0x06')

    let writes = 0
    const write = opened.db.write.bind(opened.db)
    opened.db.write = (ops, sync) => {
      writes++
      return write(ops, sync)
    }
    const result = await rewindChain(opened, m, { requeue: true })
    // One batch: a kill -9 cannot leave a mix of the two chains.
    assert.equal(writes, 1, 'the rewind is a single LevelDB batch')
    assert.deepEqual(
      result.dropped.map((b) => b.number),
      Array.from({ length: Number(oldHead.header.number - m) }, (_, i) => m + 1n + BigInt(i)),
    )
    assert.equal(result.userTransactions.length, 3)

    const { chain } = opened
    assert.equal(chain.head.hash, atM.block.hash)
    assert.equal(bytesToHex(await opened.merkleizer.root()), bytesToHex(atM.block.header.stateRoot), 'the trie is back at M')
    assert.equal(chain.state.live.getAccount(RECIPIENT)?.balance, atM.recipient)
    assert.deepEqual(chain.state.live.getAccount(alice!.address.toLowerCase() as Hex), atM.alice)
    assert.equal(bytesToHex(chain.state.live.getStorage(counter, SLOT0)), '0x05')
    assert.equal(chain.state.live.getAccount(created), undefined, 'a contract created after M is gone')
    assert.equal(chain.state.live.hasStorage(created), false)
    for (const receipt of later) {
      assert.equal(await chain.receipt(receipt.transactionHash), undefined, 'no receipt for a dropped transaction')
      assert.equal(await opened.blocks.txLocation(receipt.transactionHash), undefined, 'no index entry either')
    }
    assert.equal(await chain.blockByNumber(m + 1n), undefined)
    assert.equal(await chain.blockByHash(oldNext.hash), undefined)
    assert.equal(await opened.blocks.numberOf(oldHead.hash), undefined)
    assert.equal(await opened.artifacts.reverseDiff(m + 1n), undefined)
    assert.equal(await opened.artifacts.witness(m + 1n), undefined)
    assert.deepEqual(
      await chain.candidateLogBlocks({ fromBlock: m + 1n, toBlock: oldHead.header.number, addresses: [counter] }),
      [],
    )
    assert.deepEqual((await opened.blocks.head())?.hash, atM.block.hash)
    await opened.close()

    // Reopened: the start-up check (flat state root = head's root) passes; the journaled transactions
    // go back into the pool and land in new, different blocks on top of M.
    opened = await openChain(dir, genesis, config, common, DISK_STATE)
    assert.equal(opened.chain.head.hash, atM.block.hash)
    sequencer = await startSequencer(opened)
    const deadline = Date.now() + 30_000
    while (
      bytesToHex(opened.chain.state.live.getStorage(created, SLOT0)) !== '0x05' ||
      opened.chain.head.header.number <= m + 1n
    ) {
      assert.ok(Date.now() < deadline, 'the re-queued transactions were included again')
      await sleep(50)
    }
    await sequencer.stop()
    const newNext = (await opened.chain.blockByNumber(m + 1n))!
    assert.notEqual(newNext.hash, oldNext.hash)
    assert.equal(bytesToHex(newNext.header.parentHash), atM.block.hash)
    assert.equal(bytesToHex(opened.chain.state.live.getStorage(counter, SLOT0)), '0x06')
    assert.equal(opened.chain.state.live.getAccount(RECIPIENT)?.balance, 1500n)
    for (const receipt of later) assert.ok((await opened.chain.receipt(receipt.transactionHash)) !== undefined)
    await opened.close()
    // And the new chain is a sound datadir too.
    opened = await openChain(dir, genesis, config, common, DISK_STATE)
    await opened.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

const SHALLOW = { ...DISK_STATE, rewindDepth: 2n, stateHistoryBlocks: 2 }

test('a rewind deeper than the kept reverse diffs fails before changing anything', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'megaeth-rewind-'))
  try {
    // The state history keeps reverse diffs too (the larger window wins): 2 blocks of each.
    let opened = await openChain(dir, genesis, config, common, SHALLOW)
    const sequencer = await startSequencer(opened)
    await include(sequencer, opened, tx(alice!, 0n, { to: RECIPIENT, value: 1n }))
    while (opened.chain.head.header.number < 4n) await sleep(50)
    await sequencer.stop()
    const head = opened.chain.head
    await assert.rejects(rewindChain(opened, 0n), (error: unknown) => {
      assert.ok(error instanceof RewindError)
      assert.equal(error.code, 'REWIND_UNAVAILABLE')
      assert.equal(error.severity, 'critical')
      return true
    })
    assert.equal(opened.chain.head.hash, head.hash)
    // Within the depth it works.
    const result = await rewindChain(opened, head.header.number - 2n)
    assert.equal(result.dropped.length, 2)
    await opened.close()
    opened = await openChain(dir, genesis, config, common, SHALLOW)
    assert.equal(opened.chain.head.header.number, head.header.number - 2n)
    await opened.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
