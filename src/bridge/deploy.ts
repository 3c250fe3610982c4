/**
 * Deploys the bridge's L1 contracts from one account, waiting for each receipt: SuperchainConfig, then (with dispute
 * parameters) the DisputeGameFactory, OptimismPortal2, SystemConfig, and after it the AnchorStateRegistry (anchored
 * at an output the caller computes from the SystemConfig block: the L2 genesis is timed by it), the step verifier and
 * the FaultDisputeGame implementation, registered in the factory with its bond. The portal takes the registry's
 * address before the registry exists (configuration is immutable): it is predicted from the deployer's nonce and
 * checked once deployed. The dev mode runs this against its spawned anvil.
 */
import {
  getAddress,
  getContractAddress,
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
import { deployContract, getBlock, getTransactionCount, waitForTransactionReceipt, writeContract } from 'viem/actions'
import { batchInboxAddress } from './batch-inbox.ts'
import { anchorStateRegistryAbi, anchorStateRegistryBytecode } from './generated/AnchorStateRegistry.ts'
import { disputeGameFactoryAbi, disputeGameFactoryBytecode } from './generated/DisputeGameFactory.ts'
import { faultDisputeGameAbi, faultDisputeGameBytecode } from './generated/FaultDisputeGame.ts'
import { outputRootRegistryAbi, outputRootRegistryBytecode } from './generated/OutputRootRegistry.ts'
import { l1AttributesStepAbi, l1AttributesStepBytecode } from './generated/L1AttributesStep.ts'
import { contractTxStepAbi, contractTxStepBytecode } from './generated/ContractTxStep.ts'
import { evmInterpreterAbi, evmInterpreterBytecode } from './generated/EvmInterpreter.ts'
import { evmPrecompilesAbi, evmPrecompilesBytecode } from './generated/EvmPrecompiles.ts'
import { evmTxCodecAbi, evmTxCodecBytecode } from './generated/EvmTxCodec.ts'
import { txStepVerifierAbi, txStepVerifierBytecode } from './generated/TxStepVerifier.ts'
import { unprovableVMAbi, unprovableVMBytecode } from './generated/UnprovableVM.ts'
import { optimismPortal2Abi, optimismPortal2Bytecode } from './generated/OptimismPortal2.ts'
import { superchainConfigAbi, superchainConfigBytecode } from './generated/SuperchainConfig.ts'
import { systemConfigAbi, systemConfigBytecode } from './generated/SystemConfig.ts'
import { NodeError } from '../primitives/errors.ts'
import { l1AttributesStepArgs } from './l1-attributes-step.ts'

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
  /** The dispute contracts; without them the portal takes deposits only (its withdrawal functions revert). */
  dispute?: DisputeDeployParams
}

/** Output root and L2 block number the AnchorStateRegistry starts from. */
export interface DisputeAnchor {
  root: Hex
  l2BlockNumber: bigint
}

/**
 * The dispute game's configuration (every client reads these from the contracts; none is hard-coded elsewhere).
 * Times are seconds.
 */
export interface DisputeDeployParams {
  /** The starting anchor, given the L1 block of the SystemConfig deployment (the L2 genesis time is its timestamp). */
  anchor: (startBlock: bigint) => DisputeAnchor | Promise<DisputeAnchor>
  /** Game type of the FaultDisputeGame, respected by the registry (0 = OP's CANNON slot). */
  gameType: number
  /** Commitment to the execution trace's first state. */
  absolutePrestate: Hex
  maxGameDepth: bigint
  splitDepth: bigint
  clockExtension: bigint
  maxClockDuration: bigint
  /** Bond of a depth-0 claim in wei; the root's (the factory's init bond) is the same. */
  bondBase: bigint
  /** Seconds after a game resolves before its credits can be claimed. */
  creditDelaySeconds: bigint
  proofMaturityDelaySeconds: bigint
  disputeGameFinalityDelaySeconds: bigint
  /** The step verifier; when absent, a `TxStepVerifier` (with `stepVerifier`) or else an `UnprovableVM`. */
  vm?: Address
  /**
   * The chain parameters of a transaction step verifier to deploy with its `OutputRootRegistry` as the game's VM
   * (ignored when `vm` is given). Without either, the VM is an `UnprovableVM` (every step reverts).
   */
  stepVerifier?: TxStepVerifierParams
}

