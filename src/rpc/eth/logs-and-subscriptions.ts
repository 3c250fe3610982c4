/**
 * Wiring for logs, filters and subscriptions: one call registers every method of the family and
 * hands back the FilterManager, whose lifecycle (`start()` once the chain is open, `stop()` on
 * shutdown) the caller owns.
 */
import type { MethodRegistry } from '../registry.ts'
import type { EthBackend } from './backend.ts'
import { FilterManager, type ListenerErrorHandler } from './filters.ts'
import { getLogsHandler } from './logs.ts'
import { subscriptionHandlers } from './subscriptions.ts'

export interface LogAndSubscriptionHooks {
  /**
   * Called when a chain-event listener (filter feed, subscription producer) throws. Such errors are
   * contained — ChainView emits from the producer's path — so pass a logger here to see them.
   */
  onListenerError?: ListenerErrorHandler
}

/**
 * Registers eth_getLogs, eth_newFilter, eth_newBlockFilter, eth_newPendingTransactionFilter,
 * eth_getFilterChanges, eth_getFilterLogs, eth_uninstallFilter, eth_subscribe and eth_unsubscribe.
 * Filter methods answer -32002 until the returned manager is started.
 */
export function registerLogAndSubscriptionMethods(
  registry: MethodRegistry,
  backend: EthBackend,
  hooks: LogAndSubscriptionHooks = {},
): FilterManager {
  const filters = new FilterManager(backend, hooks)
  registry.registerAll({
    eth_getLogs: getLogsHandler(backend),
    ...filters.handlers(),
    ...subscriptionHandlers(backend, hooks),
  })
  return filters
}
