/**
 * The reference for the Solidity EVM interpreter (issue 18): runs one message on ethereumjs with the chain's Common
 * (the oracle: the L2 executes with it) and returns what `IEvmInterpreter.execute` takes (contracts/libraries/
 * EvmTypes.sol) and what it must return. The tables hold exactly what the execution touched, with the values before
 * the message; `checkTablesComplete` re-runs ethereumjs on a state holding only those tables to prove them complete.
 *
 * Conventions (what the interpreter is compared against):
 * - The caller's row holds its nonce after the transaction's bump (the verifier bumps it before calling the
 *   interpreter); ethereumjs runs on that same state with `skipNonceIncrement`. `createNonce` is the nonce before.
 * - `warmAddresses`: origin, caller, the recipient (not the created address of a creation: the interpreter warms
 *   it, as ethereumjs does), the coinbase (EIP-3651), Osaka's precompiles (0x01–0x11, 0x100), the access list's
 *   addresses, and a delegated recipient's target (EIP-7702); `warmSlots`: the access list's slots.
 * - Table rows are sorted by address (slots by address, then key); addresses checksummed, words 32 bytes.
 * - `returnData` of a successful creation is the deployed code (ethereumjs's `returnValue`); of a failure, the
 *   revert data (empty on an exceptional halt). `refund`: ethereumjs's counter (`gasRefund`), 0 on failure.
 * - After: `exists` false for an account not in the state (never created, or EIP-6780-deleted, which also zeroes
 *   its slots); `hasStorage` stays true for an account that had storage and becomes true when a slot of the tables
 *   is non-zero (slots outside the tables are unknown to both sides); `touched` is ethereumjs's journal's set
 *   (message-level only: the transaction's own touches of sender and coinbase are not the interpreter's).
 * - A case's `pre` is the state the message starts from, after the gas purchase (balances as given); only the
 *   caller's nonce bump is applied here. No transaction-level work otherwise: no fee, refund cap, or EIP-161
 *   deletion (the verifier's).
 */
import type { Common } from '@ethereumjs/common'
import { createEVM, type EVM } from '@ethereumjs/evm'
import { SimpleStateManager } from '@ethereumjs/statemanager'
import { Account, Address, bytesToBigInt, bytesToHex, hexToBytes } from '@ethereumjs/util'
import { type Hex, getAddress, keccak256, numberToHex, padHex, toHex } from 'viem'
import { createChainCommon } from '../../src/chain/config.ts'

export interface PreAccount {
  address: Hex
  nonce?: bigint
  balance?: bigint
  code?: Hex
  storage?: Record<Hex, Hex>
}

/** `EvmBlock` as viem encodes it. */
export interface EvmBlockArg {
  coinbase: Hex
  number: bigint
  timestamp: bigint
  gasLimit: bigint
  baseFee: bigint
  blobBaseFee: bigint
  prevRandao: Hex
  chainId: bigint
}
export interface EvmAccountArg {
  addr: Hex
  exists: boolean
  nonce: bigint
  balance: bigint
  code: Hex
  hasStorage: boolean
}
export interface EvmSlotArg {
  addr: Hex
  key: Hex
  value: Hex
}
export interface EvmSlotKeyArg {
  addr: Hex
  key: Hex
}
export interface EvmBlockHashArg {
  number: bigint
  hash: Hex
}
export interface EvmMessageArg {
  origin: Hex
  gasPrice: bigint
  caller: Hex
  to: Hex
  isCreate: boolean
  createNonce: bigint
  value: bigint
  data: Hex
  gas: bigint
  warmAddresses: Hex[]
  warmSlots: EvmSlotKeyArg[]
  blobHashes: Hex[]
}
export interface EvmLogArg {
  addr: Hex
  topics: Hex[]
  data: Hex
}
export interface EvmResultArg {
  success: boolean
  gasLeft: bigint
  refund: bigint
  returnData: Hex
  created: Hex
  logs: EvmLogArg[]
  accounts: EvmAccountArg[]
  slots: EvmSlotArg[]
  touched: boolean[]
}

