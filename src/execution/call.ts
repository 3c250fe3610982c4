import type { Common } from '@ethereumjs/common'
import { createTx, type TypedTransaction } from '@ethereumjs/tx'
import { Address, bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import type { Log } from '../chain/receipt.ts'
import type { AccountState, Hex } from '../primitives/state-diff.ts'
import type { BlockEnv } from './block-env.ts'
import type { SequentialExecutor } from './executor.ts'
import type { StateReader } from '../state/state-reader.ts'
import { decodeRevertReason } from './revert.ts'
import { defaultCallGas } from './tx-rules.ts'

/** An eth_call / eth_estimateGas message: a transaction nobody signed. */
export interface CallMessage {
  from?: Hex
  to?: Hex
  gas?: bigint
  gasPrice?: bigint
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  value?: bigint
  data?: Uint8Array
  nonce?: bigint
  accessList?: Array<{ address: Hex; storageKeys: Hex[] }>
  /** EIP-7702 authorizations (signed): the message runs as a set-code transaction. */
  authorizationList?: AuthorizationJson[]
}

/** A signed EIP-7702 authorization as JSON-RPC spells it (quantities as 0x hex). */
export interface AuthorizationJson {
  chainId: Hex
  address: Hex
  nonce: Hex
  yParity: Hex
  r: Hex
  s: Hex
}

/** An EIP-2930 access list as JSON-RPC spells it. */
export type AccessListJson = Array<{ address: Hex; storageKeys: Hex[] }>

export type CallOutcome =
  | { kind: 'success'; returnData: Uint8Array; gasUsed: bigint; logs: Log[]; accessList?: AccessListJson }
  | { kind: 'revert'; returnData: Uint8Array; gasUsed: bigint; reason?: string }
  | { kind: 'halt'; error: string; gasUsed: bigint }
  /** The message is not a valid transaction at all (intrinsic gas, gas over the cap, …). */
  | { kind: 'invalid'; error: string }

/** The sender of a call that names none. */
export const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000' as Hex

/**
 * Runs one message on `executor` for its result only: every write lands in the executor's overlay and
 * is discarded. `reportAccessList`: also return the EIP-2930 access list the call touched
 * (eth_createAccessList).
 */
export async function runCall(
  executor: SequentialExecutor,
  env: BlockEnv,
  message: CallMessage,
  reportAccessList = false,
): Promise<CallOutcome> {
  try {
    return await runMessage(executor, env, message, reportAccessList)
  } finally {
    executor.state.discard()
  }
}

async function runMessage(
  executor: SequentialExecutor,
  env: BlockEnv,
  message: CallMessage,
  reportAccessList: boolean,
): Promise<CallOutcome> {
  const from = (message.from ?? ZERO_ADDRESS).toLowerCase() as Hex
  const sender = executor.state.readAccount(from)
  const pricedEnv = callEnv(env, message)
  // Also switches the executor's Common to the block's fork: the message is built under its rules.
  executor.setBlockEnv(pricedEnv)
  const { common } = executor
  // From Osaka no transaction may ask for more than 2^24 gas (EIP-7825): calls run within that cap.
  const gasCap = defaultCallGas(common, pricedEnv.gasLimit)
  let tx: TypedTransaction
  try {
    tx = unsignedTx(
      message.gas !== undefined && message.gas > gasCap ? { ...message, gas: gasCap } : message,
      sender?.nonce ?? 0n,
      gasCap,
      common,
      from,
    )
  } catch (error) {
    return { kind: 'invalid', error: error instanceof Error ? error.message : String(error) }
  }
  const outcome = await executor.applyCall(tx, reportAccessList)
  if (!outcome.ok) return { kind: 'invalid', error: outcome.error.message }
  const { result } = outcome
  const gasUsed = result.totalGasSpent
  const returnData = result.execResult.returnValue
  const error = result.execResult.exceptionError
  if (error === undefined) {
    const logs = (result.execResult.logs ?? []).map(([address, topics, data]) => ({
      address: bytesToHex(address) as Hex,
      topics: topics.map((t) => bytesToHex(t) as Hex),
      data: bytesToHex(data) as Hex,
    }))
    if (result.accessList === undefined) return { kind: 'success', returnData, gasUsed, logs }
    const accessList = result.accessList.map((item) => ({
      address: item.address.toLowerCase() as Hex,
      storageKeys: item.storageKeys.map((k) => k.toLowerCase() as Hex),
    }))
    return { kind: 'success', returnData, gasUsed, logs, accessList }
  }
  if (error.error === 'revert') {
    const reason = decodeRevertReason(returnData)
    return reason === undefined ? { kind: 'revert', returnData, gasUsed } : { kind: 'revert', returnData, gasUsed, reason }
  }
  return { kind: 'halt', error: error.error, gasUsed }
}

/**
 * geth's rule: a call that names no gas price runs with a zero base fee, so a zero-fee call is
 * valid; one that names a price pays it (and must afford it).
 */
function callEnv(env: BlockEnv, message: CallMessage): BlockEnv {
  const priced =
    message.gasPrice !== undefined || message.maxFeePerGas !== undefined || message.maxPriorityFeePerGas !== undefined
  return priced ? env : { ...env, baseFeePerGas: 0n }
}

function unsignedTx(message: CallMessage, nonce: bigint, gasCap: bigint, common: Common, from: Hex): TypedTransaction {
  const base = {
    nonce: message.nonce ?? nonce,
    gasLimit: message.gas ?? gasCap,
    to: message.to === undefined ? undefined : createAddressFromString(message.to),
    value: message.value ?? 0n,
    data: message.data ?? new Uint8Array(0),
  }
  const accessList = message.accessList?.map((item) => ({ address: item.address, storageKeys: item.storageKeys }))
  const authorizationList = message.authorizationList
  const tx =
    authorizationList !== undefined
      ? createTx(
          {
            ...base,
            type: 4,
            maxFeePerGas: message.maxFeePerGas ?? message.gasPrice ?? message.maxPriorityFeePerGas ?? 0n,
            maxPriorityFeePerGas: message.maxPriorityFeePerGas ?? message.gasPrice ?? 0n,
            accessList: accessList ?? [],
            authorizationList,
          },
          { common, freeze: false },
        )
      : message.gasPrice !== undefined
        ? createTx(
            {
              ...base,
              type: accessList === undefined ? 0 : 1,
              gasPrice: message.gasPrice,
              ...(accessList === undefined ? {} : { accessList }),
            },
            { common, freeze: false },
          )
        : createTx(
            {
              ...base,
              type: 2,
              maxFeePerGas: message.maxFeePerGas ?? message.maxPriorityFeePerGas ?? 0n,
              maxPriorityFeePerGas: message.maxPriorityFeePerGas ?? 0n,
              accessList: accessList ?? [],
            },
            { common, freeze: false },
          )
  const caller = new Address(hexToBytes(from))
  // Calls are unsigned: present the requested sender to the VM the way an impersonating node does.
  Object.defineProperty(tx, 'getSenderAddress', { value: () => caller })
  return tx
}

/** A `StateReader` with eth_call state overrides (geth's `stateOverride` object) applied on top. */
export interface AccountOverride {
  balance?: bigint
  nonce?: bigint
  code?: Uint8Array
  codeHash?: Uint8Array
  /** Replaces the whole storage. */
  state?: Map<Hex, Uint8Array>
  /** Patches individual slots. */
  stateDiff?: Map<Hex, Uint8Array>
}

export class OverriddenState implements StateReader {
  constructor(
    private readonly base: StateReader,
    private readonly overrides: Map<Hex, AccountOverride>,
    private readonly codes: Map<Hex, Uint8Array>,
  ) {}

  getAccount(address: Hex): AccountState | undefined {
    const override = this.overrides.get(address)
    const account = this.base.getAccount(address)
    if (override === undefined) return account
    return {
      nonce: override.nonce ?? account?.nonce ?? 0n,
      balance: override.balance ?? account?.balance ?? 0n,
      codeHash: override.codeHash ?? account?.codeHash ?? EMPTY_CODE_HASH,
    }
  }

  getStorage(address: Hex, slot: Hex): Uint8Array {
    const override = this.overrides.get(address)
    const patched = override?.stateDiff?.get(slot) ?? override?.state?.get(slot)
    if (patched !== undefined) return patched
    if (override?.state !== undefined) return new Uint8Array(0)
    return this.base.getStorage(address, slot)
  }

  hasStorage(address: Hex): boolean {
    const override = this.overrides.get(address)
    if (override?.state !== undefined) return [...override.state.values()].some((v) => v.length > 0)
    return this.base.hasStorage(address) || [...(override?.stateDiff?.values() ?? [])].some((v) => v.length > 0)
  }

  getCode(codeHash: Hex): Uint8Array | undefined {
    return this.codes.get(codeHash) ?? this.base.getCode(codeHash)
  }
}

const EMPTY_CODE_HASH = hexToBytes('0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
