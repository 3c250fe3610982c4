import { hexToBytes } from '@ethereumjs/util'
import { KECCAK256_RLP, equalsBytes } from '@ethereumjs/util'
import type { AccountState, Hex } from '../../primitives/state-diff.ts'
import type { StateReader } from '../../state/state-reader.ts'
import type { StateTrie } from '../../trie/index.ts'
import { TraceError } from './errors.ts'

/**
 * The executor's view of a partial state trie that the trace advances one transaction at a time:
 * every read goes to the trie as it is now (no cache, unlike the stateless verifier's `WitnessState`,
 * whose trie never changes under it). Bytecode comes from the witness plus what earlier transactions
 * deployed (`addCodes`).
 */
export class TrieStateReader implements StateReader {
  private readonly codes: Map<Hex, Uint8Array>

  constructor(
    private readonly trie: StateTrie,
    codes: ReadonlyMap<Hex, Uint8Array>,
  ) {
    this.codes = new Map(codes)
  }

  addCodes(codes: ReadonlyMap<Hex, Uint8Array>): void {
    for (const [hash, code] of codes) this.codes.set(hash, code)
  }

  getAccount(address: Hex): AccountState | undefined {
    return this.trie.account(hexToBytes(address))?.account
  }

  getStorage(address: Hex, slot: Hex): Uint8Array {
    return this.trie.storageValue(hexToBytes(address), hexToBytes(slot))
  }

  hasStorage(address: Hex): boolean {
    const account = this.trie.account(hexToBytes(address))
    return account !== undefined && !equalsBytes(account.storageRoot, KECCAK256_RLP)
  }

  getCode(codeHash: Hex): Uint8Array | undefined {
    const code = this.codes.get(codeHash)
    if (code === undefined)
      throw new TraceError('TRACE_MISSING_CODE', `the block's witness lacks the bytecode with hash ${codeHash}`)
    return code
  }
}
