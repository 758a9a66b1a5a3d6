/**
 * What the hot path needs to answer an introspection without the database. Holds the keyed hash
 * (compared in constant time on every hit), never the token value.
 */
export interface CachedToken {
  id: string
  accountId: string
  username: string
  accountKind: 'admin' | 'customer' | 'service'
  tokenKind: 'pat' | 'lgn' | 'svc' | 'xch'
  hash: string
  /** null = all of the owner's permissions (login tokens) */
  scopes: string[] | null
  /** the owner's permissions when the entry was filled */
  permissions: string[]
  iat: number
  exp: number | null
  /** exchanged tokens (RFC 8693): the audiences they are bound to */
  aud?: string[]
  /** exchanged tokens: the subject token they were exchanged for (RFC 8693 `act`) */
  actTokenId?: string
  /** unix seconds when the entry was read from the database (its age bounds downstream caching) */
  filledAt: number
  /** a superseded token's overlap end (unix seconds): after it the entry answers nothing (tokens/rotation.ts) */
  rotationEndsAt?: number
}

/** `error`: the cache could not answer (down, slow), as opposed to a clean miss */
export type CacheLookup = { hit: true; entry: CachedToken } | { hit: false; error?: true }

/**
 * Read-through cache contract (docs/design.md, "Storage"), shared by Redis and the in-process cache:
 * - `get` never throws: a cache fault is a miss (the caller then asks the database);
 * - `fill` never overwrites an invalidation marker, so a fill racing a revoke cannot resurrect;
 * - `invalidate` replaces entries with markers that outlive any fill in flight, then publishes.
 */
export interface TokenCache {
  readonly kind: 'redis' | 'memory'
  get(id: string): Promise<CacheLookup>
  fill(entry: CachedToken, ttlSeconds: number): Promise<void>
  invalidate(ids: readonly string[]): Promise<void>
  ping(): Promise<void>
  close(): Promise<void>
  /** counters for metrics and tests */
  readonly stats: CacheStats
}

export interface CacheStats {
  hits: number
  misses: number
  errors: number
  /** hits answered as misses because they may predate a revoke Redis missed (Redis cache only) */
  suspect: number
}

export const TOMBSTONE = '!'
