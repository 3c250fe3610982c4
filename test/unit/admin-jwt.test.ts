/**
 * The admin API's HS256 JWT check against tokens built here with node:crypto directly (not with the
 * module's own signer), so a bug shared by signer and verifier cannot hide: the valid token passes,
 * and each way of forging or replaying one (no signature, `alg: none`, another algorithm, another
 * secret, a changed payload, a stale or future `iat`, no `iat`) is refused with its reason.
 */
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { describe, it } from 'node:test'
import { JWT_MAX_SKEW_SECONDS, parseJwtSecret, signJwt, verifyJwt } from '../../src/admin/jwt.ts'

const SECRET = Uint8Array.from(Buffer.from('11'.repeat(32), 'hex'))
const OTHER = Uint8Array.from(Buffer.from('22'.repeat(32), 'hex'))
const NOW = 1_800_000_000

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

function token(header: unknown, claims: unknown, secret: Uint8Array = SECRET): string {
  const signingInput = `${b64(header)}.${b64(claims)}`
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`
}

function refusal(t: string, now = NOW): string {
  const verdict = verifyJwt(t, SECRET, now)
  assert.equal(verdict.ok, false, `token should be refused: ${t}`)
  return verdict.ok ? '' : verdict.reason
}

describe('admin JWT (HS256, iat within 60 s)', () => {
  it('accepts a token signed with the secret, iat now or within the window either way', () => {
    for (const iat of [NOW, NOW - JWT_MAX_SKEW_SECONDS, NOW + JWT_MAX_SKEW_SECONDS])
      assert.deepEqual(verifyJwt(token({ alg: 'HS256', typ: 'JWT' }, { iat }), SECRET, NOW), { ok: true })
    // The header may omit typ (geth's clients do).
    assert.deepEqual(verifyJwt(token({ alg: 'HS256' }, { iat: NOW }), SECRET, NOW), { ok: true })
  })

  it('signJwt makes tokens the verifier (and an independent HMAC) accept', () => {
    const t = signJwt(SECRET, NOW)
    assert.deepEqual(verifyJwt(t, SECRET, NOW), { ok: true })
    const [h, p, s] = t.split('.')
    assert.equal(s, createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url'))
  })

  it('refuses a stale or future iat, and a token without iat', () => {
    assert.match(refusal(token({ alg: 'HS256' }, { iat: NOW - JWT_MAX_SKEW_SECONDS - 1 })), /iat/)
    assert.match(refusal(token({ alg: 'HS256' }, { iat: NOW + JWT_MAX_SKEW_SECONDS + 1 })), /iat/)
    assert.match(refusal(token({ alg: 'HS256' }, {})), /no iat/)
    assert.match(refusal(token({ alg: 'HS256' }, { iat: String(NOW) })), /no iat/)
  })

  it('refuses alg none (with or without a signature) and every other algorithm', () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iat: NOW })}.`
    refusal(unsigned)
    assert.match(refusal(token({ alg: 'none' }, { iat: NOW })), /algorithm "none" refused/)
    for (const alg of ['HS384', 'HS512', 'RS256', 'ES256', 'hs256'])
      assert.match(refusal(token({ alg }, { iat: NOW })), /algorithm/)
    assert.match(refusal(token({ typ: 'JWT' }, { iat: NOW })), /algorithm null refused/)
  })

  it('refuses a token signed with another secret, or with a changed payload', () => {
    assert.match(refusal(token({ alg: 'HS256' }, { iat: NOW }, OTHER)), /bad JWT signature/)
    const [h, , s] = token({ alg: 'HS256' }, { iat: NOW - 3600 }).split('.')
    assert.match(refusal(`${h}.${b64({ iat: NOW })}.${s}`), /bad JWT signature/)
    // A truncated signature is a bad signature, not a crash in the constant-time compare.
    assert.match(refusal(`${h}.${b64({ iat: NOW })}.${s!.slice(0, 10)}`), /bad JWT signature/)
  })

  it('refuses what is not a JWT, and the reason never contains the token', () => {
    for (const t of ['', 'abc', 'a.b', 'a.b.c.d', '!!.??.**', `${b64({ alg: 'HS256' })}.%%.x`]) {
      const reason = refusal(t)
      if (t.length > 3) assert.ok(!reason.includes(t), reason)
    }
  })

  it('parses 32-byte hex secrets, with or without 0x and whitespace, and nothing else', () => {
    assert.deepEqual(parseJwtSecret(`0x${'11'.repeat(32)}\n`), SECRET)
    assert.deepEqual(parseJwtSecret(`  ${'11'.repeat(32)}  `), SECRET)
    for (const bad of ['', '0x', '11'.repeat(31), '11'.repeat(33), 'zz'.repeat(32), `0x0x${'11'.repeat(32)}`])
      assert.throws(() => parseJwtSecret(bad), { name: 'JwtSecretError' })
  })
})
