import { bytesToHex, hexToBytes, KECCAK256_NULL, setLengthLeft } from '@ethereumjs/util'
import type { Hex } from '../../primitives/state-diff.ts'
import { OverriddenState, type AccountOverride, type CallMessage } from '../../execution/call.ts'
import { CallLimitError, CallTimeoutError } from '../../execution/calls/pool.ts'
import type { CallTask, CallTaskOutcome } from '../../execution/calls/tasks.ts'
import { keccak256 } from '../../crypto/native.ts'
import type { StateReader } from '../../state/state-reader.ts'
import { stripLeadingZeros } from '../../state/journaled-state.ts'
import { executionReverted, invalidInput, invalidParams, limitExceeded } from '../errors.ts'
import type { MethodRegistry, RpcContext } from '../registry.ts'
import {
  expectParams,
  invalidArgument,
  parseAddress,
  parseBlockTag,
  parseBytes,
  parseHash,
  parseQuantity,
  parseStorageKey,
  toData,
  toQuantity,
  type BlockSelector,
} from '../params.ts'
import type { EthBackend } from './backend.ts'
import { provenAccount } from './state-proof.ts'
import { registerWithdrawalProofMethods } from './withdrawal-proof.ts'
import { blockNumberOf, pinnedStateOpener, resolveState } from './block-selector.ts'

const LATEST: BlockSelector = { kind: 'tag', tag: 'latest' }

/** Account state reads, eth_call, eth_estimateGas and eth_getProof. */
export function registerStateMethods(registry: MethodRegistry, backend: EthBackend): void {
  const stateAt = async (tag: unknown, index: number) => (await resolveState(backend, parseBlockTag(tag, index, LATEST))).state

  registry.registerAll({
    eth_getBalance: async (params) => {
      const [address, tag] = expectParams(params, 1, 2)
      const state = await stateAt(tag, 1)
      return toQuantity(state.getAccount(lower(parseAddress(address, 0)))?.balance ?? 0n)
    },
    eth_getTransactionCount: async (params) => {
      const [address, tag] = expectParams(params, 1, 2)
      const addr = lower(parseAddress(address, 0))
      const selector = parseBlockTag(tag, 1, LATEST)
      if (selector.kind === 'tag' && selector.tag === 'pending') return toQuantity(backend.pendingNonce(addr))
      const state = (await resolveState(backend, selector)).state
      return toQuantity(state.getAccount(addr)?.nonce ?? 0n)
    },
    eth_getCode: async (params) => {
      const [address, tag] = expectParams(params, 1, 2)
      const state = await stateAt(tag, 1)
      return toData(codeOf(state, lower(parseAddress(address, 0))))
    },
    eth_getStorageAt: async (params) => {
      const [address, slot, tag] = expectParams(params, 2, 3)
      const state = await stateAt(tag, 2)
      const { key } = parseStorageKey(slot, 1)
      return toData(setLengthLeft(state.getStorage(lower(parseAddress(address, 0)), key), 32))
    },
    eth_call: async (params, ctx) => {
      const [call, tag, overrides] = expectParams(params, 1, 3)
      const message = parseCallMessage(call, 0, backend.options.gasCap)
      return callResult(
        await runCall(backend, ctx, parseBlockTag(tag, 1, LATEST), parseOverrides(overrides, 2), { kind: 'call', message }),
      )
    },
    eth_estimateGas: async (params, ctx) => {
      const [call, tag, overrides] = expectParams(params, 1, 3)
      const message = parseCallMessage(call, 0, backend.options.gasCap)
      const task: CallTask = { kind: 'estimateGas', message, gasCap: backend.options.gasCap }
      return estimateResult(await runCall(backend, ctx, parseBlockTag(tag, 1, LATEST), parseOverrides(overrides, 2), task))
    },
    eth_createAccessList: async (params, ctx) => {
      const [call, tag] = expectParams(params, 1, 2)
      const message = parseCallMessage(call, 0, backend.options.gasCap)
      return accessListResult(
        await runCall(backend, ctx, parseBlockTag(tag, 1, LATEST), undefined, { kind: 'createAccessList', message }),
      )
    },
    eth_getProof: async (params) => {
      const [address, slots, tag] = expectParams(params, 3)
      if (!Array.isArray(slots)) throw invalidArgument(1, 'expected an array of storage keys')
      const addr = lower(parseAddress(address, 0))
      const storageKeys = slots.map((s, i) => parseStorageKey(s, 1, { field: `[${i}]` }))
      const keys = storageKeys.map((k) => k.key)
      const number = blockNumberOf(backend.chain, parseBlockTag(tag, 2), 2)
      const proof = await provenAccount(backend, number, addr, keys)
      // The account fields come from the proven leaf itself, so they always match the proof.
      const account = proof.account
      return {
        address: addr,
        accountProof: proof.accountProof.map(toData),
        balance: toQuantity(account?.balance ?? 0n),
        nonce: toQuantity(account?.nonce ?? 0n),
        codeHash: toData(account?.codeHash ?? KECCAK256_NULL),
        storageHash: toData(proof.storageHash),
        // geth echoes a key given as 32 bytes as data and a shorter one as a quantity.
        storageProof: proof.storageProof.map((p, i) => ({
          key: storageKeys[i]!.inputLength === 32 ? keys[i]! : toQuantity(BigInt(keys[i]!)),
          value: toQuantity(BigInt(bytesToHex(p.value.length === 0 ? new Uint8Array(1) : p.value))),
          proof: p.proof.map(toData),
        })),
      }
    },
  })
  registerWithdrawalProofMethods(registry, backend)
}

