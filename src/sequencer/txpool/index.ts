export { DEFAULT_TXPOOL_OPTIONS, resolveTxPoolOptions, type TxPoolOptions } from './options.ts'
export {
  TxPool,
  type AddResult,
  type DropReason,
  type DroppedTx,
  type PickOptions,
  type PoolStateReader,
  type TxPoolContent,
  type TxPoolInit,
} from './txpool.ts'
export { IndexedHeap, type HeapSlot } from './heap.ts'
export { effectiveTip } from '../../execution/fees.ts'
