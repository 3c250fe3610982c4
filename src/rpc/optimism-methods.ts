/**
 * op-node's `optimism_*` namespace, what OP tooling (op-proposer, viem's op-stack actions, dashboards) asks a
 * rollup node: the rollup config, the output root at a block, the sync status. JSON shapes are op-node's
 * (`eth.OutputResponse`, `eth.SyncStatus`, `eth.L1BlockRef` / `eth.L2BlockRef` with uint64s as JSON numbers).
 */
import { bytesToHex, concatBytes, hexToBytes, KECCAK256_RLP } from '@ethereumjs/util'
import type { SealedBlock } from '../chain/block.ts'
import type { BlockId, L1BlockRef } from '../chain/l1-origin.ts'
import { blockL1Info } from '../chain/l2-block-attributes.ts'
import { type RollupConfig, rollupConfigToJson } from '../chain/rollup-config.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { StateUnavailableError } from '../state/state-history.ts'
import type { ChainView } from '../storage/chain-view.ts'
import { StateTrie } from '../trie/index.ts'
import { keccak256 } from '../crypto/native.ts'
import { RpcError, RpcErrorCode, resourceUnavailable } from './errors.ts'
import { expectParams, parseQuantity } from './params.ts'
import type { MethodRegistry } from './registry.ts'

/** `L2ToL1MessagePasser`: its storage root is part of the output root. */
export const MESSAGE_PASSER_ADDRESS: Hex = '0x4200000000000000000000000000000000000016'
const ZERO_HASH = `0x${'00'.repeat(32)}` as Hex

/** The L1 refs the node follows (the L1 watcher has these getters). */
export interface L1HeadSource {
  readonly head: L1BlockRef | undefined
  readonly safe: L1BlockRef | undefined
  readonly finalized: L1BlockRef | undefined
}

/**
 * The L2 safe and finalized heads and the L1 block derivation has reached; derivation provides it. A node without
 * derivation passes one that answers genesis.
 */
export interface SafeHeadSource {
  safe(): bigint | undefined
  finalized(): bigint | undefined
  currentL1(): L1BlockRef | undefined
}

export interface OptimismRpcBackend {
  readonly chain: Pick<ChainView, 'head' | 'blockByNumber' | 'state'>
  /** undefined: the node runs without L1 (only `optimism_outputAtBlock` answers then). */
  readonly rollup: RollupConfig | undefined
  readonly l1: L1HeadSource | undefined
  readonly safeHead: SafeHeadSource
}

export function registerOptimismMethods(registry: MethodRegistry, backend: OptimismRpcBackend): void {
  const requireL1 = (method: string): { rollup: RollupConfig; l1: L1HeadSource } => {
    if (backend.rollup === undefined || backend.l1 === undefined)
      throw new RpcError(RpcErrorCode.MethodNotFound, `${method}: this node runs without L1 (no rollup config)`)
    return { rollup: backend.rollup, l1: backend.l1 }
  }
  registry.registerAll({
    optimism_rollupConfig: (params) => {
      expectParams(params, 0)
      return rollupConfigToJson(requireL1('optimism_rollupConfig').rollup)
    },
    optimism_syncStatus: async (params) => {
      expectParams(params, 0)
      requireL1('optimism_syncStatus')
      return syncStatus(backend)
    },
    optimism_outputAtBlock: async (params) => {
      const [number] = expectParams(params, 1)
      const blockNumber = parseQuantity(number, 0, { maxBits: 64 })
      const block = await backend.chain.blockByNumber(blockNumber)
      if (block === undefined || blockNumber > backend.chain.head.header.number)
        throw new RpcError(RpcErrorCode.ResourceNotFound, `block ${blockNumber} is not sealed yet`)
      let withdrawalStorageRoot: Uint8Array
      await backend.chain.state.readyFor(blockNumber)
      try {
        withdrawalStorageRoot = storageRoot(backend.chain.state.storageAt(blockNumber, MESSAGE_PASSER_ADDRESS))
      } catch (error) {
        if (error instanceof StateUnavailableError) throw resourceUnavailable(error.message)
        throw error
      }
      const stateRoot = block.header.stateRoot
      return {
        version: ZERO_HASH,
        outputRoot: bytesToHex(outputRootV0(stateRoot, withdrawalStorageRoot, hexToBytes(block.hash))),
        blockRef: l2BlockRef(block, backend.rollup),
        withdrawalStorageRoot: bytesToHex(withdrawalStorageRoot),
        stateRoot: bytesToHex(stateRoot),
        syncStatus: await syncStatus(backend),
      }
    },
  })
}

/**
 * The v0 output of a sealed block and what opens it: the block and the message passer's storage root at it. Throws
 * `StateUnavailableError` when the block's state is past the state history.
 */
