/**
 * The deadline of one request/response exchange, on either side: it fires when the exchange makes no
 * progress for `idleMs` (no request frame arrived, no response frame taken by the requester or
 * received from the responder), or when it has lasted `maxMs` however steadily it progressed.
 *
 * Why not one deadline for the whole exchange: an answer's duration grows with its size and with the
 * machine's load, so a fixed whole-exchange deadline either cuts an honest requester reading a big
 * range on a busy node (seen under load: a `blocks` answer reset before its END) or lets one that
 * stopped reading hold the stream that long. No progress is what tells the two apart; the ceiling
 * bounds a requester that reads just fast enough never to look idle.
 */
export type DeadlineKind = 'idle' | 'total'

export interface DeadlineLimits {
  /** Longest stretch without progress. */
  idleMs: number
  /** Longest exchange, progress or not. */
  maxMs: number
}

export class ProgressDeadline {
  private idleTimer: NodeJS.Timeout | undefined
  private readonly totalTimer: NodeJS.Timeout
  private expiredAs: DeadlineKind | undefined

  /** Starts both clocks now; `onExpire` runs once, at whichever deadline passes first. */
  constructor(
    private readonly limits: DeadlineLimits,
    private readonly onExpire: (kind: DeadlineKind) => void,
  ) {
    this.totalTimer = setTimeout(() => this.expire('total'), limits.maxMs)
    this.progress()
  }

  /** Which deadline passed, if one did. */
  get expired(): DeadlineKind | undefined {
    return this.expiredAs
  }

  /** The exchange moved: the idle clock starts over. */
  progress(): void {
    if (this.expiredAs !== undefined) return
    clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => this.expire('idle'), this.limits.idleMs)
  }

  /** The exchange is over (either way): stops both clocks. */
  clear(): void {
    clearTimeout(this.idleTimer)
    clearTimeout(this.totalTimer)
  }

  private expire(kind: DeadlineKind): void {
    if (this.expiredAs !== undefined) return
    this.expiredAs = kind
    this.clear()
    this.onExpire(kind)
  }
}
