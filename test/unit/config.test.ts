import { availableParallelism } from 'node:os'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError, envName, parseCommand } from '../../src/config.ts'
import { sequencerOptions } from '../../src/options.ts'

const run = (argv: string[], env: Record<string, string> = {}) => {
  const command = parseCommand(argv, env, false)
  assert.equal(command.kind, 'run')
  return command.kind === 'run' ? command.options : assert.fail()
}

test('--dev alone is a complete configuration with the documented defaults', () => {
  const o = run(['--dev'])
  assert.equal(o.role, 'sequencer')
  assert.equal(o.rpc.addr, '127.0.0.1')
  assert.equal(o.rpc.port, 8545)
  assert.equal(o.miniBlockMs, 10)
  assert.equal(o.blockMs, 1000)
  assert.equal(o.datadir, undefined)
  assert.equal(o.executor, 'sequential')
  assert.equal(o.workers, undefined)
  assert.equal(o.ingestWorkers, Math.min(availableParallelism(), 4))
})

test('--miniblock-eager-ms reaches the sequencer options (default off = 10000; MEGAETH_MINIBLOCK_EAGER_MS too)', () => {
  assert.equal(run(['--dev']).eagerMiniBlockMs, 10_000)
  assert.equal(sequencerOptions(run(['--dev', '--miniblock-eager-ms=10'])).eagerMiniBlockMs, 10)
  assert.equal(sequencerOptions(run(['--dev'], { MEGAETH_MINIBLOCK_EAGER_MS: '0' })).eagerMiniBlockMs, 0)
  assert.throws(() => run(['--dev', '--miniblock-eager-ms=-1']), /--miniblock-eager-ms/)
})

test('--sync.serve: a full replica serves sync by default; false turns it off', () => {
  const replica = [
    '--dev',
    '--role=replica',
    '--p2p.bootnodes=/ip4/127.0.0.1/tcp/30303/p2p/12D3KooWLeVUUwMjgYQRtxUXaMK249gGyWVAvF8DMXdtJC9PUy6p',
  ]
  assert.equal(run(replica).replica.serve, true)
  assert.equal(run([...replica, '--sync.serve=false']).replica.serve, false)
  assert.throws(() => run([...replica, '--sync.serve=maybe']), /--sync.serve/)
})

test('--executor and --workers choose the mini-block executor; --ingest-workers the decoders', () => {
  const o = run(['--dev', '--executor=parallel', '--workers=3', '--ingest-workers=0'])
  assert.equal(o.executor, 'parallel')
  assert.equal(o.workers, 3)
  assert.equal(o.ingestWorkers, 0)
  assert.equal(run(['--dev'], { MEGAETH_EXECUTOR: 'parallel' }).executor, 'parallel')
  assert.throws(
    () => parseCommand(['--dev', '--executor=turbo'], {}, false),
    /--executor: "turbo" is not one of parallel, sequential/,
  )
  assert.throws(() => parseCommand(['--dev', '--workers=0'], {}, false), /--workers: 0 is out of range \[1, 64\]/)
})

test('flags take both --name=value and --name value, and beat environment variables', () => {
  const o = run(
    [
      '--dev',
      '--rpc.port=9000',
      '--miniblock-ms',
      '20',
      '--p2p.bootnodes=/ip4/127.0.0.1/tcp/1/p2p/12D3KooWABodF4ydC8gRQNutfjQPVeykCGQvzxB58RMbMNSicTDA,/ip4/127.0.0.1/tcp/2/p2p/12D3KooWK7Fr2AK2h6mVLMVd9uThJor7GdBX4Ly45mHRuPA5KhCg',
    ],
    { MEGAETH_RPC_PORT: '7000', MEGAETH_BLOCK_MS: '500' },
  )
  assert.equal(o.rpc.port, 9000)
  assert.equal(o.miniBlockMs, 20)
  assert.equal(o.blockMs, 500)
  assert.deepEqual(o.p2p.bootnodes, [
    '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWABodF4ydC8gRQNutfjQPVeykCGQvzxB58RMbMNSicTDA',
    '/ip4/127.0.0.1/tcp/2/p2p/12D3KooWK7Fr2AK2h6mVLMVd9uThJor7GdBX4Ly45mHRuPA5KhCg',
  ])
  assert.equal(envName('sequencer.key-file'), 'MEGAETH_SEQUENCER_KEY_FILE')
})

