// run-tests: alone — asserts a bound on how long a pick takes
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { createTx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { createChainCommon } from '../../src/chain/config.ts'
import { privateKeyToAddress } from '../../src/crypto/native.ts'
import { TxRejectedError, decodeRawTransaction, type DecodedTx } from '../../src/sequencer/ingest/index.ts'
import {
  DEFAULT_TXPOOL_OPTIONS,
  TxPool,
  type DroppedTx,
  type PoolStateReader,
  type TxPoolOptions,
} from '../../src/sequencer/txpool/index.ts'
import { rng } from '../helpers/rng.ts'

const GWEI = 1_000_000_000n
const ETH = 10n ** 18n
const A = `0x${'aa'.repeat(20)}` as Hex
const B = `0x${'bb'.repeat(20)}` as Hex
const C = `0x${'cc'.repeat(20)}` as Hex
const D = `0x${'dd'.repeat(20)}` as Hex

class FakeState implements PoolStateReader {
  readonly nonces = new Map<Hex, bigint>()
  readonly balances = new Map<Hex, bigint>()
  getNonce(sender: Hex): bigint {
    return this.nonces.get(sender) ?? 0n
  }
  getBalance(sender: Hex): bigint {
    return this.balances.get(sender) ?? ETH
  }
}

let counter = 0
interface TxSpec {
  sender?: Hex
  nonce?: bigint
  maxFee?: bigint
  tip?: bigint
  gasLimit?: bigint
  value?: bigint
  size?: number
}

/** A DecodedTx without an ethereumjs object or a commit header: the pool must never need either. */
function mkTx(spec: TxSpec = {}): DecodedTx {
  const id = (++counter).toString(16).padStart(64, '0')
  return {
    hash: `0x${id}`,
    raw: new Uint8Array(0),
    transfer: undefined,
    sender: spec.sender ?? A,
    nonce: spec.nonce ?? 0n,
    gasLimit: spec.gasLimit ?? 21_000n,
    maxFeePerGas: spec.maxFee ?? 10n * GWEI,
    maxPriorityFeePerGas: spec.tip ?? GWEI,
    value: spec.value ?? 0n,
    size: spec.size ?? 110,
    type: 2,
    get tx(): never {
      throw new Error('the pool must not build ethereumjs txs')
    },
    get header(): never {
      throw new Error('the pool must not read the commit header')
    },
  }
}

function setup(options: Partial<TxPoolOptions> = {}, baseFee = GWEI): { pool: TxPool; state: FakeState; clock: { now: number } } {
  const state = new FakeState()
  const clock = { now: 1_000_000 }
  const pool = new TxPool({ state, baseFee, options, now: () => clock.now })
  return { pool, state, clock }
}

function rejects(fn: () => unknown, message: string, reason: TxRejectedError['code']): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TxRejectedError, String(err))
    assert.equal(err.message, message)
    assert.equal(err.code, reason)
    return true
  })
}

const pickAll = (pool: TxPool, baseFee = GWEI): DecodedTx[] => pool.pick({ maxCount: 1_000_000, maxGas: 10n ** 12n, baseFee })
const hashes = (txs: readonly DecodedTx[]): Hex[] => txs.map((t) => t.hash)

