/**
 * Executor micro-benchmark: the same pre-generated blocks run on the sequential executor and on the
 * parallel executor (1 and 2 workers by default) in one process, results checked equal.
 *
 *   node --import tsx bench/executor.ts [scenario…] [--txs-per-block=N] [--blocks=N] [--workers=1,2] [--reps=N] [--quick]
 *
 * Scenarios: transfers-disjoint, erc20-many-holders, amm-many-pools, hot-counter, mixed.
 * Writes bench/results/executor.json. `runExecutorBench()` is exported for the bench orchestrator.
 *
 * Measured: `executeBatch` + `takeDiff` per block (what the mini-block loop waits for), state applied
 * between blocks outside the clock. The workload is `reps + 1` slices of `blocks` blocks; every mode
 * keeps one executor over its own state for the whole run (as a sequencer does) and runs each slice
 * in turn, interleaved with the other modes (each slice starting with the next one) so a load spike
 * from the machine's other users hits all of them; slice 0 warms up, the median slice is reported.
 * Signing, decoding and worker start-up are outside the clock, as is the initial replica snapshot
 * (`prepare()`); per-round replica syncs are in.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_NULL, bigIntToBytes, bigIntToUnpaddedBytes, bytesToHex, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { encodeFunctionData, type Abi } from 'viem'
import { createChainCommon } from '../src/chain/config.ts'
import type { Hex, StateDiff } from '../src/primitives/state-diff.ts'
import { encodeStateDiff } from '../src/primitives/state-diff-codec.ts'
import type { BlockEnv } from '../src/execution/block-env.ts'
import { keccak256, privateKeyToAddress } from '../src/crypto/native.ts'
import { SequentialExecutor, type BlockCursor } from '../src/execution/executor.ts'
import {
  ExecWorkerPool,
  ParallelExecutor,
  SequentialMiniBlockExecutor,
  type MiniBlockExecutor,
  type RoundReport,
} from '../src/execution/parallel/index.ts'
import { FlatState } from '../src/state/flat-state.ts'
import { threadSchedstat } from '../src/util/thread-schedstat.ts'
import { decodeRawTransaction, type DecodedTx } from '../src/sequencer/ingest/decode.ts'
import { compileBenchToken } from './contracts/compile.ts'
import { signNative } from './load/sign.ts'
import { rng } from '../test/helpers/rng.ts'

export const EXECUTOR_SCENARIOS = ['transfers-disjoint', 'erc20-many-holders', 'amm-many-pools', 'hot-counter', 'mixed'] as const
export type ExecutorScenario = (typeof EXECUTOR_SCENARIOS)[number]

export interface ExecutorBenchOptions {
  scenarios?: readonly ExecutorScenario[]
  txsPerBlock?: number
  blocks?: number
  /** Parallel configurations to run (worker counts). Default [1, 2]. */
  workers?: readonly number[]
  reps?: number
  writeResults?: boolean
  log?: (line: string) => void
}

export interface ModeResult {
  mode: string
  workers: number
  ms: number
  txPerSec: number
  mgasPerSec: number
  speedup: number
  /** parallel-interpreter only: sequential-interpreter ms / this lane's ms. */
  speedupOverInterpreter?: number
  /** Median slice: CPU ms of all threads, of the main thread, and the main thread's wait for a CPU (contention from other processes). */
  processCpuMs: number
  mainCpuMs: number
  mainRunQueueWaitMs: number
  /** Share of worker transactions re-executed on the main thread (parallel only). */
  reexecutionRate?: number
  reexecutedByReason?: Record<string, number>
  mainThreadTxs?: number
  /** Transactions kept off the workers and run by the main thread at their turn (contended contract, or sender in its chunk). */
  deferredTxs?: number
  workerTxs?: number
  parallelRounds?: number
  sequentialRounds?: number
  /** Replica syncs: bytes shipped and main-thread ms to encode + post them, per slice. */
  syncBytes?: number
  syncMs?: number
  /** Worker threads' CPU per slice: executing shares, and applying syncs. */
  workerCpuMs?: number
  workerSyncCpuMs?: number
  /**
   * Sequential main-thread CPU / the busiest thread's CPU here (main, or one worker's share of the
   * workers' CPU): the speedup if every thread had a core of its own. Ignores V8's GC helper threads
   * and the machine's other load, so it bounds what an idle machine with enough cores would show.
   */
  threadBoundSpeedup?: number
  allRunsMs: number[]
}

