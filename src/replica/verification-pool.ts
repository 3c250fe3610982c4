import { Piscina } from 'piscina'
import type { ChainConfig } from '../chain/config.ts'
import type { VerifyOutcome, VerifyTask } from './verify-worker.ts'

/**
 * Stateless verification in worker threads: each block is independent given its witness, so
 * several verify at once; the caller applies the outcomes in block order.
 */
export class VerificationPool {
  private constructor(
    private readonly piscina: Piscina,
    private readonly config: ChainConfig,
  ) {}

  static start(config: ChainConfig, workers: number): VerificationPool {
    const piscina = new Piscina({
      filename: new URL('./verify-worker-entry.mjs', import.meta.url).href,
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: Number.POSITIVE_INFINITY,
    })
    return new VerificationPool(piscina, config)
  }

  get size(): number {
    return this.piscina.threads.length
  }

  verify(header: Uint8Array, transactions: Uint8Array[], witness: Uint8Array): Promise<VerifyOutcome> {
    return this.piscina.run({ config: this.config, header, transactions, witness } satisfies VerifyTask) as Promise<VerifyOutcome>
  }

  async stop(): Promise<void> {
    await this.piscina.destroy()
  }
}