describe('TxPool admission', () => {
  test('defaults', () => {
    assert.deepEqual(
      { ...DEFAULT_TXPOOL_OPTIONS },
      {
        maxTotal: 50_000,
        maxPerSender: 1_000,
        maxNonceGap: 64,
        priceBumpPercent: 10,
        lifetimeMs: 3 * 3600_000,
        maxTxBytes: 128 * 1024,
      },
    )
  })

  test('a tx at the state nonce is pending, a gapped one queued until the gap fills', () => {
    const { pool, state } = setup()
    state.nonces.set(A, 5n)
    const pendingEvents: Hex[] = []
    pool.onPendingTx((tx) => pendingEvents.push(tx.hash))
    const t5 = mkTx({ nonce: 5n })
    const t7 = mkTx({ nonce: 7n })
    const t8 = mkTx({ nonce: 8n })
    const t6 = mkTx({ nonce: 6n })
    assert.deepEqual(pool.add(t5), { status: 'pending' })
    assert.deepEqual(pool.add(t7), { status: 'queued' })
    assert.deepEqual(pool.add(t8), { status: 'queued' })
    assert.deepEqual(pool.size(), { pending: 1, queued: 2 })
    assert.equal(pool.pendingNonce(A), 6n)
    assert.deepEqual(hashes(pickAll(pool)), [t5.hash])
    assert.deepEqual(pool.add(t6), { status: 'pending' })
    assert.deepEqual(pool.size(), { pending: 4, queued: 0 })
    assert.equal(pool.pendingNonce(A), 9n)
    assert.deepEqual(pendingEvents, [t5.hash, t6.hash, t7.hash, t8.hash])
    assert.deepEqual(hashes(pickAll(pool)), [t5.hash, t6.hash, t7.hash, t8.hash])
  })

  test('lookups', () => {
    const { pool, state } = setup()
    state.nonces.set(B, 3n)
    const tx = mkTx()
    pool.add(tx)
    assert.equal(pool.get(tx.hash), tx)
    assert.equal(pool.get(tx.hash.toUpperCase().replace('0X', '0x') as Hex), tx)
    assert.ok(pool.has(tx.hash))
    assert.equal(pool.get(`0x${'00'.repeat(32)}`), undefined)
    assert.equal(pool.pendingNonce(B), 3n, 'unknown sender: the state nonce')
    assert.equal(pool.pendingNonce(A.toUpperCase().replace('0X', '0x') as Hex), 1n)
  })

  test('already known', () => {
    const { pool } = setup()
    const tx = mkTx()
    pool.add(tx)
    rejects(() => pool.add(tx), 'already known', 'already-known')
  })

  test('nonce too low / nonce too high', () => {
    const { pool, state } = setup()
    state.nonces.set(A, 10n)
    rejects(() => pool.add(mkTx({ nonce: 9n })), 'nonce too low: next nonce 10, tx nonce 9', 'nonce-too-low')
    pool.add(mkTx({ nonce: 10n }))
    pool.add(mkTx({ nonce: 11n }))
    // The gap counts from the pending nonce (12), so a long contiguous run is never "too high".
    assert.equal(pool.add(mkTx({ nonce: 12n + 64n })).status, 'queued')
    rejects(() => pool.add(mkTx({ nonce: 12n + 65n })), 'nonce too high', 'nonce-too-high')
  })

  test('insufficient funds: gas * fee cap + value against the current balance', () => {
    const { pool, state } = setup()
    state.balances.set(A, 21_000n * 10n * GWEI + 5n)
    rejects(
      () => pool.add(mkTx({ value: 6n })),
      `insufficient funds for gas * price + value: balance ${21_000n * 10n * GWEI + 5n}, tx cost ${21_000n * 10n * GWEI + 6n}`,
      'insufficient-funds',
    )
    assert.equal(pool.add(mkTx({ value: 5n })).status, 'pending')
  })

  test('fee cap below the base fee is refused, not queued', () => {
    const { pool } = setup({}, 7n * GWEI)
    rejects(
      () => pool.add(mkTx({ maxFee: 7n * GWEI - 1n, tip: 1n })),
      `max fee per gas less than block base fee: address ${A}, maxFeePerGas: ${7n * GWEI - 1n}, baseFee: ${7n * GWEI}`,
      'fee-cap-below-base-fee',
    )
    assert.equal(pool.add(mkTx({ maxFee: 7n * GWEI, tip: 1n })).status, 'pending')
    pool.setBaseFee(8n * GWEI)
    assert.equal(pool.baseFee, 8n * GWEI)
    assert.throws(() => pool.add(mkTx({ nonce: 1n, maxFee: 7n * GWEI })), /less than block base fee/)
  })

  test('oversized', () => {
    const { pool } = setup({ maxTxBytes: 1000 })
    rejects(() => pool.add(mkTx({ size: 1001 })), 'oversized data: transaction size 1001, limit 1000', 'oversized')
  })

  test('replacement needs both fee cap and tip bumped by the price bump', () => {
    const { pool } = setup()
    const dropped: DroppedTx[] = []
    pool.onDroppedTx((d) => dropped.push(d))
    const original = mkTx({ maxFee: 100n * GWEI, tip: 10n * GWEI })
    pool.add(original)
    for (const [maxFee, tip] of [
      [100n * GWEI, 10n * GWEI], // same price, different hash
      [109n * GWEI, 11n * GWEI], // fee cap +9%
      [110n * GWEI, 10n * GWEI], // tip not raised
      [200n * GWEI, 10n * GWEI + 1n], // tip +0.00000001%
    ] as const) {
      rejects(() => pool.add(mkTx({ maxFee, tip })), 'replacement transaction underpriced', 'replacement-underpriced')
    }
    assert.equal(pool.get(original.hash), original)
    const replacement = mkTx({ maxFee: 110n * GWEI, tip: 11n * GWEI }) // exactly +10%
    assert.deepEqual(pool.add(replacement), { status: 'pending', replaced: original.hash })
    assert.equal(pool.has(original.hash), false)
    assert.deepEqual(hashes(pickAll(pool)), [replacement.hash])
    assert.deepEqual(pool.size(), { pending: 1, queued: 0 })
    assert.deepEqual(
      dropped.map((d) => [d.hash, d.reason]),
      [[original.hash, 'replaced']],
    )
  })

  test('replacing a queued tx keeps it queued', () => {
    const { pool } = setup()
    const queued = mkTx({ nonce: 3n })
    pool.add(queued)
    const replacement = mkTx({ nonce: 3n, maxFee: 20n * GWEI, tip: 2n * GWEI })
    assert.deepEqual(pool.add(replacement), { status: 'queued', replaced: queued.hash })
    assert.deepEqual(pool.size(), { pending: 0, queued: 1 })
  })

  test('per-sender cap', () => {
    const { pool } = setup({ maxPerSender: 3 })
    for (let n = 0n; n < 3n; n++) pool.add(mkTx({ nonce: n }))
    rejects(() => pool.add(mkTx({ nonce: 3n })), 'account limit exceeded', 'account-limit')
    // A replacement does not add a tx, so it is allowed at the cap; other senders are unaffected.
    assert.ok(pool.add(mkTx({ nonce: 1n, maxFee: 20n * GWEI, tip: 2n * GWEI })).replaced)
    assert.equal(pool.add(mkTx({ sender: B })).status, 'pending')
  })

  test('a full pool evicts the cheapest queued tx of another sender for a better-paying tx', () => {
    const { pool } = setup({ maxTotal: 3 })
    const dropped: DroppedTx[] = []
    pool.onDroppedTx((d) => dropped.push(d))
    pool.add(mkTx({ sender: A, nonce: 0n, tip: 2n * GWEI }))
    const cheapQueued = mkTx({ sender: B, nonce: 5n, tip: 1n })
    const queued = mkTx({ sender: B, nonce: 6n, tip: 3n * GWEI })
    pool.add(cheapQueued)
    pool.add(queued)
    rejects(() => pool.add(mkTx({ sender: C, tip: 1n })), 'txpool is full', 'pool-full')
    rejects(() => pool.add(mkTx({ sender: B, nonce: 0n, tip: 9n * GWEI })), 'txpool is full', 'pool-full') // B's own queued tx is not evicted for B
    const newcomer = mkTx({ sender: C, tip: 2n })
    assert.equal(pool.add(newcomer).status, 'pending')
    assert.equal(pool.has(cheapQueued.hash), false)
    assert.deepEqual(
      dropped.map((d) => [d.hash, d.reason]),
      [[cheapQueued.hash, 'evicted']],
    )
    // Pending txs are never evicted: only `queued` (tip 3 gwei) is left to evict.
    rejects(() => pool.add(mkTx({ sender: D, tip: 3n * GWEI })), 'txpool is full', 'pool-full')
    pool.add(mkTx({ sender: D, tip: 4n * GWEI }))
    assert.equal(pool.has(queued.hash), false)
    assert.deepEqual(pool.size(), { pending: 3, queued: 0 })
    rejects(() => pool.add(mkTx({ sender: B, nonce: 0n, tip: 100n * GWEI })), 'txpool is full', 'pool-full')
  })
})

