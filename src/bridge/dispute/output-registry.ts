/**
 * The output-preimage registry on L1 (docs/DESIGN.md, "The execution trace of a disputed block"): every honest
 * party publishes an output's preimage — the L2 block header and the message passer's storage root — before it
 * claims that output, so the step verifier can open the disputed block. A claim whose output was not published by
 * the time it was made is judged UNOPENED (invalid).
 *
 * The contract is `OutputRootRegistry` (contracts/L1, deployed with the step verifier).
 */
import {
  type Account,
  type Address,
  type Chain,
  encodeFunctionData,
  type Hex,
  parseAbi,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import { NodeError } from '../../primitives/errors.ts'
import { disputeGameFactoryAbi } from '../generated/DisputeGameFactory.ts'
import { faultDisputeGameAbi } from '../generated/FaultDisputeGame.ts'
import { outputRootRegistryAbi } from '../generated/OutputRootRegistry.ts'

export { outputRootRegistryAbi }

/** A step verifier that knows its registry (`UnprovableVM` does not: it has no step, so nothing to publish for). */
const vmRegistryAbi = parseAbi(['function outputRegistry() view returns (address)'])

/** An output's preimage as the registry takes it. */
export interface OutputPreimage {
  /** The L2 block header, RLP-encoded. */
  header: Hex
  messagePasserStorageRoot: Hex
}

export class OutputPublishError extends NodeError<'OUTPUT_PUBLISH_FAILED', { outputRoot?: Hex }> {
  override readonly name = 'OutputPublishError'
  constructor(message: string, data: { outputRoot?: Hex }, cause?: unknown) {
    super('OUTPUT_PUBLISH_FAILED', message, { severity: 'temporary', data, ...(cause === undefined ? {} : { cause }) })
  }
}

/**
 * The registry of the game's step verifier `vm`, or undefined when the verifier has none (a call to
 * `outputRegistry()` that reverts or returns no address). Other failures (L1 unreachable) are thrown: "no registry"
 * must not be concluded from a network error, or a claim would go out unpublished.
 */
export async function outputRegistryOf(publicClient: PublicClient, vm: Address): Promise<Address | undefined> {
  const code = await publicClient.getCode({ address: vm })
  if (code === undefined || code === '0x') return undefined
  let result: Hex
  try {
    // A raw call: a verifier without the function reverts (no fallback) or returns nothing.
    const answer = await publicClient.call({
      to: vm,
      data: encodeFunctionData({ abi: vmRegistryAbi, functionName: 'outputRegistry' }),
    })
    result = answer.data ?? '0x'
  } catch (error) {
    if (isRevert(error)) return undefined
    throw error
  }
  if (result.length < 66) return undefined
  const address = `0x${result.slice(26, 66)}` as Address
  return BigInt(address) === 0n ? undefined : address
}

/** The output registry of the step verifier that games of `gameType` play with (`outputRegistryOf` its VM). */
export async function outputRegistryOfGameType(
  publicClient: PublicClient,
  factory: Address,
  gameType: number,
): Promise<Address | undefined> {
  const impl = await publicClient.readContract({
    address: factory,
    abi: disputeGameFactoryAbi,
    functionName: 'gameImpls',
    args: [gameType],
  })
  const vm = await publicClient.readContract({ address: impl, abi: faultDisputeGameAbi, functionName: 'vm' })
  return outputRegistryOf(publicClient, vm)
}

/**
 * Publishes `output` on `registry` unless it is already there, and returns its output root. The root comes from the
 * registry itself (a `publish` simulation), so a caller never claims a root the registry would compute differently.
 * Waits for the publication to be mined: the claim that follows must come strictly later on L1 — a claim in the same
 * block is fine by the verifier's rule (published no later than the claim), but an unmined publication is not.
 */
export async function ensureOutputPublished(
  clients: { public: PublicClient; wallet: WalletClient<Transport, Chain | undefined, Account | undefined> },
  registry: Address,
  output: OutputPreimage,
): Promise<Hex> {
  const account = clients.wallet.account
  if (account === undefined) throw new OutputPublishError('ensureOutputPublished: the wallet client has no account', {})
  const { result: outputRoot, request } = await clients.public.simulateContract({
    account,
    address: registry,
    abi: outputRootRegistryAbi,
    functionName: 'publish',
    args: [output.header, output.messagePasserStorageRoot],
  })
  const publishedAt = await clients.public.readContract({
    address: registry,
    abi: outputRootRegistryAbi,
    functionName: 'publishedAt',
    args: [outputRoot],
  })
  if (publishedAt !== 0n) return outputRoot
  const hash = await clients.wallet.writeContract({ ...request, chain: clients.wallet.chain ?? null })
  const receipt = await clients.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success')
    throw new OutputPublishError(`publishing output ${outputRoot} reverted (tx ${hash})`, { outputRoot })
  return outputRoot
}

/** Whether `error` is the node saying the call reverted (as opposed to not answering). */
function isRevert(error: unknown): boolean {
  let current: unknown = error
  for (let i = 0; i < 8 && current instanceof Error; i++) {
    if (current.name === 'CallExecutionError' || current.name === 'ExecutionRevertedError') return true
    if (/revert/i.test(current.message)) return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}
