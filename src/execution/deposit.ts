/**
 * Execution of OP Stack deposit transactions (type 0x7E, Regolith rules and later), which ethereumjs'
 * `runTx` does not know: no signature, no nonce check, no fee. Built on the EVM's own message call
 * (`evm.runCall`) so everything inside the call (warm sets, refund counter, CREATE addresses,
 * EIP-7702 delegations of the callee, transient storage) is ethereumjs' code; this file does what
 * op-geth's state transition does around it for a deposit:
 *
 * 1. mint `mint` wei to `from` — kept whatever happens next;
 * 2. check the deposit is valid at the consensus level (not a pre-Regolith system deposit; intrinsic
 *    gas and, from Prague, the EIP-7623 calldata floor within `gas`; `value` within the balance after
 *    the mint; init code size). An
 *    invalid deposit is still included: only `from`'s nonce is incremented, the receipt has status 0
 *    and uses its whole gas limit;
 * 3. otherwise increment `from`'s nonce (the nonce before is the receipt's `depositNonce`, and a
 *    creation's address derives from it) and run the call at gas price 0: no gas is bought or
 *    refunded in wei, the fee recipient is not touched, no base fee is burned. BASEFEE still reads
 *    the block's base fee. The gas reported is what a normal transaction would report: intrinsic plus
 *    execution, less the EIP-3529-capped refund, at least the EIP-7623 floor.
 *
 * No EIP-3607 (sender has code) check, no EIP-7825 cap and no block-gas refusal: deposits are
 * always included (L1 already authorized them).
 */
import type { Block } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { EVMInterface } from '@ethereumjs/evm'
import { Bloom } from '@ethereumjs/vm'
import { Address, bigIntToBytes, bytesToHex, bytesToUnprefixedHex, generateAddress, hexToBytes } from '@ethereumjs/util'
import type { DepositTransaction } from '../chain/deposit-tx.ts'
import type { Log } from '../chain/receipt.ts'
import type { Hex } from '../primitives/state-diff.ts'
import type { JournaledState } from '../state/journaled-state.ts'
import { calldataFloorGas } from './tx-rules.ts'

/** What a deposit did, before it is placed in its block (see `placeReceipt`). */
export interface DepositResult {
  status: 0 | 1
  gasUsed: bigint
  logs: Log[]
  logsBloom: Uint8Array
  contractAddress: Hex | null
  /** `from`'s nonce before the deposit. */
  depositNonce: bigint
}

const TX_GAS = 21_000n
const TX_CREATION_GAS = 32_000n
const TX_DATA_ZERO_GAS = 4n
const TX_DATA_NON_ZERO_GAS = 16n
const INIT_CODE_WORD_GAS = 2n
/** EIP-3860's limit on creation data. */
const MAX_INIT_CODE_SIZE = 49_152
/** EIP-3529: at most a fifth of the gas used is refunded. */
const MAX_REFUND_QUOTIENT = 5n
const EMPTY_BLOOM = new Uint8Array(256)

/** Forks whose transaction processing this file does not implement (they change what `runTx` does around the call). */
const UNSUPPORTED_EIPS = [7708, 7928, 8037, 8246] as const

/** Intrinsic gas of a message without access list or authorizations (the only kind a deposit is). */
export function depositIntrinsicGas(data: Uint8Array, creation: boolean): bigint {
  let gas = TX_GAS
  for (let i = 0; i < data.length; i++) gas += data[i] === 0 ? TX_DATA_ZERO_GAS : TX_DATA_NON_ZERO_GAS
  if (creation) gas += TX_CREATION_GAS + INIT_CODE_WORD_GAS * BigInt(Math.ceil(data.length / 32))
  return gas
}

/** The context a deposit runs in: the executor's VM over `state`, and its current block. */
export interface DepositContext {
  readonly evm: EVMInterface
  readonly state: JournaledState
  readonly common: Common
  /** The block at its real base fee (BASEFEE, COINBASE … read it). */
  readonly block: Block
}

/**
 * Applies one deposit to `ctx.state`. Throws only when the EVM itself fails (a missing state backend,
 * a bug): a deposit cannot be refused, so anything else is a receipt.
 */
