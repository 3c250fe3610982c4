// run-tests: alone — asserts how long calls take against their time limits
/**
 * The call worker pool with real worker threads over a real `StateHistory`: a call reads one
 * consistent (pinned) state while mini-blocks commit, stops at its time limit with geth's error,
 * leaves the pool usable, and a client over its bound is refused while another is served.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Hex, StateDiff } from '../../src/primitives/state-diff.ts'
import type { BlockEnv } from '../../src/execution/block-env.ts'
import { CallLimitError, CallTimeoutError, CallWorkerPool, type CallPoolOptions } from '../../src/execution/calls/pool.ts'
import type { CallTaskOutcome } from '../../src/execution/calls/tasks.ts'
import { keccak256 } from '../../src/crypto/native.ts'
import { FlatState } from '../../src/state/flat-state.ts'
import { StateHistory } from '../../src/state/state-history.ts'
import type { StateReader } from '../../src/state/state-reader.ts'

// Prague, not Osaka: EIP-7825 caps an Osaka call at 2^24 gas, which a JUMPDEST loop burns in well under a
// second; these tests need calls that run until the time limit stops them (a chain without the cap).
const SPEC = { kind: 'chain', chainId: 6342n, name: 'megaeth-dev', forks: { pragueTime: 0n } } as const
const CONTRACT = '0x00000000000000000000000000000000000c0de1' as Hex
/** SLOAD(0) → mem[0..32], SLOAD(1) → mem[32..64], RETURN both. */
const READ_TWO_SLOTS = hexToBytes('0x60005460005260015460205260406000f3')
/** JUMPDEST; PUSH1 0; JUMP — runs until the gas cap. */
const JUMPDEST_LOOP = hexToBytes('0x5b600056')
/** Far more gas than the loop can burn within any limit here (~25 s of looping). */
const LOOP_GAS = 2_000_000_000n
const slot = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex
const word = (n: number) => n.toString(16).padStart(64, '0')

const ENV: BlockEnv = {
  number: 1n,
  timestamp: 1_700_000_000n,
  coinbase: '0x0000000000000000000000000000000000000000',
  baseFeePerGas: 0n,
  // A call may use up to the block's limit: large, so the loops and the MODEXP below run until the time limit.
  gasLimit: 10n ** 15n,
  prevRandao: new Uint8Array(32),
  excessBlobGas: 0n,
  parentBeaconBlockRoot: new Uint8Array(32),
}

function chainState(): StateHistory {
  const live = new FlatState()
  const codeHash = keccak256(READ_TWO_SLOTS)
  live.apply({
    accounts: new Map([
      [
        CONTRACT,
        {
          account: { nonce: 1n, balance: 0n, codeHash },
          storageCleared: false,
          storage: new Map([
            [slot(0), Uint8Array.of(0x11)],
            [slot(1), Uint8Array.of(0x22)],
          ]),
        },
      ],
    ]),
    codes: new Map([[bytesToHex(codeHash) as Hex, READ_TWO_SLOTS]]),
  })
  return new StateHistory(live, 1n)
}

const NEW_VALUES: StateDiff = {
  accounts: new Map([
    [
      CONTRACT,
      {
        account: { nonce: 1n, balance: 5n, codeHash: keccak256(READ_TWO_SLOTS) },
        storageCleared: false,
        storage: new Map([
          [slot(0), Uint8Array.of(0x33)],
          [slot(1), Uint8Array.of(0x44)],
        ]),
      },
    ],
  ]),
  codes: new Map(),
}

/** Commits `diff` as a mini-block right after the call's first storage read: mid-call, deterministically. */
function commitAfterFirstRead(inner: StateReader, history: StateHistory, diff: StateDiff): StateReader {
  let committed = false
  return {
    getAccount: (address) => inner.getAccount(address),
    hasStorage: (address) => inner.hasStorage(address),
    getCode: (hash) => inner.getCode(hash),
    getStorage(address, key) {
      const value = inner.getStorage(address, key)
      if (!committed) {
        committed = true
        history.apply(1n, diff)
      }
      return value
    },
  }
}

const pools: CallWorkerPool[] = []
async function startPool(options: Partial<CallPoolOptions> = {}): Promise<CallWorkerPool> {
  const pool = new CallWorkerPool(SPEC, async () => undefined, {
    workers: 2,
    timeoutMs: 10_000,
    maxPerClient: 8,
    maxInFlight: 64,
    ...options,
  })
  pools.push(pool)
  await pool.whenReady()
  return pool
}
after(() => Promise.all(pools.map((p) => p.close())))

