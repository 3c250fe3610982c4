import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Hex } from 'viem'
import { signTransaction } from 'viem/accounts'
import type { Rng } from './rng.ts'

/** The anvil/Hardhat dev key #0: test signatures only. */
export const TEST_KEY: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'

export type TxKind = 'legacy-unprotected' | 'legacy' | 'eip2930' | 'eip1559' | 'eip7702' | 'create'

/** A signed transaction of `kind` for `chainId`, with fields drawn from `r` (sizes across RLP's boundaries). */
export async function signedTx(kind: TxKind, chainId: number, r: Rng): Promise<Uint8Array> {
  const to = bytesToHex(r.bytes(20)) as Hex
  const data = bytesToHex(r.bytes(r.pick([0, 1, 4, 36, 100, 300]))) as Hex
  const nonce = r.pick([0, 1, 127, 128, 65_535, 2 ** 40])
  const gas = BigInt(r.pick([21_000, 100_000, 30_000_000]))
  const value = r.pick([0n, 1n, 10n ** 18n, 2n ** 200n])
  const accessList =
    r.next() < 0.5 ? [] : [{ address: bytesToHex(r.bytes(20)) as Hex, storageKeys: [bytesToHex(r.bytes(32)) as Hex] }]
  const fees = { maxFeePerGas: 2n * 10n ** 9n, maxPriorityFeePerGas: BigInt(r.int(1000)) }
  switch (kind) {
    case 'legacy-unprotected':
      return raw(
        await signTransaction({
          privateKey: TEST_KEY,
          transaction: { type: 'legacy', to, data, nonce, gas, value, gasPrice: 10n ** 9n },
        }),
      )
    case 'legacy':
      return raw(
        await signTransaction({
          privateKey: TEST_KEY,
          transaction: { type: 'legacy', chainId, to, data, nonce, gas, value, gasPrice: 10n ** 9n },
        }),
      )
    case 'eip2930':
      return raw(
        await signTransaction({
          privateKey: TEST_KEY,
          transaction: { type: 'eip2930', chainId, to, data, nonce, gas, value, gasPrice: 3n, accessList },
        }),
      )
    case 'eip1559':
      return raw(
        await signTransaction({
          privateKey: TEST_KEY,
          transaction: { type: 'eip1559', chainId, to, data, nonce, gas, value, accessList, ...fees },
        }),
      )
    case 'create':
      return raw(
        await signTransaction({
          privateKey: TEST_KEY,
          transaction: { type: 'eip1559', chainId, data, nonce, gas, value, ...fees },
        }),
      )
    case 'eip7702': {
      const authorizationList = [
        { chainId, address: to, nonce: 3, r: bytesToHex(r.bytes(32)) as Hex, s: bytesToHex(r.bytes(32)) as Hex, yParity: 1 },
      ]
      return raw(
        await signTransaction({
          privateKey: TEST_KEY,
          transaction: { type: 'eip7702', chainId, to, data, nonce, gas, value, accessList, authorizationList, ...fees },
        }),
      )
    }
  }
}

function raw(hex: Hex): Uint8Array {
  return hexToBytes(hex)
}
