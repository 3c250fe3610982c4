/**
 * A tiny EVM assembler for hand-written test bytecode (issue 18's workloads): opcode names, numbers (pushed with the
 * shortest PUSH, PUSH0 for zero), exact pushes, labels (a JUMPDEST) and label references (a PUSH2 of its offset).
 */
import { type Hex, bytesToHex, hexToBytes, numberToHex } from 'viem'

export const OPCODES: Record<string, number> = {
  STOP: 0x00,
  ADD: 0x01,
  MUL: 0x02,
  SUB: 0x03,
  DIV: 0x04,
  SDIV: 0x05,
  MOD: 0x06,
  SMOD: 0x07,
  ADDMOD: 0x08,
  MULMOD: 0x09,
  EXP: 0x0a,
  SIGNEXTEND: 0x0b,
  LT: 0x10,
  GT: 0x11,
  SLT: 0x12,
  SGT: 0x13,
  EQ: 0x14,
  ISZERO: 0x15,
  AND: 0x16,
  OR: 0x17,
  XOR: 0x18,
  NOT: 0x19,
  BYTE: 0x1a,
  SHL: 0x1b,
  SHR: 0x1c,
  SAR: 0x1d,
  CLZ: 0x1e,
  KECCAK256: 0x20,
  ADDRESS: 0x30,
  BALANCE: 0x31,
  ORIGIN: 0x32,
  CALLER: 0x33,
  CALLVALUE: 0x34,
  CALLDATALOAD: 0x35,
  CALLDATASIZE: 0x36,
  CALLDATACOPY: 0x37,
  CODESIZE: 0x38,
  CODECOPY: 0x39,
  GASPRICE: 0x3a,
  EXTCODESIZE: 0x3b,
  EXTCODECOPY: 0x3c,
  RETURNDATASIZE: 0x3d,
  RETURNDATACOPY: 0x3e,
  EXTCODEHASH: 0x3f,
  BLOCKHASH: 0x40,
  COINBASE: 0x41,
  TIMESTAMP: 0x42,
  NUMBER: 0x43,
  PREVRANDAO: 0x44,
  GASLIMIT: 0x45,
  CHAINID: 0x46,
  SELFBALANCE: 0x47,
  BASEFEE: 0x48,
  BLOBHASH: 0x49,
  BLOBBASEFEE: 0x4a,
  POP: 0x50,
  MLOAD: 0x51,
  MSTORE: 0x52,
  MSTORE8: 0x53,
  SLOAD: 0x54,
  SSTORE: 0x55,
  JUMP: 0x56,
  JUMPI: 0x57,
  PC: 0x58,
  MSIZE: 0x59,
  GAS: 0x5a,
  JUMPDEST: 0x5b,
  TLOAD: 0x5c,
  TSTORE: 0x5d,
  MCOPY: 0x5e,
  PUSH0: 0x5f,
  LOG0: 0xa0,
  LOG1: 0xa1,
  LOG2: 0xa2,
  LOG3: 0xa3,
  LOG4: 0xa4,
  CREATE: 0xf0,
  CALL: 0xf1,
  CALLCODE: 0xf2,
  RETURN: 0xf3,
  DELEGATECALL: 0xf4,
  CREATE2: 0xf5,
  STATICCALL: 0xfa,
  REVERT: 0xfd,
  INVALID: 0xfe,
  SELFDESTRUCT: 0xff,
}
for (let i = 1; i <= 32; i++) OPCODES[`PUSH${i}`] = 0x5f + i
for (let i = 1; i <= 16; i++) {
  OPCODES[`DUP${i}`] = 0x7f + i
  OPCODES[`SWAP${i}`] = 0x8f + i
}

/**
 * One assembler item: an opcode name, a number to push, exact bytes to push, a label, a label reference, raw bytes;
 * or a string of space-separated tokens: opcode names, numbers (decimal or 0x-hex, pushed with the shortest PUSH),
 * `@name` (a label: JUMPDEST) and `&name` (a PUSH2 of the label's offset).
 */
export type AsmItem = string | number | bigint | { push: Hex } | { label: string } | { ref: string } | { raw: Hex }

