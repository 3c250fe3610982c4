import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createChainCommon } from '../../chain/config.ts'
import { nativeCrypto } from '../../crypto/native.ts'

/**
 * How a worker rebuilds the main thread's `Common` (a `Common` does not cross threads): the L2's
 * chain config, or mainnet Cancun as the consensus fixtures use it.
 */
export type CommonSpec = { kind: 'chain'; chainId: bigint; name: string } | { kind: 'mainnet-cancun' }

export function commonFromSpec(spec: CommonSpec): Common {
  if (spec.kind === 'chain') return createChainCommon({ chainId: spec.chainId, name: spec.name })
  return new Common({ chain: Mainnet, hardfork: Hardfork.Cancun, customCrypto: nativeCrypto })
}
