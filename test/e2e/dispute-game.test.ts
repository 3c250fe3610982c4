// run-tests: pair — waits on L1 (anvil's 1 s blocks, games, batcher and proposer rounds) far more than it computes
/**
 * The dispute game on a real anvil with the test VM: the factory (exact bonds, one game per UUID, lookups that agree),
 * OP's bond curve, a full game between an honest player (the test VM's true trace and true outputs) and an adversary
 * that answers every move down to max depth (wrong root: the honest challenger wins by `step`; honest root attacked
 * with arbitrary claims: the defender wins), bottom-up resolution with exact credits, the credit delay, and the chess
 * clocks with their extension. Prints one JSON line of L1 gas figures.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  BaseError,
  ContractFunctionRevertedError,
  encodeAbiParameters,
  getContract,
  keccak256,
  parseEther,
  toHex,
  type Address,
  type Hex,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { disputeGameFactoryAbi } from '../../src/bridge/generated/DisputeGameFactory.ts'
import { faultDisputeGameAbi, faultDisputeGameBytecode } from '../../src/bridge/generated/FaultDisputeGame.ts'
import {
  depth,
  GAME_TYPE,
  movePosition,
  startDisputeStack,
  TEST_DISPUTE,
  traceIndex,
  vmCommit,
  vmState,
  type Stack,
} from '../helpers/dispute.ts'
import { DEV_KEYS } from '../helpers/node-process.ts'

const honest = privateKeyToAccount(DEV_KEYS[2]!)
const dishonest = privateKeyToAccount(DEV_KEYS[3]!)
const bystander = privateKeyToAccount(DEV_KEYS[4]!)
const MAX_DEPTH = Number(TEST_DISPUTE.maxGameDepth)
const SPLIT = Number(TEST_DISPUTE.splitDepth)
const ANCHOR_BLOCK = 0n
const gas: Record<string, number> = {}

/** The honest L2: the output root of every block is a known function of its number. */
function outputAt(block: bigint): Hex {
  return keccak256(encodeAbiParameters([{ type: 'string' }, { type: 'uint256' }], ['honest output', block]))
}

/** The true claim at a position: an output root above the split, the test VM's trace below. */
function truth(position: bigint): Hex {
  if (depth(position) <= SPLIT) return outputAt(ANCHOR_BLOCK + traceIndex(position, SPLIT) + 1n)
  const relative = traceIndex(position, MAX_DEPTH) % (1n << BigInt(MAX_DEPTH - SPLIT))
  return vmCommit(relative + 1n)
}

/** A deterministic PRNG (mulberry32) so a failing adversary run can be replayed. */
function prng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A wrong claim: random, with the INVALID status byte below the split (an execution root must carry one). */
function garbage(random: () => number, position: bigint): Hex {
  const bytes = toHex(BigInt(Math.floor(random() * 2 ** 48)) + 1n, { size: 32 })
  const h = keccak256(bytes)
  const wrong = depth(position) > SPLIT ? (`0x01${h.slice(4)}` as Hex) : h
  return wrong === truth(position) ? keccak256(wrong) : wrong
}

function revertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined
  const cause = error.walk((e) => e instanceof ContractFunctionRevertedError)
  return cause instanceof ContractFunctionRevertedError ? cause.data?.errorName : undefined
}

async function rejectsWith(promise: Promise<unknown>, name: string): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.equal(revertName(error), name, String(error).slice(0, 400))
    return true
  })
}

let s: Stack

before(async () => {
  s = await startDisputeStack({ anchorRoot: outputAt(ANCHOR_BLOCK), anchorBlock: ANCHOR_BLOCK })
})

after(async () => {
  await s?.anvil.stop()
  process.stdout.write(`${JSON.stringify({ bench: 'dispute-l1-gas', ...gas })}\n`)
})

function factory() {
  return getContract({ address: s.dispute.disputeGameFactory, abi: disputeGameFactoryAbi, client: s.client })
}

function game(address: Address) {
  return getContract({ address, abi: faultDisputeGameAbi, client: s.client })
}

const extra = (block: bigint): Hex => encodeAbiParameters([{ type: 'uint256' }], [block])

