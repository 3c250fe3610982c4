/**
 * The dispute contracts on a test's own anvil: the L1 contracts deployed by `deployL1Contracts` with small game
 * depths and short clocks, the test VM (`contracts/test/TestVM.sol`) as the step verifier and a Multicall3 (viem's
 * `getGames` reads through it), plus the position arithmetic and trace of the test VM an honest player needs.
 */
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  encodeAbiParameters,
  http,
  keccak256,
  parseEther,
  publicActions,
  type Abi,
  type Address,
  type Hex,
  type TransactionReceipt,
} from 'viem'
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'
import { compileFiles } from '../../scripts/compile-contracts.mjs'
import { deployL1Contracts, type DisputeDeployParams, type L1Deployment } from '../../src/bridge/deploy.ts'
import { multicall3DeployedBytecode } from '../../src/bridge/generated/Multicall3.ts'
import { MULTICALL3_ADDRESS } from '../../src/node/dev-l1.ts'
import { DEV_KEYS, startAnvil, type AnvilHandle } from './node-process.ts'

export const L2_CHAIN_ID = 6342n
export const GAME_TYPE = 0
export const deployer = privateKeyToAccount(DEV_KEYS[0]!)
export const guardian = privateKeyToAccount(DEV_KEYS[1]!)

/** Small game for tests: 4 output levels, 4 execution levels, 60 s clocks. */
export const TEST_DISPUTE: Omit<DisputeDeployParams, 'anchor' | 'vm' | 'absolutePrestate'> = {
  gameType: GAME_TYPE,
  maxGameDepth: 8n,
  splitDepth: 4n,
  clockExtension: 10n,
  maxClockDuration: 60n,
  bondBase: parseEther('0.01'),
  creditDelaySeconds: 4n,
  proofMaturityDelaySeconds: 12n,
  disputeGameFinalityDelaySeconds: 6n,
}

/** A contract of contracts/test compiled now. */
export function testContract(name: string): { abi: Abi; bytecode: Hex } {
  const [compiled] = compileFiles([`test/${name}.sol`], 'cancun')
  return { abi: compiled!.abi as Abi, bytecode: compiled!.bytecode as Hex }
}

/** The test VM's commitment to the state after `k` steps: keccak256(abi.encode(k)) with status byte INVALID (1). */
export function vmCommit(k: bigint): Hex {
  const h = keccak256(encodeAbiParameters([{ type: 'uint256' }], [k]))
  return `0x01${h.slice(4)}` as Hex
}

/** The test VM's state data after `k` steps. */
export function vmState(k: bigint): Hex {
  return encodeAbiParameters([{ type: 'uint256' }], [k])
}

export function depth(position: bigint): number {
  return position.toString(2).length - 1
}

export function indexAtDepth(position: bigint): bigint {
  return position - (1n << BigInt(depth(position)))
}

export function movePosition(position: bigint, isAttack: boolean): bigint {
  return (isAttack ? position : position | 1n) << 1n
}

export function traceIndex(position: bigint, maxDepth: number): bigint {
  const right = ((position + 1n) << BigInt(maxDepth - depth(position))) - 1n
  return indexAtDepth(right)
}

export type Stack = Awaited<ReturnType<typeof startDisputeStack>>

export async function startDisputeStack(options: {
  anchorRoot: Hex
  anchorBlock: bigint
  dispute?: Partial<DisputeDeployParams>
}) {
  const anvil: AnvilHandle = await startAnvil(['--quiet'])
  const transport = http(anvil.rpcUrl, { retryCount: 0 })
  const bootstrap = createPublicClient({ transport })
  const chainId = await bootstrap.getChainId()
  const wallet = createWalletClient({ transport }).extend(publicActions)
  const deployed = async (account: PrivateKeyAccount, name: string): Promise<Address> => {
    const { abi, bytecode } = testContract(name)
    const hash = await wallet.deployContract({ account, chain: null, abi, bytecode })
    return (await wallet.waitForTransactionReceipt({ hash })).contractAddress!
  }
  const helper = privateKeyToAccount(DEV_KEYS[9]!)
  const vm = await deployed(helper, 'TestVM')
  const multicall3 = MULTICALL3_ADDRESS
  await bootstrap.request({
    method: 'anvil_setCode' as 'eth_chainId',
    params: [multicall3, multicall3DeployedBytecode] as unknown as undefined,
  })
  const deployment: L1Deployment = await deployL1Contracts({
    l1Client: wallet,
    deployer,
    params: {
      l2ChainId: L2_CHAIN_ID,
      guardian: guardian.address,
      owner: deployer.address,
      batcher: privateKeyToAccount(DEV_KEYS[5]!).address,
      unsafeBlockSigner: privateKeyToAccount(DEV_KEYS[6]!).address,
      gasLimit: 2_000_000_000n,
      basefeeScalar: 1368,
      blobbasefeeScalar: 810_949,
      dispute: {
        ...TEST_DISPUTE,
        absolutePrestate: vmCommit(0n),
        vm,
        anchor: () => ({ root: options.anchorRoot, l2BlockNumber: options.anchorBlock }),
        ...options.dispute,
      },
    },
  })
  const chain = defineChain({
    id: chainId,
    name: 'anvil',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [anvil.rpcUrl] } },
    contracts: { multicall3: { address: multicall3 } },
  })
  const client = createPublicClient({ chain, transport })
  const test = createTestClient({ chain, mode: 'anvil', transport })
  // OP's rule retires every game created at or before the registry's retirement timestamp, which its
  // deployment sets to that block's time: a game in the same second would be refused. One second on.
  await test.increaseTime({ seconds: 1 })
  await test.mine({ blocks: 1 })
  const dispute = deployment.dispute!
  return {
    anvil,
    chain,
    client,
    wallet: createWalletClient({ chain, transport }),
    test,
    deployment,
    dispute,
    vm,
    multicall3,
    /** Moves L1 time forward by `seconds` and mines a block. */
    async warp(seconds: number): Promise<void> {
      await test.increaseTime({ seconds })
      await test.mine({ blocks: 1 })
    },
    async mined(hash: Hex): Promise<TransactionReceipt> {
      const receipt = await client.waitForTransactionReceipt({ hash })
      if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
      return receipt
    },
  }
}
