import { Redis, ReplyError } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import { TOMBSTONE, type CachedToken, type CacheLookup, type CacheStats, type TokenCache } from './token-cache.js'

export interface RedisCacheOptions {
  url: string
  keyPrefix: string
  ttlSeconds: number
  commandTimeoutMs: number
  connectTimeoutMs: number
  log: FastifyBaseLogger
  /** wall clock in ms (tests); the same clock that stamps `filledAt` */
  now?: () => number
}

/**
 * How far apart two replicas' clocks (and a whole-second `filledAt`) may be for the suspect check
 * below to hold; also added to its window.
 */
export const SKEW_MARGIN_SECONDS = 1

/** Deletes a key only if it still holds the value we read: a marker written meanwhile stays. */
const COMPARE_AND_DELETE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"

export function invalidationChannel(keyPrefix: string): string {
  return `${keyPrefix}invalidate`
}

/**
 * Redis hot lookup. Offline queue off and short command timeouts: when Redis is slow or gone a
 * command fails fast and the caller reads the database instead (never fails open).
 *
 * Redis returning with old data. A revoke made while Redis was unreachable leaves its marker in
 * the revoking process (`#pending`, written again when Redis is back); if that process is gone
 * before then, the marker is lost and Redis may come back still holding the entry filled before the
 * outage. So every process remembers when it last saw Redis unavailable (`lastUnavailableAt`: a
 * failed command, the connection closing or reconnecting, and the moment it is ready again after
 * that). An entry read within CACHE_TTL (+ margin) of that moment whose `filledAt` is earlier than
 * it (+ margin) may predate a revoke Redis missed: it is *suspect*, deleted (compare-and-delete, so
 * a marker written meanwhile is never removed) and answered as a miss, so the database decides and
 * the entry is filled again. Later than that window every entry from before the outage has expired
 * in Redis anyway (TTL ≤ CACHE_TTL from a write made before the outage began).
 *
 * A command that merely timed out on a live connection does not count: it was written to the
 * socket and Redis runs it in order (a burst that lags the event loop must not flush the cache).
 * A process that saw no failure (partitioned apart from the revoking one, or started after the
 * outage) cannot tell: for it the bound stays CACHE_TTL_SECONDS.
 */
export class RedisTokenCache implements TokenCache {
  readonly kind = 'redis'
  readonly stats: CacheStats = { hits: 0, misses: 0, errors: 0 }
  readonly client: Redis
  readonly #opts: RedisCacheOptions
  /** invalidations Redis did not take; written again as soon as it is back */
  readonly #pending = new Set<string>()
  readonly #now: () => number
  /** ms: last time this process saw Redis unavailable (0 = never) */
  #lastUnavailableAt = 0
  /** an outage was seen since the last 'ready': the next 'ready' ends it */
  #down = false
  /** cache hits answered as misses because they may predate a revoke Redis missed */
  suspectMisses = 0

  constructor(opts: RedisCacheOptions) {
    this.#opts = opts
    this.#now = opts.now ?? Date.now
    this.client = new Redis(opts.url, {
      enableOfflineQueue: false,
      // concurrent introspections share one round trip per event-loop tick
      enableAutoPipelining: true,
      // after a failover this node may have become a read-only replica: reconnect to the primary
      reconnectOnError: (err) => err.message.startsWith('READONLY'),
      commandTimeout: opts.commandTimeoutMs,
      connectTimeout: opts.connectTimeoutMs,
      maxRetriesPerRequest: 0,
      lazyConnect: false,
      retryStrategy: (times) => Math.min(100 * times, 1000)
    })
    this.client.on('error', (err: NodeJS.ErrnoException) => {
      this.#markUnavailable()
      opts.log.warn({ code: err.code, msg_: err.message }, 'redis error')
    })
    for (const event of ['close', 'reconnecting', 'end']) this.client.on(event, () => this.#markUnavailable())
    this.client.on('ready', () => {
      // Until this moment Redis could not take our writes: the outage ends now, not at the last failure.
      if (this.#down) this.#markUnavailable()
      this.#down = false
      if (this.#pending.size > 0) void this.#flushPending()
    })
    // A timeout need not drop the connection (no 'ready' follows): retry the pending ones anyway.
    this.#retry = setInterval(() => {
      if (this.#pending.size > 0 && this.client.status === 'ready') void this.#flushPending()
    }, 1000)
    this.#retry.unref()
  }

  readonly #retry: NodeJS.Timeout

  #key(id: string): string {
    return `${this.#opts.keyPrefix}tok:${id}`
  }

  get pendingInvalidations(): number {
    return this.#pending.size
  }

  /** ms since the epoch when this process last saw Redis unavailable; 0 = never */
  get lastUnavailableAt(): number {
    return this.#lastUnavailableAt
  }

  #markUnavailable(): void {
    this.#lastUnavailableAt = this.#now()
    this.#down = true
  }