async function createGame(creator: typeof honest, root: Hex, l2Block: bigint): Promise<Address> {
  const bond = await factory().read.initBonds([GAME_TYPE])
  const hash = await s.wallet.writeContract({
    account: creator,
    address: s.dispute.disputeGameFactory,
    abi: disputeGameFactoryAbi,
    functionName: 'create',
    args: [GAME_TYPE, root, extra(l2Block)],
    value: bond,
  })
  const receipt = await s.mined(hash)
  gas.create ??= Number(receipt.gasUsed)
  const [proxy] = await factory().read.games([GAME_TYPE, root, extra(l2Block)])
  return proxy
}

async function move(player: typeof honest, gameAddress: Address, parentIndex: bigint, claim: Hex, isAttack: boolean) {
  const g = game(gameAddress)
  const parent = await g.read.claimData([parentIndex])
  const position = movePosition(parent[5], isAttack)
  const bond = await g.read.getRequiredBond([position])
  const hash = await s.wallet.writeContract({
    account: player,
    address: gameAddress,
    abi: faultDisputeGameAbi,
    functionName: 'move',
    args: [parent[4], parentIndex, claim, isAttack],
    value: bond,
  })
  const receipt = await s.mined(hash)
  if (depth(position) === 1) gas.moveShallow ??= Number(receipt.gasUsed)
  if (depth(position) === MAX_DEPTH) gas.moveDeep ??= Number(receipt.gasUsed)
  return { index: (await g.read.claimDataLen()) - 1n, position, bond }
}

/** The honest answer to the claim at `index`: defend a true claim, attack a false one, step at max depth. */
async function honestAnswer(gameAddress: Address, index: bigint): Promise<'moved' | 'stepped'> {
  const claim = await game(gameAddress).read.claimData([index])
  const [, , , , value, position] = claim
  const agree = value === truth(position)
  if (depth(position) === MAX_DEPTH) {
    const relative = traceIndex(position, MAX_DEPTH) % (1n << BigInt(MAX_DEPTH - SPLIT))
    // Attack: the pre-state is the state before this index; defend: this claim's own (true) state.
    const stateData = agree ? vmState(relative + 1n) : vmState(relative)
    const hash = await s.wallet.writeContract({
      account: honest,
      address: gameAddress,
      abi: faultDisputeGameAbi,
      functionName: 'step',
      args: [index, !agree, stateData, '0x'],
    })
    gas.step ??= Number((await s.mined(hash)).gasUsed)
    return 'stepped'
  }
  const isAttack = !agree || index === 0n
  await move(honest, gameAddress, index, truth(movePosition(position, isAttack)), isAttack)
  return 'moved'
}

/**
 * The adversary's answer to an honest claim: attack or defend at random (attack where a defense is not allowed or
 * would need a VALID execution root), with the true value or garbage at random (garbage at and just below the split,
 * where the test VM's always-INVALID status cannot express a valid transition).
 */
async function dishonestAnswer(gameAddress: Address, index: bigint, random: () => number): Promise<void> {
  const [, , , , , position] = await game(gameAddress).read.claimData([index])
  const nextDepth = depth(position) + 1
  const mustAttack = index === 0n || nextDepth === SPLIT + 2 || nextDepth === SPLIT + 1
  const isAttack = mustAttack || random() < 0.5
  const next = movePosition(position, isAttack)
  const claim =
    nextDepth >= SPLIT && nextDepth <= SPLIT + 1 ? garbage(random, next) : random() < 0.3 ? truth(next) : garbage(random, next)
  await move(dishonest, gameAddress, index, claim, isAttack)
}

/** Resolves every subgame bottom-up (children have higher indices than parents) and then the game. */
async function resolveAll(gameAddress: Address): Promise<number> {
  const g = game(gameAddress)
  const count = await g.read.claimDataLen()
  for (let i = count - 1n; i >= 0n; i--) {
    const hash = await s.wallet.writeContract({
      account: bystander,
      address: gameAddress,
      abi: faultDisputeGameAbi,
      functionName: 'resolveClaim',
      args: [i, 0n],
    })
    const receipt = await s.mined(hash)
    if (i === 0n) gas.resolveClaimRoot ??= Number(receipt.gasUsed)
  }
  const hash = await s.wallet.writeContract({
    account: bystander,
    address: gameAddress,
    abi: faultDisputeGameAbi,
    functionName: 'resolve',
  })
  gas.resolve ??= Number((await s.mined(hash)).gasUsed)
  return g.read.status()
}

async function totalBonds(gameAddress: Address): Promise<bigint> {
  const g = game(gameAddress)
  let total = 0n
  for (let i = 0n; i < (await g.read.claimDataLen()); i++) total += (await g.read.claimData([i]))[3]
  return total
}

