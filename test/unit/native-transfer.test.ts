/**
 * Native transfers against `runTx`: the same random sequences of value transfers (and the shapes
 * around them that must fall back: precompiles, contracts, empty accounts touched with zero value,
 * coinciding addresses, bad nonces, unaffordable fees, access lists, legacy and EIP-2930 envelopes)
 * run through one executor with native transfers and one without. Every outcome, receipt and the
 * encoded state diff of every batch must be identical.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_NULL, bigIntToBytes, bigIntToUnpaddedBytes, bytesToHex, hexToBytes } from '@ethereumjs/util'
import secp256k1 from 'secp256k1'
import { createChainCommon } from '../../src/chain/config.ts'
import { encodeRlp } from '../../src/primitives/rlp-fields.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { encodeStateDiff } from '../../src/primitives/state-diff-codec.ts'
import type { BlockEnv } from '../../src/execution/block-env.ts'
import { keccak256, privateKeyToAddress } from '../../src/crypto/native.ts'
import { SequentialExecutor, type BlockCursor, type TxExecutionErrorCode, type TxOutcome } from '../../src/execution/executor.ts'
import { FlatState } from '../../src/state/flat-state.ts'
import { decodeRawTransaction } from '../../src/sequencer/ingest/decode.ts'
import { rng, type Rng } from '../helpers/rng.ts'

const CHAIN_ID = 6342n
const BASE_FEE = 7n
const common = createChainCommon({ chainId: CHAIN_ID, name: 'native-transfer-test' })
const LIMITS = { blockGasLimit: 30_000_000n }

interface Key {
  priv: Uint8Array
  address: Hex
}

function key(i: number): Key {
  const priv = keccak256(new TextEncoder().encode(`native-transfer-test/${i}`))
  return { priv, address: bytesToHex(privateKeyToAddress(priv)) as Hex }
}

const unpadded = (n: bigint): Uint8Array => (n === 0n ? new Uint8Array(0) : bigIntToUnpaddedBytes(n))
const stripZeros = (b: Uint8Array): Uint8Array => {
  let i = 0
  while (i < b.length && b[i] === 0) i++
  return b.subarray(i)
}
const addr = (n: number): Hex => `0x${n.toString(16).padStart(40, '0')}` as Hex

interface TxSpec {
  from: Key
  nonce: bigint
  to: Hex
  value: bigint
  gasLimit: bigint
  type: 0 | 1 | 2
  maxFee: bigint
  tip: bigint
  accessList: boolean
}

function sign(spec: TxSpec): Uint8Array {
  const to = hexToBytes(spec.to)
  const accessList = spec.accessList ? [[to, [new Uint8Array(32)]]] : []
  if (spec.type === 0) {
    const fields = [
      unpadded(spec.nonce),
      unpadded(spec.maxFee),
      unpadded(spec.gasLimit),
      to,
      unpadded(spec.value),
      new Uint8Array(0),
    ]
    const { signature, recid } = secp256k1.ecdsaSign(
      keccak256(RLP.encode([...fields, unpadded(CHAIN_ID), new Uint8Array(0), new Uint8Array(0)])),
      spec.from.priv,
    )
    return RLP.encode([
      ...fields,
      unpadded(CHAIN_ID * 2n + 35n + BigInt(recid)),
      stripZeros(signature.subarray(0, 32)),
      stripZeros(signature.subarray(32)),
    ])
  }
  const fields =
    spec.type === 1
      ? [
          unpadded(CHAIN_ID),
          unpadded(spec.nonce),
          unpadded(spec.maxFee),
          unpadded(spec.gasLimit),
          to,
          unpadded(spec.value),
          new Uint8Array(0),
          accessList,
        ]
      : [
          unpadded(CHAIN_ID),
          unpadded(spec.nonce),
          unpadded(spec.tip),
          unpadded(spec.maxFee),
          unpadded(spec.gasLimit),
          to,
          unpadded(spec.value),
          new Uint8Array(0),
          accessList,
        ]
  const { signature, recid } = secp256k1.ecdsaSign(keccak256(Uint8Array.of(spec.type, ...RLP.encode(fields))), spec.from.priv)
  return Uint8Array.of(
    spec.type,
    ...RLP.encode([
      ...fields,
      unpadded(BigInt(recid)),
      stripZeros(signature.subarray(0, 32)),
      stripZeros(signature.subarray(32)),
    ]),
  )
}

interface World {
  state: FlatState
  senders: Key[]
  /** Recipients of every kind: funded, fresh, empty-but-existing, contracts, precompiles, the senders. */
  recipients: Hex[]
  coinbase: Hex
}

const CONTRACT_CODE = Uint8Array.of(0x60, 0x01, 0x60, 0x00, 0x55, 0x00) // SSTORE(0, 1)

function buildWorld(r: Rng): World {
  const state = new FlatState()
  const senders = Array.from({ length: 2 + r.int(8) }, (_, i) => key(r.int(1_000_000) * 16 + i))
  for (const s of senders)
    state.accounts.set(s.address, {
      nonce: BigInt(r.int(3)),
      balance: r.next() < 0.15 ? 21_000n * BASE_FEE * 3n : 10n ** 18n,
      codeHash: KECCAK256_NULL,
    })
  const funded = addr(0x1000 + r.int(100))
  state.accounts.set(funded, { nonce: 0n, balance: 5n, codeHash: KECCAK256_NULL })
  const empty = addr(0x2000)
  state.accounts.set(empty, { nonce: 0n, balance: 0n, codeHash: KECCAK256_NULL })
  const codeHash = keccak256(CONTRACT_CODE)
  state.codes.set(bytesToHex(codeHash) as Hex, CONTRACT_CODE)
  const contractAddress = addr(0x3000)
  state.accounts.set(contractAddress, { nonce: 1n, balance: 0n, codeHash })
  const recipients = [
    funded,
    empty,
    contractAddress,
    addr(0x4000 + r.int(4)),
    addr(1),
    addr(4),
    addr(0x0a),
    ...senders.map((s) => s.address),
  ]
  // Fee recipient: absent, empty, funded, a contract, or one of the senders.
  const kind = r.int(5)
  const coinbase =
    kind === 0 ? addr(0x5000) : kind === 1 ? empty : kind === 2 ? funded : kind === 3 ? contractAddress : senders[0]!.address
  recipients.push(coinbase)
  return { state, senders, recipients, coinbase }
}

