import { bytesToHex, hexToBytes, KECCAK256_NULL } from '@ethereumjs/util'
import { keccak256 } from '../crypto/native.ts'
import { FlatState } from '../state/flat-state.ts'
import { stripLeadingZeros } from '../state/journaled-state.ts'
import { DEV_CHAIN_ID, type ChainConfig } from './config.ts'
import { DEV_ACCOUNT_BALANCE, deriveDevAccounts } from './dev.ts'
import { OSAKA_FROM_GENESIS, ForkScheduleError, forkScheduleFromGenesisConfig, forkScheduleToGenesisConfig } from './forks.ts'
import type { AccountState, Hex } from '../primitives/state-diff.ts'
import { NodeError, type NodeErrorOptions } from '../primitives/errors.ts'

/** One account of a geth-style `genesis.json` alloc. */
export interface GenesisAccount {
  balance?: string
  nonce?: string
  code?: Hex
  storage?: Record<string, string>
}

/**
 * The subset of geth's `genesis.json` this node reads (unknown fields are ignored, as geth does).
 * `config.pragueTime` / `config.osakaTime` schedule the forks (src/chain/forks.ts).
 */
export interface GenesisFile {
  config: { chainId: number | string; pragueTime?: number | string; osakaTime?: number | string; [key: string]: unknown }
  alloc: Record<string, GenesisAccount>
  gasLimit?: string
  timestamp?: string
  extraData?: Hex
  baseFeePerGas?: string
  coinbase?: Hex
  mixHash?: Hex
  /** megaeth-node extension: fee recipient and mini-block gas limit. */
  megaeth?: { feeRecipient?: Hex; miniBlockGasLimit?: string; minBaseFee?: string }
  /**
   * Set (by the node, not in a file) when the alloc is too big to hold: `alloc` is then empty and the
   * accounts are streamed from the file at `path` (`chain/genesis-stream.ts`), whose bytes hash to `sha256`.
   */
  allocFile?: { path: string; sha256: Hex }
}

/** One alloc account as the state holds it. */
export interface GenesisAccountState {
  address: Hex
  account: AccountState
  /** Its non-zero slots (32-byte slot → minimal value). */
  storage: Map<Hex, Uint8Array>
  /** Its code, when it has any (keyed in the state by `account.codeHash`). */
  code: Uint8Array | undefined
}

export class GenesisError extends NodeError<'GENESIS_INVALID', undefined> {
  override readonly name = 'GenesisError'
  constructor(message: string, options?: NodeErrorOptions) {
    super('GENESIS_INVALID', message, { severity: 'critical', ...options })
  }
}

/** Arachnid's deterministic deployment proxy (CREATE2 factory Foundry scripts use). */
export const DETERMINISTIC_DEPLOYER = '0x4e59b44847b379578588920ca78fbf26c0b4956c'
const DETERMINISTIC_DEPLOYER_CODE =
  '0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3'
/** EIP-4788 beacon roots contract, as every Cancun chain has it. */
export const BEACON_ROOTS_ADDRESS = '0x000f3df6d732807ef1319fb7b8bb8522d0beac02'
const BEACON_ROOTS_CODE =
  '0x3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff015500'
/**
 * EIP-2935 history-storage contract (Prague): serves the last 8191 block hashes, written by the
 * start-of-block system call (src/execution/system-calls.ts). A custom genesis that schedules Prague
 * must allocate it too (the runtime code below, nonce 1), as L1 deployed it before the fork.
 */
export const HISTORY_STORAGE_ADDRESS = '0x0000f90827f1c53a10cb7a02335b175320002935'
export const HISTORY_STORAGE_CODE =
  '0x3373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff81430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500'

export const DEFAULT_BLOCK_GAS_LIMIT = 2_000_000_000n
export const DEFAULT_MINI_BLOCK_GAS_LIMIT = 200_000_000n
export const DEFAULT_MIN_BASE_FEE = 1_000_000n

/** The dev chain: Osaka from genesis, with the system contracts its forks call. */
export function devGenesis(): GenesisFile {
  const alloc: Record<string, GenesisAccount> = {
    [DETERMINISTIC_DEPLOYER]: { balance: '0x0', nonce: '0x1', code: DETERMINISTIC_DEPLOYER_CODE },
    [BEACON_ROOTS_ADDRESS]: { balance: '0x0', nonce: '0x1', code: BEACON_ROOTS_CODE },
    [HISTORY_STORAGE_ADDRESS]: { balance: '0x0', nonce: '0x1', code: HISTORY_STORAGE_CODE },
  }
  for (const account of deriveDevAccounts()) alloc[account.address] = { balance: `0x${DEV_ACCOUNT_BALANCE.toString(16)}` }
  return {
    config: { chainId: Number(DEV_CHAIN_ID), ...forkScheduleToGenesisConfig(OSAKA_FROM_GENESIS) },
    alloc,
    gasLimit: `0x${DEFAULT_BLOCK_GAS_LIMIT.toString(16)}`,
    timestamp: '0x0',
    extraData: '0x',
    baseFeePerGas: `0x${DEFAULT_MIN_BASE_FEE.toString(16)}`,
  }
}

