/**
 * Issue 22, item 2: block and pending-transaction filters reserved their whole buffer (10,000 slots)
 * at creation, so 10,000 `eth_newBlockFilter` calls took the heap from 52 to 822 MB. Buffers now grow
 * with what they hold (still capped per filter), and installs are capped per client as well as in
 * total, answered with -32005.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createTxFromRLP } from '@ethereumjs/tx'
import { createChainCommon } from '../../src/chain/config.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { DEFAULT_ETH_RPC_OPTIONS, type EthRpcOptions } from '../../src/rpc/eth/backend.ts'
import { FilterManager } from '../../src/rpc/eth/filters.ts'
import { openChain, type OpenedChain } from '../../src/node/bootstrap.ts'
import { TestBackend } from '../helpers/eth-backend.ts'
import { rpcError } from '../helpers/rpc-error.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function heapUsed(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const hash = (n: number): Hex => `0x${n.toString(16).padStart(64, '0')}`

describe('filter limits', () => {
  let dir: string
  let opened: OpenedChain
  const backendWith = (options: Partial<EthRpcOptions>): TestBackend => {
    const genesis = devGenesis()
    const config = chainConfigFromGenesis(genesis, 'dev')
    const common = createChainCommon(config)
    return new TestBackend(opened.chain, config, common, { ...DEFAULT_ETH_RPC_OPTIONS, ...options }, (raw) =>
      createTxFromRLP(raw, { common }),
    )
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'megaeth-filter-limits-'))
    const genesis = devGenesis()
    const config = chainConfigFromGenesis(genesis, 'dev')
    opened = await openChain(dir, genesis, config, createChainCommon(config))
  })

  after(async () => {
    await opened.close()
    await rm(dir, { recursive: true, force: true })
  })

  test('an idle block or pending-transaction filter costs bytes, not its 10,000-entry cap', (t) => {
    const filters = new FilterManager(backendWith({ maxFilters: 10_000, maxFiltersPerClient: 10_000 }))
    filters.start()
    try {
      const count = 2_000
      const before = heapUsed()
      for (let i = 0; i < count / 2; i++) {
        filters.newBlockFilter('10.0.0.1')
        filters.newPendingTransactionFilter('10.0.0.1')
      }
      const grown = heapUsed() - before
      // Reserving the cap up front took 10,000 slots × 8 bytes = 80 KB per filter: 160 MB here.
      const perFilter = grown / count
      t.diagnostic(`${count} idle hash filters: ${(grown / 1e6).toFixed(2)} MB of heap, ${Math.round(perFilter)} bytes each`)
      assert.ok(perFilter < 2_000, `${Math.round(perFilter)} bytes per idle filter (${(grown / 1e6).toFixed(1)} MB for ${count})`)
    } finally {
      filters.stop()
    }
  })

  test('a hash filter still keeps the newest entries up to its cap, and starts small again after a poll', () => {
    const backend = backendWith({ maxLogsResults: 300 })
    const filters = new FilterManager(backend)
    filters.start()
    try {
      const id = filters.newPendingTransactionFilter('10.0.0.1')
      for (let n = 0; n < 1_000; n++) backend.pendingTxs.emit('tx', hash(n))
      const changes = filters.changes(id) as Hex[]
      assert.equal(changes.length, 300)
      assert.equal(changes[0], hash(700))
      assert.equal(changes[299], hash(999))
      backend.pendingTxs.emit('tx', hash(5_000))
      assert.deepEqual(filters.changes(id), [hash(5_000)])
      assert.deepEqual(filters.changes(id), [])
    } finally {
      filters.stop()
    }
  })

  test('installs are capped per client with -32005; uninstalling frees the slot; other clients are not affected', () => {
    const filters = new FilterManager(backendWith({ maxFilters: 100, maxFiltersPerClient: 3 }))
    filters.start()
    try {
      const ids = [
        filters.newBlockFilter('10.0.0.1'),
        filters.newPendingTransactionFilter('10.0.0.1'),
        filters.newBlockFilter('10.0.0.1'),
      ]
      const refused = rpcError(() => filters.newBlockFilter('10.0.0.1'))
      assert.equal(refused.code, -32005)
      assert.equal(refused.message, 'limit exceeded: 3 filters installed by this client (max 3)')
      filters.newBlockFilter('10.0.0.2')
      assert.equal(filters.uninstall(ids[0]!), true)
      filters.newBlockFilter('10.0.0.1')
      assert.equal(rpcError(() => filters.newPendingTransactionFilter('10.0.0.1')).code, -32005)
    } finally {
      filters.stop()
    }
  })

  test('the total cap holds across clients (-32005), and expired filters free their client slots', () => {
    let now = 0
    const filters = new FilterManager(backendWith({ maxFilters: 4, maxFiltersPerClient: 2, filterTimeoutMs: 1_000 }), {
      now: () => now,
    })
    filters.start()
    try {
      filters.newBlockFilter('10.0.0.1')
      filters.newBlockFilter('10.0.0.1')
      filters.newBlockFilter('10.0.0.2')
      filters.newBlockFilter('10.0.0.3')
      const refused = rpcError(() => filters.newBlockFilter('10.0.0.4'))
      assert.equal(refused.code, -32005)
      assert.equal(refused.message, 'limit exceeded: 4 filters installed (max 4)')
      now = 2_000
      filters.expire()
      assert.equal(filters.size, 0)
      filters.newBlockFilter('10.0.0.1')
      filters.newBlockFilter('10.0.0.1')
    } finally {
      filters.stop()
    }
  })
})
