// run-tests: pair — waits on L1 (anvil's 1 s blocks, games, batcher and proposer rounds) far more than it computes
/**
 * The dispute contracts of `npm start`'s dev L1: a `--dev` node's spawned anvil holds the factory (FaultDisputeGame
 * registered as game type 0, the respected type), the AnchorStateRegistry anchored at the L2 genesis output root the
 * node itself reports, the portal and SystemConfig pointing at them, the dev parameters readable from the contracts,
 * and the placeholder step verifier refusing every step.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicClient, encodeAbiParameters, getAddress, http, type Address, type Hex, type PublicClient } from 'viem'
import { anchorStateRegistryAbi } from '../../src/bridge/generated/AnchorStateRegistry.ts'
import { disputeGameFactoryAbi } from '../../src/bridge/generated/DisputeGameFactory.ts'
import { faultDisputeGameAbi } from '../../src/bridge/generated/FaultDisputeGame.ts'
import { optimismPortal2Abi } from '../../src/bridge/generated/OptimismPortal2.ts'
import { systemConfigAbi } from '../../src/bridge/generated/SystemConfig.ts'
import { outputRootRegistryAbi } from '../../src/bridge/generated/OutputRootRegistry.ts'
import { txStepVerifierAbi } from '../../src/bridge/generated/TxStepVerifier.ts'
import { ABSOLUTE_PRESTATE } from '../../src/prover/trace/trace-state.ts'
import { parseRollupConfig } from '../../src/chain/rollup-config.ts'
import { DEV_DISPUTE, MULTICALL3_ADDRESS } from '../../src/node/dev-l1.ts'
import { makeTempDir, removeTempDir, rpc, startNode, type NodeHandle } from '../helpers/node-process.ts'

let datadir: string
let node: NodeHandle
let l1: PublicClient
let portal: Address
let systemConfig: Address

before(async () => {
  datadir = await makeTempDir('megaeth-dispute-dev-')
  node = await startNode({ l1: true, datadir })
  const info = await rpc<{ l1?: { rpc: string } }>(node.rpcUrl, 'mega_nodeInfo')
  l1 = createPublicClient({ transport: http(info.l1!.rpc) })
  const rollup = parseRollupConfig(await rpc<Record<string, unknown>>(node.rpcUrl, 'optimism_rollupConfig'))
  portal = getAddress(rollup.depositContractAddress)
  systemConfig = getAddress(rollup.l1SystemConfigAddress)
})

after(async () => {
  await node?.stop()
  if (datadir !== undefined) await removeTempDir(datadir)
})

describe('the dev L1 dispute contracts', () => {
  test('factory, registry, game and verifier wired to the portal and SystemConfig, anchored at the L2 genesis output', async () => {
    const factory = await l1.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'disputeGameFactory' })
    const registry = await l1.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'anchorStateRegistry' })
    assert.notEqual(BigInt(factory), 0n)
    assert.equal(
      await l1.readContract({ address: systemConfig, abi: systemConfigAbi, functionName: 'disputeGameFactory' }),
      factory,
    )
    assert.equal(await l1.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'respectedGameType' }), 0)
    assert.equal(
      await l1.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'proofMaturityDelaySeconds' }),
      12n,
    )
    assert.equal(
      await l1.readContract({ address: registry, abi: anchorStateRegistryAbi, functionName: 'disputeGameFinalityDelaySeconds' }),
      6n,
    )

    const [anchorRoot, anchorBlock] = await l1.readContract({
      address: registry,
      abi: anchorStateRegistryAbi,
      functionName: 'getAnchorRoot',
    })
    const genesisOutput = await rpc<{ outputRoot: Hex }>(node.rpcUrl, 'optimism_outputAtBlock', ['0x0'])
    assert.equal(anchorBlock, 0n)
    assert.equal(anchorRoot, genesisOutput.outputRoot, "the anchor is the node's own genesis output root")

    const game = await l1.readContract({ address: factory, abi: disputeGameFactoryAbi, functionName: 'gameImpls', args: [0] })
    const read = <T>(functionName: string) =>
      l1.readContract({ address: game, abi: faultDisputeGameAbi, functionName: functionName as 'maxGameDepth' }) as Promise<T>
    assert.equal(await read<bigint>('maxGameDepth'), DEV_DISPUTE.maxGameDepth)
    assert.equal(await read<bigint>('splitDepth'), DEV_DISPUTE.splitDepth)
    assert.equal(await read<bigint>('maxClockDuration'), 120n)
    assert.equal(await read<bigint>('clockExtension'), 10n)
    assert.equal(await read<bigint>('creditDelaySeconds'), DEV_DISPUTE.creditDelaySeconds)
    assert.equal(await read<Address>('anchorStateRegistry'), registry)
    assert.equal(
      await l1.readContract({ address: factory, abi: disputeGameFactoryAbi, functionName: 'initBonds', args: [0] }),
      DEV_DISPUTE.bondBase,
    )

    // The transaction step verifier, with its output registry and the dev chain's parameters.
    const vm = await read<Address>('vm')
    const outputRegistry = await l1.readContract({ address: vm, abi: txStepVerifierAbi, functionName: 'outputRegistry' })
    assert.equal(
      await l1.readContract({
        address: outputRegistry,
        abi: outputRootRegistryAbi,
        functionName: 'publishedAt',
        args: [genesisOutput.outputRoot],
      }),
      0n,
    )
    assert.equal(await read<Hex>('absolutePrestate'), ABSOLUTE_PRESTATE)
    // An execution subtree holds 2^(maxDepth − splitDepth − 1) leaves: 2^17 ≥ a full block's 95,241.
    assert.equal(DEV_DISPUTE.maxGameDepth - DEV_DISPUTE.splitDepth - 1n, 17n)
    // A proposal for block 1 passes the game's initialize checks (a dry run: nothing is sent).
    const { result } = await l1.simulateContract({
      account: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      address: factory,
      abi: disputeGameFactoryAbi,
      functionName: 'create',
      args: [0, genesisOutput.outputRoot, encodeAbiParameters([{ type: 'uint256' }], [1n])],
      value: DEV_DISPUTE.bondBase,
    })
    assert.notEqual(BigInt(result), 0n)
    const code = await l1.getCode({ address: MULTICALL3_ADDRESS })
    assert.ok(code !== undefined && code.length > 2, "Multicall3 at its canonical address (viem's getGames reads through it)")
  })
})
