import { pbkdf2Sync } from 'node:crypto'
import { HDKey } from 'viem/accounts'
import { bytesToHex } from '@ethereumjs/util'
import { keccak256, privateKeyToAddress } from '../crypto/native.ts'
import type { Hex } from '../primitives/state-diff.ts'

/** The mnemonic anvil, Hardhat and Foundry prefund: every wallet and tool can import its keys. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk'
export const DEV_ACCOUNT_COUNT = 20
export const DEV_ACCOUNT_BALANCE = 10_000n * 10n ** 18n

export interface DevAccount {
  address: Hex
  privateKey: Hex
}

/** BIP-39 seed (PBKDF2-HMAC-SHA512, 2048 rounds) → BIP-44 m/44'/60'/0'/0/i, as every wallet derives. */
export function deriveDevAccounts(count = DEV_ACCOUNT_COUNT, mnemonic = DEV_MNEMONIC): DevAccount[] {
  const seed = pbkdf2Sync(mnemonic.normalize('NFKD'), 'mnemonic', 2048, 64, 'sha512')
  const master = HDKey.fromMasterSeed(seed)
  const accounts: DevAccount[] = []
  for (let i = 0; i < count; i++) {
    const key = master.derive(`m/44'/60'/0'/0/${i}`).privateKey
    if (key === null) throw new Error(`cannot derive dev account ${i}`)
    accounts.push({ address: bytesToHex(privateKeyToAddress(key)) as Hex, privateKey: bytesToHex(key) as Hex })
  }
  return accounts
}

/**
 * The dev sequencer's signing key: public and deterministic on purpose, so replicas started with
 * `--dev` know the sequencer address without configuration. Never use it outside a dev chain.
 */
export const DEV_SEQUENCER_KEY = bytesToHex(keccak256(new TextEncoder().encode('megaeth-node dev sequencer key'))) as Hex
