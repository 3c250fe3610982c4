import { bytesToHex } from '@ethereumjs/util'

const ERROR_SELECTOR = '0x08c379a0' // Error(string)
const PANIC_SELECTOR = '0x4e487b71' // Panic(uint256)

/** Solidity's panic codes, worded as solc documents them. */
const PANIC_REASONS: Record<number, string> = {
  0: 'generic panic',
  1: 'assert(false)',
  17: 'arithmetic underflow or overflow',
  18: 'division or modulo by zero',
  33: 'enum overflow',
  34: 'invalid encoded storage byte array accessed',
  49: 'out-of-bounds array access; popped on an empty array',
  50: 'out-of-bounds access of an array or bytesN',
  65: 'out of memory',
  81: 'uninitialized function',
}

/** The human-readable reason in revert data, if it is an `Error(string)` or a `Panic(uint256)`. */
export function decodeRevertReason(data: Uint8Array): string | undefined {
  if (data.length < 4) return undefined
  const selector = bytesToHex(data.subarray(0, 4))
  if (selector === ERROR_SELECTOR && data.length >= 68) {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
    const offset = 4 + Number(view.getBigUint64(4 + 24))
    if (offset + 32 > data.length) return undefined
    const length = Number(view.getBigUint64(offset + 24))
    if (offset + 32 + length > data.length) return undefined
    return new TextDecoder().decode(data.subarray(offset + 32, offset + 32 + length))
  }
  if (selector === PANIC_SELECTOR && data.length === 36) {
    const code = Number(BigInt(bytesToHex(data.subarray(4))))
    return `panic: ${PANIC_REASONS[code] ?? 'unknown panic'} (0x${code.toString(16)})`
  }
  return undefined
}
