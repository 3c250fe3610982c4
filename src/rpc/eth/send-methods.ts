import { RpcError } from '../errors.ts'
import type { MethodRegistry } from '../registry.ts'
import { expectParams, parseBytes } from '../params.ts'
import type { EthBackend } from './backend.ts'
import { formatReceipt } from './format.ts'

/** EIP-7966 error codes of eth_sendRawTransactionSync. */
export const SYNC_TIMEOUT_CODE = 4
export const SYNC_NOT_READY_CODE = 5

/** eth_sendRawTransaction and the realtime variants that answer with the receipt. */
export function registerSendMethods(registry: MethodRegistry, backend: EthBackend): void {
  const { options } = backend
  registry.registerAll({
    eth_sendRawTransaction: async (params) => {
      const [raw] = expectParams(params, 1)
      return backend.submit(parseBytes(raw, 0))
    },
    eth_sendRawTransactionSync: async (params) => {
      const [raw, timeout] = expectParams(params, 1, 2)
      const timeoutMs = syncTimeout(timeout, options.syncSendTimeoutMs, options.maxSyncSendTimeoutMs)
      const outcome = await backend.submitAndWait(parseBytes(raw, 0), timeoutMs)
      if (outcome.notReady !== undefined)
        throw new RpcError(SYNC_NOT_READY_CODE, `transaction not ready: ${outcome.notReady}`, outcome.hash)
      if (outcome.receipt === undefined) {
        throw new RpcError(
          SYNC_TIMEOUT_CODE,
          `the transaction was added to the transaction pool but wasn't processed in ${timeoutMs}ms`,
          outcome.hash,
        )
      }
      return formatReceipt(outcome.receipt, null)
    },
    realtime_sendRawTransaction: async (params) => {
      const [raw] = expectParams(params, 1)
      const outcome = await backend.submitAndWait(parseBytes(raw, 0), options.realtimeTimeoutMs)
      if (outcome.receipt === undefined) throw new RpcError(-32000, 'realtime transaction expired', outcome.hash)
      return formatReceipt(outcome.receipt, null)
    },
  })
}

/**
 * The timeout arrives as a JSON number (viem 2.56) or a hex quantity (older viem); anything else
 * falls back to the default, as EIP-7966 asks, and every value is capped at the node's maximum.
 */
export function syncTimeout(value: unknown, fallback: number, max: number): number {
  let ms: number | undefined
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) ms = Math.floor(value)
  else if (typeof value === 'string' && /^0x[0-9a-fA-F]{1,12}$/.test(value)) ms = Number.parseInt(value.slice(2), 16)
  if (ms === undefined || ms <= 0) ms = fallback
  return ms > max ? max : ms
}
