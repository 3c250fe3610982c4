/**
 * A dishonest player for prover tests: it counters every claim it did not make, as deep as the game allows, with
 * arbitrary claims (random bytes; an execution-trace root carries the INVALID status byte the game requires of an
 * attack). It always attacks (the root cannot be defended, and an attack is legal at every depth). It never steps.
 */
import { type Address, encodeAbiParameters, type Hex, keccak256, type PublicClient, type WalletClient } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import { faultDisputeGameAbi } from '../../src/bridge/generated/FaultDisputeGame.ts'

function depthOf(position: bigint): number {
  return position.toString(2).length - 1
}

export interface Adversary {
  /** Claims it made (index → bond). */
  readonly bonds: Map<bigint, bigint>
  stop(): Promise<void>
}

/** Starts countering every foreign claim of `game`; `seed` makes its garbage reproducible. */
export function startAdversary(params: {
  client: PublicClient
  wallet: WalletClient
  account: PrivateKeyAccount
  game: Address
  seed: number
  pollMs?: number
}): Adversary {
  const { client, wallet, account, game } = params
  const bonds = new Map<bigint, bigint>()
  const countered = new Set<bigint>()
  let counter = 0
  let stopped = false
  const garbage = (nextDepth: number, split: number): Hex => {
    const h = keccak256(encodeAbiParameters([{ type: 'uint256' }, { type: 'uint256' }], [BigInt(params.seed), BigInt(counter++)]))
    return nextDepth === split + 1 ? (`0x01${h.slice(4)}` as Hex) : h
  }
  const round = async (): Promise<void> => {
    const read = <T>(functionName: string, args: readonly unknown[] = []): Promise<T> =>
      client.readContract({ address: game, abi: faultDisputeGameAbi, functionName, args } as never) as Promise<T>
    const [count, maxDepth, split, status] = await Promise.all([
      read<bigint>('claimDataLen'),
      read<bigint>('maxGameDepth'),
      read<bigint>('splitDepth'),
      read<number>('status'),
    ])
    if (status !== 0) return
    for (let i = 0n; i < count; i++) {
      if (stopped || countered.has(i)) continue
      const [, , claimant, , value, position] = await read<readonly [number, Address, Address, bigint, Hex, bigint, bigint]>(
        'claimData',
        [i],
      )
      if (claimant.toLowerCase() === account.address.toLowerCase() || depthOf(position) >= Number(maxDepth)) continue
      const next = position << 1n
      const bond = await read<bigint>('getRequiredBond', [next])
      const claim = garbage(depthOf(next), Number(split))
      try {
        const hash = await wallet.writeContract({
          account,
          chain: null,
          address: game,
          abi: faultDisputeGameAbi,
          functionName: 'move',
          args: [value, i, claim, true],
          value: bond,
        })
        const receipt = await client.waitForTransactionReceipt({ hash })
        if (receipt.status === 'success') bonds.set((await read<bigint>('claimDataLen')) - 1n, bond)
      } catch {
        // A clock that ran out: nothing left to counter there.
      }
      countered.add(i)
    }
  }
  const loop = (async () => {
    while (!stopped) {
      await round().catch(() => undefined)
      await new Promise((resolve) => setTimeout(resolve, params.pollMs ?? 300))
    }
  })()
  return {
    bonds,
    async stop() {
      stopped = true
      await loop
    },
  }
}
