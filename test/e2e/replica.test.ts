/**
 * The replica role end to end, with real processes only: a sequencer (`--block-ms=500`), two full
 * replicas following it over libp2p (one with a single verification worker, one with the default)
 * and a validator-mode node.
 *
 * While several senders keep a mixed load going (ETH transfers to fresh and existing addresses,
 * ERC-20 transfers, Counter increments; part of it sent to the replicas, which forward it), a
 * checker per replica walks every sealed block and compares the replica's JSON-RPC answers for it
 * with the sequencer's, exactly: the block, balances and nonces of the addresses it touched,
 * contract reads at that block, the receipts of its transactions and its logs. Mid-load one
 * replica is SIGKILLed and restarted from its datadir: it must catch up over the sync protocol,
 * verify the blocks it missed and serve them identically. Every node must end up having verified
 * every block statelessly, with no failure.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { isDeepStrictEqual } from 'node:util'
import { encodeDeployData, encodeFunctionData, getContractAddress, type Address, type Hex } from 'viem'
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'
import { contract } from '../helpers/contracts.ts'
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
  rpcBatch,
  type RpcBatchAnswer,
} from '../helpers/node-process.ts'
import { rng as seededRng } from '../helpers/rng.ts'
import { type HasLogs, logTail, readyz, startValidator, type ValidatorHandle, waitReady } from '../helpers/validator-process.ts'

const BLOCK_MS = 500
/** Phase 1: load with both replicas up. */
const LOAD_MS = 8_000
/** Blocks the killed replica misses before it is restarted. */
const BLOCKS_WHILE_DOWN = 6

const TOKEN = contract('Token')
const COUNTER = contract('Counter')
const hex = (n: bigint | number): Hex => `0x${n.toString(16)}`
/** Reads of the state at a block number (the rest of a block's questions are about the chain itself). */
const STATE_READS = new Set(['eth_getBalance', 'eth_getTransactionCount', 'eth_call'])

// --- processes ------------------------------------------------------------------------------------

interface NodeInfo {
  role: string
  mode?: string
  peers: number
  p2pAddrs: string[]
  head?: { block: Hex; miniBlock: Hex }
  verified?: { block: Hex; failures: number; failure?: { block: Hex; code: string; message: string } }
}

const nodeInfo = (url: string): Promise<NodeInfo> => rpc<NodeInfo>(url, 'mega_nodeInfo')
/**
 * The checkers compare state reads at every block; on a loaded machine they fall minutes behind the head, past the
 * default 128 blocks of state history (64 s of 500 ms blocks), and then both nodes rightly answer "no longer kept".
 * The whole run is a few hundred blocks: keep them all.
 */
const STATE_HISTORY = '--state.history=2048'

const blockNumber = async (url: string): Promise<bigint> => BigInt(await rpc<Hex>(url, 'eth_blockNumber'))

/** JSON-RPC batches; answers in call order (with their ids stripped, for exact comparison). */
const batch = (url: string, calls: ReadonlyArray<readonly [string, unknown[]]>): Promise<RpcBatchAnswer[]> =>
  rpcBatch(url, calls, { timeoutMs: 20_000 })

// --- load -----------------------------------------------------------------------------------------

type Via = 'sequencer' | 'replicaA' | 'replicaB'
type SendMethod = 'eth_sendRawTransaction' | 'eth_sendRawTransactionSync' | 'realtime_sendRawTransaction'
type Kind = 'eth' | 'erc20' | 'counter'

interface SentTx {
  hash: Hex
  from: Address
  kind: Kind
  via: Via
  method: SendMethod
}

interface Sender {
  account: PrivateKeyAccount
  nonce: number
  /** Where this sender sends: a replica falls back to replica A while it is down. */
  prefer: Via
  methods: readonly SendMethod[]
}

interface ReplicaSlot {
  name: 'replicaA' | 'replicaB'
  handle: NodeHandle
  /** False while it is down (being killed or restarting): no checks sent its way. */
  up: boolean
  /** False from just before it is killed until it is back: its senders use replica A. */
  send: boolean
  /** Sends to it that have not answered yet. */
  inFlight: number
  /**
   * State reads at blocks below this one may answer "no longer kept": the node was restarted with
   * this head, and state history (undo records, in memory) starts where a process starts.
   */
  stateFloor: bigint
}

// --- the suite ------------------------------------------------------------------------------------