export interface ReferenceCase {
  name: string
  pre: PreAccount[]
  /** Defaults: `DEFAULT_BLOCK`. */
  block?: Partial<EvmBlockArg>
  /** number -> hash for BLOCKHASH (default: `defaultBlockHash(number)`). */
  blockHashes?: Record<string, Hex>
  message: {
    caller: Hex
    /** Absent: a creation. */
    to?: Hex
    value?: bigint
    data?: Hex
    /** What the message may spend (default 1,000,000). */
    gas?: bigint
    /** Default: the caller (a transaction's message). */
    origin?: Hex
    /** Default: the block's base fee. */
    gasPrice?: bigint
    accessList?: { address: Hex; storageKeys: Hex[] }[]
    blobHashes?: Hex[]
  }
}

/** Arguments of IEvmInterpreter.execute, as viem encodes the EvmTypes.sol structs (bigint for uints, Hex for bytes). */
export interface InterpreterArgs {
  block: EvmBlockArg
  message: EvmMessageArg
  accounts: EvmAccountArg[]
  slots: EvmSlotArg[]
  blockHashes: EvmBlockHashArg[]
}
export interface ReferenceRun {
  args: InterpreterArgs
  expected: EvmResultArg
}

export const CHAIN_ID = 6342n
export const ZERO_ADDRESS: Hex = '0x0000000000000000000000000000000000000000'
const ZERO_WORD: Hex = `0x${'00'.repeat(32)}`

export const DEFAULT_BLOCK: EvmBlockArg = {
  coinbase: getAddress('0xc0ffee000000000000000000000000000000c0de'),
  number: 100n,
  timestamp: 1_765_000_000n,
  gasLimit: 30_000_000n,
  baseFee: 7n,
  blobBaseFee: 1n,
  prevRandao: keccak256(toHex('megaeth prevrandao')),
  chainId: CHAIN_ID,
}

/** The hash BLOCKHASH sees for block `n` when a case does not give one. */
export function defaultBlockHash(n: bigint): Hex {
  return keccak256(toHex(`megaeth block ${n}`))
}

/** A 20-byte address, lowercase (ethereumjs' map keys) for lookups. */
function lower(a: Hex): string {
  return getAddress(a).toLowerCase()
}

function word(v: Hex | bigint): Hex {
  return typeof v === 'bigint' ? numberToHex(v, { size: 32 }) : (padHex(v, { size: 32 }).toLowerCase() as Hex)
}

/** A storage root that is not the empty trie's: the collision check (EIP-7610) only asks whether it is empty. */
const NON_EMPTY_STORAGE_ROOT = hexToBytes(keccak256(toHex('megaeth: an account with storage')))

/**
 * SimpleStateManager that records every account and slot the EVM asks about while `recording` (the pre-state is
 * written before recording starts). Overrides, not wrappers: SimpleStateManager's original-storage cache binds
 * `this.getStorage` in its constructor, so its reads are seen too.
 */
class RecordingStateManager extends SimpleStateManager {
  recording = false
  readonly accounts = new Set<string>()
  readonly slots = new Map<string, { addr: string; key: Hex }>()

