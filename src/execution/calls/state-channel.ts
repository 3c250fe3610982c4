/**
 * Synchronous state reads from a call worker to the main thread, where the state lives.
 *
 * The executor's `StateReader` is synchronous (the EVM reads through a journaled overlay), so the
 * worker posts a request on a dedicated `MessagePort`, sleeps on a shared flag with `Atomics.wait`,
 * and takes the reply with `receiveMessageOnPort` (no event-loop turn on the worker side). The main
 * thread answers from the call's pinned state in its ordinary message handler: one map lookup per read.
 * Each read costs the main thread one message; calls are read-light (an ERC-20 `balanceOf` reads
 * about four keys), and the worker caches what it read for the rest of the call.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import { bytesToHex } from '@ethereumjs/util'
import type { AccountState, Hex } from '../../primitives/state-diff.ts'
import type { StateReader } from '../../state/state-reader.ts'
import type { BlockHashLookup } from '../vm-factory.ts'

/** Index in the shared signal: set to 1 (and notified) when a reply is posted. */
const REPLY = 0
/** Index in the shared signal: the id of the call the main thread aborted. */
const ABORTED = 1
/** A safety net only: replies wake the worker at once. */
const WAIT_SLICE_MS = 100
/** Code is content-addressed, so it stays valid across calls; bounded so a worker cannot grow without limit. */
const CODE_CACHE_ENTRIES = 512

export function createCallSignal(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT))
}

type StateQuery =
  | { op: 'account'; address: Hex }
  | { op: 'storage'; address: Hex; slot: Hex }
  | { op: 'hasStorage'; address: Hex }
  | { op: 'code'; codeHash: Hex }
  | { op: 'blockHash'; number: bigint }

type StateRequest = StateQuery & { seq: number; call: number }
type StateValue = AccountState | Uint8Array | boolean | undefined
type StateReply = { seq: number; aborted: false; value: StateValue } | { seq: number; aborted: true }

/**
 * Reads every call makes, sent with the task (the caller's and callee's accounts, the callee's code, the
 * fee recipient's account): each read over the channel waits for a main-thread turn, which the mini-block
 * in progress may hold for milliseconds, so an ERC-20 `balanceOf` then needs one round trip instead of five.
 */
export interface Prefetched {
  accounts: Array<[Hex, AccountState | undefined]>
  codes: Array<[Hex, Uint8Array]>
}

/** The reads of `addresses` and their code, from `state` (main thread, at dispatch). */
export function prefetch(state: StateReader, addresses: readonly Hex[]): Prefetched {
  const out: Prefetched = { accounts: [], codes: [] }
  for (const address of new Set(addresses)) {
    const account = state.getAccount(address)
    out.accounts.push([address, account])
    if (account === undefined) continue
    const hash = bytesToHex(account.codeHash) as Hex
    const code = state.getCode(hash)
    if (code !== undefined && code.length > 0) out.codes.push([hash, code])
  }
  return out
}

/** Thrown in the worker once the main thread gave up on the call (its time limit). */
export class CallAbortedError extends Error {
  override name = 'CallAbortedError'
}

/** The worker's side: a `StateReader` over the main thread's pinned state for the current call. */
export class RemoteState implements StateReader {
  private call = 0
  private seq = 0
  private readonly accounts = new Map<Hex, AccountState | undefined>()
  private readonly slots = new Map<string, Uint8Array>()
  private readonly withStorage = new Map<Hex, boolean>()
  private readonly codes = new Map<Hex, Uint8Array | undefined>()

  constructor(
    private readonly port: MessagePort,
    private readonly signal: Int32Array,
  ) {}

  /** Starts call `call`: what the previous call read belongs to another state; `prefetched` is this one's. */
  begin(call: number, prefetched: Prefetched): void {
    this.call = call
    this.accounts.clear()
    this.slots.clear()
    this.withStorage.clear()
    for (const [address, account] of prefetched.accounts) this.accounts.set(address, account)
    for (const [hash, code] of prefetched.codes) this.cacheCode(hash, code)
  }

  /** Whether the main thread aborted the current call. */
  get aborted(): boolean {
    return Atomics.load(this.signal, ABORTED) === this.call
  }

  getAccount(address: Hex): AccountState | undefined {
    if (this.accounts.has(address)) return this.accounts.get(address)
    const account = this.request({ op: 'account', address }) as AccountState | undefined
    this.accounts.set(address, account)
    return account
  }

