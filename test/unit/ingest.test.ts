// run-tests: alone — asserts a bound on how long malformed input takes to reject
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { createTx, type TypedTransaction } from '@ethereumjs/tx'
import {
  SECP256K1_ORDER,
  bigIntToUnpaddedBytes,
  bytesToBigInt,
  bytesToHex,
  concatBytes,
  eoaCode7702SignAuthorization,
  hexToBytes,
} from '@ethereumjs/util'
import secp256k1 from 'secp256k1'
import { createChainCommon } from '../../src/chain/config.ts'
import { keccak256, privateKeyToAddress, signHash } from '../../src/crypto/native.ts'
import {
  IngestPool,
  IngestPoolStoppedError,
  TX_REJECTED_RPC_CODE,
  TxRejectedError,
  decodeRawTransaction,
  getTxCodec,
  isTxRejectedError,
  rejectTx,
  toWireDecodedTx,
  txRejectionToJsonRpc,
  verifyRawTransaction,
  type DecodeLimits,
  type DecodedTx,
} from '../../src/sequencer/ingest/index.ts'
import { rng, type Rng } from '../helpers/rng.ts'

const CHAIN = { chainId: 6342n, name: 'test' }
const common = createChainCommon(CHAIN)
/** The same chain before Prague: no set-code transactions, no calldata floor, no gas cap. */
const cancun = createChainCommon({ ...CHAIN, forks: {} })
const otherChain = createChainCommon({ chainId: 1n, name: 'mainnet-like' })
const limits: DecodeLimits = { blockGasLimit: 30_000_000n }
const KEY = hexToBytes(`0x${'11'.repeat(32)}`)
const SENDER = bytesToHex(privateKeyToAddress(KEY))
const TO: `0x${string}` = `0x${'22'.repeat(20)}`
const GWEI = 1_000_000_000n

function signed(data: Record<string, unknown>, key = KEY, c = common, allowUnlimitedInitCodeSize = false): TypedTransaction {
  return createTx({ gasLimit: 21_000n, to: TO, value: 1n, ...data } as Parameters<typeof createTx>[0], {
    common: c,
    allowUnlimitedInitCodeSize,
  }).sign(key)
}

const legacy = (data: Record<string, unknown> = {}, key = KEY, c = common): TypedTransaction =>
  signed({ type: 0, nonce: 0n, gasPrice: 2n * GWEI, ...data }, key, c)
const accessList = (data: Record<string, unknown> = {}, key = KEY, c = common): TypedTransaction =>
  signed(
    {
      type: 1,
      nonce: 0n,
      gasPrice: 2n * GWEI,
      gasLimit: 30_000n,
      accessList: [{ address: TO, storageKeys: [`0x${'00'.repeat(31)}01`] }],
      ...data,
    },
    key,
    c,
  )
const feeMarket = (data: Record<string, unknown> = {}, key = KEY, c = common): TypedTransaction =>
  signed({ type: 2, nonce: 0n, maxFeePerGas: 3n * GWEI, maxPriorityFeePerGas: GWEI, ...data }, key, c)

const int = (x: bigint): Uint8Array => bigIntToUnpaddedBytes(x)

/** An EIP-7702 transaction whose one authorization (signed by `KEY` itself) delegates to `TO`. */
const setCode = (data: Record<string, unknown> = {}): TypedTransaction => {
  const authorization = eoaCode7702SignAuthorization(
    { chainId: `0x${CHAIN.chainId.toString(16)}`, address: TO, nonce: '0x1' },
    KEY,
  )
  return signed({
    type: 4,
    nonce: 0n,
    gasLimit: 60_000n,
    maxFeePerGas: 3n * GWEI,
    maxPriorityFeePerGas: GWEI,
    authorizationList: [authorization],
    ...data,
  })
}

/** Signs typed-transaction list items natively (no ethereumjs validation) and encodes the envelope. */
function signRawFields(type: number, unsigned: Array<Uint8Array | Uint8Array[]>): Uint8Array {
  const { signature, recoveryId } = signHash(keccak256(concatBytes(new Uint8Array([type]), RLP.encode(unsigned))), KEY)
  return concatBytes(
    new Uint8Array([type]),
    RLP.encode([...unsigned, int(BigInt(recoveryId)), signature.subarray(0, 32), signature.subarray(32)]),
  )
}

