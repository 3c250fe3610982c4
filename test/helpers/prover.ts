/**
 * What the prover suites share: a rollup L1 with a small dispute game (8 output levels: games for blocks up to 256,
 * 4 execution levels, 300 s clocks, 4 s credit delay), a sequencer batching to it, provers started as real
 * `--role=prover` processes, and the game reads the assertions need.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before } from 'node:test'
import {
  type Address,
  createPublicClient,
  createTestClient,
  createWalletClient,
  encodeAbiParameters,
  type Hex,
  http,
  type PublicClient,
} from 'viem'
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'
import { disputeGameFactoryAbi } from '../../src/bridge/generated/DisputeGameFactory.ts'
import { faultDisputeGameAbi } from '../../src/bridge/generated/FaultDisputeGame.ts'
import { optimismPortal2Abi } from '../../src/bridge/generated/OptimismPortal2.ts'
import { DEV_KEYS, freePort, makeTempDir, removeTempDir, rpc, startNode, waitFor, type NodeHandle } from './node-process.ts'
import { startRollupL1, type RollupL1 } from './rollup-l1.ts'

export const PROVER_DISPUTE = {
  maxGameDepth: 12n,
  splitDepth: 8n,
  clockExtension: 5n,
  // Every suite ends its games by warping L1's clock past this, never by waiting it out: it only has to outlast the
  // played part of a game. 300 s, not 60: games played at once (prover-step's four) slow each prover turn down, and
  // on a loaded machine a 60 s clock could run out mid-bisection and end a game before its step.
  maxClockDuration: 300n,
  creditDelaySeconds: 4n,
}

export interface ProverStack {
  l1: RollupL1
  client: PublicClient
  wallet: ReturnType<typeof createWalletClient>
  factory: Address
  sequencer: NodeHandle
  /** Moves L1 time forward and mines a block. */
  warp(seconds: number): Promise<void>
}

export async function startProverStack(dir: string): Promise<ProverStack> {
  const l1 = await startRollupL1(dir, {}, PROVER_DISPUTE)
  const transport = http(l1.anvil.rpcUrl, { retryCount: 0 })
  // Receipts are polled every 200 ms, not viem's 4 s: L1 mines a block a second, and every move of the games (the
  // adversaries' too, through this client) waits for its receipt.
  const client = createPublicClient({ transport, pollingInterval: 200 })
  const test = createTestClient({ mode: 'anvil', transport })
  const factory = await client.readContract({
    address: l1.rollup.depositContractAddress,
    abi: optimismPortal2Abi,
    functionName: 'disputeGameFactory',
  })
  // OP's rule retires games created in the registry's deployment second: one second on.
  await test.increaseTime({ seconds: 1 })
  await test.mine({ blocks: 1 })
  // A set-up that fails leaves no anvil behind: the suite's `after` has no stack to stop, and a live child would keep
  // the test file's process (and the run) from ending.
  const sequencer = await startNode({ datadir: join(dir, 'sequencer'), args: [...l1.l1Args(0), ...l1.batcherArgs()] }).catch(
    async (error: unknown) => {
      await l1.anvil.stop()
      throw error
    },
  )
  return {
    l1,
    client,
    wallet: createWalletClient({ transport }),
    factory,
    sequencer,
    async warp(seconds) {
      await test.increaseTime({ seconds })
      await test.mine({ blocks: 1 })
    },
  }
}

/** A prover suite's stack and temp dir, started before its tests (`before`) and torn down after them (`after`). */
export interface ProverSuite {
  /** The stack (valid inside tests, once `before` has run). */
  readonly stack: ProverStack
  readonly dir: string
  /** Stops `thing` after the tests: what is owned last stops first, then the sequencer, L1 and the dir go. */
  own<T extends { stop(): Promise<unknown> }>(thing: T): T
}

/**
 * Registers the `before`/`after` pair every prover suite has: a fresh temp dir named `prefix…`, a stack in it, and
 * the teardown of what the suite `own`s (provers, adversaries), the sequencer, anvil and the dir, in that order.
 */
export function proverSuite(prefix: string): ProverSuite {
  let dir: string | undefined
  let stack: ProverStack | undefined
  const owned: Array<{ stop(): Promise<unknown> }> = []
  before(async () => {
    dir = await makeTempDir(prefix)
    stack = await startProverStack(dir)
    owned.push(stack.sequencer)
  })
  after(async () => {
    for (const thing of owned.reverse()) await thing.stop()
    await stack?.l1.anvil.stop()
    if (dir !== undefined) await removeTempDir(dir)
  })
  return {
    get stack() {
      if (stack === undefined) throw new Error('the prover stack is not started (outside a test?)')
      return stack
    },
    get dir() {
      if (dir === undefined) throw new Error('the prover suite has no dir yet (outside a test?)')
      return dir
    },
    own(thing) {
      owned.push(thing)
      return thing
    },
  }
}

