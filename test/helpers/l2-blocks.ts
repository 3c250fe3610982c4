/**
 * Sealed L1-anchored L2 blocks without a running node, for the batcher's tests: deposits first
 * (`blockAttributes` from a synthetic L1 origin), then signed ordinary transactions; headers by
 * `buildHeader`, each the child of the previous, timestamps `blockTime` apart. State roots are
 * placeholders: the batcher never reads them.
 */
import { bytesToHex, hexToBytes, KECCAK256_RLP } from '@ethereumjs/util'
import type { Hex } from 'viem'
import type { SealedBlock } from '../../src/chain/block.ts'
import { createChainCommon, DEV_CHAIN_ID } from '../../src/chain/config.ts'
import { OSAKA_FROM_GENESIS } from '../../src/chain/forks.ts'
import { buildHeader } from '../../src/chain/header.ts'
import type { L1Origin } from '../../src/chain/l1-origin.ts'
import { attributesTransactions, blockAttributes } from '../../src/chain/l2-block-attributes.ts'
import type { RollupConfig } from '../../src/chain/rollup-config.ts'
import { rng, type Rng } from './rng.ts'
import { signedTx, type TxKind } from './signed-txs.ts'

const common = createChainCommon({ chainId: DEV_CHAIN_ID, name: 'batcher-test', forks: OSAKA_FROM_GENESIS })

/** A rollup config for tests: dev chain id, genesis at `l2Time`, 1 s blocks. */
export function testRollupConfig(overrides: Partial<RollupConfig> = {}): RollupConfig {
  const zero = `0x${'00'.repeat(32)}` as Hex
  return {
    genesis: {
      l1: { number: 0n, hash: zero },
      l2: { number: 0n, hash: zero },
      l2Time: 1_700_000_000n,
      systemConfig: {
        batcherHash: zero,
        baseFeeScalar: 0,
        blobBaseFeeScalar: 0,
        operatorFeeScalar: 0,
        operatorFeeConstant: 0n,
        gasLimit: 30_000_000n,
      },
    },
    blockTime: 1n,
    maxSequencerDrift: 1800n,
    seqWindowSize: 3600n,
    channelTimeout: 50n,
    l1ChainId: 31337n,
    l2ChainId: DEV_CHAIN_ID,
    batchInboxAddress: '0x00ff000000000000000000000000000000006342',
    depositContractAddress: `0x${'11'.repeat(20)}`,
    l1SystemConfigAddress: `0x${'22'.repeat(20)}`,
    ...overrides,
  }
}

/** A synthetic L1 block as an origin (number → deterministic hash). */
export function testOrigin(number: bigint, rollup: RollupConfig): L1Origin {
  const hash = (n: bigint) => `0x${(n + 0xabcdn).toString(16).padStart(64, '0')}` as Hex
  return {
    number,
    hash: hash(number),
    parentHash: hash(number - 1n),
    timestamp: rollup.genesis.l2Time - 100n + number * 12n,
    baseFeePerGas: 1_000_000_000n,
    blobBaseFee: 1n,
    mixHash: `0x${'77'.repeat(32)}`,
    deposits: [],
    systemConfig: rollup.genesis.systemConfig,
  }
}

export interface MakeBlocksOptions {
  /** Blocks to make after genesis (numbers 1…count). */
  count: number
  /** Ordinary transactions per block (default: a random 0–4). */
  txsPerBlock?: (i: number, r: Rng) => number
  /** L2 blocks per epoch (default 6: every 6th block moves to the next L1 origin). */
  blocksPerEpoch?: number
  /** The first epoch's L1 block number (default 10). */
  firstEpoch?: bigint
  seed?: number
  kinds?: readonly TxKind[]
  /** The ordinary transactions of block i (instead of random signed ones). */
  transactions?: (i: number) => Uint8Array[]
}

/** `count` sealed blocks on top of the rollup config's genesis. */
export async function makeBlocks(rollup: RollupConfig, options: MakeBlocksOptions): Promise<SealedBlock[]> {
  const r = rng(options.seed ?? 1)
  const perEpoch = options.blocksPerEpoch ?? 6
  const firstEpoch = options.firstEpoch ?? 10n
  const kinds = options.kinds ?? ['eip1559', 'legacy', 'eip2930']
  const blocks: SealedBlock[] = []
  let parentHash = hexToBytes(rollup.genesis.l2.hash)
  for (let i = 0; i < options.count; i++) {
    const number = BigInt(i + 1)
    const origin = testOrigin(firstEpoch + BigInt(Math.floor(i / perEpoch)), rollup)
    const sequenceNumber = BigInt(i % perEpoch)
    const txs: Uint8Array[] = options.transactions?.(i) ?? []
    if (options.transactions === undefined) {
      const count = options.txsPerBlock?.(i, r) ?? r.int(5)
      for (let j = 0; j < count; j++) txs.push(await signedTx(r.pick(kinds), Number(rollup.l2ChainId), r))
    }
    const timestamp = rollup.genesis.l2Time + number * rollup.blockTime
    const attributes = blockAttributes(origin, sequenceNumber, timestamp, txs)
    const transactions = attributesTransactions(attributes)
    const header = buildHeader(
      {
        parentHash,
        number,
        timestamp,
        gasLimit: 30_000_000n,
        gasUsed: 0n,
        baseFeePerGas: 1_000_000n,
        stateRoot: r.bytes(32),
        transactionsRoot: KECCAK256_RLP,
        receiptsRoot: KECCAK256_RLP,
        logsBloom: new Uint8Array(256),
        coinbase: `0x${'00'.repeat(20)}`,
        prevRandao: attributes.prevRandao,
        extraData: new Uint8Array(0),
      },
      common,
    )
    const block: SealedBlock = {
      header,
      hash: bytesToHex(header.hash()) as Hex,
      transactions,
      receipts: [],
      miniBlocks: { first: number, count: 1 },
    }
    blocks.push(block)
    parentHash = header.hash()
  }
  return blocks
}
