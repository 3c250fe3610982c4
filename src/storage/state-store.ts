import { setImmediate as nextTurn } from 'node:timers/promises'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'
import {
  CodecError,
  asBytes,
  asList,
  bytesToBigInt,
  encodeRlp,
  hexBytes,
  type RlpValue,
  unpaddedBytes,
} from '../primitives/rlp-fields.ts'
import type { Hex, StateDiff } from '../primitives/state-diff.ts'
import { FlatState } from '../state/flat-state.ts'
import { prefixEnd, type BatchOp, type NodeDb } from './db.ts'

const ACCOUNT = 0x61 // 'a' + address → RLP([nonce, balance, codeHash])
const SLOT = 0x73 // 's' + address + slot → value
const CODE = 0x63 // 'c' + codeHash → code
const ACCOUNTS_PER_TURN = 4096

/**
 * The durable flat state: the state as of the last sealed EVM block. Mini-blocks after it live in
 * the WAL and are replayed on start-up.
 */
export class StateStore {
  constructor(private readonly db: NodeDb) {}

  /** Batch operations that apply `diff`; async because wiping an account's storage must list its keys. */
  async diffOps(diff: StateDiff): Promise<BatchOp[]> {
    const ops: BatchOp[] = []
    for (const [hash, code] of diff.codes) ops.push(this.db.put('state', key(CODE, hexBytes(hash)), code))
    let accounts = 0
    for (const [address, change] of diff.accounts) {
      // A busy block changes tens of thousands of accounts: let the event loop in now and then.
      if (++accounts % ACCOUNTS_PER_TURN === 0) await nextTurn()
      const addr = hexBytes(address)
      if (change.account === null || change.storageCleared) {
        const prefix = key(SLOT, addr)
        for await (const [slotKey] of this.db.range('state', prefix, prefixEnd(prefix)))
          ops.push(this.db.del('state', Uint8Array.from(slotKey)))
      }
      if (change.account === null) {
        ops.push(this.db.del('state', key(ACCOUNT, addr)))
        continue
      }
      const { nonce, balance, codeHash } = change.account
      ops.push(this.db.put('state', key(ACCOUNT, addr), encodeRlp([unpaddedBytes(nonce), unpaddedBytes(balance), codeHash])))
      for (const [slot, value] of change.storage) {
        const slotKey = key(SLOT, addr, hexBytes(slot))
        ops.push(value.length === 0 ? this.db.del('state', slotKey) : this.db.put('state', slotKey, value))
      }
    }
    return ops
  }

  async isEmpty(): Promise<boolean> {
    for await (const _ of this.db.range('state', Uint8Array.of(0), Uint8Array.of(0xff))) return false
    return true
  }

  async load(): Promise<FlatState> {
    const state = new FlatState()
    for await (const [k, v] of this.db.range('state', Uint8Array.of(0), Uint8Array.of(0xff))) {
      const value = Uint8Array.from(v)
      switch (k[0]) {
        case ACCOUNT: {
          const [nonce, balance, codeHash] = asList(RLP.decode(value) as RlpValue, 3, 'stored account')
          state.accounts.set(hex(k.subarray(1)), {
            nonce: bytesToBigInt(asBytes(nonce, 'nonce')),
            balance: bytesToBigInt(asBytes(balance, 'balance')),
            codeHash: asBytes(codeHash, 'code hash', 32),
          })
          break
        }
        case SLOT: {
          const address = hex(k.subarray(1, 21))
          let slots = state.storage.get(address)
          if (slots === undefined) {
            slots = new Map()
            state.storage.set(address, slots)
          }
          slots.set(hex(k.subarray(21)), value)
          break
        }
        case CODE:
          state.codes.set(hex(k.subarray(1)), value)
          break
        default:
          throw new CodecError(`state store: unknown key tag ${k[0]}`)
      }
    }
    return state
  }
}

function key(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0))
  out[0] = tag
  let offset = 1
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

function hex(bytes: Uint8Array): Hex {
  return bytesToHex(bytes) as Hex
}
