/**
 * L1 gas of the dispute protocol on the dev deployment (`deployDevRollup`: the contracts and parameters `npm start`'s
 * dev L1 runs — 48 levels, split at 30, OP's bond curve, `TxStepVerifier`), on an anvil of its own:
 * - a proposal: publishing the output's preimage (when the game's VM has an output registry) + `factory.create`;
 * - a move at every depth 1…max (a chain of attacks, odd depths by the challenger, even by the defender);
 * - `resolveClaim` of a leaf and of a claim with a child, `resolve`, `claimCredit`;
 * - a withdrawal's `proveWithdrawalTransaction` (against a passer trie of 1,000 entries) and `finalizeWithdrawalTransaction`;
 * - the worst case of a full dispute for each side: its moves over all levels (+ the proposal for the defender),
 *   plus the dearest step at max depth, as the step verifier's own bench measures it (`bench/lib/step-gas.ts`:
 *   opening, the L1-attributes deposit, a user deposit, transfer to a fresh or an existing account, seal, and each
 *   step of a block of contract transactions, on real blocks' traces).
 *
 *   node --import tsx bench/dispute.ts      (or: npm run bench -- dispute)
 *
 * Writes bench/results/dispute.json and bench/results/dispute.md (a README-ready line).
 */
import { pathToFileURL } from 'node:url'
import { createMPT, createMerkleProof } from '@ethereumjs/mpt'
import {
  bytesToHex,
  concat,
  createPublicClient,
  createTestClient,
  createWalletClient,
  encodeAbiParameters,
  type Hex,
  hexToBytes,
  http,
  keccak256,
  numberToHex,
  parseEther,
  type PublicClient,
  toHex,
  toRlp,
  type TransactionReceipt,
} from 'viem'
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'
import { getWithdrawalHashStorageSlot } from 'viem/op-stack'
import { outputRegistryOf, outputRootRegistryAbi } from '../src/bridge/dispute/output-registry.ts'
import { disputeGameFactoryAbi } from '../src/bridge/generated/DisputeGameFactory.ts'
import { faultDisputeGameAbi } from '../src/bridge/generated/FaultDisputeGame.ts'
import { optimismPortal2Abi } from '../src/bridge/generated/OptimismPortal2.ts'
import { DEV_DISPUTE, deployDevRollup } from '../src/node/dev-l1.ts'
import { DEV_KEYS, startAnvil } from '../test/helpers/node-process.ts'
import { writeJson, writeText } from './lib/report.ts'
import { measureStepGas } from './lib/step-gas.ts'

export interface DisputeGasResult {
  parameters: { maxGameDepth: number; splitDepth: number; bondBase: string; passerEntries: number }
  proposal: { publish: number | 'no output registry on this VM'; create: number; total: number }
  movesByDepth: Record<number, number>
  moves: { min: number; max: number; mean: number }
  resolveClaim: { leaf: number; withChild: number }
  resolve: number
  claimCredit: number
  withdrawal: { prove: number; finalize: number }
  /** L1 gas of `TxStepVerifier` steps by kind (`bench/lib/step-gas.ts`). */
  step: {
    open: number
    l1Attributes: number
    /** At an epoch's first block (the origin moves on: its parent checked). */
    l1AttributesNewEpoch: number
    deposit: number
    transferToFresh: number
    transferToExisting: number
    seal: number
    /** The contract block's steps (ContractTxStep): kind, L1 gas, the transaction's L2 gas. */
    contract: { kind: string; gas: number; l2Gas: number }[]
  }
  fullDispute: {
    challenger: { moves: number; count: number; withStep: number }
    defender: { proposalAndMoves: number; count: number; withStep: number }
    resolution: { resolveClaims: number; resolve: number }
  }
}

const L2_CHAIN_ID = 6342n
const PASSER_ENTRIES = 1_000

