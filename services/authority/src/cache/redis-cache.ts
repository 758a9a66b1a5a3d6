import { createHmac, timingSafeEqual } from 'node:crypto'
import { ReplyError } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import { createRedisClient, type RedisClient, type RedisClientOptions } from './redis-client.js'
import { TOMBSTONE, type CachedToken, type CacheLookup, type CacheStats, type TokenCache } from './token-cache.js'

export { createRedisClient, type RedisClient, type RedisClientOptions } from './redis-client.js'

/** Either a client to use (not closed with the cache: its owner closes it) or where to connect (closed with it). */
export type RedisCacheOptions = ({ client: RedisClient } | RedisClientOptions) & {
  keyPrefix: string
  ttlSeconds: number
  log: FastifyBaseLogger
  /** wall clock in ms (tests); the same clock that stamps `filledAt` */
  now?: () => number
  /** the key of every entry's MAC (cacheEntryKey(pepper)): never stored in Redis */
  entryKey: Buffer
  /** counts entries read back that failed a check (a metric), by why */
  onRejected?: (reason: RejectReason) => void
}

/** Why an entry read from Redis was not trusted. */
export type RejectReason = 'mac' | 'foreign' | 'stale' | 'replay' | 'malformed'

/** The MAC key of cache entries, derived from the pepper (not in the database, never in Redis). */
export function cacheEntryKey(pepper: Buffer): Buffer {
  return createHmac('sha256', pepper).update('token-authority cache entry MAC v1').digest()
}

const SEALED = /^v1\.([A-Za-z0-9_-]{43})\.(.*)$/s

/**
 * How far apart two replicas' clocks (and a whole-second `filledAt`) may be for the suspect check
 * below to hold; also added to its window.
 */
export const SKEW_MARGIN_SECONDS = 1