interface Sig {
  v: bigint
  r: bigint
  s: bigint
}

/**
 * Builds and natively signs an EIP-1559 tx from raw list items, bypassing ethereumjs' own field
 * validation, so tests can produce txs ethereumjs would refuse to create.
 */
function craft1559(
  items: { chainId?: bigint; tip?: bigint; maxFee?: bigint; gasLimit?: bigint; nonce?: Uint8Array },
  mutate?: (sig: Sig) => Sig,
): Uint8Array {
  const unsigned = [
    int(items.chainId ?? CHAIN.chainId),
    items.nonce ?? int(0n),
    int(items.tip ?? GWEI),
    int(items.maxFee ?? 3n * GWEI),
    int(items.gasLimit ?? 21_000n),
    hexToBytes(TO),
    int(1n),
    new Uint8Array(0),
    [],
  ]
  const { signature, recoveryId } = signHash(keccak256(concatBytes(new Uint8Array([2]), RLP.encode(unsigned))), KEY)
  let sig: Sig = { v: BigInt(recoveryId), r: bytesToBigInt(signature.subarray(0, 32)), s: bytesToBigInt(signature.subarray(32)) }
  if (mutate !== undefined) sig = mutate(sig)
  return concatBytes(new Uint8Array([2]), RLP.encode([...unsigned, int(sig.v), int(sig.r), int(sig.s)]))
}

/** A legacy tx signed without EIP-155 (v = 27/28): replayable across chains. */
function craftUnprotectedLegacy(): Uint8Array {
  const unsigned = [int(0n), int(2n * GWEI), int(21_000n), hexToBytes(TO), int(1n), new Uint8Array(0)]
  const { signature, recoveryId } = signHash(keccak256(RLP.encode(unsigned)), KEY)
  return RLP.encode([...unsigned, int(27n + BigInt(recoveryId)), signature.subarray(0, 32), signature.subarray(32)])
}

function rejects(
  raw: Uint8Array,
  message: string | RegExp,
  reason?: TxRejectedError['code'],
  decodeLimits: DecodeLimits = limits,
  c = common,
): void {
  assert.throws(
    () => decodeRawTransaction(raw, c, decodeLimits),
    (err: unknown) => {
      assert.ok(err instanceof TxRejectedError, `expected TxRejectedError, got ${String(err)}`)
      assert.equal(txRejectionToJsonRpc(err).code, TX_REJECTED_RPC_CODE)
      if (typeof message === 'string') assert.equal(err.message, message)
      else assert.match(err.message, message)
      if (reason !== undefined) assert.equal(err.code, reason)
      return true
    },
  )
}

function assertMatchesSigned(decoded: DecodedTx, tx: TypedTransaction, raw: Uint8Array): void {
  assert.equal(decoded.sender, SENDER)
  assert.equal(decoded.hash, bytesToHex(tx.hash()))
  assert.equal(decoded.hash, bytesToHex(keccak256(raw)))
  assert.equal(decoded.raw, raw)
  assert.equal(decoded.size, raw.length)
  assert.equal(decoded.type, tx.type)
  assert.equal(decoded.nonce, tx.nonce)
  assert.equal(decoded.gasLimit, tx.gasLimit)
  assert.equal(decoded.value, tx.value)
  // The sender key and hash were seeded into ethereumjs' caches: no second recovery.
  assert.ok(decoded.tx.cache.senderPubKey !== undefined && decoded.tx.cache.hash !== undefined)
  assert.equal(decoded.tx.getSenderAddress().toString(), SENDER)
  assert.equal(bytesToHex(decoded.tx.hash()), decoded.hash)
  assert.deepEqual(decoded.tx.serialize(), raw)
}

