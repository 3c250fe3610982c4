/**
 * The dev chain's sequencer in this process, on a datadir a test opened: the dev genesis, config and
 * common every such test builds, and a started `Sequencer` that decodes on the main thread (no ingest
 * workers: a unit test has no other thread to spare) and logs nothing.
 */
import { hexToBytes } from '@ethereumjs/util'
import type { Registry } from 'prom-client'
import { pino } from 'pino'
import { createChainCommon } from '../../src/chain/config.ts'
import { DEV_SEQUENCER_KEY } from '../../src/chain/dev.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import type { OpenedChain } from '../../src/node/bootstrap.ts'
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
