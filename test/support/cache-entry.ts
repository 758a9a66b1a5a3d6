import type { CachedToken } from '../../services/authority/src/cache/token-cache.js'

/** A minimal cache entry for cache-contract tests (not a real token: only the id matters). */
export const cacheEntry = (id: string, filledAt = Math.floor(Date.now() / 1000)): CachedToken => ({
  id,
  accountId: 'a',
  username: 'u',
  accountKind: 'customer',
  tokenKind: 'pat',
  hash: 'ab',
  scopes: ['x:y'],
  permissions: ['x:y'],
  iat: 1,
  exp: null,
  filledAt
})
