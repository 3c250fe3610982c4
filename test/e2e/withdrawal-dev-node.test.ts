// run-tests: pair — waits on L1 (anvil's 1 s blocks, games, batcher and proposer rounds) far more than it computes
/**
 * A withdrawal end to end on `npm start`'s chain: a real `--dev` node with its own dev L1 (anvil, the rollup and
 * dispute contracts), its batcher, derivation and proposer. viem's `viem/op-stack` actions, unmodified, drive it:
 * `initiateWithdrawal` on L2 → `waitToProve` (the game the node's proposer created for a safe block past the
 * withdrawal) → `buildProveWithdrawal` → `proveWithdrawal` → `waitToFinalize` → `finalizeWithdrawal`, which pays the
 * target exactly the value on L1 while the user pays exactly the gas of its two L1 transactions.
 *
 * Time: the game's 120 s clock is skipped by moving the dev L1's clock (`evm_increaseTime`); the proposer resolves
 * the game on its own once the clock has run out. viem's wait helpers compare L1 timestamps with the process clock
 * (`Date.now`), as on a real L1 whose clock is wall time: the test's clock follows the dev L1's moved one.
 *
 * Also the `megaeth-node withdraw` CLI on the same withdrawal flow (status at each stage, prove and finalize).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  parseEther,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { chainConfig, publicActionsL1, publicActionsL2, walletActionsL1, walletActionsL2 } from 'viem/op-stack'
import { disputeGameFactoryAbi } from '../../src/bridge/generated/DisputeGameFactory.ts'
import { faultDisputeGameAbi } from '../../src/bridge/generated/FaultDisputeGame.ts'
import { optimismPortal2Abi } from '../../src/bridge/generated/OptimismPortal2.ts'
import { parseRollupConfig } from '../../src/chain/rollup-config.ts'
import { DEV_PROPOSER_KEY } from '../../src/node/proposer.ts'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DEV_CHAIN_ID, DEV_KEYS, makeTempDir, rpc, runCli, startNode, type NodeHandle } from '../helpers/node-process.ts'

const user = privateKeyToAccount(DEV_KEYS[4]!)
/** Withdraws through the `megaeth-node withdraw` CLI (its own L1 account, so each user's L1 balance is exact). */
const cliUser = privateKeyToAccount(DEV_KEYS[5]!)
const proposer = privateKeyToAccount(DEV_PROPOSER_KEY)

let node: NodeHandle
let l1Url: string
let l1Chain: Chain
let l2Chain: ReturnType<typeof devL2Chain>
let portal: Address
let factory: Address

before(async () => {
  node = await startNode({ l1: true })
  const info = await rpc<{ l1?: { rpc: string; chainId: string } }>(node.rpcUrl, 'mega_nodeInfo')
  l1Url = info.l1!.rpc
  const rollup = parseRollupConfig(await rpc<Record<string, unknown>>(node.rpcUrl, 'optimism_rollupConfig'))
  portal = getAddress(rollup.depositContractAddress)
  const l1Id = Number(rollup.l1ChainId)
  l1Chain = defineChain({
    id: l1Id,
    name: 'dev L1',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [l1Url] } },
    contracts: { multicall3: { address: '0xcA11bde05977b3631167028862bE2a173976CA11' } },
  })
  const bootstrap = createPublicClient({ chain: l1Chain, transport: http(l1Url) })
  factory = await bootstrap.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'disputeGameFactory' })
  l2Chain = devL2Chain(l1Id, node.rpcUrl, portal, factory)
  // The portal pays withdrawals out of the ETH deposited through it; the dev genesis's L2 balances were never
  // deposited, so L1 backs this test's withdrawal with a donation (a real chain's portal holds every deposit).
  const donor = createWalletClient({ account: privateKeyToAccount(DEV_KEYS[6]!), chain: l1Chain, transport: http(l1Url) })
  const donation = await donor.writeContract({
    address: portal,
    abi: optimismPortal2Abi,
    functionName: 'donateETH',
    value: parseEther('1'),
  })
  await bootstrap.waitForTransactionReceipt({ hash: donation })
})

