/**
 * A full replica as a sync server: it keeps the sequencer's announcement signature of every block it imports
 * (in the block's batch, so it survives a reopen) and serves its chain through `SyncServer` with those
 * signatures, which a `SyncClient` on another libp2p host accepts as the sequencer's; a replica that
 * snapshot-syncs from it keeps the pivot's signature in turn. A block it holds no signature for (genesis; one
 * imported before replicas kept them) is refused with the reason. A server handing out blocks signed by anyone
 * else is refused and penalized (here, with a threshold of one penalty: banned and disconnected), and a
 * bootnode that does not serve sync is passed over for a peer that does.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { pino } from 'pino'
import { DEV_SEQUENCER_KEY } from '../../src/chain/dev.ts'
import { privateKeyToAddress } from '../../src/crypto/native.ts'
import { openChain, type OpenedChain } from '../../src/node/bootstrap.ts'
import { SnapshotDatadir } from '../../src/node/snapshot-datadir.ts'
import {
  P2pHost,
  P2pRequestError,
  recoverAnnouncementSigner,
  signBlockAnnouncement,
  syncProtocolId,
} from '../../src/p2p/index.ts'
import { SyncServer, SyncUnavailableError, type SyncServerModules } from '../../src/p2p/sync-server.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { u64 } from '../../src/primitives/u64.ts'
import { importBlock } from '../../src/replica/block-importer.ts'
import { snapshotSync } from '../../src/replica/snapshot-sync.ts'
import { storedAnnouncement, storedAnnouncements } from '../../src/replica/stored-announcement.ts'
import { ForeignSignerError, SequencerAuthenticator, SyncClient } from '../../src/replica/sync-client.ts'
import { StateSnapshots } from '../../src/storage/state-snapshots.ts'
import {
  DEV_COMMON as common,
  DEV_CONFIG as config,
  DEV_GENESIS as genesis,
  startDevSequencer,
} from '../helpers/dev-sequencer.ts'

const logger = pino({ level: 'silent' })
const SEQUENCER_KEY = hexToBytes(DEV_SEQUENCER_KEY)
const SEQUENCER = bytesToHex(privateKeyToAddress(SEQUENCER_KEY)) as Hex
const ROGUE_KEY = hexToBytes(`0x${'42'.repeat(32)}`)
/** Blocks the sequencer seals for the replica to import. */
const BLOCKS = 3n

