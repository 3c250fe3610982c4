/**
 * `--config file.toml`: the keys are the flag names (tables, dotted or quoted keys alike), the file
 * sits below the environment and the flags, and every mistake names the file and the line: unknown
 * keys with the nearest valid key, bad values with the key, TOML syntax with the column too. Also:
 * every flag has a key and a --help section, and `init`'s command line.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { FLAG_GROUPS, FLAGS, helpText, parseCommand, type ParsedCommand } from '../../src/config.ts'
import { keyLines, parseConfigFile } from '../../src/config-file.ts'
import type { NodeOptions } from '../../src/options.ts'

const dir = mkdtempSync(join(tmpdir(), 'megaeth-config-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

function file(text: string): string {
  const path = join(dir, `c${files++}.toml`)
  writeFileSync(path, text)
  return path
}

function run(argv: string[], env: Record<string, string> = {}): NodeOptions {
  const command: ParsedCommand = parseCommand(argv, env, false)
  assert.equal(command.kind, 'run')
  return (command as { kind: 'run'; options: NodeOptions }).options
}

function configError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseCommand(argv, env, false)
  } catch (error) {
    assert.equal((error as { code?: string }).code, 'CONFIG_INVALID', String(error))
    return (error as Error).message
  }
  assert.fail(`expected a config error for ${argv.join(' ')}`)
}

describe('config file', () => {
  it('flags beat the environment, which beats the file, which beats the defaults', () => {
    const path = file('dev = true\n[rpc]\nport = 1111\n')
    assert.equal(run(['--dev']).rpc.port, 8545)
    assert.equal(run([`--config=${path}`]).rpc.port, 1111)
    assert.equal(run(['--config', path], { MEGAETH_RPC_PORT: '2222' }).rpc.port, 2222)
    assert.equal(run([`--config=${path}`, '--rpc.port=3333'], { MEGAETH_RPC_PORT: '2222' }).rpc.port, 3333)
    // The file may also come from the environment.
    assert.equal(run([], { MEGAETH_CONFIG: path }).rpc.port, 1111)
  })

  it('takes a flag as a table key, a dotted key or a quoted key, with TOML types', () => {
    const forms = [
      'dev = true\n[rpc]\nport = 4000\ngascap = 50000\n[p2p]\nbootnodes = []\n',
      'dev = true\nrpc.port = 4000\nrpc.gascap = "50000"\n',
      'dev = true\n"rpc.port" = 4000\n"rpc.gascap" = 50000\n',
    ]
    for (const text of forms) {
      const options = run([`--config=${file(text)}`])
      assert.equal(options.rpc.port, 4000, text)
      assert.equal(options.rpc.gasCap, 50_000n, text)
    }
    // A flag that is also a prefix of others (--dev, --dev.l1): the longer one quoted, or the table form.
    assert.equal(run([`--config=${file('dev = true\n"dev.l1" = false\n')}`]).l1.devL1, false)
    assert.equal(run(['--dev', `--config=${file('[dev]\nl1 = false\n"l1.block-time" = 5\n')}`]).l1.devBlockTime, 5)
    const peer = '/ip4/127.0.0.1/tcp/30303/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
    const options = run([`--config=${file(`dev = true\nrole = "replica"\n[p2p]\nbootnodes = ["${peer}", "${peer}"]\n`)}`])
    assert.deepEqual(options.p2p.bootnodes, [peer, peer])
  })

  it('every flag has a key, and every flag is in exactly one --help section', () => {
    const keys = Object.keys(FLAGS)
    for (const key of keys) {
      const entries = parseConfigFile('f.toml', `${JSON.stringify(key)} = "x"\n`, keys)
      assert.deepEqual(entries, [{ key, value: 'x', line: 1 }])
    }
    const grouped = FLAG_GROUPS.flatMap((g) => g.flags)
    assert.deepEqual([...grouped].sort(), [...keys].sort())
    assert.equal(new Set(grouped).size, grouped.length)
    const help = helpText()
    for (const group of FLAG_GROUPS) assert.match(help, new RegExp(`^${group.title}:$`, 'm'))
    assert.match(help, /--rpc\.port +.*\(default: 8545\)/)
  })

  it('an unknown key names the file, its line and the nearest valid key', () => {
    const path = file('dev = true\n\n[rpc]\naddr = "127.0.0.1"\nprot = 8545\n')
    const message = configError([`--config=${path}`])
    assert.match(message, new RegExp(`^${path}:5: unknown key "rpc\\.prot" \\(did you mean "rpc\\.port"\\?\\)`))
    assert.match(
      configError([`--config=${file('dev = true\n"l1.rcp" = "http://x"\n')}`]),
      /:2: unknown key "l1\.rcp" \(did you mean "l1\.rpc"\?\)/,
    )
    // Nothing close: no suggestion.
    assert.match(
      configError([`--config=${file('dev = true\nbananas = 1\n')}`]),
      /:2: unknown key "bananas"; keys are the flag names/,
    )
  })

  it('a bad value names the key, the file and the line', () => {
    const path = file('dev = true\n[rpc]\n# the port\nport = "eighty"\n')
    assert.equal(configError([`--config=${path}`]), `${path}:4: rpc.port: expected a whole number, got "eighty"`)
    assert.match(configError([`--config=${file('dev = "maybe"\n')}`]), /:1: dev: expected true or false, got "maybe"/)
    assert.match(
      configError([`--config=${file('dev = true\nrole = "miner"\n')}`]),
      /:2: role: "miner" is not one of sequencer, replica, prover/,
    )
    assert.match(
      configError([`--config=${file('dev = true\n[rpc]\nport = [1, 2]\n')}`]),
      /:3: rpc\.port: expected a string, number or boolean, got an array/,
    )
    // An L1 URL is a secret: its key and line are named, its value is not.
    const secret = configError([`--config=${file('dev = true\n[l1]\nrpc = "ftp://user:hunter2@host"\n')}`])
    assert.match(secret, /:3: l1\.rpc: expected/)
    assert.ok(!secret.includes('hunter2'), secret)
  })

  it('a TOML syntax error names the file, the line and the column', () => {
    const path = file('dev = true\n[rpc]\nport = \n')
    assert.match(configError([`--config=${path}`]), new RegExp(`^${path}:3:\\d+: not valid TOML`))
    assert.match(configError(['--config=/nonexistent/megaeth.toml']), /--config \/nonexistent\/megaeth\.toml: cannot read/)
  })

  it('finds key lines across tables, dotted and quoted keys, skipping multi-line strings', () => {
    const lines = keyLines('a = 1\n[rpc]\nport = 2\nx = """\nfake = 1\n"""\n"l1.rpc" = 3\n[p2p]\nkey-file.more = 4\n')
    assert.equal(lines.get('a'), 1)
    assert.equal(lines.get('rpc.port'), 3)
    assert.equal(lines.get('rpc.fake'), undefined)
    assert.equal(lines.get('rpc.l1.rpc'), 7)
    assert.equal(lines.get('p2p.key-file.more'), 9)
  })

  it('admin: --admin.port needs a JWT secret unless --dev (which generates one)', () => {
    assert.match(
      configError(['--genesis=g.json', '--datadir=d', '--sequencer.key-file=k', '--admin.port=8551']),
      /--admin\.port needs --admin\.jwt-secret/,
    )
    const options = run(['--dev', '--admin.port=8551'])
    assert.deepEqual(options.admin, { port: 8551, addr: '127.0.0.1', jwtSecret: undefined })
    assert.equal(run([`--config=${file('dev = true\n[admin]\nport = 9000\njwt-secret = "/s.hex"\n')}`]).admin.jwtSecret, '/s.hex')
  })

  it('unknown flags suggest the nearest one', () => {
    assert.match(configError(['--dev', '--rpc.prot=1']), /unknown flag --rpc\.prot \(did you mean --rpc\.port\?\)/)
  })

  it('init: --datadir is required; L1 flags are refused with what init does instead', () => {
    assert.deepEqual(parseCommand(['init', '--datadir', 'd', '--chain-id=42'], {}, false), {
      kind: 'init',
      init: { datadir: 'd', chainId: 42n, prefund: [] },
    })
    assert.match(configError(['init']), /--datadir is required/)
    assert.match(configError(['init', '--datadir=d', '--l1.rpc=http://x']), /writes the L2 side only/)
    assert.match(configError(['init', '--datadir=d', '--prefund=0x12']), /--prefund: "0x12" is not a 0x-prefixed 20-byte address/)
  })

  it('prune-state: --datadir is required; --batch-nodes and --verify are checked', () => {
    assert.deepEqual(parseCommand(['prune-state', '--datadir', 'd', '--batch-nodes=500', '--verify=false'], {}, false), {
      kind: 'prune-state',
      prune: { datadir: 'd', batchNodes: 500, verify: false },
    })
    assert.match(configError(['prune-state']), /prune-state: --datadir is required/)
    assert.match(configError(['prune-state', '--datadir=d', '--batch-nodes=0']), /--batch-nodes/)
    assert.match(configError(['prune-state', '--datadir=d', '--cache=5']), /prune-state: unknown flag --cache/)
    assert.match(configError(['prune-state', 'd']), /prune-state: unexpected argument "d"/)
  })
})

describe('config file paths', () => {
  it('resolves relative paths against the file’s directory; flags stay relative to the working directory', () => {
    const sub = join(dir, 'chain')
    mkdirSync(sub)
    const path = join(sub, 'config.toml')
    writeFileSync(
      path,
      'datadir = "."\ngenesis = "genesis.json"\nsequencer.key-file = "/abs/key"\n[admin]\njwt-secret = "../s.hex"\n',
    )
    const options = run([`--config=${path}`, '--sequencer.address=0x0000000000000000000000000000000000000001'])
    assert.equal(options.datadir, sub)
    assert.equal(options.genesis, join(sub, 'genesis.json'))
    assert.equal(options.sequencer.keyFile, '/abs/key')
    assert.equal(options.admin.jwtSecret, join(dir, 's.hex'))
    assert.equal(run([`--config=${path}`, '--genesis=g.json']).genesis, 'g.json')
  })
})
