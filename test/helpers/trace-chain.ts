/**
 * A two-block L2 chain built in-process by the node's own code, for the execution-trace tests: a
 * parent block over the dev genesis state (plus a message passer with storage, and the L1Block
 * predeploy with what the parent's L1-attributes deposit left, if any), and a child block
 * holding the given transactions, executed by `executeBlockBody` (system calls, deposits, transfers),
 * sealed with the dev chain's header rules, and its witness as the merkleizer would record it (every
 * node of the parent state: a superset of the real witness). Output preimages for both.
 */
import { createBlockHeader, type BlockHeader } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { signTransaction } from 'viem/accounts'
import { l1BlockDeployedBytecode } from '../../src/bridge/generated/L1Block.ts'
import { chainConfigFromGenesis, devGenesis, genesisState } from '../../src/chain/genesis.ts'
import { createChainCommon } from '../../src/chain/config.ts'
import { deriveDevAccounts } from '../../src/chain/dev.ts'
import { nextBaseFee, orBlooms } from '../../src/chain/header.ts'
import { DepositTx, type L2Transaction, decodeL2Transaction } from '../../src/chain/l2-transaction.ts'
import type { DepositTransaction } from '../../src/chain/deposit-tx.ts'
import {
  encodeL1InfoIsthmus,
  L1_BLOCK_ADDRESS,
  L1_INFO_DEPOSITOR_ADDRESS,
  l1InfoDepositTx,
  type L1BlockInfoIsthmus,
} from '../../src/chain/l1-info.ts'
import { encodeConsensusReceipt, type TxReceipt } from '../../src/chain/receipt.ts'
import { keccak256 } from '../../src/crypto/native.ts'
import { blockEnvFromHeader, executeBlockBody } from '../../src/execution/block-execution.ts'
import { SequentialExecutor } from '../../src/execution/executor.ts'
import { SequentialMiniBlockExecutor } from '../../src/execution/parallel/index.ts'
import { fastTxOptions } from '../../src/execution/validated-tx.ts'
import { unpaddedBytes } from '../../src/primitives/rlp-fields.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import type { FlatState } from '../../src/state/flat-state.ts'
import { trieEntries } from '../../src/state/trie-entries.ts'
import type { ExecutionWitness } from '../../src/stateless/witness.ts'
import { StateTrie } from '../../src/trie/index.ts'
import { orderedTrieRoot } from '../../src/trie/ordered-trie.ts'
import { TrieNodeCollector } from '../../src/trie/witness-builder.ts'
import { MESSAGE_PASSER, type ChainTraceRules } from '../../src/prover/trace/block-trace.ts'
import { BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE } from '../../src/bridge/l1-fetch.ts'
import { L1_ATTRIBUTES_SLOTS, l1AttributesSlotValues, slotWord } from '../../src/prover/trace/l1-attributes.ts'
import type { OutputPreimage } from '../../src/prover/trace/interface.ts'

/**
 * The trace chains' rollup genesis L1 block: the parent of the default origin (L1 block 500), so a first block after
 * the L2 genesis (L1Block empty) with that origin and sequence number 0 follows OP's epoch rule.
 */
export const TRACE_GENESIS_L1 = { number: 499n, hash: bytesToHex(keccak256(new TextEncoder().encode('l1 parent'))) as Hex }
export const traceGenesis = devGenesis()
export const traceConfig = chainConfigFromGenesis(traceGenesis, 'megaeth-dev')
export const traceCommon = createChainCommon(traceConfig)
export const DEV_BLOCK_TIME = 1n
export const traceRules: ChainTraceRules = {
  blockTime: DEV_BLOCK_TIME,
  gasLimit: traceConfig.blockGasLimit,
  feeRecipient: traceConfig.feeRecipient,
  elasticityMultiplier: traceConfig.elasticityMultiplier,
  baseFeeMaxChangeDenominator: traceConfig.baseFeeMaxChangeDenominator,
  minBaseFee: traceConfig.minBaseFee,
  blobBaseFeeUpdateFraction: BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE,
  genesisL1: TRACE_GENESIS_L1,
}
export const devAccounts = deriveDevAccounts(6)
export const PARENT_NUMBER = 10n
const PARENT_TIMESTAMP = 1_700_000_000n

