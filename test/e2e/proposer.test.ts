// run-tests: pair — waits on L1 (anvil's 1 s blocks, games, batcher and proposer rounds) far more than it computes
/**
 * The proposer against the dev dispute deployment on a real anvil, with the chain view injected (a safe head the test
 * moves and outputs it makes up): it proposes only safe blocks on the interval, past the anchor and its last proposal;
 * a restarted proposer (a fresh instance: all its state from L1) neither re-proposes nor forgets its games; once the
 * clocks run out it resolves its games bottom-up — a challenged one too, claims included — claims its credit after the
 * delay and moves the anchor; with L1 unreachable it backs off and raises the alarm without throwing.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  encodeAbiParameters,
  http,
  keccak256,
  toHex,
  toRlp,
  zeroAddress,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { anchorStateRegistryAbi } from '../../src/bridge/generated/AnchorStateRegistry.ts'
import { disputeGameFactoryAbi } from '../../src/bridge/generated/DisputeGameFactory.ts'
import { faultDisputeGameAbi } from '../../src/bridge/generated/FaultDisputeGame.ts'
import { createProposerMetrics, Proposer, type ProposedOutput, type ProposerChain } from '../../src/bridge/proposer/index.ts'
import { DEV_PROPOSER_OPTIONS } from '../../src/bridge/proposer/options.ts'
import type { L1Deployment } from '../../src/bridge/deploy.ts'
import { readL1Anchor } from '../../src/bridge/dispute/anchor.ts'
import { outputRegistryOf } from '../../src/bridge/dispute/output-registry.ts'
import { outputRootRegistryAbi } from '../../src/bridge/generated/OutputRootRegistry.ts'
import { deployDevRollup, DEV_DISPUTE } from '../../src/node/dev-l1.ts'
import { DEV_KEYS, startAnvil, type AnvilHandle } from '../helpers/node-process.ts'

const proposerKey = DEV_KEYS[2]!
const challenger = privateKeyToAccount(DEV_KEYS[3]!)
const logger = pino({ level: 'silent' })

let anvil: AnvilHandle
let l1: PublicClient
let deployment: L1Deployment
let factory: Address
let registry: Address

before(async () => {
  anvil = await startAnvil(['--quiet', '--chain-id', '900', '--hardfork', 'prague'])
  l1 = createPublicClient({ transport: http(anvil.rpcUrl, { retryCount: 0 }) }) as PublicClient
  ;({ deployment } = await deployDevRollup(l1, {
    rpcUrl: anvil.rpcUrl,
    l2ChainId: 6342n,
    l2GasLimit: 2_000_000_000n,
    l2GenesisHash: () => keccak256(toHex('genesis')),
    l2GenesisOutputRoot: () => outputOf(0n).root,
  }))
  factory = deployment.dispute!.disputeGameFactory
  registry = deployment.dispute!.anchorStateRegistry
  await warp(1) // OP's retirement rule: no game in the registry's deployment second
})

after(async () => {
  await anvil?.stop()
})

/**
 * A made-up output per block (the proposer proposes what the chain view says): a header-shaped RLP list (the
 * registry reads the state root at field 3) and its v0 root, so publishing it on the dev VM's registry succeeds.
 */
function outputOf(n: bigint): ProposedOutput {
  const stateRoot = keccak256(toHex(`state ${n}`))
  const header = toRlp([keccak256(toHex(`parent ${n}`)), keccak256(toHex('ommers')), zeroAddress, stateRoot, toHex(n)])
  const messagePasserStorageRoot = keccak256(toHex(`passer ${n}`))
  const root = keccak256(
    encodeAbiParameters(
      [{ type: 'uint256' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }],
      [0n, stateRoot, messagePasserStorageRoot, keccak256(header)],
    ),
  )
  return { root, header, messagePasserStorageRoot }
}

class TestChain implements ProposerChain {
  safe = 0n
  asked: bigint[] = []
  safeHead(): bigint {
    return this.safe
  }
  async output(n: bigint): Promise<ProposedOutput | undefined> {
    this.asked.push(n)
    return n > this.safe ? undefined : outputOf(n)
  }
}

