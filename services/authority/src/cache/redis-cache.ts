import { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import { TOMBSTONE, type CachedToken, type CacheLookup, type CacheStats, type TokenCache } from './token-cache.js'

export interface RedisCacheOptions {
  url: string
  keyPrefix: string
  ttlSeconds: number
  commandTimeoutMs: number
  connectTimeoutMs: number
  log: FastifyBaseLogger
}

export function invalidationChannel(keyPrefix: string): string {
  return `${keyPrefix}invalidate`
}

/**
 * Redis hot lookup. Offline queue off and short command timeouts: when Redis is slow or gone a
 * command fails fast and the caller reads the database instead (never fails open).
 */
export class RedisTokenCache implements TokenCache {
  readonly kind = 'redis'
  readonly stats: CacheStats = { hits: 0, misses: 0, errors: 0 }
  readonly client: Redis
  readonly #opts: RedisCacheOptions
  /** invalidations Redis did not take; written again as soon as it is back */
  readonly #pending = new Set<string>()

  constructor(opts: RedisCacheOptions) {
    this.#opts = opts
    this.client = new Redis(opts.url, {
      enableOfflineQueue: false,
      commandTimeout: opts.commandTimeoutMs,
      connectTimeout: opts.connectTimeoutMs,
      maxRetriesPerRequest: 0,
      lazyConnect: false,
      retryStrategy: (times) => Math.min(100 * times, 1000)
    })
    this.client.on('error', (err: NodeJS.ErrnoException) => {
      opts.log.warn({ code: err.code, msg_: err.message }, 'redis error')
    })
    this.client.on('ready', () => {
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
      this.stats.hits++
      return { hit: true, entry: JSON.parse(raw) as CachedToken }
    } catch {
      this.stats.errors++
      this.stats.misses++
      return { hit: false, error: true }
    }
  }

  async fill(entry: CachedToken, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0 || this.#pending.has(entry.id)) return
    try {
      // NX: an invalidation marker written since our database read wins over this fill.
      await this.client.set(this.#key(entry.id), JSON.stringify(entry), 'EX', ttlSeconds, 'NX')
    } catch {
      this.stats.errors++
    }
  }

  async invalidate(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    try {
      await this.#writeMarkers(ids)
    } catch (err) {
      this.stats.errors++
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
    } catch {
      this.stats.errors++
    }
  }

  async ping(): Promise<void> {
    await this.client.ping()
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