function lower(address: string): Hex {
  return address.toLowerCase() as Hex
}

function codeOf(state: StateReader, address: Hex): Uint8Array {
  const account = state.getAccount(address)
  if (account === undefined) return new Uint8Array(0)
  return state.getCode(bytesToHex(account.codeHash) as Hex) ?? new Uint8Array(0)
}

/**
 * Runs `task` in a call worker against the state at `selector` as it is when the task starts (pinned:
 * mini-blocks committing meanwhile do not change what the call sees), with `overrides` on top.
 */
async function runCall(
  backend: EthBackend,
  ctx: RpcContext,
  selector: BlockSelector,
  overrides: StateOverrides | undefined,
  task: CallTask,
): Promise<CallTaskOutcome> {
  const pin = await pinnedStateOpener(backend, selector)
  const open = () => {
    const { state, env } = pin()
    return {
      state: overrides === undefined ? state : new OverriddenState(state, overrides.accounts, overrides.codes),
      env,
      release: () => state.release(),
    }
  }
  try {
    return await backend.calls.run({ client: ctx.remoteAddress, open, task })
  } catch (error) {
    if (error instanceof CallLimitError) throw limitExceeded(error.message)
    // geth answers its timeout as a plain -32000 error.
    if (error instanceof CallTimeoutError) throw invalidInput(error.message)
    throw error
  }
}

function callResult(outcome: CallTaskOutcome): Hex {
  switch (outcome.kind) {
    case 'success':
      return toData(outcome.returnData)
    case 'revert':
      throw executionReverted(toData(outcome.returnData), outcome.reason)
    case 'halt':
    case 'invalid':
      throw invalidInput(outcome.error)
    default:
      throw new Error(`eth_call answered with a ${outcome.kind} outcome`)
  }
}

function estimateResult(outcome: CallTaskOutcome): Hex {
  if (outcome.kind === 'estimate') return toQuantity(outcome.gas)
  if (outcome.kind === 'success') throw new Error('eth_estimateGas answered with a call outcome')
  return callResult(outcome)
}

function accessListResult(outcome: CallTaskOutcome): Record<string, unknown> {
  if (outcome.kind === 'invalid') throw invalidInput(outcome.error)
  if (outcome.kind !== 'accessList') throw new Error(`eth_createAccessList answered with a ${outcome.kind} outcome`)
  const result: Record<string, unknown> = { accessList: outcome.accessList, gasUsed: toQuantity(outcome.gasUsed) }
  if (outcome.error !== undefined) result.error = outcome.error
  return result
}

