// run-tests: pair — waits on L1 (anvil's 1 s blocks, games, batcher and proposer rounds) far more than it computes
/**
 * Withdrawals through the portal on a real anvil, checked with viem's `viem/op-stack` actions unmodified: a
 * message-passer storage trie built with @ethereumjs/mpt (secure keys at the `sentMessages` slots), an output root over
 * it, a game with that root claim resolved DEFENDER_WINS by its clock, then `proveWithdrawal` → `finalizeWithdrawal`
 * paying the target, with `getWithdrawalStatus` asked at every stage; the refusals (immature proof, unresolved, lost,
 * blacklisted game, twice, paused, bad proofs) with the errors viem maps; the gas rule and `l2Sender`; and the Solidity
 * MPT verifier against honest and adversarial proofs. Prints one JSON line of L1 gas figures.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createMerkleProof, createMPT, type MerklePatriciaTrie } from '@ethereumjs/mpt'
import {
  BaseError,
  bytesToHex,
  ContractFunctionRevertedError,
  concat,
  decodeErrorResult,
  defineChain,
  encodeAbiParameters,
  getAddress,
  hexToBytes,
  keccak256,
  parseEther,
  parseEventLogs,
  toFunctionSelector,
  toHex,
  type Abi,
  type Address,
  type Hex,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { finalizeWithdrawal, getWithdrawalHashStorageSlot, getWithdrawalStatus, proveWithdrawal } from 'viem/op-stack'
import { anchorStateRegistryAbi } from '../../src/bridge/generated/AnchorStateRegistry.ts'
import { disputeGameFactoryAbi } from '../../src/bridge/generated/DisputeGameFactory.ts'
import { faultDisputeGameAbi } from '../../src/bridge/generated/FaultDisputeGame.ts'
import { optimismPortal2Abi } from '../../src/bridge/generated/OptimismPortal2.ts'
import { superchainConfigAbi } from '../../src/bridge/generated/SuperchainConfig.ts'
import {
  GAME_TYPE,
  guardian,
  L2_CHAIN_ID,
  startDisputeStack,
  TEST_DISPUTE,
  testContract,
  type Stack,
} from '../helpers/dispute.ts'
import { DEV_KEYS } from '../helpers/node-process.ts'

const user = privateKeyToAccount(DEV_KEYS[2]!)
const relayer = privateKeyToAccount(DEV_KEYS[3]!)
const proposer = privateKeyToAccount(DEV_KEYS[4]!)
const challenger = privateKeyToAccount(DEV_KEYS[7]!)
const ANCHOR_BLOCK = 10n
const gas: Record<string, number> = {}
const ZERO = `0x${'00'.repeat(32)}` as Hex

interface Withdrawal {
  nonce: bigint
  sender: Address
  target: Address
  value: bigint
  gasLimit: bigint
  data: Hex
  withdrawalHash: Hex
}

function withdrawal(nonce: bigint, target: Address, value: bigint, gasLimit = 100_000n, data: Hex = '0x'): Withdrawal {
  const sender = user.address
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
      [nonce, sender, target, value, gasLimit, data],
    ),
  )
  return { nonce, sender, target, value, gasLimit, data, withdrawalHash }
}

/** The message passer's storage: `sentMessages[hash] = true` for each withdrawal, plus unrelated filler. */
async function passerTrie(withdrawals: readonly Withdrawal[], filler: number): Promise<MerklePatriciaTrie> {
  const trie = await createMPT({ useKeyHashing: true })
  const hashes = [...withdrawals.map((w) => w.withdrawalHash), ...Array.from({ length: filler }, (_, i) => keccak256(toHex(i)))]
  for (const hash of hashes)
    await trie.put(hexToBytes(getWithdrawalHashStorageSlot({ withdrawalHash: hash })), new Uint8Array([1]))
  return trie
}

