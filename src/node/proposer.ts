/**
 * The sequencer's proposer, composed: its own key as a local account on the node's L1 (a dev key of its own with
 * the dev L1, funded there), the chain's sealed blocks and derivation's safe head as what it may propose. The
 * bridge layer cannot read the chain or derivation, so the output of a block is computed here.
 */
import { readFile } from 'node:fs/promises'
import { bytesToHex } from '@ethereumjs/util'
import { keccak256 } from '../crypto/native.ts'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { createWalletClient, defineChain, type Hex, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { l1Transport } from '../bridge/l1-rpc-url.ts'
import {
  createProposerMetrics,
  DisabledProposer,
  Proposer,
  type ProposerChain,
  type ProposerOptions,
  type ProposerService,
} from '../bridge/proposer/index.ts'
import { messagePasserStorageRoot, outputRootV0 } from '../rpc/optimism-methods.ts'
import { StateUnavailableError } from '../state/state-history.ts'
import type { ChainView } from '../storage/chain-view.ts'
import { L1ConfigError, type L1Services } from './l1-services.ts'

/**
 * The dev proposer's key: its own (not the batcher's, the sequencer's or a test account's), so its L1 nonces never
 * race another sender's. Derived from a fixed string like the dev sequencer key; the dev L1 funds it.
 */
export const DEV_PROPOSER_KEY = keccak256Hex('megaeth-node dev proposer key')

/** What `createProposer` needs of the options (`proposerOptions(options)` in src/options.ts resolves them). */
export interface ProposerServiceOptions extends ProposerOptions {
  enabled: boolean
  /** undefined with the dev L1: DEV_PROPOSER_KEY. */
  keyFile: string | undefined
}

/** The chain as the proposer sees it: derivation's safe head and the output (with its preimage) of a sealed block. */
export function proposerChainView(chain: ChainView, safeHead: () => bigint): ProposerChain {
  return {
    safeHead,
    async output(n) {
      const block = await chain.blockByNumber(n)
      if (block === undefined) return undefined
      let passerRoot: Uint8Array
      await chain.state.readyFor(n)
      try {
        passerRoot = messagePasserStorageRoot(chain, n)
      } catch (error) {
        if (error instanceof StateUnavailableError) return undefined
        throw error
      }
      const header = block.header.serialize()
      return {
        root: bytesToHex(outputRootV0(block.header.stateRoot, passerRoot, keccak256(header))) as Hex,
        header: bytesToHex(header) as Hex,
        messagePasserStorageRoot: bytesToHex(passerRoot) as Hex,
      }
    },
  }
}

export async function createProposer(params: {
  l1: L1Services
  options: ProposerServiceOptions
  chain: ChainView
  safeHead: () => bigint
  logger: Logger
  metrics: Registry
}): Promise<ProposerService> {
  const { l1, options } = params
  const logger = params.logger.child({ module: 'proposer' })
  if (!options.enabled) return new DisabledProposer('--proposer.enabled=false')
  const devL1 = l1.devL1
  if (devL1 !== undefined && devL1.deployment.dispute === undefined)
    return new DisabledProposer('the dev L1 has no dispute contracts')
  if (options.keyFile === undefined && devL1 === undefined)
    throw new L1ConfigError(
      '--proposer.enabled needs --proposer.key-file with an external L1',
      'pass the proposer key, or --proposer.enabled=false',
    )
  const key = options.keyFile === undefined ? DEV_PROPOSER_KEY : await loadProposerKey(options.keyFile)
  const account = privateKeyToAccount(key)
  const chain = defineChain({
    id: Number(l1.rollup.l1ChainId),
    name: 'L1',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [] } },
  })
  const wallet = createWalletClient({
    account,
    chain,
    // An external L1 URL may carry credentials: l1Transport moves them into a header (and out of errors).
    transport: devL1 === undefined ? l1Transport(l1.rpcUrl) : http(l1.rpcUrl, { retryCount: 0 }),
  })
  if (devL1 !== undefined) {
    // The dev proposer's bonds: funded once on the dev L1 (its state, and so this balance, survives restarts).
    const balance = await l1.client.getBalance({ address: account.address })
    if (balance < parseEther('10'))
      await l1.client.request({
        method: 'anvil_setBalance' as 'eth_chainId',
        params: [account.address, `0x${parseEther('1000').toString(16)}`] as unknown as undefined,
      })
  }
  return new Proposer(options, {
    l1: l1.client,
    wallet,
    portal: l1.rollup.depositContractAddress,
    chain: proposerChainView(params.chain, params.safeHead),
    logger,
    metrics: createProposerMetrics(params.metrics),
  })
}

function keccak256Hex(text: string): Hex {
  return bytesToHex(keccak256(new TextEncoder().encode(text))) as Hex
}

async function loadProposerKey(path: string): Promise<Hex> {
  let text: string
  try {
    text = (await readFile(path, 'utf8')).trim()
  } catch (error) {
    throw new L1ConfigError(
      `--proposer.key-file ${path}: cannot read (${error instanceof Error ? error.message : String(error)})`,
    )
  }
  const hex = text.startsWith('0x') ? text : `0x${text}`
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new L1ConfigError(`--proposer.key-file ${path}: expected 32 bytes of hex`)
  return hex.toLowerCase() as Hex
}