/** Claims `who`'s credit from a third account (so `who`'s balance changes by exactly the credit). */
async function claimCredit(gameAddress: Address, who: Address): Promise<bigint> {
  const before = await s.client.getBalance({ address: who })
  const hash = await s.wallet.writeContract({
    account: bystander,
    address: gameAddress,
    abi: faultDisputeGameAbi,
    functionName: 'claimCredit',
    args: [who],
  })
  await s.mined(hash)
  return (await s.client.getBalance({ address: who })) - before
}

describe('DisputeGameFactory', () => {
  test('create takes exactly the init bond, refuses duplicates, and its lookups agree', async () => {
    const bond = await factory().read.initBonds([GAME_TYPE])
    assert.equal(bond, TEST_DISPUTE.bondBase)
    const root = keccak256('0xaa')
    // The game's initialize errors bubble up through create.
    const abi = [...disputeGameFactoryAbi, ...faultDisputeGameAbi.filter((item) => item.type === 'error')]
    const write = (value: bigint, claim: Hex, data: Hex, gameType = GAME_TYPE) =>
      s.wallet.writeContract({
        account: bystander,
        address: s.dispute.disputeGameFactory,
        abi,
        functionName: 'create',
        args: [gameType, claim, data],
        value,
      })
    await rejectsWith(write(bond - 1n, root, extra(5n)), 'IncorrectBondAmount')
    await rejectsWith(write(bond + 1n, root, extra(5n)), 'IncorrectBondAmount')
    await rejectsWith(write(bond, root, extra(5n), 7), 'NoImplementation')
    await rejectsWith(write(bond, root, extra(ANCHOR_BLOCK)), 'UnexpectedRootClaim')
    await rejectsWith(write(bond, root, '0x1234'), 'BadExtraData')
    const countBefore = await factory().read.gameCount()
    const proxy = await createGame(bystander, root, 5n)
    assert.equal(await s.client.getBalance({ address: proxy }), bond, 'the game holds the bond')
    const code = await s.client.getCode({ address: proxy })
    assert.equal((code!.length - 2) / 2, 56 + 20 + 32 * 3 + 2, 'a 56-byte proxy plus its immutable arguments')
    await rejectsWith(write(bond, root, extra(5n)), 'GameAlreadyExists')
    const second = await createGame(bystander, keccak256('0xbb'), 6n)
    const count = await factory().read.gameCount()
    assert.equal(count, countBefore + 2n)

    const latest = await factory().read.findLatestGames([GAME_TYPE, count - 1n, 10n])
    assert.equal(latest.length, Number(count))
    for (const found of latest) {
      const [gameType, timestamp, address] = await factory().read.gameAtIndex([found.index])
      assert.equal(gameType, GAME_TYPE)
      assert.equal(found.timestamp, timestamp)
      assert.equal(`0x${found.metadata.slice(26)}`.toLowerCase(), address.toLowerCase())
      assert.equal(found.rootClaim, await game(address).read.rootClaim())
      assert.equal(found.extraData, await game(address).read.extraData())
    }
    assert.equal(latest[0]!.rootClaim, keccak256('0xbb'), 'newest first')
    assert.equal((await factory().read.findLatestGames([GAME_TYPE, count - 1n, 1n])).length, 1)
    assert.equal((await factory().read.findLatestGames([5, count - 1n, 10n])).length, 0)

    const g = game(second)
    assert.equal(await g.read.gameCreator(), bystander.address)
    assert.equal(await g.read.l2BlockNumber(), 6n)
    assert.equal(await g.read.l2SequenceNumber(), 6n)
    assert.equal(await g.read.startingBlockNumber(), ANCHOR_BLOCK)
    assert.equal(await g.read.startingRootHash(), outputAt(ANCHOR_BLOCK))
    assert.equal(await g.read.wasRespectedGameTypeWhenCreated(), true)
    const block = await s.client.getBlock({ blockNumber: (await s.client.getBlockNumber()) - 1n })
    assert.notEqual(await g.read.l1Head(), `0x${'0'.repeat(64)}`)
    assert.ok(block.number > 0n)
  })

  test("bonds follow OP's curve: 0.08 ETH at depth 0 growing 750x to depth 73", async () => {
    const hash = await s.wallet.deployContract({
      account: bystander,
      abi: faultDisputeGameAbi,
      bytecode: faultDisputeGameBytecode,
      args: [
        {
          gameType: 0,
          absolutePrestate: vmCommit(0n),
          maxGameDepth: 73n,
          splitDepth: 30n,
          clockExtension: 10_800n,
          maxClockDuration: 302_400n,
          vm: s.vm,
          anchorStateRegistry: s.dispute.anchorStateRegistry,
          l2ChainId: 1n,
          bondBase: parseEther('0.08'),
          creditDelaySeconds: 0n,
        },
      ],
    })
    const impl = game((await s.mined(hash)).contractAddress!)
    assert.equal(await impl.read.getRequiredBond([1n]), parseEther('0.08'))
    const deepest = await impl.read.getRequiredBond([1n << 73n])
    const ratio = Number(deepest) / 0.08e18
    assert.ok(Math.abs(ratio - 750) < 0.01, `depth-73 bond is ${ratio}x the root's`)
    const one = Number(await impl.read.getRequiredBond([2n])) / 0.08e18
    assert.ok(Math.abs(one - 1.09493) < 1e-4, `per-level growth ${one}`)
    await rejectsWith(impl.read.getRequiredBond([1n << 74n]), 'GameDepthExceeded')
  })
})

