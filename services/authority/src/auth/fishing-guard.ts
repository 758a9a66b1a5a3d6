import { RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { RedisClient } from '../cache/redis-client.js'

/** how often the unknown-token counts of this process are added to the replicas' shared budget */
export const FISHING_FLUSH_MS = 250

/**
 * Throttles introspection callers that keep asking about tokens that do not exist (forged or
 * guessed values: reason `unknown`). Expired and revoked answers are normal traffic and do not
 * count. Per calling credential.
 *
 * Counting costs no I/O on the request: each process counts in memory (and alone answers 429 once
 * a caller is over budget here), and adds its counts to a budget shared through Redis every
 * FISHING_FLUSH_MS; a caller over the shared budget is then blocked on every replica. So a caller
 * spread over N replicas gets at most the budget plus what it sends in one flush interval.
 */
/** the local budget's window, ms (the shared one counts over the same minute) */
const WINDOW_MS = 60_000

export class FishingGuard {
  /**
   * this process's own count per caller: a fixed window from the caller's first unknown token
   * (what rate-limiter-flexible's memory limiter did), kept synchronous: the forged path is hot
   */
  readonly #local = new Map<string, { start: number; count: number }>()
  readonly #shared: RateLimiterAbstract | undefined
  readonly #points: number
  /** callers over budget, until when (ms): checked with no I/O on every introspection */
  readonly #blockedUntil = new Map<string, number>()
  /** unknown answers counted here and not yet added to the shared budget */
  readonly #unflushed = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> | undefined
  /** closed with the app: counts after that are not flushed */
  #closed = false
  /** counts each round trip made to the shared store (a metric: tests and the bench read it) */
  readonly #sharedCalls: { inc(): void }

  constructor(o: {
    unknownPerMinute: number
    redis?: RedisClient | undefined
    keyPrefix: string
    sharedCalls?: { inc(): void }
  }) {
    this.#points = o.unknownPerMinute
    this.#sharedCalls = o.sharedCalls ?? { inc() {} }
    this.#shared =
      o.redis === undefined
        ? undefined
        : new RateLimiterRedis({
            storeClient: o.redis,
            keyPrefix: `${o.keyPrefix}fishing`,
            points: o.unknownPerMinute,
            duration: 60,
            rejectIfRedisNotReady: true
          })
  }

  /** Seconds to wait when this caller is over its budget, else null. No I/O: the hot path. */
  blockedFor(callerTokenId: string, now = Date.now()): number | null {
    const until = this.#blockedUntil.get(callerTokenId)
    if (until === undefined) return null
    if (until <= now) {
      this.#blockedUntil.delete(callerTokenId)
      return null
    }
    return Math.max(1, Math.ceil((until - now) / 1000))
  }

  /**
   * Counts an unknown-token answer; returns the seconds to wait when it went over the budget, else
   * null. Synchronous, no I/O (the shared count is flushed on a timer).
   */
  recordUnknown(callerTokenId: string, now = Date.now()): number | null {
    if (this.#shared !== undefined && !this.#closed) {
      this.#unflushed.set(callerTokenId, (this.#unflushed.get(callerTokenId) ?? 0) + 1)
      this.#timer ??= setTimeout(() => void this.flush(), FISHING_FLUSH_MS).unref()
    }
    let w = this.#local.get(callerTokenId)
    if (w === undefined || now - w.start >= WINDOW_MS) {
      // callers are service credentials (few); still, never let the map grow without bound
      if (w === undefined && this.#local.size >= 10_000) this.#pruneWindows(now)
      w = { start: now, count: 0 }
      this.#local.set(callerTokenId, w)
    }
    w.count++
    if (w.count <= this.#points) return null
    return this.#block(callerTokenId, w.start + WINDOW_MS - now, now)
  }

  #pruneWindows(now: number): void {
    for (const [caller, w] of this.#local) if (now - w.start >= WINDOW_MS) this.#local.delete(caller)
  }

  /** Adds this process's counts to the shared budget and blocks callers over it (also on a timer). */
  async flush(): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#flushing !== undefined) await this.#flushing
    if (this.#shared === undefined || this.#unflushed.size === 0) return
    const batch = [...this.#unflushed]
    this.#unflushed.clear()
    const shared = this.#shared
    const flushing = (async () => {
      await Promise.all(
        batch.map(async ([caller, count]) => {
          this.#sharedCalls.inc()
          try {
            const res = await shared.penalty(caller, count)
            if (res.consumedPoints > this.#points) this.#block(caller, res.msBeforeNext, Date.now())
          } catch {
            // Redis away: this process's own count (above) still throttles
          }
        })
      )
    })()
    this.#flushing = flushing
    try {
      await flushing
    } finally {
      if (this.#flushing === flushing) this.#flushing = undefined
    }
  }

  #block(caller: string, ms: number, now: number): number {
    this.#blockedUntil.set(caller, Math.max(this.#blockedUntil.get(caller) ?? 0, now + ms))
    return Math.max(1, Math.ceil(ms / 1000))
  }

  /** Stops the timer; what was not flushed yet is dropped (it only ever tightens the budget). */
  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