export function chainConfigFromGenesis(genesis: GenesisFile, name: string): ChainConfig {
  const chainId = parseBigInt(genesis.config.chainId, 'config.chainId')
  if (chainId <= 0n) throw new GenesisError('genesis config.chainId must be positive')
  const blockGasLimit = genesis.gasLimit === undefined ? DEFAULT_BLOCK_GAS_LIMIT : parseBigInt(genesis.gasLimit, 'gasLimit')
  const miniBlockGasLimit =
    genesis.megaeth?.miniBlockGasLimit === undefined
      ? DEFAULT_MINI_BLOCK_GAS_LIMIT
      : parseBigInt(genesis.megaeth.miniBlockGasLimit, 'megaeth.miniBlockGasLimit')
  let forks
  try {
    forks = forkScheduleFromGenesisConfig(genesis.config)
  } catch (error) {
    throw error instanceof ForkScheduleError ? new GenesisError(error.message) : error
  }
  return {
    chainId,
    name,
    forks,
    feeRecipient: (
      genesis.megaeth?.feeRecipient ??
      genesis.coinbase ??
      '0x4200000000000000000000000000000000000011'
    ).toLowerCase() as Hex,
    blockGasLimit,
    miniBlockGasLimit: miniBlockGasLimit < blockGasLimit ? miniBlockGasLimit : blockGasLimit,
    elasticityMultiplier: 2n,
    baseFeeMaxChangeDenominator: 8n,
    minBaseFee:
      genesis.megaeth?.minBaseFee === undefined
        ? DEFAULT_MIN_BASE_FEE
        : parseBigInt(genesis.megaeth.minBaseFee, 'megaeth.minBaseFee'),
  }
}

/** The genesis state in memory; a genesis too big to hold (`allocFile`) is refused: stream it instead. */
export function genesisState(genesis: GenesisFile): FlatState {
  if (genesis.allocFile !== undefined)
    throw new GenesisError(
      `genesis ${genesis.allocFile.path}: its alloc is streamed from the file (too big to hold), and this use needs it in memory`,
    )
  return flatStateFromAlloc(genesis.alloc)
}

/** Builds a state from a geth-style alloc (also the `pre`/`postState` shape of ethereum/tests). */
export function flatStateFromAlloc(alloc: Record<string, GenesisAccount>): FlatState {
  const state = new FlatState()
  for (const [rawAddress, entry] of Object.entries(alloc)) {
    const { address, account, storage, code } = genesisAccountState(rawAddress, entry)
    if (code !== undefined) state.codes.set(bytesToHex(account.codeHash) as Hex, code)
    state.accounts.set(address, account)
    if (storage.size > 0) state.storage.set(address, storage)
  }
  return state
}

/** One alloc entry, validated and normalized (lowercase address, 32-byte slots, minimal values). */
export function genesisAccountState(rawAddress: string, entry: GenesisAccount): GenesisAccountState {
  const address = normalizeAddress(rawAddress)
  const code = entry.code === undefined ? new Uint8Array(0) : hexToBytes(entry.code)
  const account: AccountState = {
    nonce: entry.nonce === undefined ? 0n : parseBigInt(entry.nonce, `alloc ${address} nonce`),
    balance: entry.balance === undefined ? 0n : parseBigInt(entry.balance, `alloc ${address} balance`),
    codeHash: code.length === 0 ? KECCAK256_NULL : keccak256(code),
  }
  const storage = new Map<Hex, Uint8Array>()
  for (const [slot, value] of Object.entries(entry.storage ?? {})) {
    const v = stripLeadingZeros(hexToBytes(padHex(value, `alloc ${address} storage value`)))
    if (v.length > 0) storage.set(bytesToHex(leftPad32(hexToBytes(padHex(slot, `alloc ${address} storage slot`)))) as Hex, v)
  }
  return { address, account, storage, code: code.length === 0 ? undefined : code }
}

function parseBigInt(value: string | number, field: string): bigint {
  try {
    return BigInt(value)
  } catch {
    throw new GenesisError(`genesis ${field}: ${JSON.stringify(value)} is not a number (use decimal or 0x-hex)`)
  }
}

function normalizeAddress(raw: string): Hex {
  const hex = (raw.startsWith('0x') ? raw : `0x${raw}`).toLowerCase()
  if (!/^0x[0-9a-f]{40}$/.test(hex)) throw new GenesisError(`genesis alloc key ${raw} is not a 20-byte address`)
  return hex as Hex
}

function padHex(value: string, field: string): Hex {
  if (!/^0x[0-9a-fA-F]*$/.test(value)) throw new GenesisError(`genesis ${field}: ${value} is not 0x-hex`)
  const digits = value.slice(2)
  if (digits.length > 64) throw new GenesisError(`genesis ${field}: ${value} is longer than 32 bytes`)
  return `0x${digits.length % 2 === 1 ? '0' : ''}${digits}` as Hex
}

function leftPad32(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(32)
  out.set(bytes, 32 - bytes.length)
  return out
}