  /**
   * A command failed. Anything but a plain timeout on a live connection means Redis may never run
   * it (a timed-out command was written to the socket: Redis runs it, in order, when it gets to it).
   */
  #failed(err: unknown, countError = true): void {
    if (countError) this.stats.errors++
    const live = this.client.status === 'ready'
    const timedOut = err instanceof Error && err.message === 'Command timed out' && live
    // an error reply (NOPERM, OOM…) came from a live Redis that kept its state: not an outage
    // (a READONLY reply after a failover reconnects, see reconnectOnError, and that one counts)
    const replied = err instanceof ReplyError && live
    if (!timedOut && !replied) this.#markUnavailable()
  }

  /**
   * Filled before the last outage this process saw, and read while an entry from before it may
   * still live in Redis: it may predate a revoke Redis never got.
   */
  #suspect(entry: CachedToken): boolean {
    const at = this.#lastUnavailableAt
    if (at === 0) return false
    if (this.#now() >= at + (this.#opts.ttlSeconds + SKEW_MARGIN_SECONDS) * 1000) return false
    return !(typeof entry.filledAt === 'number' && entry.filledAt >= at / 1000 + SKEW_MARGIN_SECONDS)
  }

  async get(id: string): Promise<CacheLookup> {
    // A revoke Redis missed is still pending: never trust what Redis says about that token.
    if (this.#pending.size > 0 && this.#pending.has(id)) {
      this.stats.misses++
      return { hit: false }
    }
    try {
      const raw = await this.client.get(this.#key(id))
      if (raw === null || raw === TOMBSTONE) {
        this.stats.misses++
        return { hit: false }
      }
      const entry = JSON.parse(raw) as CachedToken
      if (this.#suspect(entry)) {
        this.suspectMisses++
        this.stats.misses++
        // Sent before the database read's fill on this same connection, so it runs first.
        this.client.eval(COMPARE_AND_DELETE, 1, this.#key(id), raw).catch((err: unknown) => this.#failed(err))
        return { hit: false }
      }
      this.stats.hits++
      return { hit: true, entry }
    } catch (err) {
      this.#failed(err)
      this.stats.misses++
      return { hit: false, error: true }
    }
  }

  async fill(entry: CachedToken, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0 || this.#pending.has(entry.id)) return
    try {
      // NX: an invalidation marker written since our database read wins over this fill.
      await this.client.set(this.#key(entry.id), JSON.stringify(entry), 'EX', ttlSeconds, 'NX')
    } catch (err) {
      this.#failed(err)
    }
  }

  async invalidate(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    try {
      await this.#writeMarkers(ids)
    } catch (err) {
      this.#failed(err)
      for (const id of ids) this.#pending.add(id)
      this.#opts.log.warn({ count: ids.length, code: (err as NodeJS.ErrnoException).code }, 'cache invalidation deferred until redis returns')
    }
  }

  async #writeMarkers(ids: readonly string[]): Promise<void> {
    const multi = this.client.multi()
    for (const id of ids) multi.set(this.#key(id), TOMBSTONE, 'EX', this.#opts.ttlSeconds)
    multi.publish(invalidationChannel(this.#opts.keyPrefix), JSON.stringify({ ids }))
    const res = await multi.exec()
    const failed = res?.find(([err]) => err !== null)
    if (res === null || failed !== undefined) throw failed?.[0] ?? new Error('redis transaction aborted')
  }

  async #flushPending(): Promise<void> {
    const ids = [...this.#pending]
    try {
      await this.#writeMarkers(ids)
      for (const id of ids) this.#pending.delete(id)
      this.#opts.log.info({ count: ids.length }, 'deferred cache invalidations written')
    } catch (err) {
      this.#failed(err)
    }
  }

  async ping(): Promise<void> {
    try {
      await this.client.ping()
    } catch (err) {
      this.#failed(err, false)
      throw err
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#retry)
    try {
      await this.client.quit()
    } catch {
      this.client.disconnect()
    }
  }
}
