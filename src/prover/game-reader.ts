/**
 * Reads games from L1: the factory's list (by index, with creation times) and one game's full state (its
 * parameters, every claim with its challenger clock and resolution) in a few Multicall3 round trips. Everything
 * the prover decides comes from here, so a restarted prover needs no local memory.
 */
import type { Address, Hex, PublicClient } from 'viem'
import { disputeGameFactoryAbi } from '../bridge/generated/DisputeGameFactory.ts'
import { faultDisputeGameAbi } from '../bridge/generated/FaultDisputeGame.ts'
import type { Claim, GameSnapshot } from './game-state.ts'

/** Multicall3's canonical address (the dev L1 installs it there; every public chain has it). */
export const MULTICALL3: Address = '0xcA11bde05977b3631167028862bE2a173976CA11'

/** Calls per Multicall3 batch: well under an L1 node's eth_call gas cap for these small views. */
const BATCH = 200

export interface FactoryGame {
  index: bigint
  gameType: number
  createdAt: bigint
  address: Address
}

export async function gameCount(client: PublicClient, factory: Address): Promise<bigint> {
  return client.readContract({ address: factory, abi: disputeGameFactoryAbi, functionName: 'gameCount' })
}

export async function gamesAt(client: PublicClient, factory: Address, indices: readonly bigint[]): Promise<FactoryGame[]> {
  const results = await multicall(
    client,
    indices.map(
      (index) => ({ address: factory, abi: disputeGameFactoryAbi, functionName: 'gameAtIndex', args: [index] }) as const,
    ),
  )
  return results.map((result, i) => {
    const [gameType, timestamp, proxy] = result as readonly [number, bigint, Address]
    return { index: indices[i]!, gameType, createdAt: timestamp, address: proxy }
  })
}

type GameView =
  | 'gameType'
  | 'status'
  | 'rootClaim'
  | 'l1Head'
  | 'l2BlockNumber'
  | 'startingBlockNumber'
  | 'startingRootHash'
  | 'maxGameDepth'
  | 'splitDepth'
  | 'maxClockDuration'
  | 'creditDelaySeconds'
  | 'createdAt'
  | 'resolvedAt'
  | 'vm'
  | 'claimDataLen'

const VIEWS: readonly GameView[] = [
  'gameType',
  'status',
  'rootClaim',
  'l1Head',
  'l2BlockNumber',
  'startingBlockNumber',
  'startingRootHash',
  'maxGameDepth',
  'splitDepth',
  'maxClockDuration',
  'creditDelaySeconds',
  'createdAt',
  'resolvedAt',
  'vm',
  'claimDataLen',
]

export async function readGame(client: PublicClient, address: Address): Promise<GameSnapshot> {
  const values = await multicall(
    client,
    VIEWS.map((functionName) => ({ address, abi: faultDisputeGameAbi, functionName }) as const),
  )
  const view = (name: GameView): unknown => values[VIEWS.indexOf(name)]
  const count = view('claimDataLen') as bigint
  const indices = Array.from({ length: Number(count) }, (_, i) => BigInt(i))
  // The clocks of a game that is over are not asked: `getChallengerDuration` reverts once it is resolved.
  const inProgress = (view('status') as number) === 0
  const perClaim = await multicall(
    client,
    indices.flatMap(
      (index) =>
        [
          { address, abi: faultDisputeGameAbi, functionName: 'claimData', args: [index] },
          inProgress
            ? { address, abi: faultDisputeGameAbi, functionName: 'getChallengerDuration', args: [index] }
            : { address, abi: faultDisputeGameAbi, functionName: 'maxClockDuration' },
          { address, abi: faultDisputeGameAbi, functionName: 'resolvedSubgames', args: [index] },
        ] as const,
    ),
  )

  const claims = indices.map((index, i): Claim => {
    const [parentIndex, counteredBy, claimant, bond, value, position, clock] = perClaim[i * 3] as readonly [
      number,
      Address,
      Address,
      bigint,
      Hex,
      bigint,
      bigint,
    ]
    return {
      index,
      parentIndex: BigInt(parentIndex),
      counteredBy,
      claimant,
      bond,
      value,
      position,
      duration: clock >> 64n,
      timestamp: clock & 0xffffffffffffffffn,
      challengerDuration: perClaim[i * 3 + 1] as bigint,
      resolved: perClaim[i * 3 + 2] as boolean,
    }
  })
  return {
    address,
    gameType: view('gameType') as number,
    status: view('status') as number,
    rootClaim: view('rootClaim') as Hex,
    l1Head: view('l1Head') as Hex,
    l2BlockNumber: view('l2BlockNumber') as bigint,
    startingBlock: view('startingBlockNumber') as bigint,
    startingRoot: view('startingRootHash') as Hex,
    maxDepth: Number(view('maxGameDepth') as bigint),
    splitDepth: Number(view('splitDepth') as bigint),
    maxClockDuration: view('maxClockDuration') as bigint,
    creditDelaySeconds: view('creditDelaySeconds') as bigint,
    createdAt: view('createdAt') as bigint,
    resolvedAt: view('resolvedAt') as bigint,
    vm: view('vm') as Address,
    claims,
  }
}

export async function creditOf(client: PublicClient, game: Address, account: Address): Promise<bigint> {
  return client.readContract({ address: game, abi: faultDisputeGameAbi, functionName: 'credit', args: [account] })
}

/** Multicall3 in batches; any failing call fails the read (the views read here never revert). */
async function multicall(
  client: PublicClient,
  // viem's multicall types each contract call precisely; a heterogeneous list is typed by its results below.
  contracts: readonly { address: Address; abi: readonly unknown[]; functionName: string; args?: readonly unknown[] }[],
): Promise<unknown[]> {
  const out: unknown[] = []
  for (let i = 0; i < contracts.length; i += BATCH) {
    const slice = contracts.slice(i, i + BATCH)
    const results = await client.multicall({
      // biome-ignore lint/suspicious/noExplicitAny: see the parameter's comment
      contracts: slice as any,
      allowFailure: false,
      multicallAddress: MULTICALL3,
    })
    out.push(...(results as unknown[]))
  }
  return out
}