async function storageProof(trie: MerklePatriciaTrie, w: Withdrawal): Promise<Hex[]> {
  const proof = await createMerkleProof(trie, hexToBytes(getWithdrawalHashStorageSlot({ withdrawalHash: w.withdrawalHash })))
  return proof.map((node) => bytesToHex(node))
}

function outputRootProof(storageRoot: Hex, salt: string) {
  return {
    version: ZERO,
    stateRoot: keccak256(toHex(`state ${salt}`)),
    messagePasserStorageRoot: storageRoot,
    latestBlockhash: keccak256(toHex(`block ${salt}`)),
  }
}

function outputRoot(proof: ReturnType<typeof outputRootProof>): Hex {
  return keccak256(concat([proof.version, proof.stateRoot, proof.messagePasserStorageRoot, proof.latestBlockhash]))
}

/** Errors of our contracts, to name reverts viem's own op-stack ABIs (used by its actions) do not list. */
const ALL_ERRORS: Abi = [...optimismPortal2Abi, ...faultDisputeGameAbi, ...anchorStateRegistryAbi].filter(
  (item) => item.type === 'error',
)

function revertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined
  const cause = error.walk((e) => e instanceof ContractFunctionRevertedError)
  if (!(cause instanceof ContractFunctionRevertedError)) return undefined
  if (cause.data?.errorName !== undefined) return cause.data.errorName
  if (cause.raw === undefined) return undefined
  try {
    return decodeErrorResult({ abi: ALL_ERRORS, data: cause.raw }).errorName
  } catch {
    return cause.raw
  }
}

async function rejectsWith(promise: Promise<unknown>, name: string): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.equal(revertName(error), name, String(error).slice(0, 600))
    return true
  })
}

let s: Stack
let l2: ReturnType<typeof defineChain>
let probe: { address: Address; abi: Abi }
let harness: { address: Address; abi: Abi }

before(async () => {
  s = await startDisputeStack({ anchorRoot: keccak256('0x01'), anchorBlock: ANCHOR_BLOCK })
  l2 = defineChain({
    id: Number(L2_CHAIN_ID),
    name: 'l2',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: ['http://127.0.0.1:1'] } },
    sourceId: s.chain.id,
    contracts: {
      portal: { [s.chain.id]: { address: s.deployment.optimismPortal } },
      disputeGameFactory: { [s.chain.id]: { address: s.dispute.disputeGameFactory } },
      l2OutputOracle: { [s.chain.id]: { address: s.dispute.disputeGameFactory } },
    },
  })
  const deploy = async (name: string) => {
    const { abi, bytecode } = testContract(name)
    const hash = await s.wallet.deployContract({ account: relayer, abi, bytecode })
    return { address: (await s.mined(hash)).contractAddress!, abi }
  }
  probe = await deploy('L2SenderProbe')
  harness = await deploy('MerkleTrieHarness')
  // The portal pays withdrawals out of deposited ETH.
  await s.mined(
    await s.wallet.writeContract({
      account: relayer,
      address: s.deployment.optimismPortal,
      abi: optimismPortal2Abi,
      functionName: 'donateETH',
      value: parseEther('10'),
    }),
  )
})

after(async () => {
  await s?.anvil.stop()
  process.stdout.write(`${JSON.stringify({ bench: 'withdrawal-l1-gas', ...gas })}\n`)
})

async function createGame(root: Hex, l2Block: bigint): Promise<{ address: Address; index: bigint }> {
  const extra = encodeAbiParameters([{ type: 'uint256' }], [l2Block])
  const hash = await s.wallet.writeContract({
    account: proposer,
    address: s.dispute.disputeGameFactory,
    abi: disputeGameFactoryAbi,
    functionName: 'create',
    args: [GAME_TYPE, root, extra],
    value: TEST_DISPUTE.bondBase,
  })
  await s.mined(hash)
  const index =
    (await s.client.readContract({
      address: s.dispute.disputeGameFactory,
      abi: disputeGameFactoryAbi,
      functionName: 'gameCount',
    })) - 1n
  const [, , address] = await s.client.readContract({
    address: s.dispute.disputeGameFactory,
    abi: disputeGameFactoryAbi,
    functionName: 'gameAtIndex',
    args: [index],
  })
  return { address, index }
}

