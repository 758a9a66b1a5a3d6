import { LRUCache } from 'lru-cache'
import type { CachedToken, CacheLookup, CacheStats, TokenCache } from './token-cache.js'

type Slot = CachedToken | 'tombstone'

/** The embedded default: same contract as Redis, bounded by entry count (LRU) and TTL. */
export class MemoryTokenCache implements TokenCache {
  readonly kind = 'memory'
  readonly stats: CacheStats = { hits: 0, misses: 0, errors: 0, suspect: 0 }
  readonly #lru: LRUCache<string, Slot>
  readonly #markerTtlMs: number

  constructor(opts: { maxEntries: number; ttlSeconds: number; now?: () => number }) {
    this.#lru = new LRUCache<string, Slot>({
      max: opts.maxEntries,
      ttlAutopurge: false,
      ...(opts.now ? { perf: { now: opts.now } } : {})
    })
    this.#markerTtlMs = opts.ttlSeconds * 1000
  }

  async get(id: string): Promise<CacheLookup> {
    const slot = this.#lru.get(id)
    if (slot === undefined || slot === 'tombstone') {
      this.stats.misses++
      return { hit: false }
    }
    this.stats.hits++
    return { hit: true, entry: slot }
  }

  async fill(entry: CachedToken, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0 || this.#lru.has(entry.id)) return
    this.#lru.set(entry.id, entry, { ttl: ttlSeconds * 1000 })
  }

  async invalidate(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.#lru.set(id, 'tombstone', { ttl: this.#markerTtlMs })
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.#lru.clear()
  }
}