/** Minimal big-endian bytes of `v` (empty for zero). */
function minimalBytes(v: bigint): Uint8Array {
  if (v < 0n) throw new Error(`cannot push negative ${v}`)
  if (v === 0n) return new Uint8Array()
  const hex = v.toString(16)
  return hexToBytes(`0x${hex.length % 2 === 1 ? `0${hex}` : hex}`)
}

function tokens(text: string): AsmItem[] {
  return text
    .split(/\s+/)
    .filter((t) => t !== '')
    .map((t): AsmItem => {
      if (t.startsWith('@')) return { label: t.slice(1) }
      if (t.startsWith('&')) return { ref: t.slice(1) }
      if (/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) return BigInt(t)
      if (OPCODES[t] === undefined) throw new Error(`unknown opcode ${t}`)
      return t
    })
}

/** Assembles `items` into bytecode. */
export function asm(...items: AsmItem[]): Hex {
  const out: number[] = []
  const labels = new Map<string, number>()
  const refs: { at: number; label: string }[] = []
  for (const item of items.flatMap((i) => (typeof i === 'string' ? tokens(i) : [i]))) {
    if (typeof item === 'string') out.push(OPCODES[item]!)
    else if (typeof item === 'number' || typeof item === 'bigint') {
      const b = minimalBytes(BigInt(item))
      if (b.length > 32) throw new Error(`push of more than 32 bytes: ${item}`)
      out.push(0x5f + b.length, ...b)
    } else if ('push' in item) {
      const b = hexToBytes(item.push)
      if (b.length === 0 || b.length > 32) throw new Error(`bad push ${item.push}`)
      out.push(0x5f + b.length, ...b)
    } else if ('label' in item) {
      if (labels.has(item.label)) throw new Error(`label ${item.label} twice`)
      labels.set(item.label, out.length)
      out.push(OPCODES.JUMPDEST!)
    } else if ('ref' in item) {
      refs.push({ at: out.length + 1, label: item.ref })
      out.push(0x61, 0, 0)
    } else out.push(...hexToBytes(item.raw))
  }
  for (const { at, label } of refs) {
    const pos = labels.get(label)
    if (pos === undefined) throw new Error(`undefined label ${label}`)
    out[at] = pos >> 8
    out[at + 1] = pos & 0xff
  }
  return bytesToHex(Uint8Array.from(out))
}

/** Initcode that deploys `runtime` as is: CODECOPY of what follows an 11-byte prefix, then RETURN. */
export function deployCode(runtime: Hex): Hex {
  const n = (runtime.length - 2) / 2
  if (n > 0xffff) throw new Error('runtime too large for deployCode')
  const len = numberToHex(n, { size: 2 }).slice(2)
  // PUSH2 len, DUP1, PUSH2 11, PUSH0, CODECOPY, PUSH0, RETURN
  return `0x61${len}80610${'00b'}5f395ff3${runtime.slice(2)}` as Hex
}

export interface CallOptions {
  /** Default `GAS` (all there is). */
  gas?: number | bigint | string
  value?: number | bigint | string
  argsOffset?: number
  argsSize?: number
  retOffset?: number
  retSize?: number
}

/** A CALL-family instruction with its arguments pushed (last first), as assembler text. `to` may be an address or
 *  opcode text (e.g. `ADDRESS`). `value` is ignored for DELEGATECALL and STATICCALL, which take none. */
export function call(op: 'CALL' | 'CALLCODE' | 'DELEGATECALL' | 'STATICCALL', to: Hex | string, o: CallOptions = {}): string {
  const withValue = op === 'CALL' || op === 'CALLCODE'
  const args = [
    o.retSize ?? 0,
    o.retOffset ?? 0,
    o.argsSize ?? 0,
    o.argsOffset ?? 0,
    ...(withValue ? [o.value ?? 0] : []),
    to,
    o.gas ?? 'GAS',
  ]
  return `${args.join(' ')} ${op}`
}

/** Stores `data` (whole 32-byte words, zero-padded at the end) into memory from `offset`, as assembler text. */
export function mstoreBytes(data: Hex, offset = 0): string {
  const bytes = hexToBytes(data)
  const out: string[] = []
  for (let i = 0; i < bytes.length; i += 32) {
    const chunk = new Uint8Array(32)
    chunk.set(bytes.subarray(i, i + 32))
    out.push(`${BigInt(bytesToHex(chunk))} ${offset + i} MSTORE`)
  }
  return out.join(' ')
}