export async function executeDeposit(ctx: DepositContext, deposit: DepositTransaction): Promise<DepositResult> {
  const { evm, state, common } = ctx
  for (const eip of UNSUPPORTED_EIPS)
    if (common.isActivatedEIP(eip)) throw new Error(`deposit execution does not implement EIP-${eip}`)
  const fromHex = deposit.from.toLowerCase() as Hex
  const from = new Address(hexToBytes(fromHex))
  const data = hexToBytes(deposit.data)
  const creation = deposit.to === null
  // As runTx starts a transaction: the previous one's touched empty accounts go (EIP-161), warm sets reset.
  await evm.journal.cleanup()

  // 1. The mint, outside any checkpoint: nothing below undoes it.
  const before = state.readAccount(fromHex)
  const balance = (before?.balance ?? 0n) + deposit.mint
  const depositNonce = before?.nonce ?? 0n
  if (deposit.mint > 0n) await state.modifyAccountFields(from, { balance, nonce: depositNonce })

  // 2. Consensus validity, checked before anything else is written so an invalid deposit leaves
  // exactly the mint and the nonce increment.
  const intrinsic = depositIntrinsicGas(data, creation)
  const floor = common.isActivatedEIP(7623) ? calldataFloorGas(data) : 0n
  const invalid =
    // System deposits ended with Regolith (every OP fork runs from genesis here): op-geth fails them.
    deposit.isSystemTx ||
    intrinsic > deposit.gas ||
    floor > deposit.gas ||
    deposit.value > balance ||
    (creation && common.isActivatedEIP(3860) && data.length > MAX_INIT_CODE_SIZE)
  // As geth's receipts: a creation names the address it deploys (or would have) whatever its status.
  const contractAddress = creation ? (bytesToHex(generateAddress(from.bytes, bigIntToBytes(depositNonce))) as Hex) : null
  if (invalid) {
    await state.modifyAccountFields(from, { nonce: depositNonce + 1n, balance })
    return { status: 0, gasUsed: deposit.gas, logs: [], logsBloom: EMPTY_BLOOM, contractAddress, depositNonce }
  }

  // 3. The message call, set up as runTx sets up a transaction's: the sender, the callee, the
  // precompiles and (EIP-3651) the fee recipient warm.
  if (common.isActivatedEIP(2929)) {
    for (const address of evm.precompiles.keys()) evm.journal.addAlwaysWarmAddress(address)
    evm.journal.addAlwaysWarmAddress(fromHex)
    if (deposit.to !== null) evm.journal.addAlwaysWarmAddress(bytesToUnprefixedHex(hexToBytes(deposit.to)))
    if (common.isActivatedEIP(3651)) evm.journal.addAlwaysWarmAddress(bytesToUnprefixedHex(ctx.block.header.coinbase.bytes))
  }
  try {
    await evm.journal.checkpoint()
    // runCall increments the caller's nonce before its message checkpoint (kept on revert) and
    // derives a creation's address from the nonce before it.
    const result = await evm.runCall({
      block: ctx.block,
      gasPrice: 0n,
      caller: from,
      origin: from,
      gasLimit: deposit.gas - intrinsic,
      ...(deposit.to === null ? {} : { to: new Address(hexToBytes(deposit.to)) }),
      value: deposit.value,
      data,
    })
    const exec = result.execResult
    // EIP-6780 (every fork this chain runs): only contracts created in this transaction are deleted.
    for (const key of exec.selfdestruct?.keys() ?? []) {
      const address = new Address(hexToBytes(key as Hex))
      if (exec.createdAddresses?.has(address.toString()) === true) await evm.journal.deleteAccount(address)
    }
    await evm.journal.commit()
    let gasUsed = intrinsic + exec.executionGasUsed
    const refund = exec.gasRefund ?? 0n
    gasUsed -= refund < gasUsed / MAX_REFUND_QUOTIENT ? refund : gasUsed / MAX_REFUND_QUOTIENT
    if (gasUsed < floor) gasUsed = floor
    const logs: Log[] = (exec.logs ?? []).map(([address, topics, logData]) => ({
      address: bytesToHex(address) as Hex,
      topics: topics.map((t) => bytesToHex(t) as Hex),
      data: bytesToHex(logData) as Hex,
    }))
    const bloom = new Bloom(undefined, common)
    for (const [address, topics] of exec.logs ?? []) {
      bloom.add(address)
      for (const topic of topics) bloom.add(topic)
    }
    const failed = exec.exceptionError !== undefined
    return {
      status: failed ? 0 : 1,
      gasUsed,
      logs,
      logsBloom: bloom.bitvector,
      contractAddress,
      depositNonce,
    }
  } catch (error) {
    // Not a failed call (that is a receipt) but the EVM throwing: unwind, keep the mint, report.
    await state.revertAll()
    throw error
  } finally {
    // EIP-161 at the end of the transaction rather than at the start of the next one, so a block
    // whose last transaction is a deposit does not keep an empty account it touched.
    await evm.journal.cleanup()
    state.originalStorageCache.clear()
  }
}
