export interface AdminServerOptions {
  /** Listen address; loopback by default (the admin API acts on the node). */
  host: string
  /** 0 = any free port. */
  port: number
  /** The 32-byte HS256 secret. */
  jwtSecret: Uint8Array
  /** Largest request body, in bytes. */
  maxBodyBytes: number
}

export const DEFAULT_ADMIN_ADDR = '127.0.0.1'
export const DEFAULT_ADMIN_MAX_BODY_BYTES = 64 * 1024
