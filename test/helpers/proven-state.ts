/**
 * What a node proves about its state, for restart tests that must find the same state afterwards
 * (persisted-trie-restart, prune-state): the sealed head, the chain's hashes, and accounts' proofs
 * checked against the head's state root and reduced to what does not depend on the rest of the state
 * (a restarted node seals blocks of its own: the EIP-2935 system call changes the root every block).
 */
import assert from 'node:assert/strict'
import { verifyMerkleProof } from '@ethereumjs/mpt'
import { hexToBytes } from '@ethereumjs/util'
import { toHex, type Address, type Hex } from 'viem'
import { keccak256 as nativeKeccak } from '../../src/crypto/native.ts'
import { rpc, type NodeHandle } from './node-process.ts'

export interface RpcProof {
  accountProof: Hex[]
  balance: Hex
  nonce: Hex
  codeHash: Hex
  storageHash: Hex
  storageProof: Array<{ key: Hex; value: Hex; proof: Hex[] }>
}

/** The `stateTrie` field of the node's "opened chain" log line: 'genesis', 'persisted' or 'rebuilt'. */
export function openedTrie(node: NodeHandle): string | undefined {
  for (const line of node.logs().stdout.split('\n')) {
    if (!line.includes('opened chain')) continue
    return (JSON.parse(line) as { stateTrie?: string }).stateTrie
  }
  return undefined
}

export async function sealedHead(node: NodeHandle): Promise<{ number: bigint; stateRoot: Hex; hash: Hex }> {
  const block = await rpc<{ number: Hex; stateRoot: Hex; hash: Hex }>(node.rpcUrl, 'eth_getBlockByNumber', ['latest', false])
  return { number: BigInt(block.number), stateRoot: block.stateRoot, hash: block.hash }
}

/**
 * What the node proves about `accounts` at its latest sealed block, after checking every proof
 * against that block's state root: the parts that do not depend on the rest of the state.
 */
export async function provenState(node: NodeHandle, accounts: Address[], slots: Hex[]): Promise<unknown[]> {
  const head = await sealedHead(node)
  const tag = toHex(head.number)
  const out: unknown[] = []
  for (const address of accounts) {
    const proof = await rpc<RpcProof>(node.rpcUrl, 'eth_getProof', [address, slots, tag])
    const leaf = await verifyMerkleProof(
      hexToBytes(address),
      proof.accountProof.map((n) => hexToBytes(n)),
      { root: hexToBytes(head.stateRoot), useKeyHashing: true, useKeyHashingFunction: nativeKeccak },
    )
    assert.ok(leaf !== null, `${address}: the account proof proves a leaf under block ${head.number}'s root`)
    const balance = await rpc<Hex>(node.rpcUrl, 'eth_getBalance', [address, tag])
    assert.equal(BigInt(balance), BigInt(proof.balance), `${address}: eth_getBalance agrees with the proof`)
    out.push({
      address,
      balance: proof.balance,
      nonce: proof.nonce,
      codeHash: proof.codeHash,
      storageHash: proof.storageHash,
      leaf: proof.accountProof.at(-1),
      storage: proof.storageProof.map((p) => ({ key: p.key, value: p.value, proof: p.proof })),
    })
  }
  return out
}

/** The hashes of blocks 0..n: the chain a restart must come back with. */
export async function chainHashes(node: NodeHandle, n: bigint): Promise<Hex[]> {
  const hashes: Hex[] = []
  for (let i = 0n; i <= n; i++) {
    hashes.push((await rpc<{ hash: Hex }>(node.rpcUrl, 'eth_getBlockByNumber', [toHex(i), false])).hash)
  }
  return hashes
}
