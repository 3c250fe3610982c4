/** Deterministic bench accounts: key i = keccak256("megaeth-bench/<set>/<i>"). */
import { bytesToHex } from '@ethereumjs/util'
import { deriveDevAccounts, type DevAccount } from '../../src/chain/dev.ts'
import { keccak256, privateKeyToAddress } from '../../src/crypto/native.ts'

export interface BenchAccount {
  index: number
  privateKey: Uint8Array
  address: Uint8Array
  addressHex: string
}

const enc = new TextEncoder()

export function benchAccount(set: string, index: number): BenchAccount {
  const privateKey = keccak256(enc.encode(`megaeth-bench/${set}/${index}`))
  const address = privateKeyToAddress(privateKey)
  return { index, privateKey, address, addressHex: bytesToHex(address) }
}

export function benchAccounts(set: string, from: number, count: number): BenchAccount[] {
  const out: BenchAccount[] = []
  for (let i = from; i < from + count; i++) out.push(benchAccount(set, i))
  return out
}

let dev: DevAccount[] | undefined
/** The 20 prefunded accounts of the test mnemonic (both servers fund them). */
export function devAccounts(): BenchAccount[] {
  dev ??= deriveDevAccounts(20)
  return dev.map((a, index) => {
    const privateKey = Uint8Array.from(Buffer.from(a.privateKey.slice(2), 'hex'))
    return { index, privateKey, address: Uint8Array.from(Buffer.from(a.address.slice(2), 'hex')), addressHex: a.address }
  })
}