export interface ScenarioResult {
  scenario: ExecutorScenario
  txs: number
  blocks: number
  txsPerBlock: number
  gasUsed: string
  modes: ModeResult[]
}

export interface ExecutorBenchResult {
  bench: 'executor'
  date: string
  node: string
  machine: { cores: number; cpuModel: string; loadavgAtStart: number[]; loadavgAtEnd: number[] }
  parameters: { txsPerBlock: number; blocks: number; reps: number; workers: readonly number[] }
  scenarios: ScenarioResult[]
  notes: string[]
}

const CHAIN_ID = 6342n
const BASE_FEE = 1_000_000n
const COINBASE = '0x00000000000000000000000000000000000fee01' as Hex
const common = createChainCommon({ chainId: CHAIN_ID, name: 'bench-executor' })
const LIMITS = { blockGasLimit: 1_000_000_000n }

// --- contracts --------------------------------------------------------------------------------

const AMM_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// Token of the AMM benchmark: pools pull what swappers pay (no per-pool allowances to set up).
contract AmmToken {
    mapping(address => uint256) public balanceOf; // slot 0
    mapping(address => bool) public isPool; // slot 1
    event Transfer(address indexed from, address indexed to, uint256 value);

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function poolPull(address from, uint256 value) external {
        require(isPool[msg.sender], "not a pool");
        _move(from, msg.sender, value);
    }

    function _move(address from, address to, uint256 value) private {
        uint256 b = balanceOf[from];
        require(b >= value, "balance");
        unchecked { balanceOf[from] = b - value; }
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}

interface IAmmToken {
    function transfer(address to, uint256 value) external returns (bool);
    function poolPull(address from, uint256 value) external;
}

/// Constant-product pair (x * y = k, 0.3 % fee), Uniswap v2's swap arithmetic.
contract AmmPair {
    address public token0; // slot 0
    address public token1; // slot 1
    uint256 public reserve0; // slot 2
    uint256 public reserve1; // slot 3
    event Swap(address indexed sender, uint256 amountIn, uint256 amountOut, bool zeroForOne);

    function swap(uint256 amountIn, bool zeroForOne, uint256 minOut) external returns (uint256 amountOut) {
        (uint256 rIn, uint256 rOut) = zeroForOne ? (reserve0, reserve1) : (reserve1, reserve0);
        uint256 inWithFee = amountIn * 997;
        amountOut = (inWithFee * rOut) / (rIn * 1000 + inWithFee);
        require(amountOut >= minOut && amountOut < rOut, "slippage");
        (address tIn, address tOut) = zeroForOne ? (token0, token1) : (token1, token0);
        IAmmToken(tIn).poolPull(msg.sender, amountIn);
        IAmmToken(tOut).transfer(msg.sender, amountOut);
        if (zeroForOne) {
            reserve0 = rIn + amountIn;
            reserve1 = rOut - amountOut;
        } else {
            reserve1 = rIn + amountIn;
            reserve0 = rOut - amountOut;
        }
        emit Swap(msg.sender, amountIn, amountOut, zeroForOne);
    }
}

/// Every transaction increments the same slot: the worst case for optimistic execution.
contract HotCounter {
    uint256 public count; // slot 0
    event Counted(address indexed by, uint256 count);

    function increment() external {
        uint256 c = count + 1;
        count = c;
        emit Counted(msg.sender, c);
    }
}
`

interface Compiled {
  abi: Abi
  runtime: Uint8Array
}

function compileAmm(): Record<'AmmToken' | 'AmmPair' | 'HotCounter', Compiled> {
  const solc = createRequire(import.meta.url)('solc') as { compile(input: string): string }
  const input = {
    language: 'Solidity',
    sources: { 'Amm.sol': { content: AMM_SOURCE } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'cancun',
      outputSelection: { '*': { '*': ['abi', 'evm.deployedBytecode.object'] } },
    },
  }
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: Array<{ severity: string; formattedMessage: string }>
    contracts: Record<string, Record<string, { abi: Abi; evm: { deployedBytecode: { object: string } } }>>
  }
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`)
  const get = (name: string): Compiled => {
    const c = out.contracts['Amm.sol']![name]!
    return { abi: c.abi, runtime: hexToBytes(`0x${c.evm.deployedBytecode.object}`) }
  }
  return { AmmToken: get('AmmToken'), AmmPair: get('AmmPair'), HotCounter: get('HotCounter') }
}

