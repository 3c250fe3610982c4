/**
 * Which way of pre-signing is fastest? Signs the same EIP-1559 transfers four ways and checks they
 * produce identical bytes:
 *   viem          signTransaction (noble secp256k1 in JS)
 *   ethjs-native  @ethereumjs/tx, Common.customCrypto = nativeCrypto (native keccak/ecrecover; no
 *                 `ecsign` hook there, so signing itself still runs noble's JS)
 *   ethjs-ecsign  the same plus an `ecsign` hook on the native secp256k1 addon
 *   native        `signNative` (RLP + native keccak + native secp256k1, no tx objects)
 */
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import secp256k1 from 'secp256k1'
import { signTransaction } from 'viem/accounts'
import { nativeCrypto } from '../../src/crypto/native.ts'
import { benchAccounts } from './keys.ts'
import { signNative, toHexString, type TxFields } from './sign.ts'

export interface SignBenchResult {
  txs: number
  usPerTx: Record<string, number>
  txPerSec: Record<string, number>
  chosen: string
  identicalBytes: boolean
}

function nativeEcsign(msgHash: Uint8Array, privateKey: Uint8Array): Uint8Array {
  const { signature, recid } = secp256k1.ecdsaSign(msgHash, privateKey)
  const out = new Uint8Array(65)
  out[0] = recid
  out.set(signature, 1)
  return out
}

export async function runSignBench(count = 2_000): Promise<SignBenchResult> {
  const chainId = 6342n
  const accounts = benchAccounts('signbench', 0, 50)
  const fields: Array<{ tx: TxFields; key: Uint8Array }> = []
  for (let i = 0; i < count; i++) {
    const from = accounts[i % accounts.length]!
    const to = accounts[(i + 1) % accounts.length]!
    fields.push({
      key: from.privateKey,
      tx: {
        chainId,
        nonce: Math.floor(i / accounts.length),
        maxPriorityFeePerGas: 0n,
        maxFeePerGas: 2_000_000_000n,
        gasLimit: 21_000n,
        to: to.address,
        value: 1n,
        data: new Uint8Array(0),
      },
    })
  }
  const commonNative = createCustomCommon({ chainId: Number(chainId) }, Mainnet, {
    hardfork: Hardfork.Cancun,
    customCrypto: nativeCrypto,
  })
  // ethereumjs' hook has noble's signature type; ours is call-compatible for the (hash, key) it passes.
  const ecsign = nativeEcsign as unknown as NonNullable<typeof nativeCrypto.ecsign>
  const commonEcsign = createCustomCommon({ chainId: Number(chainId) }, Mainnet, {
    hardfork: Hardfork.Cancun,
    customCrypto: { ...nativeCrypto, ecsign },
  })
  const ethjsData = (tx: TxFields) => ({
    chainId: tx.chainId,
    nonce: BigInt(tx.nonce),
    maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
    maxFeePerGas: tx.maxFeePerGas,
    gasLimit: tx.gasLimit,
    to: tx.to,
    value: tx.value,
    data: tx.data,
  })

  const ways: Record<string, (f: { tx: TxFields; key: Uint8Array }) => Promise<string> | string> = {
    viem: ({ tx, key }) =>
      signTransaction({
        privateKey: toHexString(key) as `0x${string}`,
        transaction: {
          type: 'eip1559',
          chainId: Number(tx.chainId),
          nonce: tx.nonce,
          maxFeePerGas: tx.maxFeePerGas,
          maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
          gas: tx.gasLimit,
          to: toHexString(tx.to) as `0x${string}`,
          value: tx.value,
        },
      }),
    'ethjs-native': ({ tx, key }) =>
      toHexString(createFeeMarket1559Tx(ethjsData(tx), { common: commonNative }).sign(key, false).serialize()),
    'ethjs-ecsign': ({ tx, key }) =>
      toHexString(createFeeMarket1559Tx(ethjsData(tx), { common: commonEcsign }).sign(key, false).serialize()),
    native: ({ tx, key }) => toHexString(signNative(tx, key)),
  }
  const usPerTx: Record<string, number> = {}
  const txPerSec: Record<string, number> = {}
  const outputs: Record<string, string[]> = {}
  for (const [name, fn] of Object.entries(ways)) {
    // JIT warm-up on a slice, then the timed pass.
    for (let i = 0; i < 100; i++) await fn(fields[i]!)
    const out: string[] = []
    const t = performance.now()
    for (const f of fields) out.push(await fn(f))
    const ms = performance.now() - t
    outputs[name] = out
    usPerTx[name] = Number(((ms * 1000) / count).toFixed(1))
    txPerSec[name] = Math.round(count / (ms / 1000))
  }
  const ref = outputs.native!
  const identicalBytes = Object.values(outputs).every((o) => o.every((raw, i) => raw === ref[i]))
  const chosen = Object.entries(usPerTx).sort((a, b) => a[1] - b[1])[0]![0]
  return { txs: count, usPerTx, txPerSec, chosen, identicalBytes }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await runSignBench())
}