/** What `TxStepVerifier` checks a disputed header against (immutable; the L2 chain's own parameters). */
export interface TxStepVerifierParams {
  chainId: bigint
  /** L2 block time in seconds. */
  blockTime: bigint
  /** The L2 block gas limit every header carries. */
  gasLimit: bigint
  /** The coinbase every L2 header carries. */
  feeRecipient: Address
  elasticityMultiplier: bigint
  baseFeeMaxChangeDenominator: bigint
  minBaseFee: bigint
}

/** Where the dispute contracts landed. */
export interface DisputeDeployment {
  disputeGameFactory: Address
  anchorStateRegistry: Address
  faultDisputeGame: Address
  vm: Address
  gameType: number
  /** Where output preimages are published (the VM's `outputRegistry()`); absent for a VM without one. */
  outputRegistry?: Address
}

/** Where the contracts landed. */
export interface L1Deployment {
  superchainConfig: Address
  optimismPortal: Address
  systemConfig: Address
  batchInbox: Address
  /** L1 block of the SystemConfig deployment: derivation reads config and deposits from here on. */
  startBlock: bigint
  /** The dispute contracts, when deployed. */
  dispute?: DisputeDeployment
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
  const dispute = params.dispute
  let factory: Address = zeroAddress
  let predictedRegistry: Address = zeroAddress
  if (dispute !== undefined) {
    factory = (
      await deploy(l1Client, deployer, 'DisputeGameFactory', disputeGameFactoryAbi, disputeGameFactoryBytecode, [
        typeof deployer === 'string' ? deployer : deployer.address,
      ])
    ).address
    // Portal (nonce n), SystemConfig (n + 1), then the registry (n + 2).
    const nonce = await getTransactionCount(l1Client, { address: accountAddress(deployer), blockTag: 'pending' })
    predictedRegistry = getContractAddress({ from: accountAddress(deployer), nonce: BigInt(nonce + 2) })
  }
  const optimismPortal = await deploy(l1Client, deployer, 'OptimismPortal2', optimismPortal2Abi, optimismPortal2Bytecode, [
    superchainConfig.address,
    factory,
    predictedRegistry,
    dispute?.proofMaturityDelaySeconds ?? 0n,
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
      disputeGameFactory: factory,
      superchainConfig: superchainConfig.address,
    },
  ])
  const deployment: L1Deployment = {
    superchainConfig: superchainConfig.address,
    optimismPortal: optimismPortal.address,
    systemConfig: systemConfig.address,
    batchInbox,
    startBlock: systemConfig.blockNumber,
  }
  if (dispute !== undefined) {
    deployment.dispute = await deployDisputeContracts(l1Client, deployer, {
      params: dispute,
      l2ChainId: params.l2ChainId,
      superchainConfig: superchainConfig.address,
      factory,
      expectedRegistry: predictedRegistry,
      startBlock: systemConfig.blockNumber,
    })
  }
  return deployment
}

/**
 * The registry (anchored now that the SystemConfig block is known), the step verifier, the game implementation, and
 * the factory's registration of it. The registry must land at `expectedRegistry`, the address the portal was given.
 */