function newProposer(chain: ProposerChain, url = anvil.rpcUrl, registryMetrics = new Registry()) {
  const l1Chain = defineChain({
    id: 900,
    name: 'L1',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  })
  const transport = http(url, { retryCount: 0 })
  return new Proposer(
    { ...DEV_PROPOSER_OPTIONS, intervalBlocks: 10n, pollIntervalMs: 50, maxBackoffMs: 200 },
    {
      l1: createPublicClient({ chain: l1Chain, transport }) as PublicClient,
      wallet: createWalletClient({ account: privateKeyToAccount(proposerKey), chain: l1Chain, transport }),
      portal: deployment.optimismPortal,
      chain,
      logger,
      metrics: createProposerMetrics(registryMetrics),
    },
  )
}

async function warp(seconds: number): Promise<void> {
  const test = createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl) })
  await test.increaseTime({ seconds })
  await test.mine({ blocks: 1 })
}

async function games(): Promise<Array<{ address: Address; l2Block: bigint; root: Hex }>> {
  const count = await l1.readContract({ address: factory, abi: disputeGameFactoryAbi, functionName: 'gameCount' })
  const out = []
  for (let i = 0n; i < count; i++) {
    const [, , address] = await l1.readContract({
      address: factory,
      abi: disputeGameFactoryAbi,
      functionName: 'gameAtIndex',
      args: [i],
    })
    const [l2Block, root] = await Promise.all([
      l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'l2BlockNumber' }),
      l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'rootClaim' }),
    ])
    out.push({ address, l2Block, root })
  }
  return out
}

