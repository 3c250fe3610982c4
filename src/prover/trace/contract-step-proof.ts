/**
 * The arguments of `contracts/L1/ContractTxStep.sol`'s `execute` for one transaction (issue 18): the block context,
 * the raw transaction, the tables of every account, slot and block hash it touches, and ONE deduplicated node set
 * (PartialTrie's witness) covering the state trie and every storage trie the step reads and writes.
 *
 * What the transaction touches is learnt by running it on the node's own executor (ethereumjs with the chain's
 * Common, the oracle) over the state before it, through a `StateReader` that records every account, slot and code
 * asked for, and a block-hash lookup that records every number asked for. The witness replays, per trie, exactly the
 * operations the contract performs, in its order: the reads of the tables, then per account of the table (in table
 * order) the writes of its changed slots and the write (or deletion) of its leaf.
 */
import type { Common } from '@ethereumjs/common'
import { KECCAK256_NULL, KECCAK256_RLP, bytesToHex, equalsBytes, hexToBytes, setLengthLeft, unpadBytes } from '@ethereumjs/util'
import type { TxReceipt } from '../../chain/receipt.ts'
import { decodeL2Transaction, isDepositTx } from '../../chain/l2-transaction.ts'
import { keccak256 } from '../../crypto/native.ts'
import { type BlockEnv, blockForEnv } from '../../execution/block-env.ts'
import { type BlockCursor, SequentialExecutor } from '../../execution/executor.ts'
import { HISTORY_STORAGE_CONTRACT } from '../../execution/system-calls.ts'
import { fastTxOptions } from '../../execution/validated-tx.ts'
import type { AccountState, Hex, StateDiff } from '../../primitives/state-diff.ts'
import type { StateReader } from '../../state/state-reader.ts'
import { type PartialTrieOp, type StateTrie, type TrieNodeSource, buildPartialTrieWitness } from '../../trie/index.ts'
import { decodeAccount, encodeAccount, storageLeafValue, storageTrieKey } from '../../trie/state-trie.ts'
import { TrieStateReader } from './trie-state-reader.ts'

/** `ContractTxStep.StepInput` as viem encodes it. */
export interface ContractStepInput {
  preRoot: Hex
  coinbase: Hex
  number: bigint
  timestamp: bigint
  gasLimit: bigint
  baseFee: bigint
  blobBaseFee: bigint
  prevRandao: Hex
  cumulativeGasUsed: bigint
  rawTx: Hex
  nodes: Hex[]
  accounts: { addr: Hex; code: Hex }[]
  slots: { addr: Hex; key: Hex }[]
  blockNumbers: bigint[]
}

export interface ContractStepContext {
  /** The chain's Common (the executor picks the block's fork). */
  common: Common
  /** The state before the transaction; only read. */
  trie: StateTrie
  /** Every node of `trie` at its current root, by hash (the block witness's and those committed since). */
  nodes: TrieNodeSource
  /** Bytecode by lowercase code hash. */
  codes: ReadonlyMap<Hex, Uint8Array>
  env: BlockEnv
  /** BLOCKHASH's answers (the ancestors the trace knows). */
  blockHash: (n: bigint) => Promise<Uint8Array | undefined>
}

export interface ContractStepProof {
  input: ContractStepInput
  /** The executor's receipt (undefined: the block cannot include the transaction). */
  receipt: TxReceipt | undefined
  /** What the transaction changed (undefined when invalid). */
  diff: StateDiff | undefined
}

/** A `StateReader` recording the accounts and slots asked for (lowercase addresses, slots as 32-byte words). */
class RecordingReader implements StateReader {
  readonly accounts = new Set<Hex>()
  readonly slots = new Map<string, { addr: Hex; key: Hex }>()
  constructor(private readonly base: StateReader) {}
  /** Records an account read (also through the executor's journal, which the base reader does not see). */
  record(address: Hex): void {
    this.accounts.add(address.toLowerCase() as Hex)
  }
  /** Records a slot read, and its account. */
  recordSlot(address: Hex, slot: Hex): void {
    const addr = address.toLowerCase() as Hex
    this.accounts.add(addr)
    const key = word(slot)
    this.slots.set(`${addr}_${key}`, { addr, key })
  }
  getAccount(address: Hex): AccountState | undefined {
    this.record(address)
    return this.base.getAccount(address)
  }
  getStorage(address: Hex, slot: Hex): Uint8Array {
    this.recordSlot(address, slot)
    return this.base.getStorage(address, slot)
  }
  hasStorage(address: Hex): boolean {
    this.record(address)
    return this.base.hasStorage(address)
  }
  getCode(codeHash: Hex): Uint8Array | undefined {
    return this.base.getCode(codeHash)
  }
}

