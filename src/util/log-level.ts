/**
 * A run-time log level for a pino logger and all its children. pino copies the level into each child
 * when it is created, so setting the root's level later leaves every module's child logger (rpc, p2p,
 * producer, …) where it was; this tracks the children (weakly: per-connection children come and go)
 * through pino's `onChild` hook and sets them all.
 */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino'

const families = new WeakMap<Logger, Set<WeakRef<Logger>>>()
/** Past this many tracked children, dead references are swept on the next child. */
const SWEEP_AT = 1024

/** `pino(options, destination)` whose level `setLogLevel` can change for the whole family. */
export function createLevelledLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  const children = new Set<WeakRef<Logger>>()
  let sweepAt = SWEEP_AT
  const onChild = (child: Logger): void => {
    children.add(new WeakRef(child))
    if (children.size < sweepAt) return
    for (const ref of children) if (ref.deref() === undefined) children.delete(ref)
    sweepAt = Math.max(SWEEP_AT, children.size * 2)
  }
  const logger = destination === undefined ? pino({ ...options, onChild }) : pino({ ...options, onChild }, destination)
  families.set(logger, children)
  return logger
}

/** Sets the level of `logger` and of every child created from it (when made by `createLevelledLogger`). */
export function setLogLevel(logger: Logger, level: string): void {
  logger.level = level
  for (const ref of families.get(logger) ?? []) {
    const child = ref.deref()
    if (child !== undefined) child.level = level
  }
}