/** Polls `condition` every 20 ms; fails after `timeoutMs`. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

describe('a full replica serving its chain', () => {
  let root = ''
  let replica: OpenedChain | undefined
  const hosts: P2pHost[] = []
  const servers: SyncServer[] = []

  /** The sequencer seals `BLOCKS` blocks on its own datadir; the replica imports each with its signed announcement. */
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'megaeth-replica-serve-'))
    const source = await openChain(join(root, 'sequencer'), genesis, config, common)
    const target = await openChain(join(root, 'replica'), genesis, config, common)
    try {
      const sequencer = await startDevSequencer(source, { blockMs: 100 })
      while (source.chain.head.header.number < BLOCKS) await sleep(20)
      await sequencer.stop()
      for (let n = 1n; n <= BLOCKS; n++) {
        const block = (await source.chain.blockByNumber(n))!
        const announcement = signBlockAnnouncement(block.header, block.miniBlocks, config.chainId, SEQUENCER_KEY)
        const diff = (await source.artifacts.diff(n))!
        const { transactions, receipts } = block
        await importBlock(target, { announcement, transactions, receipts, diff, appliedLive: false }, async () => undefined)
      }
    } finally {
      await source.close()
      await target.close()
    }
    replica = await openChain(join(root, 'replica'), genesis, config, common)
  })

  after(async () => {
    await Promise.all(servers.map((server) => server.stop()))
    await Promise.all(hosts.map((host) => host.stop()))
    await replica?.close()
    await rm(root, { recursive: true, force: true })
  })

  /** A host serving the replica's chain, announcing its blocks with `announcements`, and a client host with it as its last bootnode. */
  async function serveAndConnect(
    announcements: Pick<SyncServerModules, 'announcement' | 'announcedFrom'>,
    otherBootnodes: string[] = [],
  ): Promise<{ server: P2pHost; client: P2pHost; sync: SyncClient }> {
    const opened = replica!
    const server = await P2pHost.start({}, { logger })
    hosts.push(server)
    const syncServer = new SyncServer({
      host: server,
      opened,
      snapshots: new StateSnapshots(opened.db, opened.blocks, opened.stateStore),
      chainId: config.chainId,
      ...announcements,
      rpcUrl: () => 'http://sequencer.example',
    })
    servers.push(syncServer)
    await syncServer.start()
    const bootnodes = [...otherBootnodes, server.multiaddrs()[0]!]
    const client = await P2pHost.start({ bootnodes, penaltyThreshold: 1 }, { logger })
    hosts.push(client)
    await waitFor('the client to connect', () => client.connectedPeers().includes(server.peerId))
    const sync = new SyncClient(client, config, common, new SequencerAuthenticator(config, common, SEQUENCER), bootnodes)
    return { server, client, sync }
  }

  test('keeps each imported block’s signature across a reopen, and announces the block with it', async () => {
    const opened = replica!
    for (let n = 1n; n <= BLOCKS; n++) {
      const block = (await opened.chain.blockByNumber(n))!
      const announcement = await storedAnnouncement(opened.blocks, block)
      assert.equal(recoverAnnouncementSigner(announcement, config.chainId), SEQUENCER, `block ${n}`)
    }
    const genesisBlock = (await opened.chain.blockByNumber(0n))!
    await assert.rejects(storedAnnouncement(opened.blocks, genesisBlock), SyncUnavailableError)
  })

  test('serves status, blocks and a snapshot pivot that a client takes as the sequencer’s', async () => {
    const opened = replica!
    const { sync } = await serveAndConnect(storedAnnouncements(opened.blocks))
    const status = await sync.status()
    assert.equal(status.head, BLOCKS)
    assert.equal(status.headHash, opened.chain.head.hash)
    assert.equal(status.historyFrom, 1n)
    assert.equal(status.rpcUrl, 'http://sequencer.example')

    const bundles = await sync.blocks(1n)
    assert.deepEqual(
      bundles.map((b) => bytesToHex(b.announcement.header.hash())),
      await Promise.all([1n, 2n, 3n].map(async (n) => (await opened.chain.blockByNumber(n))!.hash)),
    )
    assert.equal((await sync.snapshot()).announcement.header.number, BLOCKS)
    assert.deepEqual(await sync.miniBlocks(0n), [], 'a replica with no open block answers an empty list')

    // A block imported before replicas kept signatures (an upgraded datadir): refused with the reason, never
    // signed by the replica, and the status says the blocks from the next one on are what it serves.
    await opened.db.write([opened.db.del('signatures', u64(1n))], false)
    await assert.rejects(sync.blocks(1n), (error: unknown) => {
      assert.ok(error instanceof P2pRequestError)
      assert.match(error.data.remoteMessage, /block 1 has no sequencer signature here/)
      return true
    })
    assert.equal((await sync.status()).historyFrom, 2n)
  })

  test('a server handing out blocks not signed by the sequencer is refused and penalized', async () => {
    const { server, client, sync } = await serveAndConnect({
      announcement: async (block) => signBlockAnnouncement(block.header, block.miniBlocks, config.chainId, ROGUE_KEY),
    })
    await assert.rejects(sync.blocks(1n), ForeignSignerError)
    // One penalty is the client's threshold here: the forger is banned and disconnected.
    await waitFor('the client to drop the forger', () => !client.connectedPeers().includes(server.peerId))
  })

  test('a bootnode that does not serve sync (a validator) is passed over for a peer that does', async () => {
    const silent = await P2pHost.start({}, { logger })
    hosts.push(silent)
    const { server, client, sync } = await serveAndConnect(storedAnnouncements(replica!.blocks), [silent.multiaddrs()[0]!])
    await waitFor('the client to connect to both', () => client.connectedPeers().includes(silent.peerId))
    const protocol = syncProtocolId(config.chainId)
    // Identify tells each side what the other serves, shortly after the connection.
    const deadline = Date.now() + 5_000
    while (!(await client.serves(server.peerId, protocol))) {
      if (Date.now() > deadline) assert.fail('identify did not say the server serves sync')
      await sleep(20)
    }
    assert.equal(await client.serves(silent.peerId, protocol), false)
    assert.equal((await sync.status()).head, BLOCKS)
    assert.equal(sync.currentPeer(), server.peerId)
  })

  test('a replica snapshot-synced from it keeps the pivot’s signature, and can serve the pivot in turn', async () => {
    const { sync } = await serveAndConnect(storedAnnouncements(replica!.blocks))
    const datadir = join(root, 'snapshot-synced')
    const sink = (await SnapshotDatadir.open(datadir, genesis, config, common))!
    try {
      assert.equal((await snapshotSync(sync, sink, logger)).pivot, BLOCKS)
    } finally {
      await sink.close()
    }
    const synced = await openChain(datadir, genesis, config, common)
    try {
      const pivot = (await synced.chain.blockByNumber(BLOCKS))!
      const announcement = await storedAnnouncement(synced.blocks, pivot)
      assert.equal(recoverAnnouncementSigner(announcement, config.chainId), SEQUENCER)
      assert.equal(await synced.blocks.oldestSignature(), BLOCKS)
    } finally {
      await synced.close()
    }
  })
})
