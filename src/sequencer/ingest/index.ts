export {
  TX_REJECTED_RPC_CODE,
  TxRejectedError,
  isTxRejectedError,
  rejectTx,
  txRejectionToJsonRpc,
  type TxRejection,
  type TxRejectParams,
  type TxRejectReason,
} from './errors.ts'
export {
  DEFAULT_MAX_TX_BYTES,
  decodeRawTransaction,
  fromWireDecodedTx,
  getTxCodec,
  toDecodedTx,
  toWireDecodedTx,
  verifyRawTransaction,
  type DecodeLimits,
  type DecodedTx,
  type TxCodec,
  type VerifiedTx,
  type WireDecodedTx,
} from './decode.ts'
export {
  DEFAULT_INGEST_MAX_BATCH,
  IngestPool,
  IngestPoolStoppedError,
  type DecodeOutcome,
  type IngestPoolOptions,
} from './pool.ts'
export type { IngestTask, WireDecodeOutcome } from './worker.ts'
