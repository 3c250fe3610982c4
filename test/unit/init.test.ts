/**
 * `megaeth-node init`: the files a new chain needs, keys 0600 and valid, addresses matching the keys,
 * a genesis the node accepts with the asked chain id and no public test accounts, a config file the
 * CLI reads back into a runnable sequencer, and no overwrite of an existing chain (nothing written).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { privateKeyToAddress } from 'viem/accounts'
import { parseJwtSecret } from '../../src/admin/jwt.ts'
import { chainConfigFromGenesis, devGenesis, type GenesisFile } from '../../src/chain/genesis.ts'
import { parseCommand } from '../../src/config.ts'
import { PREFUND_WEI, runInit } from '../../src/init.ts'

const root = mkdtempSync(join(tmpdir(), 'megaeth-init-'))
after(() => rmSync(root, { recursive: true, force: true }))

describe('init', () => {
  it('writes genesis, 0600 keys and secret, and a config.toml the CLI runs as a sequencer', async () => {
    const datadir = join(root, 'a')
    const funded = '0x00000000000000000000000000000000000000aa'
    const result = await runInit({ datadir, chainId: 777n, prefund: [funded] })
    for (const [name, path] of Object.entries(result.files)) {
      const mode = statSync(path).mode & 0o777
      if (/Key|Jwt/.test(name)) assert.equal(mode, 0o600, `${name} is ${mode.toString(8)}`)
    }
    for (const role of ['sequencer', 'batcher', 'proposer'] as const) {
      const key = readFileSync(result.files[`${role}Key`], 'utf8').trim() as `0x${string}`
      assert.match(key, /^0x[0-9a-f]{64}$/)
      // An independent derivation (viem) of the address init printed.
      assert.equal(privateKeyToAddress(key).toLowerCase(), result.addresses[role])
    }
    assert.equal(new Set(Object.values(result.addresses)).size, 3, 'three distinct keys')
    assert.equal(parseJwtSecret(readFileSync(result.files.adminJwt, 'utf8')).length, 32)

    const genesis = JSON.parse(readFileSync(result.files.genesis, 'utf8')) as GenesisFile
    assert.equal(chainConfigFromGenesis(genesis, 'x').chainId, 777n)
    assert.equal(genesis.alloc[funded]?.balance, `0x${PREFUND_WEI.toString(16)}`)
    const devAccounts = Object.entries(devGenesis().alloc).filter(([, a]) => a.code === undefined)
    for (const [address] of devAccounts) assert.equal(genesis.alloc[address], undefined, `dev account ${address} left in`)

    const command = parseCommand(['--config', result.files.config], {}, false)
    assert.equal(command.kind, 'run')
    if (command.kind !== 'run') return
    assert.equal(command.options.role, 'sequencer')
    assert.equal(command.options.datadir, datadir)
    assert.equal(command.options.genesis, result.files.genesis)
    assert.equal(command.options.sequencer.keyFile, result.files.sequencerKey)
    assert.equal(command.options.sequencer.address, result.addresses.sequencer)
    assert.equal(command.options.admin.jwtSecret, result.files.adminJwt)
    assert.equal(command.options.dev, false)
  })

  it('refuses to overwrite an existing chain and writes nothing', async () => {
    const datadir = join(root, 'b')
    const first = await runInit({ datadir, chainId: 1n, prefund: [] })
    const before = readFileSync(first.files.sequencerKey, 'utf8')
    await assert.rejects(runInit({ datadir, chainId: 2n, prefund: [] }), /already holds a chain/)
    assert.equal(readFileSync(first.files.sequencerKey, 'utf8'), before)
    // Only the config exists: init stops at it and removes what it wrote before.
    const partial = join(root, 'c')
    await runInit({ datadir: partial, chainId: 1n, prefund: [] }).then(() => undefined)
    rmSync(join(partial, 'sequencer-key.hex'))
    rmSync(join(partial, 'batcher-key.hex'))
    writeFileSync(join(partial, 'marker'), '')
    await assert.rejects(runInit({ datadir: partial, chainId: 3n, prefund: [] }), /exists/)
    assert.equal(existsSync(join(partial, 'sequencer-key.hex')), false, 'the new sequencer key was removed again')
  })
})