/** What the parent block left of the L1-attributes deposits: L1Block's storage and the depositor's nonce. */
export interface ParentL1Attributes {
  /** The attributes the parent's deposit stored; absent: L1Block's storage is empty (as at genesis). */
  l1Block?: L1BlockInfoIsthmus
  /** The depositor account's nonce; absent: no account (no deposit yet). */
  depositorNonce?: bigint
  /** L1Block's runtime code; absent: the genesis predeploy's. */
  l1BlockCode?: Uint8Array
}

/** The parent state: dev genesis, a message passer holding a few sent messages, and L1Block as `prior` leaves it. */
export function parentWorld(prior: ParentL1Attributes = {}): FlatState {
  const state = genesisState(traceGenesis)
  const code = new Uint8Array([0x60, 0x00])
  const codeHash = keccak256(code)
  const storage = new Map<Hex, Uint8Array>()
  for (let i = 1; i <= 3; i++) storage.set(slot(i), new Uint8Array([1]))
  const l1BlockCode = prior.l1BlockCode ?? hexToBytes(l1BlockDeployedBytecode)
  const l1BlockCodeHash = keccak256(l1BlockCode)
  const l1BlockStorage = new Map<Hex, Uint8Array>()
  if (prior.l1Block !== undefined) {
    const values = l1AttributesSlotValues(encodeL1InfoIsthmus(prior.l1Block))
    L1_ATTRIBUTES_SLOTS.forEach((s, i) => {
      if (values[i]! !== 0n) l1BlockStorage.set(slotWord(s), unpaddedBytes(values[i]!))
    })
  }
  const accounts = new Map([
    [MESSAGE_PASSER, { account: { nonce: 1n, balance: 0n, codeHash }, storageCleared: false, storage }],
    [
      L1_BLOCK_ADDRESS as Hex,
      { account: { nonce: 1n, balance: 0n, codeHash: l1BlockCodeHash }, storageCleared: false, storage: l1BlockStorage },
    ],
  ])
  if (prior.depositorNonce !== undefined)
    accounts.set(L1_INFO_DEPOSITOR_ADDRESS, {
      account: { nonce: prior.depositorNonce, balance: 0n, codeHash: keccak256(new Uint8Array(0)) },
      storageCleared: false,
      storage: new Map(),
    })
  state.apply({
    accounts,
    codes: new Map([
      [bytesToHex(codeHash) as Hex, code],
      [bytesToHex(l1BlockCodeHash) as Hex, l1BlockCode],
    ]),
  })
  return state
}

/** The trace chain's L2 mixHash, and so its L1 origins' (PREVRANDAO is the origin's mixHash). */
export const TRACE_MIX_HASH = keccak256(new TextEncoder().encode('randao'))

/** The synthetic L1 headers `traceL1Info` made, by hash: every trace chain's `l1Header` source. */
const l1Headers = new Map<Hex, Uint8Array>()

/** The L1 header with these fields (Osaka's 21, the rest fixed), as an L1 node would hash it. */
export function traceL1Header(fields: {
  number: bigint
  timestamp: bigint
  baseFee: bigint
  parentHash: Hex
  mixHash?: Uint8Array
  excessBlobGas?: bigint
}): Uint8Array {
  const zero32 = new Uint8Array(32)
  return RLP.encode([
    hexToBytes(fields.parentHash),
    keccak256(RLP.encode([])),
    new Uint8Array(20),
    keccak256(new TextEncoder().encode(`l1 state ${fields.number}`)),
    zero32,
    zero32,
    new Uint8Array(256),
    new Uint8Array(0),
    unpaddedBytes(fields.number),
    unpaddedBytes(30_000_000n),
    new Uint8Array(0),
    unpaddedBytes(fields.timestamp),
    new Uint8Array(0),
    fields.mixHash ?? TRACE_MIX_HASH,
    new Uint8Array(8),
    unpaddedBytes(fields.baseFee),
    zero32,
    new Uint8Array(0),
    unpaddedBytes(fields.excessBlobGas ?? 0n),
    zero32,
    zero32,
  ])
}

