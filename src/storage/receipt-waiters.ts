import type { MiniBlock } from '../chain/mini-block.ts'
import type { TxReceipt } from '../chain/receipt.ts'
import type { Hex } from '../primitives/state-diff.ts'

/**
 * Clients blocked in eth_sendRawTransactionSync / realtime_sendRawTransaction, by tx hash. Resolved
 * from the mini-block event, which fires only after the WAL fsync: a receipt handed out is durable.
 */
export class ReceiptWaiters {
  private readonly waiting = new Map<Hex, Set<(receipt: TxReceipt) => void>>()

  /** Register before submitting, so a tx included in the very next mini-block is not missed. */
  wait(hash: Hex, timeoutMs: number): { promise: Promise<TxReceipt | undefined>; cancel: () => void } {
    let settle!: (receipt: TxReceipt | undefined) => void
    const promise = new Promise<TxReceipt | undefined>((resolve) => (settle = resolve))
    let set = this.waiting.get(hash)
    if (set === undefined) {
      set = new Set()
      this.waiting.set(hash, set)
    }
    const listeners = set
    const onReceipt = (receipt: TxReceipt): void => finish(receipt)
    const timer = setTimeout(() => finish(undefined), timeoutMs)
    const finish = (receipt: TxReceipt | undefined): void => {
      clearTimeout(timer)
      listeners.delete(onReceipt)
      if (listeners.size === 0 && this.waiting.get(hash) === listeners) this.waiting.delete(hash)
      settle(receipt)
    }
    listeners.add(onReceipt)
    return { promise, cancel: () => finish(undefined) }
  }

  onMiniBlock(block: MiniBlock): void {
    this.onReceipts(block.receipts)
  }

  /** Receipts that arrived without a mini-block event (a replica importing a whole block while catching up). */
  onReceipts(receipts: readonly TxReceipt[]): void {
    if (this.waiting.size === 0) return
    for (const receipt of receipts) {
      const listeners = this.waiting.get(receipt.transactionHash)
      if (listeners === undefined) continue
      for (const listener of [...listeners]) listener(receipt)
    }
  }

  get size(): number {
    return this.waiting.size
  }
}
