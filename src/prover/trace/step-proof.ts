/**
 * The ABI of the step verifier's `proof` argument: `abi.encode(uint256 claimIndex, uint8 kind, bytes body)`,
 * the body's layout depending on the kind. Mirrored by contracts/L1/TxStepVerifier.sol.
 */
import { encodeAbiParameters } from 'viem'
import { contractTxStepAbi } from '../../bridge/generated/ContractTxStep.ts'
import type { Hex } from '../../primitives/state-diff.ts'
import type { ContractStepInput } from './contract-step-proof.ts'

/** What a step does, by its pre-state: open (absolute prestate), execute one transaction, or seal. */
export const StepKind = { OPEN: 0, TRANSACTION: 1, SEAL: 2, NONE: 3 } as const
export type StepKind = (typeof StepKind)[keyof typeof StepKind]

/** One storage write of a start-of-block system call, proven against the storage root the previous write left. */
export interface SlotWrite {
  slot: Hex
  proof: Hex[]
}

/** A system contract's writes: its account proof against the state root before them, then its slot writes. */
export interface SystemWrite {
  account: Hex
  accountProof: Hex[]
  slots: SlotWrite[]
}

export interface OpenBody {
  startingHeader: Hex
  startingPasserRoot: Hex
  disputedHeader: Hex
  disputedPasserRoot: Hex
  systemWrites: SystemWrite[]
}

export interface TransactionBody {
  header: Hex
  /** The transaction's canonical (typed) encoding, as in the transactions trie. */
  transaction: Hex
  /** Inclusion proof of key rlp(txIndex) under header.transactionsRoot. */
  transactionProof: Hex[]
  /** Exclusion proof of key rlp(txIndex) in the receipts trie so far (the receipt is inserted there). */
  receiptProof: Hex[]
  /** The block's logs bloom before the transaction (256 bytes; its hash is the pre-state's `logsBloomHash`). */
  bloom: Hex
  /**
   * Transaction 0, the L1-attributes deposit (L1AttributesStep's layout): the depositor's account proof, L1Block's,
   * then the proofs of L1Block's slots 0, 1, 2, 3, 4, 7, 8 in turn, the list of their removal siblings, and last the
   * origin's L1 header (RLP) as a one-entry list, or an empty list when the epoch rule already fails. Empty for every
   * other transaction.
   */
  accountProofs: Hex[][]
  /**
   * Every other transaction: ContractTxStep's input (`contract-step-proof.ts`); the verifier reads only its witness
   * (nodes, accounts, slots, block numbers) and overwrites the rest from the header and the pre-state.
   */
  step?: ContractStepInput
}

export interface SealBody {
  header: Hex
  /** Exclusion proof of key rlp(T) under header.transactionsRoot: the block has T transactions. */
  transactionExclusionProof: Hex[]
  /** Proof of the message passer (0x4200…0016) under the executed state root. */
  passerAccountProof: Hex[]
  /** The disputed output's message-passer storage root (checked against the output root). */
  disputedPasserRoot: Hex
}

const SYSTEM_WRITE = {
  type: 'tuple',
  components: [
    { name: 'account', type: 'address' },
    { name: 'accountProof', type: 'bytes[]' },
    { name: 'slots', type: 'bytes32[]' },
    { name: 'slotProofs', type: 'bytes[][]' },
  ],
} as const

export const OPEN_BODY = {
  type: 'tuple',
  components: [
    { name: 'startingHeader', type: 'bytes' },
    { name: 'startingPasserRoot', type: 'bytes32' },
    { name: 'disputedHeader', type: 'bytes' },
    { name: 'disputedPasserRoot', type: 'bytes32' },
    { name: 'systemWrites', type: 'bytes[]' },
  ],
} as const

export const TRANSACTION_BODY = {
  type: 'tuple',
  components: [
    { name: 'header', type: 'bytes' },
    { name: 'raw', type: 'bytes' },
    { name: 'txProof', type: 'bytes[]' },
    { name: 'receiptProof', type: 'bytes[]' },
    { name: 'bloom', type: 'bytes' },
    { name: 'accountProofs', type: 'bytes[][]' },
    { name: 'step', type: 'bytes' },
  ],
} as const

/** `ContractTxStep.StepInput`'s ABI type (the argument of `execute`). */
export const STEP_INPUT = contractTxStepAbi.find((item) => item.type === 'function' && item.name === 'execute')!.inputs[0]

export const SEAL_BODY = {
  type: 'tuple',
  components: [
    { name: 'header', type: 'bytes' },
    { name: 'transactionExclusionProof', type: 'bytes[]' },
    { name: 'passerAccountProof', type: 'bytes[]' },
    { name: 'disputedPasserRoot', type: 'bytes32' },
  ],
} as const

/** `abi.encode(OpenBody)`; each system write is itself `abi.encode(SystemWrite)` (see TxStepVerifier.OpenBody). */
export function encodeOpenBody(b: OpenBody): Hex {
  const systemWrites = b.systemWrites.map((w) =>
    encodeAbiParameters(
      [SYSTEM_WRITE],
      [
        {
          account: w.account,
          accountProof: w.accountProof,
          slots: w.slots.map((s) => s.slot),
          slotProofs: w.slots.map((s) => s.proof),
        },
      ],
    ),
  )
  return encodeAbiParameters([OPEN_BODY], [{ ...b, systemWrites }])
}

/** `abi.encode(TxBody)`. */
export function encodeTransactionBody(b: TransactionBody): Hex {
  return encodeAbiParameters(
    [TRANSACTION_BODY],
    [
      {
        header: b.header,
        raw: b.transaction,
        txProof: b.transactionProof,
        receiptProof: b.receiptProof,
        bloom: b.bloom,
        accountProofs: b.accountProofs,
        step: b.step === undefined ? '0x' : encodeAbiParameters([STEP_INPUT], [b.step] as never),
      },
    ],
  )
}

/** `abi.encode(SealBody)`. */
export function encodeSealBody(b: SealBody): Hex {
  return encodeAbiParameters([SEAL_BODY], [b])
}

/** The verifier's `proof` argument. */
export function encodeStepProof(claimIndex: bigint, kind: StepKind, body: Hex): Hex {
  return encodeAbiParameters([{ type: 'uint256' }, { type: 'uint8' }, { type: 'bytes' }], [claimIndex, kind, body])
}