describe('TxPool.pick', () => {
  test('per-sender nonce order, highest effective tip first across senders', () => {
    const { pool } = setup()
    const a0 = mkTx({ sender: A, nonce: 0n, tip: 1n * GWEI })
    const a1 = mkTx({ sender: A, nonce: 1n, tip: 9n * GWEI })
    const a2 = mkTx({ sender: A, nonce: 2n, tip: 5n * GWEI })
    const b0 = mkTx({ sender: B, nonce: 0n, tip: 3n * GWEI })
    const b1 = mkTx({ sender: B, nonce: 1n, tip: 2n * GWEI })
    // Fee cap only 0.5 gwei above the base fee: effective tip 0.5 gwei despite a 50 gwei tip.
    const c0 = mkTx({ sender: C, nonce: 0n, maxFee: GWEI + GWEI / 2n, tip: 50n * GWEI })
    for (const tx of [a2, a1, a0, b1, b0, c0]) pool.add(tx)
    assert.deepEqual(
      hashes(pickAll(pool)),
      [b0, b1, a0, a1, a2, c0].map((t) => t.hash),
    )
    // Non-destructive, and repeatable.
    assert.deepEqual(
      hashes(pickAll(pool)),
      [b0, b1, a0, a1, a2, c0].map((t) => t.hash),
    )
    assert.deepEqual(pool.size(), { pending: 6, queued: 0 })
  })

  test('equal tips go first come, first served', () => {
    const { pool } = setup()
    const txs = [C, A, D, B].map((sender) => mkTx({ sender }))
    for (const tx of txs) pool.add(tx)
    assert.deepEqual(hashes(pickAll(pool)), hashes(txs))
  })

  test('skips txs that cannot pay the base fee, and the sender txs behind them; they stay', () => {
    const { pool } = setup()
    const a0 = mkTx({ sender: A, nonce: 0n, maxFee: 2n * GWEI })
    const a1 = mkTx({ sender: A, nonce: 1n, maxFee: 20n * GWEI })
    const b0 = mkTx({ sender: B, nonce: 0n, maxFee: 20n * GWEI })
    const b1 = mkTx({ sender: B, nonce: 1n, maxFee: 2n * GWEI })
    for (const tx of [a0, a1, b0, b1]) pool.add(tx)
    assert.deepEqual(hashes(pickAll(pool, 3n * GWEI)), [b0.hash])
    assert.deepEqual(pool.size(), { pending: 4, queued: 0 })
    // Base fee back down: the order is recomputed.
    assert.deepEqual(
      hashes(pickAll(pool, GWEI)),
      [a0, a1, b0, b1].map((t) => t.hash),
    )
  })

  test('base fee changes re-rank senders by effective tip', () => {
    const { pool } = setup({}, 0n)
    const a = mkTx({ sender: A, maxFee: 12n * GWEI, tip: 10n * GWEI }) // eff. tip at 5 gwei: 7
    const b = mkTx({ sender: B, maxFee: 100n * GWEI, tip: 8n * GWEI }) // eff. tip at 5 gwei: 8
    pool.add(a)
    pool.add(b)
    assert.deepEqual(hashes(pickAll(pool, 0n)), [a.hash, b.hash])
    assert.deepEqual(hashes(pickAll(pool, 5n * GWEI)), [b.hash, a.hash])
  })

  test('maxCount and maxGas', () => {
    const { pool } = setup()
    const a0 = mkTx({ sender: A, nonce: 0n, tip: 9n * GWEI, gasLimit: 500_000n })
    const a1 = mkTx({ sender: A, nonce: 1n, tip: 9n * GWEI })
    const b0 = mkTx({ sender: B, nonce: 0n, tip: 5n * GWEI })
    const b1 = mkTx({ sender: B, nonce: 1n, tip: 5n * GWEI })
    const c0 = mkTx({ sender: C, nonce: 0n, tip: 1n * GWEI })
    for (const tx of [a0, a1, b0, b1, c0]) pool.add(tx)
    assert.deepEqual(hashes(pool.pick({ maxCount: 2, maxGas: 10n ** 9n, baseFee: GWEI })), [a0.hash, a1.hash])
    // a0 does not fit, so A sits out (a1 cannot go before a0); B and C fill the block.
    assert.deepEqual(hashes(pool.pick({ maxCount: 10, maxGas: 100_000n, baseFee: GWEI })), [b0.hash, b1.hash, c0.hash])
    assert.deepEqual(hashes(pool.pick({ maxCount: 10, maxGas: 41_999n, baseFee: GWEI })), [b0.hash])
    assert.deepEqual(pool.pick({ maxCount: 0, maxGas: 10n ** 9n, baseFee: GWEI }), [])
  })

  test('queued txs are never picked', () => {
    const { pool } = setup()
    pool.add(mkTx({ nonce: 1n }))
    assert.deepEqual(pickAll(pool), [])
  })

  test('picks 1,000 of 10,000 pending txs from 2,000 senders quickly', () => {
    const { pool } = setup({ maxTotal: 20_000 })
    for (let s = 0; s < 2000; s++) {
      const sender = `0x${s.toString(16).padStart(40, '0')}` as Hex
      for (let n = 0n; n < 5n; n++) pool.add(mkTx({ sender, nonce: n, tip: (BigInt((s * 7919) % 1000) * GWEI) / 100n + n }))
    }
    pickAll(pool, GWEI) // warm up
    // CPU time, not wall time: the test machine may be shared.
    const started = process.cpuUsage()
    let picked: DecodedTx[] = []
    for (let i = 0; i < 20; i++) picked = pool.pick({ maxCount: 1000, maxGas: 10n ** 12n, baseFee: GWEI })
    const ms = process.cpuUsage(started).user / 1000 / 20
    assert.equal(picked.length, 1000)
    // Per-sender nonce order holds in the result.
    const lastNonce = new Map<Hex, bigint>()
    for (const tx of picked) {
      assert.equal(tx.nonce, (lastNonce.get(tx.sender) ?? -1n) + 1n)
      lastNonce.set(tx.sender, tx.nonce)
    }
    assert.ok(ms < 25, `pick took ${ms.toFixed(2)} ms`)
  })
})

