import { bytesToHex } from '@ethereumjs/util'
import type { AccountDiff, Hex, StateDiff } from './state-diff.ts'
import { CodecError, asBytes, asList, bytesToBigInt, type RlpInput, type RlpValue } from './rlp-fields.ts'

/**
 * RLP: [ [address, account ([nonce, balance, codeHash] | []), cleared, [[slot, value]…]]…, [[codeHash, code]…] ].
 * Deterministic order (insertion order of the maps), so a signed mini-block re-encodes to the same bytes.
 */
export function encodeStateDiff(diff: StateDiff): RlpInput {
  const accounts: RlpInput[] = []
  for (const [address, change] of diff.accounts) {
    const account = change.account === null ? [] : [change.account.nonce, change.account.balance, change.account.codeHash]
    const storage: RlpInput[] = []
    for (const [slot, value] of change.storage) storage.push([slot, value])
    accounts.push([address, account, change.storageCleared ? 1 : 0, storage])
  }
  const codes: RlpInput[] = []
  for (const [hash, code] of diff.codes) codes.push([hash, code])
  return [accounts, codes]
}

export function decodeStateDiff(value: RlpValue): StateDiff {
  const [accountsField, codesField] = asList(value, 2, 'state diff')
  const accounts = new Map<Hex, AccountDiff>()
  for (const entry of asList(accountsField, undefined, 'state diff accounts')) {
    const [addressField, accountField, clearedField, storageField] = asList(entry, 4, 'account diff')
    const address = hexOf(asBytes(addressField, 'address', 20))
    const accountParts = asList(accountField, undefined, 'account')
    if (accountParts.length !== 0 && accountParts.length !== 3)
      throw new CodecError('state diff: account must have 0 or 3 fields')
    const storage = new Map<Hex, Uint8Array>()
    for (const slotEntry of asList(storageField, undefined, 'storage')) {
      const [slot, slotValue] = asList(slotEntry, 2, 'storage entry')
      storage.set(hexOf(asBytes(slot, 'slot', 32)), asBytes(slotValue, 'slot value'))
    }
    accounts.set(address, {
      account:
        accountParts.length === 0
          ? null
          : {
              nonce: bytesToBigInt(asBytes(accountParts[0], 'nonce')),
              balance: bytesToBigInt(asBytes(accountParts[1], 'balance')),
              codeHash: asBytes(accountParts[2], 'code hash', 32),
            },
      storageCleared: asBytes(clearedField, 'cleared flag').length > 0,
      storage,
    })
  }
  const codes = new Map<Hex, Uint8Array>()
  for (const entry of asList(codesField, undefined, 'codes')) {
    const [hash, code] = asList(entry, 2, 'code entry')
    codes.set(hexOf(asBytes(hash, 'code hash', 32)), asBytes(code, 'code'))
  }
  return { accounts, codes }
}

function hexOf(bytes: Uint8Array): Hex {
  return bytesToHex(bytes) as Hex
}
