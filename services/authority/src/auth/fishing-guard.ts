import type { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible'

/**
 * Throttles introspection callers that keep asking about tokens that do not exist (forged or
 * guessed values: reason `unknown`). Expired and revoked answers are normal traffic and do not
 * count. Per calling credential, shared by replicas through Redis when there is one.
 */
export class FishingGuard {
  readonly #limiter: RateLimiterAbstract
  /** callers over budget, until when (ms): checked with no I/O on every introspection */
  readonly #blockedUntil = new Map<string, number>()

  constructor(o: { unknownPerMinute: number; redis?: Redis | undefined; keyPrefix: string }) {
    const memory = new RateLimiterMemory({ keyPrefix: 'fishing', points: o.unknownPerMinute, duration: 60 })
    this.#limiter =
      o.redis === undefined
        ? memory
        : new RateLimiterRedis({
            storeClient: o.redis,
            keyPrefix: `${o.keyPrefix}fishing`,
            points: o.unknownPerMinute,
            duration: 60,
            rejectIfRedisNotReady: true,
            insuranceLimiter: memory
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
   * Counts an unknown-token answer (shared across replicas through Redis); returns the seconds to
   * wait when this one went over the budget, else null.
   */
  async recordUnknown(callerTokenId: string, now = Date.now()): Promise<number | null> {
    try {
      await this.#limiter.consume(callerTokenId)
      return null
    } catch (res) {
      if (res instanceof Error) throw res
      const ms = (res as { msBeforeNext: number }).msBeforeNext
      this.#blockedUntil.set(callerTokenId, now + ms)
      return Math.max(1, Math.ceil(ms / 1000))
    }
  }
}