/** Registers an L1 header for the trace chains' `l1Header` and returns its hash. */
export function registerL1Header(rlp: Uint8Array): Hex {
  const hash = bytesToHex(keccak256(rlp)) as Hex
  l1Headers.set(hash, rlp)
  return hash
}

/** The synthetic L1 header of `hash`, if `traceL1Info` or `registerL1Header` made it. */
export const traceL1HeaderOf = async (hash: Hex): Promise<Uint8Array | undefined> => l1Headers.get(hash.toLowerCase() as Hex)

/**
 * The L1 origin the trace chain's blocks carry (Isthmus attributes, dev-like scalars), with `overrides`. Unless
 * `overrides.hash` names one, the origin is a synthetic L1 header with its number, timestamp and base fee, blob base
 * fee 1 (no excess blob gas), the trace chain's mixHash and `parentHash` (registered, so the step finds it).
 */
export function traceL1Info(
  overrides: Partial<L1BlockInfoIsthmus> = {},
  parentHash: Hex = TRACE_GENESIS_L1.hash,
): L1BlockInfoIsthmus {
  const base = {
    number: 500n,
    timestamp: 1_699_999_988n,
    baseFee: 7_000_000_000n,
    blobBaseFee: 1n,
    sequenceNumber: 0n,
    batcherHash: `0x${'00'.repeat(12)}${'ba'.repeat(20)}` as Hex,
    baseFeeScalar: 1368,
    blobBaseFeeScalar: 810949,
    operatorFeeScalar: 0,
    operatorFeeConstant: 0n,
    ...overrides,
  }
  const hash =
    overrides.hash ??
    registerL1Header(traceL1Header({ number: base.number, timestamp: base.timestamp, baseFee: base.baseFee, parentHash }))
  return { ...base, hash }
}

/** The L1-attributes deposit carrying `info`, as the sequencer and derivation build it. */
export function l1AttributesDeposit(info: L1BlockInfoIsthmus): DepositTx {
  return DepositTx.fromFields(l1InfoDepositTx(info, encodeL1InfoIsthmus(info)))
}

const slot = (i: number): Hex => `0x${i.toString(16).padStart(64, '0')}` as Hex

export interface TraceChain {
  parentHeader: BlockHeader
  header: BlockHeader
  transactions: Uint8Array[]
  receipts: TxReceipt[]
  witness: ExecutionWitness
  starting: OutputPreimage
  disputed: OutputPreimage
  /** A fresh copy of the parent state. */
  world(): FlatState
  /** The synthetic L1 headers (the blocks' origins). */
  l1Header(hash: Hex): Promise<Uint8Array | undefined>
}