/** Whether two addresses are the same, whatever the case of their hex (viem checksums, L1 reads do not). */
export const sameAddress = (a: Address, b: Address): boolean => a.toLowerCase() === b.toLowerCase()

/** A `--role=prover` process on the stack's L1 with dev key `keyIndex`; `metricsUrl` is its Prometheus endpoint. */
export async function startProver(
  stack: ProverStack,
  dir: string,
  name: string,
  keyIndex: number,
): Promise<NodeHandle & { metricsUrl: string }> {
  const keyFile = join(dir, `${name}.key`)
  await writeFile(keyFile, DEV_KEYS[keyIndex]!)
  const metricsPort = await freePort()
  const node = await startNode({
    datadir: join(dir, name),
    args: [
      '--role=prover',
      ...stack.l1.l1Args(0),
      `--prover.key-file=${keyFile}`,
      '--prover.poll-interval=300',
      `--metrics.port=${metricsPort}`,
    ],
  })
  return Object.assign(node, { metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` })
}

/** The value of a metric's (only) sample on a Prometheus text page, whatever its labels; undefined if absent. */
export async function metricValue(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(url)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

/** The sequencer's safe head (blocks batched to L1 and derived back). */
export async function safeHead(url: string): Promise<bigint> {
  const status = await rpc<{ safe_l2: { number: number } }>(url, 'optimism_syncStatus')
  return BigInt(status.safe_l2.number)
}

export async function outputAt(url: string, block: bigint): Promise<Hex> {
  return (await rpc<{ outputRoot: Hex }>(url, 'optimism_outputAtBlock', [`0x${block.toString(16)}`])).outputRoot
}

/** Creates a game through the factory from `account`; returns its address and the bond paid. */
export async function createGame(
  stack: ProverStack,
  account: PrivateKeyAccount,
  root: Hex,
  l2Block: bigint,
): Promise<{ game: Address; bond: bigint }> {
  const extra = encodeAbiParameters([{ type: 'uint256' }], [l2Block])
  const bond = await stack.client.readContract({
    address: stack.factory,
    abi: disputeGameFactoryAbi,
    functionName: 'initBonds',
    args: [0],
  })
  const hash = await stack.wallet.writeContract({
    account,
    chain: null,
    address: stack.factory,
    abi: disputeGameFactoryAbi,
    functionName: 'create',
    args: [0, root, extra],
    value: bond,
  })
  const receipt = await stack.client.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new Error('create reverted')
  const [game] = await stack.client.readContract({
    address: stack.factory,
    abi: disputeGameFactoryAbi,
    functionName: 'games',
    args: [0, root, extra],
  })
  return { game, bond }
}

export interface ClaimRow {
  index: bigint
  parentIndex: bigint
  counteredBy: Address
  claimant: Address
  bond: bigint
  value: Hex
  position: bigint
}

export async function claimsOf(client: PublicClient, game: Address): Promise<ClaimRow[]> {
  const count = await client.readContract({ address: game, abi: faultDisputeGameAbi, functionName: 'claimDataLen' })
  const rows: ClaimRow[] = []
  for (let i = 0n; i < count; i++) {
    const [parentIndex, counteredBy, claimant, bond, value, position] = await client.readContract({
      address: game,
      abi: faultDisputeGameAbi,
      functionName: 'claimData',
      args: [i],
    })
    rows.push({ index: i, parentIndex: BigInt(parentIndex), counteredBy, claimant, bond, value, position })
  }
  return rows
}

export async function gameStatus(client: PublicClient, game: Address): Promise<number> {
  return client.readContract({ address: game, abi: faultDisputeGameAbi, functionName: 'status' })
}

export async function creditOf(client: PublicClient, game: Address, account: Address): Promise<bigint> {
  return client.readContract({ address: game, abi: faultDisputeGameAbi, functionName: 'credit', args: [account] })
}

/** The CreditClaimed events of a game: recipient → amount. */
export async function creditsClaimed(client: PublicClient, game: Address): Promise<Map<Address, bigint>> {
  const logs = await client.getContractEvents({
    address: game,
    abi: faultDisputeGameAbi,
    eventName: 'CreditClaimed',
    fromBlock: 0n,
  })
  const paid = new Map<Address, bigint>()
  for (const log of logs) paid.set(log.args.recipient!, (paid.get(log.args.recipient!) ?? 0n) + log.args.amount!)
  return paid
}

/** Waits until a derived block at or above `block` is safe on the sequencer (batched to L1). */
export async function waitSafe(url: string, block: bigint, timeoutMs = 30_000): Promise<bigint> {
  return waitFor(
    `safe head ≥ ${block}`,
    async () => {
      const safe = await safeHead(url)
      return safe >= block ? safe : undefined
    },
    timeoutMs,
    250,
  )
}

export const accountOf = (keyIndex: number): PrivateKeyAccount => privateKeyToAccount(DEV_KEYS[keyIndex]!)
