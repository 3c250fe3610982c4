/** A steady open-loop background load (default ~500 tx/s) from its own funded senders. */
import { CHAIN_ID, FEES, type Server } from '../lib/servers.ts'
import { fundAccounts } from '../load/fund.ts'
import { GeneratorPool, type CombinedReport } from '../load/pool.ts'

export interface Background {
  pool: GeneratorPool
  /** Stops submitting; resolves with what was sent. */
  stop(): Promise<CombinedReport>
}

/**
 * Funds `senders` accounts of `set` and pre-signs enough txs for `seconds` at `rate`. Batches of 2
 * every 4 ms (at 500 tx/s) so every 10 ms mini-block tick sees new txs, as with real users.
 */
export async function prepareBackground(
  server: Server,
  set: string,
  rate: number,
  seconds: number,
  senders = 500,
): Promise<GeneratorPool> {
  const rounds = Math.ceil((rate * seconds) / senders)
  await fundAccounts(server, set, senders, 10n ** 18n)
  return GeneratorPool.prepare(
    {
      url: server.rpcUrl,
      chainId: CHAIN_ID[server.kind].toString(),
      maxFeePerGas: FEES[server.kind].maxFeePerGas.toString(),
      maxPriorityFeePerGas: FEES[server.kind].maxPriorityFeePerGas.toString(),
      gasLimit: 21_000,
      kind: 'transfer',
      senders: { set, from: 0, count: senders },
      recipients: { set, from: 0, count: senders },
      rounds,
      startNonce: 0,
      batchSize: 2,
      mode: 'rate',
      rate,
      concurrency: 1,
      retryDeadlineMs: 0,
    },
    1,
  )
}

export function startBackground(pool: GeneratorPool): Background {
  pool.go()
  return {
    pool,
    async stop() {
      pool.stop()
      const rep = await pool.finished()
      await pool.close()
      return rep
    },
  }
}
