/**
 * HS256 JSON Web Tokens as the engine API and geth's `--authrpc.jwtsecret` use them: a 32-byte shared
 * secret, `Authorization: Bearer <token>`, and an `iat` claim within a small window of the server's
 * clock (the token proves possession of the secret *now*, so a captured token goes stale within a
 * minute). Only what that scheme needs, on node:crypto: no `alg` negotiation, no other claims checked.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { NodeError, type NodeErrorOptions } from '../primitives/errors.ts'

/** The secret file is missing, unreadable or not 32 bytes of hex. */
export class JwtSecretError extends NodeError<'JWT_SECRET_INVALID', undefined> {
  override readonly name = 'JwtSecretError'
  constructor(message: string, options?: NodeErrorOptions) {
    super('JWT_SECRET_INVALID', message, { severity: 'critical', ...options })
  }
}

export const JWT_SECRET_BYTES = 32
/** How far `iat` may be from the server's clock, either way (the engine API's ±60 s). */
export const JWT_MAX_SKEW_SECONDS = 60

/** 32 bytes from the text of a secret file: hex, optional 0x, surrounding whitespace ignored. */
export function parseJwtSecret(text: string): Uint8Array {
  const trimmed = text.trim()
  const hex = trimmed.startsWith('0x') || trimmed.startsWith('0X') ? trimmed.slice(2) : trimmed
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new JwtSecretError(`expected ${JWT_SECRET_BYTES} bytes of hex (64 hex digits, optional 0x)`)
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/** A fresh secret as its file holds it: `0x` + 64 hex digits. */
export function generateJwtSecretHex(): string {
  return `0x${randomBytes(JWT_SECRET_BYTES).toString('hex')}`
}

export type JwtVerdict = { ok: true } | { ok: false; reason: string }

const BASE64URL = /^[A-Za-z0-9_-]+$/

/**
 * Checks `token` (the part after `Bearer `): three base64url parts, a header with `alg: HS256`
 * (anything else, `none` included, is refused before the signature is looked at), an HMAC-SHA256
 * signature over `header.payload` compared in constant time, then `iat` within `maxSkewSeconds` of
 * `nowSeconds`. The reason names what failed, never the token.
 */
export function verifyJwt(
  token: string,
  secret: Uint8Array,
  nowSeconds: number,
  maxSkewSeconds = JWT_MAX_SKEW_SECONDS,
): JwtVerdict {
  const parts = token.split('.')
  if (parts.length !== 3) return fail('not a JWT (expected header.payload.signature)')
  const [header, payload, signature] = parts as [string, string, string]
  if (!BASE64URL.test(header) || !BASE64URL.test(payload) || !BASE64URL.test(signature))
    return fail('not a JWT (parts must be base64url)')
  const head = decodeJson(header)
  if (head === undefined) return fail('unreadable JWT header')
  if (head.alg !== 'HS256') return fail(`JWT algorithm ${JSON.stringify(head.alg ?? null)} refused (only HS256)`)
  if (head.typ !== undefined && head.typ !== 'JWT') return fail('JWT header typ is not JWT')
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest()
  const given = Buffer.from(signature, 'base64url')
  // Lengths are public (HS256 is always 32 bytes); only equal-length buffers go to the constant-time compare.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return fail('bad JWT signature')
  const claims = decodeJson(payload)
  if (claims === undefined) return fail('unreadable JWT claims')
  const iat = claims.iat
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return fail('JWT has no iat claim')
  if (Math.abs(nowSeconds - iat) > maxSkewSeconds)
    return fail(`JWT iat is ${Math.round(nowSeconds - iat)} s from the server clock (at most ${maxSkewSeconds} s)`)
  return { ok: true }
}

/** An HS256 token with `iat` = `nowSeconds`: what a client (or a test) sends. */
export function signJwt(secret: Uint8Array, nowSeconds: number): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')
  const payload = Buffer.from(JSON.stringify({ iat: Math.floor(nowSeconds) })).toString('base64url')
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url')
  return `${header}.${payload}.${signature}`
}

function fail(reason: string): JwtVerdict {
  return { ok: false, reason }
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