/** BenchToken's runtime code: deployed once in a scratch VM (its constructor takes the supply). */
async function benchTokenRuntime(): Promise<{ abi: Abi; runtime: Uint8Array }> {
  const { bytecode, abi } = compileBenchToken()
  const state = new FlatState()
  const deployer = key('deployer')
  state.accounts.set(deployer.address, { nonce: 0n, balance: 10n ** 20n, codeHash: KECCAK256_NULL })
  const executor = await SequentialExecutor.create(common, state, async () => undefined)
  executor.setBlockEnv(envFor(1n))
  const data = new Uint8Array([...hexToBytes(bytecode as Hex), ...setLengthLeft(bigIntToBytes(1n), 32)])
  const tx = decodeRawTransaction(
    signNative(
      {
        chainId: CHAIN_ID,
        nonce: 0,
        maxPriorityFeePerGas: 0n,
        maxFeePerGas: BASE_FEE * 2n,
        gasLimit: 3_000_000n,
        to: new Uint8Array(0),
        value: 0n,
        data,
      },
      deployer.priv,
    ),
    common,
    LIMITS,
  )
  const outcome = await executor.applyTx(tx.tx, { gasUsed: 0n, txIndex: 0, logIndex: 0, miniBlockNumber: 0n })
  if (!outcome.ok || outcome.receipt.contractAddress === null) throw new Error('BenchToken deployment failed')
  const diff = executor.takeDiff()
  const account = diff.accounts.get(outcome.receipt.contractAddress)!.account!
  return { abi: abi as Abi, runtime: diff.codes.get(bytesToHex(account.codeHash) as Hex)! }
}

// --- keys, state, blocks ------------------------------------------------------------------------

interface Key {
  priv: Uint8Array
  address: Hex
}

function key(label: string): Key {
  const priv = keccak256(new TextEncoder().encode(`bench-executor/${label}`))
  return { priv, address: bytesToHex(privateKeyToAddress(priv)) as Hex }
}

const fixedAddress = (tag: number, i: number): Hex =>
  `0x${tag.toString(16).padStart(8, '0')}${i.toString(16).padStart(32, '0')}` as Hex
const word = (v: bigint): Uint8Array => setLengthLeft(bigIntToBytes(v), 32)
const slot = (n: bigint): Hex => bytesToHex(word(n)) as Hex
const mapSlot = (k: Hex, index: bigint): Hex =>
  bytesToHex(keccak256(new Uint8Array([...setLengthLeft(hexToBytes(k), 32), ...word(index)]))) as Hex

function setStorage(state: FlatState, address: Hex, slotKey: Hex, value: bigint): void {
  let slots = state.storage.get(address)
  if (slots === undefined) {
    slots = new Map()
    state.storage.set(address, slots)
  }
  slots.set(slotKey, bigIntToUnpaddedBytes(value))
}

function putCode(state: FlatState, address: Hex, code: Uint8Array): void {
  const codeHash = keccak256(code)
  state.codes.set(bytesToHex(codeHash) as Hex, code)
  state.accounts.set(address, { nonce: 1n, balance: 0n, codeHash })
}

function envFor(number: bigint): BlockEnv {
  return {
    number,
    timestamp: 1_800_000_000n + number,
    coinbase: COINBASE,
    baseFeePerGas: BASE_FEE,
    gasLimit: 2_000_000_000n,
    prevRandao: keccak256(word(number)),
    excessBlobGas: 0n,
    parentBeaconBlockRoot: new Uint8Array(32),
  }
}

interface Workload {
  state: FlatState
  blocks: DecodedTx[][]
}

const TOKEN = fixedAddress(0xb0, 1)
const AMM_T0 = fixedAddress(0xb1, 0)
const AMM_T1 = fixedAddress(0xb1, 1)
const COUNTER = fixedAddress(0xb2, 0)
const POOL = (i: number): Hex => fixedAddress(0xb3, i)

interface Contracts {
  token: { abi: Abi; runtime: Uint8Array }
  amm: ReturnType<typeof compileAmm>
}

/**
 * Builds a workload: `senders` funded EOAs (each sends at most once per block, so blocks have no
 * nonce chains), the contracts, and `blocks` blocks of `perBlock` transactions from `pick`.
 */