/** Executes `txs` as block PARENT_NUMBER + 1 on `parentWorld(prior)` and seals it. */
export async function buildTraceChain(txs: L2Transaction[], prior: ParentL1Attributes = {}): Promise<TraceChain> {
  const world = (): FlatState => parentWorld(prior)
  const pre = world()
  const preTrie = StateTrie.fromAccounts(trieEntries(pre))
  const parentHeader = createBlockHeader(
    {
      number: PARENT_NUMBER,
      timestamp: PARENT_TIMESTAMP,
      gasLimit: traceConfig.blockGasLimit,
      gasUsed: 21_000n * 40_000n,
      baseFeePerGas: 5_000_000n,
      coinbase: hexToBytes(traceConfig.feeRecipient),
      stateRoot: preTrie.root(),
      parentBeaconBlockRoot: new Uint8Array(32),
    },
    { common: traceCommon },
  )
  const headerFields = {
    number: PARENT_NUMBER + 1n,
    parentHash: parentHeader.hash(),
    timestamp: PARENT_TIMESTAMP + DEV_BLOCK_TIME,
    gasLimit: traceConfig.blockGasLimit,
    baseFeePerGas: nextBaseFee(
      { gasUsed: parentHeader.gasUsed, gasLimit: parentHeader.gasLimit, baseFeePerGas: parentHeader.baseFeePerGas ?? 0n },
      traceConfig.elasticityMultiplier,
      traceConfig.baseFeeMaxChangeDenominator,
      traceConfig.minBaseFee,
    ),
    coinbase: hexToBytes(traceConfig.feeRecipient),
    mixHash: TRACE_MIX_HASH,
    // As every builder here writes it (the opening refuses any other).
    parentBeaconBlockRoot: new Uint8Array(32),
  }
  const lookup = async (n: bigint): Promise<Uint8Array | undefined> =>
    n === parentHeader.number ? parentHeader.hash() : undefined
  const executor = new SequentialMiniBlockExecutor(await SequentialExecutor.create(traceCommon, pre, lookup))
  const env = blockEnvFromHeader(createBlockHeader(headerFields, { common: traceCommon }))
  const executed = await executeBlockBody(executor, env, txs)
  await executor.close()

  const collector = new TrieNodeCollector()
  const trie = StateTrie.fromAccounts(trieEntries(world()), { onNodeRead: collector.onNodeRead })
  trie.root()
  collector.begin()
  for (const { address, storage } of world().entries()) {
    trie.account(hexToBytes(address))
    for (const s of storage.keys()) trie.storageValue(hexToBytes(address), hexToBytes(s))
  }
  const nodes = collector.end()
  const startingPasserRoot = bytesToHex(trie.storageRoot(hexToBytes(MESSAGE_PASSER))) as Hex
  const stateRoot = trie.applyDiff(executed.diff)
  const header = createBlockHeader(
    {
      ...headerFields,
      stateRoot,
      transactionsTrie: orderedTrieRoot(txs.map((tx) => tx.serialize())),
      receiptTrie: orderedTrieRoot(executed.receipts.map(encodeConsensusReceipt)),
      logsBloom: orBlooms(executed.receipts.map((r) => r.logsBloom)),
      gasUsed: executed.gasUsed,
    },
    { common: traceCommon },
  )
  return {
    parentHeader,
    header,
    transactions: txs.map((tx) => tx.serialize()),
    receipts: executed.receipts,
    witness: { state: nodes, codes: [...pre.codes.values()], keys: [], headers: [parentHeader.serialize()] },
    starting: { header: parentHeader.serialize(), messagePasserStorageRoot: startingPasserRoot },
    disputed: {
      header: header.serialize(),
      messagePasserStorageRoot: bytesToHex(trie.storageRoot(hexToBytes(MESSAGE_PASSER))) as Hex,
    },
    world,
    l1Header: traceL1HeaderOf,
  }
}

/** A user deposit (`to` an EOA, no data). */
export function userDeposit(fields: Partial<DepositTransaction> & Pick<DepositTransaction, 'from'>, n = 0): DepositTx {
  return DepositTx.fromFields({
    sourceHash: bytesToHex(keccak256(new TextEncoder().encode(`deposit ${n}`))) as Hex,
    to: null,
    mint: 0n,
    value: 0n,
    gas: 100_000n,
    isSystemTx: false,
    data: '0x',
    ...fields,
  })
}

