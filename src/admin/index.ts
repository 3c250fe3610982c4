/** The admin API: JWT-authenticated JSON-RPC on its own port, acting on the node through `AdminControls`. */
export type { AdminControls, AdminLogLevel, AdminPeer, LogLevelControl, PeerControl, SequencerControl } from './interface.ts'
export { JwtSecretError, JWT_MAX_SKEW_SECONDS, generateJwtSecretHex, parseJwtSecret, signJwt, verifyJwt } from './jwt.ts'
export type { JwtVerdict } from './jwt.ts'
export { ADMIN_REQUESTS_METRIC, createAdminMetrics, type AdminMetrics } from './metrics.ts'
export { registerAdminMethods } from './methods.ts'
export { DEFAULT_ADMIN_ADDR, DEFAULT_ADMIN_MAX_BODY_BYTES, type AdminServerOptions } from './options.ts'
export { AdminServer, type AdminServerDeps } from './server.ts'
