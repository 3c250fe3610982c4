import { test } from 'node:test'
import assert from 'node:assert/strict'
import { l1Transport, l1UrlScrubber, redactL1Url } from '../../src/bridge/l1-rpc-url.ts'
import { parseCommand } from '../../src/config.ts'
import { l1Options } from '../../src/options.ts'

const run = (argv: string[], env: Record<string, string> = {}) => {
  const command = parseCommand(argv, env, false)
  return command.kind === 'run' ? command.options : assert.fail(`expected a run, got ${command.kind}`)
}
const SECRET_URL = 'https://user:s3cr3t-pass@l1.example.com:8545/v2/api-key-0123456789?token=abcdef'

test('the dev L1 is the default of a --dev sequencer; --dev.l1=false keeps the pure-L2 chain', () => {
  const dev = l1Options(run(['--dev']))!
  assert.equal(dev.source, 'dev')
  assert.equal(dev.confirmations, 0)
  assert.equal(dev.pollMs, 250)
  assert.equal(dev.devBlockTime, 2)
  assert.equal(dev.batcher.daType, 'calldata')
  assert.equal(l1Options(run(['--dev', '--dev.l1=false'])), undefined)
  assert.equal(l1Options(run(['--dev'], { MEGAETH_DEV_L1: 'false' })), undefined)
  // A replica never spawns one: it takes the sequencer's L1.
  assert.equal(l1Options(run(['--dev', '--role=replica', '--p2p.bootnodes=/ip4/127.0.0.1/tcp/1/p2p/12D3KooWabc'])), undefined)
  assert.equal(l1Options(run(['--dev', '--dev.l1.block-time=5']))!.devBlockTime, 5)
})

test('an external L1: defaults, and the flags that go with it', () => {
  const o = l1Options(
    run([
      '--dev',
      `--l1.rpc=${SECRET_URL}`,
      '--rollup.config=/x/rollup.json',
      '--l1.beacon=http://127.0.0.1:5052',
      '--l1.poll-interval=2s',
    ]),
  )!
  assert.equal(o.source, 'external')
  assert.equal(o.rpc, SECRET_URL)
  assert.equal(o.rollupConfigPath, '/x/rollup.json')
  assert.equal(o.confirmations, 4)
  assert.equal(o.pollMs, 2000)
  assert.equal(o.batcher.daType, 'auto')
  assert.equal(o.beacon, 'http://127.0.0.1:5052')
  const full = l1Options(
    run([
      '--genesis=/g.json',
      '--datadir=/d',
      '--sequencer.key-file=/k',
      '--l1.rpc=http://127.0.0.1:8545',
      '--rollup.config=/r.json',
      '--batcher.key-file=/b',
      '--batcher.data-availability-type=blobs',
      '--l1.confirmations=10',
    ]),
  )!
  assert.equal(full.confirmations, 10)
  assert.deepEqual(full.batcher, { keyFile: '/b', daType: 'blobs' })
})

test('combinations that cannot work are refused, naming what to do', () => {
  const refuses = (argv: string[], message: RegExp) =>
    assert.throws(
      () => parseCommand(argv, {}, false),
      (e: Error) => {
        assert.equal((e as { code?: string }).code, 'CONFIG_INVALID')
        assert.match(e.message, message)
        return true
      },
    )
  const bootnodes = '--p2p.bootnodes=/ip4/127.0.0.1/tcp/1/p2p/12D3KooWabc'
  refuses(['--dev', '--role=replica', '--sync=l1', bootnodes], /--role=replica --sync=l1 needs --l1\.rpc and --rollup\.config/)
  refuses(['--dev', '--sync=l1'], /--sync applies to --role=replica only/)
  refuses(['--dev', '--dev.l1=false', '--l1.rpc=http://127.0.0.1:1'], /--l1\.rpc needs --rollup\.config/)
  refuses(['--dev', '--dev.l1=false', '--rollup.config=/r.json'], /--rollup\.config needs --l1\.rpc/)
  refuses(['--dev', '--dev.l1', '--l1.rpc=http://127.0.0.1:1'], /--dev\.l1 spawns and deploys its own L1/)
  refuses(['--genesis=/g', '--datadir=/d', '--sequencer.key-file=/k', '--dev.l1'], /--dev\.l1 needs --dev/)
  refuses(['--dev', '--role=replica', '--dev.l1', bootnodes], /only a sequencer spawns the dev L1/)
  refuses(['--dev', '--dev.l1=false', '--l1.confirmations=3'], /--l1\.confirmations needs an L1/)
  refuses(['--dev', '--batcher.data-availability-type=paper'], /not one of calldata, blobs, auto/)
  refuses(
    ['--genesis=/g', '--datadir=/d', '--sequencer.key-file=/k', '--l1.rpc=http://127.0.0.1:1', '--rollup.config=/r'],
    /--batcher\.key-file is required/,
  )
  refuses(['--dev', '--role=replica', bootnodes, '--batcher.key-file=/b'], /needs an L1|apply to --role=sequencer/)
})

test('--l1.rpc is never quoted back, not even when it is invalid', () => {
  for (const value of ['ftp://user:s3cr3t@host/key', 'not a url s3cr3t']) {
    try {
      parseCommand(['--dev', `--l1.rpc=${value}`], {}, false)
      assert.fail('accepted')
    } catch (error) {
      assert.ok(!(error as Error).message.includes('s3cr3t'), (error as Error).message)
    }
  }
})

test('the L1 URL is logged redacted and scrubbed from error texts', () => {
  assert.equal(redactL1Url(SECRET_URL), 'https://l1.example.com:8545/…')
  assert.equal(redactL1Url('http://127.0.0.1:1/key'), 'http://127.0.0.1:1/…')
  const scrub = l1UrlScrubber(SECRET_URL)
  const bare = 'https://l1.example.com:8545/v2/api-key-0123456789?token=abcdef'
  const text = `HTTP request failed. URL: ${bare} Request body: … and ${SECRET_URL}, user s3cr3t-pass, path /v2/api-key-0123456789`
  const out = scrub(text)
  for (const secret of ['s3cr3t-pass', 'api-key-0123456789', 'token=abcdef']) assert.ok(!out.includes(secret), out)
  assert.match(out, /https:\/\/l1\.example\.com:8545\/…/)
  // Credentials go in a header, not the URL fetch would refuse.
  assert.equal(typeof l1Transport(SECRET_URL), 'function')
})