async function resolveGame(address: Address): Promise<void> {
  const count = await s.client.readContract({ address, abi: faultDisputeGameAbi, functionName: 'claimDataLen' })
  for (let i = count - 1n; i >= 0n; i--)
    await s.mined(
      await s.wallet.writeContract({
        account: relayer,
        address,
        abi: faultDisputeGameAbi,
        functionName: 'resolveClaim',
        args: [i, 0n],
      }),
    )
  await s.mined(await s.wallet.writeContract({ account: relayer, address, abi: faultDisputeGameAbi, functionName: 'resolve' }))
}

async function status(w: Withdrawal, l2BlockNumber: bigint) {
  return getWithdrawalStatus(s.client, {
    targetChain: l2,
    portalAddress: s.deployment.optimismPortal,
    disputeGameFactoryAddress: s.dispute.disputeGameFactory,
    l2BlockNumber,
    sender: w.sender,
    withdrawalHash: w.withdrawalHash,
  } as Parameters<typeof getWithdrawalStatus>[1])
}

function txOf(w: Withdrawal) {
  return { nonce: w.nonce, sender: w.sender, target: w.target, value: w.value, gasLimit: w.gasLimit, data: w.data }
}

async function prove(
  w: Withdrawal,
  gameIndex: bigint,
  proof: ReturnType<typeof outputRootProof>,
  nodes: Hex[],
  account = relayer,
) {
  return s.mined(
    await proveWithdrawal(s.wallet, {
      account,
      chain: s.chain,
      targetChain: l2,
      portalAddress: s.deployment.optimismPortal,
      l2OutputIndex: gameIndex,
      outputRootProof: proof,
      withdrawalProof: nodes,
      withdrawal: txOf(w),
    } as Parameters<typeof proveWithdrawal>[1]),
  )
}

function finalizeRaw(w: Withdrawal, account = relayer, gasLimit?: bigint) {
  return s.wallet.writeContract({
    account,
    address: s.deployment.optimismPortal,
    abi: optimismPortal2Abi,
    functionName: 'finalizeWithdrawalTransaction',
    args: [txOf(w)],
    ...(gasLimit === undefined ? {} : { gas: gasLimit }),
  })
}