export async function runDisputeBench(log: (line: string) => void = console.log): Promise<DisputeGasResult> {
  const anvil = await startAnvil(['--quiet', '--chain-id', '900', '--hardfork', 'prague'])
  try {
    const transport = http(anvil.rpcUrl, { retryCount: 0 })
    const l1 = createPublicClient({ transport }) as PublicClient
    const test = createTestClient({ mode: 'anvil', transport })
    const anchorRoot = keccak256(toHex('bench anchor'))
    const { deployment } = await deployDevRollup(l1, {
      rpcUrl: anvil.rpcUrl,
      l2ChainId: L2_CHAIN_ID,
      l2GasLimit: 2_000_000_000n,
      l2GenesisHash: () => keccak256(toHex('bench genesis')),
      l2GenesisOutputRoot: () => anchorRoot,
    })
    const dispute = deployment.dispute!
    const portal = deployment.optimismPortal
    // OP's retirement rule: a game created in the registry's deployment second would count as retired.
    await test.increaseTime({ seconds: 1 })
    await test.mine({ blocks: 1 })
    const proposer = privateKeyToAccount(DEV_KEYS[2]!)
    const challenger = privateKeyToAccount(DEV_KEYS[3]!)
    const defender = privateKeyToAccount(DEV_KEYS[4]!)
    const user = privateKeyToAccount(DEV_KEYS[5]!)
    const send = async (account: PrivateKeyAccount, request: Record<string, unknown>): Promise<TransactionReceipt> => {
      const wallet = createWalletClient({ account, transport })
      const { request: simulated } = await l1.simulateContract({ account, ...request } as Parameters<
        PublicClient['simulateContract']
      >[0])
      const hash = await wallet.writeContract({ ...(simulated as Parameters<typeof wallet.writeContract>[0]), chain: null })
      const receipt = await l1.waitForTransactionReceipt({ hash })
      if (receipt.status !== 'success') throw new Error(`${String(request.functionName)} reverted`)
      return receipt
    }
    const gas = (receipt: TransactionReceipt): number => Number(receipt.gasUsed)

    // The portal pays withdrawals out of deposited ETH.
    await send(user, { address: portal, abi: optimismPortal2Abi, functionName: 'donateETH', value: parseEther('1') })

    // A withdrawal in a message-passer trie of PASSER_ENTRIES entries, and an output over it.
    const withdrawal = {
      nonce: 0n,
      sender: user.address,
      target: privateKeyToAccount(`0x${'7e'.repeat(32)}`).address,
      value: parseEther('0.1'),
      gasLimit: 100_000n,
      data: '0x' as Hex,
    }
    const withdrawalHash = keccak256(
      encodeAbiParameters(
        [
          { type: 'uint256' },
          { type: 'address' },
          { type: 'address' },
          { type: 'uint256' },
          { type: 'uint256' },
          { type: 'bytes' },
        ],
        [withdrawal.nonce, withdrawal.sender, withdrawal.target, withdrawal.value, withdrawal.gasLimit, withdrawal.data],
      ),
    )
    const trie = await createMPT({ useKeyHashing: true })
    const slots = [withdrawalHash, ...Array.from({ length: PASSER_ENTRIES - 1 }, (_, i) => keccak256(toHex(`filler ${i}`)))]
    for (const hash of slots)
      await trie.put(hexToBytes(getWithdrawalHashStorageSlot({ withdrawalHash: hash })), new Uint8Array([1]))
    const passerRoot = bytesToHex(trie.root())
    const withdrawalProof = (await createMerkleProof(trie, hexToBytes(getWithdrawalHashStorageSlot({ withdrawalHash })))).map(
      (node) => bytesToHex(node),
    )
    const stateRoot = keccak256(toHex('bench state'))
    const header = benchHeader(10n, stateRoot)
    const blockHash = keccak256(header)
    const outputRoot = keccak256(concat([`0x${'00'.repeat(32)}`, stateRoot, passerRoot, blockHash]))

    // 1. the proposal: publish (if the VM has a registry) + create
    const vm = dispute.vm
    const registry = await outputRegistryOf(l1, vm)
    let publish: number | 'no output registry on this VM' = 'no output registry on this VM'
    if (registry !== undefined)
      publish = gas(
        await send(proposer, {
          address: registry,
          abi: outputRootRegistryAbi,
          functionName: 'publish',
          args: [header, passerRoot],
        }),
      )
    const factory = dispute.disputeGameFactory
    const bond = await l1.readContract({ address: factory, abi: disputeGameFactoryAbi, functionName: 'initBonds', args: [0] })
    const create = gas(
      await send(proposer, {
        address: factory,
        abi: disputeGameFactoryAbi,
        functionName: 'create',
        args: [0, outputRoot, encodeAbiParameters([{ type: 'uint256' }], [10n])],
        value: bond,
      }),
    )
    const [, , withdrawalGame] = await l1.readContract({
      address: factory,
      abi: disputeGameFactoryAbi,
      functionName: 'gameAtIndex',
      args: [0n],
    })
    log(`proposal: publish ${publish}, create ${create}`)

    // 2. a disputed game: a chain of attacks down to max depth
    const disputedRoot = keccak256(toHex('a wrong output'))
    await send(proposer, {
      address: factory,
      abi: disputeGameFactoryAbi,
      functionName: 'create',
      args: [0, disputedRoot, encodeAbiParameters([{ type: 'uint256' }], [20n])],
      value: bond,
    })
    const [, , game] = await l1.readContract({
      address: factory,
      abi: disputeGameFactoryAbi,
      functionName: 'gameAtIndex',
      args: [1n],
    })
    const maxDepth = Number(DEV_DISPUTE.maxGameDepth)
    const splitDepth = Number(DEV_DISPUTE.splitDepth)
    const movesByDepth: Record<number, number> = {}
    let parentClaim = disputedRoot
    let position = 1n
    for (let depth = 1; depth <= maxDepth; depth++) {
      const hash = keccak256(toHex(`claim at depth ${depth}`))
      // The execution trace's root disputes an output: its status byte must say INVALID (OP's rule).
      const claim = (depth === splitDepth + 1 ? `0x01${hash.slice(4)}` : hash) as Hex
      position *= 2n
      const required = await l1.readContract({
        address: game,
        abi: faultDisputeGameAbi,
        functionName: 'getRequiredBond',
        args: [position],
      })
      const receipt = await send(depth % 2 === 1 ? challenger : defender, {
        address: game,
        abi: faultDisputeGameAbi,
        functionName: 'attack',
        args: [parentClaim, BigInt(depth - 1), claim],
        value: required,
      })
      movesByDepth[depth] = gas(receipt)
      parentClaim = claim
    }
    const moveGas = Object.values(movesByDepth)
    log(
      `moves: depth 1 ${movesByDepth[1]}, ${splitDepth} ${movesByDepth[splitDepth]}, ${splitDepth + 1} ${movesByDepth[splitDepth + 1]}, ${maxDepth} ${movesByDepth[maxDepth]}`,
    )

    // 3. prove the withdrawal against the undisputed game, a second after it was created: OP's rule refuses at
    // finalization a proof not newer than its game, and anvil mines on demand, often within the game's second.
    await test.increaseTime({ seconds: 1 })
    const prove = gas(
      await send(user, {
        address: portal,
        abi: optimismPortal2Abi,
        functionName: 'proveWithdrawalTransaction',
        args: [
          withdrawal,
          0n,
          { version: `0x${'00'.repeat(32)}`, stateRoot, messagePasserStorageRoot: passerRoot, latestBlockhash: blockHash },
          withdrawalProof,
        ],
      }),
    )

    // 4. clocks run out: resolve both games bottom-up
    await test.increaseTime({ seconds: Number(DEV_DISPUTE.maxClockDuration) + 1 })
    await test.mine({ blocks: 1 })
    const resolveClaims: number[] = []
    for (let i = maxDepth; i >= 0; i--)
      resolveClaims[i] = gas(
        await send(defender, { address: game, abi: faultDisputeGameAbi, functionName: 'resolveClaim', args: [BigInt(i), 0n] }),
      )
    const resolve = gas(await send(defender, { address: game, abi: faultDisputeGameAbi, functionName: 'resolve' }))
    await send(proposer, { address: withdrawalGame, abi: faultDisputeGameAbi, functionName: 'resolveClaim', args: [0n, 0n] })
    await send(proposer, { address: withdrawalGame, abi: faultDisputeGameAbi, functionName: 'resolve' })

    // 5. after the delays: a credit, the withdrawal's finalization
    const delay = [
      DEV_DISPUTE.creditDelaySeconds,
      DEV_DISPUTE.proofMaturityDelaySeconds,
      DEV_DISPUTE.disputeGameFinalityDelaySeconds,
    ]
    await test.increaseTime({ seconds: Number(delay.reduce((a, b) => (a > b ? a : b))) + 1 })
    await test.mine({ blocks: 1 })
    // The side that made the max-depth claim stands uncountered (no step is played here) and holds every bond.
    const winner = maxDepth % 2 === 1 ? challenger : defender
    const claimCredit = gas(
      await send(winner, {
        address: game,
        abi: faultDisputeGameAbi,
        functionName: 'claimCredit',
        args: [winner.address],
      }),
    )
    const finalize = gas(
      await send(user, {
        address: portal,
        abi: optimismPortal2Abi,
        functionName: 'finalizeWithdrawalTransaction',
        args: [withdrawal],
      }),
    )
    const paid = await l1.getBalance({ address: withdrawal.target })
    if (paid !== withdrawal.value) throw new Error(`the withdrawal paid ${paid}, expected ${withdrawal.value}`)

    const measured = await measureStepGas()
    const step = {
      open: Number(measured.open),
      l1Attributes: Number(measured.l1Attributes),
      l1AttributesNewEpoch: Number(measured.l1AttributesNewEpoch),
      deposit: Number(measured.deposit),
      transferToFresh: Number(measured.transferToFresh),
      transferToExisting: Number(measured.transferToExisting),
      seal: Number(measured.seal),
      contract: measured.contract.map((c) => ({ kind: c.kind, gas: Number(c.gas), l2Gas: Number(c.l2Gas) })),
    }
    const sideSum = (odd: boolean) =>
      Object.entries(movesByDepth)
        .filter(([depth]) => Number(depth) % 2 === (odd ? 1 : 0))
        .reduce((sum, [, g]) => sum + g, 0)
    const challengerMoves = sideSum(true)
    const defenderMoves = sideSum(false)
    const proposalGas = create + (typeof publish === 'number' ? publish : 0)
    // The worst step a side may have to make: the dearest kind measured.
    const dearestStep = Math.max(
      ...Object.values(step).filter((v): v is number => typeof v === 'number'),
      ...step.contract.map((c) => c.gas),
    )
    const withStep = (moves: number) => moves + dearestStep
    return {
      parameters: {
        maxGameDepth: maxDepth,
        splitDepth,
        bondBase: DEV_DISPUTE.bondBase.toString(),
        passerEntries: PASSER_ENTRIES,
      },
      proposal: { publish, create, total: proposalGas },
      movesByDepth,
      moves: {
        min: Math.min(...moveGas),
        max: Math.max(...moveGas),
        mean: Math.round(moveGas.reduce((a, b) => a + b, 0) / moveGas.length),
      },
      resolveClaim: { leaf: resolveClaims[maxDepth]!, withChild: resolveClaims[0]! },
      resolve,
      claimCredit,
      withdrawal: { prove, finalize },
      step,
      fullDispute: {
        challenger: { moves: challengerMoves, count: Math.ceil(maxDepth / 2), withStep: withStep(challengerMoves) },
        defender: {
          proposalAndMoves: proposalGas + defenderMoves,
          count: Math.floor(maxDepth / 2),
          withStep: withStep(proposalGas + defenderMoves),
        },
        resolution: { resolveClaims: resolveClaims.reduce((a, b) => a + b, 0), resolve },
      },
    }
  } finally {
    await anvil.stop()
  }
}