describe('decodeRawTransaction', () => {
  test('decodes legacy EIP-155, EIP-2930 and EIP-1559 txs and recovers the sender', () => {
    for (const tx of [legacy(), accessList(), feeMarket()]) {
      const raw = tx.serialize()
      const decoded = decodeRawTransaction(raw, common, limits)
      assertMatchesSigned(decoded, tx, raw)
      if (tx.type === 2) {
        assert.equal(decoded.maxFeePerGas, 3n * GWEI)
        assert.equal(decoded.maxPriorityFeePerGas, GWEI)
      } else {
        assert.equal(decoded.maxFeePerGas, 2n * GWEI, 'legacy/2930: fee cap = gas price')
        assert.equal(decoded.maxPriorityFeePerGas, 2n * GWEI, 'legacy/2930: tip = gas price')
      }
    }
  })

  test('hashes and addresses are lowercase 0x hex', () => {
    const decoded = decodeRawTransaction(feeMarket().serialize(), common, limits)
    assert.match(decoded.hash, /^0x[0-9a-f]{64}$/)
    assert.match(decoded.sender, /^0x[0-9a-f]{40}$/)
  })

  test('decodes a contract creation', () => {
    const tx = feeMarket({ to: undefined, data: '0x6000600055', gasLimit: 100_000n })
    const raw = tx.serialize()
    const decoded = decodeRawTransaction(raw, common, limits)
    assert.equal(decoded.tx.to, undefined)
    assertMatchesSigned(decoded, tx, raw)
  })

  test('rejects oversized txs', () => {
    const raw = feeMarket({ data: new Uint8Array(300).fill(1), gasLimit: 100_000n }).serialize()
    rejects(raw, `oversized data: transaction size ${raw.length}, limit 256`, 'oversized', { ...limits, maxTxBytes: 256 })
    assert.equal(decodeRawTransaction(raw, common, limits).size, raw.length, 'the default limit is 128 KiB')
    const huge = new Uint8Array(128 * 1024 + 1)
    rejects(huge, `oversized data: transaction size ${128 * 1024 + 1}, limit ${128 * 1024}`, 'oversized')
  })

  test('rejects blob (type 3), set-code (type 4) before Prague and unknown tx types', () => {
    const body = feeMarket().serialize().subarray(1)
    for (const type of [3, 5, 0x7f])
      rejects(concatBytes(new Uint8Array([type]), body), 'transaction type not supported', 'type-not-supported')
    rejects(setCode().serialize(), 'transaction type not supported', 'type-not-supported', limits, cancun)
  })

  test('decodes an EIP-7702 set-code transaction with its authorization list (Prague)', () => {
    const tx = setCode()
    const decoded = decodeRawTransaction(tx.serialize(), common, limits)
    assert.equal(decoded.type, 4)
    assert.equal(decoded.sender, SENDER)
    assert.equal(decoded.transfer, undefined, 'a set-code transaction is never a native transfer')
    assert.equal(bytesToHex(decoded.tx.hash()), bytesToHex(tx.hash()))
    assert.deepEqual(
      (decoded.tx as TypedTransaction & { authorizationList: unknown[] }).authorizationList,
      (tx as TypedTransaction & { authorizationList: unknown[] }).authorizationList,
    )
  })

  test("rejects set-code transactions without authorizations or recipient, with geth's messages", () => {
    const fields = RLP.decode(setCode().serialize().subarray(1)) as Array<Uint8Array | Uint8Array[]>
    const resigned = (edit: (f: Array<Uint8Array | Uint8Array[]>) => void): Uint8Array => {
      const f = [...fields]
      edit(f)
      return signRawFields(4, f.slice(0, 10))
    }
    rejects(
      resigned((f) => (f[9] = [])),
      'EIP-7702 transaction with empty auth list',
      'empty-auth-list',
    )
    rejects(
      resigned((f) => (f[5] = new Uint8Array(0))),
      'EIP-7702 transaction cannot be used to create contract',
      'set-code-create',
    )
  })

  test("rejects a gas limit over the EIP-7825 cap (Osaka) with geth's message", () => {
    const big = { blockGasLimit: 100_000_000n }
    rejects(
      craft1559({ gasLimit: 16_777_217n }),
      'transaction gas limit too high (cap: 16777216, tx: 16777217)',
      'gas-limit-too-high',
      big,
    )
    assert.equal(decodeRawTransaction(feeMarket({ gasLimit: 16_777_216n }).serialize(), common, big).gasLimit, 16_777_216n)
    assert.equal(
      decodeRawTransaction(feeMarket({ gasLimit: 16_777_217n }, KEY, cancun).serialize(), cancun, big).gasLimit,
      16_777_217n,
    )
  })

  test('rejects a gas limit below the EIP-7623 calldata floor (Prague), on the fast path and the constructor path', () => {
    const data = new Uint8Array(1000).fill(1) // 4,000 tokens: floor 61,000 gas; intrinsic 37,000
    rejects(
      feeMarket({ data, gasLimit: 60_999n }).serialize(),
      'insufficient gas for floor data gas cost: gas 60999, minimum needed 61000',
      'floor-data-gas',
    )
    rejects(
      legacy({ data, gasLimit: 60_999n }).serialize(),
      'insufficient gas for floor data gas cost: gas 60999, minimum needed 61000',
      'floor-data-gas',
    )
    assert.equal(decodeRawTransaction(feeMarket({ data, gasLimit: 61_000n }).serialize(), common, limits).gasLimit, 61_000n)
    assert.equal(
      decodeRawTransaction(feeMarket({ data, gasLimit: 37_000n }, KEY, cancun).serialize(), cancun, limits).gasLimit,
      37_000n,
    )
  })

  test('rejects a tx signed for another chain id', () => {
    rejects(feeMarket({}, KEY, otherChain).serialize(), 'invalid chain id: have 1, want 6342', 'invalid-chain-id')
    rejects(accessList({}, KEY, otherChain).serialize(), 'invalid chain id: have 1, want 6342', 'invalid-chain-id')
    rejects(legacy({}, KEY, otherChain).serialize(), 'invalid chain id: have 1, want 6342', 'invalid-chain-id')
  })

  test('rejects unprotected (pre-EIP-155) legacy txs unless allowed', () => {
    const raw = craftUnprotectedLegacy()
    rejects(raw, 'only replay-protected (EIP-155) transactions allowed over RPC', 'unprotected')
    const decoded = decodeRawTransaction(raw, common, { ...limits, allowUnprotectedTxs: true })
    assert.equal(decoded.sender, SENDER)
    assert.equal(decoded.tx.getSenderAddress().toString(), SENDER)
  })

  test('rejects high-s signatures (EIP-2)', () => {
    const valid = craft1559({})
    assert.equal(decodeRawTransaction(valid, common, limits).sender, SENDER, 'the crafted tx itself is valid')
    // (r, n - s) with the flipped recovery id is the same signature's malleable twin.
    const raw = craft1559({}, (sig) => ({ v: sig.v ^ 1n, r: sig.r, s: SECP256K1_ORDER - sig.s }))
    rejects(raw, 'invalid sender: invalid transaction v, r, s values', 'invalid-signature')
  })

  test('rejects out-of-range signature values', () => {
    const bad: Array<(sig: Sig) => Sig> = [
      (sig) => ({ ...sig, r: 0n }),
      (sig) => ({ ...sig, s: 0n }),
      (sig) => ({ ...sig, r: SECP256K1_ORDER }),
      (sig) => ({ ...sig, v: 2n }),
    ]
    for (const mutate of bad)
      rejects(craft1559({}, mutate), 'invalid sender: invalid transaction v, r, s values', 'invalid-signature')
    const raw = legacy().serialize()
    const fields = RLP.decode(raw) as Uint8Array[]
    fields[6] = int(30n)
    rejects(RLP.encode(fields), 'invalid sender: invalid transaction v, r, s values', 'invalid-signature')
  })

  test('rejects a signature from which no key recovers', () => {
    // An r that is not the x coordinate of any curve point: recovery must fail.
    let r = 1n
    const hash = new Uint8Array(32).fill(9)
    for (; ; r++) {
      const sig = new Uint8Array(64)
      sig.set(int(r), 32 - int(r).length)
      sig[63] = 1
      try {
        secp256k1.ecdsaRecover(sig, 0, hash, false)
      } catch {
        break
      }
    }
    rejects(
      craft1559({}, (sig) => ({ ...sig, r })),
      'invalid sender',
      'invalid-sender',
    )
  })

  test('tampered signature bytes never yield the original sender', () => {
    const raw = craft1559({})
    for (let offset = 1; offset <= 40; offset += 13) {
      const tampered = raw.slice()
      tampered[tampered.length - offset]! ^= 0x01
      try {
        assert.notEqual(decodeRawTransaction(tampered, common, limits).sender, SENDER)
      } catch (err) {
        assert.ok(err instanceof TxRejectedError)
        assert.match(err.message, /^invalid sender/)
      }
    }
  })

  test('rejects garbage and structurally invalid bytes', () => {
    const garbage = [
      new Uint8Array(0),
      new Uint8Array([0x80]), // an RLP string, not a list
      new Uint8Array([0xc5, 0x01]), // list longer than the input
      new Uint8Array([0x02, 0xff, 0x00]),
      new Uint8Array([0x02]),
      new Uint8Array([0x01, 0xc0]),
      RLP.encode([new Uint8Array([1]), new Uint8Array([2])]),
      hexToBytes('0xdeadbeefdeadbeefdeadbeef'),
      concatBytes(feeMarket().serialize(), new Uint8Array([0])), // trailing byte
    ]
    for (const raw of garbage) rejects(raw, /^rlp: /, 'malformed')
  })

  test('rejects pathological RLP shapes cheaply', () => {
    // 120 KB of nested lists: ethereumjs' recursive decoder would spend seconds on it.
    let nested = new Uint8Array([0xc0])
    while (nested.length < 120_000) {
      const len = nested.length
      const header =
        len < 56
          ? [0xc0 + len]
          : len < 256
            ? [0xf8, len]
            : len < 65_536
              ? [0xf9, len >> 8, len & 0xff]
              : [0xfa, len >> 16, (len >> 8) & 0xff, len & 0xff]
      nested = concatBytes(new Uint8Array(header), nested)
    }
    // 120,000 one-byte fields in one list.
    const wide = new Uint8Array(4 + 120_000).fill(1)
    wide.set([0xfa, 0x01, 0xd4, 0xc0])
    const started = performance.now()
    rejects(concatBytes(new Uint8Array([2]), nested), 'rlp: lists nested deeper than 4', 'malformed')
    rejects(wide, 'rlp: more than 13 fields', 'malformed')
    assert.ok(performance.now() - started < 100)
  })

  test('rejects unsigned txs and non-canonical integers', () => {
    const signedFields = RLP.decode(feeMarket().serialize().subarray(1)) as Uint8Array[]
    rejects(
      concatBytes(new Uint8Array([2]), RLP.encode(signedFields.slice(0, 9))),
      /^rlp: signed type 2 transaction must have 12 fields, got 9 fields$/,
      'malformed',
    )
    rejects(craft1559({ nonce: new Uint8Array([0, 1]) }), /^rlp: .*leading zero/i, 'malformed')
  })

  test('rejects intrinsic gas too low', () => {
    rejects(
      feeMarket({ gasLimit: 20_999n }).serialize(),
      'intrinsic gas too low: gas 20999, minimum needed 21000',
      'intrinsic-gas',
    )
    // 4 non-zero calldata bytes cost 16 gas each.
    rejects(
      feeMarket({ data: '0x01020304' }).serialize(),
      'intrinsic gas too low: gas 21000, minimum needed 21064',
      'intrinsic-gas',
    )
    // Access list: 2400 per address + 1900 per storage key.
    rejects(
      accessList({ gasLimit: 21_000n }).serialize(),
      'intrinsic gas too low: gas 21000, minimum needed 25300',
      'intrinsic-gas',
    )
    // Creation: +32000.
    rejects(
      feeMarket({ to: undefined, gasLimit: 50_000n }).serialize(),
      'intrinsic gas too low: gas 50000, minimum needed 53000',
      'intrinsic-gas',
    )
  })

  test('rejects a gas limit above the block gas limit', () => {
    const small = { blockGasLimit: 1_000_000n }
    rejects(feeMarket({ gasLimit: 1_000_001n }).serialize(), 'gas limit exceeds block gas limit', 'gas-limit', small)
    assert.equal(decodeRawTransaction(feeMarket({ gasLimit: 1_000_000n }).serialize(), common, small).gasLimit, 1_000_000n)
  })

  test('rejects a tip above the fee cap', () => {
    rejects(
      craft1559({ tip: 2n * GWEI, maxFee: GWEI }),
      'max priority fee per gas higher than max fee per gas',
      'tip-above-fee-cap',
    )
  })

  test('rejects init code above the EIP-3860 limit', () => {
    const tx = signed(
      {
        type: 2,
        nonce: 0n,
        maxFeePerGas: GWEI,
        maxPriorityFeePerGas: 1n,
        to: undefined,
        data: new Uint8Array(49_153),
        gasLimit: 1_000_000n,
      },
      KEY,
      common,
      true,
    )
    rejects(tx.serialize(), 'max initcode size exceeded: code size 49153, limit 49152', 'initcode-too-large')
  })

  test('the plain-call fast path accepts exactly what ethereumjs accepts, with the same fields', () => {
    // Random EIP-1559 txs whose fields are drawn around every bound the constructor enforces, run
    // through the decoder twice: as configured (plain calls skip the constructor) and with the fast
    // path off. Both runs must reject with the same message or accept with the same fields.
    const fast = getTxCodec(common)
    const slow = { ...fast, plainCallGas: undefined }
    const outcome = (raw: Uint8Array, codec: typeof fast): unknown => {
      try {
        const verified = verifyRawTransaction(raw, codec, limits)
        return { ok: true, viaConstructor: verified.tx !== undefined, wire: toWireDecodedTx(raw, verified) }
      } catch (err) {
        assert.ok(err instanceof TxRejectedError, String(err))
        return { ok: false, reason: err.code, message: err.message }
      }
    }
    let fastAccepted = 0
    let constructorAccepted = 0
    let rejected = 0
    for (let seed = 0; seed < 3_000; seed++) {
      const raw = randomFeeMarketCall(rng(seed))
      const got = outcome(raw, fast) as { ok: boolean; viaConstructor?: boolean }
      const want = outcome(raw, slow) as { ok: boolean; viaConstructor?: boolean }
      if (got.ok && want.ok) {
        assert.equal(want.viaConstructor, true)
        if (got.viaConstructor === false) fastAccepted++
        else constructorAccepted++
        assert.deepEqual({ ...got, viaConstructor: true }, want, `seed ${seed}`)
      } else {
        assert.deepEqual(got, want, `seed ${seed}`)
        rejected++
      }
    }
    assert.ok(fastAccepted > 800, `only ${fastAccepted} txs took the fast path`)
    assert.ok(constructorAccepted > 40, `only ${constructorAccepted} valid txs (creations, access lists) took the constructor`)
    assert.ok(rejected > 800, `only ${rejected} txs were rejected`)
  })

  test('rejection messages and codes', () => {
    const err = rejectTx('nonce-too-low', { next: 5n, nonce: 3n })
    assert.equal(err.message, 'nonce too low: next nonce 5, tx nonce 3')
    assert.deepEqual(txRejectionToJsonRpc(err), { code: -32000, message: 'nonce too low: next nonce 5, tx nonce 3' })
    assert.equal(err.name, 'TxRejectedError')
  })
})

