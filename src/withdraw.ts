/**
 * `megaeth-node withdraw status|prove|finalize --tx <L2 tx hash> --l1.rpc <url> --l2.rpc <url> [--key-file <file>]`:
 * a user's withdrawal from L2 to L1 with viem's op-stack actions (the same ones a wallet or a dapp would call), so
 * what works here works for them. The L1 contracts are found from the L2 node (`optimism_rollupConfig` → the portal →
 * its dispute game factory); the chain ids from the two RPCs. Each step says in words where the withdrawal stands and
 * what it waits for.
 */
import { readFile } from 'node:fs/promises'
import {
  type Account,
  type Address,
  BaseError,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  type Hash,
  http,
  type TransactionReceipt,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { chainConfig, getTimeToFinalize, getWithdrawals, publicActionsL1, publicActionsL2, walletActionsL1 } from 'viem/op-stack'
import { disputeGameFactoryAbi } from './bridge/generated/DisputeGameFactory.ts'
import { faultDisputeGameAbi } from './bridge/generated/FaultDisputeGame.ts'
import { optimismPortal2Abi } from './bridge/generated/OptimismPortal2.ts'
import { ConfigError } from './config.ts'
import { NodeError } from './primitives/errors.ts'

export type WithdrawAction = 'status' | 'prove' | 'finalize'

export interface WithdrawOptions {
  action: WithdrawAction
  tx: Hash
  l1Rpc: string
  l2Rpc: string
  /** The L1 account that sends prove / finalize (anyone may; the funds go to the withdrawal's target). */
  keyFile: string | undefined
}

/** A withdrawal not in the state the asked step needs (not yet provable, the game not resolved, …): exit code 1. */
export class WithdrawalNotReadyError extends NodeError<'WITHDRAWAL_NOT_READY', { status: string }> {
  override readonly name = 'WithdrawalNotReadyError'
  constructor(message: string, status: string) {
    super('WITHDRAWAL_NOT_READY', message, { severity: 'temporary', data: { status } })
  }
}

const USAGE =
  'usage: megaeth-node withdraw status|prove|finalize --tx=<L2 tx hash> --l1.rpc=<url> --l2.rpc=<url> [--key-file=<file>]'

export function parseWithdraw(argv: readonly string[]): WithdrawOptions {
  const [action, ...rest] = argv
  if (action !== 'status' && action !== 'prove' && action !== 'finalize')
    throw new ConfigError(`withdraw: the first argument is status, prove or finalize\n${USAGE}`)
  const values = new Map<string, string>()
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!
    if (!arg.startsWith('--')) throw new ConfigError(`withdraw: unexpected argument ${arg}\n${USAGE}`)
    const eq = arg.indexOf('=')
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
    const value = eq === -1 ? rest[++i] : arg.slice(eq + 1)
    if (value === undefined || value === '') throw new ConfigError(`withdraw: --${name} needs a value`)
    if (!['tx', 'l1.rpc', 'l2.rpc', 'key-file'].includes(name))
      throw new ConfigError(`withdraw: unknown flag --${name}\n${USAGE}`)
    values.set(name, value)
  }
  const tx = values.get('tx')
  const l1Rpc = values.get('l1.rpc')
  const l2Rpc = values.get('l2.rpc')
  if (tx === undefined || !/^0x[0-9a-fA-F]{64}$/.test(tx))
    throw new ConfigError(`withdraw: --tx takes the L2 transaction hash\n${USAGE}`)
  if (l1Rpc === undefined || l2Rpc === undefined) throw new ConfigError(`withdraw: needs --l1.rpc and --l2.rpc\n${USAGE}`)
  const keyFile = values.get('key-file')
  if (action !== 'status' && keyFile === undefined)
    throw new ConfigError(`withdraw ${action}: needs --key-file (the L1 account that sends the transaction)`)
  return { action, tx: tx as Hash, l1Rpc, l2Rpc, keyFile }
}

/** Runs one step and returns the lines to print. Throws `WithdrawalNotReadyError` when the step cannot be taken yet. */
export async function runWithdraw(options: WithdrawOptions): Promise<string[]> {
  const ctx = await connect(options)
  const { l1, l2, targetChain, receipt } = ctx
  const status = await l1.getWithdrawalStatus({ receipt, targetChain })
  const lines = [`withdrawal in L2 tx ${receipt.transactionHash} (L2 block ${receipt.blockNumber}): ${status}`]
  if (options.action === 'status') return [...lines, await explain(ctx, status)]
  const account = await loadAccount(options.keyFile!)
  const wallet = createWalletClient({ account, chain: ctx.l1Chain, transport: http(options.l1Rpc) }).extend(walletActionsL1())
  if (options.action === 'prove') {
    if (status !== 'ready-to-prove')
      throw new WithdrawalNotReadyError(`cannot prove: ${status}. ${await explain(ctx, status)}`, status)
    const { game, withdrawal } = await l1.waitToProve({ receipt, targetChain })
    const args = await l2.buildProveWithdrawal({ game, withdrawal })
    const hash = await wallet.proveWithdrawal(args)
    const proven = await l1.waitForTransactionReceipt({ hash })
    if (proven.status !== 'success') throw new WithdrawalNotReadyError(`the prove transaction ${hash} reverted`, status)
    return [
      ...lines,
      `proven against the game at L2 block ${game.l2BlockNumber} (index ${game.index}): L1 tx ${hash}, gas ${proven.gasUsed}`,
    ]
  }
  if (status !== 'ready-to-finalize')
    throw new WithdrawalNotReadyError(`cannot finalize: ${status}. ${await explain(ctx, status)}`, status)
  const [withdrawal] = getWithdrawals(receipt)
  const hash = await wallet.finalizeWithdrawal({ targetChain, withdrawal: withdrawal! })
  const finalized = await l1.waitForTransactionReceipt({ hash })
  if (finalized.status !== 'success') throw new WithdrawalNotReadyError(`the finalize transaction ${hash} reverted`, status)
  return [...lines, `finalized: ${withdrawal!.value} wei to ${withdrawal!.target}, L1 tx ${hash}, gas ${finalized.gasUsed}`]
}