function workload(
  contracts: Contracts,
  senderCount: number,
  blocks: number,
  perBlock: number,
  seed: number,
  pick: (rand: () => number, sender: Key, senders: Key[]) => { to: Hex; data?: Uint8Array; value?: bigint; gas: bigint },
): Workload {
  const rand = rng(seed).next
  const state = new FlatState()
  const senders = Array.from({ length: senderCount }, (_, i) => key(`sender/${i}`))
  for (const s of senders) state.accounts.set(s.address, { nonce: 0n, balance: 10n ** 21n, codeHash: KECCAK256_NULL })
  // ERC-20 (BenchToken: totalSupply slot 0, balanceOf slot 1): every sender holds tokens.
  putCode(state, TOKEN, contracts.token.runtime)
  setStorage(state, TOKEN, slot(0n), 10n ** 30n)
  for (const s of senders) setStorage(state, TOKEN, mapSlot(s.address, 1n), 10n ** 24n)
  // AMM: two tokens, POOLS pairs with reserves (and matching token balances), senders hold both tokens.
  putCode(state, AMM_T0, contracts.amm.AmmToken.runtime)
  putCode(state, AMM_T1, contracts.amm.AmmToken.runtime)
  for (let i = 0; i < POOLS; i++) {
    const pool = POOL(i)
    putCode(state, pool, contracts.amm.AmmPair.runtime)
    const r0 = 10n ** 24n + BigInt(i) * 10n ** 20n
    const r1 = 2n * 10n ** 24n - BigInt(i) * 10n ** 20n
    setStorage(state, pool, slot(0n), BigInt(AMM_T0))
    setStorage(state, pool, slot(1n), BigInt(AMM_T1))
    setStorage(state, pool, slot(2n), r0)
    setStorage(state, pool, slot(3n), r1)
    setStorage(state, AMM_T0, mapSlot(pool, 0n), r0)
    setStorage(state, AMM_T1, mapSlot(pool, 0n), r1)
    setStorage(state, AMM_T0, mapSlot(pool, 1n), 1n)
    setStorage(state, AMM_T1, mapSlot(pool, 1n), 1n)
  }
  for (const s of senders) {
    setStorage(state, AMM_T0, mapSlot(s.address, 0n), 10n ** 24n)
    setStorage(state, AMM_T1, mapSlot(s.address, 0n), 10n ** 24n)
  }
  putCode(state, COUNTER, contracts.amm.HotCounter.runtime)

  const nonces = new Map<Hex, number>()
  const out: DecodedTx[][] = []
  let next = 0
  for (let b = 0; b < blocks; b++) {
    const block: DecodedTx[] = []
    for (let j = 0; j < perBlock; j++) {
      const sender = senders[next++ % senders.length]!
      const { to, data, value, gas } = pick(rand, sender, senders)
      const nonce = nonces.get(sender.address) ?? 0
      nonces.set(sender.address, nonce + 1)
      const tip = rand() < 0.5 ? 0n : 1000n
      const raw = signNative(
        {
          chainId: CHAIN_ID,
          nonce,
          maxPriorityFeePerGas: tip,
          maxFeePerGas: BASE_FEE * 2n + tip,
          gasLimit: gas,
          to: hexToBytes(to),
          value: value ?? 0n,
          data: data ?? new Uint8Array(0),
        },
        sender.priv,
      )
      block.push(decodeRawTransaction(raw, common, LIMITS))
    }
    out.push(block)
  }
  return { state, blocks: out }
}

const POOLS = 4000

type Pick = Parameters<typeof workload>[5]

function picks(contracts: Contracts): Record<Exclude<ExecutorScenario, 'mixed'>, Pick> {
  const transfer = encode(contracts.token.abi, 'transfer')
  const swap = encode(contracts.amm.AmmPair.abi, 'swap')
  const increment = hexToBytes(encodeFunctionData({ abi: contracts.amm.HotCounter.abi, functionName: 'increment' }))
  return {
    // Distinct senders and distinct, existing recipients: nothing shared but the fee recipient.
    'transfers-disjoint': (_rand, sender) => ({
      to: fixedAddress(0xa0, Number.parseInt(sender.address.slice(-8), 16)),
      value: 1000n,
      gas: 21_000n,
    }),
    // Token transfers to 100,000 holders (senders hold tokens too): collisions are rare but real.
    'erc20-many-holders': (rand) => ({
      to: TOKEN,
      data: transfer([fixedAddress(0xa1, Math.floor(rand() * 100_000)), BigInt(1 + Math.floor(rand() * 1000))]),
      gas: 80_000n,
    }),
    'amm-many-pools': (rand) => ({
      to: POOL(Math.floor(rand() * POOLS)),
      data: swap([BigInt(1 + Math.floor(rand() * 10 ** 6)) * 10n ** 12n, rand() < 0.5, 0n]),
      gas: 200_000n,
    }),
    'hot-counter': () => ({ to: COUNTER, data: increment, gas: 60_000n }),
  }
}

