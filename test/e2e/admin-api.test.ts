// run-tests: pair — a node or anvil answering a few calls: no load, no assertion on time
/**
 * The admin API end to end, real processes only: a --dev sequencer (`--block-ms=500`) and a full
 * replica following it over libp2p, each with `--admin.port` and the JWT secret --dev generates.
 *
 * - Requests without a token, with a token signed by another secret, with a stale `iat` or with
 *   `alg: none` get 401 and do nothing: the chain keeps producing, the log level stays, and each
 *   attempt is logged (reason and remote address, never the token) and counted in the metrics.
 * - admin_stopSequencer while transactions stream in, more transactions while stopped, a start with a
 *   wrong hash (refused, still stopped), then admin_startSequencer(head): the chain resumes on the
 *   same head and every transaction sent before and during the stop has a successful receipt.
 * - admin_setLogLevel changes what the node and its modules' child loggers write.
 * - admin_removePeer / admin_addPeer on the replica over a real libp2p connection, after which it
 *   follows the sequencer to the same head hash; the replica's sequencer methods say "not a sequencer".
 */
import assert from 'node:assert/strict'
import { createHmac, randomBytes } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { parseJwtSecret, signJwt } from '../../src/admin/jwt.ts'
import { loadOrCreateIdentity } from '../../src/p2p/identity.ts'
import {
  DEV_CHAIN_ID,
  DEV_KEYS,
  freePort,
  makeTempDir,
  removeTempDir,
  rpc,
  startNode,
  waitFor,
  type NodeHandle,
} from '../helpers/node-process.ts'

interface AdminAnswer {
  status: number
  body: { result?: unknown; error?: { code: number; message: string } } & Record<string, unknown>
}

async function adminCall(url: string, method: string, params: unknown[], token: string | undefined): Promise<AdminAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  return { status: res.status, body: (await res.json()) as AdminAnswer['body'] }
}

/** pino JSON lines written at or after `since` (ms since the epoch). */
function linesSince(node: NodeHandle, since: number): { level: number; msg: string; [k: string]: unknown }[] {
  return node
    .logs()
    .stdout.split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string; time: number })
    .filter((l) => l.time >= since)
}

const now = () => Math.floor(Date.now() / 1000)
const hex = (n: bigint | number): Hex => `0x${n.toString(16)}`

