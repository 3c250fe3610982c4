import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
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