type Connected = Awaited<ReturnType<typeof connect>>

async function connect(options: WithdrawOptions) {
  const probe = createPublicClient({ transport: http(options.l2Rpc) })
  const [l2Id, rollup, receipt] = await Promise.all([
    probe.getChainId(),
    probe.request({ method: 'optimism_rollupConfig' as 'eth_chainId' }) as unknown as Promise<{
      deposit_contract_address: string
    }>,
    probe.getTransactionReceipt({ hash: options.tx }).catch(() => undefined),
  ])
  if (receipt === undefined)
    throw new WithdrawalNotReadyError(
      `L2 transaction ${options.tx} not found (not sealed in a block yet, or on another chain)`,
      'unknown',
    )
  const l1Probe = createPublicClient({ transport: http(options.l1Rpc) })
  const l1Id = await l1Probe.getChainId()
  const portal = getAddress(rollup.deposit_contract_address)
  const factory = await l1Probe.readContract({ address: portal, abi: optimismPortal2Abi, functionName: 'disputeGameFactory' })
  const l1Chain = defineChain({
    id: l1Id,
    name: 'L1',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [options.l1Rpc] } },
    // Canonical Multicall3 (viem's getGames reads through it; the dev L1 installs it there too).
    contracts: { multicall3: { address: '0xcA11bde05977b3631167028862bE2a173976CA11' } },
  })
  const targetChain = defineChain({
    ...chainConfig,
    id: l2Id,
    name: 'L2',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [options.l2Rpc] } },
    sourceId: l1Id,
    contracts: {
      ...chainConfig.contracts,
      portal: { [l1Id]: { address: portal } },
      disputeGameFactory: { [l1Id]: { address: factory } },
      // viem's types ask for the pre-v3 oracle; a v3 portal's paths never read it.
      l2OutputOracle: { [l1Id]: { address: factory } },
    },
  })
  const l1 = createPublicClient({ chain: l1Chain, transport: http(options.l1Rpc), pollingInterval: 500 }).extend(
    publicActionsL1(),
  )
  const l2 = createPublicClient({ chain: targetChain, transport: http(options.l2Rpc) }).extend(publicActionsL2())
  return { l1, l2, l1Chain, targetChain, receipt: receipt as TransactionReceipt, portal, factory }
}

/** Where the withdrawal stands, in words, with what it waits for. */
async function explain(ctx: Connected, status: string): Promise<string> {
  const { l1, targetChain, receipt, factory } = ctx
  switch (status) {
    case 'waiting-to-prove': {
      const count = await l1.readContract({ address: factory, abi: disputeGameFactoryAbi, functionName: 'gameCount' })
      const newest = count === 0n ? undefined : await newestGameBlock(ctx, count - 1n)
      return `not yet provable: no dispute game covers L2 block ${receipt.blockNumber} yet (newest proposal: ${
        newest === undefined ? 'none' : `L2 block ${newest}`
      }); the proposer posts a safe block every --proposer.interval blocks — run status again later`
    }
    case 'ready-to-prove':
      return 'ready to prove: a game covers its block; run `withdraw prove`'
    case 'waiting-to-finalize': {
      const withdrawal = getWithdrawals(receipt)[0]!
      const time = await getTimeToFinalize(l1, { targetChain, withdrawalHash: withdrawal.withdrawalHash }).catch(() => undefined)
      return `proven; waiting for the game to resolve (its clocks must run out) and the proof maturity and game finality delays${
        time === undefined ? '' : ` (about ${time.seconds} s for the proof's maturity)`
      }; run \`withdraw finalize\` then`
    }
    case 'ready-to-finalize':
      return 'ready to finalize: run `withdraw finalize`'
    case 'finalized':
      return 'finalized: paid out on L1'
    default:
      return ''
  }
}

async function newestGameBlock(ctx: Connected, index: bigint): Promise<bigint> {
  const [, , proxy] = await ctx.l1.readContract({
    address: ctx.factory,
    abi: disputeGameFactoryAbi,
    functionName: 'gameAtIndex',
    args: [index],
  })
  return ctx.l1.readContract({ address: proxy as Address, abi: faultDisputeGameAbi, functionName: 'l2BlockNumber' })
}

async function loadAccount(path: string): Promise<Account> {
  let text: string
  try {
    text = (await readFile(path, 'utf8')).trim()
  } catch (error) {
    throw new ConfigError(`withdraw: --key-file ${path}: cannot read (${error instanceof Error ? error.message : String(error)})`)
  }
  const hex = text.startsWith('0x') ? text : `0x${text}`
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new ConfigError(`withdraw: --key-file ${path}: expected 32 bytes of hex`)
  return privateKeyToAccount(hex as `0x${string}`)
}

/** A viem error's first line (its details can be long and may quote an RPC URL). */
export function shortError(error: unknown): string {
  if (error instanceof BaseError) return error.shortMessage
  return error instanceof Error ? error.message : String(error)
}