  private noteAccount(address: Address): void {
    if (this.recording) this.accounts.add(address.toString())
  }
  private noteSlot(address: Address, key: Uint8Array): void {
    if (!this.recording) return
    const addr = address.toString()
    this.accounts.add(addr)
    const k = word(bytesToHex(key))
    this.slots.set(`${addr}_${k}`, { addr, key: k })
  }
  override async getAccount(address: Address) {
    this.noteAccount(address)
    return super.getAccount(address)
  }
  override async putAccount(address: Address, account?: Account) {
    this.noteAccount(address)
    return super.putAccount(address, account as Account)
  }
  override async deleteAccount(address: Address) {
    this.noteAccount(address)
    return super.deleteAccount(address)
  }
  override async getCode(address: Address) {
    this.noteAccount(address)
    return super.getCode(address)
  }
  override async putCode(address: Address, value: Uint8Array) {
    this.noteAccount(address)
    return super.putCode(address, value)
  }
  override async getCodeSize(address: Address) {
    this.noteAccount(address)
    return super.getCodeSize(address)
  }
  override async getStorage(address: Address, key: Uint8Array) {
    this.noteSlot(address, key)
    return super.getStorage(address, key)
  }
  override async putStorage(address: Address, key: Uint8Array, value: Uint8Array) {
    this.noteSlot(address, key)
    return super.putStorage(address, key, value)
  }
  override async clearStorage(address: Address) {
    this.noteAccount(address)
    return super.clearStorage(address)
  }
  /** Every slot of `addr` the top of the stack holds (values as written; unread slots are absent). */
  storageOf(addr: string): Map<Hex, Hex> {
    const out = new Map<Hex, Hex>()
    const top = (this as unknown as { storageStack: Map<string, Uint8Array>[] }).storageStack.at(-1)!
    for (const [k, v] of top) {
      const [a, key] = k.split('_') as [string, Hex]
      if (a === addr) out.set(word(key), word(bytesToBigInt(v)))
    }
    return out
  }
}

/** The state of one account as the tables give it: what the interpreter gets for an address. */
interface AccountState {
  exists: boolean
  nonce: bigint
  balance: bigint
  code: Hex
  storage: Map<Hex, Hex>
  hasStorage: boolean
}

let sharedCommon: Common | undefined
function chainCommon(): Common {
  sharedCommon ??= createChainCommon({ chainId: CHAIN_ID, name: 'megaeth-dev' })
  return sharedCommon.copy()
}

interface Execution {
  evm: EVM
  sm: RecordingStateManager
  success: boolean
  gasLeft: bigint
  refund: bigint
  returnData: Hex
  created: Hex
  logs: EvmLogArg[]
  /** Lowercase addresses deleted at the end (EIP-6780: self-destructed in the transaction that created them). */
  deleted: Set<string>
  blockHashesAsked: Set<bigint>
  touched: Set<string>
}

