/**
 * Deploys the bridge's L1 contracts — SuperchainConfig, OptimismPortal2, SystemConfig, in that order (each takes the
 * one before it) — from one account, waiting for each receipt. The dev mode runs it against its spawned anvil.
 */
import {
  getAddress,
  pad,
  zeroAddress,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Client,
  type Hex,
  type Transport,
} from 'viem'
import { deployContract, waitForTransactionReceipt } from 'viem/actions'
import { batchInboxAddress } from './batch-inbox.ts'
import { optimismPortal2Abi, optimismPortal2Bytecode } from './generated/OptimismPortal2.ts'
import { superchainConfigAbi, superchainConfigBytecode } from './generated/SuperchainConfig.ts'
import { systemConfigAbi, systemConfigBytecode } from './generated/SystemConfig.ts'
import { NodeError } from '../primitives/errors.ts'

/** The rollup's L1-side configuration. */
export interface L1DeployParams {
  /** The L2 chain's id (SystemConfig.l2ChainId, and the default batch inbox). */
  l2ChainId: bigint
  /** May pause and unpause (SuperchainConfig). */
  guardian: Address
  /** May change the SystemConfig. */
  owner: Address
  /** The account whose transactions to the inbox derivation accepts (batcherHash version 0). */
  batcher: Address
  /** Signs unsafe blocks on p2p. */
  unsafeBlockSigner: Address
  /** L2 block gas limit. */
  gasLimit: bigint
  /** Ecotone L1 data fee scalars. */
  basefeeScalar: number
  blobbasefeeScalar: number
  /** Defaults to `batchInboxAddress(l2ChainId)`. */
  batchInbox?: Address
  /** Defaults to the zero address (no dispute games yet). */
  disputeGameFactory?: Address
}

/** Where the contracts landed. */
export interface L1Deployment {
  superchainConfig: Address
  optimismPortal: Address
  systemConfig: Address
  batchInbox: Address
  /** L1 block of the SystemConfig deployment: derivation reads config and deposits from here on. */
  startBlock: bigint
}

export interface DeployL1ContractsParameters {
  l1Client: Client<Transport, Chain | undefined, Account | undefined>
  /** Sends the deployments: a local account (signs) or an address the node's RPC signs for (anvil). */
  deployer: Account | Address
  params: L1DeployParams
}

/** A deployment transaction failed or created no contract. */
export class L1DeployError extends NodeError<'L1_DEPLOY_FAILED', undefined> {
  override name = 'L1DeployError'
  constructor(message: string) {
    super('L1_DEPLOY_FAILED', message)
  }
}

/** `bytes32(uint256(uint160(batcher)))`: version 0 of the batcher hash (lower-case hex, as a bytes32 reads back). */
export function batcherHash(batcher: Address): Hex {
  return pad(batcher.toLowerCase() as Hex, { size: 32 })
}

export async function deployL1Contracts({ l1Client, deployer, params }: DeployL1ContractsParameters): Promise<L1Deployment> {
  const batchInbox = params.batchInbox ?? batchInboxAddress(params.l2ChainId)
  const superchainConfig = await deploy(l1Client, deployer, 'SuperchainConfig', superchainConfigAbi, superchainConfigBytecode, [
    params.guardian,
  ])
  const optimismPortal = await deploy(l1Client, deployer, 'OptimismPortal2', optimismPortal2Abi, optimismPortal2Bytecode, [
    superchainConfig.address,
  ])
  const systemConfig = await deploy(l1Client, deployer, 'SystemConfig', systemConfigAbi, systemConfigBytecode, [
    {
      owner: params.owner,
      basefeeScalar: params.basefeeScalar,
      blobbasefeeScalar: params.blobbasefeeScalar,
      batcherHash: batcherHash(params.batcher),
      gasLimit: params.gasLimit,
      unsafeBlockSigner: params.unsafeBlockSigner,
      batchInbox,
      l2ChainId: params.l2ChainId,
      optimismPortal: optimismPortal.address,
      disputeGameFactory: params.disputeGameFactory ?? zeroAddress,
      superchainConfig: superchainConfig.address,
    },
  ])
  return {
    superchainConfig: superchainConfig.address,
    optimismPortal: optimismPortal.address,
    systemConfig: systemConfig.address,
    batchInbox,
    startBlock: systemConfig.blockNumber,
  }
}

/** Sends one creation transaction and waits for it; throws `L1DeployError` unless it created the contract. */
async function deploy(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  account: Account | Address,
  name: string,
  abi: Abi,
  bytecode: Hex,
  args: readonly unknown[],
): Promise<{ address: Address; blockNumber: bigint }> {
  const hash = await deployContract(client, { abi, bytecode, args, account, chain: client.chain ?? null })
  const receipt = await waitForTransactionReceipt(client, { hash })
  if (receipt.status !== 'success' || receipt.contractAddress == null) {
    throw new L1DeployError(`deploying ${name} failed: transaction ${hash} ${receipt.status}, gas used ${receipt.gasUsed}`)
  }
  return { address: getAddress(receipt.contractAddress), blockNumber: receipt.blockNumber }
}