describe('IngestPool', () => {
  const KEYS = Array.from({ length: 8 }, (_, i) => hexToBytes(`0x${(i + 1).toString(16).padStart(2, '0').repeat(32)}`))
  const raws: Uint8Array[] = []
  before(() => {
    for (let i = 0; i < 1000; i++) {
      const key = KEYS[i % KEYS.length]!
      const nonce = BigInt(Math.floor(i / KEYS.length))
      // Plain transfers in every envelope, and shapes that are not: an access list, data, a creation.
      const shape = i % 6
      const tx =
        shape === 0
          ? legacy({ nonce }, key)
          : shape === 1
            ? accessList({ nonce }, key)
            : shape === 2
              ? accessList({ nonce, accessList: [] }, key)
              : shape === 3
                ? feeMarket({ nonce, value: BigInt(i), data: '0x01', gasLimit: 30_000n }, key)
                : shape === 4
                  ? feeMarket({ nonce, to: undefined, data: '0x00', gasLimit: 60_000n }, key)
                  : feeMarket({ nonce, value: BigInt(i) }, key)
      raws.push(tx.serialize())
    }
    // A few bad ones interleaved: their errors must come back in place.
    raws[10] = new Uint8Array([0xde, 0xad])
    raws[500] = feeMarket({}, KEY, otherChain).serialize()
    raws[999] = craft1559({ tip: 5n, maxFee: 4n })
  })

  function sameOutcomes(results: Awaited<ReturnType<IngestPool['decode']>>): void {
    assert.equal(results.length, raws.length)
    results.forEach((result, i) => {
      const raw = raws[i]!
      let expected: DecodedTx | TxRejectedError
      try {
        expected = decodeRawTransaction(raw, common, limits)
      } catch (err) {
        expected = err as TxRejectedError
      }
      if (expected instanceof TxRejectedError) {
        assert.equal(result.ok, false, `tx ${i} should fail`)
        if (!result.ok) {
          // Rebuilt from plain data after crossing from the worker: a rejection by its code, not its class.
          assert.ok(isTxRejectedError(result.error))
          assert.equal(result.error.message, expected.message)
          assert.equal(result.error.code, expected.code)
        }
        return
      }
      assert.equal(result.ok, true, `tx ${i} should decode`)
      if (!result.ok) return
      const { tx } = result
      for (const field of [
        'hash',
        'sender',
        'nonce',
        'gasLimit',
        'maxFeePerGas',
        'maxPriorityFeePerGas',
        'value',
        'size',
        'type',
      ] as const) {
        assert.equal(tx[field], expected[field], `tx ${i} ${field}`)
      }
      // The plain-transfer form the executor uses without an ethereumjs object: built from the
      // worker's fields here, from the object in the in-thread path.
      assert.deepEqual(tx.transfer, expected.transfer, `tx ${i} transfer`)
      assert.equal(expected.transfer !== undefined, [0, 2, 5].includes(i % 6), `tx ${i}: plain transfer shape`)
      assert.equal(tx.raw, raw)
    })
  }

  describe('with 2 worker threads (worker-entry.mjs loading worker.ts through tsx)', () => {
    const pool = new IngestPool({ chain: CHAIN, limits, workers: 2 })
    before(() => pool.start())
    after(() => pool.stop())

    test('decodes a batch of 1,000 txs exactly like the in-thread path', async () => {
      const tasksBefore = pool.stats().tasks
      const results = await pool.decode(raws)
      sameOutcomes(results)
      assert.equal(pool.stats().tasks - tasksBefore, 4, 'split into tasks of at most 256 txs')
      // The main thread rebuilds the ethereumjs tx lazily, without recovering the sender again.
      const first = results[1]!
      assert.ok(first.ok)
      if (first.ok) {
        assert.equal(first.tx.tx.getSenderAddress().toString(), first.tx.sender)
        assert.equal(bytesToHex(first.tx.tx.hash()), first.tx.hash)
        assert.deepEqual(first.tx.tx.serialize(), raws[1])
        assert.equal(first.tx.tx, first.tx.tx, 'built once')
      }
    })

    test('single submissions in one event-loop turn are coalesced, spread over the workers', async () => {
      const tasksBefore = pool.stats().tasks
      const decoded = await Promise.all(
        raws
          .slice(0, 200)
          .filter((_, i) => i !== 10)
          .map((raw) => pool.decodeOne(raw)),
      )
      assert.equal(pool.stats().tasks - tasksBefore, 2)
      assert.equal(decoded.length, 199)
      assert.equal(decoded[0]!.hash, decodeRawTransaction(raws[0]!, common, limits).hash)
      await assert.rejects(pool.decodeOne(raws[10]!), (err: unknown) => isTxRejectedError(err) && err.code === 'malformed')
    })

    test('urgent decodes run in the calling thread up to a budget, the rest in the workers, with the same results', async () => {
      const tasksBefore = pool.stats().tasks
      const picks = raws.slice(0, 200).filter((_, i) => i !== 10)
      const urgent = picks.map((raw) => pool.decodeUrgent(raw))
      const inline = urgent.filter((u) => u.inline).length
      // 16 per 10 ms window: a synchronous loop of 199 cannot stay inline (each decode would need > 0.5 ms).
      assert.ok(inline >= 16 && inline <= 100, `${inline} of ${picks.length} decoded inline`)
      const decoded = await Promise.all(urgent.map((u) => u.tx))
      assert.ok(pool.stats().tasks > tasksBefore, 'past the budget, urgent decodes went to the workers')
      decoded.forEach((tx, i) => {
        const expected = decodeRawTransaction(picks[i]!, common, limits)
        for (const field of ['hash', 'sender', 'nonce', 'gasLimit', 'maxFeePerGas', 'value', 'type'] as const)
          assert.equal(tx[field], expected[field], `tx ${i} ${field} (${urgent[i]!.inline ? 'inline' : 'worker'})`)
        assert.deepEqual(tx.transfer, expected.transfer)
      })
      await new Promise((resolve) => setTimeout(resolve, 20))
      const rejected = pool.decodeUrgent(raws[10]!)
      assert.equal(rejected.inline, true, 'a fresh window decodes inline')
      await assert.rejects(rejected.tx, (err: unknown) => isTxRejectedError(err) && err.code === 'malformed')
    })

    test('stop() finishes submitted work, terminates the workers, then refuses new work', async () => {
      const submitted = pool.decode(raws.slice(0, 300))
      await pool.stop()
      const results = await submitted
      assert.equal(results.length, 300)
      assert.ok(results.every((r, i) => r.ok === (i !== 10)))
      await assert.rejects(pool.decodeOne(raws[0]!), IngestPoolStoppedError)
      await assert.rejects(pool.decode([raws[0]!]), IngestPoolStoppedError)
    })
  })

  test('workers: 0 decodes in the calling thread with the same API', async () => {
    const pool = new IngestPool({ chain: CHAIN, limits, workers: 0 })
    await pool.start()
    try {
      sameOutcomes(await pool.decode(raws))
      assert.equal(pool.stats().tasks, 0)
      await assert.rejects(pool.decodeOne(raws[500]!), /^TxRejectedError: invalid chain id: have 1, want 6342$/)
    } finally {
      await pool.stop()
    }
  })
})