describe('admin API', { timeout: 120_000 }, () => {
  let sequencer: NodeHandle
  let replica: NodeHandle
  let seqDir: string
  let repDir: string
  let seqAdmin: string
  let repAdmin: string
  let metricsUrl: string
  let secret: Uint8Array
  let replicaSecret: Uint8Array
  let secretText: string
  const token = () => signJwt(secret, now())

  before(async () => {
    seqDir = await makeTempDir()
    repDir = await makeTempDir()
    const [adminPort, metricsPort, replicaAdminPort] = [await freePort(), await freePort(), await freePort()]
    seqAdmin = `http://127.0.0.1:${adminPort}`
    repAdmin = `http://127.0.0.1:${replicaAdminPort}`
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`
    // The sequencer's identity made here, so both nodes start at once (the replica knows its bootnode).
    const keyFile = join(seqDir, 'p2p-key')
    const peerId = peerIdFromPrivateKey(await loadOrCreateIdentity(keyFile)).toString()
    const p2pPort = await freePort()
    ;[sequencer, replica] = await Promise.all([
      startNode({
        datadir: seqDir,
        args: ['--block-ms=500', `--admin.port=${adminPort}`, `--metrics.port=${metricsPort}`, `--p2p.port=${p2pPort}`],
      }),
      startNode({
        datadir: repDir,
        args: [
          '--role=replica',
          `--p2p.bootnodes=/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${peerId}`,
          `--admin.port=${replicaAdminPort}`,
        ],
      }),
    ])
    // The admin server starts after the public RPC (the last service): wait until it answers too.
    for (const url of [seqAdmin, repAdmin])
      await waitFor(`admin API at ${url}`, async () => (await fetch(url, { method: 'POST' })).status === 401 || undefined, 30_000)
    secretText = readFileSync(join(seqDir, 'admin-jwt.hex'), 'utf8')
    secret = parseJwtSecret(secretText)
    replicaSecret = parseJwtSecret(readFileSync(join(repDir, 'admin-jwt.hex'), 'utf8'))
  })

  after(async () => {
    await Promise.all([replica?.stop(), sequencer?.stop()])
    await Promise.all([removeTempDir(seqDir), removeTempDir(repDir)])
  })

  it('--dev generates a 0600 secret, logs its path and never its contents', () => {
    assert.equal(statSync(join(seqDir, 'admin-jwt.hex')).mode & 0o777, 0o600)
    const logs = sequencer.logs().stdout + sequencer.logs().stderr
    assert.match(logs, /generated the admin API JWT secret/)
    assert.ok(!logs.includes(secretText.trim().slice(2)), 'the secret is in the log')
  })

  it('refuses requests without a valid token with 401, does nothing, logs and counts each attempt', async () => {
    const since = Date.now()
    const unauthorized = async () =>
      Number(
        /megaeth_admin_requests_total\{method="none",outcome="unauthorized"[^}]*\} (\d+)/.exec(
          await (await fetch(metricsUrl)).text(),
        )?.[1] ?? 0,
      )
    const refusedBefore = await unauthorized()
    const head0 = BigInt(await rpc<string>(sequencer.rpcUrl, 'eth_blockNumber'))
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
    const unsignedNone = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iat: now() })}.`
    const forgedNone = `${b64({ alg: 'none' })}.${b64({ iat: now() })}.${createHmac('sha256', secret).update('x').digest('base64url')}`
    const bad: [string, string | undefined][] = [
      ['no token', undefined],
      ['wrong secret', signJwt(randomBytes(32), now())],
      ['stale iat', signJwt(secret, now() - 120)],
      ['future iat', signJwt(secret, now() + 120)],
      ['alg none', unsignedNone],
      ['alg none, signed', forgedNone],
    ]
    for (const [what, t] of bad) {
      for (const [method, params] of [
        ['admin_stopSequencer', []],
        ['admin_setLogLevel', ['error']],
      ] as const) {
        const answer = await adminCall(seqAdmin, method, [...params], t)
        assert.equal(answer.status, 401, `${what}: ${method} answered ${answer.status}`)
        assert.equal(answer.body.result, undefined)
      }
    }
    // Nothing happened: still producing, still logging warnings (the level is not error).
    assert.equal((await adminCall(seqAdmin, 'admin_sequencerActive', [], token())).body.result, true)
    await waitFor('blocks after the refused stops', async () =>
      BigInt(await rpc<string>(sequencer.rpcUrl, 'eth_blockNumber')) >= head0 + 2n ? true : undefined,
    )
    const refused = linesSince(sequencer, since).filter((l) => l.msg === 'admin request refused')
    assert.equal(refused.length, bad.length * 2, 'each refused attempt is logged, at warn (the level did not change)')
    for (const line of refused) {
      assert.equal(line.level, 40)
      assert.equal(typeof line.reason, 'string')
      assert.match(String(line.remote), /127\.0\.0\.1/)
    }
    const text = sequencer.logs().stdout
    for (const [, t] of bad) if (t !== undefined) assert.ok(!text.includes(t.split('.')[2] || t), 'a token is in the log')
    assert.equal(await unauthorized(), refusedBefore + bad.length * 2, 'each refused attempt is counted')
    const metrics = await (await fetch(metricsUrl)).text()
    assert.match(metrics, /megaeth_admin_requests_total\{method="admin_sequencerActive",outcome="ok"[^}]*\} 1\b/)
  })

  it('stop, transactions while stopped, wrong hash refused, start on the head: nothing lost', async () => {
    const accounts = DEV_KEYS.slice(1, 5).map((k) => privateKeyToAccount(k))
    const nonces = await Promise.all(
      accounts.map(async (a) => BigInt(await rpc<string>(sequencer.rpcUrl, 'eth_getTransactionCount', [a.address, 'pending']))),
    )
    const sendBatch = async (perAccount: number): Promise<Hex[]> => {
      const raws: Hex[] = []
      for (let i = 0; i < perAccount; i++)
        for (const [j, account] of accounts.entries()) {
          raws.push(
            await account.signTransaction({
              type: 'eip1559',
              chainId: DEV_CHAIN_ID,
              nonce: Number(nonces[j]!++),
              to: `0x${'ee'.repeat(19)}${(j + 1).toString(16).padStart(2, '0')}`,
              value: 1n,
              gas: 21_000n,
              maxFeePerGas: 10_000_000_000n,
              maxPriorityFeePerGas: 1n,
            }),
          )
        }
      return Promise.all(raws.map((raw) => rpc<Hex>(sequencer.rpcUrl, 'eth_sendRawTransaction', [raw])))
    }
    // Transactions in flight as the stop lands.
    const before = sendBatch(5)
    const stop = await adminCall(seqAdmin, 'admin_stopSequencer', [], token())
    const sentBefore = await before
    assert.equal(stop.status, 200)
    const stoppedHead = stop.body.result as Hex
    assert.match(stoppedHead, /^0x[0-9a-f]{64}$/, JSON.stringify(stop.body))
    const latest = await rpc<{ hash: Hex; number: Hex }>(sequencer.rpcUrl, 'eth_getBlockByNumber', ['latest', false])
    assert.equal(latest.hash, stoppedHead, 'the returned hash is the sealed head')
    assert.equal((await adminCall(seqAdmin, 'admin_sequencerActive', [], token())).body.result, false)
    assert.match(String((await adminCall(seqAdmin, 'admin_stopSequencer', [], token())).body.error?.message), /not running/)

    const during = await sendBatch(3)
    await sleep(1_500)
    const still = await rpc<{ hash: Hex }>(sequencer.rpcUrl, 'eth_getBlockByNumber', ['latest', false])
    assert.equal(still.hash, stoppedHead, 'no block while stopped')
    for (const hash of during) assert.equal(await rpc(sequencer.rpcUrl, 'eth_getTransactionReceipt', [hash]), null)

    const wrong = await adminCall(seqAdmin, 'admin_startSequencer', [`0x${'ab'.repeat(32)}`], token())
    assert.equal(wrong.body.error?.code, -32602)
    assert.match(wrong.body.error!.message, /is not the head/)
    assert.equal((await adminCall(seqAdmin, 'admin_sequencerActive', [], token())).body.result, false, 'still stopped')

    const start = await adminCall(seqAdmin, 'admin_startSequencer', [stoppedHead], token())
    assert.equal(start.body.error, undefined, JSON.stringify(start.body))
    assert.equal((await adminCall(seqAdmin, 'admin_sequencerActive', [], token())).body.result, true)
    for (const hash of [...sentBefore, ...during]) {
      const receipt = await waitFor(
        `receipt of ${hash}`,
        () => rpc<{ status: Hex } | null>(sequencer.rpcUrl, 'eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined),
        20_000,
      )
      assert.equal(receipt.status, '0x1')
    }
    // Receipts come with mini-blocks; the EVM block that holds them seals at its end.
    const next = await waitFor(
      'the first block after the start',
      () =>
        rpc<{ parentHash: Hex } | null>(sequencer.rpcUrl, 'eth_getBlockByNumber', [hex(BigInt(latest.number) + 1n), false]).then(
          (b) => b ?? undefined,
        ),
      20_000,
    )
    assert.equal(next.parentHash, stoppedHead, 'production resumed on the stopped head')
    assert.match(
      String((await adminCall(seqAdmin, 'admin_startSequencer', [stoppedHead], token())).body.error?.message),
      /already running/,
    )
  })

  it('admin_setLogLevel changes what the node and its modules log', async () => {
    const quiet = await adminCall(seqAdmin, 'admin_setLogLevel', ['error'], token())
    assert.equal(quiet.body.error, undefined)
    const since = Date.now()
    // A warning from the admin module's child logger, and one from the root: both silenced.
    await adminCall(seqAdmin, 'admin_nodeInfo', [], undefined)
    const head = (await adminCall(seqAdmin, 'admin_stopSequencer', [], token())).body.result as Hex
    await adminCall(seqAdmin, 'admin_startSequencer', [head], token())
    await sleep(300)
    assert.deepEqual(
      linesSince(sequencer, since)
        .filter((l) => l.level < 50)
        .map((l) => l.msg),
      [],
      'nothing under error is logged at level error',
    )
    const loud = Date.now()
    assert.equal((await adminCall(seqAdmin, 'admin_setLogLevel', ['info'], token())).body.error, undefined)
    await adminCall(seqAdmin, 'admin_nodeInfo', [], undefined)
    await sleep(300)
    const msgs = linesSince(sequencer, loud).map((l) => l.msg)
    assert.ok(msgs.includes('log level changed by admin_setLogLevel'), msgs.join(' | '))
    assert.ok(msgs.includes('admin request refused'), msgs.join(' | '))
    assert.equal((await adminCall(seqAdmin, 'admin_setLogLevel', ['loud'], token())).body.error?.code, -32602)
  })

  it('nodeInfo and peers; removePeer and addPeer over libp2p; the replica follows to the same head', async () => {
    const rToken = () => signJwt(replicaSecret, now())
    // Each node has its own secret: the sequencer's token does not open the replica.
    assert.equal((await adminCall(repAdmin, 'admin_peers', [], token())).status, 401)
    const info = (await adminCall(seqAdmin, 'admin_nodeInfo', [], token())).body.result as {
      id: string
      enode: string
      multiaddrs: string[]
      ports: { listener: number; admin: number }
      protocols: { megaeth: { chainId: string; role: string; head: { hash: Hex } } }
    }
    assert.match(info.id, /^12D3KooW/)
    assert.ok(info.enode.endsWith(`/p2p/${info.id}`), info.enode)
    assert.equal(info.protocols.megaeth.chainId, hex(DEV_CHAIN_ID))
    assert.equal(info.protocols.megaeth.role, 'sequencer')
    assert.ok(!JSON.stringify(info).includes(secretText.trim().slice(2)))

    const replicaPeers = async () =>
      ((await adminCall(repAdmin, 'admin_peers', [], rToken())).body.result as { id: string }[]).map((p) => p.id)
    await waitFor('replica connected to the sequencer', async () => (await replicaPeers()).includes(info.id) || undefined, 20_000)
    const seqPeers = (await adminCall(seqAdmin, 'admin_peers', [], token())).body.result as { id: string; addrs: string[] }[]
    assert.equal(seqPeers.length, 1)
    assert.match(seqPeers[0]!.addrs[0]!, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)

    const removed = await adminCall(repAdmin, 'admin_removePeer', [info.id], rToken())
    assert.equal(removed.body.result, true, JSON.stringify(removed.body))
    await waitFor('replica disconnected', async () => ((await replicaPeers()).length === 0 ? true : undefined), 10_000)
    // Forgotten, not redialled (the bootnode redial interval is 1 s).
    await sleep(2_500)
    assert.deepEqual(await replicaPeers(), [])
    const cut = BigInt(await rpc<string>(replica.rpcUrl, 'eth_blockNumber'))

    const added = await adminCall(repAdmin, 'admin_addPeer', [info.enode], rToken())
    assert.equal(added.body.result, true, JSON.stringify(added.body))
    assert.ok((await replicaPeers()).includes(info.id))
    const target = BigInt(await rpc<string>(sequencer.rpcUrl, 'eth_blockNumber'))
    assert.ok(target > cut, 'the sequencer went on while the replica was cut off')
    await waitFor(
      'replica caught up',
      async () => (BigInt(await rpc<string>(replica.rpcUrl, 'eth_blockNumber')) >= target ? true : undefined),
      30_000,
    )
    const [a, b] = await Promise.all(
      [sequencer, replica].map((n) => rpc<{ hash: Hex }>(n.rpcUrl, 'eth_getBlockByNumber', [hex(target), false])),
    )
    assert.equal(b!.hash, a!.hash)

    assert.match(String((await adminCall(repAdmin, 'admin_stopSequencer', [], rToken())).body.error?.message), /not a sequencer/)
    assert.match(
      String((await adminCall(repAdmin, 'admin_sequencerActive', [], rToken())).body.error?.message),
      /not a sequencer/,
    )
    const bad = await adminCall(
      repAdmin,
      'admin_addPeer',
      ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'],
      rToken(),
    )
    assert.match(String(bad.body.error?.message), /cannot add peer/)
  })
})