function encode(abi: Abi, functionName: string): (args: unknown[]) => Uint8Array {
  return (args) => hexToBytes(encodeFunctionData({ abi, functionName, args } as never))
}

function scenarioPick(scenario: ExecutorScenario, contracts: Contracts): Pick {
  const p = picks(contracts)
  if (scenario !== 'mixed') return p[scenario]
  return (rand, sender, senders) => {
    const r = rand()
    if (r < 0.4) return p['transfers-disjoint'](rand, sender, senders)
    if (r < 0.7) return p['erc20-many-holders'](rand, sender, senders)
    if (r < 0.9) return p['amm-many-pools'](rand, sender, senders)
    return p['hot-counter'](rand, sender, senders)
  }
}

// --- running ------------------------------------------------------------------------------------

interface SliceOutcome {
  ms: number
  /** CPU of the whole process (all threads) and of the main thread, and the main thread's run-queue wait, during the timed regions. */
  processCpuMs: number
  mainCpuMs: number
  mainWaitMs: number
  gasUsed: bigint
  /** keccak of every block's receipts and encoded diff: must match across modes. */
  fingerprint: string
}

/** One executor over its own copy of the state, fed the workload slice by slice. */
class Lane {
  private next = 0
  private constructor(
    private readonly state: FlatState,
    private readonly executor: MiniBlockExecutor,
  ) {}

  static async open(genesis: FlatState, make: (seq: SequentialExecutor, state: FlatState) => MiniBlockExecutor): Promise<Lane> {
    const state = genesis.clone()
    const seq = await SequentialExecutor.create(common, state, async (n) => keccak256(word(n)))
    const executor = make(seq, state)
    await executor.prepare()
    return new Lane(state, executor)
  }

  async run(blocks: DecodedTx[][]): Promise<SliceOutcome> {
    let ms = 0
    let processCpuMs = 0
    let mainCpuMs = 0
    let mainWaitMs = 0
    let gasUsed = 0n
    const fingerprint: Uint8Array[] = []
    for (const block of blocks) {
      const number = BigInt(2 + this.next++)
      this.executor.setBlockEnv(envFor(number))
      const cursor: BlockCursor = { gasUsed: 0n, txIndex: 0, logIndex: 0, miniBlockNumber: number }
      const cpu0 = process.cpuUsage()
      const sched0 = threadSchedstat()
      const started = performance.now()
      const outcomes = await this.executor.executeBatch(block, cursor)
      const diff = this.executor.takeDiff()
      ms += performance.now() - started
      const sched1 = threadSchedstat()
      const cpu1 = process.cpuUsage(cpu0)
      processCpuMs += (cpu1.user + cpu1.system) / 1000
      mainCpuMs += (sched1.cpuNs - sched0.cpuNs) / 1e6
      mainWaitMs += (sched1.waitNs - sched0.waitNs) / 1e6
      gasUsed += cursor.gasUsed
      if (outcomes.length !== block.length || outcomes.some((o) => o === undefined || !o.ok))
        throw new Error(`block ${number}: not every transaction succeeded`)
      this.state.apply(diff)
      const receipts = outcomes.map((o) =>
        o?.ok
          ? [
              bigIntToUnpaddedBytes(o.receipt.cumulativeGasUsed),
              o.receipt.logsBloom,
              o.receipt.logs.map((l) => [hexToBytes(l.address), l.topics.map((t) => hexToBytes(t)), hexToBytes(l.data)]),
            ]
          : [],
      )
      fingerprint.push(keccak256(RLP.encode([receipts, encodeStateDiff(diff as StateDiff)] as never)))
    }
    return {
      ms,
      processCpuMs,
      mainCpuMs,
      mainWaitMs,
      gasUsed,
      fingerprint: bytesToHex(keccak256(new Uint8Array(fingerprint.flatMap((f) => [...f])))),
    }
  }

