/**
 * A node's V8 heap seen through its inspector (the node runs unchanged, started with
 * `NODE_OPTIONS=--inspect=127.0.0.1:0`, see `INSPECT_ENV`): force a full GC and read the heap used
 * after it, or write a heap snapshot. RSS alone cannot tell memory a structure still holds from
 * pages V8 or the allocator freed but kept; heap used right after a full GC can.
 */
import { createWriteStream } from 'node:fs'
import { WebSocketClient } from './node-process.ts'
import type { NodeHandle } from './node-process.ts'

/** The environment that opens a node's inspector on a free loopback port (announced on stderr). */
export const INSPECT_ENV: Readonly<Record<string, string>> = Object.freeze({ NODE_OPTIONS: '--inspect=127.0.0.1:0' })

interface InspectorMessage {
  id?: number
  method?: string
  params?: Record<string, unknown>
  result?: Record<string, unknown>
  error?: { message: string }
}

export interface HeapUsage {
  /** V8 heap in use (MiB). */
  usedMb: number
  /** V8 heap reserved (MiB). */
  totalMb: number
}

export class NodeInspector {
  private id = 0
  private readonly pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>()
  private onEvent: ((message: InspectorMessage) => void) | undefined

  private constructor(private readonly socket: InstanceType<typeof WebSocketClient>) {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as InspectorMessage
      if (message.id === undefined) {
        this.onEvent?.(message)
        return
      }
      const waiter = this.pending.get(message.id)
      this.pending.delete(message.id)
      if (message.error !== undefined) waiter?.reject(new Error(`inspector: ${message.error.message}`))
      else waiter?.resolve(message.result ?? {})
    })
    socket.on('close', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error('inspector connection closed'))
      this.pending.clear()
    })
  }

  /** Attaches to a node started with `INSPECT_ENV`: the inspector's address is on its stderr. */
  static attach(node: NodeHandle): Promise<NodeInspector> {
    return NodeInspector.attachToLog(node.logs().stderr)
  }

  /** Attaches to the inspector whose "Debugger listening on ws://…" line is in `stderr` (a process's captured output). */
  static async attachToLog(stderr: string): Promise<NodeInspector> {
    const match = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(stderr)
    if (match === null) throw new Error('the node has no inspector: start it with env INSPECT_ENV')
    const socket = new WebSocketClient(match[1]!, { maxPayload: 512 * 1024 * 1024 })
    await new Promise<void>((resolve, reject) => {
      socket.on('open', () => resolve())
      socket.on('error', reject)
    })
    return new NodeInspector(socket)
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = ++this.id
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.socket.send(JSON.stringify({ id, method, params }))
    })
  }

  /** Heap used after full collections (twice: the first may only finalize what the second frees). */
  async heapAfterGc(): Promise<HeapUsage> {
    await this.send('HeapProfiler.collectGarbage')
    await this.send('HeapProfiler.collectGarbage')
    const usage = await this.send('Runtime.getHeapUsage')
    return { usedMb: Number(usage['usedSize']) / 2 ** 20, totalMb: Number(usage['totalSize']) / 2 ** 20 }
  }

  /** The main thread's `process.memoryUsage()` (MiB): heap, and `external`/`arrayBuffers` (Buffers live in malloc, not the V8 heap). */
  async memoryUsage(): Promise<Record<string, number>> {
    const reply = await this.send('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    })
    const usage = JSON.parse(String((reply['result'] as { value?: unknown }).value)) as Record<string, number>
    return Object.fromEntries(Object.entries(usage).map(([k, v]) => [k, Math.round((v / 2 ** 20) * 10) / 10]))
  }

  /** Writes a `.heapsnapshot` (Chrome DevTools' format) of the node's heap to `path`. */
  async writeHeapSnapshot(path: string): Promise<void> {
    const out = createWriteStream(path)
    this.onEvent = (message) => {
      if (message.method === 'HeapProfiler.addHeapSnapshotChunk') out.write(String(message.params?.['chunk']))
    }
    try {
      await this.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false })
    } finally {
      this.onEvent = undefined
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
    }
  }

  close(): void {
    this.socket.close()
  }
}
