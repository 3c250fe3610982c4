import { KECCAK256_RLP, equalsBytes, hexToBytes } from '@ethereumjs/util'
import type { AccountState, Hex } from '../primitives/state-diff.ts'
import type { StateTrie, TrieAccount } from '../trie/index.ts'
import type { StateReader } from '../state/state-reader.ts'
import { BlockVerificationError, witnessReadError } from './errors.ts'

/**
 * The parent state of a block as its witness proves it: reads walk a partial trie opened at the
 * parent's state root. A read the witness cannot answer throws, and the first such failure is kept
 * (`failure`), because the EVM may swallow an exception thrown mid-call and carry on: the verifier
 * checks `failure` after execution so a missing node can never pass as "empty".
 */
export class WitnessState implements StateReader {
  private readonly accounts = new Map<Hex, TrieAccount | null>()
  private firstFailure: unknown

  constructor(
    private readonly trie: StateTrie,
    private readonly codes: ReadonlyMap<Hex, Uint8Array>,
  ) {}

  /** The first read the witness could not answer, if any. */
  get failure(): unknown {
    return this.firstFailure
  }

  getAccount(address: Hex): AccountState | undefined {
    return this.trieAccount(address)?.account
  }

  getStorage(address: Hex, slot: Hex): Uint8Array {
    return this.guard(() => this.trie.storageValue(hexToBytes(address), hexToBytes(slot)), `read slot ${slot} of ${address}`)
  }

  hasStorage(address: Hex): boolean {
    const account = this.trieAccount(address)
    return account !== undefined && !equalsBytes(account.storageRoot, KECCAK256_RLP)
  }

  getCode(codeHash: Hex): Uint8Array | undefined {
    const code = this.codes.get(codeHash)
    if (code === undefined)
      throw this.fail(new BlockVerificationError('WITNESS_MISSING_CODE', `witness lacks the bytecode with hash ${codeHash}`))
    return code
  }

  private trieAccount(address: Hex): TrieAccount | undefined {
    const cached = this.accounts.get(address)
    if (cached !== undefined) return cached ?? undefined
    const account = this.guard(() => this.trie.account(hexToBytes(address)), `read account ${address}`)
    this.accounts.set(address, account ?? null)
    return account
  }

  private guard<T>(read: () => T, what: string): T {
    try {
      return read()
    } catch (error) {
      throw this.fail(witnessReadError(error, what))
    }
  }

  private fail(error: unknown): unknown {
    this.firstFailure ??= error
    return error
  }
}