describe('FaultDisputeGame against an adversary', () => {
  test('a wrong root claim answered at every level loses: the honest challenger steps, resolves and takes every bond', async () => {
    const random = prng(17)
    const address = await createGame(dishonest, keccak256('0xbad0'), ANCHOR_BLOCK + (1n << BigInt(SPLIT)))
    let index = 0n
    let stepped = false
    while (!stepped) {
      const before = await game(address).read.claimDataLen()
      stepped = (await honestAnswer(address, index)) === 'stepped'
      if (stepped) break
      index = before
      await dishonestAnswer(address, index, random)
      index = before + 1n
    }
    const g = game(address)
    const count = await g.read.claimDataLen()
    assert.equal(depth((await g.read.claimData([count - 1n]))[5]), MAX_DEPTH, 'the adversary reached max depth')
    assert.equal((await g.read.claimData([count - 1n]))[1], honest.address, 'the leaf was countered by the step')
    const vmContext = await s.client.readContract({
      address: s.vm,
      abi: [{ type: 'function', name: 'lastLocalContext', inputs: [], outputs: [{ type: 'bytes32' }], stateMutability: 'view' }],
      functionName: 'lastLocalContext',
    })
    assert.equal(vmContext, await g.read.localContext([count - 1n]), "the VM got the game's local context")
    // A second step against the same claim, and a step that agrees with the VM, are refused.
    const leaf = await g.read.claimData([count - 1n])
    const relative = traceIndex(leaf[5], MAX_DEPTH) % (1n << BigInt(MAX_DEPTH - SPLIT))
    await rejectsWith(
      s.wallet.writeContract({
        account: honest,
        address,
        abi: faultDisputeGameAbi,
        functionName: 'step',
        args: [count - 1n, true, vmState(relative), '0x'],
      }),
      leaf[4] === truth(leaf[5]) ? 'ValidStep' : 'DuplicateStep',
    )
    await rejectsWith(
      s.wallet.writeContract({
        account: honest,
        address,
        abi: faultDisputeGameAbi,
        functionName: 'step',
        args: [count - 1n, true, vmState(relative + 5n), '0x'],
      }),
      'InvalidPrestate',
    )
    await rejectsWith(
      s.wallet.writeContract({
        account: bystander,
        address,
        abi: faultDisputeGameAbi,
        functionName: 'resolveClaim',
        args: [0n, 0n],
      }),
      'ClockNotExpired',
    )

    await s.warp(Number(TEST_DISPUTE.maxClockDuration) + 1)
    await rejectsWith(
      s.wallet.writeContract({
        account: bystander,
        address,
        abi: faultDisputeGameAbi,
        functionName: 'resolveClaim',
        args: [0n, 0n],
      }),
      'OutOfOrderResolution',
    )
    assert.equal(await resolveAll(address), 1, 'CHALLENGER_WINS')
    const total = await totalBonds(address)
    assert.equal(await g.read.credit([honest.address]), total, 'every bond goes to the honest challenger')
    assert.equal(await g.read.credit([dishonest.address]), 0n)
    assert.equal(await s.client.getBalance({ address }), total)

    await rejectsWith(
      s.wallet.writeContract({
        account: bystander,
        address,
        abi: faultDisputeGameAbi,
        functionName: 'claimCredit',
        args: [honest.address],
      }),
      'CreditNotClaimableYet',
    )
    await s.warp(Number(TEST_DISPUTE.creditDelaySeconds))
    assert.equal(await claimCredit(address, honest.address), total)
    assert.equal(await s.client.getBalance({ address }), 0n)
    await rejectsWith(
      s.wallet.writeContract({
        account: bystander,
        address,
        abi: faultDisputeGameAbi,
        functionName: 'claimCredit',
        args: [honest.address],
      }),
      'NoCreditToClaim',
    )
  })

  test('an honest root attacked with arbitrary claims down to max depth wins; the attacker cannot step', async () => {
    const random = prng(99)
    const address = await createGame(honest, outputAt(ANCHOR_BLOCK + (1n << BigInt(SPLIT))), ANCHOR_BLOCK + (1n << BigInt(SPLIT)))
    let index = 0n
    for (;;) {
      const [, , , , , position] = await game(address).read.claimData([index])
      if (depth(position) === MAX_DEPTH) break
      const before = await game(address).read.claimDataLen()
      await dishonestAnswer(address, index, random)
      await honestAnswer(address, before)
      index = before + 1n
    }
    const g = game(address)
    const leafIndex = (await g.read.claimDataLen()) - 1n
    const leaf = await g.read.claimData([leafIndex])
    assert.equal(leaf[2], honest.address)
    const relative = traceIndex(leaf[5], MAX_DEPTH) % (1n << BigInt(MAX_DEPTH - SPLIT))
    for (const [isAttack, k] of [
      [true, relative],
      [false, relative + 1n],
    ] as const) {
      await rejectsWith(
        s.wallet.writeContract({
          account: dishonest,
          address,
          abi: faultDisputeGameAbi,
          functionName: 'step',
          args: [leafIndex, isAttack, vmState(k), '0x'],
        }),
        'ValidStep',
      )
    }
    await s.warp(Number(TEST_DISPUTE.maxClockDuration) + 1)
    assert.equal(await resolveAll(address), 2, 'DEFENDER_WINS')
    const total = await totalBonds(address)
    assert.equal(await g.read.credit([honest.address]), total)
    assert.equal(await g.read.credit([dishonest.address]), 0n)
    await s.warp(Number(TEST_DISPUTE.creditDelaySeconds))
    assert.equal(await claimCredit(address, honest.address), total)
  })
})