/** The dev L2 as viem's op-stack actions want it: OP's chain config plus the L1 contracts it settles on. */
function devL2Chain(l1Id: number, rpcUrl: string, portalAddress: Address, factoryAddress: Address) {
  return defineChain({
    ...chainConfig,
    id: DEV_CHAIN_ID,
    name: 'megaeth dev',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
    sourceId: l1Id,
    contracts: {
      ...chainConfig.contracts,
      portal: { [l1Id]: { address: portalAddress } },
      disputeGameFactory: { [l1Id]: { address: factoryAddress } },
      // viem's types ask for it (the pre-v3 portal's oracle); a v3 portal's paths never read it.
      l2OutputOracle: { [l1Id]: { address: factoryAddress } },
    },
  })
}

after(async () => {
  Date.now = realNow
  await node?.stop()
})

const realNow = Date.now

/** Moves the dev L1's clock by `seconds` (and mines), and this process's clock with it (see the file comment). */
async function warpL1(seconds: number): Promise<void> {
  const test = createTestClient({ chain: l1Chain, mode: 'anvil', transport: http(l1Url) })
  await test.increaseTime({ seconds })
  await test.mine({ blocks: 1 })
  const latest = await createPublicClient({ transport: http(l1Url) }).getBlock()
  const offset = Number(latest.timestamp) * 1000 - realNow()
  Date.now = () => realNow() + Math.max(0, offset)
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = realNow() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (realNow() > deadline) throw new Error(`timed out waiting for ${what}\n${node.logs().stdout.slice(-3000)}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

describe('withdrawals end to end on a --dev node, with viem op-stack actions', () => {
  test('initiate on L2 → prove against the proposer’s game → finalize pays out on L1', async (t) => {
    const started = realNow()
    const phase = (name: string) => t.diagnostic(`${name} at ${((realNow() - started) / 1000).toFixed(1)} s`)
    const l1 = createPublicClient({ chain: l1Chain, transport: http(l1Url), pollingInterval: 250 }).extend(publicActionsL1())
    const l1Wallet = createWalletClient({ account: user, chain: l1Chain, transport: http(l1Url) }).extend(walletActionsL1())
    const l2 = createPublicClient({ chain: l2Chain, transport: http(node.rpcUrl), pollingInterval: 250 }).extend(
      publicActionsL2(),
    )
    const l2Wallet = createWalletClient({ account: user, chain: l2Chain, transport: http(node.rpcUrl) }).extend(walletActionsL2())
    const target = privateKeyToAccount(`0x${'5e'.repeat(32)}`).address
    const value = parseEther('0.25')

    // 1. initiate on L2 (and a second withdrawal, taken through the CLI below)
    const cliWallet = createWalletClient({ account: cliUser, chain: l2Chain, transport: http(node.rpcUrl) }).extend(
      walletActionsL2(),
    )
    const cliTarget = privateKeyToAccount(`0x${'6e'.repeat(32)}`).address
    const [hash, cliHash] = await Promise.all([
      l2Wallet.initiateWithdrawal({ request: { gas: 100_000n, to: target, value } }),
      cliWallet.initiateWithdrawal({ request: { gas: 100_000n, to: cliTarget, value: value * 2n } }),
    ])
    const receipt: TransactionReceipt = await l2.waitForTransactionReceipt({ hash })
    const cliReceipt: TransactionReceipt = await l2.waitForTransactionReceipt({ hash: cliHash })
    assert.equal(receipt.status, 'success')
    assert.equal(await l1.getWithdrawalStatus({ receipt, targetChain: l2Chain }), 'waiting-to-prove')
    const keyDir = await makeTempDir('megaeth-withdraw-cli-')
    const keyFile = join(keyDir, 'key.hex')
    await writeFile(keyFile, DEV_KEYS[5]!)
    const cli = (action: string) =>
      runCli(
        ['withdraw', action, `--tx=${cliHash}`, `--l1.rpc=${l1Url}`, `--l2.rpc=${node.rpcUrl}`, `--key-file=${keyFile}`],
        60_000,
      )
    const early = await cli('status')
    assert.equal(early.code, 0, early.stderr)
    assert.match(early.stdout, /waiting-to-prove/)
    assert.match(early.stdout, /not yet provable: no dispute game covers L2 block \d+ yet/)

    phase('initiated')
    // 2. the proposer creates a game for a safe block past the withdrawal (every 10 blocks on --dev)
    const { game, withdrawal } = await l1.waitToProve({ receipt, targetChain: l2Chain })
    assert.ok(game.l2BlockNumber > receipt.blockNumber)
    assert.equal(game.l2BlockNumber % 10n, 0n, 'the dev proposer proposes multiples of --proposer.interval')
    const gameAddress = getAddress(`0x${game.metadata.slice(26)}`)
    assert.equal(
      await l1.readContract({ address: gameAddress, abi: faultDisputeGameAbi, functionName: 'gameCreator' }),
      proposer.address,
      'the game is the node proposer’s (its own dev key)',
    )
    const output = await rpc<{ outputRoot: Hex }>(node.rpcUrl, 'optimism_outputAtBlock', [`0x${game.l2BlockNumber.toString(16)}`])
    assert.equal(game.rootClaim, output.outputRoot, 'the proposed root is the node’s output at that block')
    assert.equal(await l1.getWithdrawalStatus({ receipt, targetChain: l2Chain }), 'ready-to-prove')
    // The node reports its proposer (the dashboard's L1 panel reads this): enabled, its address, the proposal made
    // (asked until it shows: the game is on L1 a moment before the proposer has its receipt).
    type Reported = { enabled: boolean; address?: string; latestProposed?: Hex }
    let reported: Reported | undefined
    for (let tries = 0; tries < 100; tries++) {
      reported = (await rpc<{ proposer?: Reported }>(node.rpcUrl, 'mega_nodeInfo')).proposer
      if (reported?.latestProposed !== undefined && BigInt(reported.latestProposed) >= game.l2BlockNumber) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.equal(reported?.enabled, true)
    assert.equal(reported?.address?.toLowerCase(), proposer.address.toLowerCase())
    assert.ok(
      reported?.latestProposed !== undefined && BigInt(reported.latestProposed) >= game.l2BlockNumber,
      `mega_nodeInfo.proposer: ${JSON.stringify(reported)}, game at ${game.l2BlockNumber}`,
    )

    phase('game found')
    // 3. prove — and, at the same time (its own L1 account), the CLI proves its withdrawal once a game covers it,
    // then is told it cannot finalize yet
    const viaCli = (async () => {
      await l1.waitToProve({ receipt: cliReceipt, targetChain: l2Chain })
      const proved = await cli('prove')
      assert.equal(proved.code, 0, proved.stderr)
      assert.match(proved.stdout, /proven against the game at L2 block \d+/)
      const notYet = await cli('finalize')
      assert.equal(notYet.code, 1)
      assert.match(notYet.stderr, /cannot finalize: waiting-to-finalize\. proven; waiting for the game to resolve/)
    })()
    const before = await l1.getBalance({ address: user.address })
    const args = await l2.buildProveWithdrawal({ game, withdrawal })
    const proveHash = await l1Wallet.proveWithdrawal(args)
    const proveReceipt = await l1.waitForTransactionReceipt({ hash: proveHash })
    await viaCli
    assert.equal(proveReceipt.status, 'success')
    assert.equal(await l1.getWithdrawalStatus({ receipt, targetChain: l2Chain }), 'waiting-to-finalize')

    phase('proven')
    // 4. the game's clock runs out on L1; the node's proposer resolves it (nobody else does here)
    const maxClock = await l1.readContract({ address: gameAddress, abi: faultDisputeGameAbi, functionName: 'maxClockDuration' })
    await warpL1(Number(maxClock) + 1)
    await until(
      'the proposer to resolve its game',
      async () =>
        (await l1.readContract({ address: gameAddress, abi: faultDisputeGameAbi, functionName: 'status' })) === 2
          ? true
          : undefined,
      30_000,
    )
    phase('resolved')
    // the proof's maturity (12 s) and the game's finality (6 s) delays, on L1's clock
    await warpL1(13)
    await l1.waitToFinalize({ targetChain: l2Chain, withdrawalHash: withdrawal.withdrawalHash })
    assert.equal(await l1.getWithdrawalStatus({ receipt, targetChain: l2Chain }), 'ready-to-finalize')

    phase('ready to finalize')
    // 5. finalize: the target gets exactly the value, the user pays exactly its two transactions' gas; the CLI
    // finalizes its withdrawal at the same time, once that one is ready too (the CLI may have proven it against a
    // newer game, which the proposer resolves after the first; L1's clock moves past that one's clock and delays too)
    await warpL1(Number(maxClock) + 14)
    await until(
      'the CLI’s withdrawal to be ready to finalize',
      async () =>
        (await l1.getWithdrawalStatus({ receipt: cliReceipt, targetChain: l2Chain })) === 'ready-to-finalize' ? true : undefined,
      30_000,
    )
    const finalizedViaCli = cli('finalize')
    const finalizeHash = await l1Wallet.finalizeWithdrawal({ targetChain: l2Chain, withdrawal })
    const finalizeReceipt = await l1.waitForTransactionReceipt({ hash: finalizeHash })
    assert.equal(finalizeReceipt.status, 'success')
    assert.equal(await l1.getBalance({ address: target }), value)
    const gasPaid =
      proveReceipt.gasUsed * proveReceipt.effectiveGasPrice + finalizeReceipt.gasUsed * finalizeReceipt.effectiveGasPrice
    assert.equal(await l1.getBalance({ address: user.address }), before - gasPaid)
    assert.equal(await l1.getWithdrawalStatus({ receipt, targetChain: l2Chain }), 'finalized')

    const finalized = await finalizedViaCli
    assert.equal(finalized.code, 0, finalized.stderr)
    assert.match(finalized.stdout, /finalized: 500000000000000000 wei to 0x/)
    assert.equal(await l1.getBalance({ address: cliTarget }), value * 2n)
  })

  test('the proposer claims its bond back after the credit delay and moves the anchor', async () => {
    const l1 = createPublicClient({ chain: l1Chain, transport: http(l1Url) }) as PublicClient
    const count = await l1.readContract({ address: factory, abi: disputeGameFactoryAbi, functionName: 'gameCount' })
    assert.ok(count > 0n)
    const [, , first] = await l1.readContract({
      address: factory,
      abi: disputeGameFactoryAbi,
      functionName: 'gameAtIndex',
      args: [0n],
    })
    await until(
      'the proposer to claim the credit of its first game',
      async () => {
        const [credit, status] = await Promise.all([
          l1.readContract({ address: first, abi: faultDisputeGameAbi, functionName: 'credit', args: [proposer.address] }),
          l1.readContract({ address: first, abi: faultDisputeGameAbi, functionName: 'status' }),
        ])
        return status === 2 && credit === 0n ? true : undefined
      },
      30_000,
    )
    const registry = await l1.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'anchorStateRegistry' })
    const anchorAbi = [
      {
        type: 'function',
        name: 'getAnchorRoot',
        stateMutability: 'view',
        inputs: [],
        outputs: [{ type: 'bytes32' }, { type: 'uint256' }],
      },
    ] as const
    const [, anchorBlock] = await until(
      'the proposer to move the anchor',
      async () => {
        const anchor = await l1.readContract({ address: registry, abi: anchorAbi, functionName: 'getAnchorRoot' })
        return anchor[1] > 0n ? anchor : undefined
      },
      30_000,
    )
    assert.equal(anchorBlock % 10n, 0n)
    assert.equal(await l1.getBalance({ address: first }), 0n, 'the game paid its bond out')
  })
})