/** Runs `message` over `pre` (already holding the caller's bumped nonce) with the given warm sets. */
async function execute(
  block: EvmBlockArg,
  message: EvmMessageArg,
  pre: Map<string, AccountState>,
  blockHash: (n: bigint) => Hex,
): Promise<Execution> {
  const common = chainCommon()
  const sm = new RecordingStateManager({ common })
  for (const [addr, a] of pre) {
    if (!a.exists) continue
    const address = new Address(hexToBytes(addr as Hex))
    await sm.putAccount(address, new Account(a.nonce, a.balance, a.hasStorage ? NON_EMPTY_STORAGE_ROOT : undefined))
    if (a.code !== '0x') await sm.putCode(address, hexToBytes(a.code))
    for (const [k, v] of a.storage) if (BigInt(v) !== 0n) await sm.putStorage(address, hexToBytes(k), hexToBytes(v))
  }
  const blockHashesAsked = new Set<bigint>()
  const blockchain = {
    async getBlock(n: number) {
      blockHashesAsked.add(BigInt(n))
      const h = hexToBytes(blockHash(BigInt(n)))
      return { hash: () => h }
    },
    async putBlock() {},
    shallowCopy() {
      return blockchain
    },
  }
  // A stand-in Block: the EVM reads only these header fields (and BLOBBASEFEE through getBlobGasPrice, given as is
  // rather than derived from an excess blob gas).
  const header = {
    number: block.number,
    coinbase: new Address(hexToBytes(block.coinbase)),
    timestamp: block.timestamp,
    difficulty: 0n,
    prevRandao: hexToBytes(block.prevRandao),
    gasLimit: block.gasLimit,
    baseFeePerGas: block.baseFee,
    getBlobGasPrice: () => block.blobBaseFee,
  }
  const evm = await createEVM({ common, stateManager: sm, blockchain: blockchain as never })
  for (const a of message.warmAddresses) evm.journal.addAlwaysWarmAddress(lower(a))
  for (const s of message.warmSlots) evm.journal.addAlwaysWarmSlot(lower(s.addr), word(s.key).slice(2))
  sm.recording = true
  await evm.journal.checkpoint()
  const result = await evm.runCall({
    block: { header } as never,
    gasPrice: message.gasPrice,
    origin: new Address(hexToBytes(message.origin)),
    caller: new Address(hexToBytes(message.caller)),
    to: message.isCreate ? undefined : new Address(hexToBytes(message.to)),
    value: message.value,
    data: hexToBytes(message.data),
    gasLimit: message.gas,
    blobVersionedHashes: message.blobHashes,
    skipNonceIncrement: true,
  })
  await evm.journal.commit()
  sm.recording = false
  const r = result.execResult
  const success = r.exceptionError === undefined
  const deleted = new Set<string>()
  if (success) for (const a of r.selfdestruct?.keys() ?? []) if (r.createdAddresses?.has(a) === true) deleted.add(a.toLowerCase())
  return {
    evm,
    sm,
    success,
    gasLeft: message.gas - r.executionGasUsed,
    refund: r.gasRefund ?? 0n,
    returnData: bytesToHex(r.returnValue),
    created: success && result.createdAddress !== undefined ? getAddress(result.createdAddress.toString()) : ZERO_ADDRESS,
    logs: (r.logs ?? []).map(([addr, topics, data]) => ({
      addr: getAddress(bytesToHex(addr)),
      topics: topics.map((t) => bytesToHex(t)),
      data: bytesToHex(data),
    })),
    deleted,
    blockHashesAsked,
    touched: new Set([...(evm.journal as unknown as { touched: Set<string> }).touched].map((a) => `0x${a}`)),
  }
}

function emptyState(): AccountState {
  return { exists: false, nonce: 0n, balance: 0n, code: '0x', storage: new Map(), hasStorage: false }
}

/** The case's pre-state, with the caller's nonce bumped as the verifier does before calling the interpreter. */
function preState(c: ReferenceCase): { pre: Map<string, AccountState>; createNonce: bigint } {
  const pre = new Map<string, AccountState>()
  for (const p of c.pre) {
    const addr = lower(p.address)
    if (pre.has(addr)) throw new Error(`${c.name}: account ${p.address} is in pre twice`)
    const storage = new Map<Hex, Hex>()
    for (const [k, v] of Object.entries(p.storage ?? {})) if (BigInt(v) !== 0n) storage.set(word(k as Hex), word(v))
    pre.set(addr, {
      exists: true,
      nonce: p.nonce ?? 0n,
      balance: p.balance ?? 0n,
      code: (p.code ?? '0x').toLowerCase() as Hex,
      storage,
      hasStorage: storage.size > 0,
    })
  }
  const caller = lower(c.message.caller)
  const callerState = pre.get(caller) ?? { ...emptyState(), exists: true }
  const createNonce = callerState.nonce
  pre.set(caller, { ...callerState, nonce: createNonce + 1n })
  return { pre, createNonce }
}

const DELEGATION_PREFIX = '0xef0100'