describe('TxPool state changes', () => {
  test('markIncluded drops included txs, advances the nonce even if state lags, and promotes', () => {
    const { pool, state } = setup()
    const events: Hex[] = []
    const a0 = mkTx({ nonce: 0n })
    const a1 = mkTx({ nonce: 1n })
    const a3 = mkTx({ nonce: 3n })
    for (const tx of [a0, a1, a3]) pool.add(tx)
    pool.onPendingTx((tx) => events.push(tx.hash))
    const dropped: DroppedTx[] = []
    pool.onDroppedTx((d) => dropped.push(d))

    pool.markIncluded([a0]) // the state reader still says nonce 0
    assert.equal(pool.has(a0.hash), false)
    assert.equal(pool.pendingNonce(A), 2n)
    assert.deepEqual(hashes(pickAll(pool)), [a1.hash])

    // a1 and a nonce-2 tx that never was in the pool get included: a3 becomes executable.
    state.nonces.set(A, 3n)
    pool.markIncluded([a1])
    assert.deepEqual(events, [a3.hash])
    assert.deepEqual(hashes(pickAll(pool)), [a3.hash])
    assert.deepEqual(pool.size(), { pending: 1, queued: 0 })
    assert.deepEqual(dropped, [], 'inclusion is not a drop')
  })

  test('onStateChanged drops stale txs and promotes queued ones', () => {
    const { pool, state } = setup()
    const events: Hex[] = []
    pool.onPendingTx((tx) => events.push(tx.hash))
    const dropped: DroppedTx[] = []
    pool.onDroppedTx((d) => dropped.push(d))
    const a0 = mkTx({ nonce: 0n })
    const a2 = mkTx({ nonce: 2n })
    const b0 = mkTx({ sender: B })
    for (const tx of [a0, a2, b0]) pool.add(tx)
    state.nonces.set(A, 2n)
    state.nonces.set(B, 1n)
    pool.onStateChanged([A])
    assert.equal(pool.has(a0.hash), false)
    assert.equal(pool.has(b0.hash), true, 'B was not reported as changed')
    assert.deepEqual(events, [a0.hash, b0.hash, a2.hash])
    assert.deepEqual(
      dropped.map((d) => [d.hash, d.reason]),
      [[a0.hash, 'stale']],
    )
    pool.onStateChanged()
    assert.equal(pool.has(b0.hash), false)
    assert.deepEqual(hashes(pickAll(pool)), [a2.hash])
  })

  test('a balance drop removes the first unaffordable tx and queues the ones behind it', () => {
    const { pool, state } = setup()
    const txs = [0n, 1n, 2n].map((nonce) => mkTx({ nonce, value: nonce === 1n ? ETH / 2n : 0n }))
    for (const tx of txs) pool.add(tx)
    state.balances.set(A, ETH / 4n)
    const dropped: DroppedTx[] = []
    pool.onDroppedTx((d) => dropped.push(d))
    pool.onStateChanged([A])
    assert.deepEqual(
      dropped.map((d) => [d.hash, d.reason]),
      [[txs[1]!.hash, 'unaffordable']],
    )
    assert.deepEqual(pool.size(), { pending: 1, queued: 1 })
    assert.equal(pool.pendingNonce(A), 1n)
  })

  test('a nonce that went backwards (rolled-back mini-block) is followed', () => {
    const { pool, state } = setup()
    state.nonces.set(A, 3n)
    const a3 = mkTx({ nonce: 3n })
    pool.add(a3)
    state.nonces.set(A, 2n)
    pool.onStateChanged([A])
    assert.deepEqual(pool.size(), { pending: 0, queued: 1 })
    assert.equal(pool.pendingNonce(A), 2n)
    assert.deepEqual(pickAll(pool), [])
  })

  test('markFailed drops the tx and queues the sender txs behind the gap until it is refilled', () => {
    const { pool } = setup()
    const txs = [0n, 1n, 2n, 3n].map((nonce) => mkTx({ nonce }))
    for (const tx of txs) pool.add(tx)
    const dropped: DroppedTx[] = []
    pool.onDroppedTx((d) => dropped.push(d))
    assert.equal(pool.markFailed(txs[1]!.hash, 'out of gas for intrinsic'), true)
    assert.equal(pool.markFailed(txs[1]!.hash, 'again'), false)
    assert.deepEqual(dropped, [
      { hash: txs[1]!.hash, sender: A, nonce: 1n, reason: 'failed', detail: 'out of gas for intrinsic' },
    ])
    assert.deepEqual(pool.size(), { pending: 1, queued: 2 })
    assert.equal(pool.pendingNonce(A), 1n)
    assert.deepEqual(hashes(pickAll(pool)), [txs[0]!.hash])
    const refill = mkTx({ nonce: 1n })
    assert.equal(pool.add(refill).status, 'pending')
    assert.deepEqual(hashes(pickAll(pool)), [txs[0]!.hash, refill.hash, txs[2]!.hash, txs[3]!.hash])
  })

  test('prune drops queued txs older than the lifetime, never pending ones', () => {
    const { pool, clock } = setup({ lifetimeMs: 60_000 })
    const pending = mkTx({ nonce: 0n })
    const oldQueued = mkTx({ nonce: 5n })
    pool.add(pending)
    pool.add(oldQueued)
    clock.now += 30_000
    const newQueued = mkTx({ nonce: 7n })
    pool.add(newQueued)
    assert.equal(pool.prune(clock.now + 29_999), 0)
    const dropped: DroppedTx[] = []
    pool.onDroppedTx((d) => dropped.push(d))
    assert.equal(pool.prune(clock.now + 30_000), 1)
    assert.deepEqual(
      dropped.map((d) => [d.hash, d.reason]),
      [[oldQueued.hash, 'expired']],
    )
    assert.equal(pool.prune(clock.now + 10 * 60_000), 1)
    assert.deepEqual(pool.size(), { pending: 1, queued: 0 })
    assert.equal(pool.has(pending.hash), true)
  })

  test('content() groups txs per sender in nonce order', () => {
    const { pool } = setup()
    const a1 = mkTx({ nonce: 1n })
    const a0 = mkTx({ nonce: 0n })
    const a5 = mkTx({ nonce: 5n })
    const b2 = mkTx({ sender: B, nonce: 2n })
    for (const tx of [a1, a0, a5, b2]) pool.add(tx)
    const content = pool.content()
    assert.deepEqual(
      [...content.pending.entries()].map(([k, v]) => [k, hashes(v)]),
      [[A, [a0.hash, a1.hash]]],
    )
    assert.deepEqual(
      [...content.queued.entries()].map(([k, v]) => [k, hashes(v)]),
      [
        [A, [a5.hash]],
        [B, [b2.hash]],
      ],
    )
  })

  test('a throwing listener does not break the pool', () => {
    const errors: unknown[] = []
    const pool = new TxPool({ state: new FakeState(), baseFee: GWEI, onListenerError: (err) => errors.push(err) })
    const unsubscribe = pool.onPendingTx(() => {
      throw new Error('boom')
    })
    const tx = mkTx()
    assert.equal(pool.add(tx).status, 'pending')
    assert.equal(errors.length, 1)
    unsubscribe()
    pool.add(mkTx({ nonce: 1n }))
    assert.equal(errors.length, 1)
  })
})

