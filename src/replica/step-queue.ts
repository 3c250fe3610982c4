/**
 * Runs asynchronous steps one at a time, in submission order: a replica's state changes (applying a
 * mini-block, importing a block, catching up) must never interleave. Once closed, queued and new
 * steps are skipped.
 */
export class StepQueue {
  private tail: Promise<void> = Promise.resolve()
  private closed = false

  constructor(private readonly onError: (error: unknown) => void) {}

  push(step: () => Promise<void>): void {
    this.tail = this.tail.then(async () => {
      if (this.closed) return
      try {
        await step()
      } catch (error) {
        this.onError(error)
      }
    })
  }

  /** Skips every step not started yet; resolves when the running one ends. */
  close(): Promise<void> {
    this.closed = true
    return this.tail
  }
}
