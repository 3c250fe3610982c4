/**
 * The execution trace of a disputed block (src/prover/trace), differentially: every leaf's state
 * root, gas and receipts root equal those of the node's own block executor run on the same
 * transaction prefix (executeBlockBody, system calls included; the L1-attributes deposit first), the
 * seal of an honest block is VALID and of a lying output INVALID, an opening the chain rules or the
 * canonical header shape refuse is INVALID from leaf 0, an unpublished output is the UNOPENED constant.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createBlockHeader } from '@ethereumjs/block'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { decodeAbiParameters, keccak256 as keccakHex } from 'viem'
import { encodeConsensusReceipt } from '../../src/chain/receipt.ts'
import { keccak256 } from '../../src/crypto/native.ts'
import { executeBlockBody, blockEnvFromHeader } from '../../src/execution/block-execution.ts'
import { SequentialExecutor } from '../../src/execution/executor.ts'
import { SequentialMiniBlockExecutor } from '../../src/execution/parallel/index.ts'
import type { TypedTransaction } from '@ethereumjs/tx'
import { type L2Transaction, decodeL2Transaction } from '../../src/chain/l2-transaction.ts'
import { fastTxOptions } from '../../src/execution/validated-tx.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { trieEntries } from '../../src/state/trie-entries.ts'
import { StateTrie } from '../../src/trie/index.ts'
import { orderedTrieRoot } from '../../src/trie/ordered-trie.ts'
import { buildBlockTrace, outputRootOf } from '../../src/prover/trace/block-trace.ts'
import { NodeTraceProvider } from '../../src/prover/trace/provider.ts'
import { headerShapeViolation } from '../../src/prover/trace/header-fields.ts'
import { SEAL_BODY, STEP_INPUT, TRANSACTION_BODY } from '../../src/prover/trace/step-proof.ts'
import {
  ABSOLUTE_PRESTATE,
  ABSOLUTE_PRESTATE_DATA,
  TracePhase,
  UNOPENED_STATE,
  VmStatus,
  encodeTraceState,
  traceClaim,
} from '../../src/prover/trace/trace-state.ts'
import {
  TRACE_BLOCK,
  buildTraceChain,
  freshAddress,
  mixedBody,
  traceCommon,
  traceL1Info,
  traceRules,
  shapeVariants,
  type TraceChain,
} from '../helpers/trace-chain.ts'

const BLOCK = TRACE_BLOCK
const fresh = (n: number): Hex => freshAddress('f', n)

/** State root, gas and receipts root after the first `n` transactions, by the node's block executor on a full trie. */
async function prefix(chain: TraceChain, txs: L2Transaction[], n: number) {
  const pre = chain.world()
  const lookup = async (): Promise<Uint8Array> => chain.parentHeader.hash()
  const executor = new SequentialMiniBlockExecutor(await SequentialExecutor.create(traceCommon, pre, lookup))
  const executed = await executeBlockBody(executor, blockEnvFromHeader(chain.header), txs.slice(0, n))
  await executor.close()
  const trie = StateTrie.fromAccounts(trieEntries(chain.world()))
  return {
    stateRoot: bytesToHex(trie.applyDiff(executed.diff)),
    gasUsed: executed.gasUsed,
    receiptsRoot: bytesToHex(orderedTrieRoot(executed.receipts.map(encodeConsensusReceipt))),
  }
}