describe('TxPool with decoded txs', () => {
  test('real signed txs flow from the decoder through the pool', () => {
    const common = createChainCommon({ chainId: 6342n, name: 'test' })
    const key = hexToBytes(`0x${'42'.repeat(32)}`)
    const sender = bytesToHex(privateKeyToAddress(key)) as Hex
    const state = new FakeState()
    const pool = new TxPool({ state, baseFee: GWEI })
    const decoded = [2n, 0n, 1n].map((nonce) =>
      decodeRawTransaction(
        createTx(
          { type: 2, nonce, maxFeePerGas: 2n * GWEI, maxPriorityFeePerGas: GWEI, gasLimit: 21_000n, to: `0x${'01'.repeat(20)}` },
          { common },
        )
          .sign(key)
          .serialize(),
        common,
        { blockGasLimit: 30_000_000n },
      ),
    )
    assert.deepEqual(
      decoded.map((tx) => pool.add(tx).status),
      ['queued', 'pending', 'pending'],
    )
    const picked = pickAll(pool)
    assert.deepEqual(
      picked.map((tx) => tx.nonce),
      [0n, 1n, 2n],
    )
    assert.ok(picked.every((tx) => tx.sender === sender && tx.tx.getSenderAddress().toString() === sender))
    rejects(() => pool.add(decoded[0]!), 'already known', 'already-known')
    pool.markIncluded(picked)
    assert.deepEqual(pool.size(), { pending: 0, queued: 0 })
    state.nonces.set(sender, 3n)
    rejects(() => pool.add(decoded[1]!), 'nonce too low: next nonce 3, tx nonce 0', 'nonce-too-low')
  })
})