test('every invalid configuration is one precise ConfigError', () => {
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [['--dev', '--rpc.port=abc'], {}, /--rpc\.port: expected a whole number, got "abc"/],
    [['--dev', '--rpc.port=70000'], {}, /--rpc\.port: 70000 is out of range \[0, 65535\]/],
    [['--dev', '--nope'], {}, /unknown flag --nope/],
    [['--dev', '--role=miner'], {}, /--role: "miner" is not one of sequencer, replica, prover/],
    [['--dev', '--log.level=loud'], {}, /--log\.level/],
    [['--dev', '--sequencer.address=0x12'], {}, /not a 0x-prefixed 20-byte address/],
    [['--dev', '--miniblock-ms=100', '--block-ms=50'], {}, /--block-ms \(50\) must be at least --miniblock-ms \(100\)/],
    [['--datadir=/tmp/x'], {}, /--genesis is required unless --dev/],
    [['--dev'], { MEGAETH_RPC_PORT: 'x' }, /MEGAETH_RPC_PORT: expected a whole number/],
    [['--dev', '--rpc.port'], {}, /flag --rpc\.port needs a value/],
    [['stray'], {}, /unexpected argument "stray"/],
    [['--dev', '--role=replica'], {}, /--role=replica needs --p2p\.bootnodes/],
    [
      [
        '--datadir=/tmp/x',
        '--genesis=g.json',
        '--role=replica',
        '--p2p.bootnodes=/ip4/127.0.0.1/tcp/1/p2p/12D3KooWABodF4ydC8gRQNutfjQPVeykCGQvzxB58RMbMNSicTDA',
      ],
      {},
      /--role=replica needs --sequencer\.address unless --dev/,
    ],
    [
      ['--dev', '--role=replica', '--p2p.bootnodes=/ip4/127.0.0.1/tcp/1'],
      {},
      /--p2p\.bootnodes: "\/ip4\/127\.0\.0\.1\/tcp\/1" is not a multiaddr like/,
    ],
    [
      [
        '--dev',
        '--role=replica',
        '--replica.mode=light',
        '--p2p.bootnodes=/ip4/127.0.0.1/tcp/1/p2p/12D3KooWABodF4ydC8gRQNutfjQPVeykCGQvzxB58RMbMNSicTDA',
      ],
      {},
      /--replica\.mode: "light" is not one of full, validator/,
    ],
    [
      [
        '--dev',
        '--role=replica',
        '--replica.mode=validator',
        '--datadir=/tmp/v',
        '--p2p.bootnodes=/ip4/127.0.0.1/tcp/1/p2p/12D3KooWABodF4ydC8gRQNutfjQPVeykCGQvzxB58RMbMNSicTDA',
      ],
      {},
      /--replica\.mode=validator keeps no chain data/,
    ],
    [['--dev', '--sequencer.rpc=localhost:8545'], {}, /--sequencer\.rpc: expected an http\(s\) URL/],
  ]
  for (const [argv, env, message] of cases) {
    assert.throws(
      () => parseCommand(argv, env, false),
      (e: unknown) => e instanceof ConfigError && message.test(e.message),
      argv.join(' '),
    )
  }
})

test('a validator keeps no datadir: it needs none, even without --dev', () => {
  const bootnode = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWABodF4ydC8gRQNutfjQPVeykCGQvzxB58RMbMNSicTDA'
  const o = run(
    [
      '--genesis=g.json',
      '--role=replica',
      '--replica.mode=validator',
      `--p2p.bootnodes=${bootnode}`,
      `--sequencer.address=0x${'12'.repeat(20)}`,
    ],
    {},
  )
  assert.equal(o.datadir, undefined)
  assert.equal(o.replica.mode, 'validator')
  assert.throws(
    () =>
      parseCommand(
        ['--genesis=g.json', '--role=replica', `--p2p.bootnodes=${bootnode}`, `--sequencer.address=0x${'12'.repeat(20)}`],
        {},
        false,
      ),
    /--datadir is required/,
  )
})

