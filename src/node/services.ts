/** A part of a running node with a lifecycle (Lodestar's shape): started once, stopped once. */
export interface Service {
  start(): Promise<void> | void
  stop(): Promise<void> | void
}

/**
 * A role's services in the order they were started; `stop()` stops them the other way round. A role
 * starts what it depends on first (the datadir, the p2p host, …, RPC last), so stopping in reverse
 * closes intake first and the database last. A role whose start fails part-way stops what it started.
 */
export class Services {
  private readonly started: Array<{ name: string; stop: () => Promise<void> | void }> = []
  private stopping: Promise<void> | undefined

  /** Starts `service` and puts it on the list. */
  async start<S extends Service>(name: string, service: S): Promise<S> {
    await service.start()
    this.started.push({ name, stop: () => service.stop() })
    return service
  }

  /** For a part whose factory starts it (a database, a libp2p host, a listening server): opens it and puts its `close` on the list. */
  async open<T>(name: string, open: () => Promise<T>, close: (opened: T) => Promise<void> | void): Promise<T> {
    const opened = await open()
    this.started.push({ name, stop: () => close(opened) })
    return opened
  }

  /** The started services' names, in the order `stop()` stops them. */
  stopOrder(): string[] {
    return this.started.map((s) => s.name).reverse()
  }

  /** Stops every started service, the last started first. Each is stopped even if one before it fails; the first failure is rethrown. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      let failure: { error: unknown } | undefined
      while (this.started.length > 0) {
        const service = this.started.pop()!
        try {
          await service.stop()
        } catch (error) {
          failure ??= { error }
        }
      }
      if (failure !== undefined) throw failure.error
    })()
    return this.stopping
  }
}
