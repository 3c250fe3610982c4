/**
 * The L1-attributes deposit's step (contracts/L1/L1AttributesStep.sol), on the prover's side: which slots of L1Block
 * `setL1BlockValuesIsthmus()` writes and what, the gas the verifier charges for them (the node's executor must agree:
 * test/unit/l1-attributes-step.test.ts), and the proofs the step takes — the depositor's account, L1Block's account,
 * then each slot against the storage root the previous slot's write left, and for a cleared slot whose branch
 * collapses into a hashed child, that child's node.
 */
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { L1_BLOCK_ADDRESS, L1_INFO_DEPOSITOR_ADDRESS } from '../../chain/l1-info.ts'
import type { DepositTransaction } from '../../chain/deposit-tx.ts'
import { keccak256 } from '../../crypto/native.ts'
import { bytesToBigInt } from '../../primitives/rlp-fields.ts'
import type { AccountDiff, Hex, StateDiff } from '../../primitives/state-diff.ts'
import type { StateTrie } from '../../trie/index.ts'
import { bytesToNibbles, decodeHexPrefix } from '../../trie/nibbles.ts'
import { TraceError } from './errors.ts'

/** The slots the setter writes, in the order the step applies them (ascending). */
export const L1_ATTRIBUTES_SLOTS: readonly bigint[] = [0n, 1n, 2n, 3n, 4n, 7n, 8n]

/** [offset, length] in the Isthmus calldata of each slot's value, in `L1_ATTRIBUTES_SLOTS` order (L1Block.sol). */
const SLOT_SOURCES: ReadonlyArray<readonly [offset: number, length: number]> = [
  [20, 16], // timestamp ‖ number
  [36, 32], // L1 base fee
  [100, 32], // L1 block hash
  [4, 16], // base fee scalar ‖ blob base fee scalar ‖ sequence number
  [132, 32], // batcher hash
  [68, 32], // blob base fee
  [164, 12], // operator fee scalar ‖ constant
]

const TX_GAS = 21_000n
const COLD_SLOAD = 2_100n
const SSTORE_NOOP = 100n
const SSTORE_SET = 20_000n
const SSTORE_RESET = 2_900n
const CLEAR_REFUND = 4_800n

/** 32-byte slot key as the state diff and the trie take it. */
export const slotWord = (slot: bigint): Hex => `0x${slot.toString(16).padStart(64, '0')}` as Hex

/** Whether the step treats `deposit` as the L1-attributes deposit (a call into L1Block with calldata). */
export function isL1AttributesCall(deposit: Pick<DepositTransaction, 'to' | 'data'>): boolean {
  return deposit.to !== null && deposit.to.toLowerCase() === L1_BLOCK_ADDRESS && deposit.data !== '0x'
}

/** The values the setter stores, in `L1_ATTRIBUTES_SLOTS` order. */
export function l1AttributesSlotValues(calldata: Uint8Array): bigint[] {
  return SLOT_SOURCES.map(([offset, length]) => bytesToBigInt(calldata.subarray(offset, offset + length)))
}

/**
 * The deposit's gas as the verifier computes it: intrinsic (21,000 and 4 or 16 per calldata byte), `setterGas`, and
 * per slot a cold access plus EIP-2200's store cost by the value before (`prior`, in `L1_ATTRIBUTES_SLOTS` order): the
 * same value 100, from zero 20,000, else 2,900 and a 4,800 refund when cleared; the refund capped at a fifth (EIP-3529);
 * at least EIP-7623's floor.
 */
export function l1AttributesGasUsed(calldata: Uint8Array, prior: readonly bigint[], setterGas: bigint): bigint {
  const next = l1AttributesSlotValues(calldata)
  let gas = TX_GAS + setterGas
  let tokens = 0n
  for (const byte of calldata) {
    gas += byte === 0 ? 4n : 16n
    tokens += byte === 0 ? 1n : 4n
  }
  let refund = 0n
  next.forEach((value, i) => {
    const before = prior[i] ?? 0n
    gas += COLD_SLOAD
    if (before === value) gas += SSTORE_NOOP
    else if (before === 0n) gas += SSTORE_SET
    else {
      gas += SSTORE_RESET
      if (value === 0n) refund += CLEAR_REFUND
    }
  })
  const cap = gas / 5n
  gas -= refund < cap ? refund : cap
  const floor = TX_GAS + 10n * tokens
  return gas < floor ? floor : gas
}

const hex = (b: Uint8Array): Hex => bytesToHex(b) as Hex
const hexes = (items: readonly Uint8Array[]): Hex[] => items.map(hex)
const isZero = (value: Uint8Array): boolean => value.every((b) => b === 0)

/**
 * Applies the L1-attributes deposit's `diff` in the step's order and returns its proofs (see L1AttributesStep's
 * `execute`): the depositor's account proof, L1Block's, one proof per slot of `L1_ATTRIBUTES_SLOTS`, then the list of
 * removal siblings (`0x` where none is needed). `witnessNodes` are the block witness's nodes by hash, where a sibling
 * the block has not rewritten is found.
 */