describe('proposer', () => {
  test('proposes safe blocks on the interval, once each, across restarts; resolves, claims and anchors', async () => {
    const chain = new TestChain()
    const first = newProposer(chain)
    chain.safe = 9n
    await first.round()
    assert.deepEqual(await games(), [], 'no interval block is safe yet')
    chain.safe = 25n
    await first.round()
    assert.deepEqual(
      (await games()).map((g) => [g.l2Block, g.root]),
      [[20n, outputOf(20n).root]],
      'the newest safe multiple of the interval, with the chain view’s output',
    )
    const published = await l1.readContract({
      address: deployment.dispute!.outputRegistry!,
      abi: outputRootRegistryAbi,
      functionName: 'publishedAt',
      args: [outputOf(20n).root],
    })
    assert.ok(published > 0n, 'the output’s preimage was published before its game was created')
    await first.round()
    assert.equal((await games()).length, 1, 'not proposed again')

    // A restart: a new instance knows its last proposal from L1 only.
    const second = newProposer(chain)
    await second.round()
    assert.equal((await games()).length, 1, 'the restarted proposer does not duplicate its proposal')
    assert.equal(second.status().latestProposed, 20n)
    chain.safe = 31n
    await second.round()
    assert.deepEqual(
      (await games()).map((g) => g.l2Block),
      [20n, 30n],
    )

    // Someone challenges the game of block 30 (the proposer does not defend: that is a prover's job).
    const [game20, game30] = await games()
    const bond = await l1.readContract({
      address: game30!.address,
      abi: faultDisputeGameAbi,
      functionName: 'getRequiredBond',
      args: [2n],
    })
    const wallet = createWalletClient({ account: challenger, transport: http(anvil.rpcUrl) })
    await l1.waitForTransactionReceipt({
      hash: await wallet.writeContract({
        chain: null,
        address: game30!.address,
        abi: faultDisputeGameAbi,
        functionName: 'attack',
        args: [game30!.root, 0n, keccak256(toHex('challenge'))],
        value: bond,
      }),
    })

    // Clocks still running: nothing resolves.
    await second.round()
    const status = (address: Address) => l1.readContract({ address, abi: faultDisputeGameAbi, functionName: 'status' })
    assert.equal(await status(game20!.address), 0)

    await warp(Number(DEV_DISPUTE.maxClockDuration) + 1)
    await second.round()
    assert.equal(await status(game20!.address), 2, 'unchallenged: DEFENDER_WINS')
    assert.equal(await status(game30!.address), 1, 'the uncountered challenge wins: CHALLENGER_WINS')
    assert.equal(
      await l1.readContract({ address: game30!.address, abi: faultDisputeGameAbi, functionName: 'resolvedSubgames', args: [1n] }),
      true,
      'the challenge claim was resolved before the root (bottom-up)',
    )

    // After the credit delay and the finality delay: the bond comes back, the anchor moves to block 20.
    const proposerAddress = privateKeyToAccount(proposerKey).address
    assert.ok(
      (await l1.readContract({
        address: game20!.address,
        abi: faultDisputeGameAbi,
        functionName: 'credit',
        args: [proposerAddress],
      })) > 0n,
    )
    await warp(Number(DEV_DISPUTE.disputeGameFinalityDelaySeconds) + 1)
    await second.round()
    assert.equal(
      await l1.readContract({
        address: game20!.address,
        abi: faultDisputeGameAbi,
        functionName: 'credit',
        args: [proposerAddress],
      }),
      0n,
      'credit claimed',
    )
    assert.equal(await l1.getBalance({ address: game20!.address }), 0n)
    const [anchorRoot, anchorBlock] = await l1.readContract({
      address: registry,
      abi: anchorStateRegistryAbi,
      functionName: 'getAnchorRoot',
    })
    assert.equal(anchorBlock, 20n)
    assert.equal(anchorRoot, outputOf(20n).root)
    // What a validator reads for its checkpoint: the anchor with the preimage the proposer published for it.
    const anchor = await readL1Anchor(l1, deployment.optimismPortal)
    assert.ok(anchor !== undefined, 'the dev L1 has an anchor state registry')
    const { header, messagePasserStorageRoot } = outputOf(20n)
    assert.deepEqual(
      { ...anchor, preimage: { ...anchor.preimage!, publishedAt: 0n } },
      {
        root: anchorRoot,
        block: 20n,
        preimage: { publishedAt: 0n, header, messagePasserStorageRoot },
      },
    )
    assert.ok(anchor.preimage!.publishedAt > 0n)

    // Past the anchor only: with the anchor at 20 and safe at 35, block 30 is not re-proposed (its game exists).
    chain.safe = 35n
    await second.round()
    assert.equal((await games()).length, 2)
    assert.deepEqual(
      encodeAbiParameters([{ type: 'uint256' }], [30n]),
      await l1.readContract({ address: game30!.address, abi: faultDisputeGameAbi, functionName: 'extraData' }),
    )
  })

  test('outputRegistryOf: the dev verifier’s registry, none for an account; an unreachable L1 is an error, not "none"', async () => {
    assert.equal(
      (await outputRegistryOf(l1, deployment.dispute!.vm))?.toLowerCase(),
      deployment.dispute!.outputRegistry?.toLowerCase(),
    )
    assert.equal(await outputRegistryOf(l1, challenger.address), undefined)
    const down = createPublicClient({ transport: http('http://127.0.0.1:9', { retryCount: 0 }) }) as PublicClient
    await assert.rejects(outputRegistryOf(down, deployment.dispute!.vm))
  })

  test('with L1 unreachable it backs off and raises the alarm, and stops cleanly', async () => {
    const metrics = new Registry()
    const chain = new TestChain()
    const proposer = newProposer(chain, 'http://127.0.0.1:9', metrics)
    proposer.start()
    const deadline = Date.now() + 10_000
    let alarm = 0
    while (Date.now() < deadline && alarm !== 1) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      alarm = (await metrics.getSingleMetric('megaeth_proposer_alarm')!.get()).values[0]?.value ?? 0
    }
    assert.equal(alarm, 1)
    assert.match(proposer.status().failure ?? '', /./)
    const failures = (await metrics.getSingleMetric('megaeth_proposer_failures_total')!.get()).values
    assert.ok(failures.reduce((n, v) => n + v.value, 0) >= 3)
    await proposer.stop()
  })
})