  getStorage(address: Hex, slot: Hex): Uint8Array {
    const key = address + slot
    let value = this.slots.get(key)
    if (value === undefined) {
      value = this.request({ op: 'storage', address, slot }) as Uint8Array
      this.slots.set(key, value)
    }
    return value
  }

  hasStorage(address: Hex): boolean {
    let value = this.withStorage.get(address)
    if (value === undefined) {
      value = this.request({ op: 'hasStorage', address }) as boolean
      this.withStorage.set(address, value)
    }
    return value
  }

  getCode(codeHash: Hex): Uint8Array | undefined {
    if (this.codes.has(codeHash)) return this.codes.get(codeHash)
    const code = this.request({ op: 'code', codeHash }) as Uint8Array | undefined
    // Only found code is cached: a hash unknown now may be deployed by a later mini-block.
    if (code !== undefined) this.cacheCode(codeHash, code)
    return code
  }

  private cacheCode(codeHash: Hex, code: Uint8Array): void {
    if (this.codes.has(codeHash)) return
    if (this.codes.size >= CODE_CACHE_ENTRIES) this.codes.delete(this.codes.keys().next().value as Hex)
    this.codes.set(codeHash, code)
  }

  /** BLOCKHASH: the main thread may wait for a block still being sealed. */
  blockHash(number: bigint): Uint8Array | undefined {
    return this.request({ op: 'blockHash', number }) as Uint8Array | undefined
  }

  private request(query: StateQuery): StateValue {
    if (this.aborted) throw new CallAbortedError('call aborted')
    const seq = ++this.seq
    this.port.postMessage({ ...query, seq, call: this.call } satisfies StateRequest)
    for (;;) {
      const reply = receiveMessageOnPort(this.port)?.message as StateReply | undefined
      if (reply !== undefined) {
        // A reply to a request of an aborted call may still arrive: skip it.
        if (reply.seq !== seq) continue
        if (reply.aborted) throw new CallAbortedError('call aborted')
        return reply.value
      }
      if (this.aborted) throw new CallAbortedError('call aborted')
      // The main thread posts the reply before it sets the flag, so a reply is never missed: either
      // it was already in the port above, or the flag wakes (or never blocks) this wait.
      Atomics.wait(this.signal, REPLY, 0, WAIT_SLICE_MS)
      Atomics.store(this.signal, REPLY, 0)
    }
  }
}

/** The main thread's side: answers one worker's reads from the state of the call it runs. */
export class StateRequestServer {
  private current: { call: number; state: StateReader; blockHash: BlockHashLookup } | undefined

  constructor(
    private readonly port: MessagePort,
    private readonly signal: Int32Array,
  ) {
    port.on('message', (request: StateRequest) => this.serve(request))
    // The worker keeps the process alive while it matters; this port must not on its own.
    port.unref()
  }

  /** Reads of call `call` are answered from `state` until `close`. */
  open(call: number, state: StateReader, blockHash: BlockHashLookup): void {
    this.current = { call, state, blockHash }
  }

  close(): void {
    this.current = undefined
  }

  /** Stops call `call` at its next read or interpreter check, even while it waits for a reply. */
  abort(call: number): void {
    if (this.current?.call === call) this.current = undefined
    Atomics.store(this.signal, ABORTED, call)
    this.wake()
  }

  private serve(request: StateRequest): void {
    const current = this.current
    if (current === undefined || current.call !== request.call) {
      this.reply({ seq: request.seq, aborted: true })
      return
    }
    const { state } = current
    switch (request.op) {
      case 'account':
        this.answer(request.seq, state.getAccount(request.address))
        return
      case 'storage':
        this.answer(request.seq, state.getStorage(request.address, request.slot))
        return
      case 'hasStorage':
        this.answer(request.seq, state.hasStorage(request.address))
        return
      case 'code':
        this.answer(request.seq, state.getCode(request.codeHash))
        return
      case 'blockHash':
        current.blockHash(request.number).then(
          (hash) => this.answer(request.seq, hash),
          () => this.answer(request.seq, undefined),
        )
        return
    }
  }

  private answer(seq: number, value: StateValue): void {
    this.reply({ seq, aborted: false, value })
  }

  private reply(reply: StateReply): void {
    this.port.postMessage(reply)
    this.wake()
  }

  private wake(): void {
    Atomics.store(this.signal, REPLY, 1)
    Atomics.notify(this.signal, REPLY)
  }
}
