import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import { type GenesisFile, GenesisError, devGenesis } from '../../src/chain/genesis.ts'
import { GenesisSyntaxError, openGenesisStream } from '../../src/chain/genesis-stream.ts'
import type { GenesisAllocEntry, GenesisHeader, GenesisStreamOptions } from '../../src/chain/genesis-stream.ts'
import { rng } from '../helpers/rng.ts'

let dir: string
let fileCount = 0

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'megaeth-genesis-stream-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function writeTmp(text: string): Promise<string> {
  const path = join(dir, `genesis-${fileCount++}.json`)
  await writeFile(path, text)
  return path
}

async function readAll(
  path: string,
  opts?: GenesisStreamOptions,
): Promise<{ entries: GenesisAllocEntry[]; header: GenesisHeader }> {
  const stream = openGenesisStream(path, opts)
  const entries: GenesisAllocEntry[] = []
  for await (const entry of stream.alloc) entries.push(entry)
  return { entries, header: await stream.header() }
}

/** The streamed alloc (in order) and header equal what JSON.parse makes of the same text. */
async function assertLikeJsonParse(text: string, opts?: GenesisStreamOptions): Promise<void> {
  const path = await writeTmp(text)
  const { alloc, ...expectedHeader } = JSON.parse(text) as GenesisFile
  const { entries, header } = await readAll(path, opts)
  assert.deepEqual(entries, Object.entries(alloc))
  assert.deepEqual(header, expectedHeader)
}

/** A genesis with awkward strings and values, `alloc` between header fields (as geth writes it). */
function generatedGenesis(accounts: number, seed: number): string {
  const r = rng(seed)
  const alloc: Record<string, unknown> = {}
  for (let i = 0; i < accounts; i++) {
    const account: Record<string, unknown> = {}
    const kind = r.int(4)
    // The existing parser takes decimal or 0x-hex strings, or JSON numbers, for balance and nonce.
    if (kind !== 0) account['balance'] = r.pick([bytesToHex(r.bytes(1 + r.int(16))), String(r.int(1e9)), r.int(1e6)])
    if (r.int(3) === 0) account['nonce'] = r.pick(['0x1', '7', 3])
    if (kind === 2) account['code'] = bytesToHex(r.bytes(r.int(300)))
    if (kind === 3) {
      const storage: Record<string, string> = {}
      for (let s = r.int(20); s > 0; s--) storage[bytesToHex(r.bytes(32))] = bytesToHex(r.bytes(1 + r.int(32)))
      account['storage'] = storage
    }
    alloc[bytesToHex(r.bytes(20))] = account
  }
  const head = {
    config: { chainId: 6342, pragueTime: 0, osakaTime: 0, nested: { list: [1, -2.5e3, 0.125, 1e-7, true, false, null, [], {}] } },
    gasLimit: '0x77359400',
    // Raw multi-byte UTF-8 (2-, 3- and 4-byte characters) and characters JSON.stringify escapes.
    extraData: 'h\u00e9llo \u4e16\u754c \u{1f600} "quoted" back\\slash tab\t newline\n \u0001',
  }
  const tail = { number: '0x0', baseFeePerGas: '0xf4240', coinbase: '0x4200000000000000000000000000000000000011' }
  // Escapes JSON.stringify never writes: \u escapes (a surrogate pair, a lone surrogate), \/ and \b \f.
  const handWritten = '"mixHash": "\\u0068\\u00E9\\ud83d\\ude00\\udc00 \\/ \\b\\f\\r",\n  "__proto__": {"polluted": true}'
  const body = JSON.stringify(head, null, 2).slice(0, -2)
  return `${body},\n  ${handWritten},\n  "alloc": ${JSON.stringify(alloc)},\n${JSON.stringify(tail, null, 1).slice(2)}\n`
}

/** Parses `text` expecting a GenesisSyntaxError; returns it. */
async function syntaxError(text: string, opts?: GenesisStreamOptions): Promise<GenesisSyntaxError> {
  const path = await writeTmp(text)
  try {
    await readAll(path, opts)
  } catch (error) {
    assert.ok(error instanceof GenesisSyntaxError, `expected a GenesisSyntaxError, got ${String(error)}`)
    assert.ok(error instanceof GenesisError)
    return error
  }
  return assert.fail(`no error for ${JSON.stringify(text)}`)
}