describe('withdrawals against a dispute game', () => {
  test("prove → finalize pays the target; viem's getWithdrawalStatus follows every stage", async () => {
    const recipient = getAddress('0x1111111111111111111111111111111111111111')
    const w = withdrawal(1n, recipient, parseEther('1.5'))
    const other = withdrawal(2n, probe.address, parseEther('0.25'), 200_000n, toFunctionSelector('probe()'))
    const trie = await passerTrie([w, other], 40)
    const proof = outputRootProof(bytesToHex(trie.root()), 'a')
    const withdrawalBlock = ANCHOR_BLOCK + 5n

    assert.equal(await status(w, withdrawalBlock), 'waiting-to-prove', 'no game yet')
    const g = await createGame(outputRoot(proof), ANCHOR_BLOCK + 20n)
    // A proof must be newer than the game (anvil may give consecutive blocks the same timestamp).
    await s.warp(1)
    assert.equal(await status(w, withdrawalBlock), 'ready-to-prove')
    const portalRead = (functionName: 'disputeGameFinalityDelaySeconds' | 'proofMaturityDelaySeconds') =>
      s.client.readContract({ address: s.deployment.optimismPortal, abi: optimismPortal2Abi, functionName })
    assert.equal(await portalRead('disputeGameFinalityDelaySeconds'), TEST_DISPUTE.disputeGameFinalityDelaySeconds)
    assert.equal(await portalRead('proofMaturityDelaySeconds'), TEST_DISPUTE.proofMaturityDelaySeconds)

    // Refused proofs: a wrong output root preimage, a proof of a withdrawal the trie does not hold, the guardian's pause.
    const nodes = await storageProof(trie, w)
    await rejectsWith(prove(w, g.index, { ...proof, stateRoot: ZERO }, nodes), 'OptimismPortal_InvalidOutputRootProof')
    const absent = withdrawal(3n, recipient, 1n)
    await assert.rejects(prove(absent, g.index, proof, nodes))
    await s.mined(
      await s.wallet.writeContract({
        account: guardian,
        address: s.deployment.superchainConfig,
        abi: superchainConfigAbi,
        functionName: 'pause',
        args: ['test'],
      }),
    )
    await rejectsWith(prove(w, g.index, proof, nodes), 'OptimismPortal_CallPaused')
    await s.mined(
      await s.wallet.writeContract({
        account: guardian,
        address: s.deployment.superchainConfig,
        abi: superchainConfigAbi,
        functionName: 'unpause',
      }),
    )

    const proved = await prove(w, g.index, proof, nodes)
    gas.prove = Number(proved.gasUsed)
    await prove(other, g.index, proof, await storageProof(trie, other))
    const [provenGame, provenAt] = await s.client.readContract({
      address: s.deployment.optimismPortal,
      abi: optimismPortal2Abi,
      functionName: 'provenWithdrawals',
      args: [w.withdrawalHash, relayer.address],
    })
    assert.equal(provenGame, g.address)
    assert.ok(provenAt > 0n)
    assert.equal(
      await s.client.readContract({
        address: s.deployment.optimismPortal,
        abi: optimismPortal2Abi,
        functionName: 'numProofSubmitters',
        args: [w.withdrawalHash],
      }),
      1n,
    )
    assert.equal(await status(w, withdrawalBlock), 'waiting-to-finalize')
    await rejectsWith(finalizeRaw(w), 'OptimismPortal_ProofNotOldEnough')

    // Mature proof, game still in progress.
    await s.warp(Number(TEST_DISPUTE.proofMaturityDelaySeconds) + 1)
    await rejectsWith(finalizeRaw(w), 'OptimismPortal_InvalidRootClaim')
    assert.equal(await status(w, withdrawalBlock), 'waiting-to-finalize')

    // Unchallenged: the root's clock runs out and it resolves DEFENDER_WINS, then waits out the finality delay.
    await s.warp(Number(TEST_DISPUTE.maxClockDuration) + 1)
    await resolveGame(g.address)
    assert.equal(await s.client.readContract({ address: g.address, abi: faultDisputeGameAbi, functionName: 'status' }), 2)
    await rejectsWith(finalizeRaw(w), 'OptimismPortal_InvalidRootClaim')
    assert.equal(await status(w, withdrawalBlock), 'waiting-to-finalize')
    await s.warp(Number(TEST_DISPUTE.disputeGameFinalityDelaySeconds) + 1)
    assert.equal(await status(w, withdrawalBlock), 'ready-to-finalize')

    // Too little gas for the target's gas limit: the whole transaction reverts, nothing is finalized.
    // (An explicit gas limit skips estimation: the revert shows as a failed receipt.)
    const starved = await s.client.waitForTransactionReceipt({ hash: await finalizeRaw(other, relayer, 200_000n) })
    assert.equal(starved.status, 'reverted')
    const finalizedOther = () =>
      s.client.readContract({
        address: s.deployment.optimismPortal,
        abi: optimismPortal2Abi,
        functionName: 'finalizedWithdrawals',
        args: [other.withdrawalHash],
      })
    assert.equal(await finalizedOther(), false)

    const before = await s.client.getBalance({ address: recipient })
    const portalBefore = await s.client.getBalance({ address: s.deployment.optimismPortal })
    const finalized = await s.mined(
      await finalizeWithdrawal(s.wallet, {
        account: relayer,
        chain: s.chain,
        targetChain: l2,
        portalAddress: s.deployment.optimismPortal,
        withdrawal: w,
      } as Parameters<typeof finalizeWithdrawal>[1]),
    )
    gas.finalize = Number(finalized.gasUsed)
    assert.equal((await s.client.getBalance({ address: recipient })) - before, w.value)
    assert.equal(portalBefore - (await s.client.getBalance({ address: s.deployment.optimismPortal })), w.value)
    assert.equal(await status(w, withdrawalBlock), 'finalized')
    await rejectsWith(finalizeRaw(w), 'OptimismPortal_AlreadyFinalized')

    // The valid, final game becomes the anchor new games start from; an older or equal one cannot replace it.
    const setAnchor = (game: Address) =>
      s.wallet.writeContract({
        account: relayer,
        address: s.dispute.anchorStateRegistry,
        abi: anchorStateRegistryAbi,
        functionName: 'setAnchorState',
        args: [game],
      })
    await s.mined(await setAnchor(g.address))
    assert.deepEqual(
      await s.client.readContract({
        address: s.dispute.anchorStateRegistry,
        abi: anchorStateRegistryAbi,
        functionName: 'getAnchorRoot',
      }),
      [outputRoot(proof), ANCHOR_BLOCK + 20n],
    )
    await rejectsWith(setAnchor(g.address), 'AnchorStateRegistry_InvalidAnchorGame')

    // The probe sees the withdrawal's L2 sender during the call and at least its gas limit; 0xdEaD after.
    const done = await s.mined(await finalizeRaw(other))
    assert.equal(await finalizedOther(), true)
    const [event] = parseEventLogs({ abi: optimismPortal2Abi, logs: done.logs, eventName: 'WithdrawalFinalized' })
    assert.equal(event?.args.success, true)
    const read = (functionName: string) =>
      s.client.readContract({ address: probe.address, abi: probe.abi, functionName }) as Promise<unknown>
    assert.equal(await read('seenSender'), user.address)
    assert.ok(((await read('seenGas')) as bigint) >= other.gasLimit - 5_000n, 'the target got its gas limit')
    assert.equal(await read('received'), other.value)
    assert.equal(
      await s.client.readContract({ address: s.deployment.optimismPortal, abi: optimismPortal2Abi, functionName: 'l2Sender' }),
      '0x000000000000000000000000000000000000dEaD',
    )
  })

  test('a lost game and a blacklisted game back no withdrawal', async () => {
    const recipient = getAddress('0x2222222222222222222222222222222222222222')
    const lost = withdrawal(10n, recipient, 1000n)
    const banned = withdrawal(11n, recipient, 2000n)
    const trie = await passerTrie([lost, banned], 5)
    const proofLost = outputRootProof(bytesToHex(trie.root()), 'lost')
    const proofBanned = outputRootProof(bytesToHex(trie.root()), 'banned')
    const block = ANCHOR_BLOCK + 1n
    const gLost = await createGame(outputRoot(proofLost), ANCHOR_BLOCK + 30n)
    const gBanned = await createGame(outputRoot(proofBanned), ANCHOR_BLOCK + 31n)
    await s.warp(1)
    await prove(lost, gLost.index, proofLost, await storageProof(trie, lost))
    await prove(banned, gBanned.index, proofBanned, await storageProof(trie, banned))

    // The challenger attacks the first root and is never answered: CHALLENGER_WINS.
    const bond = await s.client.readContract({
      address: gLost.address,
      abi: faultDisputeGameAbi,
      functionName: 'getRequiredBond',
      args: [2n],
    })
    await s.mined(
      await s.wallet.writeContract({
        account: challenger,
        address: gLost.address,
        abi: faultDisputeGameAbi,
        functionName: 'attack',
        args: [outputRoot(proofLost), 0n, keccak256('0xc0ffee')],
        value: bond,
      }),
    )
    await s.warp(Number(TEST_DISPUTE.maxClockDuration) + 1)
    await resolveGame(gLost.address)
    await resolveGame(gBanned.address)
    assert.equal(await s.client.readContract({ address: gLost.address, abi: faultDisputeGameAbi, functionName: 'status' }), 1)
    await s.mined(
      await s.wallet.writeContract({
        account: guardian,
        address: s.dispute.anchorStateRegistry,
        abi: anchorStateRegistryAbi,
        functionName: 'blacklistDisputeGame',
        args: [gBanned.address],
      }),
    )
    assert.equal(await status(lost, block), 'waiting-to-finalize', 'lost but not final yet')
    await s.warp(Number(TEST_DISPUTE.disputeGameFinalityDelaySeconds) + 1)
    await rejectsWith(finalizeRaw(lost), 'OptimismPortal_InvalidRootClaim')
    await rejectsWith(finalizeRaw(banned), 'OptimismPortal_InvalidRootClaim')
    assert.equal(await status(lost, block), 'ready-to-prove', 'a lost game: prove again against another')
    assert.equal(await status(banned, block), 'ready-to-prove', 'a blacklisted game: prove again against another')
    await rejectsWith(prove(lost, gLost.index, proofLost, await storageProof(trie, lost)), 'OptimismPortal_InvalidDisputeGame')
    await rejectsWith(
      prove(banned, gBanned.index, proofBanned, await storageProof(trie, banned)),
      'OptimismPortal_InvalidDisputeGame',
    )

    // The anchor moves only to a valid, final, newer game.
    await rejectsWith(
      s.wallet.writeContract({
        account: relayer,
        address: s.dispute.anchorStateRegistry,
        abi: anchorStateRegistryAbi,
        functionName: 'setAnchorState',
        args: [gLost.address],
      }),
      'AnchorStateRegistry_InvalidAnchorGame',
    )
  })
})

