/**
 * The dashboard in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) against
 * a real dev node under load: the page loads from the node alone (every request to another origin is
 * refused, so a CDN dependency would fail the test), its numbers move, a click on a transaction shows the
 * receipt eth_getTransactionReceipt returns, the console stays clean, and a screenshot is saved to the
 * test's temp dir (and to docs/dashboard.png, linked from the README, with UPDATE_SCREENSHOTS=1: a
 * plain `npm test` leaves the checkout as it was).
 *
 * Skipped only where no chromium is installed and CI is unset; in CI a missing browser fails the test.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { copyFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { createWalletClient, defineChain, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import {
  DEV_CHAIN_ID,
  DEV_KEYS,
  REPO_ROOT,
  removeTempDir,
  rpc,
  startNode,
  waitFor,
  type NodeHandle,
} from '../helpers/node-process.ts'

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const skip =
  !existsSync(CHROMIUM) && process.env['CI'] === undefined
    ? `${CHROMIUM} is not installed (apt-get install chromium); CI installs it and runs this test`
    : false

describe('dashboard in headless Chromium', { skip, timeout: 120_000 }, () => {
  let node: NodeHandle
  let context: BrowserContext
  let page: Page
  let tempDir: string
  let loading = true
  let load: Promise<number> | undefined
  const consoleErrors: string[] = []
  const foreignRequests: string[] = []

  /** Signed transfers from two dev keys until stopped: each waits for its predecessor's acceptance only. */
  async function runLoad(): Promise<number> {
    const chain = defineChain({
      id: DEV_CHAIN_ID,
      name: 'megaeth-dev',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [node.rpcUrl] } },
    })
    const senders = [DEV_KEYS[3]!, DEV_KEYS[4]!].map((key) =>
      createWalletClient({ account: privateKeyToAccount(key), chain, transport: http(node.rpcUrl) }),
    )
    let sent = 0
    await Promise.all(
      senders.map(async (wallet, i) => {
        let nonce = 0
        while (loading) {
          await wallet.sendTransaction({
            to: privateKeyToAccount(DEV_KEYS[10 + i]!).address,
            value: parseEther('0.001') + BigInt(nonce),
            nonce,
            gas: 21_000n,
            maxFeePerGas: 10_000_000_000n,
            maxPriorityFeePerGas: 1n,
          })
          nonce++
          sent++
        }
      }),
    )
    return sent
  }

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing and CI is set: .ci/run must install chromium`)
    tempDir = await mkdtemp(join(tmpdir(), 'megaeth-dashboard-'))
    node = await startNode()
    context = await chromium.launchPersistentContext(join(tempDir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 1000 },
    })
    const origin = new URL(node.rpcUrl).origin
    // Offline: anything but the node itself is refused (a CDN font or script would show up here).
    await context.route('**/*', (route) => {
      const url = route.request().url()
      if (url.startsWith(origin) || url.startsWith('data:')) return route.continue()
      foreignRequests.push(url)
      return route.abort()
    })
    page = context.pages()[0] ?? (await context.newPage())
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text())
    })
    page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`))
    load = runLoad()
  })

  after(async () => {
    loading = false
    await load?.catch(() => undefined)
    await context?.close()
    await node?.stop()
    if (tempDir !== undefined) await removeTempDir(tempDir)
  })

  it('serves its three files with their content types, a strict CSP and revalidation', async () => {
    for (const [path, type] of [
      ['/dashboard', 'text/html'],
      ['/dashboard/', 'text/html'],
      ['/dashboard/app.js', 'text/javascript'],
      ['/dashboard/style.css', 'text/css'],
    ] as const) {
      const res = await fetch(`${node.rpcUrl}${path}`)
      assert.equal(res.status, 200, path)
      assert.ok(res.headers.get('content-type')?.startsWith(type), `${path}: ${res.headers.get('content-type')}`)
      const csp = res.headers.get('content-security-policy') ?? ''
      assert.match(csp, /default-src 'none'/)
      assert.match(csp, /script-src 'self'(;|$)/)
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/)
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
      assert.equal(res.headers.get('cache-control'), 'no-cache')
      const etag = res.headers.get('etag')
      assert.ok(etag !== null)
      await res.arrayBuffer()
      const again = await fetch(`${node.rpcUrl}${path}`, { headers: { 'if-none-match': etag } })
      assert.equal(again.status, 304, `${path} revalidates`)
    }
    // JSON-RPC at POST / is untouched by the routes.
    assert.equal(await rpc(node.rpcUrl, 'eth_chainId'), `0x${DEV_CHAIN_ID.toString(16)}`)
  })

  it('loads, and its block number and TPS move while load runs', async () => {
    await page.goto(`${node.rpcUrl}/dashboard`)
    await page.locator('#conn', { hasText: /^live$/ }).waitFor({ timeout: 15_000 })
    const number = async (id: string): Promise<number> => Number(await page.locator(`#${id}`).textContent())
    const firstBlock = await waitFor('a block number on the page', async () => {
      const n = await number('block-number')
      return Number.isFinite(n) ? n : undefined
    })
    const firstTps = await waitFor('TPS above zero', async () => ((await number('tps')) > 0 ? number('tps') : undefined), 20_000)
    await waitFor('the block number to advance', async () => (await number('block-number')) > firstBlock, 20_000, 200)
    await waitFor('the mini-block number to advance', async () => {
      const before = BigInt((await page.locator('#mini-number').textContent()) ?? '0')
      await new Promise((resolve) => setTimeout(resolve, 600))
      return BigInt((await page.locator('#mini-number').textContent()) ?? '0') > before
    })
    // TPS is a 5-second window over a steady load: it is re-rendered (a different value) as load goes on.
    await waitFor('TPS to change', async () => (await number('tps')) !== firstTps, 20_000, 250)
    assert.ok(Number(await page.locator('#pool-pending').textContent()) >= 0, 'the sequencer shows its pool')
    assert.match((await page.locator('#l1').textContent()) ?? '', /no L1/)
    assert.match((await page.locator('#disputes').textContent()) ?? '', /no dispute game factory/)
    assert.match((await page.locator('#replica').textContent()) ?? '', /not a replica/)
    assert.ok((await page.locator('#blocks tr').count()) > 0, 'recent EVM blocks are listed')
    assert.ok((await page.locator('#mini-blocks tr').count()) > 0, 'recent mini-blocks are listed')
    assert.match((await page.locator('#interval-summary').textContent()) ?? '', /p50 [\d.]+ ms/)
  })

  it('shows the receipt of a clicked transaction as eth_getTransactionReceipt returns it', async () => {
    const row = page.locator('#txs tr[data-hash]').first()
    await row.hover()
    await row.click()
    const gasUsed = page.locator('#receipt-fields [data-field="gasUsed"][data-raw]')
    await gasUsed.waitFor({ timeout: 10_000 })
    const hash = (await page.locator('#tx-detail-hash').textContent()) ?? ''
    assert.match(hash, /^0x[0-9a-f]{64}$/)
    const receipt = await rpc<{ status: string; gasUsed: string }>(node.rpcUrl, 'eth_getTransactionReceipt', [hash])
    assert.equal(await gasUsed.getAttribute('data-raw'), receipt.gasUsed)
    assert.equal(await gasUsed.textContent(), BigInt(receipt.gasUsed).toString())
    assert.equal(BigInt(receipt.gasUsed), 21_000n)
    const status = page.locator('#receipt-fields [data-field="status"]')
    assert.equal(await status.getAttribute('data-raw'), receipt.status)
    assert.match((await status.textContent()) ?? '', /^success/)
    assert.equal(await page.locator('#tx-fields [data-field="hash"]').textContent(), hash)

    await page.mouse.move(0, 0)
    const shot = join(tempDir, 'dashboard.png')
    await page.screenshot({ path: shot, fullPage: true })
    console.log(`# screenshot: ${shot}`)
    if (process.env['UPDATE_SCREENSHOTS'] === '1') await copyFile(shot, join(REPO_ROOT, 'docs', 'dashboard.png'))
  })

  it('made no request outside the node and logged no console error', () => {
    assert.deepEqual(foreignRequests, [])
    assert.deepEqual(consoleErrors, [])
  })
})