function buildMessage(c: ReferenceCase, block: EvmBlockArg, pre: Map<string, AccountState>, createNonce: bigint): EvmMessageArg {
  const m = c.message
  const isCreate = m.to === undefined
  const origin = getAddress(m.origin ?? m.caller)
  const caller = getAddress(m.caller)
  const warm: Hex[] = [origin, caller]
  if (!isCreate) warm.push(getAddress(m.to!))
  warm.push(getAddress(block.coinbase))
  // Osaka's precompiles: 0x01–0x11 and P256VERIFY (EIP-7951) at 0x100.
  for (let i = 1; i <= 0x11; i++) warm.push(getAddress(numberToHex(i, { size: 20 })))
  warm.push(getAddress(numberToHex(0x100, { size: 20 })))
  const warmSlots: EvmSlotKeyArg[] = []
  for (const item of m.accessList ?? []) {
    warm.push(getAddress(item.address))
    for (const k of item.storageKeys) warmSlots.push({ addr: getAddress(item.address), key: word(k) })
  }
  // EIP-7702: a delegated recipient's target is warm (ethereumjs warms it when it loads the code of the top frame).
  if (!isCreate) {
    const code = pre.get(lower(m.to!))?.code ?? '0x'
    if (code.startsWith(DELEGATION_PREFIX) && code.length === 2 + 46) warm.push(getAddress(`0x${code.slice(8)}`))
  }
  const seen = new Set<string>()
  return {
    origin,
    gasPrice: m.gasPrice ?? block.baseFee,
    caller,
    to: isCreate ? ZERO_ADDRESS : getAddress(m.to!),
    isCreate,
    createNonce: isCreate ? createNonce : 0n,
    value: m.value ?? 0n,
    data: m.data ?? '0x',
    gas: m.gas ?? 1_000_000n,
    warmAddresses: warm.filter((a) => !seen.has(a.toLowerCase()) && seen.add(a.toLowerCase()) !== undefined),
    warmSlots,
    blobHashes: m.blobHashes ?? [],
  }
}

function accountArg(addr: string, s: AccountState): EvmAccountArg {
  return {
    addr: getAddress(addr),
    exists: s.exists,
    nonce: s.nonce,
    balance: s.balance,
    code: s.code,
    hasStorage: s.hasStorage,
  }
}

/** The tables after the execution, in the order of `accounts`/`slots`. */
async function tablesAfter(
  x: Execution,
  pre: Map<string, AccountState>,
  accounts: string[],
  slots: EvmSlotArg[],
): Promise<Pick<EvmResultArg, 'accounts' | 'slots' | 'touched'>> {
  x.sm.recording = false
  const after: EvmAccountArg[] = []
  for (const addr of accounts) {
    const address = new Address(hexToBytes(addr as Hex))
    const acc = await x.sm.getAccount(address)
    if (acc === undefined || x.deleted.has(addr)) {
      after.push(accountArg(addr, emptyState()))
      continue
    }
    const code = bytesToHex(await x.sm.getCode(address))
    after.push({
      addr: getAddress(addr),
      exists: true,
      nonce: acc.nonce,
      balance: acc.balance,
      code,
      hasStorage: false,
    })
  }
  const slotsAfter = slots.map((s) => {
    const addr = s.addr.toLowerCase()
    if (x.deleted.has(addr)) return { ...s, value: ZERO_WORD }
    const v = x.sm.storageOf(addr).get(s.key)
    return { ...s, value: v ?? s.value }
  })
  // hasStorage after: what the tables tell. An account that had storage keeps the flag (slots outside the tables may
  // hold values; a creation never lands on one, EIP-7610), and one that did not has storage when a slot of the tables
  // is non-zero after. The verifier recomputes the storage roots itself; the flag is for the interpreter's bookkeeping.
  for (const a of after) {
    if (!a.exists) continue
    const addr = a.addr.toLowerCase()
    a.hasStorage =
      pre.get(addr)?.hasStorage === true || slotsAfter.some((s) => s.addr.toLowerCase() === addr && BigInt(s.value) !== 0n)
  }
  return { accounts: after, slots: slotsAfter, touched: accounts.map((a) => x.touched.has(a)) }
}

function expectedOf(x: Execution, tables: Pick<EvmResultArg, 'accounts' | 'slots' | 'touched'>): EvmResultArg {
  return {
    success: x.success,
    gasLeft: x.gasLeft,
    refund: x.refund,
    returnData: x.returnData,
    created: x.created,
    logs: x.logs,
    ...tables,
  }
}

function resolvedBlock(c: ReferenceCase): EvmBlockArg {
  const b = { ...DEFAULT_BLOCK, ...c.block }
  return { ...b, coinbase: getAddress(b.coinbase), chainId: CHAIN_ID }
}

