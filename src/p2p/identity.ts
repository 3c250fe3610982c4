/**
 * The node's libp2p identity (an Ed25519 key; the peer id is derived from it).
 *
 * Persisted so a restarted node keeps its peer id: bootnode multiaddrs name it, and peers' scores and
 * bans are keyed by it. The file holds the hex of the key's libp2p protobuf encoding (the format other
 * libp2p tools read), mode 0600.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { P2pKeyFileError } from './errors.ts'

/** Loads the key from `keyFile`, creating the file with a new key if it does not exist; no file: a fresh key. */
export async function loadOrCreateIdentity(keyFile: string | undefined): Promise<PrivateKey> {
  if (keyFile === undefined) return generateKeyPair('Ed25519')
  let text: string
  try {
    text = await readFile(keyFile, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    return createIdentityFile(keyFile)
  }
  try {
    const hex = text.trim()
    if (!/^([0-9a-f]{2})+$/i.test(hex)) throw new Error('not hex')
    return privateKeyFromProtobuf(Buffer.from(hex, 'hex'))
  } catch (err) {
    throw new P2pKeyFileError(keyFile, err)
  }
}

async function createIdentityFile(keyFile: string): Promise<PrivateKey> {
  const key = await generateKeyPair('Ed25519')
  await mkdir(dirname(keyFile), { recursive: true })
  // Write then rename: a crash mid-write must not leave a truncated file that fails every later start.
  const tmp = `${keyFile}.${randomBytes(4).toString('hex')}.tmp`
  await writeFile(tmp, `${Buffer.from(privateKeyToProtobuf(key)).toString('hex')}\n`, { mode: 0o600, flag: 'wx' })
  await rename(tmp, keyFile)
  return key
}