async function waitUntil(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function returned(outcome: CallTaskOutcome): string {
  assert.equal(
    outcome.kind,
    'success',
    JSON.stringify(outcome, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
  )
  return outcome.kind === 'success' ? bytesToHex(outcome.returnData) : ''
}

test('a call started before a mini-block commits reads the old values even when the commit lands mid-call', async () => {
  const pool = await startPool()
  const history = chainState()
  const outcome = await pool.run({
    client: 'a',
    // What the RPC layer does: pin when the call starts running.
    open: () => {
      const pinned = history.pin()
      return { state: commitAfterFirstRead(pinned, history, NEW_VALUES), env: ENV, release: () => pinned.release() }
    },
    task: { kind: 'call', message: { to: CONTRACT } },
  })
  assert.equal(returned(outcome), `0x${word(0x11)}${word(0x22)}`, 'both slots as they were when the call started')
  assert.equal(history.pinCount, 0, 'the pool released the pin when the call ended')
  assert.equal(bytesToHex(history.live.getStorage(CONTRACT, slot(1))), '0x44', 'the commit did land')

  // Control: the same call over the unpinned live state mixes the two states, which is what pinning prevents.
  const unpinned = chainState()
  const mixed = await pool.run({
    client: 'a',
    open: () => ({ state: commitAfterFirstRead(unpinned.live, unpinned, NEW_VALUES), env: ENV, release: () => undefined }),
    task: { kind: 'call', message: { to: CONTRACT } },
  })
  assert.equal(returned(mixed), `0x${word(0x11)}${word(0x44)}`)
})

test('a call sent while the workers boot waits for them without its clock running', async () => {
  const pool = new CallWorkerPool(SPEC, async () => undefined, { workers: 2, timeoutMs: 500, maxPerClient: 8, maxInFlight: 64 })
  pools.push(pool)
  const history = chainState()
  assert.equal(pool.readyWorkers, 0)
  const started = performance.now()
  const outcome = await pool.run({
    client: 'a',
    open: () => ({ state: history.live, env: ENV, release: () => undefined }),
    task: { kind: 'call', message: { to: CONTRACT } },
  })
  assert.equal(returned(outcome), `0x${word(0x11)}${word(0x22)}`)
  // Booting a worker (tsx, ethereumjs, a VM) takes over a second.
  assert.ok(performance.now() - started > 500, 'the boot took longer than the limit, yet the call was answered')
})

test("a looping call stops at the time limit with geth's error, and the pool stays usable", async () => {
  const pool = await startPool({ timeoutMs: 300 })
  const history = chainState()
  const started = performance.now()
  await assert.rejects(
    pool.run({
      client: 'a',
      open: () => {
        const pinned = history.pin()
        return { state: pinned, env: ENV, release: () => pinned.release() }
      },
      task: { kind: 'call', message: { data: JUMPDEST_LOOP, gas: LOOP_GAS } },
    }),
    (error: unknown) => error instanceof CallTimeoutError && error.message === 'execution aborted (timeout = 300ms)',
  )
  const elapsed = performance.now() - started
  assert.ok(elapsed >= 290 && elapsed < 2_000, `answered at the limit, after ${elapsed.toFixed(0)} ms`)
  assert.equal(history.pinCount, 0, 'the timed-out call released its pin')
  // Both workers serve calls again (the looping one stopped itself at its next interpreter check).
  const again = await Promise.all(
    [0, 1].map(() =>
      pool.run({
        client: 'b',
        open: () => ({ state: history.live, env: ENV, release: () => undefined }),
        task: { kind: 'call', message: { to: CONTRACT } },
      }),
    ),
  )
  for (const outcome of again) assert.equal(returned(outcome), `0x${word(0x11)}${word(0x22)}`)
  assert.equal(pool.pending, 0)
  assert.equal(pool.terminated, 0, 'the interpreter check stopped the loop: no worker had to be terminated')
})

test('a worker stuck where the interpreter check cannot see it is terminated after the grace and replaced', async () => {
  const pool = await startPool({ timeoutMs: 1_000 })
  const history = chainState()
  // MODEXP of three 32 KiB numbers: one synchronous bigint computation of ~30 s in the precompile,
  // with no interpreter step and no state read in it.
  const modexp = (size: number) => {
    const data = new Uint8Array(96 + 3 * size).fill(0xff)
    data.fill(0, 0, 96)
    // Base below the modulus (all 0xff), or the result is 0 at once.
    data.fill(0x7f, 96, 96 + size)
    for (const offset of [28, 60, 92]) new DataView(data.buffer).setUint32(offset, size)
    return { to: '0x0000000000000000000000000000000000000005' as Hex, data, gas: 10n ** 15n }
  }
  // Warm both workers up on a small one, so the big one is inside the precompile well before its deadline.
  await Promise.all(
    ['w1', 'w2'].map((client) =>
      pool.run({
        client,
        open: () => ({ state: history.live, env: ENV, release: () => undefined }),
        task: { kind: 'call', message: modexp(64) },
      }),
    ),
  )
  const started = performance.now()
  await assert.rejects(
    pool.run({
      client: 'a',
      open: () => ({ state: history.live, env: ENV, release: () => undefined }),
      task: { kind: 'call', message: modexp(32 * 1024) },
    }),
    (error: unknown) => error instanceof CallTimeoutError && error.message === 'execution aborted (timeout = 1s)',
  )
  assert.ok(performance.now() - started < 2_500, 'answered at the limit, not when the computation ended')
  await waitUntil('the stuck worker is terminated', () => pool.terminated === 1)
  await waitUntil('its replacement is ready', () => pool.readyWorkers === 2)
  // Both workers serve again.
  const outcomes = await Promise.all(
    ['b', 'c'].map((client) =>
      pool.run({
        client,
        open: () => ({ state: history.live, env: ENV, release: () => undefined }),
        task: { kind: 'call', message: { to: CONTRACT } },
      }),
    ),
  )
  for (const outcome of outcomes) assert.equal(returned(outcome), `0x${word(0x11)}${word(0x22)}`)
})

test('a client over its bound is refused at once while another client is still served', async () => {
  const pool = await startPool({ workers: 3, timeoutMs: 1_500, maxPerClient: 2 })
  const history = chainState()
  const loop = () =>
    pool.run({
      client: 'greedy',
      open: () => ({ state: history.live, env: ENV, release: () => undefined }),
      task: { kind: 'call', message: { data: JUMPDEST_LOOP, gas: LOOP_GAS } },
    })
  const loops = [loop(), loop()]
  for (const running of loops) running.catch(() => undefined)
  await assert.rejects(
    loop(),
    (error: unknown) =>
      error instanceof CallLimitError && /too many concurrent calls from this client \(limit 2\)/.test(error.message),
  )
  // The greedy client holds at most two of the three workers: another client's call runs at once.
  const started = performance.now()
  const served = await pool.run({
    client: 'polite',
    open: () => ({ state: history.live, env: ENV, release: () => undefined }),
    task: { kind: 'call', message: { to: CONTRACT } },
  })
  assert.equal(returned(served), `0x${word(0x11)}${word(0x22)}`)
  assert.ok(
    performance.now() - started < 1_000,
    `served in ${(performance.now() - started).toFixed(0)} ms, before the greedy calls' limit`,
  )
  for (const running of loops) await assert.rejects(running, CallTimeoutError)
})

test('a call whose state cannot open is answered with that error, and the pool goes on', async () => {
  const pool = await startPool()
  const history = chainState()
  await assert.rejects(
    pool.run({
      client: 'a',
      open: () => {
        throw new Error('state of block 1 is no longer kept')
      },
      task: { kind: 'call', message: { to: CONTRACT } },
    }),
    /no longer kept/,
  )
  const outcome = await pool.run({
    client: 'a',
    open: () => ({ state: history.live, env: ENV, release: () => undefined }),
    task: { kind: 'call', message: { to: CONTRACT } },
  })
  assert.equal(returned(outcome), `0x${word(0x11)}${word(0x22)}`)
  assert.equal(pool.pending, 0)
})

test('the node-wide bound refuses calls beyond it', async () => {
  const pool = await startPool({ timeoutMs: 1_000, maxInFlight: 1 })
  const history = chainState()
  const first = pool.run({
    client: 'a',
    open: () => ({ state: history.live, env: ENV, release: () => undefined }),
    task: { kind: 'call', message: { data: JUMPDEST_LOOP, gas: LOOP_GAS } },
  })
  first.catch(() => undefined)
  let opened = false
  await assert.rejects(
    pool.run({
      client: 'b',
      open: () => {
        opened = true
        return { state: history.live, env: ENV, release: () => undefined }
      },
      task: { kind: 'call', message: { to: CONTRACT } },
    }),
    (error: unknown) => error instanceof CallLimitError && /on this node \(limit 1\)/.test(error.message),
  )
  assert.equal(opened, false, 'a refused call never pins a state')
  await assert.rejects(first, CallTimeoutError)
})