export function applyL1Attributes(
  trie: StateTrie,
  diff: StateDiff | undefined,
  witnessNodes: ReadonlyMap<Hex, Uint8Array>,
): Hex[][] {
  const remaining = new Map(diff?.accounts ?? [])
  const codes: StateDiff['codes'] = diff?.codes ?? new Map()
  const depositor = L1_INFO_DEPOSITOR_ADDRESS
  const proofs: Hex[][] = [hexes(trie.getProof(hexToBytes(depositor), []).accountProof)]
  const depositorChange = remaining.get(depositor)
  if (depositorChange !== undefined) {
    remaining.delete(depositor)
    trie.applyDiff(single(depositor, depositorChange, codes))
  }
  const l1Block = L1_BLOCK_ADDRESS as Hex
  const l1BlockBytes = hexToBytes(l1Block)
  proofs.push(hexes(trie.getProof(l1BlockBytes, []).accountProof))
  const change = remaining.get(l1Block)
  remaining.delete(l1Block)
  const storage = new Map(change?.storage ?? [])
  const siblings: Hex[] = []
  for (const slot of L1_ATTRIBUTES_SLOTS) {
    const key = slotWord(slot)
    const slotBytes = hexToBytes(key)
    const current = trie.storageValue(l1BlockBytes, slotBytes) // loads the storage trie, so the proof below walks it
    const proof = trie.getProof(l1BlockBytes, [slotBytes]).storageProof[0]!.proof
    proofs.push(hexes(proof))
    const value = storage.get(key)
    storage.delete(key)
    let sibling: Hex = '0x'
    if (change !== undefined && value !== undefined) {
      if (isZero(value) && current.length > 0) {
        const node = removalSibling(keccak256(slotBytes), proof, siblingLookup(trie, l1BlockBytes, witnessNodes))
        if (node !== undefined) sibling = hex(node)
      }
      trie.applyDiff(single(l1Block, { ...change, storage: new Map([[key, value]]) }, codes))
    }
    siblings.push(sibling)
  }
  proofs.push(siblings)
  // What the setter cannot write (nothing, for our L1Block): applied as is, so the trie stays the block's.
  if (change !== undefined && storage.size > 0) trie.applyDiff(single(l1Block, { ...change, storage }, codes))
  if (remaining.size > 0) trie.applyDiff({ accounts: remaining, codes })
  return proofs
}

function single(address: Hex, change: AccountDiff, codes: StateDiff['codes']): StateDiff {
  return { accounts: new Map([[address, change]]), codes }
}

/** Nodes of L1Block's storage trie as it is now (every slot's path), then the witness's. */
function siblingLookup(
  trie: StateTrie,
  l1Block: Uint8Array,
  witnessNodes: ReadonlyMap<Hex, Uint8Array>,
): (hash: Hex) => Uint8Array | undefined {
  const live = new Map<Hex, Uint8Array>()
  for (const slot of L1_ATTRIBUTES_SLOTS)
    for (const node of trie.getProof(l1Block, [hexToBytes(slotWord(slot))]).storageProof[0]!.proof)
      live.set(hex(keccak256(node)), node)
  return (hash) => live.get(hash) ?? witnessNodes.get(hash)
}

type Decoded = Uint8Array | Decoded[]

/**
 * The node `MerkleTrieWriter.remove` asks for when deleting `key` (raw trie key) proven by `proof`: when the branch
 * the key's leaf hangs from keeps exactly one child and no value, and that child is referenced by hash, the child's
 * node (it merges into the branch's place); else undefined.
 * @throws TraceError when the child's node is in neither the trie nor the witness
 */
export function removalSibling(
  key: Uint8Array,
  proof: readonly Uint8Array[],
  nodeByHash: (hash: Hex) => Uint8Array | undefined,
): Uint8Array | undefined {
  if (proof.length === 0) return undefined
  const nibbles = bytesToNibbles(key)
  let depth = 0
  let next = 1
  let node = RLP.decode(proof[0]!) as Decoded
  let parent: { items: Decoded[]; slot: number } | undefined
  for (;;) {
    if (!Array.isArray(node)) return undefined
    let child: Decoded
    if (node.length === 17) {
      const slot = nibbles[depth++]!
      parent = { items: node, slot }
      child = node[slot]!
    } else if (node.length === 2 && node[0] instanceof Uint8Array) {
      const prefix = decodeHexPrefix(node[0])
      if (prefix === undefined) return undefined
      if (prefix.leaf) break
      depth += prefix.path.length
      child = node[1]!
    } else return undefined
    if (Array.isArray(child)) node = child
    else if (child.length === 32 && next < proof.length) node = RLP.decode(proof[next++]!) as Decoded
    else return undefined
  }
  if (parent === undefined) return undefined
  const value = parent.items[16]
  const others = parent.items.slice(0, 16).flatMap((item, i) => (i !== parent.slot && !isEmptyItem(item) ? [item] : []))
  if ((value !== undefined && !isEmptyItem(value)) || others.length !== 1) return undefined
  const only = others[0]!
  if (Array.isArray(only) || only.length !== 32) return undefined
  const found = nodeByHash(hex(only))
  if (found === undefined)
    throw new TraceError('TRACE_MISSING_CODE', `the node ${hex(only)} a deletion in L1Block's storage folds in is not known`)
  return found
}

const isEmptyItem = (item: Decoded): boolean => !Array.isArray(item) && item.length === 0
