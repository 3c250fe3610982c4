/**
 * Big-state genesis files for benchmarks: the dev chain's genesis (chain id, gas limit, base fee,
 * the 20 test-mnemonic accounts, the predeploys) plus many funded bench accounts, written as a
 * geth-style genesis.json that `megaeth-node --genesis=<file>` reads.
 *
 * Deriving 100,000 addresses costs ~4 s of secp256k1, so the address lists are cached under the
 * temp directory (keyed by set and count); the genesis itself is rebuilt from `devGenesis()` every
 * time, so it always follows the node's current dev chain.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { devGenesis, type GenesisFile } from '../../src/chain/genesis.ts'
import { benchAccount } from '../load/keys.ts'

const CACHE_DIR = join(tmpdir(), 'megaeth-bench-cache')

/** Addresses (lower-case hex) of bench accounts `set` [0, count), cached on disk. */
export function benchAddresses(set: string, count: number): string[] {
  mkdirSync(CACHE_DIR, { recursive: true })
  const file = join(CACHE_DIR, `addresses-${set.replace(/[^a-z0-9-]/gi, '_')}-${count}.json`)
  if (existsSync(file)) {
    try {
      const cached = JSON.parse(readFileSync(file, 'utf8')) as string[]
      // Spot-check the cache against a fresh derivation (a stale or foreign file must not slip in).
      if (cached.length === count && [0, count - 1].every((i) => cached[i] === benchAccount(set, i).addressHex.toLowerCase()))
        return cached
    } catch {
      /* rebuilt below */
    }
  }
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push(benchAccount(set, i).addressHex.toLowerCase())
  writeFileSync(file, JSON.stringify(out))
  return out
}

export interface AccountGroup {
  set: string
  count: number
  balanceWei: bigint
}

/** The dev genesis plus every account of `groups`; returns the file's path and the account count. */
export function writeBigGenesis(path: string, groups: AccountGroup[]): { path: string; accounts: number; devAccounts: number } {
  const genesis: GenesisFile = devGenesis()
  const devAccounts = Object.keys(genesis.alloc).length
  let accounts = 0
  for (const g of groups) {
    const balance = `0x${g.balanceWei.toString(16)}`
    for (const address of benchAddresses(g.set, g.count)) {
      genesis.alloc[address] = { balance }
      accounts++
    }
  }
  writeFileSync(path, JSON.stringify(genesis))
  return { path, accounts, devAccounts }
}
