/**
 * JSON-RPC transport: chain-agnostic server, method registry, typed errors,
 * parameter parsers/encoders and WebSocket subscriptions.
 */
export {
  RpcError,
  RpcErrorCode,
  isRpcError,
  parseError,
  invalidRequest,
  methodNotFound,
  invalidParams,
  internalError,
  invalidInput,
  resourceNotFound,
  resourceUnavailable,
  transactionRejected,
  methodNotSupported,
  limitExceeded,
  executionReverted,
} from './errors.ts'
export type { JsonRpcErrorObject } from './errors.ts'

export {
  invalidArgument,
  parseQuantity,
  parseAddress,
  parseHash,
  parseStorageKey,
  parseHexOrDecimal64,
  parseBytes,
  parseBoolean,
  parseBlockTag,
  expectParams,
  toQuantity,
  toData,
} from './params.ts'
export type { BlockSelector, BlockTagName, ParamLocation, QuantityOptions, StorageKey } from './params.ts'

export { MethodRegistry } from './registry.ts'
export { registerIntrospectionMethods } from './introspection.ts'
export type { RpcContext, RpcHandler } from './registry.ts'

export { WsConnection, WsCloseCode, newSubscriptionId } from './ws-connection.ts'
export type { WsConnectionOptions, WsSocket } from './ws-connection.ts'

export { DEFAULT_RPC_SERVER_OPTIONS, resolveRpcServerOptions } from './options.ts'
export type { RpcServerOptions } from './options.ts'

export { createRpcMetrics, OTHER_METHOD_LABEL, RPC_REQUEST_DURATION_METRIC } from './metrics.ts'
export type { RpcMetrics } from './metrics.ts'

export { RpcServer, Dispatcher, validateRequest } from './server.ts'
export type { HealthProbe, JsonRpcId, JsonRpcResponse, RpcServerDeps, StaticAsset } from './server.ts'
