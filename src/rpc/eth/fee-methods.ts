import type { SealedBlock } from '../../chain/block.ts'
import { DEPOSIT_TX_TYPE } from '../../chain/deposit-tx.ts'
import { invalidParams } from '../errors.ts'
import { invalidArgument } from '../params.ts'
import type { MethodRegistry } from '../registry.ts'
import { expectParams, parseBlockTag, parseHexOrDecimal64, toQuantity } from '../params.ts'
import type { EthBackend } from './backend.ts'
import { blockNumberOf } from './block-selector.ts'

/** Most blocks one eth_feeHistory call covers (geth: 1024). */
const MAX_FEE_HISTORY = 1024n

/**
 * Inclusion here does not depend on tips (a single sequencer orders by arrival within a fee tier),
 * so the suggested tip is zero; `eth_gasPrice` adds 25 % headroom over the base fee because a
 * legacy transaction cannot adapt if the base fee rises before it lands.
 */
const SUGGESTED_TIP = 0n

export function registerFeeMethods(registry: MethodRegistry, backend: EthBackend): void {
  registry.registerAll({
    eth_gasPrice: (params) => {
      expectParams(params, 0)
      const baseFee = backend.pendingBaseFee()
      return toQuantity(baseFee + baseFee / 4n + SUGGESTED_TIP)
    },
    eth_maxPriorityFeePerGas: (params) => {
      expectParams(params, 0)
      return toQuantity(SUGGESTED_TIP)
    },
    eth_blobBaseFee: () => '0x1',
    eth_feeHistory: async (params) => {
      const [countParam, newestParam, percentilesParam] = expectParams(params, 2, 3)
      // Clients send the count as a hex quantity or a plain number; geth takes both, and decimal strings.
      const requested = parseHexOrDecimal64(countParam, 0)
      const percentiles = parsePercentiles(percentilesParam)
      const head = backend.chain.head.header.number
      const selector = parseBlockTag(newestParam, 1)
      const newestRequested = blockNumberOf(backend.chain, selector, 1)
      const newest = newestRequested > head ? head : newestRequested
      let count = requested > MAX_FEE_HISTORY ? MAX_FEE_HISTORY : requested
      if (count > newest + 1n) count = newest + 1n
      const oldest = newest - count + 1n
      const baseFees: string[] = []
      const ratios: number[] = []
      const rewards: string[][] = []
      for (let n = oldest; n <= newest && count > 0n; n++) {
        const block = await backend.chain.blockByNumber(n)
        if (block === undefined) break
        baseFees.push(toQuantity(block.header.baseFeePerGas ?? 0n))
        ratios.push(Number(block.header.gasUsed) / Number(block.header.gasLimit))
        if (percentiles !== undefined) rewards.push(rewardPercentiles(block, percentiles))
      }
      // The base fee of the block after `newest` (Hardhat reads baseFeePerGas[1] of a 1-block history).
      baseFees.push(
        toQuantity(
          newest === head
            ? backend.pendingBaseFee()
            : ((await backend.chain.blockByNumber(newest + 1n))?.header.baseFeePerGas ?? 0n),
        ),
      )
      return {
        oldestBlock: toQuantity(count === 0n ? newest + 1n : oldest),
        baseFeePerGas: count === 0n ? [] : baseFees,
        gasUsedRatio: ratios,
        baseFeePerBlobGas: count === 0n ? [] : baseFees.map(() => '0x0'),
        blobGasUsedRatio: ratios.map(() => 0),
        ...(percentiles === undefined ? {} : { reward: rewards }),
      }
    },
  })
}

/** Most reward percentiles one eth_feeHistory call takes (geth's maxQueryLimit). */
const MAX_PERCENTILES = 100

/**
 * geth's rules and messages: at most 100 percentiles, each in [0, 100], strictly ascending. Without
 * the cap, 50,000 percentiles × 1,024 blocks made a 139 MB answer.
 */
function parsePercentiles(value: unknown): number[] | undefined {
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) throw invalidArgument(2, 'reward percentiles must be an array')
  if (value.length > MAX_PERCENTILES) throw invalidParams(`invalid reward percentile: over the query limit ${MAX_PERCENTILES}`)
  if (!value.every((p): p is number => typeof p === 'number')) throw invalidArgument(2, 'reward percentiles must be numbers')
  value.forEach((p, i) => {
    if (p < 0 || p > 100) throw invalidParams(`invalid reward percentile: ${goFloat(p)}`)
    const previous = value[i - 1] as number | undefined
    if (previous !== undefined && p <= previous)
      throw invalidParams(`invalid reward percentile: #${i - 1}:${goFloat(previous)} >= #${i}:${goFloat(p)}`)
  })
  return value
}

/** Go's `%f`: six decimals. */
function goFloat(value: number): string {
  return value.toFixed(6)
}

/** Effective tips at the given gas-weighted percentiles, as geth computes them. */
export function rewardPercentiles(block: SealedBlock, percentiles: number[]): string[] {
  const baseFee = block.header.baseFeePerGas ?? 0n
  if (block.receipts.length === 0) return percentiles.map(() => '0x0')
  const txs = block.receipts
    // A deposit pays no fee (its effectiveGasPrice is 0): op-geth counts its tip as 0, not −baseFee.
    .map((r) => ({ tip: r.type === DEPOSIT_TX_TYPE ? 0n : r.effectiveGasPrice - baseFee, gas: r.gasUsed }))
    .sort((a, b) => (a.tip < b.tip ? -1 : a.tip > b.tip ? 1 : 0))
  const totalGas = Number(block.header.gasUsed)
  let index = 0
  let sum = Number(txs[0]!.gas)
  return percentiles.map((p) => {
    const threshold = (totalGas * p) / 100
    while (sum < threshold && index < txs.length - 1) {
      index++
      sum += Number(txs[index]!.gas)
    }
    return toQuantity(txs[index]!.tip)
  })
}
