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

/** A function that replaces every spelling of `url` and its secret parts in a text with the redacted form. */
export function l1UrlScrubber(url: string): (text: string) => string {
  const redacted = redactL1Url(url)
  const secrets = new Set<string>([url])
  try {
    const parsed = new URL(url)
    secrets.add(parsed.href)
    const bare = new URL(parsed.href)
    bare.username = ''
    bare.password = ''
    secrets.add(bare.href)
    secrets.add(bare.href.replace(/\/$/, ''))
    const secretParts = [parsed.username, parsed.password, decodeURIComponent(parsed.password), parsed.search]
    if (parsed.pathname.length > 1) secretParts.push(parsed.pathname, parsed.pathname.slice(1))
    for (const part of secretParts) if (part.length > 0) secrets.add(part)
  } catch {
    // not a URL: only the verbatim text is known
  }
  // Longest first, so a URL is replaced whole before its parts are.
  const ordered = [...secrets].sort((a, b) => b.length - a.length)
  return (text) => {
    let out = text
    for (const secret of ordered) out = out.split(secret).join(secret.length >= 12 || secret === url ? redacted : '…')
    return out
  }
}

/** viem transport for an L1 RPC URL (http(s) or ws(s)), with userinfo moved into a basic Authorization header. */
export function l1Transport(url: string, options: { timeoutMs?: number } = {}): Transport {
  const parsed = new URL(url)
  const headers: Record<string, string> = {}
  if (parsed.username !== '' || parsed.password !== '') {
    const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`
    headers['authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`
    parsed.username = ''
    parsed.password = ''
  }
  const timeout = options.timeoutMs ?? 10_000
  if (parsed.protocol === 'ws:' || parsed.protocol === 'wss:') return webSocket(parsed.href, { timeout, retryCount: 0 })
  // No retries inside viem: the watcher's own backoff decides when to try again.
  return http(parsed.href, { timeout, retryCount: 0, fetchOptions: { headers } })
}
