import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { blobsToCommitments, blobsToProofs, commitmentsToVersionedHashes } from 'viem'
import { type BlockSource, blobsCheaper } from '../../src/da/batcher/batcher.ts'
import type { ChainView } from '../../src/storage/chain-view.ts'
import { KzgWorker, viemKzg } from '../../src/da/batcher/kzg.ts'
import { broadcastErrorKind, bump, calldataGas, replacementFees } from '../../src/da/batcher/tx-manager.ts'
import { encodeBlob } from '../../src/da/blob.ts'

describe('batcher transactions', () => {
  it('calldata gas: 4/16 per zero/non-zero byte, or the EIP-7623 floor when higher', () => {
    assert.equal(calldataGas(new Uint8Array(0)), 21_000n)
    // all non-zero: the floor (40/byte) beats 16/byte
    assert.equal(calldataGas(new Uint8Array(1000).fill(7)), 21_000n + 40_000n)
    // all zero: 10/byte floor beats 4/byte
    assert.equal(calldataGas(new Uint8Array(1000)), 21_000n + 10_000n)
  })

  it('replacement fees: ≥ +10 % tip and fee cap, +100 % blob fee cap, or the fresh estimate when higher', () => {
    assert.equal(bump(100n, 10n), 110n)
    assert.equal(bump(101n, 10n), 112n, 'rounded up: 111.1 → 112')
    assert.equal(bump(0n, 10n), 1n, 'zero still rises')
    const previous = { maxFeePerGas: 1000n, maxPriorityFeePerGas: 100n, maxFeePerBlobGas: 50n }
    const low = { maxFeePerGas: 500n, maxPriorityFeePerGas: 10n, maxFeePerBlobGas: 1n }
    const bumped = replacementFees(previous, low)
    assert.deepEqual(bumped, { maxFeePerGas: 1100n, maxPriorityFeePerGas: 110n, maxFeePerBlobGas: 100n })
    // geth's rule: each at least old × 1.1 (blob: × 2)
    assert.ok(bumped.maxFeePerGas * 100n >= previous.maxFeePerGas * 110n)
    assert.ok(bumped.maxPriorityFeePerGas * 100n >= previous.maxPriorityFeePerGas * 110n)
    assert.ok(bumped.maxFeePerBlobGas! >= previous.maxFeePerBlobGas * 2n)
    const spike = { maxFeePerGas: 90_000n, maxPriorityFeePerGas: 100n, maxFeePerBlobGas: 400n }
    assert.deepEqual(replacementFees(previous, spike), {
      maxFeePerGas: 90_000n,
      maxPriorityFeePerGas: 110n,
      maxFeePerBlobGas: 400n,
    })
    const calldataOnly = replacementFees(
      { maxFeePerGas: 10n, maxPriorityFeePerGas: 10n },
      { maxFeePerGas: 1n, maxPriorityFeePerGas: 1n },
    )
    assert.equal(calldataOnly.maxFeePerBlobGas, undefined)
    assert.ok(calldataOnly.maxFeePerGas >= calldataOnly.maxPriorityFeePerGas)
  })

  it('classifies L1 broadcast errors by geth’s wording, through causes', () => {
    assert.equal(broadcastErrorKind(new Error('nonce too low: next nonce 5, tx nonce 4')), 'nonce-too-low')
    assert.equal(broadcastErrorKind(new Error('x', { cause: new Error('replacement transaction underpriced') })), 'underpriced')
    assert.equal(broadcastErrorKind(new Error('already known')), 'already-known')
    assert.equal(broadcastErrorKind(new Error('max fee per gas less than block base fee')), 'underpriced')
    assert.equal(broadcastErrorKind(new Error('connection refused')), 'other')
  })

  it('auto DA: blobs when cheaper per byte', () => {
    assert.equal(blobsCheaper(1_000_000_000n, 1n, 6), true, 'anvil-like: blob gas at 1 wei')
    assert.equal(blobsCheaper(1_000_000_000n, 1_000_000_000_000n, 6), false, 'blob fee spike')
    // break-even near blobBaseFee ≈ 40 × gasPrice × 130,044 / 131,072
    assert.equal(blobsCheaper(1_000n, 39_000n, 6), true)
    assert.equal(blobsCheaper(1_000n, 41_000n, 6), false)
  })

  it('the KZG worker proves blobs exactly as viem does with the project’s KZG backend', { timeout: 60_000 }, async () => {
    const blobs = [encodeBlob(randomBytes(1000))]
    const worker = new KzgWorker()
    try {
      const { commitments, proofs } = await worker.prove(blobs)
      const viaViem = blobsToCommitments({ blobs, kzg: viemKzg })
      assert.deepEqual(
        commitments.map((c) => Buffer.from(c).toString('hex')),
        viaViem.map((c) => Buffer.from(c).toString('hex')),
      )
      const viemProofs = blobsToProofs({ blobs, commitments: viaViem, kzg: viemKzg })
      assert.deepEqual(
        proofs.map((p) => Buffer.from(p).toString('hex')),
        viemProofs.map((p) => Buffer.from(p).toString('hex')),
      )
      const [versioned] = commitmentsToVersionedHashes({ commitments, to: 'hex' })
      assert.match(versioned!, /^0x01[0-9a-f]{62}$/)
    } finally {
      await worker.stop()
    }
  })
})

/** The node's ChainView is a BlockSource as is (compile-time check). */
export function chainViewIsABlockSource(view: ChainView): BlockSource {
  return view
}