const word = (v: Hex | Uint8Array): Hex =>
  bytesToHex(setLengthLeft(typeof v === 'string' ? hexToBytes(v) : v, 32)).toLowerCase() as Hex
const hex = (b: Uint8Array): Hex => bytesToHex(b) as Hex
const HISTORY_SERVE_WINDOW = 8191n

/**
 * Runs the transaction `raw` (the block's `cumulativeGasUsed` before it) on the executor over `ctx`'s state and
 * builds `ContractTxStep.execute`'s arguments.
 */
export async function buildContractStepProof(
  ctx: ContractStepContext,
  raw: Uint8Array,
  cumulativeGasUsed: bigint,
): Promise<ContractStepProof> {
  const reader = new RecordingReader(new TrieStateReader(ctx.trie, ctx.codes))
  const asked = new Set<bigint>()
  const executor = await SequentialExecutor.create(ctx.common, reader, async (n) => {
    asked.add(n)
    return ctx.blockHash(n)
  })
  executor.setBlockEnv(ctx.env)
  // The base reader sees only first reads of the pre-state; a slot of a contract created in this transaction is read
  // from the journal, yet the interpreter needs it in its table (as zero). So the journal's reads are recorded too.
  const state = executor.state
  const readAccount = state.readAccount.bind(state)
  const readSlot = state.readSlot.bind(state)
  state.readAccount = (address) => {
    reader.record(address)
    return readAccount(address)
  }
  state.readSlot = (address, slot) => {
    reader.recordSlot(address, slot)
    return readSlot(address, slot)
  }
  const cursor: BlockCursor = { gasUsed: cumulativeGasUsed, txIndex: 0, logIndex: 0, miniBlockNumber: 0n }
  const tx = decodeL2Transaction(raw, fastTxOptions(ctx.common))
  let receipt: TxReceipt | undefined
  if (isDepositTx(tx)) receipt = await executor.applyDeposit(tx.fields, cursor)
  else {
    const outcome = await executor.applyTx(tx, cursor)
    receipt = outcome.ok ? outcome.receipt : undefined
  }
  const diff = receipt === undefined ? undefined : executor.takeDiff()

  // The tables: everything read, everything written, and what the transaction-level work needs.
  const addresses = new Set(reader.accounts)
  const required: Hex[] = []
  if (isDepositTx(tx)) required.push(tx.fields.from)
  else {
    try {
      required.push(tx.getSenderAddress().toString() as Hex, ctx.env.coinbase)
    } catch {
      // No sender: the transaction is invalid whatever the state; the contract decides before reading any.
    }
  }
  for (const a of required) addresses.add(a.toLowerCase() as Hex)
  for (const a of diff?.accounts.keys() ?? []) addresses.add(a)
  const slotMap = new Map(reader.slots)
  for (const [addr, d] of diff?.accounts ?? []) {
    for (const key of d.storage.keys()) slotMap.set(`${addr}_${word(key)}`, { addr, key: word(key) })
    addresses.add(addr)
  }
  const accounts = [...addresses].sort()
  const slots = [...slotMap.values()].sort((a, b) => (a.addr + a.key < b.addr + b.key ? -1 : 1))
  const blockNumbers = [...asked].filter((n) => n < ctx.env.number && n + 256n >= ctx.env.number).sort()

  const stateRoot = ctx.trie.root()
  const nodes = new Map<Hex, Uint8Array>()
  const addNodes = (list: Uint8Array[]) => {
    for (const n of list) nodes.set(hex(keccak256(n)), n)
  }

  // The state trie's reads: every account, then (block hashes) the history contract.
  const stateOps: PartialTrieOp[] = accounts.map((a) => ({ kind: 'get', key: keccak256(hexToBytes(a)) }))
  if (blockNumbers.length > 0) stateOps.push({ kind: 'get', key: keccak256(HISTORY_STORAGE_CONTRACT.bytes) })
  const reads = buildPartialTrieWitness(stateRoot, ctx.nodes, stateOps)
  const leaves = new Map<Hex, Uint8Array | undefined>(accounts.map((a, i) => [a, reads.values[i]]))
  const codes = accounts.map((a) => {
    const leaf = leaves.get(a)
    if (leaf === undefined) return '0x' as Hex
    const { codeHash } = decodeAccount(leaf).account
    if (equalsBytes(codeHash, KECCAK256_NULL)) return '0x' as Hex
    return hex(reader.getCode(hex(codeHash).toLowerCase() as Hex) ?? new Uint8Array())
  })
  if (blockNumbers.length > 0) {
    const historyLeaf = reads.values[accounts.length]
    const root = historyLeaf === undefined ? KECCAK256_RLP : decodeAccount(historyLeaf).storageRoot
    const ops: PartialTrieOp[] = blockNumbers.map((n) => ({
      kind: 'get',
      key: storageTrieKey(hexToBytes(word(`0x${(n % HISTORY_SERVE_WINDOW).toString(16)}` as Hex))),
    }))
    addNodes(buildPartialTrieWitness(root, ctx.nodes, ops).nodes)
  }

  // Per account: its slots read, its changed slots written (table order), its leaf written or deleted.
  const writes: PartialTrieOp[] = []
  for (const a of accounts) {
    const leaf = leaves.get(a)
    const pre = leaf === undefined ? undefined : decodeAccount(leaf)
    const storageRoot = pre?.storageRoot ?? KECCAK256_RLP
    const d = diff?.accounts.get(a)
    const own = slots.filter((s) => s.addr === a)
    const ops: PartialTrieOp[] = own.map((s) => ({ kind: 'get', key: storageTrieKey(hexToBytes(s.key)) }))
    const readOnly = ops.length
    if (d !== undefined && d.account !== null) {
      for (const s of own) {
        const written = d.storage.get(s.key) ?? findSlot(d.storage, s.key)
        if (written === undefined && !d.storageCleared) continue
        const post = written ?? new Uint8Array()
        const before = ctx.trie.storageValue(hexToBytes(a), hexToBytes(s.key))
        if (equalsBytes(unpadBytes(post), unpadBytes(before))) continue
        const value = storageLeafValue(post)
        const key = storageTrieKey(hexToBytes(s.key))
        ops.push(value === undefined ? { kind: 'del', key } : { kind: 'put', key, value })
      }
    }
    let newStorageRoot = storageRoot
    if (ops.length > 0) {
      const w = buildPartialTrieWitness(storageRoot, ctx.nodes, ops)
      addNodes(w.nodes)
      if (ops.length > readOnly) newStorageRoot = w.root
    }
    if (d === undefined) continue
    const key = keccak256(hexToBytes(a))
    if (d.account === null) {
      if (leaf !== undefined) writes.push({ kind: 'del', key })
      continue
    }
    const encoded = encodeAccount(d.account, newStorageRoot)
    if (leaf === undefined || !equalsBytes(encoded, leaf)) writes.push({ kind: 'put', key, value: encoded })
  }
  addNodes(buildPartialTrieWitness(stateRoot, ctx.nodes, [...stateOps, ...writes]).nodes)

  return {
    input: {
      preRoot: hex(stateRoot),
      coinbase: ctx.env.coinbase,
      number: ctx.env.number,
      timestamp: ctx.env.timestamp,
      gasLimit: ctx.env.gasLimit,
      baseFee: ctx.env.baseFeePerGas,
      blobBaseFee: blockForEnv(ctx.env, executor.common).header.getBlobGasPrice(),
      prevRandao: hex(ctx.env.prevRandao),
      cumulativeGasUsed,
      rawTx: hex(raw),
      nodes: [...nodes.values()].map(hex),
      accounts: accounts.map((addr, i) => ({ addr, code: codes[i]! })),
      slots,
      blockNumbers,
    },
    receipt,
    diff,
  }
}

function findSlot(storage: Map<Hex, Uint8Array>, key: Hex): Uint8Array | undefined {
  for (const [k, v] of storage) if (word(k) === key) return v
  return undefined
}
