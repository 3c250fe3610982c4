/**
 * The transaction step verifier on a test's own anvil: the output registry, the verifier with the dev chain's
 * parameters and its helper contracts (deployed as the dev L1 deploys them), and a harness standing in for the game
 * at max depth (contracts/test/TraceGameHarness.sol), plus the calls a test makes through them.
 */
import { createWalletClient, http, publicActions, type Address, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { deployTxStepVerifier } from '../../src/bridge/deploy.ts'
import { contractTxStepAbi } from '../../src/bridge/generated/ContractTxStep.ts'
import { outputRootRegistryAbi, outputRootRegistryBytecode } from '../../src/bridge/generated/OutputRootRegistry.ts'
import { txStepVerifierAbi } from '../../src/bridge/generated/TxStepVerifier.ts'
import type { ChainTraceRules } from '../../src/prover/trace/block-trace.ts'
import { testContract } from './dispute.ts'
import { DEV_KEYS, startAnvil, type AnvilHandle } from './node-process.ts'

export interface VerifierStack {
  anvil: AnvilHandle
  registry: Address
  verifier: Address
  harness: Address
  client: ReturnType<typeof createWalletClient> & ReturnType<typeof publicActions>
  /** Sets what the harness game answers. */
  setGame(g: {
    starting: Hex
    startingPos: bigint
    disputed: Hex
    disputedPos: bigint
    block: bigint
    createdAt: bigint
  }): Promise<void>
  /** Publishes a preimage in the registry. */
  publish(header: Uint8Array, passerRoot: Hex): Promise<void>
  /** One step through the harness: the claim and the gas of the verifier's call. */
  step(stateData: Hex, proof: Hex): Promise<{ claim: Hex; gas: bigint }>
  /** The L1 time now. */
  now(): Promise<bigint>
  close(): Promise<void>
}

const account = privateKeyToAccount(DEV_KEYS[0]!)
/** The gas of a step's eth_call (and anvil's block gas limit). */
const STEP_CALL_GAS = 1_000_000_000n

export async function startVerifierStack(rules: ChainTraceRules, chainId: bigint): Promise<VerifierStack> {
  // ContractTxStep's steps re-execute whole transactions: far above anvil's default 30M call gas.
  const anvil = await startAnvil(['--quiet', '--gas-limit', String(STEP_CALL_GAS)])
  const transport = http(anvil.rpcUrl, { retryCount: 0 })
  const client = createWalletClient({ transport, account }).extend(publicActions)
  const deploy = async (abi: readonly unknown[], bytecode: Hex, args: readonly unknown[]): Promise<Address> => {
    const hash = await client.deployContract({ chain: null, abi, bytecode, args } as Parameters<typeof client.deployContract>[0])
    const receipt = await client.waitForTransactionReceipt({ hash })
    if (receipt.contractAddress == null) throw new Error('deployment failed')
    return receipt.contractAddress
  }
  const registry = await deploy(outputRootRegistryAbi, outputRootRegistryBytecode, [])
  const verifier = await deployTxStepVerifier(
    client,
    account,
    registry,
    {
      chainId,
      blockTime: rules.blockTime,
      gasLimit: rules.gasLimit,
      feeRecipient: rules.feeRecipient,
      elasticityMultiplier: rules.elasticityMultiplier,
      baseFeeMaxChangeDenominator: rules.baseFeeMaxChangeDenominator,
      minBaseFee: rules.minBaseFee,
    },
    rules.genesisL1,
  )
  const harnessContract = testContract('TraceGameHarness')
  const harness = await deploy(harnessContract.abi, harnessContract.bytecode, [])
  const send = async (
    address: Address,
    abi: readonly unknown[],
    functionName: string,
    args: readonly unknown[],
  ): Promise<void> => {
    const hash = await client.writeContract({ chain: null, address, abi, functionName, args } as Parameters<
      typeof client.writeContract
    >[0])
    const receipt = await client.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new Error(`${functionName} reverted`)
  }
  return {
    anvil,
    registry,
    verifier,
    harness,
    client,
    setGame: (g) =>
      send(harness, harnessContract.abi, 'set', [g.starting, g.startingPos, g.disputed, g.disputedPos, g.block, g.createdAt]),
    publish: (header, passerRoot) =>
      send(registry, outputRootRegistryAbi, 'publish', [`0x${Buffer.from(header).toString('hex')}`, passerRoot]),
    step: async (stateData, proof) => {
      const [claim, gas] = (await client.readContract({
        address: harness,
        // The verifier's errors, so a revert decodes to its name.
        abi: [
          ...harnessContract.abi,
          ...txStepVerifierAbi.filter((item) => item.type === 'error'),
          ...contractTxStepAbi.filter((item) => item.type === 'error'),
        ],
        functionName: 'step',
        args: [verifier, stateData, proof],
        gas: STEP_CALL_GAS,
      } as never)) as [Hex, bigint]
      return { claim, gas }
    },
    now: async () => (await client.getBlock()).timestamp,
    close: () => anvil.stop(),
  }
}
