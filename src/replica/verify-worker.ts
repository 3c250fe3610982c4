import { createBlockHeaderFromRLP } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { checkChainTransactionRules, createChainCommon, type ChainConfig } from '../chain/config.ts'
import { checkChainHeaderRules } from '../chain/header.ts'
import { executionReceiptsDigest } from '../chain/receipt.ts'
import { isNodeError, toPlainError, type PlainError } from '../primitives/errors.ts'
import { BlockVerificationError, decodeWitness, verifyBlock, type BlockVerificationErrorCode } from '../stateless/index.ts'

export interface VerifyTask {
  config: ChainConfig
  header: Uint8Array
  transactions: Uint8Array[]
  witness: Uint8Array
}

export type VerifyOutcome =
  | { ok: true; stateRoot: string; receiptsDigest: Uint8Array; ms: number }
  | { ok: false; error: PlainError<BlockVerificationErrorCode> & { code: BlockVerificationErrorCode } }

let common: { chainId: bigint; common: Common } | undefined

/** One block, verified statelessly in a worker thread: nothing but the task's bytes is used. */
export default async function verifyTask(task: VerifyTask): Promise<VerifyOutcome> {
  const started = performance.now()
  if (common?.chainId !== task.config.chainId) common = { chainId: task.config.chainId, common: createChainCommon(task.config) }
  // A copy per block (cheap: shallow, with its own event emitter): every ethereumjs EVM subscribes to
  // its Common's 'hardforkChanged' event, so with one shared Common each block's VM — and through it
  // the block's whole witness state — stayed reachable for the life of the worker (~10 KB per tx).
  const blockCommon = common.common.copy()
  try {
    const header = createBlockHeaderFromRLP(task.header, {
      common: blockCommon,
      skipConsensusFormatValidation: true,
      setHardfork: true,
    })
    const verified = await verifyBlock({ header, transactions: task.transactions }, decodeWitness(task.witness), {
      common: blockCommon,
      checkHeader: checkChainHeaderRules(task.config),
      checkTransaction: checkChainTransactionRules,
    })
    return {
      ok: true,
      stateRoot: verified.stateRoot,
      receiptsDigest: executionReceiptsDigest(verified.receipts),
      ms: performance.now() - started,
    }
  } catch (error) {
    if (error instanceof BlockVerificationError) return { ok: false, error: toPlainError(error) }
    // Undecodable witness bytes; anything else is a bug and propagates to the pool.
    if (isNodeError(error, 'CODEC_INVALID'))
      return { ok: false, error: toPlainError(new BlockVerificationError('WITNESS_MALFORMED', error.message, { cause: error })) }
    throw error
  }
}