  close(): Promise<void> {
    return this.executor.close()
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

const round2 = (x: number): number => Math.round(x * 100) / 100

export async function runExecutorBench(options: ExecutorBenchOptions = {}): Promise<ExecutorBenchResult> {
  const log = options.log ?? ((line: string) => console.log(line))
  const scenarios = options.scenarios ?? EXECUTOR_SCENARIOS
  const perBlock = options.txsPerBlock ?? 400
  const blocks = options.blocks ?? 10
  const workerCounts = options.workers ?? [1, 2]
  const reps = options.reps ?? 3
  const loadStart = loadavg().map(round2)
  log(
    `executor bench — node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadStart.join(' ')}`,
  )
  log(
    `${blocks} blocks × ${perBlock} txs per scenario, ${reps} interleaved runs per mode (median), parallel with ${workerCounts.join(' and ')} worker(s)`,
  )
  if (loadStart[0]! > cpus().length)
    log(
      `WARNING: load average ${loadStart[0]} exceeds the ${cpus().length} cores: other processes compete for CPU; numbers are lower and noisier than on an idle machine.`,
    )

  const contracts: Contracts = { token: await benchTokenRuntime(), amm: compileAmm() }
  const pools = new Map<number, ExecWorkerPool>()
  for (const w of workerCounts)
    pools.set(w, await ExecWorkerPool.start(w, { kind: 'chain', chainId: CHAIN_ID, name: 'bench-executor' }))
  const results: ScenarioResult[] = []
  try {
    for (const scenario of scenarios) {
      const t = performance.now()
      const work = workload(
        contracts,
        Math.max(2 * perBlock, 2000),
        blocks * (reps + 1),
        perBlock,
        0x5eed + scenario.length,
        scenarioPick(scenario, contracts),
      )
      log(`\n== ${scenario} == (${blocks * perBlock * (reps + 1)} txs generated in ${Math.round(performance.now() - t)} ms)`)
      // Slice 0 warms up (JIT, worker VMs); slices 1..reps are timed. Every mode runs every slice
      // on its own state, interleaved, so the state (and the replicas) carry over as in a sequencer.
      type Mode = { name: string; workers: number; lane: Lane; runs: SliceOutcome[]; reports: RoundReport[] }
      const modes: Mode[] = []
      modes.push({
        name: 'sequential',
        workers: 0,
        lane: await Lane.open(work.state, (seq) => new SequentialMiniBlockExecutor(seq)),
        runs: [],
        reports: [],
      })
      // The same sequential executor with every transfer through the interpreter: what native transfers save.
      const interpreterOnly = (seq: SequentialExecutor): MiniBlockExecutor => {
        seq.nativeTransfers = false
        return new SequentialMiniBlockExecutor(seq)
      }
      modes.push({
        name: 'sequential-interpreter',
        workers: 0,
        lane: await Lane.open(work.state, interpreterOnly),
        runs: [],
        reports: [],
      })
      for (const w of workerCounts) {
        const reports: RoundReport[] = []
        const lane = await Lane.open(
          work.state,
          (seq, state) => new ParallelExecutor(pools.get(w)!, seq, state, {}, { onRound: (r) => reports.push(r) }),
        )
        modes.push({ name: 'parallel', workers: w, lane, runs: [], reports })
      }
      if (scenario === 'transfers-disjoint') {
        // Native transfers take ~2 µs, less than a worker round trip, so the parallel executor runs
        // them on the main thread and both lanes above do the same work. This lane measures the
        // parallel engine itself on disjoint transfers: interpreter against interpreter.
        const reports: RoundReport[] = []
        const w = workerCounts[0]!
        const lane = await Lane.open(work.state, (seq, state) => {
          seq.nativeTransfers = false
          return new ParallelExecutor(pools.get(w)!, seq, state, {}, { onRound: (r) => reports.push(r) })
        })
        modes.push({ name: 'parallel-interpreter', workers: w, lane, runs: [], reports })
      }
      for (let slice = 0; slice <= reps; slice++) {
        const slab = work.blocks.slice(slice * blocks, (slice + 1) * blocks)
        // Each slice starts with the next mode: the lane that runs first pays for the garbage the
        // block generator (or the previous slice's last lane) left, and that must not always be the same one.
        for (let k = 0; k < modes.length; k++) {
          const mode = modes[(slice + k) % modes.length]!
          const outcome = await mode.lane.run(slab)
          if (slice === 0) mode.reports.length = 0
          else mode.runs.push(outcome)
        }
        const reference = modes[0]!.runs.at(-1)
        for (const mode of modes) {
          if (slice > 0 && mode.runs.at(-1)!.fingerprint !== reference!.fingerprint)
            throw new Error(
              `${scenario}: ${mode.name}/${mode.workers} produced different receipts or state diffs than sequential`,
            )
        }
      }
      for (const mode of modes) await mode.lane.close()
      const reference = modes[0]!.runs[0]!
      const txs = blocks * perBlock
      const seqMs = median(modes[0]!.runs.map((r) => r.ms))
      const seqInterpreterMs = median(modes[1]!.runs.map((r) => r.ms))
      const modeResults: ModeResult[] = modes.map((mode) => {
        const ms = median(mode.runs.map((r) => r.ms))
        const result: ModeResult = {
          mode: mode.name,
          workers: mode.workers,
          ms: round2(ms),
          txPerSec: Math.round((txs * 1000) / ms),
          mgasPerSec: round2(Number(median(mode.runs.map((r) => Number(r.gasUsed)))) / 1000 / ms),
          speedup: round2(seqMs / ms),
          processCpuMs: round2(median(mode.runs.map((r) => r.processCpuMs))),
          mainCpuMs: round2(median(mode.runs.map((r) => r.mainCpuMs))),
          mainRunQueueWaitMs: round2(median(mode.runs.map((r) => r.mainWaitMs))),
          allRunsMs: mode.runs.map((r) => round2(r.ms)),
        }
        if (mode.name === 'parallel-interpreter') result.speedupOverInterpreter = round2(seqInterpreterMs / ms)
        if (mode.name.startsWith('parallel')) {
          const reasons: Record<string, number> = {}
          let workerTxs = 0
          let mainTxs = 0
          let deferredTxs = 0
          let reexecuted = 0
          let syncBytes = 0
          let syncUs = 0
          let workerCpuUs = 0
          let workerSyncCpuUs = 0
          let parallelRounds = 0
          let sequentialRounds = 0
          for (const report of mode.reports) {
            workerTxs += report.workerTxs
            mainTxs += report.mainTxs
            deferredTxs += report.deferredTxs
            syncBytes += report.syncBytes
            syncUs += report.syncUs
            workerCpuUs += report.workerCpuUs
            workerSyncCpuUs += report.workerSyncCpuUs
            if (report.mode === 'parallel') parallelRounds++
            else sequentialRounds++
            for (const [reason, n] of Object.entries(report.reexecuted)) {
              reasons[reason] = (reasons[reason] ?? 0) + n
              reexecuted += n
            }
          }
          Object.assign(result, {
            reexecutionRate: workerTxs === 0 ? 0 : round2(reexecuted / workerTxs),
            reexecutedByReason: reasons,
            mainThreadTxs: Math.round(mainTxs / reps),
            deferredTxs: Math.round(deferredTxs / reps),
            workerTxs: Math.round(workerTxs / reps),
            parallelRounds: Math.round(parallelRounds / reps),
            sequentialRounds: Math.round(sequentialRounds / reps),
            syncBytes: Math.round(syncBytes / reps),
            syncMs: round2(syncUs / 1000 / reps),
            workerCpuMs: round2(workerCpuUs / 1000 / reps),
            workerSyncCpuMs: round2(workerSyncCpuUs / 1000 / reps),
          })
          // Against the sequential lane doing the same work: the interpreter one for parallel-interpreter.
          const seqMainCpu = median(modes[mode.name === 'parallel-interpreter' ? 1 : 0]!.runs.map((r) => r.mainCpuMs))
          const busiest = Math.max(result.mainCpuMs, (workerCpuUs + workerSyncCpuUs) / 1000 / reps / mode.workers)
          result.threadBoundSpeedup = round2(seqMainCpu / busiest)
        }
        return result
      })
      for (const m of modeResults) {
        const label =
          m.mode === 'parallel'
            ? `parallel ×${m.workers}`
            : m.mode === 'parallel-interpreter'
              ? `par. interp. ×${m.workers}`
              : m.mode === 'sequential'
                ? 'sequential'
                : 'seq. interp.'
        const versus = m.speedupOverInterpreter === undefined ? '' : ` (×${m.speedupOverInterpreter} over seq. interp.)`
        const extra = m.mode.startsWith('parallel')
          ? `, re-executed ${(100 * (m.reexecutionRate ?? 0)).toFixed(1)} % of worker txs ${JSON.stringify(m.reexecutedByReason)}, main thread ran ${m.mainThreadTxs}/${txs} + ${m.deferredTxs} deferred, sync ${((m.syncBytes ?? 0) / 1024).toFixed(0)} KiB in ${m.syncMs} ms, worker cpu ${m.workerCpuMs} ms + sync ${m.workerSyncCpuMs} ms, thread-bound ×${m.threadBoundSpeedup}`
          : ''
        log(
          `  ${label.padEnd(13)} ${String(m.ms).padStart(8)} ms  ${String(m.txPerSec).padStart(6)} tx/s  ${String(m.mgasPerSec).padStart(7)} Mgas/s  ×${m.speedup}${versus}  [cpu: process ${m.processCpuMs} ms, main ${m.mainCpuMs} ms, main waited for a core ${m.mainRunQueueWaitMs} ms]${extra}`,
        )
      }
      results.push({ scenario, txs, blocks, txsPerBlock: perBlock, gasUsed: reference.gasUsed.toString(), modes: modeResults })
    }
  } finally {
    for (const pool of pools.values()) await pool.close()
  }
  const loadEnd = loadavg().map(round2)
  log(`\nload average at end: ${loadEnd.join(' ')}`)
  const result: ExecutorBenchResult = {
    bench: 'executor',
    date: new Date().toISOString(),
    node: process.version,
    machine: { cores: cpus().length, cpuModel: cpus()[0]?.model ?? '?', loadavgAtStart: loadStart, loadavgAtEnd: loadEnd },
    parameters: { txsPerBlock: perBlock, blocks, reps, workers: workerCounts },
    scenarios: results,
    notes: [
      'ms = executeBatch + takeDiff summed over the blocks (state applied between blocks off the clock); median of the interleaved runs',
      'parallel ×N = N worker threads plus the main thread, which executes the first share of each round itself when it has a core of its own (N < cores) and validates/commits the rest in order',
      'sequential-interpreter = the sequential executor with native transfers off (every transfer through runTx); speedups are relative to sequential (native transfers on)',
      'parallel-interpreter (transfers-disjoint only) = the parallel executor with native transfers off, so workers run the transfers; speedupOverInterpreter is against sequential-interpreter',
      'every run is checked to produce the same receipts (cumulative gas, bloom, logs) and encoded state diffs as the sequential run',
      'the machine is shared with other engineers: see loadavg; speedups are ratios measured within one process, interleaved',
      'threadBoundSpeedup = sequential main-thread CPU / max(main CPU, workers CPU / workers): the speedup with a free core per thread (GC helper threads and other load ignored)',
      'processCpuMs / mainCpuMs / mainRunQueueWaitMs come from process.cpuUsage() and /proc/thread-self/schedstat over the timed regions: run-queue wait is time the main thread was runnable but had no core (contention)',
    ],
  }
  if (options.writeResults !== false) {
    const dir = fileURLToPath(new URL('./results/', import.meta.url))
    mkdirSync(dir, { recursive: true })
    writeFileSync(`${dir}executor.json`, `${JSON.stringify(result, null, 2)}\n`)
    log(`wrote ${dir}executor.json`)
  }
  return result
}

function parseArgs(argv: string[]): ExecutorBenchOptions {
  const options: ExecutorBenchOptions = {}
  const scenarios: ExecutorScenario[] = []
  for (const arg of argv) {
    const [name, value] = arg.split('=') as [string, string | undefined]
    if (name === '--txs-per-block') options.txsPerBlock = Number(value)
    else if (name === '--blocks') options.blocks = Number(value)
    else if (name === '--reps') options.reps = Number(value)
    else if (name === '--workers') options.workers = value!.split(',').map(Number)
    else if (name === '--quick') Object.assign(options, { blocks: 4, reps: 1 })
    else if ((EXECUTOR_SCENARIOS as readonly string[]).includes(arg)) scenarios.push(arg as ExecutorScenario)
    else throw new Error(`unknown argument ${arg}; scenarios: ${EXECUTOR_SCENARIOS.join(', ')}`)
  }
  if (scenarios.length > 0) options.scenarios = scenarios
  return options
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runExecutorBench(parseArgs(process.argv.slice(2))).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    },
  )
}

/** Building blocks for profiling scripts (not part of the bench runner's interface). */
export const executorBenchInternals = { workload, compileAmm, benchTokenRuntime, scenarioPick, Lane, envFor }