/** A signed transfer from dev account `from` of `kind`. */
export async function transfer(
  from: number,
  to: Hex,
  value: bigint,
  nonce: number,
  kind: 'legacy' | 'eip2930' | 'eip1559' = 'eip1559',
  tip = 1_000n,
): Promise<L2Transaction> {
  const chainId = Number(traceConfig.chainId)
  const privateKey = devAccounts[from]!.privateKey
  const base = { chainId, to, value, nonce, gas: 21_000n }
  const signed =
    kind === 'legacy'
      ? await signTransaction({ privateKey, transaction: { ...base, type: 'legacy', gasPrice: 10n ** 9n } })
      : kind === 'eip2930'
        ? await signTransaction({ privateKey, transaction: { ...base, type: 'eip2930', gasPrice: 10n ** 9n, accessList: [] } })
        : await signTransaction({
            privateKey,
            transaction: { ...base, type: 'eip1559', maxFeePerGas: 10n ** 9n, maxPriorityFeePerGas: tip },
          })
  return decodeL2Transaction(hexToBytes(signed), fastTxOptions(traceCommon))
}

export const ETH = 10n ** 18n
/** The disputed block: the child of the parent block. */
export const TRACE_BLOCK = PARENT_NUMBER + 1n
/** An address no account of the dev genesis has: `0x` + 36 × `fill` + four hex digits of `n`. */
export const freshAddress = (fill: string, n: number): Hex => `0x${fill.repeat(36)}${n.toString(16).padStart(4, '0')}` as Hex
/** A user deposit's sender with no account in the parent state. */
export const TRACE_DEPOSITOR = '0x00000000000000000000000000000000000d3905' as Hex

/**
 * The block body both trace suites dispute: every kind of step the trace has, to fresh addresses (`fresh(n)`) and
 * existing ones.
 */
export async function mixedBody(fresh: (n: number) => Hex): Promise<L2Transaction[]> {
  return [
    // The L1-attributes deposit every block opens with (L1Block's storage empty before it, as at genesis).
    l1AttributesDeposit(traceL1Info()),
    // A user deposit: mint 2 ETH, 1 ETH on to a fresh EOA.
    userDeposit({ from: TRACE_DEPOSITOR, to: fresh(1), mint: 2n * ETH, value: ETH }, 1),
    // A failed deposit: value above the balance after the mint (only the nonce moves, all gas used).
    userDeposit({ from: fresh(2), to: devAccounts[0]!.address, mint: 1n, value: ETH }, 2),
    await transfer(0, fresh(3), ETH, 0),
    await transfer(1, devAccounts[2]!.address, 5n, 0, 'legacy'),
    await transfer(2, fresh(4), 7n, 0, 'eip2930'),
    await transfer(0, devAccounts[1]!.address, 1n, 1, 'eip1559', 0n),
  ]
}

/**
 * The honest header `rlp` with one canonical-shape field changed at a time (the opening must find each INVALID), and
 * with requestsHash dropped or an extra field appended: `[what, header RLP]`.
 */
export function shapeVariants(rlp: Uint8Array): Array<[string, Uint8Array]> {
  const fields = RLP.decode(rlp) as Uint8Array[]
  const word = (n: number): Uint8Array => keccak256(new Uint8Array([n]))
  const changed: Array<[string, number, Uint8Array]> = [
    ['ommersHash', 1, word(1)],
    ['difficulty', 7, new Uint8Array([1])],
    ['extraData', 12, new Uint8Array([0x6d])],
    ['mixHash of 31 bytes', 13, new Uint8Array(31)],
    ['nonce', 14, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1])],
    ['nonce of no bytes', 14, new Uint8Array(0)],
    ['withdrawalsRoot', 16, word(16)],
    ['blobGasUsed', 17, new Uint8Array([1])],
    ['excessBlobGas', 18, new Uint8Array([1])],
    ['parentBeaconBlockRoot', 19, word(19)],
    ['requestsHash', 20, word(20)],
  ]
  const variants: Array<[string, Uint8Array]> = changed.map(([what, position, value]) => {
    const copy = [...fields]
    copy[position] = value
    return [what, RLP.encode(copy)]
  })
  variants.push(['20 fields', RLP.encode(fields.slice(0, 20))])
  variants.push(['22 fields', RLP.encode([...fields, new Uint8Array(0)])])
  return variants
}