function byteOffset(text: string, marker: string): number {
  const at = text.indexOf(marker)
  assert.ok(at >= 0, `marker ${marker}`)
  return Buffer.byteLength(text.slice(0, at))
}

describe('openGenesisStream', () => {
  test('the dev genesis, compact and indented, in large and 7-byte chunks', async () => {
    for (const text of [JSON.stringify(devGenesis()), JSON.stringify(devGenesis(), null, 2)]) {
      await assertLikeJsonParse(text)
      await assertLikeJsonParse(text, { highWaterMark: 7 })
    }
  })

  test('a generated genesis with code, storage, numbers and escaped and unicode strings', async () => {
    const big = generatedGenesis(3000, 1)
    assert.ok(big.indexOf('"alloc"') < big.indexOf('"number"'), 'header fields after the alloc')
    await assertLikeJsonParse(big)
    await assertLikeJsonParse(big, { highWaterMark: 1000 })
    await assertLikeJsonParse(generatedGenesis(200, 2), { highWaterMark: 7 })
    await assertLikeJsonParse(generatedGenesis(50, 3), { highWaterMark: 1 })
  })

  test('alloc first, alloc last, empty alloc', async () => {
    const alloc = '{"0x00000000000000000000000000000000000000aa": {"balance": "1"}}'
    for (const text of [
      `{"alloc": ${alloc}, "config": {"chainId": 1}}`,
      `{"config": {"chainId": 1}, "gasLimit": "0x1", "alloc": ${alloc}}`,
      ' \n{ "config" : { "chainId" : 1 } , "alloc" : { } } \r\n\t',
    ]) {
      await assertLikeJsonParse(text)
      await assertLikeJsonParse(text, { highWaterMark: 7 })
    }
  })

  test('a large storage map in one entry (a step much longer than a chunk)', async () => {
    const r = rng(4)
    const storage: Record<string, string> = {}
    for (let s = 0; s < 5000; s++) storage[bytesToHex(r.bytes(32))] = bytesToHex(r.bytes(32))
    const text = JSON.stringify({ config: { chainId: 1 }, alloc: { '0x00000000000000000000000000000000000000bb': { storage } } })
    await assertLikeJsonParse(text, { highWaterMark: 64 })
  })

  test('header() before the alloc reads the file itself; after a full iteration it does not', async () => {
    const text = generatedGenesis(100, 5)
    const { alloc, ...expectedHeader } = JSON.parse(text) as GenesisFile
    const path = await writeTmp(text)
    const first = openGenesisStream(path, { highWaterMark: 100 })
    assert.deepEqual(await first.header(), expectedHeader)
    const entries: GenesisAllocEntry[] = []
    for await (const entry of first.alloc) entries.push(entry)
    assert.deepEqual(entries, Object.entries(alloc))

    const second = openGenesisStream(path)
    let count = 0
    for await (const _ of second.alloc) count++
    assert.equal(count, Object.keys(alloc).length)
    await unlink(path)
    assert.deepEqual(await second.header(), expectedHeader, 'settled by the iteration, no second read')
  })

  test('leaving the iteration early is fine', async () => {
    const path = await writeTmp(generatedGenesis(100, 6))
    const stream = openGenesisStream(path, { highWaterMark: 64 })
    for await (const _ of stream.alloc) break
    let count = 0
    for await (const _ of stream.alloc) count++
    assert.equal(count, 100)
  })

  test('a file that cannot be read rejects with the fs error', async () => {
    const stream = openGenesisStream(join(dir, 'missing.json'))
    await assert.rejects(stream.header(), { code: 'ENOENT' })
    await assert.rejects(
      async () => {
        for await (const _ of stream.alloc) assert.fail('no entries')
      },
      { code: 'ENOENT' },
    )
  })

  test('every truncation fails at the end of the file', async () => {
    const text = JSON.stringify({
      config: { chainId: 1, list: [1, -2.5e3, true, null] },
      alloc: { '0x00000000000000000000000000000000000000aa': { balance: 12, nonce: '0x1', storage: { '0x01': '0x02' } } },
      extraData: 'é\u4e16',
    })
    const bytes = Buffer.from(text)
    for (let length = 0; length < bytes.length; length++) {
      const truncated = bytes.subarray(0, length).toString('latin1')
      const path = join(dir, `truncated-${length}.json`)
      await writeFile(path, bytes.subarray(0, length))
      for (const highWaterMark of [7, 1 << 20]) {
        await assert.rejects(readAll(path, { highWaterMark }), (error: unknown) => {
          assert.ok(error instanceof GenesisSyntaxError, `length ${length}: ${String(error)}`)
          assert.equal(error.offset, length, `length ${length} (${truncated}): ${error.message}`)
          return true
        })
      }
    }
  })

  test('bad tokens, trailing data and wrong shapes give the offset of the offending byte', async () => {
    const ok = '{"config": {"chainId": 1}, "alloc": {}}'
    const cases: Array<[text: string, marker: string, message: RegExp]> = [
      ['{"config": {"chainId": 1}, "alloc": {"0xaa": {"balance": 0x1}}}', 'x1}', /expected ',' or '}'/],
      ['{"config": {"chainId": 01}, "alloc": {}}', '1}', /expected ',' or '}'/],
      ['{"config": {"chainId": -}, "alloc": {}}', '}, "alloc"', /bad number/],
      ['{"config": {"chainId": 1.}, "alloc": {}}', '}, "alloc"', /bad number/],
      ['{"config": {"chainId": tru}, "alloc": {}}', 'tru', /expected a JSON value/],
      ['{"config": {"chainId": 1,}, "alloc": {}}', '}, "alloc"', /expected a string key/],
      ['{"config": {"a": "\\q"}, "alloc": {}}', '\\q', /bad escape/],
      ['{"config": {"a": "\\u12G4"}, "alloc": {}}', '\\u12G4', /bad \\u escape/],
      ['{"config": {"a": "new\nline"}, "alloc": {}}', '\nline', /control character/],
      ['{"config": {"a": [1 2]}, "alloc": {}}', '2]', /expected ',' or '\]'/],
      ['{"config" {"chainId": 1}, "alloc": {}}', '{"chainId"', /expected ':'/],
      ['{"config": {"chainId": 1} "alloc": {}}', '"alloc"', /expected ',' or '}'/],
      [`${ok} x`, 'x', /trailing data/],
      [`${ok}]`, ']', /trailing data/],
      ['["config"]', '[', /top level must be an object/],
      ['{"config": {"chainId": 1}, "alloc": []}', '[]', /"alloc" must be an object/],
      ['{"config": {"chainId": 1}, "alloc": {"0xaa": 5}}', '5}', /alloc 0xaa must be an object/],
      ['{"config": {"chainId": 1}, "alloc": {"0xaa": {},}}', '}}', /expected a string key/],
      ['{"config": {"chainId": 1}, "alloc": {}, "alloc": {}}', '"alloc": {}}', /a second "alloc"/],
      ['{"config": 1, "alloc": {}}', 'ZZ', /no "config" object/],
      ['{"config": {"chainId": 1}}', 'ZZ', /no "alloc" object/],
      [`{"config": ${'['.repeat(300)}${']'.repeat(300)}, "alloc": {}}`, '[', /nesting too deep/],
    ]
    for (const [text, marker, message] of cases) {
      for (const highWaterMark of [7, 1 << 20]) {
        const error = await syntaxError(text, { highWaterMark })
        assert.match(error.message, message, text)
        // Shape errors are found at the end of the file.
        const at = marker === 'ZZ' ? Buffer.byteLength(text) : byteOffset(text, marker)
        // The nesting error is at the 257th bracket.
        const expected = message.source.includes('nesting') ? at + 256 : at
        assert.equal(error.offset, expected, `${text}: ${error.message}`)
        assert.match(error.message, new RegExp(`at byte ${expected}$`))
      }
    }
  })
})
