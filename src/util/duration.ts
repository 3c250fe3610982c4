/**
 * Durations as geth (Go's `time.Duration`) spells them: `5s`, `500ms`, `1m30s`, `1.5s`. Flags that
 * mirror a geth flag take the same text, and errors that mirror a geth error print the same text.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }
const GO_DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/
const TERM = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g

/** Milliseconds from a Go duration (`5s`, `1m30s`) or a bare number of milliseconds; undefined if neither. */
export function parseDurationMs(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text)
  if (!GO_DURATION.test(text)) return undefined
  let ms = 0
  for (const [, amount, unit] of text.matchAll(TERM)) ms += Number(amount) * UNIT_MS[unit!]!
  return Math.round(ms)
}

/** Go's `Duration.String()` of a whole number of milliseconds: `0s`, `500ms`, `5s`, `1.5s`, `1m0s`, `1h2m3s`. */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s'
  if (ms < 1_000) return `${ms}ms`
  const hours = Math.floor(ms / 3_600_000)
  const minutes = Math.floor((ms % 3_600_000) / 60_000)
  const rest = ms % 60_000
  const seconds = `${Math.floor(rest / 1_000)}${
    rest % 1_000 === 0
      ? ''
      : `.${String(rest % 1_000)
          .padStart(3, '0')
          .replace(/0+$/, '')}`
  }s`
  if (hours > 0) return `${hours}h${minutes}m${seconds}`
  if (minutes > 0) return `${minutes}m${seconds}`
  return seconds
}