async function deployDisputeContracts(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  deployer: Account | Address,
  args: {
    params: DisputeDeployParams
    l2ChainId: bigint
    superchainConfig: Address
    factory: Address
    expectedRegistry: Address
    startBlock: bigint
  },
): Promise<DisputeDeployment> {
  const { params } = args
  const anchor = await params.anchor(args.startBlock)
  const registry = await deploy(client, deployer, 'AnchorStateRegistry', anchorStateRegistryAbi, anchorStateRegistryBytecode, [
    args.superchainConfig,
    args.factory,
    anchor.root,
    anchor.l2BlockNumber,
    params.gameType,
    params.disputeGameFinalityDelaySeconds,
  ])
  if (registry.address !== getAddress(args.expectedRegistry))
    throw new L1DeployError(
      `AnchorStateRegistry landed at ${registry.address}, not at ${args.expectedRegistry} the portal was given: another transaction from the deployer interleaved`,
    )
  let vm = params.vm
  let outputRegistry: Address | undefined
  if (vm === undefined && params.stepVerifier !== undefined) {
    outputRegistry = (await deploy(client, deployer, 'OutputRootRegistry', outputRootRegistryAbi, outputRootRegistryBytecode, []))
      .address
    // The rollup's genesis L1 block is the SystemConfig's (the L2 genesis is timed by it).
    const genesis = await getBlock(client, { blockNumber: args.startBlock })
    vm = await deployTxStepVerifier(client, deployer, outputRegistry, params.stepVerifier, {
      number: args.startBlock,
      hash: genesis.hash,
    })
  }
  vm ??= (await deploy(client, deployer, 'UnprovableVM', unprovableVMAbi, unprovableVMBytecode, [])).address
  const game = await deploy(client, deployer, 'FaultDisputeGame', faultDisputeGameAbi, faultDisputeGameBytecode, [
    {
      gameType: params.gameType,
      absolutePrestate: params.absolutePrestate,
      maxGameDepth: params.maxGameDepth,
      splitDepth: params.splitDepth,
      clockExtension: params.clockExtension,
      maxClockDuration: params.maxClockDuration,
      vm,
      anchorStateRegistry: registry.address,
      l2ChainId: args.l2ChainId,
      bondBase: params.bondBase,
      creditDelaySeconds: params.creditDelaySeconds,
    },
  ])
  const chain = client.chain ?? null
  await confirmed(
    client,
    'setImplementation',
    await writeContract(client, {
      address: args.factory,
      abi: disputeGameFactoryAbi,
      functionName: 'setImplementation',
      args: [params.gameType, game.address],
      account: deployer,
      chain,
    }),
  )
  await confirmed(
    client,
    'setInitBond',
    await writeContract(client, {
      address: args.factory,
      abi: disputeGameFactoryAbi,
      functionName: 'setInitBond',
      args: [params.gameType, params.bondBase],
      account: deployer,
      chain,
    }),
  )
  return {
    disputeGameFactory: args.factory,
    anchorStateRegistry: registry.address,
    faultDisputeGame: game.address,
    vm: getAddress(vm),
    gameType: params.gameType,
    ...(outputRegistry === undefined ? {} : { outputRegistry }),
  }
}

/**
 * A `TxStepVerifier` over `registry` with the chain's parameters, and the two helper contracts it calls (its
 * immutables): `ContractTxStep` (any transaction; itself over `EvmTxCodec` and `EvmInterpreter`, the latter over
 * `EvmPrecompiles`), and `L1AttributesStep` for this build's L1Block code and the rollup's genesis L1 block `genesisL1`
 * (the first L2 block's previous origin). Returns the verifier's address.
 */
export async function deployTxStepVerifier(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  deployer: Account | Address,
  registry: Address,
  params: TxStepVerifierParams,
  genesisL1: { number: bigint; hash: Hex },
): Promise<Address> {
  const precompiles = await deploy(client, deployer, 'EvmPrecompiles', evmPrecompilesAbi, evmPrecompilesBytecode, [])
  const interpreter = await deploy(client, deployer, 'EvmInterpreter', evmInterpreterAbi, evmInterpreterBytecode, [
    precompiles.address,
  ])
  const codec = await deploy(client, deployer, 'EvmTxCodec', evmTxCodecAbi, evmTxCodecBytecode, [])
  const contractStep = await deploy(client, deployer, 'ContractTxStep', contractTxStepAbi, contractTxStepBytecode, [
    params.chainId,
    interpreter.address,
    codec.address,
  ])
  const l1Attributes = await deploy(
    client,
    deployer,
    'L1AttributesStep',
    l1AttributesStepAbi,
    l1AttributesStepBytecode,
    l1AttributesStepArgs(genesisL1),
  )
  const verifier = await deploy(client, deployer, 'TxStepVerifier', txStepVerifierAbi, txStepVerifierBytecode, [
    registry,
    params,
    contractStep.address,
    l1Attributes.address,
  ])
  return verifier.address
}

function accountAddress(account: Account | Address): Address {
  return typeof account === 'string' ? account : account.address
}

/** Waits for a transaction; throws `L1DeployError` unless it succeeded. */
async function confirmed(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  what: string,
  hash: Hex,
): Promise<void> {
  const receipt = await waitForTransactionReceipt(client, { hash })
  if (receipt.status !== 'success') throw new L1DeployError(`${what} failed: transaction ${hash} ${receipt.status}`)
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