describe('TxPool invariants under random operations', () => {
  /** The order `pick` must produce, by brute force over sender heads (tips are unique). */
  function referencePick(pool: TxPool, baseFee: bigint, maxCount = Infinity, maxGas = 10n ** 12n): Hex[] {
    let runs = [...pool.content().pending.values()].map((txs) => [...txs])
    const out: Hex[] = []
    let gasLeft = maxGas
    while (out.length < maxCount && gasLeft >= 21_000n) {
      let best: DecodedTx[] | undefined
      let bestTip = -1n
      for (const run of runs) {
        const head = run[0]
        if (head === undefined) continue
        const headroom = head.maxFeePerGas - baseFee
        const tip = head.maxPriorityFeePerGas < headroom ? head.maxPriorityFeePerGas : headroom
        if (tip > bestTip) {
          bestTip = tip
          best = run
        }
      }
      if (best === undefined || bestTip < 0n) return out
      const head = best[0]!
      if (head.gasLimit > gasLeft) {
        runs = runs.filter((run) => run !== best)
        continue
      }
      gasLeft -= head.gasLimit
      out.push(best.shift()!.hash)
    }
    return out
  }

  test('pending runs stay contiguous, counts agree, pick matches a brute-force order', () => {
    const random = rng(7).next
    const senders = [A, B, C, D]
    const { pool, state, clock } = setup({ maxTotal: 40, maxPerSender: 15, maxNonceGap: 4, lifetimeMs: 1000 })
    let tipSeq = 0n
    let added = 0
    let pickedTotal = 0
    const reasons = new Set<string>()
    const live = (): DecodedTx[] => [...pool.content().pending.values(), ...pool.content().queued.values()].flat()
    for (let step = 0; step < 3000; step++) {
      const sender = senders[Math.floor(random() * senders.length)]!
      const op = random()
      if (op < 0.6) {
        const nonce = state.getNonce(sender) + BigInt(Math.floor(random() * 8)) - 1n
        // Unique tips (tie-free reference order); fee caps straddle the base fees used below.
        const tip = ++tipSeq * 1000n + BigInt(Math.floor(random() * 1000))
        try {
          const gasLimit = 21_000n + BigInt(Math.floor(random() * 4)) * 50_000n
          pool.add(mkTx({ sender, nonce, tip, gasLimit, maxFee: tip + BigInt(Math.floor(random() * 3)) * GWEI }))
          added++
        } catch (err) {
          assert.ok(err instanceof TxRejectedError, String(err))
          reasons.add(err.code)
        }
      } else if (op < 0.75) {
        const picked = pool.pick({ maxCount: 1 + Math.floor(random() * 5), maxGas: 10n ** 9n, baseFee: GWEI })
        pickedTotal += picked.length
        pool.markIncluded(picked.filter(() => random() < 0.8))
        if (random() < 0.3)
          for (const tx of picked) if (tx.nonce >= state.getNonce(tx.sender)) state.nonces.set(tx.sender, tx.nonce + 1n)
      } else if (op < 0.82) {
        const victims = live()
        if (victims.length > 0) pool.markFailed(victims[Math.floor(random() * victims.length)]!.hash, 'test')
      } else if (op < 0.9) {
        state.nonces.set(sender, state.getNonce(sender) + BigInt(Math.floor(random() * 3)))
        pool.onStateChanged(random() < 0.5 ? [sender] : undefined)
      } else if (op < 0.95) {
        clock.now += Math.floor(random() * 600)
        pool.prune()
      } else {
        state.balances.set(sender, random() < 0.5 ? ETH : 30n * GWEI * 21_000n)
        pool.onStateChanged([sender])
      }

      const content = pool.content()
      let pendingCount = 0
      let queuedCount = 0
      for (const [address, txs] of content.pending) {
        pendingCount += txs.length
        txs.forEach((tx, i) =>
          assert.equal(tx.nonce, txs[0]!.nonce + BigInt(i), `step ${step}: pending run of ${address} not contiguous`),
        )
        assert.equal(pool.pendingNonce(address), txs.at(-1)!.nonce + 1n, `step ${step}: pendingNonce`)
      }
      for (const [address, txs] of content.queued) {
        queuedCount += txs.length
        const pendingNonce = pool.pendingNonce(address)
        for (const tx of txs) assert.ok(tx.nonce > pendingNonce, `step ${step}: queued tx at or below the pending nonce`)
        assert.equal(
          content.pending.get(address)?.[0]?.nonce ?? pendingNonce,
          pendingNonce - BigInt(content.pending.get(address)?.length ?? 0),
        )
      }
      assert.deepEqual(pool.size(), { pending: pendingCount, queued: queuedCount }, `step ${step}: size`)
      assert.ok(pendingCount + queuedCount <= 40)
      for (const tx of live()) assert.equal(pool.get(tx.hash), tx)
      if (step % 10 === 0) {
        for (const baseFee of [0n, GWEI, 2n * GWEI]) {
          assert.deepEqual(
            hashes(pickAll(pool, baseFee)),
            referencePick(pool, baseFee),
            `step ${step}: pick order at base fee ${baseFee}`,
          )
          const maxCount = 1 + Math.floor(random() * 10)
          const maxGas = BigInt(Math.floor(random() * 400_000))
          assert.deepEqual(
            hashes(pool.pick({ maxCount, maxGas, baseFee })),
            referencePick(pool, baseFee, maxCount, maxGas),
            `step ${step}: bounded pick`,
          )
        }
      }
    }
    // The walk exercised the interesting paths.
    assert.ok(added > 400 && pickedTotal > 200, `added ${added}, picked ${pickedTotal}`)
    for (const reason of ['nonce-too-low', 'nonce-too-high', 'replacement-underpriced', 'fee-cap-below-base-fee'])
      assert.ok(reasons.has(reason), `never saw ${reason}: ${[...reasons].join(', ')}`)
  })
})
