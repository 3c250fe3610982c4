/**
 * The dashboard's files as the RPC server serves them (no browser: test/e2e/dashboard-browser.test.ts
 * drives the page): content types, the strict CSP, ETag revalidation, JSON-RPC untouched at `POST /`,
 * reserved routes refused, and nothing in the files that would load from another origin.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { DASHBOARD_CSP, loadDashboardAssets } from '../../src/dashboard/assets.ts'
import { MethodRegistry, RpcServer } from '../../src/rpc/index.ts'

const logger = pino({ level: 'silent' })

describe('dashboard assets', () => {
  let server: RpcServer
  let base: string

  before(async () => {
    const registry = new MethodRegistry()
    registry.registerAll({ eth_chainId: () => '0x18c6' })
    server = new RpcServer({ port: 0 }, registry, { logger, assets: await loadDashboardAssets() })
    const { host, port } = await server.start()
    base = `http://${host}:${port}`
  })

  after(() => server.stop())

  it('serves the page, its module and its stylesheet with their types and security headers', async () => {
    const expected = {
      '/dashboard': 'text/html; charset=utf-8',
      '/dashboard/': 'text/html; charset=utf-8',
      '/dashboard/app.js': 'text/javascript; charset=utf-8',
      '/dashboard/style.css': 'text/css; charset=utf-8',
    }
    for (const [path, type] of Object.entries(expected)) {
      const res = await fetch(`${base}${path}`)
      assert.equal(res.status, 200, path)
      assert.equal(res.headers.get('content-type'), type, path)
      assert.equal(res.headers.get('content-security-policy'), DASHBOARD_CSP)
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
      assert.equal(res.headers.get('x-frame-options'), 'DENY')
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer')
      assert.equal(res.headers.get('cache-control'), 'no-cache')
      const etag = res.headers.get('etag')!
      assert.match(etag, /^"[A-Za-z0-9_-]{22}"$/)
      const body = await res.text()
      assert.ok(body.length > 100)
      const revalidated = await fetch(`${base}${path}`, { headers: { 'if-none-match': `"other", ${etag}` } })
      assert.equal(revalidated.status, 304)
      assert.equal(await revalidated.text(), '')
      const stale = await fetch(`${base}${path}`, { headers: { 'if-none-match': '"stale"' } })
      assert.equal(stale.status, 200)
      await stale.arrayBuffer()
    }
    assert.equal((await fetch(`${base}/dashboard/nope.js`)).status, 404)
  })

  it('leaves JSON-RPC and the probes where they were', async () => {
    const res = await fetch(base, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId' }) })
    assert.deepEqual(await res.json(), { jsonrpc: '2.0', id: 1, result: '0x18c6' })
    assert.equal((await fetch(`${base}/readyz`)).status, 200)
  })

  it('refuses an asset on a reserved route', async () => {
    const asset = { body: Buffer.from('x'), etag: '"x"', headers: {} }
    const shadow = new RpcServer({ port: 0 }, new MethodRegistry(), { logger, assets: new Map([['/readyz', asset]]) })
    await assert.rejects(shadow.start(), /reserved/)
    await shadow.stop()
  })

  it('has a CSP with no inline code, and files that load nothing from another origin', () => {
    assert.doesNotMatch(DASHBOARD_CSP, /unsafe|\*|https?:/)
    const dir = new URL('../../src/dashboard/static/', import.meta.url)
    const html = readFileSync(new URL('index.html', dir), 'utf8')
    const js = readFileSync(new URL('app.js', dir), 'utf8')
    const css = readFileSync(new URL('style.css', dir), 'utf8')
    // Inline scripts, styles and handlers would be blocked by the CSP: none may exist.
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>|<style|\son[a-z]+=|style=/i)
    assert.deepEqual(
      [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]),
      ['data:,', '/dashboard/style.css', '/dashboard/app.js'],
    )
    assert.doesNotMatch(css, /@import|url\(/)
    // The only absolute URL in the module is the SVG namespace (an identifier, never fetched).
    assert.deepEqual(
      [...js.matchAll(/https?:\/\/[^\s'"`]+/g)].map((m) => m[0]),
      ['http://www.w3.org/2000/svg'],
    )
    assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|eval\(|new Function/)
  })
})
