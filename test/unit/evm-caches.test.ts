/**
 * The memoized `Common` lookups of src/execution/evm-caches.ts answer what ethereumjs' own code
 * answers, on every hardfork a Common is switched through, copies included.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { paramsTx } from '@ethereumjs/tx'
import '../../src/execution/evm-caches.ts'

/** A Common whose lookups run ethereumjs' unpatched code: the methods of a prototype-less copy's own class. */
function reference(common: Common): { param(name: string): bigint; gte(hf: string): boolean; consensus(): string } {
  const raw = common as unknown as { _paramsCache: Record<string, unknown>; hardforks(): Array<{ name: string }> }
  return {
    param: (name) => {
      if (!(name in raw._paramsCache)) throw new Error(`Missing parameter value for ${name}`)
      return BigInt((raw._paramsCache[name] as number | string | null) ?? 0)
    },
    gte: (hf) => {
      const names = raw.hardforks().map((h) => h.name)
      const a = names.indexOf(common.hardfork())
      const b = names.indexOf(hf)
      return a >= b && b !== -1
    },
    consensus: () => {
      let value: string | undefined
      const changes = (common as unknown as { HARDFORK_CHANGES: Array<[string, { consensus?: { type: string } }]> })
        .HARDFORK_CHANGES
      for (const [name, change] of changes) {
        if (change.consensus !== undefined) value = change.consensus.type
        if (name === common.hardfork()) break
      }
      return value ?? 'pow'
    },
  }
}

test('memoized param, gteHardfork and consensusType agree with the unmemoized answers across hardforks and copies', () => {
  const common = new Common({ chain: Mainnet, hardfork: Hardfork.Chainstart, params: paramsTx })
  const names = ['txGas', 'txDataNonZeroGas', 'coldsloadGas', 'warmstoragereadGas', 'maxRefundQuotient', 'initCodeWordGas']
  const forks = common.hardforks().map((hf) => hf.name)
  for (const fork of [...forks, ...forks.slice().reverse()]) {
    common.setHardfork(fork)
    for (const c of [common, common.copy()]) {
      const ref = reference(c)
      for (const name of names) {
        let expected: bigint | Error
        try {
          expected = ref.param(name)
        } catch (error) {
          expected = error as Error
        }
        // Twice: the second answer comes from the memo.
        for (let i = 0; i < 2; i++) {
          if (expected instanceof Error) assert.throws(() => c.param(name), /Missing parameter value/)
          else assert.equal(c.param(name), expected, `${fork} ${name}`)
        }
      }
      for (const other of forks) {
        assert.equal(c.gteHardfork(other), ref.gte(other), `${fork} >= ${other}`)
        assert.equal(c.gteHardfork(other), ref.gte(other))
      }
      assert.equal(c.consensusType(), ref.consensus(), fork)
    }
  }
})

test('a param changed by updateParams is answered anew', () => {
  const common = new Common({ chain: Mainnet, hardfork: Hardfork.Cancun, params: paramsTx })
  assert.equal(common.param('txGas'), 21000n)
  common.updateParams({ 1: { txGas: 30000 } })
  assert.equal(common.param('txGas'), 30000n)
})
