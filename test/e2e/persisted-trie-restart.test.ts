/**
 * Restarts open the persisted state trie instead of rebuilding it (issue 23), end to end: a --dev
 * sequencer with a datadir takes ETH and token traffic (accounts and a storage trie), stops; the
 * restart logs that it opened the persisted root; the chain, balances and `eth_getProof` answers
 * are those from before, and every proof verifies against its block's state root. Then the trie
 * directory is removed (a datadir from before persisted tries): the start rebuilds from the flat
 * state, says so, and serves the same.
 *
 * Each restart seals blocks of its own (the EIP-2935 system call changes the root every block), so
 * proofs are compared by what they prove (the account leaf, its fields, the storage proofs), and
 * each is verified against the state root of the block it was asked at.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeDeployData, encodeFunctionData, keccak256, pad, type Address, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { contract } from '../helpers/contracts.ts'
import { DEV_KEYS, RestartedNodes, waitFor } from '../helpers/node-process.ts'
import { chainHashes, openedTrie, provenState, sealedHead } from '../helpers/proven-state.ts'
import { succeedingSender } from '../helpers/receipts.ts'

const FEE = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 0n }

const nodes = new RestartedNodes('megaeth-trie-restart-', ['--block-ms=300'])
after(() => nodes.cleanup())

describe('persisted state trie across restarts', { timeout: 150_000 }, () => {
  test('a restart opens the persisted root with the same chain, balances and proofs; an older datadir is migrated once', async () => {
    const datadir = await nodes.datadir()
    const first = await nodes.start()
    assert.equal(openedTrie(first), 'genesis')

    // Traffic: a token (a storage trie with several slots) and ETH to fresh accounts.
    const token = contract('Token')
    const sender = privateKeyToAccount(DEV_KEYS[0]!)
    const send = succeedingSender(first.rpcUrl, sender, FEE)
    const deployed = await send({
      data: encodeDeployData({ abi: token.abi, bytecode: token.bytecode, args: ['Persist', 'PT', 10n ** 24n] }),
      gas: 2_000_000n,
    })
    const tokenAddress = deployed.contractAddress!
    const recipients: Address[] = Array.from(
      { length: 6 },
      (_, i) => `0x${'7'.repeat(38)}${i.toString(16).padStart(2, '0')}` as Address,
    )
    for (const [i, to] of recipients.entries()) {
      await send({ to, value: 10n ** 15n * BigInt(i + 1), gas: 21_000n })
      await send({
        to: tokenAddress,
        data: encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [to, 1000n * BigInt(i + 1)] }),
        gas: 100_000n,
      })
    }
    const lastTxBlock = BigInt((await send({ to: recipients[0]!, value: 1n, gas: 21_000n })).blockNumber)
    await waitFor('the traffic sealed', async () => (await sealedHead(first)).number > lastTxBlock, 20_000)

    // The token's balance slots (`balanceOf`, slot 3 of contracts/Token.sol) of the sender and the recipients.
    const holders = [sender.address, ...recipients]
    const slots = holders.map((h) => keccak256(`${pad(h)}${pad('0x3').slice(2)}` as Hex))
    const watched: Address[] = [sender.address, tokenAddress, ...recipients]
    const before = await provenState(first, watched, [])
    const tokenBefore = await provenState(first, [tokenAddress], slots)
    assert.ok(
      (tokenBefore[0] as { storage: Array<{ value: Hex }> }).storage.some((s) => BigInt(s.value) !== 0n),
      'the token slots guessed hold balances (else the storage comparison proves nothing)',
    )
    const sealed = (await sealedHead(first)).number
    const hashes = await chainHashes(first, sealed)
    await first.stop()

    // Restart: the persisted root is opened, not rebuilt.
    const second = await nodes.start()
    assert.equal(openedTrie(second), 'persisted', 'the restart opened the persisted trie')
    assert.deepEqual(await chainHashes(second, sealed), hashes)
    assert.deepEqual(await provenState(second, watched, []), before)
    assert.deepEqual(await provenState(second, [tokenAddress], slots), tokenBefore)
    await second.stop()

    // A datadir from before persisted tries: rebuilt from the flat state once, then opened again.
    await rm(join(datadir, 'trie'), { recursive: true, force: true })
    const migrated = await nodes.start()
    assert.equal(openedTrie(migrated), 'rebuilt', 'a datadir without a trie is rebuilt from the flat state')
    assert.deepEqual(await provenState(migrated, watched, []), before)
    assert.deepEqual(await provenState(migrated, [tokenAddress], slots), tokenBefore)
    await migrated.stop()
    // That the start after a migration opens the persisted root again: test/unit/bootstrap.test.ts.
  })
})
