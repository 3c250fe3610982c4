import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createBlockHeader } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'
import type { Hex } from 'viem'
import { keccak256 } from '../../src/crypto/native.ts'
import { openAnchor } from '../../src/node/anchor-checkpoint.ts'
import { ReplicaFailure } from '../../src/replica/errors.ts'
import { outputRootV0 } from '../../src/rpc/optimism-methods.ts'
import { devCommon } from '../helpers/witness.ts'

const hex = (bytes: Uint8Array): Hex => bytesToHex(bytes) as Hex
const genesis = { hash: (): Hex => `0x${'01'.repeat(32)}`, outputRoot: (): Hex => `0x${'02'.repeat(32)}` }

/** A header of block `number` and the anchored root its preimage opens to. */
function published(number: bigint) {
  const header = createBlockHeader(
    { number, stateRoot: keccak256(new Uint8Array([7])), gasLimit: 30_000_000n },
    { common: devCommon },
  )
  const messagePasserStorageRoot = keccak256(new Uint8Array([9]))
  const rlp = header.serialize()
  return {
    blockHash: hex(keccak256(rlp)),
    root: hex(outputRootV0(header.stateRoot, messagePasserStorageRoot, keccak256(rlp))),
    preimage: { publishedAt: 1n, header: hex(rlp), messagePasserStorageRoot: hex(messagePasserStorageRoot) },
  }
}

function failsWith(code: string, pattern: RegExp, run: () => unknown): void {
  assert.throws(run, (e: unknown) => e instanceof ReplicaFailure && e.code === code && pattern.test(e.message))
}

test('an anchor opened by its published preimage is that header’s block', () => {
  const { blockHash, root, preimage } = published(42n)
  assert.deepEqual(openAnchor({ root, block: 42n, preimage }, genesis), { number: 42n, hash: blockHash })
  // Roots are compared as data, whatever the case L1 returns them in.
  assert.deepEqual(openAnchor({ root: root.toUpperCase().replace('0X', '0x') as Hex, block: 42n, preimage }, genesis), {
    number: 42n,
    hash: blockHash,
  })
})

test('an anchor whose preimage does not open to it, or is another block’s, is CHECKPOINT_MISMATCH', () => {
  const { root, preimage } = published(42n)
  const otherPasser = { ...preimage, messagePasserStorageRoot: hex(keccak256(new Uint8Array([10]))) }
  failsWith('CHECKPOINT_MISMATCH', /preimage opens to 0x/, () => openAnchor({ root, block: 42n, preimage: otherPasser }, genesis))
  failsWith('CHECKPOINT_MISMATCH', /not a header of that block/, () => openAnchor({ root, block: 43n, preimage }, genesis))
  failsWith('CHECKPOINT_MISMATCH', /not a header of that block/, () =>
    openAnchor({ root, block: 42n, preimage: { ...preimage, header: '0xc0' } }, genesis),
  )
})

test('an anchor without a preimage on L1 is CHECKPOINT_UNAVAILABLE, naming the flag to pass instead', () => {
  const { root } = published(42n)
  failsWith('CHECKPOINT_UNAVAILABLE', /no published preimage.*--replica\.checkpoint/, () =>
    openAnchor({ root, block: 42n, preimage: undefined }, genesis),
  )
})

test('an anchor at genesis is this node’s genesis, if its output root is', () => {
  assert.deepEqual(openAnchor({ root: genesis.outputRoot(), block: 0n, preimage: undefined }, genesis), {
    number: 0n,
    hash: genesis.hash(),
  })
  failsWith('CHECKPOINT_MISMATCH', /not this node's genesis output/, () =>
    openAnchor({ root: `0x${'03'.repeat(32)}`, block: 0n, preimage: undefined }, genesis),
  )
})
