/**
 * Nibble paths: a `Uint8Array` holding one 4-bit value (0..15) per element.
 *
 * Paths are never mutated after creation, so a trie may share them through `subarray` views
 * (when splitting a path) instead of copying.
 */

export const EMPTY_NIBBLES: Uint8Array = new Uint8Array(0)

export function bytesToNibbles(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length * 2)
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]
    out[2 * i] = b >> 4
    out[2 * i + 1] = b & 0x0f
  }
  return out
}

/** Length of the common prefix of `path` and `key[offset..]`. */
export function matchingLength(path: Uint8Array, key: Uint8Array, offset: number): number {
  const max = Math.min(path.length, key.length - offset)
  let i = 0
  while (i < max && path[i] === key[offset + i]) i++
  return i
}

/** True when `key[offset..]` is exactly `path`. */
export function matchesRest(path: Uint8Array, key: Uint8Array, offset: number): boolean {
  return path.length === key.length - offset && matchingLength(path, key, offset) === path.length
}

/** True when `key[offset..]` starts with `path`. */
export function startsWith(key: Uint8Array, offset: number, path: Uint8Array): boolean {
  return path.length <= key.length - offset && matchingLength(path, key, offset) === path.length
}

export function prependNibble(nibble: number, path: Uint8Array): Uint8Array {
  const out = new Uint8Array(path.length + 1)
  out[0] = nibble
  out.set(path, 1)
  return out
}

export function concatNibbles(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/** Byte length of the hex-prefix (compact) encoding of a path (yellow paper, appendix C). */
export function hexPrefixLength(path: Uint8Array): number {
  return (path.length >> 1) + 1
}

/**
 * Writes the hex-prefix encoding of `path` at `out[pos..]` and returns the position after it.
 * The flag nibble carries parity (bit 0) and leaf-ness (bit 1); an odd path's first nibble
 * shares the flag byte.
 */
export function writeHexPrefix(path: Uint8Array, leaf: boolean, out: Uint8Array, pos: number): number {
  const flag = leaf ? 2 : 0
  let i = 0
  if (path.length & 1) {
    out[pos++] = ((flag | 1) << 4) | path[0]
    i = 1
  } else {
    out[pos++] = flag << 4
  }
  for (; i < path.length; i += 2) out[pos++] = (path[i] << 4) | path[i + 1]
  return pos
}

export interface DecodedHexPrefix {
  path: Uint8Array
  leaf: boolean
}

/** Inverse of `writeHexPrefix`; returns undefined for a malformed flag nibble. */
export function decodeHexPrefix(encoded: Uint8Array): DecodedHexPrefix | undefined {
  if (encoded.length === 0) return undefined
  const flag = encoded[0] >> 4
  if (flag > 3) return undefined
  const odd = (flag & 1) === 1
  if (!odd && (encoded[0] & 0x0f) !== 0) return undefined
  const path = new Uint8Array((encoded.length - 1) * 2 + (odd ? 1 : 0))
  let p = 0
  if (odd) path[p++] = encoded[0] & 0x0f
  for (let i = 1; i < encoded.length; i++) {
    path[p++] = encoded[i] >> 4
    path[p++] = encoded[i] & 0x0f
  }
  return { path, leaf: (flag & 2) === 2 }
}
