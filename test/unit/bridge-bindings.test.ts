/**
 * The committed viem bindings (src/bridge/generated) must be what the Solidity sources compile to now: an edit to a
 * .sol file without `npm run contracts` fails here, in CI, instead of shipping stale ABIs or genesis code.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { generatedBindings } from '../../scripts/compile-contracts.mjs'
import { REPO_ROOT } from '../helpers/node-process.ts'

test('src/bridge/generated matches a fresh compile of contracts/L1 and contracts/L2', () => {
  const fresh = generatedBindings()
  assert.deepEqual(Object.keys(fresh).sort(), [
    'src/bridge/generated/AnchorStateRegistry.ts',
    'src/bridge/generated/ContractTxStep.ts',
    'src/bridge/generated/DisputeGameFactory.ts',
    'src/bridge/generated/EvmInterpreter.ts',
    'src/bridge/generated/EvmPrecompiles.ts',
    'src/bridge/generated/EvmTxCodec.ts',
    'src/bridge/generated/FaultDisputeGame.ts',
    'src/bridge/generated/L1AttributesStep.ts',
    'src/bridge/generated/L1Block.ts',
    'src/bridge/generated/L2ToL1MessagePasser.ts',
    'src/bridge/generated/Multicall3.ts',
    'src/bridge/generated/OptimismPortal2.ts',
    'src/bridge/generated/OutputRootRegistry.ts',
    'src/bridge/generated/SuperchainConfig.ts',
    'src/bridge/generated/SystemConfig.ts',
    'src/bridge/generated/TxStepVerifier.ts',
    'src/bridge/generated/UnprovableVM.ts',
  ])
  for (const [path, content] of Object.entries(fresh)) {
    let committed: string
    try {
      committed = readFileSync(join(REPO_ROOT, path), 'utf8')
    } catch {
      assert.fail(`${path} is missing: run \`npm run contracts\` and commit the result`)
    }
    assert.ok(committed === content, `${path} is stale (its source changed): run \`npm run contracts\` and commit the result`)
  }
})
