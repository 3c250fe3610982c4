/**
 * The whole execution trace of one disputed block: every leaf's `TraceState` and every step's
 * inputs, computed in one pass by re-executing the block one transaction at a time.
 *
 * The parent state comes from the block's execution witness (what the merkleizer records for replicas
 * and `debug_executionWitness` serves): a partial trie opened at the starting state root holds every
 * node on the path of every key the block reads or writes, which is exactly what proofs of those keys
 * need, at the parent root and (since each write only replaces nodes on its own path) at every
 * intermediate root. The trie is advanced one account write at a time, so each proof is taken
 * against the root the previous write left — the order the verifier applies them in. Execution is the
 * sequencer's own code (`SequentialExecutor`), in the disputed header's context. The L1-attributes
 * deposit (transaction 0) is proven slot by slot (`l1-attributes.ts`); every other transaction by
 * ContractTxStep's witness (`contract-step-proof.ts`, built over the state before it), which the
 * verifier completes with the header's block context.
 */
import type { Common } from '@ethereumjs/common'
import type { TypedTransaction } from '@ethereumjs/tx'
import { KECCAK256_RLP, bytesToBigInt, bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import { L1_BLOCK_ADDRESS } from '../../chain/l1-info.ts'
import { nextBaseFee, orBlooms } from '../../chain/header.ts'
import { decodeL2Transaction, isDepositTx } from '../../chain/l2-transaction.ts'
import { encodeConsensusReceipt } from '../../chain/receipt.ts'
import { keccak256 } from '../../crypto/native.ts'
import type { BlockEnv } from '../../execution/block-env.ts'
import { SequentialExecutor, type BlockCursor } from '../../execution/executor.ts'
import { BEACON_ROOTS_CONTRACT, HISTORY_STORAGE_CONTRACT } from '../../execution/system-calls.ts'
import { fastTxOptions } from '../../execution/validated-tx.ts'
import { encodeRlp, unpaddedBytes } from '../../primitives/rlp-fields.ts'
import type { AccountDiff, Hex, StateDiff } from '../../primitives/state-diff.ts'
import type { ExecutionWitness } from '../../stateless/witness.ts'
import { MerkleTrie, StateTrie } from '../../trie/index.ts'
import { TraceError } from './errors.ts'
import { headerShapeViolation, outputStateRoot, readHeaderFields, type HeaderFields } from './header-fields.ts'
import type { OutputPreimage } from './interface.ts'
import { L1_ATTRIBUTES_SLOTS, applyL1Attributes, isL1AttributesCall, slotWord } from './l1-attributes.ts'
import { epochStep, originHashOf, originHeaderViolation, type GenesisL1 } from './l1-origin.ts'
import {
  StepKind,
  encodeOpenBody,
  encodeSealBody,
  encodeTransactionBody,
  type SlotWrite,
  type SystemWrite,
} from './step-proof.ts'
import { TracePhase, type TraceState } from './trace-state.ts'
import { TrieStateReader } from './trie-state-reader.ts'
import { buildContractStepProof, type ContractStepContext, type ContractStepProof } from './contract-step-proof.ts'

/** L2ToL1MessagePasser, whose storage root the output commits to. */
export const MESSAGE_PASSER = '0x4200000000000000000000000000000000000016' as Hex

/** The chain parameters the opening checks the disputed header against (immutable in the verifier). */
export interface ChainTraceRules {
  /** L2 block time in seconds. */
  blockTime: bigint
  /** The block gas limit every header carries. */
  gasLimit: bigint
  /** The coinbase every header carries (the sequencer's fee recipient). */
  feeRecipient: Hex
  elasticityMultiplier: bigint
  baseFeeMaxChangeDenominator: bigint
  minBaseFee: bigint
  /** The L1's blob base fee update fraction (the origin check recomputes the blob base fee from excessBlobGas). */
  blobBaseFeeUpdateFraction: bigint
  /** The rollup's genesis L1 block (the first block's previous origin; an immutable of L1AttributesStep). */
  genesisL1: GenesisL1
}

export interface BlockTraceInput {
  common: Common
  rules: ChainTraceRules
  starting: OutputPreimage
  disputed: OutputPreimage
  /** The disputed block number the game names. */
  block: bigint
  /** Canonical encodings of the block's transactions as the node derived them. */
  transactions: readonly Uint8Array[]
  /** The node's witness of that block (its parent state is the starting header's). */
  witness: ExecutionWitness
  /** An L1 block's header (RLP) by hash, undefined when L1 does not have it: the L1-attributes step's origin. */
  l1Header(hash: Hex): Promise<Uint8Array | undefined>
  /**
   * The one leaf whose step body is wanted; absent: every step's. A transaction's body re-executes it over a recording
   * state and builds its witness (about as much again as executing the block), and claims need the leaves alone, so a
   * prover builds leaves for its moves and a single body for its step. Other transactions' steps are `NO_BODY`.
   */
  stepAt?: bigint
}

/** A step's inputs, without the claim index (added per query). */
export interface StepBody {
  kind: StepKind
  body: Hex
}

export interface BlockTrace {
  /** `states[i]` is leaf i for i < states.length; every later leaf equals the last (a terminal state). */
  states: TraceState[]
  /** `steps[i]` are the inputs of the step producing leaf i (its pre-state is leaf i − 1, or the absolute prestate). */
  steps: StepBody[]
}

const EMPTY_BLOOM = new Uint8Array(256)
const EMPTY_BLOOM_HASH = bytesToHex(keccak256(EMPTY_BLOOM)) as Hex
const EMPTY_TRIE_ROOT = bytesToHex(KECCAK256_RLP) as Hex
const NO_BODY: StepBody = { kind: StepKind.NONE, body: '0x' }

const hex = (b: Uint8Array): Hex => bytesToHex(b) as Hex
const hexes = (items: readonly Uint8Array[]): Hex[] => items.map(hex)
const indexKey = (i: number | bigint): Uint8Array => encodeRlp(unpaddedBytes(BigInt(i)))

/** The v0 output root of a preimage (OutputRootRegistry's `outputRootOf`). */
export function outputRootOf(preimage: OutputPreimage): Hex {
  const stateRoot = outputStateRoot(preimage.header) ?? new Uint8Array(32)
  const word = new Uint8Array(128)
  word.set(stateRoot, 32)
  word.set(hexToBytes(preimage.messagePasserStorageRoot), 64)
  word.set(keccak256(preimage.header), 96)
  return hex(keccak256(word))
}

/**
 * Why the disputed header (`header`, decoded from `headerRlp`) cannot follow the starting one by the
 * chain's rules (the opening's checks), or undefined.
 */
export function openingViolation(
  parent: HeaderFields,
  parentRlp: Uint8Array,
  header: HeaderFields,
  headerRlp: Uint8Array,
  block: bigint,
  rules: ChainTraceRules,
): string | undefined {
  const shape = headerShapeViolation(headerRlp)
  if (shape !== undefined) return shape
  if (!equalsBytes(header.parentHash, keccak256(parentRlp))) return 'parent hash is not the starting header'
  if (header.number !== block || header.number !== parent.number + 1n) return 'number is not the disputed block'
  if (header.timestamp !== parent.timestamp + rules.blockTime) return 'timestamp is not parent + block time'
  if (header.gasLimit !== rules.gasLimit) return 'gas limit is not the chain’s'
  if (hex(header.coinbase) !== rules.feeRecipient.toLowerCase()) return 'coinbase is not the chain’s fee recipient'
  const expected = nextBaseFee(
    { gasUsed: parent.gasUsed, gasLimit: parent.gasLimit, baseFeePerGas: parent.baseFeePerGas },
    rules.elasticityMultiplier,
    rules.baseFeeMaxChangeDenominator,
    rules.minBaseFee,
  )
  if (header.baseFeePerGas !== expected) return 'base fee is not EIP-1559’s after the parent'
  return undefined
}

/** Builds the trace of `input.block` judged against `input.disputed`. */
export async function buildBlockTrace(input: BlockTraceInput): Promise<BlockTrace> {
  const { disputed, starting } = input
  const disputedOutput = outputRootOf(disputed)
  const parent = readHeaderFields(starting.header)
  if (parent === undefined) throw new TraceError('TRACE_BAD_QUERY', 'the starting output’s header does not decode')
  const header = readHeaderFields(disputed.header)
  const headerHash = hex(keccak256(disputed.header))
  const openBody = (systemWrites: SystemWrite[]): StepBody => ({
    kind: StepKind.OPEN,
    body: encodeOpenBody({
      startingHeader: hex(starting.header),
      startingPasserRoot: starting.messagePasserStorageRoot,
      disputedHeader: hex(disputed.header),
      disputedPasserRoot: disputed.messagePasserStorageRoot,
      systemWrites,
    }),
  })
  const base: TraceState = {
    phase: TracePhase.INVALID,
    disputedOutput,
    headerHash,
    stateRoot: hex(parent.stateRoot),
    txIndex: 0n,
    gasUsed: 0n,
    receiptsRoot: EMPTY_TRIE_ROOT,
    logsBloomHash: EMPTY_BLOOM_HASH,
  }
  // Past the game's block (the game caps the disputed block at its root's): nothing executes, the honest output is
  // the starting one.
  if (parent.number >= input.block)
    return {
      states: [{ ...base, phase: disputedOutput === outputRootOf(starting) ? TracePhase.SEALED_VALID : TracePhase.INVALID }],
      steps: [openBody([])],
    }
  if (
    header === undefined ||
    openingViolation(parent, starting.header, header, disputed.header, input.block, input.rules) !== undefined
  )
    return { states: [base], steps: [openBody([])] }
  if (!equalsBytes(orderedRoot(input.transactions), header.transactionsRoot))
    throw new TraceError(
      'TRACE_MEMBERSHIP_GAP',
      `the disputed header of block ${input.block} has transactions root ${hex(header.transactionsRoot)}, not the derived block’s`,
    )

  const nodes = new Map<Hex, Uint8Array>(input.witness.state.map((rlp) => [hex(keccak256(rlp)), rlp]))
  const source = { get: (hash: Uint8Array) => nodes.get(hex(hash)) }
  const trie = new StateTrie({ open: { root: parent.stateRoot, source } })
  const codes = new Map(input.witness.codes.map((code) => [hex(keccak256(code)), code]))
  const reader = new TrieStateReader(trie, codes)
  const ancestorHashes = new Map<bigint, Uint8Array>()
  for (const rlp of input.witness.headers) {
    const fields = readHeaderFields(rlp)
    if (fields !== undefined) ancestorHashes.set(fields.number, keccak256(rlp))
  }
  ancestorHashes.set(parent.number, keccak256(starting.header))
  const blockHash = async (n: bigint) => {
    const hash = ancestorHashes.get(n)
    if (hash === undefined) throw new TraceError('TRACE_BLOCK_UNAVAILABLE', `the witness lacks the hash of block ${n}`)
    return hash
  }
  const executor = await SequentialExecutor.create(input.common, reader, blockHash)
  const env = envOf(header)
  const stepContext: ContractStepContext = { common: input.common, trie, nodes: source, codes, env, blockHash }
  executor.setBlockEnv(env)

  // Leaf 0: the block opened, the start-of-block system calls applied.
  await executor.applySystemCalls(env)
  const systemWrites = applySystemWrites(trie, executor.takeDiff(), header)
  const states: TraceState[] = [{ ...base, phase: TracePhase.EXECUTING, stateRoot: hex(trie.root()) }]
  const steps: StepBody[] = [openBody(systemWrites)]

  const txTrie = orderedTrie(input.transactions)
  const receipts = new MerkleTrie()
  let bloom: Uint8Array = EMPTY_BLOOM
  const cursor: BlockCursor = { gasUsed: 0n, txIndex: 0, logIndex: 0, miniBlockNumber: 0n }
  const txOptions = fastTxOptions(input.common)
  const headerHex = hex(disputed.header)
  for (let i = 0; i < input.transactions.length; i++) {
    const raw = input.transactions[i]!
    const tx = decodeL2Transaction(raw, txOptions)
    const previous = states[states.length - 1]!
    const deposit = isDepositTx(tx) ? tx.fields : undefined
    // Transaction 0 is the L1-attributes deposit (L1AttributesStep); every other one runs on ContractTxStep, whose
    // witness is taken over the state before it (the nodes written so far added to the source first).
    const l1Attributes = i === 0
    const wanted = input.stepAt === undefined || input.stepAt === BigInt(i + 1)
    let contractStep: ContractStepProof | undefined
    if (wanted && !l1Attributes) {
      // Only a body reads the nodes written so far: a trace of leaves alone keeps no copy of them.
      for (const [hash, rlp] of trie.commit()) nodes.set(hex(hash), rlp)
      contractStep = await buildContractStepProof(stepContext, raw, cursor.gasUsed)
    }
    const receiptProof = receipts.prove(indexKey(i)).proof
    let receipt
    if (deposit !== undefined) receipt = await executor.applyDeposit(deposit, cursor)
    else {
      const outcome = await executor.applyTx(tx as TypedTransaction, cursor)
      receipt = outcome.ok ? outcome.receipt : undefined
    }
    // A transaction the block cannot include: the block, so the output, is invalid; nothing was written.
    const diff = receipt === undefined ? undefined : executor.takeDiff()
    let accountProofs: Hex[][] = []
    // The L1-attributes step also judges the block's L1 origin; a bad one makes the block invalid after the deposit.
    let badOrigin = false
    if (l1Attributes) {
      if (deposit === undefined || !isL1AttributesCall(deposit))
        throw new TraceError('TRACE_BAD_QUERY', `transaction 0 of block ${input.block} is not the L1-attributes deposit`)
      const prior = l1BlockValues(trie)
      accountProofs = applyL1Attributes(trie, diff, nodes)
      const origin = await judgeOrigin(hexToBytes(deposit.data), prior, header.mixHash, input)
      accountProofs.push(origin.header === undefined ? [] : [hex(origin.header)])
      badOrigin = origin.violation !== undefined
    } else if (diff !== undefined) trie.applyDiff(diff)
    if (diff !== undefined) {
      reader.addCodes(diff.codes)
      for (const [hash, code] of diff.codes) codes.set(hash, code)
    }
    steps.push(
      !wanted
        ? NO_BODY
        : {
            kind: StepKind.TRANSACTION,
            body: encodeTransactionBody({
              header: headerHex,
              transaction: hex(raw),
              transactionProof: hexes(txTrie.prove(indexKey(i)).proof),
              receiptProof: hexes(receiptProof),
              bloom: hex(bloom),
              accountProofs,
              ...(contractStep === undefined ? {} : { step: contractStep.input }),
            }),
          },
    )
    if (receipt === undefined) {
      states.push({ ...previous, phase: TracePhase.INVALID })
      return { states, steps }
    }
    if (badOrigin) {
      // As the verifier: the deposit's writes and gas are applied, nothing else.
      states.push({ ...previous, phase: TracePhase.INVALID, stateRoot: hex(trie.root()), gasUsed: cursor.gasUsed })
      return { states, steps }
    }
    receipts.put(indexKey(i), encodeConsensusReceipt(receipt))
    bloom = orBlooms([bloom, receipt.logsBloom])
    states.push({
      ...previous,
      stateRoot: hex(trie.root()),
      txIndex: BigInt(i + 1),
      gasUsed: cursor.gasUsed,
      receiptsRoot: hex(receipts.root()),
      logsBloomHash: hex(keccak256(bloom)),
    })
  }

  // The seal: compare with the header and the output.
  const last = states[states.length - 1]!
  const passer = trie.getProof(hexToBytes(MESSAGE_PASSER), [])
  // As eth_getProof reports it: an absent passer has the empty storage root.
  const passerRoot = hex(trie.account(hexToBytes(MESSAGE_PASSER))?.storageRoot ?? KECCAK256_RLP)
  const valid =
    last.stateRoot === hex(header.stateRoot) &&
    last.gasUsed === header.gasUsed &&
    last.receiptsRoot === hex(header.receiptsRoot) &&
    last.logsBloomHash === hex(keccak256(header.logsBloom)) &&
    passerRoot === disputed.messagePasserStorageRoot.toLowerCase()
  states.push({ ...last, phase: valid ? TracePhase.SEALED_VALID : TracePhase.INVALID })
  steps.push({
    kind: StepKind.SEAL,
    body: encodeSealBody({
      header: headerHex,
      transactionExclusionProof: hexes(txTrie.prove(indexKey(input.transactions.length)).proof),
      passerAccountProof: hexes(passer.accountProof),
      disputedPasserRoot: disputed.messagePasserStorageRoot,
    }),
  })
  return { states, steps }
}

/** L1Block's slot values before the L1-attributes deposit, in `L1_ATTRIBUTES_SLOTS` order. */
function l1BlockValues(trie: StateTrie): bigint[] {
  const l1Block = hexToBytes(L1_BLOCK_ADDRESS)
  return L1_ATTRIBUTES_SLOTS.map((slot) => {
    const value = trie.storageValue(l1Block, hexToBytes(slotWord(slot)))
    return value.length === 0 ? 0n : bytesToBigInt(value)
  })
}

/**
 * The origin's verdict for the L1-attributes deposit's `calldata` over L1Block's `prior` values: the header the step
 * carries (none when the epoch rule already fails) and why the origin is bad, if it is.
 * @throws TraceError when the origin's header is needed and L1 does not have it
 */
async function judgeOrigin(
  calldata: Uint8Array,
  prior: readonly bigint[],
  mixHash: Uint8Array,
  input: BlockTraceInput,
): Promise<{ header?: Uint8Array; violation?: string }> {
  const step = epochStep(calldata, prior, input.rules.genesisL1)
  if (step === undefined) return { violation: 'the L1 origin breaks the epoch rule' }
  const hash = originHashOf(calldata)
  const header = await input.l1Header(hash)
  if (header === undefined || hex(keccak256(header)) !== hash)
    throw new TraceError('TRACE_L1_ORIGIN_UNAVAILABLE', `L1 has no block ${hash}, the origin of block ${input.block}`)
  const { genesisL1, blobBaseFeeUpdateFraction } = input.rules
  const violation = originHeaderViolation(calldata, prior, genesisL1, step, header, mixHash, blobBaseFeeUpdateFraction)
  return violation === undefined ? { header } : { header, violation }
}

/** The leaf at `index` of a trace, and the inputs of the step producing it. */
export function traceLeaf(trace: BlockTrace, index: bigint): { state: TraceState; step: StepBody } {
  const last = trace.states.length - 1
  if (index <= BigInt(last)) return { state: trace.states[Number(index)]!, step: trace.steps[Number(index)]! }
  // Past the end: a terminal state steps to itself, whatever the body.
  return { state: trace.states[last]!, step: NO_BODY }
}

function envOf(header: HeaderFields): BlockEnv {
  return {
    number: header.number,
    timestamp: header.timestamp,
    coinbase: hex(header.coinbase),
    baseFeePerGas: header.baseFeePerGas,
    gasLimit: header.gasLimit,
    prevRandao: header.mixHash,
    excessBlobGas: header.excessBlobGas,
    parentBeaconBlockRoot: header.parentBeaconBlockRoot,
  }
}

function orderedTrie(items: readonly Uint8Array[]): MerkleTrie {
  const trie = new MerkleTrie()
  for (let i = 0; i < items.length; i++) trie.put(indexKey(i), items[i]!)
  return trie
}

function orderedRoot(items: readonly Uint8Array[]): Uint8Array {
  return orderedTrie(items).root()
}

function single(address: Hex, change: AccountDiff, codes: StateDiff['codes']): StateDiff {
  return { accounts: new Map([[address, change]]), codes }
}

/** EIP-4788's and EIP-2935's ring buffers' length. */
const RING = 8191n

/**
 * The slots the start-of-block system calls write, in the verifier's order: EIP-4788's timestamp slot
 * then its root slot, EIP-2935's parent-hash slot. Contracts without code are skipped by the calls.
 */
function systemSlots(header: HeaderFields): Array<[contract: Hex, slots: Hex[]]> {
  const index = header.timestamp % RING
  return [
    [BEACON_ROOTS_CONTRACT.toString().toLowerCase() as Hex, [slotWord(index), slotWord(index + RING)]],
    [HISTORY_STORAGE_CONTRACT.toString().toLowerCase() as Hex, [slotWord((header.number - 1n) % RING)]],
  ]
}

/**
 * Applies the system calls' diff one slot at a time in the verifier's order, returning each
 * contract's account proof (before its writes) and each slot's proof (against the storage root the
 * previous slot left). A contract without code gets its account proof and no slot writes.
 */
function applySystemWrites(trie: StateTrie, diff: StateDiff, header: HeaderFields): SystemWrite[] {
  const writes: SystemWrite[] = []
  for (const [address, expected] of systemSlots(header)) {
    const addressBytes = hexToBytes(address)
    const accountProof = hexes(trie.getProof(addressBytes, []).accountProof)
    const change = diff.accounts.get(address)
    const slots: SlotWrite[] = []
    if (change !== undefined) {
      for (const slot of expected) {
        trie.storageValue(addressBytes, hexToBytes(slot)) // loads the storage trie, so the proof below walks it
        slots.push({ slot, proof: hexes(trie.getProof(addressBytes, [hexToBytes(slot)]).storageProof[0]!.proof) })
        const value = change.storage.get(slot)
        if (value !== undefined) trie.applyDiff(single(address, { ...change, storage: new Map([[slot, value]]) }, new Map()))
      }
      diff.accounts.delete(address)
    }
    writes.push({ account: address, accountProof, slots })
  }
  if (diff.accounts.size > 0) trie.applyDiff(diff)
  return writes
}
