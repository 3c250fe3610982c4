/**
 * The outputs of the blocks a prover derived, kept as they are derived: a game bisects over blocks anywhere
 * between its anchor and its block, and the state they need (the message passer's storage root) leaves the
 * in-memory state history after `--state.history` blocks and at every restart. Each derived block's output
 * (root, header RLP, passer root: what an output registry takes) is appended to `<datadir>/prover-outputs.jsonl`
 * as derivation applies it, and replayed at start. A rewind is a record too, so the file replays to the chain.
 * A torn last line (kill -9 mid-write) is skipped.
 */
import { appendFile, readFile } from 'node:fs/promises'
import { bytesToHex } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { Hex } from 'viem'
import type { ConsumerResult, DerivedBlockConsumer } from '../derive/driver.ts'
import type { DerivedBlock, SafeBlockRef } from '../derive/safe-chain.ts'
import type { DerivedOutput } from '../prover/interface.ts'
import { blockOutput } from '../rpc/optimism-methods.ts'
import type { ChainView } from '../storage/chain-view.ts'

type Line = { b: string; r: Hex; h: Hex; p: Hex } | { rewind: string }

export class DerivedOutputs {
  private readonly outputs = new Map<bigint, DerivedOutput>()

  private constructor(
    private readonly path: string,
    private readonly chain: Pick<ChainView, 'blockByNumber' | 'state' | 'head'>,
    private readonly logger: Logger,
  ) {}

  static async open(
    path: string,
    chain: Pick<ChainView, 'blockByNumber' | 'state' | 'head'>,
    logger: Logger,
  ): Promise<DerivedOutputs> {
    const outputs = new DerivedOutputs(path, chain, logger)
    let text = ''
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    for (const raw of text.split('\n')) {
      if (raw === '') continue
      let line: Line
      try {
        line = JSON.parse(raw) as Line
      } catch {
        continue
      }
      if ('rewind' in line) outputs.dropAbove(BigInt(line.rewind))
      else {
        const block = BigInt(line.b)
        outputs.outputs.set(block, { block, root: line.r, header: line.h, messagePasserStorageRoot: line.p })
      }
    }
    outputs.dropAbove(chain.head.header.number)
    return outputs
  }

  /** The output of a derived block: recorded, or computed from the state history (and then recorded). */
  async outputAt(block: bigint): Promise<DerivedOutput> {
    const known = this.outputs.get(block)
    if (known !== undefined) return known
    const computed = await blockOutput(this.chain, block)
    if (computed === undefined) throw new Error(`block ${block} is not derived`)
    const output: DerivedOutput = {
      block,
      root: bytesToHex(computed.root) as Hex,
      header: bytesToHex(computed.block.header.serialize()) as Hex,
      messagePasserStorageRoot: bytesToHex(computed.messagePasserStorageRoot) as Hex,
    }
    this.outputs.set(block, output)
    return output
  }

  /** Records the output of the chain's head (just derived, so its state is the live one). */
  async recordHead(): Promise<void> {
    const head = this.chain.head.header.number
    if (this.outputs.has(head)) return
    const output = await this.outputAt(head)
    await this.append({ b: head.toString(), r: output.root, h: output.header, p: output.messagePasserStorageRoot })
  }

  async rewound(to: bigint): Promise<void> {
    this.dropAbove(to)
    await this.append({ rewind: to.toString() })
  }

  private dropAbove(block: bigint): void {
    for (const key of this.outputs.keys()) if (key > block) this.outputs.delete(key)
  }

  private async append(line: Line): Promise<void> {
    try {
      await appendFile(this.path, `${JSON.stringify(line)}\n`)
    } catch (err) {
      this.logger.warn({ err }, 'could not record a derived output; it is kept in memory only')
    }
  }
}

/**
 * Wraps a consumer so each block it applies has its output recorded before derivation goes on. Derived blocks are
 * written behind the next one (`derive/commit-queue.ts`) and the chain view learns a block once it is written, so
 * the wrapper waits for the writes (`settled`) before it reads the head: the prover gives up that overlap to record
 * every block, in order.
 */
export function recordingOutputs(
  inner: DerivedBlockConsumer,
  outputs: DerivedOutputs,
  settled: () => Promise<void>,
): DerivedBlockConsumer {
  return {
    async apply(derived: DerivedBlock): Promise<ConsumerResult> {
      const result = await inner.apply(derived)
      await settled()
      await outputs.recordHead()
      return result
    },
    async rewind(to: SafeBlockRef): Promise<void> {
      await inner.rewind(to)
      await outputs.rewound(to.number)
    },
  }
}
