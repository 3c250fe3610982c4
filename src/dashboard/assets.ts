/**
 * The dashboard's three files (HTML, one ES module, CSS), read once at start-up and served by the RPC
 * server at `/dashboard`. No build step and nothing fetched from elsewhere: the page works offline and
 * talks to the node only through its public JSON-RPC (`POST /`) and WebSocket (`eth_subscribe`).
 *
 * Headers: a strict CSP (scripts, styles and connections from this origin only; `'self'` covers `ws:`
 * to the same host in CSP3 browsers; no inline code, no frames, no forms), `nosniff`, no referrer, and
 * `no-cache` + ETag: a browser revalidates every load (cheap: a 304) so an upgraded node never serves
 * a stale page against a changed RPC.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { NodeError } from '../primitives/errors.ts'

/** Same shape as the RPC server's `StaticAsset` (this folder sits beside rpc/, so it does not import it). */
export interface DashboardAsset {
  body: Buffer
  etag: string
  headers: Readonly<Record<string, string>>
}

/** Where the page lives; `/dashboard/` serves the same page, its files sit under it. */
export const DASHBOARD_PATH = '/dashboard'

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const FILES = [
  { file: 'index.html', type: 'text/html; charset=utf-8', urls: [DASHBOARD_PATH, `${DASHBOARD_PATH}/`] },
  { file: 'app.js', type: 'text/javascript; charset=utf-8', urls: [`${DASHBOARD_PATH}/app.js`] },
  { file: 'style.css', type: 'text/css; charset=utf-8', urls: [`${DASHBOARD_PATH}/style.css`] },
] as const

export class DashboardAssetError extends NodeError<'DASHBOARD_ASSETS_MISSING', undefined> {
  override readonly name = 'DashboardAssetError'
  constructor(message: string) {
    super('DASHBOARD_ASSETS_MISSING', message, { severity: 'critical' })
  }
}

/** Reads the static files and returns url → asset for every dashboard route. */
export async function loadDashboardAssets(): Promise<Map<string, DashboardAsset>> {
  const assets = new Map<string, DashboardAsset>()
  for (const { file, type, urls } of FILES) {
    let body: Buffer
    try {
      body = await readFile(new URL(`./static/${file}`, import.meta.url))
    } catch (error) {
      throw new DashboardAssetError(
        `dashboard file ${file} is missing from this installation (${error instanceof Error ? error.message : String(error)})`,
      )
    }
    const asset: DashboardAsset = { body, etag: etagOf(body), headers: assetHeaders(type) }
    for (const url of urls) assets.set(url, asset)
  }
  return assets
}

function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
}

function assetHeaders(contentType: string): Record<string, string> {
  return {
    'content-type': contentType,
    'cache-control': 'no-cache',
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  }
}