function blockHashOf(c: ReferenceCase): (n: bigint) => Hex {
  return (n) => c.blockHashes?.[n.toString()] ?? defaultBlockHash(n)
}

/** Runs the case's message on ethereumjs (the chain's Common) and returns the interpreter's inputs (tables holding
 *  exactly what execution touched, with pre-values) and ethereumjs's outcome in EvmResult's shape. */
export async function runReference(c: ReferenceCase): Promise<ReferenceRun> {
  const block = resolvedBlock(c)
  const { pre, createNonce } = preState(c)
  const message = buildMessage(c, block, pre, createNonce)
  const x = await execute(block, message, pre, blockHashOf(c))
  const addrs = [...x.sm.accounts].map((a) => a.toLowerCase()).sort()
  const accounts = addrs.map((a) => accountArg(a, pre.get(a) ?? emptyState()))
  const slots: EvmSlotArg[] = [...x.sm.slots.values()]
    .map(({ addr, key }) => ({ addr: getAddress(addr), key, value: pre.get(addr.toLowerCase())?.storage.get(key) ?? ZERO_WORD }))
    .sort((a, b) => (a.addr.toLowerCase() + a.key).localeCompare(b.addr.toLowerCase() + b.key))
  const blockHashes = [...x.blockHashesAsked]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((n) => ({ number: n, hash: blockHashOf(c)(n) }))
  const expected = expectedOf(x, await tablesAfter(x, pre, addrs, slots))
  return { args: { block, message, accounts, slots, blockHashes }, expected }
}

/**
 * The self-check: runs the message again on a state holding only `run.args`'s tables (accounts, slots, block hashes)
 * and returns the differences from `run.expected` ([] when the tables are complete). An execution that reaches an
 * account, slot or block hash outside the tables fails the check too (where the interpreter would revert Missing*).
 */
export async function checkTablesComplete(run: ReferenceRun): Promise<string[]> {
  const { block, message, accounts, slots, blockHashes } = run.args
  const pre = new Map<string, AccountState>()
  for (const a of accounts)
    pre.set(a.addr.toLowerCase(), {
      exists: a.exists,
      nonce: a.nonce,
      balance: a.balance,
      code: a.code,
      storage: new Map(),
      hasStorage: a.hasStorage,
    })
  for (const s of slots) {
    const a = pre.get(s.addr.toLowerCase())
    if (a === undefined) return [`slot ${s.addr}/${s.key} of an account not in the table`]
    if (BigInt(s.value) !== 0n) a.storage.set(s.key, s.value)
  }
  const problems: string[] = []
  const hashes = new Map(blockHashes.map((h) => [h.number, h.hash]))
  const x = await execute(block, message, pre, (n) => {
    const h = hashes.get(n)
    if (h === undefined) problems.push(`BLOCKHASH(${n}) not in the table`)
    return h ?? ZERO_WORD
  })
  const addrs = accounts.map((a) => a.addr.toLowerCase())
  for (const a of x.sm.accounts) if (!pre.has(a.toLowerCase())) problems.push(`account ${a} not in the table`)
  const known = new Set(slots.map((s) => `${s.addr.toLowerCase()}_${s.key}`))
  for (const k of x.sm.slots.keys()) if (!known.has(k)) problems.push(`slot ${k} not in the table`)
  const again = expectedOf(x, await tablesAfter(x, pre, addrs, slots))
  problems.push(...diffResults(again, run.expected))
  // Stricter than diffResults: the self-check wants ethereumjs's exact tables, touched flags included.
  again.touched.forEach((t, i) => {
    if (t !== run.expected.touched[i]) problems.push(`touched[${accounts[i]!.addr}]: ${t}, expected ${run.expected.touched[i]}`)
  })
  return problems
}

function isEmpty(a: EvmAccountArg): boolean {
  return a.nonce === 0n && a.balance === 0n && (a.code === '0x' || a.code === '0x0') && !a.hasStorage
}

