import type { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible'

export interface LoginThrottleOptions {
  accountFailuresPerHour: number
  ipFailures: number
  ipWindowSeconds: number
  redis?: Redis | undefined
  keyPrefix: string
}

export type AllowedAttempt = { allowed: true; known: boolean }
export type ThrottleAttempt = AllowedAttempt | { allowed: false; retryAfterSeconds: number }

// under 24.8 days: the in-process limiter expires keys with setTimeout (a 32-bit delay)
const KNOWN_CLIENT_DAYS = 14
const KNOWN_CLIENT_FAILURES = 10
const KNOWN_CLIENT_WINDOW = 900

/**
 * Failed-login throttling without a hard lockout (DESIGN.md §5):
 * - per account: at most N attempts an hour are even checked (bcrypt) from unknown addresses;
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

  async #isKnown(username: string, ip: string): Promise<boolean> {
    const res = await this.#known.get(`${username}|${ip}`)
    return (res?.consumedPoints ?? 0) > 0
  }

  /**
   * Counts a password attempt BEFORE it is checked (atomic in Redis): concurrent guesses cannot
   * all pass a read-only check. A success gives its points back (`succeeded`).
   */
  async attempt(username: string, ip: string): Promise<ThrottleAttempt> {
    const ipTry = await tryConsume(this.#ip, ip)
    if (!ipTry.ok) return deny(ipTry.msBeforeNext)
    const known = await this.#isKnown(username, ip)
    const [limiter, key] = known ? [this.#knownFailures, `${username}|${ip}`] : [this.#account, username]
    const acctTry = await tryConsume(limiter, key)
    if (!acctTry.ok) return deny(acctTry.msBeforeNext)
    return { allowed: true, known }
  }

  async succeeded(username: string, ip: string, attempt: AllowedAttempt): Promise<void> {
    await this.#ip.reward(ip, 1)
    if (attempt.known) await this.#knownFailures.delete(`${username}|${ip}`)
    else await this.#account.reward(username, 1)
    await this.#known.set(`${username}|${ip}`, 1, KNOWN_CLIENT_DAYS * 86400)
  }
}

function deny(ms: number): ThrottleAttempt {
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) }
}

async function tryConsume(limiter: RateLimiterAbstract, key: string): Promise<{ ok: boolean; msBeforeNext: number }> {
  try {
    await limiter.consume(key)
    return { ok: true, msBeforeNext: 0 }
  } catch (res) {
    if (res instanceof Error) throw res
    return { ok: false, msBeforeNext: (res as { msBeforeNext: number }).msBeforeNext }
  }
}
