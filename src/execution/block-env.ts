import { createBlock, type Block } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { hexToBytes } from '@ethereumjs/util'
import type { Hex } from '../primitives/state-diff.ts'

/** The block context transactions execute in: what NUMBER, TIMESTAMP, BASEFEE, COINBASE … return. */
export interface BlockEnv {
  number: bigint
  timestamp: bigint
  coinbase: Hex
  baseFeePerGas: bigint
  gasLimit: bigint
  prevRandao: Uint8Array
  excessBlobGas: bigint
  parentBeaconBlockRoot: Uint8Array
}

/** ethereumjs wants a `Block` for `runTx`; only its header fields are read. */
export function blockForEnv(env: BlockEnv, common: Common): Block {
  return createBlock(
    {
      header: {
        number: env.number,
        timestamp: env.timestamp,
        coinbase: hexToBytes(env.coinbase),
        baseFeePerGas: env.baseFeePerGas,
        gasLimit: env.gasLimit,
        mixHash: env.prevRandao,
        excessBlobGas: env.excessBlobGas,
        blobGasUsed: 0n,
        parentBeaconBlockRoot: env.parentBeaconBlockRoot,
        difficulty: 0n,
      },
    },
    { common, skipConsensusFormatValidation: true },
  )
}