/** A header RLP with `number` and `stateRoot` (what the registry and the portal read); other fields are zero. */
function benchHeader(number: bigint, stateRoot: Hex): Hex {
  const zero32 = `0x${'00'.repeat(32)}` as Hex
  return toRlp([
    zero32,
    keccak256(toRlp([])),
    `0x${'00'.repeat(20)}`,
    stateRoot,
    zero32,
    zero32,
    `0x${'00'.repeat(256)}`,
    '0x',
    numberToHex(number),
    numberToHex(2_000_000_000n),
    '0x',
    numberToHex(1_700_000_000n),
    '0x',
    zero32,
    '0x0000000000000000',
    numberToHex(1_000_000n),
  ])
}

/** The README line: proposal, move range, resolution, withdrawal, full dispute per side. */
export function disputeLine(r: DisputeGasResult): string {
  const k = (n: number) => `${Math.round(n / 1000)}k`
  const publish = typeof r.proposal.publish === 'number' ? `publish ${k(r.proposal.publish)} + ` : ''
  return (
    `L1 gas (dev game: ${r.parameters.maxGameDepth} levels, split ${r.parameters.splitDepth}): proposal ${publish}create ${k(r.proposal.create)}; ` +
    `move ${k(r.moves.min)}–${k(r.moves.max)} (mean ${k(r.moves.mean)}); resolveClaim ${k(r.resolveClaim.leaf)} (leaf) / ${k(r.resolveClaim.withChild)} (with a child), resolve ${k(r.resolve)}, claimCredit ${k(r.claimCredit)}; ` +
    `withdrawal prove ${k(r.withdrawal.prove)} (passer trie of ${r.parameters.passerEntries}), finalize ${k(r.withdrawal.finalize)}; ` +
    `step: open ${k(r.step.open)}, L1 attributes ${k(r.step.l1Attributes)} (new epoch ${k(r.step.l1AttributesNewEpoch)}), deposit ${k(r.step.deposit)}, transfer ${k(r.step.transferToFresh)} (fresh recipient) / ${k(r.step.transferToExisting)}, seal ${k(r.step.seal)}; ` +
    `full dispute worst case, with the dearest step: challenger ${r.fullDispute.challenger.count} moves ${k(r.fullDispute.challenger.withStep)}, ` +
    `defender proposal + ${r.fullDispute.defender.count} moves ${k(r.fullDispute.defender.withStep)}, ` +
    `resolution ${k(r.fullDispute.resolution.resolveClaims + r.fullDispute.resolution.resolve)} (anyone)`
  )
}

/** The README table of the contract block's steps: each kind's L1 gas beside the L2 gas its transaction used. */
export function contractStepTable(r: DisputeGasResult): string {
  const k = (n: number) => `${Math.round(n / 1000).toLocaleString('en-US')}k`
  const rows = r.step.contract.map((c) => `| ${c.kind} | ${c.l2Gas.toLocaleString('en-US')} | ${k(c.gas)} |`)
  return [
    '| Step (ContractTxStep, EVM interpreter) | L2 gas of the transaction | L1 gas of the step |',
    '|---|---|---|',
    ...rows,
  ].join('\n')
}

export async function writeDisputeResults(env: Record<string, unknown>, log: (line: string) => void): Promise<DisputeGasResult> {
  const result = await runDisputeBench(log)
  writeJson('dispute.json', { ...env, scenario: 'dispute', ...result })
  const line = disputeLine(result)
  const table = contractStepTable(result)
  writeText('dispute.md', `${line}\n\n${table}\n`)
  log(line)
  log(table)
  return result
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await writeDisputeResults({ date: new Date().toISOString() }, console.log)
}