test('--replica.checkpoint: <number>:<block hash>, for a validator only; anything else is a ConfigError naming the flag', () => {
  const validator = [
    '--dev',
    '--role=replica',
    '--replica.mode=validator',
    '--p2p.bootnodes=/ip4/127.0.0.1/tcp/1/p2p/12D3KooWABodF4ydC8gRQNutfjQPVeykCGQvzxB58RMbMNSicTDA',
  ]
  const hash = `0x${'Ab'.repeat(32)}`
  assert.equal(run(validator).replica.checkpoint, undefined)
  assert.deepEqual(run([...validator, `--replica.checkpoint=12345:${hash}`]).replica.checkpoint, {
    number: 12345n,
    hash: hash.toLowerCase(),
  })
  assert.deepEqual(run(validator, { MEGAETH_REPLICA_CHECKPOINT: `0:${hash}` }).replica.checkpoint, {
    number: 0n,
    hash: hash.toLowerCase(),
  })
  for (const bad of [
    '12345',
    `0x10:${hash}`,
    `-1:${hash}`,
    `1:${hash.slice(0, -2)}`,
    `1:${hash.slice(2)}`,
    `1:${hash}00`,
    `1 :${hash}`,
  ]) {
    assert.throws(
      () => parseCommand([...validator, `--replica.checkpoint=${bad}`], {}, false),
      (e: unknown) =>
        e instanceof ConfigError &&
        /^--replica\.checkpoint: expected <block number>:<0x-prefixed 32-byte block hash>/.test(e.message),
      bad,
    )
  }
  const fullReplica = validator.filter((flag) => flag !== '--replica.mode=validator')
  assert.throws(
    () => parseCommand([...fullReplica, `--replica.checkpoint=1:${hash}`], {}, false),
    (e: unknown) => e instanceof ConfigError && /--replica\.checkpoint applies to --replica\.mode=validator only/.test(e.message),
  )
  assert.throws(
    () => parseCommand(['--dev', `--replica.checkpoint=1:${hash}`], {}, false),
    (e: unknown) => e instanceof ConfigError && /--replica\.checkpoint applies to --replica\.mode=validator only/.test(e.message),
  )
})

test('help, version and blocktest are their own commands', () => {
  assert.equal(parseCommand(['--help'], {}, false).kind, 'help')
  assert.equal(parseCommand(['--version'], {}, false).kind, 'version')
  assert.deepEqual(parseCommand(['blocktest', 'a.json', 'dir'], {}, false), {
    kind: 'blocktest',
    paths: ['a.json', 'dir'],
    executor: 'sequential',
    workers: undefined,
    stateless: false,
  })
  assert.deepEqual(parseCommand(['blocktest', '--executor=parallel', '--workers', '3', 'dir'], {}, false), {
    kind: 'blocktest',
    paths: ['dir'],
    executor: 'parallel',
    workers: 3,
    stateless: false,
  })
  assert.throws(() => parseCommand(['blocktest'], {}, false), ConfigError)
  assert.throws(
    () => parseCommand(['blocktest', '--executor=fast', 'dir'], {}, false),
    /--executor: "fast" is not one of parallel, sequential/,
  )
  assert.throws(() => parseCommand(['blocktest', '--jobs=2', 'dir'], {}, false), /unknown flag --jobs=2/)
})

test('--rpc.evmtimeout takes milliseconds or a geth duration; the call limits take counts', () => {
  const defaults = run(['--dev'])
  assert.equal(defaults.rpc.evmTimeoutMs, 5_000)
  assert.equal(defaults.rpc.callWorkers, undefined)
  assert.equal(defaults.rpc.callsPerClient, 64)
  assert.equal(defaults.rpc.callsInFlight, 256)
  assert.equal(run(['--dev', '--rpc.evmtimeout=1m30s']).rpc.evmTimeoutMs, 90_000)
  assert.equal(run(['--dev', '--rpc.evmtimeout=750']).rpc.evmTimeoutMs, 750)
  assert.equal(run(['--dev'], { MEGAETH_RPC_EVMTIMEOUT: '0' }).rpc.evmTimeoutMs, 0)
  const o = run(['--dev', '--rpc.call-workers=3', '--rpc.calls-per-client=2', '--rpc.calls-in-flight=10'])
  assert.deepEqual([o.rpc.callWorkers, o.rpc.callsPerClient, o.rpc.callsInFlight], [3, 2, 10])
  assert.throws(
    () => parseCommand(['--dev', '--rpc.evmtimeout=5 seconds'], {}, false),
    /--rpc\.evmtimeout: expected milliseconds or a duration like 5s/,
  )
  assert.throws(
    () => parseCommand(['--dev', '--rpc.calls-per-client=0'], {}, false),
    /--rpc\.calls-per-client: 0 is out of range/,
  )
})
