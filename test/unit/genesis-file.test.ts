import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import { createChainCommon } from '../../src/chain/config.ts'
import { chainConfigFromGenesis, devGenesis, GenesisError, type GenesisFile } from '../../src/chain/genesis.ts'
import { openChain } from '../../src/node/bootstrap.ts'
import { GENESIS_HEADER_FILE, loadGenesisFile } from '../../src/node/genesis-file.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { rng } from '../helpers/rng.ts'

/** The dev genesis plus accounts with balances, code and storage. */
function bigGenesis(): GenesisFile {
  const genesis = devGenesis()
  const r = rng(23)
  for (let i = 0; i < 300; i++) {
    const address = bytesToHex(r.bytes(20))
    const storage: Record<string, string> = {}
    if (i % 5 === 0) for (let s = 0; s < 4; s++) storage[bytesToHex(r.bytes(32))] = bytesToHex(r.bytes(1 + r.int(31)))
    genesis.alloc[address] = {
      balance: `0x${(BigInt(i) * 10n ** 15n + 1n).toString(16)}`,
      ...(i % 7 === 0 ? { code: bytesToHex(r.bytes(40)) as Hex, nonce: '0x1' } : {}),
      ...(Object.keys(storage).length > 0 ? { storage } : {}),
    }
  }
  return genesis
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'megaeth-genesis-file-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('a small file is parsed whole; a big one keeps its alloc in the file and caches its header in the datadir by content hash', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'genesis.json')
    const genesis = bigGenesis()
    await writeFile(path, JSON.stringify(genesis))
    const parsed = await loadGenesisFile(path, { datadir: join(dir, 'data') })
    assert.deepEqual(parsed, genesis)
    assert.equal(parsed.allocFile, undefined)

    const streamed = await loadGenesisFile(path, { datadir: join(dir, 'data'), streamAboveBytes: 0 })
    assert.deepEqual(streamed.alloc, {})
    assert.equal(streamed.allocFile?.path, path)
    const { alloc: _, ...header } = genesis
    assert.deepEqual(
      { ...streamed, allocFile: undefined, alloc: undefined },
      { ...header, allocFile: undefined, alloc: undefined },
    )
    const record = JSON.parse(await readFile(join(dir, 'data', GENESIS_HEADER_FILE), 'utf8')) as { sha256: string }
    assert.equal(record.sha256, streamed.allocFile?.sha256)

    // The next load takes the header from the record (a marker put there shows it), not from the file...
    await writeFile(
      join(dir, 'data', GENESIS_HEADER_FILE),
      JSON.stringify({ ...record, header: { ...header, extraData: '0x1234' } }),
    )
    assert.equal((await loadGenesisFile(path, { datadir: join(dir, 'data'), streamAboveBytes: 0 })).extraData, '0x1234')
    // ...but only for the same bytes: another file ignores it.
    await writeFile(path, JSON.stringify({ ...genesis, timestamp: '0x5' }))
    const changed = await loadGenesisFile(path, { datadir: join(dir, 'data'), streamAboveBytes: 0 })
    assert.equal(changed.timestamp, '0x5')
    assert.equal(changed.extraData, genesis.extraData)
  })
})

test('a streamed genesis opens the same chain as the parsed one, in memory and on disk, and reopens without the alloc', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'genesis.json')
    const genesis = bigGenesis()
    await writeFile(path, JSON.stringify(genesis))
    const config = chainConfigFromGenesis(genesis, 'test')
    const common = createChainCommon(config)
    const reference = await openChain(join(dir, 'parsed'), genesis, config, common)
    const expected = { hash: reference.chain.head.hash, root: bytesToHex(reference.chain.head.header.stateRoot) }
    const someAccount = Object.keys(genesis.alloc).at(-1) as Hex
    const balance = reference.chain.latestState().getAccount(someAccount)?.balance
    await reference.close()
    for (const stateCacheBytes of [undefined, 1024 * 1024]) {
      const datadir = join(dir, `streamed-${stateCacheBytes ?? 'memory'}`)
      const options = stateCacheBytes === undefined ? {} : { stateCacheBytes }
      const streamed = await loadGenesisFile(path, { datadir, streamAboveBytes: 0 })
      for (let start = 0; start < 2; start++) {
        const opened = await openChain(datadir, streamed, config, common, options)
        try {
          assert.equal(opened.chain.head.hash, expected.hash, `start ${start}: genesis hash`)
          assert.equal(bytesToHex(opened.chain.head.header.stateRoot), expected.root)
          assert.equal(opened.chain.latestState().getAccount(someAccount)?.balance, balance)
          assert.equal(opened.trie.source, start === 0 ? 'genesis' : 'persisted')
        } finally {
          await opened.close()
        }
      }
    }
  })
})

test('an alloc that lists one address twice (in two spellings) is a GenesisError', async () => {
  await withDir(async (dir) => {
    const genesis = devGenesis()
    const [address] = Object.keys(genesis.alloc)
    genesis.alloc[address!.toUpperCase().replace('0X', '0x')] = { balance: '0x1' }
    const config = chainConfigFromGenesis(genesis, 'test')
    await assert.rejects(openChain(join(dir, 'data'), genesis, config, createChainCommon(config)), (error: unknown) => {
      assert.ok(error instanceof GenesisError, String(error))
      assert.match(error.message, /added twice/)
      return true
    })
  })
})
