import type { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible'

export interface LoginThrottleOptions {
  accountFailuresPerHour: number
  ipFailures: number
  ipWindowSeconds: number
  redis?: Redis | undefined
  keyPrefix: string
  /**
   * a Redis counter call this slow (ms) fell back to the in-process counters (the command timeout):
   * the next ones stay in process a while
   */
  slowMs?: number
}

/** `local`: counted in process (Redis was in trouble), so given back there too */
export type AllowedAttempt = { allowed: true; known: boolean; local: boolean }
export type ThrottleAttempt = AllowedAttempt | { allowed: false; retryAfterSeconds: number }

// under 24.8 days: the in-process limiter expires keys with setTimeout (a 32-bit delay)
const KNOWN_CLIENT_DAYS = 14
const KNOWN_CLIENT_FAILURES = 10
const KNOWN_CLIENT_WINDOW = 900
const REDIS_TROUBLE_MS = 5000

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
  readonly #account: Limiter
  readonly #ip: Limiter
  readonly #known: Limiter
  readonly #knownFailures: Limiter
  /**
   * Until when (ms) Redis is skipped: after a call that failed or took most of a command timeout,
   * the in-process counters answer for a few seconds, so one login or confirmation against a slow
   * Redis waits out one timeout, not one per counter.
   */
  #redisTroubleUntil = 0

  constructor(o: LoginThrottleOptions) {
    const make = (keyPrefix: string, points: number, duration: number): Limiter => {
      const memory = new RateLimiterMemory({ keyPrefix, points, duration })
      if (o.redis === undefined) return { memory }
      const redis = new RateLimiterRedis({
        storeClient: o.redis,
        keyPrefix: `${o.keyPrefix}${keyPrefix}`,
        points,
        duration,
        rejectIfRedisNotReady: true,
        insuranceLimiter: memory
      })
      return { memory, redis }
    }
    this.#account = make('login-acct', o.accountFailuresPerHour, 3600)
    this.#ip = make('login-ip', o.ipFailures, o.ipWindowSeconds)
    this.#known = make('login-known', 1, KNOWN_CLIENT_DAYS * 86400)
    this.#knownFailures = make('login-known-fail', KNOWN_CLIENT_FAILURES, KNOWN_CLIENT_WINDOW)
    this.#slowMs = o.slowMs ?? 200
  }

  readonly #slowMs: number

  /** Runs one counter call on Redis (or, while Redis is in trouble, in process) and watches its time. */
  #local(): boolean {
    return Date.now() < this.#redisTroubleUntil
  }

  async #run<T>(limiter: Limiter, call: (l: RateLimiterAbstract) => Promise<T>, local = this.#local()): Promise<T> {
    if (limiter.redis === undefined || local) return call(limiter.memory)
    const started = Date.now()
    try {
      return await call(limiter.redis)
    } catch (err) {
      if (err instanceof Error) this.#redisTroubleUntil = Date.now() + REDIS_TROUBLE_MS
      throw err
    } finally {
      // the Redis limiter falls back to its in-process twin by itself; a slow answer means it did
      if (Date.now() - started >= this.#slowMs) this.#redisTroubleUntil = Date.now() + REDIS_TROUBLE_MS
    }
  }

  async #isKnown(username: string, ip: string): Promise<boolean> {
    const res = await this.#run(this.#known, (l) => l.get(`${username}|${ip}`))
    return (res?.consumedPoints ?? 0) > 0
  }

  /**
   * Counts a password attempt BEFORE it is checked (atomic in Redis): concurrent guesses cannot
   * all pass a read-only check. A success gives its points back (`succeeded`).
   */
  async attempt(username: string, ip: string): Promise<ThrottleAttempt> {
    const ipTry = await this.#run(this.#ip, (l) => tryConsume(l, ip))
    if (!ipTry.ok) return deny(ipTry.msBeforeNext)
    const known = await this.#isKnown(username, ip)
    const [limiter, key] = known ? [this.#knownFailures, `${username}|${ip}`] : [this.#account, username]
    const local = this.#local()
    const acctTry = await this.#run(limiter, (l) => tryConsume(l, key), local)
    if (!acctTry.ok) return deny(acctTry.msBeforeNext)
    return { allowed: true, known, local }
  }

  async succeeded(username: string, ip: string, attempt: AllowedAttempt): Promise<void> {
    await this.#run(this.#ip, (l) => l.reward(ip, 1), attempt.local)
    if (attempt.known) await this.#run(this.#knownFailures, (l) => l.delete(`${username}|${ip}`), attempt.local)
    else await this.#run(this.#account, (l) => l.reward(username, 1), attempt.local)
    // the in-process twin learns known addresses too, so the owner keeps its own budget while
    // Redis is skipped
    await this.#known.memory.set(`${username}|${ip}`, 1, KNOWN_CLIENT_DAYS * 86400)
    if (this.#known.redis !== undefined) await this.#run(this.#known, (l) => l.set(`${username}|${ip}`, 1, KNOWN_CLIENT_DAYS * 86400))
  }
}

interface Limiter {
  memory: RateLimiterMemory
  redis?: RateLimiterRedis
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