describe('replicas follow the sequencer under load, verify every block and survive a crash', { timeout: 240_000 }, () => {
  let sequencer: NodeHandle
  let validator: ValidatorHandle | undefined
  const slots = new Map<'replicaA' | 'replicaB', ReplicaSlot>()
  /** Every handle ever started, for `after` (a restarted replica gets a new one). */
  const handles: NodeHandle[] = []
  let datadirB: string | undefined
  let metricsUrlA = ''
  let bootnode = ''
  let validatorCheckpoint: bigint | undefined

  const deployer = privateKeyToAccount(DEV_KEYS[0]!)
  let token: Address
  let counter: Address
  const existing: Address[] = DEV_KEYS.slice(10, 14).map((k) => privateKeyToAccount(k).address)
  const senders: Sender[] = []

  const sent: SentTx[] = []
  const loadErrors: string[] = []
  let loadStop = false
  let loadDone: Promise<unknown> | undefined
  const checkers = new Map<string, Checker>()

  const slot = (name: 'replicaA' | 'replicaB'): ReplicaSlot => slots.get(name)!
  const allLogs = (): string =>
    logTail('sequencer', sequencer) + [...slots.values()].map((s) => logTail(s.name, s.handle)).join('')

  // --- signing and sending ---

  async function sign(
    account: PrivateKeyAccount,
    nonce: number,
    tx: { to: Address | null; value?: bigint; data?: Hex; gas: bigint },
  ): Promise<Hex> {
    return account.signTransaction({
      chainId: DEV_CHAIN_ID,
      type: 'eip1559',
      nonce,
      to: tx.to,
      value: tx.value ?? 0n,
      data: tx.data,
      gas: tx.gas,
      maxFeePerGas: 1_000_000_000n,
      maxPriorityFeePerGas: 1_000n,
    })
  }

  async function waitReceipt(url: string, hash: Hex, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    return waitFor(
      `receipt of ${hash} at ${url}`,
      () => rpc<Record<string, unknown> | null>(url, 'eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined),
      timeoutMs,
      50,
    )
  }

  /** One sender's loop: a random mix of transactions, each send awaited (so nonces arrive in order). */
  async function runSender(index: number, sender: Sender): Promise<void> {
    const random = seededRng(1000 + index)
    let count = 0
    while (!loadStop) {
      const roll = random.next()
      const kind: Kind = roll < 0.4 ? 'eth' : roll < 0.75 ? 'erc20' : 'counter'
      const recipient: Address =
        random.next() < 0.5 ? (`0x${Buffer.from(random.bytes(20)).toString('hex')}` as Address) : random.pick(existing)
      const raw = await sign(
        sender.account,
        sender.nonce,
        kind === 'eth'
          ? { to: recipient, value: BigInt(1 + random.int(1_000_000)) * 1_000_000_000n, gas: 21_000n }
          : kind === 'erc20'
            ? {
                to: token,
                data: encodeFunctionData({
                  abi: TOKEN.abi,
                  functionName: 'transfer',
                  args: [recipient, BigInt(1 + random.int(1000))],
                }),
                gas: 120_000n,
              }
            : { to: counter, data: encodeFunctionData({ abi: COUNTER.abi, functionName: 'increment' }), gas: 200_000n },
      )
      const method = sender.methods[count % sender.methods.length]!
      const target = sender.prefer === 'sequencer' ? undefined : slot(sender.prefer).send ? slot(sender.prefer) : slot('replicaA')
      const via: Via = target?.name ?? 'sequencer'
      const url = target?.handle.rpcUrl ?? sequencer.rpcUrl
      if (target !== undefined) target.inFlight++
      try {
        const params: unknown[] = method === 'eth_sendRawTransactionSync' ? [raw, 15_000] : [raw]
        const answer = await rpc<Hex | { transactionHash: Hex; status: Hex }>(url, method, params)
        const hash = typeof answer === 'string' ? answer : answer.transactionHash
        sent.push({ hash, from: sender.account.address, kind, via, method })
        if (typeof answer !== 'string') {
          // The realtime sends answer once the receipt is in the chain of the node asked.
          assert.equal(answer.status, '0x1', `${method} via ${via}: ${hash} failed`)
          const local = await rpc<{ status: Hex } | null>(url, 'eth_getTransactionReceipt', [hash])
          assert.ok(
            local !== null,
            `${method} via ${via} returned ${hash}'s receipt, but that node's eth_getTransactionReceipt right after says null`,
          )
        }
      } catch (error) {
        loadErrors.push(
          `sender ${index} (${sender.account.address}) nonce ${sender.nonce} ${kind} via ${via} ${method}: ${error instanceof Error ? error.message : String(error)}`,
        )
        return
      } finally {
        if (target !== undefined) target.inFlight--
      }
      sender.nonce++
      count++
      await sleep(method === 'eth_sendRawTransaction' ? 60 : 20)
    }
  }

  // --- block-by-block comparison ---

  /** The questions asked about block n, built once from the sequencer's block and receipts. */
  const questions = new Map<bigint, Promise<{ calls: Array<readonly [string, unknown[]]>; answers: RpcBatchAnswer[] }>>()

  function sequencerAnswers(n: bigint) {
    let entry = questions.get(n)
    if (entry === undefined) {
      entry = (async () => {
        const [blockAnswer, receiptsAnswer] = await batch(sequencer.rpcUrl, [
          ['eth_getBlockByNumber', [hex(n), false]],
          ['eth_getBlockReceipts', [hex(n)]],
        ])
        const block = blockAnswer!.result as { miner: Address; transactions: Hex[] } | null
        const receipts = receiptsAnswer!.result as Array<{
          from: Address
          to: Address | null
          logs: Array<{ address: Address; topics: Hex[] }>
        }> | null
        assert.ok(block !== null && receipts !== null, `the sequencer has no block ${n}: ${JSON.stringify(blockAnswer)}`)
        // What the block touched (plus a few fixed accounts, so blocks without transactions are read too).
        const lower = (a: string): string => a.toLowerCase()
        const touched = new Set<string>(
          [block.miner, deployer.address, token, counter, existing[Number(n % BigInt(existing.length))]!].map(lower),
        )
        const nonces = new Set<string>([lower(deployer.address)])
        const holders = new Set<string>([lower(deployer.address)])
        for (const r of receipts) {
          touched.add(lower(r.from))
          nonces.add(lower(r.from))
          if (r.to !== null) touched.add(lower(r.to))
          for (const log of r.logs) {
            // Token Transfer(from, to, value): both token balances changed.
            if (lower(log.address) === lower(token) && log.topics.length === 3)
              holders.add(`0x${log.topics[1]!.slice(26)}`).add(`0x${log.topics[2]!.slice(26)}`)
          }
        }
        const at = hex(n)
        const calls: Array<readonly [string, unknown[]]> = [['eth_getBlockByNumber', [at, false]]]
        for (const a of [...touched].sort()) calls.push(['eth_getBalance', [a, at]])
        for (const a of [...nonces].sort()) calls.push(['eth_getTransactionCount', [a, at]])
        for (const a of [...holders].sort().slice(0, 16)) {
          calls.push([
            'eth_call',
            [{ to: token, data: encodeFunctionData({ abi: TOKEN.abi, functionName: 'balanceOf', args: [a as Address] }) }, at],
          ])
        }
        calls.push(['eth_call', [{ to: counter, data: encodeFunctionData({ abi: COUNTER.abi, functionName: 'count' }) }, at]])
        calls.push([
          'eth_call',
          [{ to: counter, data: encodeFunctionData({ abi: COUNTER.abi, functionName: 'lastBlockNumber' }) }, at],
        ])
        for (const h of block.transactions) calls.push(['eth_getTransactionReceipt', [h]])
        calls.push(['eth_getLogs', [{ fromBlock: at, toBlock: at }]])
        const answers = await batch(sequencer.rpcUrl, calls)
        answers.forEach((a, i) =>
          assert.ok(a.error === undefined, `the sequencer failed ${JSON.stringify(calls[i])}: ${JSON.stringify(a.error)}`),
        )
        return { calls, answers }
      })()
      questions.set(n, entry)
    }
    return entry
  }

  /** Walks every sealed block on one replica as soon as its head reaches it, comparing with the sequencer. */
  class Checker {
    checkedUpTo = 0n
    transactionsChecked = 0
    stateReadsSkipped = 0
    error: unknown
    stopping = false
    readonly done: Promise<void>

    constructor(private readonly name: 'replicaA' | 'replicaB') {
      this.done = this.run()
    }

    private async run(): Promise<void> {
      const replicaSlot = slot(this.name)
      while (!this.stopping) {
        if (!replicaSlot.up) {
          await sleep(100)
          continue
        }
        const handle = replicaSlot.handle
        try {
          const [seqHead, head] = await Promise.all([blockNumber(sequencer.rpcUrl), blockNumber(handle.rpcUrl)])
          const until = seqHead < head ? seqHead : head
          if (this.checkedUpTo >= until) {
            await sleep(100)
            continue
          }
          for (let n = this.checkedUpTo + 1n; n <= until && !this.stopping; n++) {
            const { calls, answers } = await sequencerAnswers(n)
            const mine = await batch(handle.rpcUrl, calls)
            for (let i = 0; i < calls.length; i++) {
              const method = calls[i]![0]
              if (
                n < replicaSlot.stateFloor &&
                STATE_READS.has(method) &&
                mine[i]!.error?.code === -32002 &&
                /no longer kept/.test(mine[i]!.error!.message)
              ) {
                // Imported before this process started: a restarted node has no state history for
                // it (blocks, receipts and logs are still compared).
                this.stateReadsSkipped++
                continue
              }
              if (!isDeepStrictEqual(mine[i], answers[i])) {
                assert.deepEqual(
                  mine[i],
                  answers[i],
                  `${this.name} answers ${calls[i]![0]}(${JSON.stringify(calls[i]![1])}) for block ${n} differently from the sequencer${logTail(this.name, handle)}`,
                )
              }
            }
            this.checkedUpTo = n
            this.transactionsChecked += calls.filter(([m]) => m === 'eth_getTransactionReceipt').length
          }
        } catch (error) {
          // A request cut short by the planned kill is retried once the replica is back.
          if (!replicaSlot.up || replicaSlot.handle !== handle) continue
          this.error = error
          return
        }
      }
    }

    /** Throws what the checker found, if anything. */
    assertClean(): void {
      if (this.error !== undefined) throw this.error
    }
  }

  async function waitChecked(upTo: bigint, timeoutMs: number, names: readonly string[] = [...checkers.keys()]): Promise<void> {
    for (const name of names) {
      const checker = checkers.get(name)!
      await waitFor(
        `${name}'s checker to compare every block up to ${upTo}`,
        () => {
          checker.assertClean()
          return checker.checkedUpTo >= upTo
        },
        timeoutMs,
        100,
      ).catch(async (error: unknown) => {
        checker.assertClean()
        const handle = slot(name as 'replicaA' | 'replicaB').handle
        const info = await nodeInfo(handle.rpcUrl).then(
          (i) => JSON.stringify({ head: i.head, verified: i.verified, peers: i.peers }),
          (e: unknown) => `unavailable: ${String(e)}`,
        )
        throw new Error(
          `${error instanceof Error ? error.message : String(error)} (compared up to ${checker.checkedUpTo}; its mega_nodeInfo: ${info})${logTail(name, handle)}`,
        )
      })
    }
  }

  async function stopLoad(): Promise<void> {
    loadStop = true
    if (loadDone !== undefined) await Promise.race([loadDone, sleep(30_000)])
  }

  async function waitVerified(name: string, url: string, node: HasLogs, upTo: bigint, timeoutMs: number): Promise<NodeInfo> {
    let last: NodeInfo | undefined
    try {
      return await waitFor(
        `${name} to verify every block up to ${upTo}`,
        async () => {
          last = await nodeInfo(url)
          assert.equal(
            last.verified?.failures,
            0,
            `${name} reports a verification failure: ${JSON.stringify(last.verified)}${logTail(name, node)}`,
          )
          return BigInt(last.verified!.block) >= upTo ? last : undefined
        },
        timeoutMs,
        200,
      )
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}; last mega_nodeInfo: ${JSON.stringify(last)}${logTail(name, node)}`,
      )
    }
  }

  // --- lifecycle ---

  before(async () => {
    sequencer = await startNode({ args: [`--block-ms=${BLOCK_MS}`, STATE_HISTORY] })
    handles.push(sequencer)
    const info = await nodeInfo(sequencer.rpcUrl)
    assert.equal(info.role, 'sequencer')
    bootnode = info.p2pAddrs[0]!
    assert.match(bootnode, /\/p2p\/12D3KooW/, `the sequencer's p2p address carries its peer id: ${JSON.stringify(info.p2pAddrs)}`)

    datadirB = await makeTempDir('megaeth-replica-b-')
    const metricsPort = await freePort()
    metricsUrlA = `http://127.0.0.1:${metricsPort}/metrics`
    const replicaArgs = ['--role=replica', `--p2p.bootnodes=${bootnode}`, STATE_HISTORY]
    const [a, b, v] = await Promise.allSettled([
      startNode({ args: [...replicaArgs, '--replica.verify-workers=1', `--metrics.port=${metricsPort}`] }),
      startNode({ args: replicaArgs, datadir: datadirB }),
      startValidator(bootnode),
    ])
    if (a.status === 'fulfilled') handles.push(a.value)
    if (b.status === 'fulfilled') handles.push(b.value)
    if (v.status === 'fulfilled') validator = v.value
    for (const r of [a, b, v]) if (r.status === 'rejected') throw r.reason
    slots.set('replicaA', {
      name: 'replicaA',
      handle: (a as PromiseFulfilledResult<NodeHandle>).value,
      up: true,
      send: true,
      inFlight: 0,
      stateFloor: 0n,
    })
    slots.set('replicaB', {
      name: 'replicaB',
      handle: (b as PromiseFulfilledResult<NodeHandle>).value,
      up: true,
      send: true,
      inFlight: 0,
      stateFloor: 0n,
    })

    // Contracts, and tokens for every sender (all from the deployer, through the sequencer).
    let nonce = Number(BigInt(await rpc<Hex>(sequencer.rpcUrl, 'eth_getTransactionCount', [deployer.address, 'pending'])))
    token = getContractAddress({ from: deployer.address, nonce: BigInt(nonce) })
    counter = getContractAddress({ from: deployer.address, nonce: BigInt(nonce + 1) })
    const setup: Hex[] = [
      await sign(deployer, nonce++, {
        to: null,
        data: encodeDeployData({ abi: TOKEN.abi, bytecode: TOKEN.bytecode, args: ['Replica', 'REP', 10n ** 24n] }),
        gas: 2_000_000n,
      }),
      await sign(deployer, nonce++, {
        to: null,
        data: encodeDeployData({ abi: COUNTER.abi, bytecode: COUNTER.bytecode }),
        gas: 1_000_000n,
      }),
    ]
    const plan: Array<{ key: number; prefer: Via; methods: SendMethod[] }> = [
      { key: 1, prefer: 'sequencer', methods: ['eth_sendRawTransaction'] },
      { key: 2, prefer: 'sequencer', methods: ['eth_sendRawTransaction', 'eth_sendRawTransactionSync'] },
      { key: 3, prefer: 'replicaA', methods: ['eth_sendRawTransaction'] },
      { key: 4, prefer: 'replicaA', methods: ['eth_sendRawTransactionSync', 'realtime_sendRawTransaction'] },
      { key: 5, prefer: 'replicaB', methods: ['eth_sendRawTransaction', 'eth_sendRawTransactionSync'] },
      { key: 6, prefer: 'replicaB', methods: ['realtime_sendRawTransaction', 'eth_sendRawTransaction'] },
    ]
    for (const { key, prefer, methods } of plan) {
      const account = privateKeyToAccount(DEV_KEYS[key]!)
      senders.push({
        account,
        nonce: Number(BigInt(await rpc<Hex>(sequencer.rpcUrl, 'eth_getTransactionCount', [account.address, 'pending']))),
        prefer,
        methods,
      })
      setup.push(
        await sign(deployer, nonce++, {
          to: token,
          data: encodeFunctionData({ abi: TOKEN.abi, functionName: 'transfer', args: [account.address, 10n ** 21n] }),
          gas: 120_000n,
        }),
      )
    }
    const hashes: Hex[] = []
    for (const raw of setup) hashes.push(await rpc<Hex>(sequencer.rpcUrl, 'eth_sendRawTransaction', [raw]))
    for (const hash of hashes) {
      const receipt = await waitReceipt(sequencer.rpcUrl, hash)
      assert.equal(receipt.status, '0x1', `setup transaction ${hash} failed: ${JSON.stringify(receipt)}`)
    }
  })

  after(async () => {
    loadStop = true
    for (const checker of checkers.values()) checker.stopping = true
    await Promise.race([Promise.allSettled([loadDone, ...[...checkers.values()].map((c) => c.done)]), sleep(20_000)])
    // Followers first (so they do not log the sequencer going away), then the sequencer.
    await Promise.allSettled([validator?.stop(), ...handles.filter((h) => h !== sequencer).map((h) => h.stop())])
    await sequencer?.stop()
    if (datadirB !== undefined) await removeTempDir(datadirB)
  })

  // --- tests ---

  test('both full replicas and the validator connect to the sequencer and become ready', async () => {
    for (const s of slots.values()) {
      await waitReady(s.name, s.handle.rpcUrl, s.handle)
      const info = await nodeInfo(s.handle.rpcUrl)
      assert.equal(info.role, 'replica')
      assert.equal(info.mode, 'full')
      assert.ok(info.peers >= 1, `${s.name} reports ${info.peers} peers`)
      assert.equal(info.verified?.failures, 0, `${s.name}: ${JSON.stringify(info.verified)}`)
    }
    await waitReady('validator', validator!.rpcUrl, validator!)
    const info = await nodeInfo(validator!.rpcUrl)
    assert.equal(info.mode, 'validator')
    const line = validator!
      .logs()
      .stdout.split('\n')
      .find((l) => l.includes('validator checkpoint'))
    assert.ok(line !== undefined, `the validator logs its checkpoint${logTail('validator', validator)}`)
    validatorCheckpoint = BigInt((JSON.parse(line) as { block: string }).block)
  })

  test('under load, every sealed block reads the same on both replicas as on the sequencer', async (t) => {
    loadDone = Promise.all(senders.map((s, i) => runSender(i, s)))
    for (const name of ['replicaA', 'replicaB'] as const) checkers.set(name, new Checker(name))
    const startHead = await blockNumber(sequencer.rpcUrl)
    await sleep(LOAD_MS)
    assert.deepEqual(loadErrors, [], `load errors${allLogs()}`)
    for (const checker of checkers.values()) checker.assertClean()
    for (const s of slots.values()) {
      const { verified } = await nodeInfo(s.handle.rpcUrl)
      assert.equal(
        verified?.failures,
        0,
        `${s.name} failed to verify a block: ${JSON.stringify(verified)}${logTail(s.name, s.handle)}`,
      )
    }
    const head = await blockNumber(sequencer.rpcUrl)
    assert.ok(
      head - startHead >= BigInt(Math.floor(LOAD_MS / BLOCK_MS / 2)),
      `the sequencer sealed only ${head - startHead} blocks in ${LOAD_MS} ms`,
    )
    // Both replicas keep up: every block sealed by now is compared within seconds (45 s of slack: the checker reads
    // every block's answers from four nodes on the same two cores, and fell 3 blocks short of 20 s in CI).
    await waitChecked(head, 45_000)
    const checkedTxs = [...checkers.values()].map((c) => c.transactionsChecked)
    t.diagnostic(
      `blocks ${startHead}…${head} sealed under load; ${sent.length} transactions sent so far; receipts compared per replica: ${checkedTxs.join(', ')}`,
    )
    assert.ok(
      checkedTxs.every((n) => n >= 50),
      `too little load reached the comparison: ${checkedTxs.join(', ')} transactions compared (${sent.length} sent)`,
    )
  })

  test('a replica killed with SIGKILL restarts from its datadir, catches up, verifies the gap and serves it identically', async (t) => {
    const t0 = Date.now()
    const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`
    const b = slot('replicaB')
    // Route B's senders to A and let sends in flight through B finish, so every nonce is accounted for.
    b.send = false
    await waitFor('sends through replica B to finish', () => b.inFlight === 0, 20_000, 10)
    // Let B catch up and its checker compare everything up to the sequencer's head of now: a restarted node keeps
    // the state history of the blocks it imports from then on, not of those before its restart.
    const seqHead = await blockNumber(sequencer.rpcUrl)
    await waitFor(
      `replica B to reach block ${seqHead} before it is killed`,
      async () => (await blockNumber(b.handle.rpcUrl)) >= seqHead,
      30_000,
      100,
    )
    const checkerB = checkers.get('replicaB')!
    // The checker compares up to the block B had reached (the load goes on, so B's head itself is a moving target
    // the checker may trail by a few blocks on two shared cores); blocks B imports after that and before the kill are
    // still compared after its restart, without the state reads a restarted node no longer has history for.
    await waitFor(
      `replica B's checker to compare every block up to ${seqHead}`,
      async () => {
        checkerB.assertClean()
        return checkerB.checkedUpTo >= seqHead
      },
      60_000,
      20,
    )
    const headBeforeKill = await blockNumber(b.handle.rpcUrl)
    b.up = false
    await b.handle.kill9()
    const killedAt = await blockNumber(sequencer.rpcUrl)

    await waitFor(
      `the sequencer to seal ${BLOCKS_WHILE_DOWN} blocks while replica B is down`,
      async () => (await blockNumber(sequencer.rpcUrl)) >= killedAt + BigInt(BLOCKS_WHILE_DOWN),
      20_000,
      100,
    )
    assert.deepEqual(loadErrors, [], `load errors while replica B is down${allLogs()}`)

    const restarted = await startNode({
      args: ['--role=replica', `--p2p.bootnodes=${bootnode}`, STATE_HISTORY],
      datadir: datadirB,
    })
    handles.push(restarted)
    b.handle = restarted
    t.diagnostic(`replica B killed at block ${killedAt}; restarted (answering RPC) after ${since()}`)
    const gapEnd = await blockNumber(sequencer.rpcUrl)
    const opened = await waitFor(
      'replica B to log the chain it opened',
      () =>
        restarted
          .logs()
          .stdout.split('\n')
          .filter((l) => l.includes('"opened chain"'))
          .map((l) => JSON.parse(l) as { head: string })[0],
    ).catch(() => undefined)
    assert.ok(
      opened !== undefined && BigInt(opened.head) >= headBeforeKill,
      `replica B resumed from its datadir at block ${opened?.head}, before the kill it had ${headBeforeKill}${logTail('replicaB', restarted)}`,
    )
    b.stateFloor = BigInt(opened.head)

    await waitReady('replicaB (restarted)', restarted.rpcUrl, restarted, 30_000)
    await waitFor(
      `restarted replica B to reach block ${gapEnd}`,
      async () => (await blockNumber(restarted.rpcUrl)) >= gapEnd,
      20_000,
      100,
    ).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}${logTail('replicaB', restarted)}`)
    })
    t.diagnostic(`replica B ready and at block ${gapEnd} after ${since()}`)
    b.up = true
    b.send = true
    await waitVerified('replicaB (restarted)', restarted.rpcUrl, restarted, gapEnd, 30_000)
    t.diagnostic(`replica B verified blocks up to ${gapEnd} after ${since()}`)
    // The checker resumes where it was and compares every block B missed.
    await waitChecked(gapEnd, 30_000)
    t.diagnostic(
      `replica B's answers for blocks ${killedAt + 1n}…${gapEnd} compared after ${since()} (state reads before its restart head ${b.stateFloor} skipped: ${checkers.get('replicaB')!.stateReadsSkipped})`,
    )
    assert.ok(killedAt + BigInt(BLOCKS_WHILE_DOWN) <= gapEnd)
    assert.deepEqual(loadErrors, [], `load errors${allLogs()}`)
  })

  test('transactions sent to the replicas are forwarded and land, identically on the sequencer and the replica', async (t) => {
    // Keep the load going a little with the restarted replica taking sends again.
    await sleep(1_500)
    await stopLoad()
    assert.deepEqual(loadErrors, [], `load errors${allLogs()}`)
    const byVia = (via: Via) => sent.filter((t) => t.via === via)
    for (const via of ['sequencer', 'replicaA', 'replicaB'] as const)
      assert.ok(byVia(via).length >= 10, `only ${byVia(via).length} transactions were sent via ${via}`)
    for (const method of ['eth_sendRawTransaction', 'eth_sendRawTransactionSync', 'realtime_sendRawTransaction'] as const) {
      assert.ok(
        sent.some((t) => t.via !== 'sequencer' && t.method === method),
        `no ${method} was sent to a replica`,
      )
    }
    for (const kind of ['eth', 'erc20', 'counter'] as const)
      assert.ok(
        sent.some((t) => t.kind === kind),
        `no ${kind} transaction was sent`,
      )

    type Receipt = { status: Hex; from: Address; blockNumber: Hex; blockHash: Hex | null; transactionHash: Hex }
    /** Receipts of `txs` at `url` once all are sealed there (one batch per poll). */
    const sealedReceipts = async (name: string, url: string, txs: readonly SentTx[]): Promise<Receipt[]> => {
      let missing: SentTx[] = []
      try {
        return await waitFor(
          `${name} to hold sealed receipts of all ${txs.length} transactions`,
          async () => {
            const answers = await batch(
              url,
              txs.map((t) => ['eth_getTransactionReceipt', [t.hash]] as const),
            )
            const receipts = answers.map((a) => a.result as Receipt | null)
            // Until its block is sealed a receipt carries a null or placeholder blockHash (the block number, zero-padded).
            missing = txs.filter(
              (_, i) => receipts[i] === null || receipts[i]!.blockHash === null || /^0x0{48}/.test(receipts[i]!.blockHash!),
            )
            return missing.length === 0 ? (receipts as Receipt[]) : undefined
          },
          20_000,
          200,
        )
      } catch (error) {
        throw new Error(
          `${error instanceof Error ? error.message : String(error)}; missing: ${missing
            .slice(0, 5)
            .map((t) => `${t.hash} (${t.kind} via ${t.via}, ${t.method})`)
            .join(', ')}${allLogs()}`,
        )
      }
    }
    const onSequencer = await sealedReceipts('the sequencer', sequencer.rpcUrl, sent)
    let last = 0n
    sent.forEach((tx, i) => {
      const receipt = onSequencer[i]!
      assert.equal(
        receipt.status,
        '0x1',
        `${tx.kind} ${tx.hash} sent via ${tx.via} (${tx.method}) failed on the sequencer: ${JSON.stringify(receipt)}`,
      )
      assert.equal(receipt.from.toLowerCase(), tx.from.toLowerCase(), `sender of ${tx.hash}`)
      assert.equal(receipt.transactionHash, tx.hash)
      if (BigInt(receipt.blockNumber) > last) last = BigInt(receipt.blockNumber)
    })
    for (const via of ['replicaA', 'replicaB'] as const) {
      const indexes = sent.flatMap((t, i) => (t.via === via ? [i] : []))
      const onReplica = await sealedReceipts(
        via,
        slot(via).handle.rpcUrl,
        indexes.map((i) => sent[i]!),
      )
      indexes.forEach((i, k) =>
        assert.deepEqual(
          onReplica[k],
          onSequencer[i],
          `receipt of ${sent[i]!.hash} (sent via ${via}, ${sent[i]!.method}) on ${via} vs the sequencer`,
        ),
      )
    }
    // Every block up to the last one with load was compared on both replicas.
    await waitChecked(last, 30_000)
    t.diagnostic(
      `${sent.length} transactions (${byVia('sequencer').length} to the sequencer, ${byVia('replicaA').length} via replica A, ${byVia('replicaB').length} via replica B) in blocks up to ${last}`,
    )
  })

  test('every node verifies every sealed block statelessly, with no failure', async () => {
    const last = await blockNumber(sequencer.rpcUrl)
    for (const s of slots.values()) {
      const info = await waitVerified(s.name, s.handle.rpcUrl, s.handle, last, 30_000)
      assert.ok(BigInt(info.head!.block) >= last, `${s.name} head ${info.head!.block} < ${last}`)
      const ready = await readyz(s.handle.rpcUrl)
      assert.equal(ready.status, 200, `${s.name} /readyz after the load: ${ready.body}`)
    }
    const metrics = await (await fetch(metricsUrlA)).text()
    // Samples carry the registry's default label (`{role="replica"}`).
    const gauge = (name: string): number | undefined => {
      const line = metrics.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
    }
    assert.ok(
      (gauge('megaeth_replica_verified_block') ?? 0) >= Number(last),
      `replica A metrics: megaeth_replica_verified_block ${gauge('megaeth_replica_verified_block')} < ${last}`,
    )
    assert.ok(
      !/^megaeth_replica_verification_failures_total\{[^}]*\} [1-9]/m.test(metrics),
      `replica A metrics count verification failures:\n${metrics
        .split('\n')
        .filter((l) => l.includes('failures'))
        .join('\n')}`,
    )
    // Replica A ran throughout, so it verified every block from 1 and every transaction of the load.
    assert.ok(
      (gauge('megaeth_replica_verified_blocks_total') ?? 0) >= Number(last),
      `replica A metrics: megaeth_replica_verified_blocks_total ${gauge('megaeth_replica_verified_blocks_total')} < ${last}`,
    )
    assert.ok(
      (gauge('megaeth_replica_verified_transactions_total') ?? 0) >= sent.length,
      `replica A metrics: megaeth_replica_verified_transactions_total ${gauge('megaeth_replica_verified_transactions_total')} < ${sent.length} transactions sent`,
    )
  })

  test('the validator verifies every block produced while it runs', async () => {
    const last = await blockNumber(sequencer.rpcUrl)
    assert.ok(validatorCheckpoint !== undefined, 'the validator checkpoint is known')
    assert.ok(
      last > validatorCheckpoint + 10n,
      `the load ran past the validator's checkpoint ${validatorCheckpoint} (head ${last})`,
    )
    const info = await waitVerified('validator', validator!.rpcUrl, validator!, last, 30_000)
    assert.ok(BigInt(info.verified!.block) > validatorCheckpoint)
    const served = await blockNumber(validator!.rpcUrl)
    assert.ok(served >= last, `the validator's eth_blockNumber (its verified block) is ${served}, below ${last}`)
    const ready = await readyz(validator!.rpcUrl)
    assert.equal(ready.status, 200, `validator /readyz: ${ready.body}`)
  })
})