function randomSpec(r: Rng, world: World, nonces: Map<Hex, bigint>): TxSpec {
  const from = r.pick(world.senders)
  const next = nonces.get(from.address)!
  const nonce = r.next() < 0.05 ? next + 1n : r.next() < 0.03 && next > 0n ? next - 1n : next
  const type = r.pick([0, 1, 2, 2, 2] as const)
  const maxFee = r.next() < 0.05 ? BASE_FEE - 1n : BASE_FEE + BigInt(r.int(3)) * BASE_FEE
  const tip = r.next() < 0.4 ? 0n : BigInt(1 + r.int(Number(maxFee)))
  const accessList = type !== 0 && r.next() < 0.1
  return {
    from,
    nonce,
    to: r.pick(world.recipients),
    value: r.next() < 0.3 ? 0n : r.next() < 0.05 ? 10n ** 19n : BigInt(1 + r.int(10 ** 6)),
    gasLimit: (accessList ? 4_300n : 0n) + (r.next() < 0.8 ? 21_000n : 21_000n + BigInt(r.int(50_000))),
    type,
    maxFee,
    tip,
    accessList,
  }
}

function envFor(world: World): BlockEnv {
  return {
    number: 1n,
    timestamp: 1_700_000_000n,
    coinbase: world.coinbase,
    baseFeePerGas: BASE_FEE,
    gasLimit: 30_000_000n,
    prevRandao: keccak256(bigIntToBytes(1n)),
    excessBlobGas: 0n,
    parentBeaconBlockRoot: keccak256(bigIntToBytes(8n)),
  }
}

const describe = (o: TxOutcome): unknown => (o.ok ? { ok: true, receipt: o.receipt } : { ok: false, code: o.error.code })

/** What runTx says for each code the executor derives from the facts: the code must name runTx's real reason. */
const RUN_TX_WORDING: Partial<Record<TxExecutionErrorCode, RegExp>> = {
  TX_NONCE_MISMATCH: /doesn't have the correct nonce/,
  TX_INSUFFICIENT_FUNDS: /doesn't have enough funds/,
  TX_FEE_CAP_BELOW_BASE_FEE: /is less than the block's baseFeePerGas/,
}

test('native transfers equal runTx: outcomes, receipts and encoded state diffs over random sequences', async () => {
  let native = 0
  let total = 0
  const refusals = new Map<TxExecutionErrorCode, number>()
  for (let seed = 1; seed <= 60; seed++) {
    const r = rng(seed)
    const world = buildWorld(r)
    const bases = [world.state.clone(), world.state.clone()]
    const lanes = await Promise.all(
      bases.map(async (base, i) => {
        const executor = await SequentialExecutor.create(common, base, async () => undefined)
        executor.nativeTransfers = i === 0
        executor.setBlockEnv(envFor(world))
        return executor
      }),
    )
    const nonces = new Map(world.senders.map((s) => [s.address, world.state.accounts.get(s.address)!.nonce]))
    for (let batch = 0; batch < 3; batch++) {
      const cursors: BlockCursor[] = lanes.map(() => ({ gasUsed: 0n, txIndex: 0, logIndex: 0, miniBlockNumber: 1n }))
      for (let i = 0; i < 25; i++) {
        const spec = randomSpec(r, world, nonces)
        const tx = decodeRawTransaction(sign(spec), common, LIMITS).tx
        const before = lanes[0]!.nativeTransferCount
        const [withNative, withEvm] = [await lanes[0]!.applyTx(tx, cursors[0]!), await lanes[1]!.applyTx(tx, cursors[1]!)]
        assert.deepEqual(
          describe(withNative!),
          describe(withEvm!),
          `seed ${seed} batch ${batch} tx ${i}: ${JSON.stringify(spec, (_, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? bytesToHex(v) : v))}`,
        )
        if (withEvm!.ok) nonces.set(spec.from.address, spec.nonce + 1n)
        else {
          const { code, message } = withEvm!.error
          refusals.set(code, (refusals.get(code) ?? 0) + 1)
          assert.match(message, RUN_TX_WORDING[code] ?? /^$/, `seed ${seed} batch ${batch} tx ${i}: refused as ${code}`)
        }
        if (lanes[0]!.nativeTransferCount > before) native++
        total++
      }
      const diffs = lanes.map((l) => l.takeDiff())
      assert.equal(
        bytesToHex(encodeRlp(encodeStateDiff(diffs[0]!))),
        bytesToHex(encodeRlp(encodeStateDiff(diffs[1]!))),
        `seed ${seed} batch ${batch}: encoded state diffs differ`,
      )
      diffs.forEach((diff, i) => bases[i]!.apply(diff))
    }
  }
  // The generator must exercise both paths substantially.
  assert.ok(native > total * 0.25, `native path taken for ${native} of ${total} transactions`)
  assert.ok(native < total * 0.9, `fallback taken for ${total - native} of ${total} transactions`)
  for (const code of Object.keys(RUN_TX_WORDING) as TxExecutionErrorCode[])
    assert.ok((refusals.get(code) ?? 0) > 5, `only ${refusals.get(code) ?? 0} refusals as ${code}`)
})