export async function blockOutput(
  chain: Pick<ChainView, 'blockByNumber' | 'state'>,
  number: bigint,
): Promise<{ block: SealedBlock; root: Uint8Array; messagePasserStorageRoot: Uint8Array } | undefined> {
  const block = await chain.blockByNumber(number)
  if (block === undefined) return undefined
  await chain.state.readyFor(number)
  const messagePasserStorageRoot = storageRoot(chain.state.storageAt(number, MESSAGE_PASSER_ADDRESS))
  return {
    block,
    root: outputRootV0(block.header.stateRoot, messagePasserStorageRoot, hexToBytes(block.hash)),
    messagePasserStorageRoot,
  }
}

/** OP's output root v0: `keccak256(bytes32(0) ‖ stateRoot ‖ messagePasserStorageRoot ‖ blockHash)`. */
export function outputRootV0(stateRoot: Uint8Array, messagePasserStorageRoot: Uint8Array, blockHash: Uint8Array): Uint8Array {
  return keccak256(concatBytes(new Uint8Array(32), stateRoot, messagePasserStorageRoot, blockHash))
}

/**
 * The message passer's storage root at sealed block `number` (an output root's second part; the proposer publishes
 * it with the header). Throws `StateUnavailableError` past the kept history.
 */
export function messagePasserStorageRoot(chain: Pick<ChainView, 'state'>, number: bigint): Uint8Array {
  return storageRoot(chain.state.storageAt(number, MESSAGE_PASSER_ADDRESS))
}

/** The secure-trie root of one account's storage (slot → minimal big-endian value). */
function storageRoot(slots: Map<Hex, Uint8Array>): Uint8Array {
  if (slots.size === 0) return KECCAK256_RLP
  const address = hexToBytes(MESSAGE_PASSER_ADDRESS)
  const trie = StateTrie.fromAccounts([
    {
      address,
      account: { nonce: 0n, balance: 0n, codeHash: new Uint8Array(32) },
      storage: [...slots].map(([slot, value]): [Uint8Array, Uint8Array] => [hexToBytes(slot), value]),
    },
  ])
  return trie.storageRoot(address)
}

async function syncStatus(backend: OptimismRpcBackend): Promise<Record<string, unknown>> {
  const { chain, l1, safeHead, rollup } = backend
  const at = async (number: bigint | undefined): Promise<Record<string, unknown>> => {
    const block = number === undefined ? undefined : await chain.blockByNumber(number)
    return block === undefined ? l2BlockRef(undefined, rollup) : l2BlockRef(block, rollup)
  }
  const unsafe = l2BlockRef(chain.head, rollup)
  const safe = await at(safeHead.safe())
  const finalized = await at(safeHead.finalized())
  const currentL1 = l1BlockRefJson(safeHead.currentL1())
  return {
    current_l1: currentL1,
    current_l1_finalized: l1BlockRefJson(l1?.finalized),
    head_l1: l1BlockRefJson(l1?.head),
    safe_l1: l1BlockRefJson(l1?.safe),
    finalized_l1: l1BlockRefJson(l1?.finalized),
    unsafe_l2: unsafe,
    safe_l2: safe,
    finalized_l2: finalized,
    pending_safe_l2: safe,
    cross_unsafe_l2: unsafe,
    local_safe_l2: safe,
  }
}

/** op-node's `L1BlockRef` JSON; the zero ref for an unknown one, as op-node reports it. */
export function l1BlockRefJson(ref: L1BlockRef | undefined): Record<string, unknown> {
  return {
    hash: ref?.hash ?? ZERO_HASH,
    number: Number(ref?.number ?? 0n),
    parentHash: ref?.parentHash ?? ZERO_HASH,
    timestamp: Number(ref?.timestamp ?? 0n),
  }
}

/**
 * op-node's `L2BlockRef` JSON. The L1 origin and sequence number are read from the block's L1-attributes deposit;
 * genesis (and a block of a chain without L1) has none: genesis takes the rollup's genesis L1 block, sequence 0.
 */
export function l2BlockRef(block: SealedBlock | undefined, rollup: RollupConfig | undefined): Record<string, unknown> {
  if (block === undefined) return { ...l1BlockRefJson(undefined), l1origin: { hash: ZERO_HASH, number: 0 }, sequenceNumber: 0 }
  const info = blockL1Info(block.transactions)
  let origin: BlockId = { hash: ZERO_HASH, number: 0n }
  if (info !== undefined) origin = { hash: info.hash, number: info.number }
  else if (block.header.number === 0n && rollup !== undefined) origin = rollup.genesis.l1
  return {
    hash: block.hash,
    number: Number(block.header.number),
    parentHash: bytesToHex(block.header.parentHash),
    timestamp: Number(block.header.timestamp),
    l1origin: { hash: origin.hash, number: Number(origin.number) },
    sequenceNumber: Number(info?.sequenceNumber ?? 0n),
  }
}