/**
 * A natively signed EIP-1559 tx whose fields straddle the bounds a decoder must check: leading
 * zeros, 2^64 − 1 nonces and gas limits, 33-byte integers, fee × gas overflow, gas at and below
 * intrinsic, 19- to 21-byte recipients, creations, access lists, lists where bytes belong.
 */
function randomFeeMarketCall(r: Rng): Uint8Array {
  const maybe = <T>(p: number, odd: () => T, usual: () => T): T => (r.next() < p ? odd() : usual())
  const scalar = (usual: () => bigint): Uint8Array | Uint8Array[] =>
    r.pick<() => Uint8Array | Uint8Array[]>([
      () => int(usual()),
      () => int(usual()),
      () => int(usual()),
      () => concatBytes(new Uint8Array([0]), int(usual())),
      () => r.bytes(33),
      () => r.bytes(32),
      () => [],
    ])()
  const data = maybe(
    0.5,
    () => Uint8Array.from(r.bytes(r.int(40)), (b) => (b < 100 ? 0 : b)),
    () => new Uint8Array(0),
  )
  const intrinsic = 21_000n + [...data].reduce((g, b) => g + (b === 0 ? 4n : 16n), 0n)
  const gasLimit = maybe(
    0.3,
    () => r.pick([int(intrinsic - 1n), int(2n ** 64n - 1n), concatBytes(new Uint8Array([0]), int(intrinsic)), r.bytes(9), []]),
    () => int(intrinsic + (r.next() < 0.3 ? 0n : BigInt(r.int(100_000)))),
  )
  const maxFee = maybe(
    0.1,
    () => (r.next() < 0.5 ? 2n ** 256n - 1n : 2n ** 250n),
    () => BigInt(1 + r.int(10)) * GWEI,
  )
  const unsigned: Array<Uint8Array | Uint8Array[] | Array<Array<Uint8Array | Uint8Array[]>>> = [
    int(CHAIN.chainId),
    maybe(
      0.2,
      () => scalar(() => r.pick([0n, 2n ** 64n - 2n, 2n ** 64n - 1n, 2n ** 64n])),
      () => int(BigInt(r.int(1_000))),
    ),
    maybe(
      0.1,
      () => scalar(() => BigInt(r.int(5)) * GWEI),
      () => int(BigInt(r.int(2)) * GWEI),
    ),
    maybe(
      0.1,
      () => scalar(() => maxFee),
      () => int(maxFee),
    ),
    gasLimit,
    maybe(
      0.15,
      () => r.pick([new Uint8Array(0), r.bytes(19), r.bytes(21), []]),
      () => r.bytes(20),
    ),
    maybe(
      0.15,
      () => scalar(() => BigInt(r.int(1_000))),
      () => int(BigInt(r.int(1_000))),
    ),
    data,
    maybe(
      0.1,
      () => r.pick([[[r.bytes(20), [r.bytes(32)]]], [[r.bytes(20), []]]]),
      () => [],
    ),
  ]
  const { signature, recoveryId } = signHash(keccak256(concatBytes(new Uint8Array([2]), RLP.encode(unsigned))), KEY)
  const sig = [int(BigInt(recoveryId)), int(bytesToBigInt(signature.subarray(0, 32))), int(bytesToBigInt(signature.subarray(32)))]
  if (r.next() < 0.05) sig[0] = concatBytes(new Uint8Array([0]), sig[0]!)
  return concatBytes(new Uint8Array([2]), RLP.encode([...unsigned, ...sig]))
}