describe('MerkleTrie (Solidity) against @ethereumjs/mpt proofs', () => {
  test('honest proofs verify; wrong value, wrong key, truncated, extended and tampered proofs are rejected', async () => {
    const trie = await createMPT({ useKeyHashing: true })
    const keys: Hex[] = []
    for (let i = 0; i < 300; i++) {
      const key = keccak256(toHex(`key ${i}`))
      keys.push(key)
      await trie.put(hexToBytes(key), hexToBytes(keccak256(toHex(`value ${i}`)).slice(0, 2 + 2 * (1 + (i % 40))) as Hex))
    }
    const root = bytesToHex(trie.root())
    const call = (key: Hex, value: Hex, proof: Hex[]) =>
      s.client.readContract({
        address: harness.address,
        abi: harness.abi,
        functionName: 'verifySecure',
        args: [key, value, proof, root],
      }) as Promise<boolean>
    for (const i of [0, 7, 123, 299]) {
      const key = keys[i]!
      const value = bytesToHex((await trie.get(hexToBytes(key)))!)
      const proof = (await createMerkleProof(trie, hexToBytes(key))).map((n) => bytesToHex(n))
      assert.equal(await call(key, value, proof), true, `key ${i}`)
      assert.equal(await call(key, `${value}00` as Hex, proof), false, 'wrong value')
      await assert.rejects(call(keys[(i + 1) % keys.length]!, value, proof), 'wrong key')
      await assert.rejects(call(keccak256('0xdead'), value, proof), 'absent key')
      await assert.rejects(call(key, value, proof.slice(0, -1)), 'truncated')
      await assert.rejects(call(key, value, [...proof, proof[proof.length - 1]!]), 'extra node')
      const tampered = [...proof]
      const last = tampered[tampered.length - 1]!
      tampered[tampered.length - 1] = `${last.slice(0, -2)}${last.slice(-2) === 'ff' ? '00' : 'ff'}` as Hex
      await assert.rejects(call(key, value, tampered), 'tampered node')
      await assert.rejects(call(key, value, []), 'empty proof')
    }
  })
})