describe('execution trace of a block', () => {
  it('matches the block executor at every leaf and seals an honest block VALID', async () => {
    const txs = await mixedBody(fresh)
    const chain = await buildTraceChain(txs)
    assert.equal(chain.receipts[2]!.status, 0, 'the second user deposit fails')
    const trace = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, block: BLOCK })
    assert.equal(trace.states.length, txs.length + 2)
    for (let i = 0; i <= txs.length; i++) {
      const expected = await prefix(chain, txs, i)
      const leaf = trace.states[i]!
      assert.equal(leaf.phase, TracePhase.EXECUTING, `leaf ${i}`)
      assert.equal(leaf.stateRoot, expected.stateRoot, `state root of leaf ${i}`)
      assert.equal(leaf.gasUsed, expected.gasUsed, `gas of leaf ${i}`)
      assert.equal(leaf.receiptsRoot, expected.receiptsRoot, `receipts root of leaf ${i}`)
      assert.equal(leaf.txIndex, BigInt(i))
      assert.equal(leaf.disputedOutput, outputRootOf(chain.disputed))
      assert.equal(leaf.headerHash, bytesToHex(chain.header.hash()))
    }
    // Leaf 0 includes the start-of-block system calls: not the parent's root.
    assert.notEqual(trace.states[0]!.stateRoot, bytesToHex(chain.parentHeader.stateRoot))
    const seal = trace.states[txs.length + 1]!
    assert.equal(seal.phase, TracePhase.SEALED_VALID)
    assert.equal(traceClaim(seal).slice(0, 4), '0x00')
    assert.equal(trace.states[txs.length]!.stateRoot, bytesToHex(chain.header.stateRoot))
  })

  it('gives each transaction step the proofs the verifier applies in order', async () => {
    const txs = await mixedBody(fresh)
    const chain = await buildTraceChain(txs)
    const trace = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, block: BLOCK })
    // The transfer at index 3: ContractTxStep's witness over the pre-state (sender, recipient, coinbase among its
    // accounts; the state trie's root node among its nodes), no account proofs, the bloom so far.
    const [{ header, raw, txProof, accountProofs, receiptProof, bloom, step }] = decodeAbiParameters(
      [TRANSACTION_BODY],
      trace.steps[4]!.body,
    )
    assert.equal(header, bytesToHex(chain.header.serialize()))
    assert.equal(raw, bytesToHex(chain.transactions[3]!))
    assert.equal(keccakHex(txProof[0]!), bytesToHex(chain.header.transactionsTrie), 'tx proof starts at the transactions root')
    assert.equal(accountProofs.length, 0)
    assert.equal(keccakHex(bloom), trace.states[3]!.logsBloomHash)
    const [input] = decodeAbiParameters([STEP_INPUT], step)
    assert.equal(input.preRoot, trace.states[3]!.stateRoot)
    assert.equal(input.cumulativeGasUsed, trace.states[3]!.gasUsed)
    assert.equal(input.rawTx, raw)
    assert.ok(
      input.nodes.some((node) => keccakHex(node) === trace.states[3]!.stateRoot),
      'the root node is in the witness',
    )
    const tx = decodeL2Transaction(chain.transactions[3]!, fastTxOptions(traceCommon)) as TypedTransaction
    const addresses = input.accounts.map((a) => a.addr.toLowerCase())
    for (const a of [tx.getSenderAddress().toString(), tx.to!.toString(), chain.header.coinbase.toString()])
      assert.ok(addresses.includes(a.toLowerCase()), `${a} in the accounts table`)
    assert.equal(keccakHex(receiptProof[0]!), trace.states[3]!.receiptsRoot)
    // The L1-attributes deposit (index 0): depositor, L1Block, its seven slots, the removal siblings (none here), the
    // origin's L1 header (hashing to the L1 hash the deposit records).
    const [l1Attributes] = decodeAbiParameters([TRANSACTION_BODY], trace.steps[1]!.body)
    assert.equal(l1Attributes.accountProofs.length, 11)
    assert.deepEqual(l1Attributes.accountProofs[9], Array(7).fill('0x'))
    assert.equal(l1Attributes.accountProofs[10]!.length, 1)
    assert.equal(keccakHex(l1Attributes.accountProofs[10]![0]!), traceL1Info().hash)
    // The seal proves rlp(T) absent.
    const [{ transactionExclusionProof: exclusion }] = decodeAbiParameters([SEAL_BODY], trace.steps[txs.length + 1]!.body)
    assert.equal(keccakHex(exclusion[0]!), bytesToHex(chain.header.transactionsTrie))
  })

  it('builds the one step body asked for (stepAt), the same leaves, and no other transaction body', async () => {
    const txs = await mixedBody(fresh)
    const chain = await buildTraceChain(txs)
    const full = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, block: BLOCK })
    const one = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, block: BLOCK, stepAt: 4n })
    const none = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, block: BLOCK, stepAt: -1n })
    assert.deepEqual(one.states, full.states)
    assert.deepEqual(none.states, full.states)
    assert.deepEqual(one.steps[4], full.steps[4], 'the body asked for')
    // The opening and the seal are cheap and always there; every other transaction step is empty.
    for (const t of [one, none]) {
      assert.deepEqual(t.steps[0], full.steps[0])
      assert.deepEqual(t.steps[txs.length + 1], full.steps[txs.length + 1])
    }
    for (let i = 1; i <= txs.length; i++) {
      if (i !== 4) assert.equal(one.steps[i]!.body, '0x', `no body at leaf ${i}`)
      assert.equal(none.steps[i]!.body, '0x', `no body at leaf ${i} when none is asked for`)
    }
  })

  it('seals INVALID an output lying about the state root or the passer root', async () => {
    const txs = await mixedBody(fresh)
    const chain = await buildTraceChain(txs)
    const liePasser = { ...chain.disputed, messagePasserStorageRoot: bytesToHex(keccak256(new Uint8Array([1]))) as Hex }
    const t1 = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, disputed: liePasser, block: BLOCK })
    assert.equal(t1.states.at(-1)!.phase, TracePhase.INVALID)
    assert.equal(t1.states.at(-2)!.phase, TracePhase.EXECUTING)

    const lyingHeader = createBlockHeader(
      { ...chain.header.toJSON(), stateRoot: keccak256(new Uint8Array([2])) },
      { common: traceCommon },
    )
    const lie = { header: lyingHeader.serialize(), messagePasserStorageRoot: chain.disputed.messagePasserStorageRoot }
    const t2 = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, disputed: lie, block: BLOCK })
    // Execution is the same (the header's context is), the seal finds the lie.
    assert.deepEqual(
      t2.states.slice(0, -1).map((s) => s.stateRoot),
      (await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, block: BLOCK })).states
        .slice(0, -1)
        .map((s) => s.stateRoot),
    )
    assert.equal(t2.states.at(-1)!.phase, TracePhase.INVALID)
    assert.equal(traceClaim(t2.states.at(-1)!).slice(0, 4), '0x01')
  })

  it('is INVALID from the opening when the header breaks the chain rules', async () => {
    const txs = await mixedBody(fresh)
    const chain = await buildTraceChain(txs)
    const late = createBlockHeader({ ...chain.header.toJSON(), timestamp: chain.header.timestamp + 1n }, { common: traceCommon })
    const disputed = { header: late.serialize(), messagePasserStorageRoot: chain.disputed.messagePasserStorageRoot }
    const trace = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, disputed, block: BLOCK })
    assert.equal(trace.states.length, 1)
    assert.equal(trace.states[0]!.phase, TracePhase.INVALID)
  })

  it('is INVALID from the opening when one canonical-shape field differs (the rest honest)', async () => {
    const chain = await buildTraceChain(await mixedBody(fresh))
    assert.equal(headerShapeViolation(chain.disputed.header), undefined, 'the honest header has the canonical shape')
    const honest = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, block: BLOCK })
    assert.equal(honest.states.at(-1)!.phase, TracePhase.SEALED_VALID)
    for (const [name, variant] of shapeVariants(chain.disputed.header)) {
      assert.notEqual(headerShapeViolation(variant), undefined, name)
      const disputed = { header: variant, messagePasserStorageRoot: chain.disputed.messagePasserStorageRoot }
      const trace = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, disputed, block: BLOCK })
      assert.equal(trace.states.length, 1, name)
      assert.equal(trace.states[0]!.phase, TracePhase.INVALID, name)
    }
  })

  it('provider: claims and step inputs over the node source, UNOPENED for an unpublished output', async () => {
    const txs = await mixedBody(fresh)
    const chain = await buildTraceChain(txs)
    const provider = new NodeTraceProvider({
      common: traceCommon,
      rules: traceRules,
      traceDepth: 17,
      source: {
        transactions: async (n) => (n === BLOCK ? chain.transactions : undefined),
        witness: async (n) => (n === BLOCK ? chain.witness : undefined),
        l1Header: chain.l1Header,
      },
    })
    const q = { block: BLOCK, starting: chain.starting, disputed: chain.disputed }
    const trace = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, block: BLOCK })
    for (const i of [0n, 3n, BigInt(txs.length + 1), (1n << 17n) - 1n])
      assert.equal(
        await provider.claimAt({ ...q, traceIndex: i }),
        traceClaim(trace.states[Math.min(Number(i), txs.length + 1)]!),
      )
    const first = await provider.stepInputs({ ...q, traceIndex: 0n, claimIndex: 9n })
    assert.equal(first.stateData, ABSOLUTE_PRESTATE_DATA)
    assert.equal(keccakHex(first.stateData).slice(4), ABSOLUTE_PRESTATE.slice(4))
    assert.equal(ABSOLUTE_PRESTATE.slice(0, 4), `0x0${VmStatus.UNFINISHED}`)
    const third = await provider.stepInputs({ ...q, traceIndex: 3n, claimIndex: 9n })
    assert.equal(third.stateData, encodeTraceState(trace.states[2]!))
    const [claimIndex, kind] = decodeAbiParameters([{ type: 'uint256' }, { type: 'uint8' }, { type: 'bytes' }], third.proof)
    assert.deepEqual([claimIndex, kind], [9n, 1])

    const unpublished = { ...q, disputed: 'unpublished' as const }
    assert.equal(await provider.claimAt({ ...unpublished, traceIndex: 0n }), traceClaim(UNOPENED_STATE))
    assert.equal(await provider.claimAt({ ...unpublished, traceIndex: 77n }), traceClaim(UNOPENED_STATE))
    assert.equal(traceClaim(UNOPENED_STATE).slice(0, 4), '0x01')
    await assert.rejects(provider.claimAt({ ...q, traceIndex: 1n << 17n }), { code: 'TRACE_INDEX_OUT_OF_RANGE' })
    await assert.rejects(provider.claimAt({ ...q, block: BLOCK + 1n, traceIndex: 0n }), (e: Error) => e.name === 'TraceError')
  })

  it('refuses a disputed header whose transactions are not the derived block’s (the membership gap)', async () => {
    const txs = await mixedBody(fresh)
    const chain = await buildTraceChain(txs)
    await assert.rejects(
      buildBlockTrace({
        common: traceCommon,
        rules: traceRules,
        ...chain,
        transactions: chain.transactions.slice(1),
        block: BLOCK,
      }),
      { code: 'TRACE_MEMBERSHIP_GAP' },
    )
    void hexToBytes
  })
})