export function parseCallMessage(value: unknown, index: number, gasCap: bigint): CallMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidArgument(index, 'expected a call object')
  const o = value as Record<string, unknown>
  // gas and nonce are 64-bit (geth's hexutil.Uint64), the rest uint256.
  const quantity = (field: string, maxBits = 256): bigint | undefined =>
    o[field] === undefined || o[field] === null ? undefined : parseQuantity(o[field], index, { field, maxBits })
  const address = (field: string): Hex | undefined =>
    o[field] === undefined || o[field] === null ? undefined : lower(parseAddress(o[field], index, { field }))
  if (o.data !== undefined && o.input !== undefined && o.data !== o.input) {
    throw invalidParams(`invalid argument ${index}: both "data" and "input" are set and differ; set one`)
  }
  const dataField = o.input ?? o.data
  const message: CallMessage = {}
  const from = address('from')
  const to = address('to')
  const gas = quantity('gas', 64)
  const gasPrice = quantity('gasPrice')
  const maxFeePerGas = quantity('maxFeePerGas')
  const maxPriorityFeePerGas = quantity('maxPriorityFeePerGas')
  const callValue = quantity('value')
  const nonce = quantity('nonce', 64)
  if (gasPrice !== undefined && (maxFeePerGas !== undefined || maxPriorityFeePerGas !== undefined)) {
    throw invalidParams(`invalid argument ${index}: both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified`)
  }
  if (from !== undefined) message.from = from
  if (to !== undefined) message.to = to
  // geth: the gas cap is also the default; without it a call given no gas ran with the block gas limit (2 billion on the dev chain).
  message.gas = gas === undefined || gas > gasCap ? gasCap : gas
  if (gasPrice !== undefined) message.gasPrice = gasPrice
  if (maxFeePerGas !== undefined) message.maxFeePerGas = maxFeePerGas
  if (maxPriorityFeePerGas !== undefined) message.maxPriorityFeePerGas = maxPriorityFeePerGas
  if (callValue !== undefined) message.value = callValue
  if (nonce !== undefined) message.nonce = nonce
  if (dataField !== undefined && dataField !== null) message.data = parseBytes(dataField, index, { field: 'input' })
  if (o.accessList !== undefined && o.accessList !== null) {
    if (!Array.isArray(o.accessList)) throw invalidArgument(index, 'accessList must be an array')
    message.accessList = o.accessList.map((item: unknown, i: number) => {
      const entry = item as { address?: unknown; storageKeys?: unknown }
      if (!Array.isArray(entry?.storageKeys)) throw invalidArgument(index, `accessList[${i}].storageKeys must be an array`)
      // 32-byte hashes exactly, as geth's access-list JSON (common.Hash) takes them.
      return {
        address: lower(parseAddress(entry.address, index, { field: `accessList[${i}].address` })),
        storageKeys: entry.storageKeys.map((k) => parseHash(k, index, { field: `accessList[${i}].storageKeys` })),
      }
    })
  }
  if (Array.isArray(o.authorizationList)) {
    message.authorizationList = o.authorizationList.map((item: unknown, i: number) => {
      if (typeof item !== 'object' || item === null) throw invalidArgument(index, `authorizationList[${i}] must be an object`)
      const entry = item as Record<string, unknown>
      const field = (name: string): Hex =>
        toQuantity(
          parseQuantity(entry[name] ?? (name === 'yParity' ? entry.v : undefined), index, {
            field: `authorizationList[${i}].${name}`,
          }),
        ) as Hex
      return {
        chainId: field('chainId'),
        address: lower(parseAddress(entry.address, index, { field: `authorizationList[${i}].address` })),
        nonce: field('nonce'),
        yParity: field('yParity'),
        r: field('r'),
        s: field('s'),
      }
    })
  }
  return message
}

export interface StateOverrides {
  accounts: Map<Hex, AccountOverride>
  codes: Map<Hex, Uint8Array>
}

/** geth's state-override set: `{ [address]: { balance, nonce, code, state, stateDiff } }`. */
export function parseOverrides(value: unknown, index: number): StateOverrides | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidArgument(index, 'expected a state override object')
  const overrides = new Map<Hex, AccountOverride>()
  const codes = new Map<Hex, Uint8Array>()
  for (const [rawAddress, rawOverride] of Object.entries(value as Record<string, unknown>)) {
    const address = lower(parseAddress(rawAddress, index))
    if (typeof rawOverride !== 'object' || rawOverride === null)
      throw invalidArgument(index, `override of ${address} must be an object`)
    const o = rawOverride as Record<string, unknown>
    if (o.state !== undefined && o.stateDiff !== undefined)
      throw invalidArgument(index, `override of ${address} has both state and stateDiff`)
    const override: AccountOverride = {}
    if (o.balance !== undefined) override.balance = parseQuantity(o.balance, index, { field: `${address}.balance` })
    if (o.nonce !== undefined) override.nonce = parseQuantity(o.nonce, index, { field: `${address}.nonce`, maxBits: 64 })
    if (o.code !== undefined) {
      const code = parseBytes(o.code, index, { field: `${address}.code` })
      override.code = code
      override.codeHash = code.length === 0 ? KECCAK256_NULL : keccak256(code)
      if (code.length > 0) codes.set(bytesToHex(override.codeHash) as Hex, code)
    }
    if (o.state !== undefined) override.state = parseSlots(o.state, index, address)
    if (o.stateDiff !== undefined) override.stateDiff = parseSlots(o.stateDiff, index, address)
    overrides.set(address, override)
  }
  return { accounts: overrides, codes }
}

function parseSlots(value: unknown, index: number, address: Hex): Map<Hex, Uint8Array> {
  if (typeof value !== 'object' || value === null)
    throw invalidArgument(index, `storage override of ${address} must be an object`)
  const slots = new Map<Hex, Uint8Array>()
  // Slots and values are 32-byte words (geth: common.Hash); shorter spellings are left-padded as storage keys are,
  // longer ones refused (they used to be truncated to their last 32 bytes).
  for (const [slot, slotValue] of Object.entries(value as Record<string, unknown>)) {
    const { key } = parseStorageKey(slot, index, { field: `${address} slot` })
    slots.set(key, stripLeadingZeros(hexToBytes(parseStorageKey(slotValue, index, { field: `${address} slot value` }).key)))
  }
  return slots
}
