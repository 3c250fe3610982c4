/**
 * A do-nothing JSON-RPC server for measuring the load generator's own ceiling: it answers every
 * batch with one fake tx hash per request id, without decoding anything. Run as a child process.
 */
import http from 'node:http'

const HASH = `"0x${'ab'.repeat(32)}"`
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('latin1')
    const parts: string[] = []
    const re = /"id":(\d+)/g
    let m: RegExpExecArray | null
    while ((m = re.exec(body)) !== null) parts.push(`{"jsonrpc":"2.0","id":${m[1]},"result":${HASH}}`)
    const out = body.startsWith('[') ? `[${parts.join(',')}]` : (parts[0] ?? '{}')
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) })
    res.end(out)
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  const addr = server.address()
  process.send?.({ port: typeof addr === 'object' && addr !== null ? addr.port : 0 })
})
process.on('disconnect', () => process.exit(0))