describe('chess clocks', () => {
  test('a late move gets the clock extension (doubled before an execution root); an expired clock refuses moves', async () => {
    const maxClock = TEST_DISPUTE.maxClockDuration
    const extension = TEST_DISPUTE.clockExtension
    const address = await createGame(honest, outputAt(3n), 3n)
    const g = game(address)
    await s.warp(Number(maxClock) - 5)
    const first = await move(dishonest, address, 0n, keccak256('0x01'), true)
    const duration = (claim: readonly unknown[]) => (claim[6] as bigint) >> 64n
    assert.equal(duration(await g.read.claimData([first.index])), maxClock - extension, 'clamped to leave the extension')
    const second = await move(honest, address, first.index, truth(movePosition(first.position, true)), true)
    assert.ok(duration(await g.read.claimData([second.index])) < 5n, "the defender's clock barely ran")
    // Depth 3 = split depth - 1: the answer to it is an execution root, so the extension doubles.
    await s.warp(3)
    const third = await move(dishonest, address, second.index, keccak256('0x02'), true)
    assert.equal(depth(third.position), SPLIT - 1)
    assert.equal(duration(await g.read.claimData([third.index])), maxClock - 2n * extension)
    // The challenger has 40 s used: its clock runs out 20 s after the defender answers.
    const fourth = await move(honest, address, third.index, truth(movePosition(third.position, true)), true)
    await s.warp(Number(2n * extension) + 1)
    assert.equal(await g.read.getChallengerDuration([fourth.index]), maxClock)
    const position = movePosition(fourth.position, true)
    await rejectsWith(
      s.wallet.writeContract({
        account: dishonest,
        address,
        abi: faultDisputeGameAbi,
        functionName: 'attack',
        args: [truth(fourth.position), fourth.index, `0x01${'ab'.repeat(31)}`],
        value: await g.read.getRequiredBond([position]),
      }),
      'ClockTimeExceeded',
    )
  })
})
