/**
 * The rollup configuration every node of the chain must share: op-node's `rollup.json`, read and
 * written in op-node's JSON shape (so `optimism_rollupConfig` answers what OP tooling expects) and
 * used typed inside the node.
 */
import { NodeError } from '../primitives/errors.ts'
import type { Hex } from '../primitives/state-diff.ts'
import type { BlockId, SystemConfigValues } from './l1-origin.ts'

export interface RollupConfig {
  readonly genesis: {
    /** The L1 block the chain starts from: the first L1 origin and the first L1 block derivation reads. */
    readonly l1: BlockId
    /** The L2 genesis block. */
    readonly l2: BlockId
    readonly l2Time: bigint
    readonly systemConfig: SystemConfigValues
  }
  /** Seconds between L2 blocks (EVM blocks; mini-blocks are not L1-visible). */
  readonly blockTime: bigint
  /** How far (s) an L2 block's timestamp may run ahead of its L1 origin's. */
  readonly maxSequencerDrift: bigint
  /** L1 blocks within which a batch for an epoch must land; past it, derivation fills the epoch itself. */
  readonly seqWindowSize: bigint
  /** L1 blocks a channel may stay open. */
  readonly channelTimeout: bigint
  readonly l1ChainId: bigint
  readonly l2ChainId: bigint
  readonly batchInboxAddress: Hex
  /** The OptimismPortal2. */
  readonly depositContractAddress: Hex
  readonly l1SystemConfigAddress: Hex
}

export class RollupConfigError extends NodeError<'ROLLUP_CONFIG_INVALID', undefined> {
  override readonly name = 'RollupConfigError'
  constructor(message: string) {
    super('ROLLUP_CONFIG_INVALID', message, {
      hint: 'pass op-node’s rollup.json for this chain (optimism_rollupConfig of a running node returns it)',
    })
  }
}

/** Every OP fork up to Isthmus is active from genesis: the chain starts with today's rules. */
const OP_FORKS_FROM_GENESIS = [
  'regolith_time',
  'canyon_time',
  'delta_time',
  'ecotone_time',
  'fjord_time',
  'granite_time',
  'holocene_time',
  'isthmus_time',
] as const

/** `rollup.json` as op-node writes it (numbers as JSON numbers, hashes and addresses as 0x strings). */
export function rollupConfigToJson(config: RollupConfig): Record<string, unknown> {
  const sc = config.genesis.systemConfig
  const json: Record<string, unknown> = {
    genesis: {
      l1: { hash: config.genesis.l1.hash, number: Number(config.genesis.l1.number) },
      l2: { hash: config.genesis.l2.hash, number: Number(config.genesis.l2.number) },
      l2_time: Number(config.genesis.l2Time),
      system_config: {
        batcherAddr: `0x${sc.batcherHash.slice(26)}`,
        overhead: `0x${'0'.repeat(64)}`,
        scalar: ecotoneScalar(sc.baseFeeScalar, sc.blobBaseFeeScalar),
        gasLimit: Number(sc.gasLimit),
        operatorFeeParams: operatorFeeParams(sc.operatorFeeScalar, sc.operatorFeeConstant),
      },
    },
    block_time: Number(config.blockTime),
    max_sequencer_drift: Number(config.maxSequencerDrift),
    seq_window_size: Number(config.seqWindowSize),
    channel_timeout: Number(config.channelTimeout),
    l1_chain_id: Number(config.l1ChainId),
    l2_chain_id: Number(config.l2ChainId),
    batch_inbox_address: config.batchInboxAddress,
    deposit_contract_address: config.depositContractAddress,
    l1_system_config_address: config.l1SystemConfigAddress,
  }
  for (const fork of OP_FORKS_FROM_GENESIS) json[fork] = 0
  return json
}

