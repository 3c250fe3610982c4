/**
 * What the proposer needs of the L2 chain, injected by the node (the bridge layer cannot import derivation): the
 * safe head — the newest block derived from L1 — and the output of a sealed block with its preimage.
 */
import type { Address, Hex } from 'viem'

export interface ProposedOutput {
  /** OP's v0 output root of the block. */
  root: Hex
  /** The block header, RLP-encoded (the registry's preimage; keccak of it is the block hash). */
  header: Hex
  messagePasserStorageRoot: Hex
}

export interface ProposerChain {
  /** The newest L2 block derived from L1: only such a block is proposed, never an unsafe one. */
  safeHead(): bigint
  /** The output of sealed block `n`, or undefined when its state is no longer kept (then it is not proposed). */
  output(n: bigint): Promise<ProposedOutput | undefined>
}

/** One of the proposer's games as L1 tells it. */
export interface OwnGame {
  address: Address
  index: bigint
  gameType: number
  l2Block: bigint
  rootClaim: Hex
  bond: bigint
}

export interface ProposerStatus {
  enabled: boolean
  /** Why not, when disabled. */
  reason?: string
  address?: Address
  latestProposed?: bigint
  gamesInProgress?: number
  failure?: string
}

/** The running proposer, or its disabled twin: what the node starts, stops and reports. */
export interface ProposerService {
  start(): void
  stop(): Promise<void>
  status(): ProposerStatus
}

/** The proposer turned off (`--proposer.enabled=false`, or no dispute contracts on L1): it says why and does nothing. */
export class DisabledProposer implements ProposerService {
  constructor(private readonly reason: string) {}
  start(): void {}
  async stop(): Promise<void> {}
  status(): ProposerStatus {
    return { enabled: false, reason: this.reason }
  }
}
