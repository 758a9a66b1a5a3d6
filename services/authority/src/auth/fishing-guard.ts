import type { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible'

/**
 * Throttles introspection callers that keep asking about tokens that do not exist (forged or
 * guessed values: reason `unknown`). Expired and revoked answers are normal traffic and do not
 * count. Per calling credential, shared by replicas through Redis when there is one.
 */
export class FishingGuard {
  readonly #limiter: RateLimiterAbstract

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

  /** Seconds to wait when this caller is over its budget, else null. */
  async blockedFor(callerTokenId: string): Promise<number | null> {
    const res = await this.#limiter.get(callerTokenId)
    if (res === null || res.consumedPoints < this.#limiter.points) return null
    return Math.max(1, Math.ceil(res.msBeforeNext / 1000))
  }

  async recordUnknown(callerTokenId: string): Promise<void> {
    await this.#limiter.consume(callerTokenId).catch((res: unknown) => {
      if (res instanceof Error) throw res
    })
  }
}
