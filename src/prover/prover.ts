/**
 * The prover agent: watches the dispute game factory and plays every in-progress game of the respected type
 * with op-challenger's honest strategy (`solver.ts`) against the chain it derived from L1, then resolves the games
 * it played bottom-up and claims its credits.
 *
 * - **State from L1 only.** At start it scans the factory back from the newest game while games are young enough
 *   to be in progress or to hold unclaimed credit (two max clocks, the credit delay and a margin of L1 time), so a
 *   restarted prover resumes every game it was playing; everything it decides is read from the game each poll.
 * - **Never ahead of its chain.** A game whose block is above the derived safe head, or whose `l1Head` is above the
 *   L1 block derivation has read, is not acted on: the prover logs that it waits.
 * - **Several provers.** Honest provers make the same claims; the solver skips moves that exist, and a move that
 *   lost a race (the game reverts `ClaimAlreadyExists`) or a resolution someone else made is ignored quietly.
 * - **Steps.** Made only when the execution trace provider can build the inputs; a step the VM reverts is logged
 *   once and not retried (with `UnprovableVM` the clocks decide the game).
 */
import {
  type Account,
  type Address,
  BaseError,
  type Chain,
  ContractFunctionRevertedError,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import type { Logger } from 'pino'
import { anchorStateRegistryAbi } from '../bridge/generated/AnchorStateRegistry.ts'
import { disputeGameFactoryAbi } from '../bridge/generated/DisputeGameFactory.ts'
import { faultDisputeGameAbi } from '../bridge/generated/FaultDisputeGame.ts'
import { optimismPortal2Abi } from '../bridge/generated/OptimismPortal2.ts'
import { ProverError } from './errors.ts'
import { type GameSnapshot, GameStatus } from './game-state.ts'
import { creditOf, gameCount, gamesAt, readGame } from './game-reader.ts'
import type { DerivedChainSource, ExecutionTraceProvider, OutputPublisher } from './interface.ts'
import type { ProverMetrics } from './metrics.ts'
import type { ProverOptions } from './options.ts'
import { publishBeforeClaim } from './output-publication.ts'
import { depthOf } from './position.ts'
import { type Action, solveGame } from './solver.ts'

export interface ProverModules {
  l1: PublicClient
  wallet: WalletClient<Transport, Chain | undefined, Account>
  /** OptimismPortal2: the factory and the respected game type are read from it. */
  portal: Address
  chain: DerivedChainSource
  /** The execution trace for a game's VM; undefined: the prover plays the output half only. */
  traceFor(vm: Address): Promise<ExecutionTraceProvider | undefined>
  /** What publishes an output before the prover claims it, for a game's VM; undefined: nothing to publish. */
  publisherFor(vm: Address): Promise<OutputPublisher | undefined>
  logger: Logger
  metrics: ProverMetrics
}

/** What the prover remembers of a game between polls; all of it can be rebuilt from L1. */
interface TrackedGame {
  address: Address
  played: boolean
  attacked: boolean
  defended: boolean
  waiting: string | undefined
  agreeWithRoot: boolean | undefined
  failedSteps: Set<bigint>
  gaps: Set<bigint>
  outcomeCounted: boolean
}

/**
 * How often a sent transaction's receipt is polled: viem's default (4 s) would make every move of a bisection wait
 * seconds after its block; a chess clock is short.
 */
const RECEIPT_POLL_MS = 250

/** Gas of the resolution transactions sent without estimation (a batch bottom-up in one go). */
const RESOLVE_CLAIM_GAS = 400_000n
const RESOLVE_GAS = 200_000n

export class Prover {
  private readonly games = new Map<Address, TrackedGame>()
  /** L1 block numbers of the games' `l1Head` hashes. */
  private readonly l1Numbers = new Map<Hex, bigint>()
  private nextIndex: bigint | undefined
  private factory: Address | undefined
  private anchorRegistry: Address | undefined
  private gameType: number | undefined
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = false
  private readonly logger: Logger
  private readonly me: Address

  constructor(
    private readonly options: ProverOptions,
    private readonly modules: ProverModules,
  ) {
    this.logger = modules.logger
    this.me = modules.wallet.account.address
  }

  start(): void {
    this.stopped = false
    this.schedule(0)
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    await this.running
  }

  /** One pass over the factory and every tracked game (exposed for tests that step the agent). */
  async tick(): Promise<void> {
    const { l1 } = this.modules
    if (this.factory === undefined) await this.init()
    const factory = this.factory!
    const now = (await l1.getBlock({ blockTag: 'latest' })).timestamp
    const count = await gameCount(l1, factory)
    if (this.nextIndex === undefined) this.nextIndex = await this.startIndex(factory, count, now)
    if (count > this.nextIndex) {
      const indices = Array.from({ length: Number(count - this.nextIndex) }, (_, i) => this.nextIndex! + BigInt(i))
      for (const game of await gamesAt(l1, factory, indices))
        if (game.gameType === this.gameType && !this.games.has(game.address)) {
          this.games.set(game.address, newTracked(game.address))
          this.modules.metrics.gamesSeen.inc()
          this.logger.info({ game: game.address, index: game.index.toString() }, 'dispute game found')
        }
      this.nextIndex = count
    }
    let atStake = 0n
    let waiting = 0
    let unread = 0
    // The lowest block a game may still bisect over: the anchor (new games start there) or an open game's start.
    let [, retainFrom] = await l1.readContract({
      address: this.anchorRegistry!,
      abi: anchorStateRegistryAbi,
      functionName: 'getAnchorRoot',
    })
    for (const tracked of this.games.values()) {
      if (this.stopped) return
      try {
        const game = await readGame(l1, tracked.address)
        if (game.status === GameStatus.IN_PROGRESS) {
          if (game.startingBlock < retainFrom) retainFrom = game.startingBlock
          await this.play(tracked, game, now)
          atStake += game.claims.filter((c) => c.claimant === this.me && !c.resolved).reduce((sum, c) => sum + c.bond, 0n)
          if (tracked.waiting !== undefined) waiting++
        } else await this.settle(tracked, game, now)
      } catch (err) {
        unread++
        this.logger.warn({ error: briefly(err), game: tracked.address }, 'could not play a dispute game this round; trying again')
      }
    }
    this.modules.metrics.bondsAtStake.set(Number(atStake))
    this.modules.metrics.gamesWaiting.set(waiting)
    // A game this round could not read may start below the anchor: nothing is forgotten until every game is read.
    if (unread === 0) await this.modules.chain.retainFrom(retainFrom)
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err: unknown) => this.logger.warn({ error: briefly(err) }, 'prover poll failed; trying again'))
        .finally(() => this.schedule(this.options.pollMs))
    }, delayMs)
  }

  private async init(): Promise<void> {
    const { l1, portal } = this.modules
    const factory = await l1.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'disputeGameFactory' })
    if (BigInt(factory) === 0n)
      throw new ProverError('PROVER_NO_DISPUTE_CONTRACTS', 'the rollup’s portal has no dispute game factory', {
        severity: 'critical',
      })
    this.gameType = await l1.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'respectedGameType' })
    this.anchorRegistry = await l1.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'anchorStateRegistry' })
    this.factory = factory
  }

  /**
   * The oldest factory index that may still matter: scanning back while games are younger than two max clocks,
   * the credit delay and a margin (the implementation's parameters, read from L1).
   */
  private async startIndex(factory: Address, count: bigint, now: bigint): Promise<bigint> {
    const { l1 } = this.modules
    const impl = await l1.readContract({
      address: factory,
      abi: disputeGameFactoryAbi,
      functionName: 'gameImpls',
      args: [this.gameType!],
    })
    const [maxClock, creditDelay] = await Promise.all([
      l1.readContract({ address: impl, abi: faultDisputeGameAbi, functionName: 'maxClockDuration' }),
      l1.readContract({ address: impl, abi: faultDisputeGameAbi, functionName: 'creditDelaySeconds' }),
    ])
    const horizon = now - (2n * maxClock + creditDelay + this.options.lookbackMarginSeconds)
    let index = count
    const PAGE = 100n
    while (index > 0n) {
      const from = index > PAGE ? index - PAGE : 0n
      const page = await gamesAt(
        l1,
        factory,
        Array.from({ length: Number(index - from) }, (_, i) => from + BigInt(i)),
      )
      const young = page.filter((g) => g.createdAt >= horizon)
      if (young.length < page.length) {
        index = young.length === 0 ? index : young[0]!.index
        break
      }
      index = from
    }
    this.logger.info({ from: index.toString(), games: count.toString() }, 'watching the dispute game factory')
    return index
  }

  private async play(tracked: TrackedGame, game: GameSnapshot, now: bigint): Promise<void> {
    const { chain, metrics } = this.modules
    const reason = await this.notDerived(game)
    if (reason !== undefined) {
      if (tracked.waiting !== reason)
        this.logger.info({ game: game.address, l2Block: game.l2BlockNumber.toString(), reason }, 'waiting before playing a game')
      tracked.waiting = reason
      return
    }
    if (tracked.waiting !== undefined) this.logger.info({ game: game.address }, 'game’s range derived: playing it')
    tracked.waiting = undefined
    const execution = await this.modules.traceFor(game.vm)
    const solution = await solveGame(game, { output: (block) => chain.outputAt(block), execution })
    tracked.agreeWithRoot = solution.agreeWithRoot
    for (const gap of solution.gaps)
      if (!tracked.gaps.has(gap)) {
        tracked.gaps.add(gap)
        metrics.membershipGap.inc()
        this.logger.warn(
          { game: game.address, claim: gap.toString() },
          'cannot judge this claim: its block’s published transactions are not the derived block’s (the membership gap); playing the output half only',
        )
      }
    const last = game.claims.at(-1)!
    metrics.clockSecondsLeft.set({ game: game.address }, Number(game.maxClockDuration - last.challengerDuration))
    for (const action of solution.actions) {
      if (this.stopped) return
      const parent = game.claims[Number(action.kind === 'move' ? action.parentIndex : action.claimIndex)]!
      if (parent.challengerDuration >= game.maxClockDuration) continue
      if (action.kind === 'move') await this.move(tracked, game, action)
      else await this.step(tracked, game, action, execution)
    }
    if (!tracked.defended && solution.agreeWithRoot && game.claims.some((c) => c.parentIndex === 0n)) {
      tracked.defended = true
      metrics.gamesDefended.inc()
      this.logger.info({ game: game.address }, 'defending a correct root claim that was attacked')
    }
    tracked.played ||= game.claims.some((c) => c.claimant === this.me) || tracked.attacked
    if (tracked.played) await this.resolve(game, now)
  }

  /** Why the prover may not act on the game yet, or undefined when its range is derived. */
  private async notDerived(game: GameSnapshot): Promise<string | undefined> {
    const { chain, l1 } = this.modules
    const safe = chain.safeHead()
    if (safe === undefined || safe < game.l2BlockNumber)
      return `the derived safe head (${safe ?? 'none'}) is below the game's block ${game.l2BlockNumber}`
    let l1Head = this.l1Numbers.get(game.l1Head)
    if (l1Head === undefined) {
      l1Head = (await l1.getBlock({ blockHash: game.l1Head })).number
      this.l1Numbers.set(game.l1Head, l1Head)
    }
    const current = chain.currentL1()
    if (current === undefined || current < l1Head)
      return `derivation has read L1 through block ${current ?? 'none'}, below the game's L1 head ${l1Head}`
    return undefined
  }

  private async move(tracked: TrackedGame, game: GameSnapshot, action: Extract<Action, { kind: 'move' }>): Promise<void> {
    const { l1, wallet, metrics } = this.modules
    if (action.output !== undefined) await publishBeforeClaim(await this.modules.publisherFor(game.vm), action.output)
    const bond = await l1.readContract({
      address: game.address,
      abi: faultDisputeGameAbi,
      functionName: 'getRequiredBond',
      args: [action.position],
    })
    const sent = await this.send(game.address, `${action.isAttack ? 'attack' : 'defend'} claim ${action.parentIndex}`, () =>
      wallet.writeContract({
        chain: wallet.chain,
        address: game.address,
        abi: faultDisputeGameAbi,
        functionName: 'move',
        args: [action.parentValue, action.parentIndex, action.value, action.isAttack],
        value: bond,
      }),
    )
    if (!sent) return
    metrics.moves.inc({ kind: action.isAttack ? 'attack' : 'defend' })
    if (action.parentIndex === 0n && !tracked.attacked) {
      tracked.attacked = true
      metrics.gamesAttacked.inc()
    }
    tracked.played = true
    this.logger.info(
      {
        game: game.address,
        parent: action.parentIndex.toString(),
        depth: depthOf(action.position),
        claim: action.value,
        bond: bond.toString(),
      },
      action.isAttack ? 'attacked a claim it disagrees with' : 'defended a claim it agrees with',
    )
  }

  private async step(
    tracked: TrackedGame,
    game: GameSnapshot,
    action: Extract<Action, { kind: 'step' }>,
    execution: ExecutionTraceProvider | undefined,
  ): Promise<void> {
    const { wallet, metrics } = this.modules
    if (tracked.failedSteps.has(action.claimIndex)) return
    const inputs = await execution?.stepInputs(action.context, action.preIndex, action.claimIndex)
    if (inputs === undefined) {
      tracked.failedSteps.add(action.claimIndex)
      metrics.steps.inc({ outcome: 'unavailable' })
      this.logger.warn(
        { game: game.address, claim: action.claimIndex.toString() },
        'cannot step against this max-depth claim (the game’s VM has no step verifier here): the clocks decide it',
      )
      return
    }
    const gas = await this.sendForGas(game.address, `step against claim ${action.claimIndex}`, () =>
      wallet.writeContract({
        chain: wallet.chain,
        address: game.address,
        abi: faultDisputeGameAbi,
        functionName: 'step',
        args: [action.claimIndex, action.isAttack, inputs.stateData, inputs.proof],
      }),
    )
    if (gas !== undefined) {
      metrics.steps.inc({ outcome: 'ok' })
      this.logger.info(
        { game: game.address, claim: action.claimIndex.toString(), gas: gas.toString() },
        'stepped against a max-depth claim',
      )
    } else {
      tracked.failedSteps.add(action.claimIndex)
      metrics.steps.inc({ outcome: 'reverted' })
    }
  }

  /**
   * Resolves every subgame whose clock ran out, children before parents (children have higher indices), in one
   * burst of transactions in nonce order, then the game once its root subgame is resolved.
   */
  private async resolve(game: GameSnapshot, _now: bigint): Promise<void> {
    const resolved = new Set(game.claims.filter((c) => c.resolved).map((c) => c.index))
    const children = new Map<bigint, bigint[]>()
    for (const claim of game.claims.slice(1)) {
      const list = children.get(claim.parentIndex) ?? []
      list.push(claim.index)
      children.set(claim.parentIndex, list)
    }
    const order: bigint[] = []
    for (let i = game.claims.length - 1; i >= 0; i--) {
      const claim = game.claims[i]!
      if (resolved.has(claim.index) || claim.challengerDuration < game.maxClockDuration) continue
      if (!(children.get(claim.index) ?? []).every((child) => resolved.has(child))) continue
      order.push(claim.index)
      resolved.add(claim.index)
    }
    const { wallet, l1 } = this.modules
    const hashes: Hex[] = []
    try {
      let nonce = await l1.getTransactionCount({ address: this.me, blockTag: 'pending' })
      for (const index of order)
        hashes.push(
          await wallet.writeContract({
            chain: wallet.chain,
            address: game.address,
            abi: faultDisputeGameAbi,
            functionName: 'resolveClaim',
            args: [index, 0n],
            gas: RESOLVE_CLAIM_GAS,
            nonce: nonce++,
          }),
        )
      if (resolved.has(0n))
        hashes.push(
          await wallet.writeContract({
            chain: wallet.chain,
            address: game.address,
            abi: faultDisputeGameAbi,
            functionName: 'resolve',
            gas: RESOLVE_GAS,
            nonce: nonce++,
          }),
        )
    } catch (err) {
      this.logger.warn({ error: briefly(err), game: game.address }, 'could not send the resolution transactions; trying again')
    }
    if (hashes.length === 0) return
    // A resolution another prover made first reverts here: the game's state is re-read next round either way.
    const receipts = await Promise.all(
      hashes.map((hash) => l1.waitForTransactionReceipt({ hash, pollingInterval: RECEIPT_POLL_MS })),
    )
    const failed = receipts.filter((r) => r.status !== 'success').length
    this.logger.info(
      { game: game.address, claims: order.map(String), resolveGame: resolved.has(0n), reverted: failed },
      'resolved subgames whose clocks ran out',
    )
  }

  /** A resolved game: counts the outcome once, claims the credit after the delay, forgets the game once paid. */
  private async settle(tracked: TrackedGame, game: GameSnapshot, now: bigint): Promise<void> {
    const { l1, metrics } = this.modules
    if (!tracked.outcomeCounted) {
      tracked.outcomeCounted = true
      tracked.played ||= game.claims.some((c) => c.claimant === this.me)
      if (tracked.played) {
        if (tracked.agreeWithRoot === undefined) {
          const safe = this.modules.chain.safeHead()
          if (safe !== undefined && safe >= game.l2BlockNumber)
            tracked.agreeWithRoot =
              (await this.modules.chain.outputAt(game.l2BlockNumber)).root.toLowerCase() === game.rootClaim.toLowerCase()
        }
        if (tracked.agreeWithRoot !== undefined) {
          const won = (game.status === GameStatus.DEFENDER_WINS) === tracked.agreeWithRoot
          ;(won ? metrics.gamesWon : metrics.gamesLost).inc()
          this.logger.info(
            { game: game.address, status: game.status === GameStatus.DEFENDER_WINS ? 'DEFENDER_WINS' : 'CHALLENGER_WINS', won },
            'dispute game resolved',
          )
        }
      }
      metrics.clockSecondsLeft.remove({ game: game.address })
    }
    const credit = await creditOf(l1, game.address, this.me)
    if (credit === 0n) {
      this.games.delete(game.address)
      return
    }
    if (now < game.resolvedAt + game.creditDelaySeconds) return
    const sent = await this.send(game.address, 'claim credit', () =>
      this.modules.wallet.writeContract({
        chain: this.modules.wallet.chain,
        address: game.address,
        abi: faultDisputeGameAbi,
        functionName: 'claimCredit',
        args: [this.me],
      }),
    )
    if (sent) {
      metrics.creditClaimed.inc(Number(credit))
      this.logger.info({ game: game.address, wei: credit.toString() }, 'claimed credit')
    }
  }

  /**
   * Sends one transaction (simulated first by viem's estimate) and waits for it. A revert is not an error of the
   * prover's: a race lost to another prover (a duplicate move, a resolution made first), a clock that ran out
   * meanwhile, or a VM that cannot step. It is logged (quietly for the races) and reported as not sent.
   */
  private async send(game: Address, what: string, write: () => Promise<Hex>): Promise<boolean> {
    return (await this.sendForGas(game, what, write)) !== undefined
  }

  /** `send`, answering the gas the transaction used (undefined: not sent). */
  private async sendForGas(game: Address, what: string, write: () => Promise<Hex>): Promise<bigint | undefined> {
    try {
      const hash = await write()
      const receipt = await this.modules.l1.waitForTransactionReceipt({ hash, pollingInterval: RECEIPT_POLL_MS })
      if (receipt.status === 'success') return receipt.gasUsed
      this.logger.warn({ game, tx: hash }, `${what}: the transaction reverted`)
      return undefined
    } catch (err) {
      const reason = revertName(err)
      if (reason !== undefined && QUIET_REVERTS.has(reason))
        this.logger.debug({ game, reason }, `${what}: already done or too late`)
      else if (reason !== undefined) this.logger.warn({ game, reason }, `${what}: the game refused it`)
      else throw err
      return undefined
    }
  }
}

/** Reverts that mean someone else got there first, or the moment passed: nothing to report. */
const QUIET_REVERTS = new Set([
  'ClaimAlreadyExists',
  'ClaimAlreadyResolved',
  'GameNotInProgress',
  'DuplicateStep',
  'ClockTimeExceeded',
])

function revertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined
  const cause = error.walk((e) => e instanceof ContractFunctionRevertedError)
  if (!(cause instanceof ContractFunctionRevertedError)) return undefined
  return cause.data?.errorName ?? cause.reason ?? 'reverted'
}

/** viem's errors carry the whole ABI: log the short message (and the revert name) only. */
function briefly(error: unknown): string {
  if (error instanceof BaseError) return [error.shortMessage, revertName(error)].filter(Boolean).join(' — ')
  return error instanceof Error ? error.message : String(error)
}

function newTracked(address: Address): TrackedGame {
  return {
    address,
    played: false,
    attacked: false,
    defended: false,
    waiting: undefined,
    agreeWithRoot: undefined,
    failedSteps: new Set(),
    gaps: new Set(),
    outcomeCounted: false,
  }
}
