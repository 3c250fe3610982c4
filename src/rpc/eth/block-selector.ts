import type { SealedBlock } from '../../chain/block.ts'
import type { BlockEnv } from '../../execution/block-env.ts'
import { StateUnavailableError, type PinnedState } from '../../state/state-history.ts'
import type { StateReader } from '../../state/state-reader.ts'
import type { ChainView } from '../../storage/chain-view.ts'
import { invalidParams, resourceNotFound, resourceUnavailable } from '../errors.ts'
import type { BlockSelector } from '../params.ts'
import type { EthBackend } from './backend.ts'
import { unsealedBlockNumber } from './format.ts'

/**
 * `latest`/`pending` name the newest mini-block for state reads (MegaETH's realtime rule) but the
 * newest sealed EVM block for block reads; `safe`/`finalized` are the newest blocks derived from L1
 * and from finalized L1 (the sealed head on a chain without L1, which has nothing else to wait for).
 */
export async function resolveSealedBlock(chain: ChainView, selector: BlockSelector): Promise<SealedBlock | undefined> {
  switch (selector.kind) {
    case 'tag':
      switch (selector.tag) {
        case 'earliest':
          return chain.blockByNumber(0n)
        case 'safe':
          return chain.blockByNumber(chain.safeNumber)
        case 'finalized':
          return chain.blockByNumber(chain.finalizedNumber)
        default:
          return chain.head
      }
    case 'number':
      return chain.blockByNumber(selector.number)
    case 'hash': {
      // The placeholder hash of a realtime receipt names its block by number (see format.ts).
      const placeholder = unsealedBlockNumber(selector.hash)
      const block = placeholder === undefined ? await chain.blockByHash(selector.hash) : await chain.blockByNumber(placeholder)
      if (block === undefined && selector.requireCanonical) throw resourceNotFound(`block ${selector.hash} not found`)
      return block
    }
  }
}

/** The state a read at `selector` sees, and the block context an eth_call there runs in. */
export async function resolveState(backend: EthBackend, selector: BlockSelector): Promise<{ state: StateReader; env: BlockEnv }> {
  const chain = backend.chain
  const open = await stateOpener(backend, selector, (number) =>
    number === undefined ? chain.latestState() : chain.stateAtBlock(number),
  )
  return open()
}

/**
 * `resolveState` for a read that outlives the moment (an eth_call in a worker), in two steps: the
 * block is looked up now; the returned function pins the state (it stays as it is while mini-blocks
 * commit; `state.release()` when done) when the call starts running.
 */
export function pinnedStateOpener(
  backend: EthBackend,
  selector: BlockSelector,
): Promise<() => { state: PinnedState; env: BlockEnv }> {
  return stateOpener(backend, selector, (number) => backend.chain.pinState(number))
}

/** `stateAt(undefined)`: the newest mini-block's state; `stateAt(n)`: sealed block n's. */
async function stateOpener<S extends StateReader>(
  backend: EthBackend,
  selector: BlockSelector,
  stateAt: (number: bigint | undefined) => S,
): Promise<() => { state: S; env: BlockEnv }> {
  const chain = backend.chain
  if (selector.kind === 'tag' && (selector.tag === 'latest' || selector.tag === 'pending')) {
    return () => {
      const head = chain.head
      return {
        // A frozen replica's `latest` is its freeze point, which can fall out of the retained history.
        state: available(() => stateAt(undefined)),
        env: {
          number: chain.pendingBlockNumber,
          timestamp: chain.latestMiniBlock?.blockTimestamp ?? head.header.timestamp + 1n,
          coinbase: backend.config.feeRecipient,
          baseFeePerGas: backend.pendingBaseFee(),
          gasLimit: backend.config.blockGasLimit,
          prevRandao: head.header.mixHash,
          excessBlobGas: 0n,
          parentBeaconBlockRoot: new Uint8Array(32),
        },
      }
    }
  }
  const block = await resolveSealedBlock(chain, selector)
  if (block === undefined) throw resourceNotFound(`header not found`)
  const h = block.header
  // After a restart, the undo layers of the blocks since `h` may still be on disk only.
  await chain.state.readyFor(h.number)
  const env: BlockEnv = {
    number: h.number,
    timestamp: h.timestamp,
    coinbase: h.coinbase.toString() as `0x${string}`,
    baseFeePerGas: h.baseFeePerGas ?? 0n,
    gasLimit: h.gasLimit,
    prevRandao: h.mixHash,
    excessBlobGas: 0n,
    parentBeaconBlockRoot: new Uint8Array(32),
  }
  return () => ({ state: available(() => stateAt(h.number)), env })
}

/** `open()`, with state past the retained history answered as -32002 (resource unavailable), not an internal error. */
function available<S>(open: () => S): S {
  try {
    return open()
  } catch (error) {
    if (error instanceof StateUnavailableError) throw resourceUnavailable(error.message)
    throw error
  }
}

export function blockNumberOf(chain: ChainView, selector: BlockSelector, index: number): bigint {
  if (selector.kind === 'number') return selector.number
  if (selector.kind === 'tag')
    return selector.tag === 'earliest' ? 0n : selector.tag === 'pending' ? chain.pendingBlockNumber : chain.head.header.number
  throw invalidParams(`invalid argument ${index}: a block hash is not allowed here`)
}