/** Deletes a key only if it still holds the value we read: a marker written meanwhile stays. */
export const COMPARE_AND_DELETE =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"

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
  readonly stats: CacheStats = { hits: 0, misses: 0, errors: 0, suspect: 0 }
  readonly client: RedisClient
  /** the client was created here (closed with the cache), not lent */
  readonly #ownsClient: boolean
  readonly #opts: RedisCacheOptions
  /** invalidations Redis did not take; written again as soon as it is back */
  readonly #pending = new Set<string>()
  readonly #now: () => number
  /** ms: last time this process saw Redis unavailable (0 = never) */
  #lastUnavailableAt = 0
  /** an outage was seen since the last 'ready': the next 'ready' ends it */
  #down = false
  /**
   * Tokens this process learnt were invalidated (its own changes, and the revocation log's events
   * it follows), with when, for CACHE_TTL (+ margin): an entry filled before that moment is a
   * replay (someone with write access to Redis put back what the invalidation replaced).
   */
  readonly #invalidatedAt = new Map<string, number>()

  constructor(opts: RedisCacheOptions) {
    this.#opts = opts
    this.#now = opts.now ?? Date.now
    this.#ownsClient = !('client' in opts)
    this.client = 'client' in opts ? opts.client : createRedisClient(opts)
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

  #mac(key: string, body: string): Buffer {
    return createHmac('sha256', this.#opts.entryKey).update(key).update('\n').update(body).digest()
  }

  /** What is stored for an entry: `v1.<MAC over its key and body>.<JSON>`. */
  seal(entry: CachedToken): string {
    const body = JSON.stringify(entry)
    return `v1.${this.#mac(this.#key(entry.id), body).toString('base64url')}.${body}`
  }

  /** A marker, sealed the same way (a forged or foreign one is not trusted either). */
  #tombstone(id: string): string {
    return `${TOMBSTONE}${this.#mac(this.#key(id), TOMBSTONE).toString('base64url')}`
  }

  /**
   * Redis is not trusted for integrity (docs/design.md, "Storage"): an entry counts only if its MAC is ours and
   * covers this key (a copy of another token's entry is foreign), it is no older than CACHE_TTL
   * (+ margin), and it was filled after the last invalidation of this token this process knows of.
   * Anything else is a miss (the database decides), counted and logged without values.
   */
  #open(id: string, raw: string): CachedToken | RejectReason {
    const m = SEALED.exec(raw)
    if (m === null) return 'malformed'
    const key = this.#key(id)
    const given = Buffer.from(m[1]!, 'base64url')
    const expected = this.#mac(key, m[2]!)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      // the same body under another token's key would verify there: say which it is
      return 'mac'
    }
    let entry: CachedToken
    try {
      entry = JSON.parse(m[2]!) as CachedToken
    } catch {
      return 'malformed'
    }
    if (entry.id !== id) return 'foreign'
    const nowSec = this.#now() / 1000
    if (typeof entry.filledAt !== 'number' || nowSec - entry.filledAt > this.#opts.ttlSeconds + SKEW_MARGIN_SECONDS)
      return 'stale'
    const invalidated = this.#invalidatedAt.get(id)
    if (invalidated !== undefined && entry.filledAt <= invalidated / 1000 + SKEW_MARGIN_SECONDS) return 'replay'
    return entry
  }

  #reject(reason: RejectReason): void {
    this.#opts.onRejected?.(reason)
    this.#opts.log.warn({ reason }, 'cache entry rejected (tampered, foreign, stale or replayed): reading the database')
  }

  /** Remembers invalidations for CACHE_TTL (+ margin): what a replay would have to predate. */
  #noteInvalidated(ids: readonly string[]): void {
    const now = this.#now()
    for (const id of ids) {
      this.#invalidatedAt.delete(id)
      this.#invalidatedAt.set(id, now)
    }
    const horizon = now - (this.#opts.ttlSeconds + SKEW_MARGIN_SECONDS) * 1000
    for (const [id, at] of this.#invalidatedAt) {
      if (at >= horizon) break
      this.#invalidatedAt.delete(id)
    }
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
      if (raw === null || raw.startsWith(TOMBSTONE)) {
        if (raw !== null && raw !== this.#tombstone(id)) this.#reject('mac')
        this.stats.misses++
        return { hit: false }
      }
      const entry = this.#open(id, raw)
      if (typeof entry === 'string') {
        this.#reject(entry)
        this.stats.misses++
        return { hit: false }
      }
      if (this.#suspect(entry)) {
        this.stats.suspect++
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
      await this.client.set(this.#key(entry.id), this.seal(entry), 'EX', ttlSeconds, 'NX')
    } catch (err) {
      this.#failed(err)
    }
  }

  async invalidate(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    this.#noteInvalidated(ids)
    try {
      await this.#writeMarkers(ids)
    } catch (err) {
      this.#failed(err)
      for (const id of ids) this.#pending.add(id)
      this.#opts.log.warn(
        { count: ids.length, code: (err as NodeJS.ErrnoException).code },
        'cache invalidation deferred until redis returns'
      )
    }
  }

  async #writeMarkers(ids: readonly string[]): Promise<void> {
    if (this.client.isCluster) {
      // Redis Cluster: the markers' keys hash to different slots (a MULTI across slots is refused),
      // so each is its own SET, sent together (auto-pipelined per node); the PUBLISH, which the
      // cluster carries to every node's subscribers, follows only once every marker is written.
      await Promise.all(
        ids.map((id) => this.client.set(this.#key(id), this.#tombstone(id), 'EX', this.#opts.ttlSeconds))
      )
      await this.client.publish(invalidationChannel(this.#opts.keyPrefix), JSON.stringify({ ids }))
      return
    }
    const multi = this.client.multi()
    for (const id of ids) multi.set(this.#key(id), this.#tombstone(id), 'EX', this.#opts.ttlSeconds)
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
    if (!this.#ownsClient) return
    try {
      await this.client.quit()
    } catch {
      this.client.disconnect()
    }
  }
}
