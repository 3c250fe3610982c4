/**
 * The proposer: the sequencer's duty of posting its outputs to L1 as dispute games, resolving them when their
 * clocks have run out, taking its bonds back and moving the anchor forward (op-proposer's job, plus the
 * resolve/claim chores op-challenger does for its own claims).
 *
 * Everything it knows comes from L1 each round — the factory's games created by its address, the anchor, its
 * credits — so a restart resumes where it was, and a proposal cannot be made twice: the factory refuses a second game
 * with the same (type, root, block) and each `create` is simulated first. It never defends its claims: that is the
 * prover's honest strategy (`--role=prover` beside the sequencer, with its own key).
 *
 * A round that fails (L1 down, a transaction reverted) is retried with a doubling wait; after a few in a row the
 * alarm is raised (error log, metric). Nothing it does can stop the sequencer.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import {
  type Account,
  type Address,
  type Chain,
  encodeAbiParameters,
  getAddress,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import { anchorStateRegistryAbi } from '../generated/AnchorStateRegistry.ts'
import { disputeGameFactoryAbi } from '../generated/DisputeGameFactory.ts'
import { faultDisputeGameAbi } from '../generated/FaultDisputeGame.ts'
import { optimismPortal2Abi } from '../generated/OptimismPortal2.ts'
import { ensureOutputPublished, outputRegistryOfGameType } from '../dispute/output-registry.ts'
import type { OwnGame, ProposerChain, ProposerService, ProposerStatus } from './interface.ts'
import type { ProposerMetrics } from './metrics.ts'
import type { ProposerOptions } from './options.ts'
import { ProposerError } from './errors.ts'

/** OP's GameStatus. */
export const GameStatus = { IN_PROGRESS: 0, CHALLENGER_WINS: 1, DEFENDER_WINS: 2 } as const

export interface ProposerDeps {
  l1: PublicClient
  /** Signs with the proposer's key (never the batcher's or the sequencer's: nonces would collide). */
  wallet: WalletClient<Transport, Chain, Account>
  /** OptimismPortal2: the factory and the anchor registry are read from it. */
  portal: Address
  chain: ProposerChain
  logger: Logger
  metrics: ProposerMetrics
}

/** The dispute contracts as the portal points at them, read each round (the guardian may change the game type). */
interface DisputeContext {
  factory: Address
  registry: Address
  gameType: number
  anchorBlock: bigint
  now: bigint
}

interface TrackedGame extends OwnGame {
  status: number
}

export class Proposer implements ProposerService {
  readonly address: Address
  /** Our games with something left to do; a settled one is dropped (the scan index keeps it from coming back). */
  private readonly games = new Map<Address, TrackedGame>()
  /** Factory games scanned so far (indexes below are known). */
  private scanned = 0n
  private scannedFactory: Address | undefined
  private latestProposed: bigint | undefined
  private loop: Promise<void> | undefined
  private readonly abort = new AbortController()
  private consecutiveFailures = 0
  private lastFailure: string | undefined

  constructor(
    private readonly options: ProposerOptions,
    private readonly deps: ProposerDeps,
  ) {
    if (options.intervalBlocks <= 0n) throw new ProposerError('--proposer.interval must be at least 1 block', 'critical')
    this.address = getAddress(deps.wallet.account.address)
  }

  start(): void {
    if (this.loop !== undefined) return
    this.deps.logger.info(
      { proposer: this.address, interval: this.options.intervalBlocks.toString(), pollMs: this.options.pollIntervalMs },
      'proposer started',
    )
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.abort.abort()
    await this.loop
  }

  status(): ProposerStatus {
    return {
      enabled: true,
      address: this.address,
      ...(this.latestProposed === undefined ? {} : { latestProposed: this.latestProposed }),
      gamesInProgress: [...this.games.values()].filter((g) => g.status === GameStatus.IN_PROGRESS).length,
      ...(this.lastFailure === undefined ? {} : { failure: this.lastFailure }),
    }
  }

  private async run(): Promise<void> {
    const { signal } = this.abort
    while (!signal.aborted) {
      let wait = this.options.pollIntervalMs
      try {
        await this.round()
        if (this.consecutiveFailures >= this.options.alarmAfterFailures) this.deps.logger.info('proposer recovered')
        this.consecutiveFailures = 0
        this.lastFailure = undefined
        this.deps.metrics.setAlarm(false)
      } catch (error) {
        if (signal.aborted) break
        this.consecutiveFailures++
        this.lastFailure = error instanceof Error ? error.message.split('\n')[0] : String(error)
        const kind = error instanceof ProposerError ? error.kind : 'l1'
        this.deps.metrics.failure(kind)
        wait = Math.min(this.options.pollIntervalMs * 2 ** this.consecutiveFailures, this.options.maxBackoffMs)
        if (this.consecutiveFailures >= this.options.alarmAfterFailures) {
          this.deps.metrics.setAlarm(true)
          this.deps.logger.error(
            { err: error, failures: this.consecutiveFailures, retryMs: wait },
            'PROPOSER ALARM: rounds keep failing; no outputs are proposed or games resolved until L1 answers',
          )
        } else this.deps.logger.warn({ err: error, retryMs: wait }, 'proposer round failed; retrying')
      }
      await sleep(wait, undefined, { signal }).catch(() => undefined)
    }
  }

