import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { paramsTx, type TxOptions } from '@ethereumjs/tx'
import type { KZG } from '@ethereumjs/util'
import { createChainCommon } from '../../chain/config.ts'
import { nativeCrypto } from '../crypto.ts'

/**
 * How a worker rebuilds the main thread's `Common` (a `Common` does not cross threads): the L2's
 * chain config, or mainnet Cancun as the consensus fixtures use it.
 */
export type CommonSpec = { kind: 'chain'; chainId: bigint; name: string } | { kind: 'mainnet-cancun' }

/** Block bodies carry blob txs without sidecars; ethereumjs wants a KZG object to decode them anyway. */
const sidecarFreeKzg: KZG = new Proxy({} as KZG, {
  get: (_, method) => () => {
    throw new Error(`KZG ${String(method)}: blob sidecars are not part of block bodies and are not supported`)
  },
})

export function commonFromSpec(spec: CommonSpec): Common {
  if (spec.kind === 'chain') return createChainCommon({ chainId: spec.chainId, name: spec.name })
  return new Common({ chain: Mainnet, hardfork: Hardfork.Cancun, customCrypto: { ...nativeCrypto, kzg: sidecarFreeKzg } })
}

/**
 * Tx options for a worker's decoding: every ethereumjs tx constructor copies its Common and rebuilds
 * the params cache (`updateParams`), ~15 µs per transaction — half of a transfer's execution. The
 * worker's transactions share one Common with the tx params merged in once: its `copy` returns
 * itself and `updateParams` is a no-op. (Transactions only read their Common; this one is private
 * to the decoder.)
 */
export function fastTxOptions(common: Common): TxOptions {
  const shared = common.copy()
  shared.updateParams(paramsTx)
  Object.defineProperty(shared, 'copy', { value: () => shared })
  Object.defineProperty(shared, 'updateParams', { value: () => shared })
  return { common: shared, params: {}, freeze: true }
}