/** What an account row means once the transaction ends: EIP-161 deletes a touched empty account. */
function finalRow(a: EvmAccountArg, touched: boolean): EvmAccountArg | undefined {
  if (!a.exists || (touched && isEmpty(a))) return undefined
  return a
}

function describe(a: EvmAccountArg | undefined): string {
  return a === undefined
    ? 'absent'
    : `nonce ${a.nonce} balance ${a.balance} code ${a.code.length > 42 ? `${a.code.slice(0, 42)}…(${(a.code.length - 2) / 2} bytes)` : a.code} hasStorage ${a.hasStorage}`
}

/** Differences between an interpreter result and the expected one; [] when equal. Compares success, gasLeft, refund,
 *  returnData, created, logs, every account/slot after, and `touched` only where it matters (accounts empty after). */
export function diffResults(actual: EvmResultArg, expected: EvmResultArg): string[] {
  const out: string[] = []
  const eq = (what: string, a: unknown, e: unknown) => {
    if (a !== e) out.push(`${what}: ${String(a)}, expected ${String(e)}`)
  }
  eq('success', actual.success, expected.success)
  eq('gasLeft', actual.gasLeft, expected.gasLeft)
  eq('refund', actual.refund, expected.refund)
  eq('returnData', actual.returnData.toLowerCase(), expected.returnData.toLowerCase())
  eq('created', actual.created.toLowerCase(), expected.created.toLowerCase())
  const n = Math.max(actual.logs.length, expected.logs.length)
  for (let i = 0; i < n; i++) {
    const a = actual.logs[i]
    const e = expected.logs[i]
    if (a === undefined) out.push(`log ${i}: missing (expected from ${e!.addr}, topics ${e!.topics.join(',')})`)
    else if (e === undefined) out.push(`log ${i}: unexpected (from ${a.addr}, topics ${a.topics.join(',')})`)
    else {
      eq(`log ${i} address`, a.addr.toLowerCase(), e.addr.toLowerCase())
      eq(`log ${i} topics`, a.topics.join(',').toLowerCase(), e.topics.join(',').toLowerCase())
      eq(`log ${i} data`, a.data.toLowerCase(), e.data.toLowerCase())
    }
  }
  const rows = (r: EvmResultArg) => {
    const m = new Map<string, EvmAccountArg | undefined>()
    r.accounts.forEach((a, i) => m.set(a.addr.toLowerCase(), finalRow(a, r.touched[i] === true)))
    return m
  }
  const ra = rows(actual)
  const re = rows(expected)
  for (const [addr, e] of re) {
    if (!ra.has(addr)) {
      out.push(`account ${addr}: missing from the result`)
      continue
    }
    const a = ra.get(addr)
    if (a === undefined || e === undefined) {
      if (a !== e) out.push(`account ${addr}: ${describe(a)}, expected ${describe(e)}`)
      continue
    }
    eq(`account ${addr} nonce`, a.nonce, e.nonce)
    eq(`account ${addr} balance`, a.balance, e.balance)
    eq(`account ${addr} code`, a.code.toLowerCase(), e.code.toLowerCase())
    eq(`account ${addr} hasStorage`, a.hasStorage, e.hasStorage)
  }
  for (const addr of ra.keys()) if (!re.has(addr)) out.push(`account ${addr}: not in the expected tables`)
  const slotMap = (r: EvmResultArg) =>
    new Map(r.slots.map((s) => [`${s.addr.toLowerCase()}/${s.key.toLowerCase()}`, BigInt(s.value)]))
  const sa = slotMap(actual)
  const se = slotMap(expected)
  for (const [k, v] of se) {
    if (!sa.has(k)) out.push(`slot ${k}: missing from the result`)
    else eq(`slot ${k}`, toHex(sa.get(k)!), toHex(v))
  }
  for (const k of sa.keys()) if (!se.has(k)) out.push(`slot ${k}: not in the expected tables`)
  return out
}
