/**
 * `megaeth-node init --datadir D`: everything a new chain needs to start, written once. A genesis (the
 * file `--genesis` takes: the dev genesis's system contracts, a new chain id, the accounts given with
 * `--prefund`), fresh sequencer, batcher and proposer keys, the admin API's JWT secret, and a
 * `config.toml` that wires them (`megaeth-node --config D/config.toml` runs the sequencer). Secrets go
 * to 0600 files and are never printed: the output shows addresses and paths only. No file is ever
 * overwritten: when one of them exists, nothing is written.
 *
 * L1: init deploys nothing. The chain it writes is pure L2; the rollup's L1 side (contracts, then
 * `l1.rpc` and `rollup.config` in the config) is added once deployed, with the batcher key written here.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, rm } from 'node:fs/promises'
import { resolve, join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import { generateJwtSecretHex } from './admin/index.ts'
import { devGenesis, type GenesisFile } from './chain/genesis.ts'
import { ConfigError } from './config.ts'
import { privateKeyToAddress } from './crypto/native.ts'
import type { Hex } from './primitives/state-diff.ts'

export interface InitOptions {
  datadir: string
  /** undefined = a random one. */
  chainId: bigint | undefined
  /** Accounts funded at genesis with `PREFUND_WEI` each. */
  prefund: Hex[]
}

export interface InitResult {
  datadir: string
  chainId: bigint
  files: { genesis: string; config: string; adminJwt: string; sequencerKey: string; batcherKey: string; proposerKey: string }
  addresses: { sequencer: Hex; batcher: Hex; proposer: Hex }
}

export const PREFUND_WEI = 10_000n * 10n ** 18n
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

/** A uniformly random valid secp256k1 private key. */
export function generatePrivateKey(): Uint8Array {
  for (;;) {
    const key = randomBytes(32)
    const k = BigInt(`0x${key.toString('hex')}`)
    if (k > 0n && k < SECP256K1_N) return Uint8Array.from(key)
  }
}

/** The genesis of a new chain: the dev genesis's system contracts, `chainId`, and the prefunded accounts. */
export function initGenesis(chainId: bigint, prefund: readonly Hex[]): GenesisFile {
  const dev = devGenesis()
  // Only accounts with code (the system contracts); the dev chain's test-mnemonic accounts are public keys.
  const alloc = Object.fromEntries(Object.entries(dev.alloc).filter(([, account]) => account.code !== undefined))
  for (const address of prefund) alloc[address.toLowerCase()] = { balance: `0x${PREFUND_WEI.toString(16)}` }
  return { ...dev, config: { ...dev.config, chainId: Number(chainId) }, alloc }
}

export async function runInit(options: InitOptions): Promise<InitResult> {
  const datadir = resolve(options.datadir)
  const chainId = options.chainId ?? BigInt(1_000_000 + (randomBytes(4).readUInt32BE(0) % 1_000_000_000))
  const files = {
    genesis: join(datadir, 'genesis.json'),
    config: join(datadir, 'config.toml'),
    adminJwt: join(datadir, 'admin-jwt.hex'),
    sequencerKey: join(datadir, 'sequencer-key.hex'),
    batcherKey: join(datadir, 'batcher-key.hex'),
    proposerKey: join(datadir, 'proposer-key.hex'),
  }
  const keys = { sequencer: generatePrivateKey(), batcher: generatePrivateKey(), proposer: generatePrivateKey() }
  const addresses = {
    sequencer: bytesToHex(privateKeyToAddress(keys.sequencer)) as Hex,
    batcher: bytesToHex(privateKeyToAddress(keys.batcher)) as Hex,
    proposer: bytesToHex(privateKeyToAddress(keys.proposer)) as Hex,
  }
  const contents: [string, string, number][] = [
    [files.sequencerKey, `${bytesToHex(keys.sequencer)}\n`, 0o600],
    [files.batcherKey, `${bytesToHex(keys.batcher)}\n`, 0o600],
    [files.proposerKey, `${bytesToHex(keys.proposer)}\n`, 0o600],
    [files.adminJwt, `${generateJwtSecretHex()}\n`, 0o600],
    [files.genesis, `${JSON.stringify(initGenesis(chainId, options.prefund), null, 2)}\n`, 0o644],
    [files.config, configToml(datadir, files, addresses), 0o644],
  ]
  await mkdir(datadir, { recursive: true })
  const written: string[] = []
  try {
    for (const [path, text, mode] of contents) {
      // 'wx': created here or not at all, so an existing chain's keys are never replaced.
      const handle = await open(path, 'wx', mode).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST')
          throw new ConfigError(
            `init: ${path} exists: ${datadir} already holds a chain (init never overwrites; pick a new --datadir)`,
          )
        throw error
      })
      written.push(path)
      try {
        await handle.writeFile(text)
        await handle.sync()
      } finally {
        await handle.close()
      }
    }
  } catch (error) {
    // All or nothing: a half-written datadir would block the next init and start no chain.
    await Promise.all(written.map((path) => rm(path, { force: true })))
    throw error
  }
  return { datadir, chainId, files, addresses }
}

function configToml(datadir: string, files: InitResult['files'], addresses: InitResult['addresses']): string {
  // Paths relative to the file (config.ts resolves them so): the directory can be moved or mounted elsewhere.
  const q = (text: string) => JSON.stringify(text.startsWith(`${datadir}/`) ? text.slice(datadir.length + 1) : text)
  return `# megaeth-node configuration, written by \`megaeth-node init\`. Run: megaeth-node --config ${JSON.stringify(files.config)}
# Keys are the flag names (see megaeth-node --help): --rpc.port is \`port\` under [rpc].
# Relative paths are relative to this file's directory.
# Flags and MEGAETH_* variables override what is here.

role = "sequencer"
datadir = "."
genesis = ${q(files.genesis)}

[sequencer]
key-file = ${q(files.sequencerKey)}
address = ${q(addresses.sequencer)}

[rpc]
addr = "127.0.0.1"
port = 8545

[p2p]
addr = "127.0.0.1"
port = 30303

[admin]
jwt-secret = ${q(files.adminJwt)}
# port = 8551

# With an L1 (once the rollup contracts are deployed):
# [l1]
# rpc = "https://…"
# [rollup]
# config = "/path/to/rollup.json"
# [batcher]
# key-file = ${q(files.batcherKey)}  # batcher address ${addresses.batcher}
# The proposer key (address ${addresses.proposer}) is in ${q(files.proposerKey)}, for the prover role.
`
}
