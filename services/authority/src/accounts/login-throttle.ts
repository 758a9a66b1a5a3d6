import { createHmac } from 'node:crypto'
import type { RedisClient } from '../cache/redis-client.js'
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'

export interface LoginThrottleOptions {
  accountFailuresPerHour: number
  ipFailures: number
  ipWindowSeconds: number
  redis?: RedisClient | undefined
  keyPrefix: string
  /**
   * keys usernames in counter names (HMAC): what someone typed as a username — now and then their
   * password — never sits in Redis or in memory as typed. Shared by replicas (the token pepper).
   */
  secret: Buffer
}

export type AllowedAttempt = { allowed: true; known: boolean }
export type ThrottleAttempt = AllowedAttempt | { allowed: false; retryAfterSeconds: number }

// under 24.8 days: the in-process limiter expires keys with setTimeout (a 32-bit delay)
const KNOWN_CLIENT_DAYS = 14
const KNOWN_CLIENT_FAILURES = 10
const KNOWN_CLIENT_WINDOW = 900

/**
 * Failed-login throttling without a hard lockout (docs/design.md, "Accounts, permissions, scopes"):
 * - per account: at most N attempts an hour are even checked (bcrypt) from unknown addresses;
 * - per client address: a budget of failures per window, whatever the username;
 * - an address the account has logged in from before keeps its own small budget, so an attacker
 *   who exhausts the account's hourly budget from elsewhere does not lock its owner out.
 * Counters live in Redis when there is one (shared by replicas). Every count is mirrored in
 * process, and when Redis does not answer (down, or a command timed out under load) the mirror
 * decides: it holds all of this process's attempts, so a fallback never starts from zero and the
 * throttle never fails open — at most the budget per replica while Redis is away.
 */
export class LoginThrottle {
  readonly #account: Counter
  readonly #ip: Counter
  readonly #known: Counter
  readonly #knownFailures: Counter
  readonly #secret: Buffer

  constructor(o: LoginThrottleOptions) {
    this.#secret = o.secret
    const make = (keyPrefix: string, points: number, duration: number) => new Counter(o, keyPrefix, points, duration)
    this.#account = make('login-acct', o.accountFailuresPerHour, 3600)
    this.#ip = make('login-ip', o.ipFailures, o.ipWindowSeconds)
    this.#known = make('login-known', 1, KNOWN_CLIENT_DAYS * 86400)
    this.#knownFailures = make('login-known-fail', KNOWN_CLIENT_FAILURES, KNOWN_CLIENT_WINDOW)
  }

  #who(username: string): string {
    return createHmac('sha256', this.#secret).update(`login-throttle|${username}`).digest('base64url').slice(0, 22)
  }

  /**
   * Counts a password attempt BEFORE it is checked (atomic in Redis): concurrent guesses cannot
   * all pass a read-only check. A success gives its points back (`succeeded`). Two rounds of
   * counter calls (the address and whether it is known at once, then the account), so a slow
   * Redis costs at most two command timeouts; a third only when the account refuses.
   *
   * `name` is the account's throttle name (accounts/username.ts `throttleName`): every spelling
   * of a username is counted as one.
   *
   * An attempt refused by one budget spends no other: refused by the address, the account's
   * budgets are not touched; refused by the account (or the known address's own budget), the
   * address gets its point back. Only checked passwords spend the address budget, so a client
   * that keeps retrying a locked account does not lock its address out of every other account.
   */
  async attempt(name: string, ip: string): Promise<ThrottleAttempt> {
    const username = this.#who(name)
    const pair = `${username}|${ip}`
    const [ipTry, known] = await Promise.all([this.#ip.consume(ip), this.#known.has(pair)])
    if (!ipTry.ok) return deny(ipTry.msBeforeNext)
    const acctTry = known ? await this.#knownFailures.consume(pair) : await this.#account.consume(username)
    if (!acctTry.ok) {
      await this.#ip.reward(ip)
      return deny(acctTry.msBeforeNext)
    }
    return { allowed: true, known }
  }

  /** Gives the attempt's points back and remembers the address as known (one round of calls). */
  async succeeded(name: string, ip: string, attempt: AllowedAttempt): Promise<void> {
    const username = this.#who(name)
    const pair = `${username}|${ip}`
    await Promise.all([
      this.#ip.reward(ip),
      attempt.known ? this.#knownFailures.delete(pair) : this.#account.reward(username),
      this.#known.set(pair, KNOWN_CLIENT_DAYS * 86400)
    ])
  }
}

/** One counter: in Redis when configured, always mirrored in process (the leak-report limit uses it too). */
export class Counter {
  readonly #memory: RateLimiterMemory
  readonly #redis: RateLimiterRedis | undefined
  readonly #points: number

  constructor(
    o: Pick<LoginThrottleOptions, 'redis' | 'keyPrefix'>,
    keyPrefix: string,
    points: number,
    duration: number
  ) {
    this.#points = points
    this.#memory = new RateLimiterMemory({ keyPrefix, points, duration })
    this.#redis =
      o.redis === undefined
        ? undefined
        : new RateLimiterRedis({
            storeClient: o.redis,
            keyPrefix: `${o.keyPrefix}${keyPrefix}`,
            points,
            duration,
            rejectIfRedisNotReady: true
          })
  }

  async consume(key: string): Promise<{ ok: boolean; msBeforeNext: number }> {
    // the mirror counts every attempt of this process, whatever Redis does
    const local = await this.#memory.penalty(key, 1)
    if (this.#redis !== undefined) {
      try {
        await this.#redis.consume(key)
        return { ok: true, msBeforeNext: 0 }
      } catch (res) {
        if (res instanceof RateLimiterRes) return { ok: false, msBeforeNext: res.msBeforeNext }
        // Redis did not answer: the mirror decides
      }
    }
    return local.consumedPoints <= this.#points
      ? { ok: true, msBeforeNext: 0 }
      : { ok: false, msBeforeNext: local.msBeforeNext }
  }

  async reward(key: string): Promise<void> {
    await Promise.all([this.#memory.reward(key, 1), this.#redis?.reward(key, 1).catch(() => undefined)])
  }

  async delete(key: string): Promise<void> {
    await Promise.all([this.#memory.delete(key), this.#redis?.delete(key).catch(() => undefined)])
  }

  async set(key: string, seconds: number): Promise<void> {
    await Promise.all([this.#memory.set(key, 1, seconds), this.#redis?.set(key, 1, seconds).catch(() => undefined)])
  }

  /** whether the key holds a point: Redis when it answers, else the mirror */
  async has(key: string): Promise<boolean> {
    if (this.#redis !== undefined) {
      try {
        return ((await this.#redis.get(key))?.consumedPoints ?? 0) > 0
      } catch {
        // the mirror decides
      }
    }
    return ((await this.#memory.get(key))?.consumedPoints ?? 0) > 0
  }
}

function deny(ms: number): ThrottleAttempt {
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) }
}
