import { equalsBytes, hexToBytes } from '@ethereumjs/util'
import type { Hex } from '../../primitives/state-diff.ts'
import { NodeError } from '../../primitives/errors.ts'
import type { AccountProof } from '../../trie/index.ts'
import type { ThreadedMerkleizer } from '../../execution/merkleizer/merkleizer.ts'
import { HISTORY_SLACK_BLOCKS } from '../../execution/merkleizer/history.ts'
import type { StateHistory } from '../../state/state-history.ts'
import type { ChainView } from '../../storage/chain-view.ts'
import { invalidInput, resourceUnavailable } from '../errors.ts'
import { toQuantity } from '../params.ts'
import type { EthBackend } from './backend.ts'

/** What serving `eth_getProof` takes: the chain's headers and the merkleizer's trie and its history. */
export interface StateProofView {
  readonly chain: Pick<ChainView, 'head' | 'blockByNumber'> & { readonly state: Pick<StateHistory, 'readyFor' | 'oldestBlock'> }
  readonly merkleizer: Pick<ThreadedMerkleizer, 'getProofAt'>
}

/** The state of a sealed block is older than the proof history the merkleizer keeps (`--state.history`). */
export class ProofStateUnavailableError extends NodeError<'PROOF_STATE_UNAVAILABLE', { block: bigint; oldest: bigint }> {
  override readonly name = 'ProofStateUnavailableError'
  constructor(block: bigint, oldest: bigint) {
    super(
      'PROOF_STATE_UNAVAILABLE',
      `historical state not available for block ${block}: proofs are served for blocks ${oldest} to the head (the node keeps the state of the last --state.history blocks; raise --state.history to keep more)`,
      { data: { block, oldest } },
    )
  }
}

/**
 * EIP-1186 proof at sealed block `blockNumber`, undefined when no such block is sealed; throws
 * `ProofStateUnavailableError` past the retained history. The proof is asked for by the block's
 * state root, not its number, so it is right whichever block the merkleizer thread has reached
 * (it may already hold the next block's trie while that block's seal commits).
 */
export async function proofAtBlock(
  view: StateProofView,
  blockNumber: bigint,
  address: Hex,
  slots: Hex[],
): Promise<AccountProof | undefined> {
  const head = view.chain.head
  if (blockNumber > head.header.number) return undefined
  const block = blockNumber === head.header.number ? head : await view.chain.blockByNumber(blockNumber)
  if (block === undefined) return undefined
  // The trie's in-memory history starts empty at a restart; the flat state's window survives it (its reverse
  // diffs are on disk), and so do a past root's trie nodes (`<datadir>/trie` never deletes one): within that
  // window the merkleizer may prove a root its history lacks from the node store. A snapshot-synced replica
  // has neither before its pivot.
  await view.chain.state.readyFor(blockNumber)
  const result = await view.merkleizer.getProofAt(
    block.header.stateRoot,
    hexToBytes(address),
    slots.map((s) => hexToBytes(s)),
    blockNumber >= view.chain.state.oldestBlock,
  )
  if (result.proof !== undefined) return result.proof
  const fromHistory = await oldestProvable(view.chain, head.header.number, result)
  const fromStore = view.chain.state.oldestBlock
  throw new ProofStateUnavailableError(blockNumber, fromStore < fromHistory ? fromStore : fromHistory)
}

/**
 * The block whose root the oldest history record starts from. The thread holds `blocks` records
 * back from the block it is on, which is the head or up to `HISTORY_SLACK_BLOCKS` past it: a few
 * headers to look at, lowest first (a root that recurs is served for all of its blocks).
 */
async function oldestProvable(
  chain: StateProofView['chain'],
  head: bigint,
  history: { oldestRoot: Uint8Array; blocks: number },
): Promise<bigint> {
  const from = head - BigInt(history.blocks)
  for (let n = from < 0n ? 0n : from; n <= from + BigInt(HISTORY_SLACK_BLOCKS) && n <= head; n++) {
    const block = n === head ? chain.head : await chain.blockByNumber(n)
    if (block !== undefined && equalsBytes(block.header.stateRoot, history.oldestRoot)) return n
  }
  // Not found only when the chain moved under us: the head is always provable.
  return head
}

/** `backend.proof`, its misses turned into JSON-RPC errors. */
export async function provenAccount(backend: EthBackend, number: bigint, address: Hex, keys: Hex[]): Promise<AccountProof> {
  let proof: AccountProof | undefined
  try {
    proof = await backend.proof(number, address, keys)
  } catch (error) {
    // geth answers a pruned state with -32000 ("missing trie node" / "historical state not available").
    if (error instanceof ProofStateUnavailableError)
      throw invalidInput(error.message, { oldestBlock: toQuantity(error.data.oldest) })
    throw error
  }
  if (proof === undefined)
    throw resourceUnavailable(
      `block ${number} is not sealed yet: proofs are served for sealed blocks (the newest is ${backend.chain.head.header.number})`,
    )
  return proof
}
