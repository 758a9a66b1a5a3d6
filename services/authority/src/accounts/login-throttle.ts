import type { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible'

export interface LoginThrottleOptions {
  accountFailuresPerHour: number
  ipFailures: number
  ipWindowSeconds: number
  redis?: Redis | undefined
  keyPrefix: string
}

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number }

// under 24.8 days: the in-process limiter expires keys with setTimeout (a 32-bit delay)
const KNOWN_CLIENT_DAYS = 14
const KNOWN_CLIENT_FAILURES = 10
const KNOWN_CLIENT_WINDOW = 900

/**
 * Failed-login throttling without a hard lockout (DESIGN.md §5):
 * - per account: at most N failed attempts an hour are even checked (bcrypt) from unknown addresses;
 * - per client address: a budget of failures per window, whatever the username;
 * - an address the account has logged in from before keeps its own small budget, so an attacker
 *   who exhausts the account's hourly budget from elsewhere does not lock its owner out.
 * Counters live in Redis when there is one (shared by replicas) with an in-process fallback that
 * keeps limiting while Redis is away: the throttle never fails open.
 */
export class LoginThrottle {
  readonly #account: RateLimiterAbstract
  readonly #ip: RateLimiterAbstract
  readonly #known: RateLimiterAbstract
  readonly #knownFailures: RateLimiterAbstract

  constructor(o: LoginThrottleOptions) {
    const make = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ keyPrefix, points, duration })
      if (o.redis === undefined) return memory
      return new RateLimiterRedis({
        storeClient: o.redis,
        keyPrefix: `${o.keyPrefix}${keyPrefix}`,
        points,
        duration,
        rejectIfRedisNotReady: true,
        insuranceLimiter: memory
      })
    }
    this.#account = make('login-acct', o.accountFailuresPerHour, 3600)
    this.#ip = make('login-ip', o.ipFailures, o.ipWindowSeconds)
    this.#known = make('login-known', 1, KNOWN_CLIENT_DAYS * 86400)
    this.#knownFailures = make('login-known-fail', KNOWN_CLIENT_FAILURES, KNOWN_CLIENT_WINDOW)
  }

  async #consumed(limiter: RateLimiterAbstract, key: string): Promise<{ points: number; msBeforeNext: number }> {
    const res = await limiter.get(key)
    return { points: res?.consumedPoints ?? 0, msBeforeNext: res?.msBeforeNext ?? 0 }
  }

  async #isKnown(username: string, ip: string): Promise<boolean> {
    return (await this.#consumed(this.#known, `${username}|${ip}`)).points > 0
  }

  /** Before any password check. */
  async check(username: string, ip: string): Promise<ThrottleDecision> {
    const ipState = await this.#consumed(this.#ip, ip)
    if (ipState.points >= this.#ip.points) return deny(ipState.msBeforeNext)
    if (await this.#isKnown(username, ip)) {
      const known = await this.#consumed(this.#knownFailures, `${username}|${ip}`)
      return known.points >= this.#knownFailures.points ? deny(known.msBeforeNext) : { allowed: true }
    }
    const acct = await this.#consumed(this.#account, username)
    return acct.points >= this.#account.points ? deny(acct.msBeforeNext) : { allowed: true }
  }

  async recordFailure(username: string, ip: string): Promise<void> {
    await consume(this.#ip, ip)
    if (await this.#isKnown(username, ip)) await consume(this.#knownFailures, `${username}|${ip}`)
    else await consume(this.#account, username)
  }

  async recordSuccess(username: string, ip: string): Promise<void> {
    await this.#known.set(`${username}|${ip}`, 1, KNOWN_CLIENT_DAYS * 86400)
    await this.#knownFailures.delete(`${username}|${ip}`)
  }
}

function deny(ms: number): ThrottleDecision {
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) }
}

async function consume(limiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await limiter.consume(key)
  } catch (res) {
    if (res instanceof Error) throw res
    // already over the limit: nothing more to count
  }
}
