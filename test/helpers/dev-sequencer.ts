/**
 * The dev chain's sequencer in this process, on a datadir a test opened: the dev genesis, config and
 * common every such test builds, and a started `Sequencer` that decodes on the main thread (no ingest
 * workers: a unit test has no other thread to spare) and logs nothing.
 */
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { hexToBytes } from '@ethereumjs/util'
import type { Registry } from 'prom-client'
import { pino } from 'pino'
import { createChainCommon } from '../../src/chain/config.ts'
import { DEV_SEQUENCER_KEY } from '../../src/chain/dev.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import type { TxReceipt } from '../../src/chain/receipt.ts'
import type { OpenedChain } from '../../src/node/bootstrap.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { DEFAULT_SEQUENCER_OPTIONS, type SequencerOptions } from '../../src/sequencer/options.ts'
import { Sequencer } from '../../src/sequencer/sequencer.ts'

export const DEV_GENESIS = devGenesis()
export const DEV_CONFIG = chainConfigFromGenesis(DEV_GENESIS, 'dev')
export const DEV_COMMON = createChainCommon(DEV_CONFIG)

/** Starts a dev sequencer on `opened`; `options` override the defaults (with `ingestWorkers: 0`). */
export async function startDevSequencer(
  opened: OpenedChain,
  options: Partial<SequencerOptions> = {},
  metrics?: Registry,
): Promise<Sequencer> {
  const sequencer = await Sequencer.create({
    opened,
    config: DEV_CONFIG,
    common: DEV_COMMON,
    sequencerKey: hexToBytes(DEV_SEQUENCER_KEY),
    options: { ...DEFAULT_SEQUENCER_OPTIONS, ingestWorkers: 0, ...options },
    logger: pino({ level: 'silent' }),
    ...(metrics === undefined ? {} : { metrics }),
  })
  await sequencer.start()
  return sequencer
}

/** A signed EIP-1559 transaction of the dev chain from `sender` (200k gas, 10 gwei). */
export function devTx(
  sender: { privateKey: Hex },
  nonce: bigint,
  fields: { to?: Hex; value?: bigint; data?: Uint8Array },
): Uint8Array {
  return createFeeMarket1559Tx(
    { nonce, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, gasLimit: 200_000n, chainId: DEV_CONFIG.chainId, ...fields },
    { common: DEV_COMMON },
  )
    .sign(hexToBytes(sender.privateKey))
    .serialize()
}

/** Submits `raw`, asserts it succeeded, and waits for its block to be sealed. */
export async function includeTx(sequencer: Sequencer, opened: OpenedChain, raw: Uint8Array): Promise<TxReceipt> {
  const { receipt } = await sequencer.submitAndWait(raw, 30_000)
  assert.ok(receipt !== undefined && receipt.status === 1)
  while (opened.chain.head.header.number < receipt.blockNumber) await sleep(20)
  return receipt
}