  /** One round: learn new games, settle ours (resolve, claim, anchor), propose if a block is due. Public for tests. */
  async round(): Promise<void> {
    const context = await this.readContext()
    await this.scanGames(context)
    for (const game of this.games.values()) {
      if (this.abort.signal.aborted) return
      if (await this.settle(game, context)) this.games.delete(game.address)
    }
    this.deps.metrics.setBondsAtStake(
      [...this.games.values()].filter((g) => g.status === GameStatus.IN_PROGRESS).reduce((sum, g) => sum + g.bond, 0n),
    )
    await this.proposeIfDue(context)
  }

  private async readContext(): Promise<DisputeContext> {
    const { l1, portal } = this.deps
    const [factory, registry] = await Promise.all([
      l1.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'disputeGameFactory' }),
      l1.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'anchorStateRegistry' }),
    ])
    const [gameType, [, anchorBlock], block] = await Promise.all([
      l1.readContract({ address: registry, abi: anchorStateRegistryAbi, functionName: 'respectedGameType' }),
      l1.readContract({ address: registry, abi: anchorStateRegistryAbi, functionName: 'getAnchorRoot' }),
      l1.getBlock({ blockTag: 'latest' }),
    ])
    return { factory: getAddress(factory), registry: getAddress(registry), gameType, anchorBlock, now: block.timestamp }
  }

  /** Reads the factory's games not seen yet and keeps ours (created by this address). */
  private async scanGames(context: DisputeContext): Promise<void> {
    const { l1 } = this.deps
    if (this.scannedFactory !== context.factory) {
      this.scannedFactory = context.factory
      this.scanned = 0n
      this.games.clear()
    }
    const count = await l1.readContract({ address: context.factory, abi: disputeGameFactoryAbi, functionName: 'gameCount' })
    for (; this.scanned < count; this.scanned++) {
      const index = this.scanned
      const [gameType, , proxy] = await l1.readContract({
        address: context.factory,
        abi: disputeGameFactoryAbi,
        functionName: 'gameAtIndex',
        args: [index],
      })
      const address = getAddress(proxy)
      const creator = await l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'gameCreator' })
      if (getAddress(creator) !== this.address) continue
      const [l2Block, rootClaim, status, root] = await Promise.all([
        l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'l2BlockNumber' }),
        l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'rootClaim' }),
        l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'status' }),
        l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'claimData', args: [0n] }),
      ])
      this.games.set(address, { address, index, gameType, l2Block, rootClaim, bond: root[3], status })
      if (gameType === context.gameType && (this.latestProposed === undefined || l2Block > this.latestProposed))
        this.latestProposed = l2Block
    }
  }

  /**
   * Resolves `game` once every clock in it ran out, claims its credit after the delay, and anchors it when valid.
   * True when nothing is left to do with it: resolved, credit taken, anchor set or past it.
   */
  private async settle(game: TrackedGame, context: DisputeContext): Promise<boolean> {
    const { l1 } = this.deps
    const address = game.address
    game.status = await l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'status' })
    if (game.status === GameStatus.IN_PROGRESS && !(await this.resolve(game))) return false
    const [credit, resolvedAt, creditDelay] = await Promise.all([
      l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'credit', args: [this.address] }),
      l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'resolvedAt' }),
      l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'creditDelaySeconds' }),
    ])
    let creditLeft = credit
    if (credit > 0n && context.now >= resolvedAt + creditDelay) {
      await this.send('claimCredit', address, 'claimCredit', [this.address])
      this.deps.metrics.creditClaimed(credit)
      this.deps.logger.info({ game: address, wei: credit.toString() }, 'claimed credit')
      creditLeft = 0n
    }
    const anchored = await this.anchor(game, context)
    return creditLeft === 0n && anchored
  }

  /** `resolveClaim` bottom-up over every claim, then `resolve`. False while a clock is still running. */
  private async resolve(game: TrackedGame): Promise<boolean> {
    const { l1 } = this.deps
    const address = game.address
    const [length, maxClock] = await Promise.all([
      l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'claimDataLen' }),
      l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'maxClockDuration' }),
    ])
    // A claim's children come after it in claimData: from the last claim back to the root is bottom-up.
    for (let i = length - 1n; i >= 0n; i--) {
      if (await l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'resolvedSubgames', args: [i] })) continue
      const used = await l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'getChallengerDuration', args: [i] })
      if (used < maxClock) return false
      await this.send('resolveClaim', address, 'resolveClaim', [i, 0n])
    }
    await this.send('resolve', address, 'resolve', [])
    game.status = await l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'status' })
    const outcome = game.status === GameStatus.DEFENDER_WINS ? 'defender_wins' : 'challenger_wins'
    this.deps.metrics.resolved(outcome)
    const log = { game: address, l2Block: game.l2Block.toString(), claims: Number(length) }
    if (game.status === GameStatus.DEFENDER_WINS) this.deps.logger.info(log, 'resolved game: DEFENDER_WINS')
    // Our output lost: either our chain was wrong or no prover defended it in time. Loud either way.
    else this.deps.logger.error(log, 'resolved game: CHALLENGER_WINS — our output was defeated')
    return true
  }

  /** Makes a finalized valid game the anchor if it is newer than the anchor. True when there is nothing left to do. */
  private async anchor(game: TrackedGame, context: DisputeContext): Promise<boolean> {
    if (game.status !== GameStatus.DEFENDER_WINS || game.l2Block <= context.anchorBlock) return true
    const { l1 } = this.deps
    const read = (functionName: 'isGameClaimValid' | 'isGameFinalized') =>
      l1.readContract({ address: context.registry, abi: anchorStateRegistryAbi, functionName, args: [game.address] })
    if (!(await read('isGameClaimValid'))) {
      // Finalized but not valid (blacklisted, retired, another game type): it can never be the anchor.
      return await read('isGameFinalized')
    }
    await this.send('setAnchorState', context.registry, 'setAnchorState', [game.address], anchorStateRegistryAbi)
    context.anchorBlock = game.l2Block
    this.deps.metrics.anchorUpdated(game.l2Block)
    this.deps.logger.info({ game: game.address, l2Block: game.l2Block.toString() }, 'anchor state updated')
    return true
  }

  /** Proposes the newest safe block that is a multiple of the interval and newer than the anchor and our last proposal. */
  private async proposeIfDue(context: DisputeContext): Promise<void> {
    const { chain, l1, wallet, logger } = this.deps
    const interval = this.options.intervalBlocks
    const target = (chain.safeHead() / interval) * interval
    const floor =
      this.latestProposed === undefined || this.latestProposed < context.anchorBlock ? context.anchorBlock : this.latestProposed
    if (target <= floor) return
    const output = await chain.output(target)
    if (output === undefined) {
      this.deps.metrics.failure('output')
      logger.warn({ l2Block: target.toString() }, 'cannot propose: the state of that block is no longer kept')
      return
    }
    const registry = await outputRegistryOfGameType(l1, context.factory, context.gameType)
    if (registry !== undefined) {
      const published = await ensureOutputPublished({ public: l1, wallet }, registry, output)
      if (published !== output.root)
        throw new ProposerError(
          `the output registry computes ${published} for block ${target}, this node ${output.root}: not proposing`,
          'output',
        )
    }
    const bond = await l1.readContract({
      address: context.factory,
      abi: disputeGameFactoryAbi,
      functionName: 'initBonds',
      args: [context.gameType],
    })
    const extraData = encodeAbiParameters([{ type: 'uint256' }], [target])
    const gas = await this.send(
      'propose',
      context.factory,
      'create',
      [context.gameType, output.root, extraData],
      disputeGameFactoryAbi,
      bond,
    )
    this.latestProposed = target
    this.deps.metrics.proposed(target)
    logger.info(
      {
        l2Block: target.toString(),
        outputRoot: output.root,
        bond: bond.toString(),
        gas: gas.toString(),
        published: registry !== undefined,
      },
      'proposed output',
    )
  }

  /**
   * Simulates then sends a call and waits for it: a call that would revert is not sent (no gas burnt on a game
   * someone else just resolved, or a proposal that already exists). Returns the gas used.
   */
  private async send(
    action: string,
    address: Address,
    functionName: string,
    args: readonly unknown[],
    abi: typeof faultDisputeGameAbi | typeof anchorStateRegistryAbi | typeof disputeGameFactoryAbi = faultDisputeGameAbi,
    value?: bigint,
  ): Promise<bigint> {
    const { l1, wallet } = this.deps
    // The function name and arguments are checked by the simulation against the ABI at run time; viem's static
    // types cannot follow a name chosen by the caller, hence the casts.
    const { request } = await l1.simulateContract({
      account: wallet.account,
      address,
      abi,
      functionName,
      args,
      ...(value === undefined ? {} : { value }),
    } as unknown as Parameters<PublicClient['simulateContract']>[0])
    const hash = await wallet.writeContract(request as unknown as Parameters<typeof wallet.writeContract>[0])
    const receipt = await l1.waitForTransactionReceipt({ hash })
    this.deps.metrics.l1Gas(action, receipt.gasUsed)
    if (receipt.status !== 'success') throw new ProposerError(`${action} on ${address} reverted (tx ${hash})`, 'tx')
    return receipt.gasUsed
  }
}
