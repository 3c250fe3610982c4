import { test } from 'node:test'
import assert from 'node:assert/strict'
import { KECCAK256_NULL } from '@ethereumjs/util'
import type { AccountDiff, Hex, StateDiff } from '../../src/primitives/state-diff.ts'
import { FlatState } from '../../src/state/flat-state.ts'
import { StateHistory, StateUnavailableError } from '../../src/state/state-history.ts'
import { rng } from '../helpers/rng.ts'

const ADDRESSES = Array.from({ length: 8 }, (_, i) => `0x${i.toString(16).padStart(40, '0')}` as Hex)
const SLOTS = Array.from({ length: 6 }, (_, i) => `0x${i.toString(16).padStart(64, '0')}` as Hex)

function randomDiff(next: () => number): StateDiff {
  const accounts = new Map<Hex, AccountDiff>()
  for (const address of ADDRESSES) {
    if (next() < 0.5) continue
    const roll = next()
    const storage = new Map<Hex, Uint8Array>()
    for (const slot of SLOTS)
      if (next() < 0.3) storage.set(slot, next() < 0.3 ? new Uint8Array(0) : Uint8Array.of(1 + Math.floor(next() * 200)))
    if (roll < 0.1) accounts.set(address, { account: null, storageCleared: true, storage: new Map() })
    else
      accounts.set(address, {
        account: { nonce: BigInt(Math.floor(next() * 10)), balance: BigInt(Math.floor(next() * 1e9)), codeHash: KECCAK256_NULL },
        storageCleared: roll < 0.2,
        storage,
      })
  }
  return { accounts, codes: new Map() }
}

function snapshot(state: FlatState): string {
  const out: string[] = []
  for (const address of ADDRESSES) {
    const a = state.getAccount(address)
    out.push(`${address}:${a === undefined ? '-' : `${a.nonce}/${a.balance}`}`)
    for (const slot of SLOTS) out.push(`${slot}=${Buffer.from(state.getStorage(address, slot)).toString('hex')}`)
  }
  return out.join(',')
}

function readAll(reader: {
  getAccount(a: Hex): { nonce: bigint; balance: bigint } | undefined
  getStorage(a: Hex, s: Hex): Uint8Array
}): string {
  return snapshot(reader as unknown as FlatState)
}

test('reads at any retained block equal the state that block ended with (random differential)', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const next = rng(seed).next
    const live = new FlatState()
    const history = new StateHistory(live, 0n, 16)
    const expected = new Map<bigint, string>([[0n, snapshot(live)]])
    const blocks = 5 + Math.floor(next() * 10)
    for (let b = 1n; b <= BigInt(blocks); b++) {
      const miniBlocks = 1 + Math.floor(next() * 4)
      for (let m = 0; m < miniBlocks; m++) history.apply(b, randomDiff(next))
      expected.set(b, snapshot(live))
    }
    for (const [block, state] of expected) assert.equal(readAll(history.at(block)), state, `seed ${seed}, block ${block}`)
  }
})

test('blocks older than the retention window are refused with a clear error', () => {
  const live = new FlatState()
  const history = new StateHistory(live, 0n, 4)
  for (let b = 1n; b <= 10n; b++) history.apply(b, { accounts: new Map(), codes: new Map() })
  assert.throws(
    () => history.at(2n),
    (e: unknown) => e instanceof StateUnavailableError && /retains the last 4 blocks/.test(e.message),
  )
  assert.doesNotThrow(() => history.at(7n))
})

test('a pinned state keeps reading what it read when pinned while later mini-blocks and blocks apply (random differential)', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const next = rng(seed).next
    const live = new FlatState()
    const history = new StateHistory(live, 0n, 16)
    const expectedAt = new Map<bigint, string>([[0n, snapshot(live)]])
    const pins: Array<{ reader: ReturnType<StateHistory['pin']>; expected: string; what: string }> = []
    for (let b = 1n; b <= 12n; b++) {
      const miniBlocks = 1 + Math.floor(next() * 4)
      for (let m = 0; m < miniBlocks; m++) {
        // Pins taken mid-block: of the live state, and of an earlier sealed block.
        if (next() < 0.4)
          pins.push({ reader: history.pin(), expected: snapshot(live), what: `live before mini-block ${m} of block ${b}` })
        if (next() < 0.3 && b > 1n) {
          const at = BigInt(Math.floor(next() * Number(b - 1n)))
          pins.push({ reader: history.pin(at), expected: expectedAt.get(at)!, what: `block ${at} pinned during block ${b}` })
        }
        history.apply(b, randomDiff(next))
      }
      expectedAt.set(b, snapshot(live))
    }
    for (const pin of pins) assert.equal(readAll(pin.reader), pin.expected, `seed ${seed}: ${pin.what}`)
    assert.equal(history.pinCount, pins.length)
    for (const pin of pins) pin.reader.release()
    assert.equal(history.pinCount, 0, 'released pins stop recording')
  }
})

test('storageAt: an account’s whole storage at any retained block equals the storage that block ended with', () => {
  const slotsOf = (state: FlatState, address: Hex): string =>
    [...(state.storage.get(address) ?? new Map<Hex, Uint8Array>())]
      .filter(([, value]) => value.length > 0)
      .map(([slot, value]) => `${slot}=${Buffer.from(value).toString('hex')}`)
      .sort()
      .join(',')
  const fromHistory = (slots: Map<Hex, Uint8Array>): string =>
    [...slots]
      .map(([slot, value]) => `${slot}=${Buffer.from(value).toString('hex')}`)
      .sort()
      .join(',')
  for (let seed = 1; seed <= 200; seed++) {
    const next = rng(seed).next
    const live = new FlatState()
    const history = new StateHistory(live, 0n, 16)
    const expected = new Map<bigint, string[]>([[0n, ADDRESSES.map((a) => slotsOf(live, a))]])
    const blocks = 5 + Math.floor(next() * 10)
    for (let b = 1n; b <= BigInt(blocks); b++) {
      const miniBlocks = 1 + Math.floor(next() * 4)
      for (let m = 0; m < miniBlocks; m++) history.apply(b, randomDiff(next))
      expected.set(
        b,
        ADDRESSES.map((a) => slotsOf(live, a)),
      )
    }
    for (const [block, perAddress] of expected)
      ADDRESSES.forEach((address, i) =>
        assert.equal(fromHistory(history.storageAt(block, address)), perAddress[i], `seed ${seed}, block ${block}, ${address}`),
      )
  }
})
