/**
 * SystemConfig's `ConfigUpdate(uint256 indexed version, UpdateType indexed updateType, bytes data)` logs
 * applied to the values derivation uses (op-node `system_config.go`): BATCHER, FEE_SCALARS (version-1
 * Ecotone scalar), GAS_LIMIT, OPERATOR_FEE_PARAMS. UNSAFE_BLOCK_SIGNER, EIP_1559_PARAMS, MIN_BASE_FEE and
 * DA_FOOTPRINT_GAS_SCALAR change nothing derivation carries. The contract cannot emit a malformed update,
 * so one is a critical error, as in op-node.
 */
import { decodeAbiParameters, keccak256, toBytes, type Hex as ViemHex } from 'viem'
import type { SystemConfigValues } from '../chain/l1-origin.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { criticalError } from './errors.ts'

export const CONFIG_UPDATE_TOPIC: Hex = keccak256(toBytes('ConfigUpdate(uint256,uint8,bytes)'))

const UpdateType = { batcher: 0n, feeScalars: 1n, gasLimit: 2n, operatorFeeParams: 5n, last: 7n } as const

export interface ConfigUpdateLog {
  readonly topics: readonly Hex[]
  readonly data: Hex
}

/** `config` after one `ConfigUpdate` log. @throws DerivationError (critical) for a malformed log */
export function applyConfigUpdate(config: SystemConfigValues, log: ConfigUpdateLog): SystemConfigValues {
  const [, versionTopic, typeTopic] = log.topics
  if (log.topics.length !== 3 || versionTopic === undefined || typeTopic === undefined)
    throw bad(`expected 3 topics, got ${log.topics.length}`)
  if (BigInt(versionTopic) !== 0n) throw bad(`unsupported ConfigUpdate version ${BigInt(versionTopic)}`)
  const type = BigInt(typeTopic)
  let content: ViemHex
  try {
    ;[content] = decodeAbiParameters([{ type: 'bytes' }], log.data as ViemHex)
  } catch (error) {
    throw bad('data is not ABI bytes', error)
  }
  const words = (n: number): bigint[] => {
    if ((content.length - 2) / 2 !== 32 * n)
      throw bad(`update type ${type}: ${(content.length - 2) / 2} bytes, expected ${32 * n}`)
    return Array.from({ length: n }, (_, i) => BigInt(`0x${content.slice(2 + 64 * i, 66 + 64 * i)}`))
  }
  switch (type) {
    case UpdateType.batcher: {
      const [word] = words(1) as [bigint]
      if (word >> 160n !== 0n) throw bad('batcher address with a non-zero padding')
      return { ...config, batcherHash: `0x${word.toString(16).padStart(64, '0')}` }
    }
    case UpdateType.feeScalars: {
      const [, scalar] = words(2) as [bigint, bigint]
      if (scalar >> 248n !== 1n) throw bad(`fee scalar version ${scalar >> 248n} (only Ecotone's 1)`)
      return { ...config, baseFeeScalar: Number(scalar & 0xffffffffn), blobBaseFeeScalar: Number((scalar >> 32n) & 0xffffffffn) }
    }
    case UpdateType.gasLimit: {
      const [gasLimit] = words(1) as [bigint]
      if (gasLimit >= 2n ** 64n) throw bad('gas limit is not a uint64')
      return { ...config, gasLimit }
    }
    case UpdateType.operatorFeeParams: {
      const [params] = words(1) as [bigint]
      return {
        ...config,
        operatorFeeScalar: Number((params >> 64n) & 0xffffffffn),
        operatorFeeConstant: params & 0xffffffffffffffffn,
      }
    }
    default:
      if (type > UpdateType.last) throw bad(`unknown update type ${type}`)
      return config
  }
}

function bad(message: string, cause?: unknown) {
  return criticalError('DERIVE_BAD_L1_DATA', `malformed ConfigUpdate log: ${message}`, cause)
}
