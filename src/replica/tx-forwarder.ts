import { bytesToHex } from '@ethereumjs/util'
import type { Hex } from '../primitives/state-diff.ts'
import { RpcError, resourceUnavailable } from '../rpc/errors.ts'

/**
 * Sends transactions on to the sequencer's JSON-RPC endpoint: a replica takes writes from its users
 * but only the sequencer orders them. The sequencer's answer, errors included (code and message),
 * goes back to the user unchanged.
 */
export class TxForwarder {
  private nextId = 1

  constructor(
    /** The sequencer's RPC URL (configured, or learnt from its sync status); undefined while unknown. */
    private readonly url: () => Promise<string | undefined>,
    private readonly timeoutMs = 65_000,
  ) {}

  async sendRaw(raw: Uint8Array): Promise<Hex> {
    return (await this.call('eth_sendRawTransaction', [bytesToHex(raw)])) as Hex
  }

  async sendRawSync(raw: Uint8Array, timeoutMs: number): Promise<unknown> {
    return this.call('eth_sendRawTransactionSync', [bytesToHex(raw), timeoutMs])
  }

  private async call(method: string, params: unknown[]): Promise<unknown> {
    const url = await this.url()
    if (url === undefined)
      throw resourceUnavailable('the sequencer endpoint is not known yet (set --sequencer.rpc, or wait for p2p sync)')
    let body: { result?: unknown; error?: { code: number; message: string; data?: unknown } }
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
      body = (await response.json()) as typeof body
    } catch (error) {
      throw resourceUnavailable(
        `the sequencer at ${url} did not answer: ${error instanceof Error ? error.message : String(error)}`,
      )
    }
    if (body.error !== undefined) throw new RpcError(body.error.code, body.error.message, body.error.data)
    return body.result
  }
}