/** Parses op-node's `rollup.json`. @throws RollupConfigError naming the field that is missing or wrong */
export function parseRollupConfig(json: unknown): RollupConfig {
  const root = object(json, 'rollup config')
  const genesis = object(root['genesis'], 'genesis')
  const sc = object(genesis['system_config'], 'genesis.system_config')
  const scalar = hex(sc['scalar'], 'genesis.system_config.scalar', 32)
  const scalarBytes = BigInt(scalar)
  if (scalar.slice(2, 4) !== '01')
    throw new RollupConfigError('genesis.system_config.scalar: only version-1 (Ecotone) scalars are supported')
  const operator = sc['operatorFeeParams'] === undefined ? 0n : BigInt(hex(sc['operatorFeeParams'], 'operatorFeeParams', 32))
  for (const fork of OP_FORKS_FROM_GENESIS) {
    const at = root[fork]
    if (at !== undefined && at !== 0)
      throw new RollupConfigError(`${fork}: ${String(at)}; this node runs every OP fork from genesis (0)`)
  }
  return {
    genesis: {
      l1: blockId(genesis['l1'], 'genesis.l1'),
      l2: blockId(genesis['l2'], 'genesis.l2'),
      l2Time: uint(genesis['l2_time'], 'genesis.l2_time'),
      systemConfig: {
        batcherHash: `0x${'0'.repeat(24)}${hex(sc['batcherAddr'], 'genesis.system_config.batcherAddr', 20).slice(2)}` as Hex,
        baseFeeScalar: Number(scalarBytes & 0xffffffffn),
        blobBaseFeeScalar: Number((scalarBytes >> 32n) & 0xffffffffn),
        operatorFeeScalar: Number((operator >> 64n) & 0xffffffffn),
        operatorFeeConstant: operator & 0xffffffffffffffffn,
        gasLimit: uint(sc['gasLimit'], 'genesis.system_config.gasLimit'),
      },
    },
    blockTime: positive(root['block_time'], 'block_time'),
    maxSequencerDrift: uint(root['max_sequencer_drift'], 'max_sequencer_drift'),
    seqWindowSize: positive(root['seq_window_size'], 'seq_window_size'),
    channelTimeout: positive(root['channel_timeout'], 'channel_timeout'),
    l1ChainId: positive(root['l1_chain_id'], 'l1_chain_id'),
    l2ChainId: positive(root['l2_chain_id'], 'l2_chain_id'),
    batchInboxAddress: hex(root['batch_inbox_address'], 'batch_inbox_address', 20),
    depositContractAddress: hex(root['deposit_contract_address'], 'deposit_contract_address', 20),
    l1SystemConfigAddress: hex(root['l1_system_config_address'], 'l1_system_config_address', 20),
  }
}

/** SystemConfig's version-1 `scalar`: `0x01 ‖ zeros ‖ blobBaseFeeScalar (u32) ‖ baseFeeScalar (u32)`. */
export function ecotoneScalar(baseFeeScalar: number, blobBaseFeeScalar: number): Hex {
  const value = (1n << 248n) | (BigInt(blobBaseFeeScalar) << 32n) | BigInt(baseFeeScalar)
  return `0x${value.toString(16).padStart(64, '0')}`
}

function operatorFeeParams(scalar: number, constant: bigint): Hex {
  return `0x${((BigInt(scalar) << 64n) | constant).toString(16).padStart(64, '0')}`
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new RollupConfigError(`${what}: expected an object`)
  return value as Record<string, unknown>
}

function uint(value: unknown, what: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value)
  if (typeof value === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(value)) return BigInt(value)
  throw new RollupConfigError(`${what}: expected a non-negative integer, got ${JSON.stringify(value)}`)
}

function positive(value: unknown, what: string): bigint {
  const n = uint(value, what)
  if (n === 0n) throw new RollupConfigError(`${what}: must be positive`)
  return n
}

function hex(value: unknown, what: string, bytes: number): Hex {
  if (typeof value !== 'string' || !new RegExp(`^0x[0-9a-fA-F]{${2 * bytes}}$`).test(value))
    throw new RollupConfigError(`${what}: expected ${bytes} bytes of 0x hex, got ${JSON.stringify(value)}`)
  return value.toLowerCase() as Hex
}

function blockId(value: unknown, what: string): BlockId {
  const id = object(value, what)
  return { hash: hex(id['hash'], `${what}.hash`, 32), number: uint(id['number'], `${what}.number`) }
}
