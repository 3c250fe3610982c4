/**
 * An L1 RPC URL is a secret: providers put API keys in the path or query, and basic-auth credentials in the
 * userinfo. The node never logs or echoes it: it logs `redactL1Url(url)` (`scheme://host:port/…`), scrubs it out of
 * every error text it keeps (viem's transport errors quote the URL), and sends credentials as an Authorization
 * header (fetch refuses URLs with userinfo).
 */
import { http, webSocket, type Transport } from 'viem'

/** `scheme://host:port/…`: enough to tell which endpoint, nothing that authenticates. */
export function redactL1Url(url: string): string {
  try {
    const parsed = new URL(url)
    const port = parsed.port === '' ? '' : `:${parsed.port}`
    return `${parsed.protocol}//${parsed.hostname}${port}/…`
  } catch {
    return '<invalid URL>'
  }
}

/** A function that replaces every spelling of `url` (by the redacted form) and its secret parts (by `…`) in a text. */
export function l1UrlScrubber(url: string): (text: string) => string {
  const redacted = redactL1Url(url)
  const spellings = new Set<string>([url])
  const parts = new Set<string>()
  try {
    const parsed = new URL(url)
    spellings.add(parsed.href)
    const bare = new URL(parsed.href)
    bare.username = ''
    bare.password = ''
    spellings.add(bare.href)
    spellings.add(bare.href.replace(/\/$/, ''))
    for (const part of [parsed.username, parsed.password, decodeURIComponent(parsed.password), parsed.search])
      if (part.length > 0) parts.add(part)
    if (parsed.pathname.length > 1) parts.add(parsed.pathname).add(parsed.pathname.slice(1))
  } catch {
    // not a URL: only the verbatim text is known
  }
  // Longest first, so a URL is replaced whole before its parts are.
  const replacements = [
    ...[...spellings].map((secret) => [secret, redacted] as const),
    ...[...parts].map((secret) => [secret, '…'] as const),
  ].sort((a, b) => b[0].length - a[0].length)
  return (text) => {
    let out = text
    for (const [secret, replacement] of replacements) out = out.split(secret).join(replacement)
    return out
  }
}

/** viem transport for an L1 RPC URL (http(s) or ws(s)); over HTTP, userinfo moves into a basic Authorization header. */
export function l1Transport(url: string, options: { timeoutMs?: number } = {}): Transport {
  const parsed = new URL(url)
  const timeout = options.timeoutMs ?? 10_000
  // The WebSocket client sends userinfo as basic auth itself.
  if (parsed.protocol === 'ws:' || parsed.protocol === 'wss:') return webSocket(url, { timeout, retryCount: 0 })
  const headers: Record<string, string> = {}
  if (parsed.username !== '' || parsed.password !== '') {
    const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`
    headers['authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`
    parsed.username = ''
    parsed.password = ''
  }
  // No retries inside viem: the watcher's own backoff decides when to try again.
  return scrubbingTransport(http(parsed.href, { timeout, retryCount: 0, fetchOptions: { headers } }), l1UrlScrubber(url))
}

/**
 * An L1 RPC failure with every spelling of the L1 URL taken out of its text: viem quotes the request URL
 * (and so an API key in its path) in its errors, and whoever logs an L1 error — the watcher, derivation,
 * the batcher — must not have to remember to scrub it. Keeps the JSON-RPC `code`, which viem maps to
 * its error classes.
 */
export class L1RpcError extends Error {
  override readonly name = 'L1RpcError'
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message)
  }
}

function scrubbingTransport(transport: Transport, scrub: (text: string) => string): Transport {
  return (params) => {
    const inner = transport(params)
    return {
      ...inner,
      request: (async (args: unknown, options: unknown) => {
        try {
          return await (inner.request as (a: unknown, o: unknown) => Promise<unknown>)(args, options)
        } catch (error) {
          throw new L1RpcError(scrub(errorText(error)), errorCode(error))
        }
      }) as typeof inner.request,
    }
  }
}

/** The messages and details of an error and its causes, joined. */
function errorText(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let i = 0; i < 8 && current instanceof Error; i++) {
    const details = (current as { details?: unknown }).details
    parts.push(current.message, typeof details === 'string' ? details : '')
    current = current.cause
  }
  if (parts.length === 0) parts.push(String(error))
  return parts.filter((p) => p.length > 0).join(' | ')
}

function errorCode(error: unknown): number | undefined {
  let current: unknown = error
  for (let i = 0; i < 8 && current instanceof Error; i++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'number') return code
    current = current.cause
  }
  return undefined
}
