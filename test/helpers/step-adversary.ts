/**
 * A stranger for the step tests: it claims a wrong output for block N (the honest header with its state root
 * changed), published in the registry before the game, and plays the honest strategy (the prover's own solver)
 * against a truth that is the chain's up to the disputed transaction and wrong after: outputs honest below N and its
 * wrong output at N; in N's execution trace, the honest claims of its published output for leaves 0 … j (after
 * transactions 0 … j − 1) and garbage from leaf j + 1 on (claiming its output VALID at the end). The bisection must
 * then end with a step that executes transaction j (j = −1: the opening). A suite may replace any of its execution
 * claims (`claim`). It never steps.
 */
import { RLP } from '@ethereumjs/rlp'
import {
  type Account,
  type Address,
  type Chain,
  encodeAbiParameters,
  type Hex,
  keccak256,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import { faultDisputeGameAbi } from '../../src/bridge/generated/FaultDisputeGame.ts'
import { DerivedTraceProvider } from '../../src/prover/derived-trace.ts'
import { readGame } from '../../src/prover/game-reader.ts'
import { GameStatus } from '../../src/prover/game-state.ts'
import type { DerivedOutput, ExecutionContext, ExecutionTraceProvider } from '../../src/prover/interface.ts'
import { solveGame } from '../../src/prover/solver.ts'
import { outputRootRegistryAbi } from '../../src/bridge/dispute/output-registry.ts'
import type { NodeTraceProvider } from '../../src/prover/trace/provider.ts'
import { rpc } from './node-process.ts'

/** An output of the sequencer's chain, read over its RPC. */
export async function rpcOutput(url: string, block: bigint): Promise<DerivedOutput> {
  const tag = `0x${block.toString(16)}`
  const [output, header] = await Promise.all([
    rpc<{ outputRoot: Hex; withdrawalStorageRoot: Hex }>(url, 'optimism_outputAtBlock', [tag]),
    rpc<Hex>(url, 'debug_getRawHeader', [tag]),
  ])
  return { block, root: output.outputRoot, header, messagePasserStorageRoot: output.withdrawalStorageRoot }
}

/** The header RLP with its state root (field 3) replaced: a wrong execution with the right transactions. */
export function withStateRoot(header: Hex, stateRoot: Hex): Hex {
  const fields = RLP.decode(Buffer.from(header.slice(2), 'hex')) as Uint8Array[]
  fields[3] = Buffer.from(stateRoot.slice(2), 'hex')
  return `0x${Buffer.from(RLP.encode(fields)).toString('hex')}` as Hex
}

export interface StepAdversary {
  stop(): Promise<void>
}

/** An execution claim the stranger makes instead of its default one; undefined: the default. */
export type StrangerClaim = (context: ExecutionContext, index: bigint) => Promise<Hex | undefined>

export function startStepAdversary(params: {
  client: PublicClient
  wallet: WalletClient<Transport, Chain | undefined, Account>
  game: Address
  registry: Address
  sequencerUrl: string
  block: bigint
  wrong: DerivedOutput
  /** The disputed transaction's index in block N (−1: the opening). */
  tx: bigint
  blockTrace: (depth: number) => NodeTraceProvider
  claim?: StrangerClaim
}): StepAdversary {
  const { client, wallet, game } = params
  const outputs = new Map<bigint, Promise<DerivedOutput>>()
  const honestOutput = (block: bigint): Promise<DerivedOutput> => {
    let output = outputs.get(block)
    if (output === undefined) {
      output = rpcOutput(params.sequencerUrl, block)
      outputs.set(block, output)
    }
    return output
  }
  const chain = { outputAt: honestOutput }
  const real = new DerivedTraceProvider({
    chain,
    publishedAt: (root) =>
      client.readContract({ address: params.registry, abi: outputRootRegistryAbi, functionName: 'publishedAt', args: [root] }),
    publishedOutput: async (root) =>
      root.toLowerCase() === params.wrong.root.toLowerCase()
        ? {
            publishedAt: await client.readContract({
              address: params.registry,
              abi: outputRootRegistryAbi,
              functionName: 'publishedAt',
              args: [root],
            }),
            header: params.wrong.header,
            messagePasserStorageRoot: params.wrong.messagePasserStorageRoot,
          }
        : undefined,
    blockTrace: params.blockTrace,
  })
  const lying: ExecutionTraceProvider = {
    async claimAt(context: ExecutionContext, index: bigint) {
      const own = await params.claim?.(context, index)
      if (own !== undefined) return own
      if (index <= params.tx) return real.claimAt(context, index)
      const h = keccak256(encodeAbiParameters([{ type: 'string' }, { type: 'uint256' }], ['stranger', index]))
      const last = (1n << BigInt(context.depth - 1)) - 1n
      return `0x${index >= last ? '00' : '03'}${h.slice(4)}` as Hex
    },
    async stepInputs() {
      return undefined
    },
  }
  const truth = {
    output: (block: bigint) => (block >= params.block ? Promise.resolve(params.wrong) : honestOutput(block)),
    execution: lying,
  }
  let stopped = false
  const round = async (): Promise<void> => {
    const snapshot = await readGame(client, game)
    if (snapshot.status !== GameStatus.IN_PROGRESS) return
    const { actions } = await solveGame(snapshot, truth)
    for (const action of actions) {
      if (stopped || action.kind !== 'move') continue
      const bond = await client.readContract({
        address: game,
        abi: faultDisputeGameAbi,
        functionName: 'getRequiredBond',
        args: [action.position],
      })
      try {
        const hash = await wallet.writeContract({
          chain: null,
          address: game,
          abi: faultDisputeGameAbi,
          functionName: 'move',
          args: [action.parentValue, action.parentIndex, action.value, action.isAttack],
          value: bond,
        })
        await client.waitForTransactionReceipt({ hash, pollingInterval: 200 })
      } catch {
        // A move another round made already, or a clock that ran out.
      }
    }
  }
  const loop = (async () => {
    while (!stopped) {
      await round().catch((err: unknown) => process.stderr.write(`# stranger round failed: ${String(err).slice(0, 300)}\n`))
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
  })()
  return {
    async stop() {
      stopped = true
      await loop
    },
  }
}
