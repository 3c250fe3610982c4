/**
 * The outputs of the blocks a prover derived, kept as they are derived: a game bisects over blocks anywhere
 * between its anchor and its block, and the state they need (the message passer's storage root) leaves the
 * in-memory state history after `--state.history` blocks and at every restart. Each derived block's output
 * (root, header RLP, passer root: what an output registry takes) is appended to `<datadir>/prover-outputs.jsonl`
 * as derivation applies it, and replayed at start. A rewind is a record too, so the file replays to the chain.
 * A torn last line (kill -9 mid-write) is skipped. Outputs below the lowest block a game may still bisect over are
 * forgotten (`retainFrom`), and the file is rewritten without them once most of its lines are dead.
 */
import { appendFile, readFile, rename, writeFile } from 'node:fs/promises'
import { bytesToHex } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { Hex } from 'viem'
import type { ConsumerResult, DerivedBlockConsumer } from '../derive/driver.ts'
import type { DerivedBlock, SafeBlockRef } from '../derive/safe-chain.ts'
import type { DerivedOutput } from '../prover/interface.ts'
import { blockOutput } from '../rpc/optimism-methods.ts'
import type { ChainView } from '../storage/chain-view.ts'

type Line = { b: string; r: Hex; h: Hex; p: Hex } | { rewind: string }

/** The file is rewritten when it holds more than this many lines besides the live outputs (and twice as many). */
const COMPACT_SLACK = 1_000

export class DerivedOutputs {
  private readonly outputs = new Map<bigint, DerivedOutput>()
  /** Lines in the file (live or not): compaction is due when most are dead. */
  private lines = 0
  /** The file's writes, one at a time: an append must not land in a file a compaction is about to replace. */
  private io: Promise<void> = Promise.resolve()

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
      outputs.lines++
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
    await this.append(lineOf(output))
  }

  async rewound(to: bigint): Promise<void> {
    this.dropAbove(to)
    await this.append({ rewind: to.toString() })
  }

  /** Forgets the outputs below `block` (no game can ask for them any more), compacting the file when most are dead. */
  async retainFrom(block: bigint): Promise<void> {
    for (const key of this.outputs.keys()) if (key < block) this.outputs.delete(key)
    const live = this.outputs.size
    if (this.lines <= 2 * live || this.lines - live <= COMPACT_SLACK) return
    await this.serially(async () => {
      const text = [...this.outputs.values()].map((o) => `${JSON.stringify(lineOf(o))}\n`).join('')
      // A rename replaces the file whole: a kill -9 leaves the old file or the new one, never half of either.
      await writeFile(`${this.path}.tmp`, text)
      await rename(`${this.path}.tmp`, this.path)
      this.lines = this.outputs.size
    }, 'could not compact the derived outputs file; it keeps its old lines')
  }

  private dropAbove(block: bigint): void {
    for (const key of this.outputs.keys()) if (key > block) this.outputs.delete(key)
  }

  private append(line: Line): Promise<void> {
    return this.serially(async () => {
      await appendFile(this.path, `${JSON.stringify(line)}\n`)
      this.lines++
    }, 'could not record a derived output; it is kept in memory only')
  }

  /** Runs a file write after the ones before it; a failure is logged (the outputs stay in memory). */
  private serially(write: () => Promise<void>, failure: string): Promise<void> {
    this.io = this.io.then(write).catch((err: unknown) => this.logger.warn({ err }, failure))
    return this.io
  }
}

function lineOf(output: DerivedOutput): Line {
  return { b: output.block.toString(), r: output.root, h: output.header, p: output.messagePasserStorageRoot }
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
