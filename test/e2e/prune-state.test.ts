// run-tests: pair — process start-ups (three node starts, five CLI runs) and a few dozen transfers: no load, no assertion on time
/**
 * `megaeth-node prune-state` end to end: a --dev sequencer with a datadir updates the same accounts
 * block after block (garbage in `<datadir>/trie`), and refuses to be pruned while it runs. Stopped, a
 * prune killed at a failpoint after its first delete batch leaves a datadir the node starts from
 * (persisted root opened, same state); a full prune then deletes the rest of the garbage, and every
 * node of the head's state is still there; a second prune deletes nothing. Restarted: the same chain,
 * the same proofs and balances, storage (the EIP-2935 history contract's) readable, new transactions
 * go through.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { hexToBytes } from '@ethereumjs/util'
import { pad, toHex, type Address, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { TrieNodeStore } from '../../src/storage/trie-node-store.ts'
import { storedStateTrieNodes } from '../../src/trie/state-trie-walker.ts'
import { DEV_KEYS, RestartedNodes, rpc, runCli, type NodeHandle } from '../helpers/node-process.ts'
import { chainHashes, openedTrie, provenState, sealedHead, type RpcProof } from '../helpers/proven-state.ts'
import { syncSender } from '../helpers/receipts.ts'

const FEE = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 0n }
/** EIP-2935's history contract: its storage trie gains a slot every block (a storage trie to walk). */
const HISTORY_CONTRACT: Address = '0x0000F90827F1C53a10cb7A02335B175320002935'
const HISTORY_SERVE_WINDOW = 8191n

const nodes = new RestartedNodes('megaeth-prune-state-', ['--block-ms=200'])
after(() => nodes.cleanup())

/** The fields of prune-state's "done" log line. */
interface PruneDone {
  head: string
  stateRoot: Hex
  nodesBefore: number
  marked: number
  deleted: number
  diskBytesBefore: number
  diskBytesAfter: number
  verified: number
}

async function prune(dir: string, extra: string[] = [], env: Record<string, string> = {}) {
  return runCli(['prune-state', `--datadir=${dir}`, ...extra], 30_000, env)
}

function doneLine(stdout: string): PruneDone {
  const line = stdout.split('\n').find((l) => l.includes('prune-state: done'))
  assert.ok(line !== undefined, `no "done" line in:\n${stdout}`)
  return JSON.parse(line) as PruneDone
}

/** The trie directory's node count, and whether every node of `stateRoot` is in it. */
async function trieNodes(dir: string, stateRoot: Hex): Promise<{ count: number; reachable: number }> {
  const store = await TrieNodeStore.open(join(dir, 'trie'), { cacheBytes: 0 })
  try {
    let count = 0
    for await (const chunk of store.scan(4096)) count += chunk.length
    // Throws MissingTrieNodeError if a node of the state is gone.
    const reachable = new Set([...storedStateTrieNodes(hexToBytes(stateRoot), store)].map((n) => toHex(n.hash))).size
    return { count, reachable }
  } finally {
    await store.close()
  }
}

/** The history contract's slot for block `n`, proven at latest: it must hold block n's hash. */
async function historySlot(node: NodeHandle, n: bigint): Promise<Hex> {
  const slot = pad(toHex(n % HISTORY_SERVE_WINDOW))
  const proof = await rpc<RpcProof>(node.rpcUrl, 'eth_getProof', [HISTORY_CONTRACT, [slot], 'latest'])
  return pad(proof.storageProof[0]!.value)
}

describe('prune-state', { timeout: 120_000 }, () => {
  test("prunes a stopped node's trie garbage crash-safely and keeps the head state whole", async () => {
    const datadir = await nodes.datadir()
    const first = await nodes.start()
    const senders = DEV_KEYS.slice(0, 2).map((key) => privateKeyToAccount(key))
    const sends = senders.map((account) => syncSender(first.rpcUrl, account, FEE))
    const recipients: Address[] = Array.from(
      { length: 3 },
      (_, i) => `0x${'5'.repeat(38)}${i.toString(16).padStart(2, '0')}` as Address,
    )
    // The same few accounts updated over and over, across several blocks: each block replaces their nodes.
    for (let round = 0; round < 12; round++) {
      for (const [i, send] of sends.entries()) {
        const receipt = await send({ to: recipients[(round + i) % 3]!, value: 10n ** 15n, gas: 21_000n })
        assert.equal(receipt.status, '0x1')
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    const running = await prune(datadir)
    assert.equal(running.code, 2, "a running node's datadir is refused")
    assert.match(running.stderr, /in use by another process/)

    const watched: Address[] = [...senders.map((s) => s.address), ...recipients]
    const before = await provenState(first, watched, [])
    const sealed = (await sealedHead(first)).number
    const hashes = await chainHashes(first, sealed)
    await first.stop()

    // Killed after its first batch of 20 deletions: the datadir must still start.
    const killed = await prune(datadir, ['--batch-nodes=20'], { MEGAETH_FAILPOINTS: 'prune-state.delete-batch=kill' })
    assert.equal(killed.signal, 'SIGKILL', `the failpoint killed the prune: ${killed.stderr}`)
    const afterCrash = await nodes.start()
    assert.equal(openedTrie(afterCrash), 'persisted', 'the head root opened after a prune killed mid-sweep')
    assert.deepEqual(await chainHashes(afterCrash, sealed), hashes)
    assert.deepEqual(await provenState(afterCrash, watched, []), before)
    await afterCrash.stop()

    const pruned = await prune(datadir)
    assert.equal(pruned.code, 0, pruned.stderr)
    const done = doneLine(pruned.stdout)
    const left = await trieNodes(datadir, done.stateRoot)
    assert.ok(done.deleted > 0 && done.deleted >= done.nodesBefore / 2, `most nodes were garbage: ${JSON.stringify(done)}`)
    assert.equal(left.count, done.nodesBefore - done.deleted)
    assert.equal(done.verified, done.marked)
    // What is left is the head's state (false positives may keep a few more), and all of it.
    const falsePositives = left.count - left.reachable
    assert.ok(falsePositives >= 0 && falsePositives <= done.deleted / 100 + 2, `${left.count} kept, ${left.reachable} live`)
    assert.ok(done.diskBytesAfter < done.diskBytesBefore, `disk ${done.diskBytesBefore} → ${done.diskBytesAfter}`)

    const again = await prune(datadir)
    assert.equal(again.code, 0, again.stderr)
    assert.equal(doneLine(again.stdout).deleted, 0, 'a second prune finds no garbage')

    const restarted = await nodes.start()
    assert.equal(openedTrie(restarted), 'persisted')
    assert.deepEqual(await chainHashes(restarted, sealed), hashes)
    assert.deepEqual(await provenState(restarted, watched, []), before)
    assert.equal(await historySlot(restarted, sealed - 1n), hashes[Number(sealed - 1n)])
    const receipt = await syncSender(
      restarted.rpcUrl,
      privateKeyToAccount(DEV_KEYS[2]!),
      FEE,
    )({
      to: recipients[0]!,
      value: 1n,
      gas: 21_000n,
    })
    assert.equal(receipt.status, '0x1', 'a transaction after the prune goes through')
    await restarted.stop()
  })
})
