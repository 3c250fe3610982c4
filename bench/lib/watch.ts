/**
 * Observing inclusion from the outside, the same way for both servers.
 *
 * BlockWatcher polls eth_blockNumber every `intervalMs` and reads each new block's tx count, so
 * "included in a sealed EVM block" (megaeth-node) and "mined" (anvil) are both the moment the
 * block became visible over RPC (± one poll interval). MiniBlockWatcher follows megaeth-node's
 * `miniBlocks` WebSocket subscription (preconfirmation: the tx is in a durable mini-block).
 */
import { type RpcClient, hexNum, toHex } from './rpc.ts'
import { WsRpc } from './ws.ts'

export interface BlockSeen {
  number: number
  txs: number
  /** txs in this and all earlier watched blocks */
  cumulative: number
  /** epoch ms when first seen */
  seenMs: number
}

export class BlockWatcher {
  readonly blocks: BlockSeen[] = []
  private last: number
  private total = 0
  private timer: NodeJS.Timeout | undefined
  private busy = false
  private waiters: Array<{ target: number; resolve: (b: BlockSeen) => void }> = []
  private failure: Error | undefined

  private constructor(
    private readonly rpc: RpcClient,
    start: number,
  ) {
    this.last = start
  }

  /** Starts counting txs in blocks after the current head. */
  static async start(rpc: RpcClient, intervalMs = 20): Promise<BlockWatcher> {
    const head = hexNum(await rpc.call<string>('eth_blockNumber'))
    const w = new BlockWatcher(rpc, head)
    w.timer = setInterval(() => void w.poll(), intervalMs)
    return w
  }

  get startBlock(): number {
    return this.blocks[0]?.number ?? this.last
  }

  get included(): number {
    return this.total
  }

  private async poll(): Promise<void> {
    if (this.busy) return
    this.busy = true
    try {
      const head = hexNum(await this.rpc.call<string>('eth_blockNumber'))
      if (head > this.last) {
        const seenMs = performance.timeOrigin + performance.now()
        const nums: number[] = []
        for (let n = this.last + 1; n <= head; n++) nums.push(n)
        const res = await this.rpc.batch<string>(nums.map((n) => ['eth_getBlockTransactionCountByNumber', [toHex(n)]]))
        for (let i = 0; i < nums.length; i++) {
          const r = res[i]!
          if (r.error !== undefined || r.result === undefined || r.result === null)
            throw new Error(`block ${nums[i]}: ${r.error?.message ?? 'missing'}`)
          const txs = hexNum(r.result)
          this.total += txs
          this.blocks.push({ number: nums[i]!, txs, cumulative: this.total, seenMs })
        }
        this.last = head
        const b = this.blocks.at(-1)!
        this.waiters = this.waiters.filter((w) => {
          if (this.total >= w.target) {
            w.resolve(this.blocks.find((x) => x.cumulative >= w.target) ?? b)
            return false
          }
          return true
        })
      }
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error))
    } finally {
      this.busy = false
    }
  }

  /** Resolves with the block in which the cumulative count reached `target`. */
  waitFor(target: number, timeoutMs: number): Promise<BlockSeen> {
    if (this.total >= target) return Promise.resolve(this.blocks.find((x) => x.cumulative >= target)!)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done)
        reject(
          new Error(
            `only ${this.total} of ${target} txs included after ${timeoutMs} ms${this.failure === undefined ? '' : ` (last poll error: ${this.failure.message})`}`,
          ),
        )
      }, timeoutMs)
      const done = (b: BlockSeen): void => {
        clearTimeout(timer)
        resolve(b)
      }
      this.waiters.push({ target, resolve: done })
    })
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
  }
}

export interface MiniBlockSeen {
  number: number
  txs: number
  /** server µs timestamp */
  timestampUs: number
  /** client epoch ms at arrival */
  arrivedMs: number
}

export class MiniBlockWatcher {
  readonly miniBlocks: MiniBlockSeen[] = []
  total = 0
  private waiters: Array<{ target: number; resolve: (m: MiniBlockSeen) => void }> = []

  private constructor(private readonly ws: WsRpc) {}

  static async start(wsUrl: string): Promise<MiniBlockWatcher> {
    const ws = await WsRpc.connect(wsUrl)
    const w = new MiniBlockWatcher(ws)
    await ws.subscribe(['miniBlocks'], (n) => {
      const r = n.result as { mini_block_number: string | number; mini_block_timestamp: string | number; transactions: unknown[] }
      const m: MiniBlockSeen = {
        number: Number(r.mini_block_number),
        txs: r.transactions.length,
        timestampUs: Number(r.mini_block_timestamp),
        arrivedMs: performance.timeOrigin + n.at,
      }
      w.miniBlocks.push(m)
      w.total += m.txs
      w.waiters = w.waiters.filter((x) => {
        if (w.total >= x.target) {
          x.resolve(m)
          return false
        }
        return true
      })
    })
    return w
  }

  waitFor(target: number, timeoutMs: number): Promise<MiniBlockSeen> {
    if (this.total >= target) {
      let c = 0
      return Promise.resolve(this.miniBlocks.find((m) => (c += m.txs) >= target)!)
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${this.total} of ${target} txs in mini-blocks after ${timeoutMs} ms`)),
        timeoutMs,
      )
      this.waiters.push({
        target,
        resolve: (m) => {
          clearTimeout(timer)
          resolve(m)
        },
      })
    })
  }

  stop(): void {
    this.ws.close()
  }
}
