import { hash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { LRUCache } from 'lru-cache'
import { VerifierError, VerifierOptionsError } from './errors.js'
import { AuthorityUnavailableError, IntrospectionClient, type IntrospectionResponse } from './introspection-client.js'
import { tokenShapeOk } from './token-shape.js'

export { VerifierError, VerifierOptionsError } from './errors.js'
export { tokenShapeOk } from './token-shape.js'

/** Who is calling, as the authority vouched for it. */
export interface AuthInfo {
  /** account id */
  subject: string
  username: string
  /** owner's account kind: admin, customer or service (customers act only on their own resources) */
  kind: string
  tokenKind: string
  /** effective scopes: the token's scopes ∩ the owner's current permissions */
  scopes: readonly string[]
  permissions: readonly string[]
  tokenId: string
  /** unix seconds, or null for a token that never expires */
  expiresAt: number | null
}

export interface VerifierOptions {
  /** base URL of the token authority, e.g. http://token-authority:3000 */
  authorityUrl: string
  /** this service's own token, holding tokens:introspect (and tokens:introspect:reason for precise errors) */
  credential: string
  /** token prefix of the authority (TOKEN_PREFIX there); default 'tka' */
  tokenPrefix?: string
  cache?: {
    /** entries kept (LRU); default 10000 */
    max?: number
    /** longest time an active result is trusted without asking again; default 30 s */
    ttlSeconds?: number
  }
  /** query parameters that may carry the token (off by default; the header is always read) */
  queryParameters?: readonly string[]
  /** per introspection call; past it (and with nothing cached) the request is a 503. Default 1000 ms */
  timeoutMs?: number
  /** keep-alive connections to the authority; default 16 */
  connections?: number
  /** realm in WWW-Authenticate; default 'token-authority' */
  realm?: string
  /** Retry-After on 503; default 5 s */
  retryAfterSeconds?: number
  /**
   * Subscribe to the authority's invalidation channel (its Redis) so revocations evict at once.
   * Without it a revoked token may pass for at most `cache.ttlSeconds`.
   */
  invalidation?: { redisUrl: string; channel?: string }
}

interface CacheEntry {
  auth: AuthInfo
  /** ms timestamp after which the entry is not used */
  until: number
}

export interface VerifierStats {
  /** introspection calls made to the authority */
  authorityCalls: () => number
  hits: number
  misses: number
  rejectedOffline: number
  evictedByInvalidation: number
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the verified caller; null on public routes */
    auth: AuthInfo | null
  }
  interface FastifyInstance {
    /** an onRequest hook that requires these scopes (after the plugin's own verification) */
    requireScopes(...scopes: string[]): onRequestHookHandler
    tokenVerifier: { stats: VerifierStats; clearCache(): void }
  }
  interface FastifyContextConfig {
    /** no token needed on this route */
    public?: boolean
    /** scopes the caller's token must hold */
    scopes?: readonly string[]
  }
}

function checkOptions(o: VerifierOptions): Required<Omit<VerifierOptions, 'invalidation' | 'cache'>> & {
  cache: { max: number; ttlSeconds: number }
  invalidation?: { redisUrl: string; channel: string }
} {
  if (o === null || typeof o !== 'object') throw new VerifierOptionsError('options are required')
  let url: URL
  try {
    url = new URL(o.authorityUrl)
  } catch {
    throw new VerifierOptionsError('authorityUrl must be an absolute http(s) URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new VerifierOptionsError('authorityUrl must be http or https')
  if (typeof o.credential !== 'string' || o.credential.length === 0) throw new VerifierOptionsError('credential (a service token) is required')
  const positive = (name: string, v: unknown, dflt: number): number => {
    if (v === undefined) return dflt
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new VerifierOptionsError(`${name} must be a positive number`)
    return v
  }
  const prefix = o.tokenPrefix ?? 'tka'
  if (!/^[a-z]{2,8}$/.test(prefix)) throw new VerifierOptionsError('tokenPrefix must be 2-8 lower-case letters')
  const query = o.queryParameters ?? []
  if (!Array.isArray(query) || query.some((q) => typeof q !== 'string' || q === '')) {
    throw new VerifierOptionsError('queryParameters must be a list of parameter names')
  }
  if (o.invalidation !== undefined && (typeof o.invalidation.redisUrl !== 'string' || !/^rediss?:\/\//.test(o.invalidation.redisUrl))) {
    throw new VerifierOptionsError('invalidation.redisUrl must be a redis:// URL')
  }
  return {
    authorityUrl: url.toString(),
    credential: o.credential,
    tokenPrefix: prefix,
    cache: { max: Math.floor(positive('cache.max', o.cache?.max, 10_000)), ttlSeconds: positive('cache.ttlSeconds', o.cache?.ttlSeconds, 30) },
    queryParameters: query,
    timeoutMs: positive('timeoutMs', o.timeoutMs, 1000),
    connections: Math.floor(positive('connections', o.connections, 16)),
    realm: o.realm ?? 'token-authority',
    retryAfterSeconds: Math.ceil(positive('retryAfterSeconds', o.retryAfterSeconds, 5)),
    ...(o.invalidation ? { invalidation: { redisUrl: o.invalidation.redisUrl, channel: o.invalidation.channel ?? 'ta:invalidate' } } : {})
  }
}

const REASONS: Record<string, string> = {
  expired: 'the access token has expired',
  revoked: 'the access token has been revoked'
}

function toAuth(b: IntrospectionResponse): AuthInfo {
  return {
    subject: b.sub ?? '',
    username: b.username ?? '',
    kind: b.kind ?? '',
    tokenKind: b.token_kind ?? '',
    scopes: b.scope ? b.scope.split(' ') : [],
    permissions: b.permissions ?? [],
    tokenId: b.jti ?? '',
    expiresAt: b.exp ?? null
  }
}

async function verifier(app: FastifyInstance, options: VerifierOptions): Promise<void> {
  const o = checkOptions(options)
  const client = new IntrospectionClient({
    authorityUrl: o.authorityUrl,
    credential: o.credential,
    timeoutMs: o.timeoutMs,
    connections: o.connections
  })
  // Active results only, keyed by a hash of the token (the value itself is not kept).
  const keysByTokenId = new Map<string, string>()
  const cache = new LRUCache<string, CacheEntry>({
    max: o.cache.max,
    // evicted or expired entries leave the id index too (it must not outgrow the cache)
    dispose: (entry, key) => {
      if (keysByTokenId.get(entry.auth.tokenId) === key) keysByTokenId.delete(entry.auth.tokenId)
    }
  })
  /** bumped by every invalidation message and reconnect: an answer fetched before one is not cached */
  let generation = 0
  const inflight = new Map<string, Promise<CacheEntry | { inactive: string | undefined }>>()
  const stats: VerifierStats = { authorityCalls: () => client.calls, hits: 0, misses: 0, rejectedOffline: 0, evictedByInvalidation: 0 }

  const forget = (key: string): void => {
    cache.delete(key)
  }
  const clearCache = (): void => {
    generation++
    cache.clear()
    keysByTokenId.clear()
  }

  let subscriber: { quit(): Promise<unknown>; disconnect(): void } | undefined
  if (o.invalidation) {
    const { Redis } = await import('ioredis')
    const redis = new Redis(o.invalidation.redisUrl, { enableOfflineQueue: true, maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 200, 2000) })
    let everReady = false
    redis.on('error', (err: NodeJS.ErrnoException) => app.log.warn({ code: err.code }, 'token verifier: invalidation channel error'))
    // Messages sent while we were away are lost: after a reconnect, trust nothing cached.
    redis.on('ready', () => {
      if (everReady) clearCache()
      everReady = true
    })
    redis.on('message', (_channel: string, message: string) => {
      try {
        const { ids } = JSON.parse(message) as { ids?: unknown }
        if (!Array.isArray(ids)) return
        generation++
        for (const id of ids) {
          const key = typeof id === 'string' ? keysByTokenId.get(id) : undefined
          if (key !== undefined) {
            forget(key)
            stats.evictedByInvalidation++
          }
        }
      } catch {
        // not ours: ignore
      }
    })
    await redis.subscribe(o.invalidation.channel)
    subscriber = redis
  }

  app.addHook('onClose', async () => {
    await client.close()
    if (subscriber) await subscriber.quit().catch(() => subscriber?.disconnect())
  })

  function readToken(request: FastifyRequest): string | null {
    const raw = request.raw.rawHeaders
    let headers = 0
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!
      if (name.length === 13 && name.toLowerCase() === 'authorization') headers++
    }
    if (headers > 1) throw new VerifierError('invalid_request', 'more than one Authorization header')
    const query = (request.query ?? {}) as Record<string, unknown>
    const fromQuery = o.queryParameters.filter((p) => query[p] !== undefined)
    const header = request.headers.authorization
    if (fromQuery.length + (header ? 1 : 0) > 1) throw new VerifierError('invalid_request', 'give the token one way only')
    if (fromQuery.length === 1) {
      const v = query[fromQuery[0]!]
      if (typeof v !== 'string' || v === '') throw new VerifierError('invalid_request', 'empty token parameter')
      return v
    }
    if (!header) return null
    const m = /^Bearer +(\S+)$/i.exec(header)
    if (!m) throw new VerifierError('invalid_request', 'use an Authorization: Bearer token')
    return m[1]!
  }

  /** the cached answer for this token, if still fresh: no I/O, no await (the hot path) */
  function cached(key: string): CacheEntry | undefined {
    const hit = cache.get(key)
    if (hit === undefined) return undefined
    if (hit.until > Date.now()) {
      stats.hits++
      return hit
    }
    forget(key)
    return undefined
  }

  async function lookup(token: string, key: string): Promise<CacheEntry | { inactive: string | undefined }> {
    stats.misses++
    const running = inflight.get(key)
    if (running) return running
    const p = (async () => {
      const started = generation
      const { body, maxAgeSeconds } = await client.introspect(token)
      if (!body.active) return { inactive: body.reason }
      const auth = toAuth(body)
      // Trust it no longer than our TTL, the authority's hint, and the token's own life.
      const ttlMs = Math.min(o.cache.ttlSeconds * 1000, maxAgeSeconds * 1000, auth.expiresAt === null ? Infinity : auth.expiresAt * 1000 - Date.now())
      const entry = { auth, until: Date.now() + ttlMs }
      // a revoke announced while we asked may concern this very answer: use it once, do not keep it
      if (ttlMs > 0 && started === generation) {
        cache.set(key, entry, { ttl: Math.ceil(ttlMs) })
        keysByTokenId.set(auth.tokenId, key)
      }
      return entry
    })().finally(() => inflight.delete(key))
    inflight.set(key, p)
    return p
  }

  function send(reply: FastifyReply, request: FastifyRequest, err: VerifierError): FastifyReply {
    const realm = `realm="${o.realm}"`
    if (err.code === 'unauthorized') reply.header('www-authenticate', `Bearer ${realm}`)
    else if (err.code !== 'service_unavailable') {
      const scope = err.extra.scope ? `, scope="${err.extra.scope}"` : ''
      reply.header('www-authenticate', `Bearer ${realm}, error="${err.code}", error_description="${err.message}"${scope}`)
    }
    if (err.extra.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.extra.retryAfterSeconds))
    return reply
      .code(err.statusCode)
      .send({ statusCode: err.statusCode, code: err.code, error: err.reasonPhrase, message: err.message, requestId: request.id })
  }

  function checkScopes(request: FastifyRequest, needed: readonly string[]): VerifierError | null {
    const held = new Set(request.auth?.scopes ?? [])
    if (needed.every((s) => held.has(s))) return null
    return new VerifierError('insufficient_scope', `this route needs the scope ${needed.join(' ')}`, { scope: needed.join(' ') })
  }

  app.decorateRequest('auth', null)
  app.decorate('tokenVerifier', { stats, clearCache })
  app.decorate('requireScopes', (...scopes: string[]): onRequestHookHandler => {
    return async function requireScopesHook(request, reply) {
      const err = checkScopes(request, scopes)
      if (err) return send(reply, request, err)
    }
  })

  // onRequest: the token is checked before any body is read.
  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config
    if (config.public === true) return
    let token: string | null
    try {
      token = readToken(request)
    } catch (err) {
      return send(reply, request, err as VerifierError)
    }
    if (token === null) return send(reply, request, new VerifierError('unauthorized', 'authentication required'))
    // Cache first (only active answers are cached, keyed by the token's SHA-256); the offline shape
    // check runs only on a miss, before any call to the authority.
    const key = hash('sha256', token, 'base64url')
    let result: CacheEntry | { inactive: string | undefined } | undefined = cached(key)
    if (result === undefined && !tokenShapeOk(token, o.tokenPrefix)) {
      stats.rejectedOffline++
      return send(reply, request, new VerifierError('invalid_token', 'the access token is not valid'))
    }
    try {
      result ??= await lookup(token, key)
    } catch (err) {
      if (!(err instanceof AuthorityUnavailableError)) throw err
      request.log.warn({ msg_: err.message }, 'token verifier: authority unavailable, failing closed')
      return send(reply, request, new VerifierError('service_unavailable', 'cannot verify the token right now', { retryAfterSeconds: o.retryAfterSeconds }))
    }
    if ('inactive' in result) {
      const description = (result.inactive && REASONS[result.inactive]) || 'the access token is not valid'
      return send(reply, request, new VerifierError('invalid_token', description))
    }
    request.auth = result.auth
    if (config.scopes && config.scopes.length > 0) {
      const err = checkScopes(request, config.scopes)
      if (err) return send(reply, request, err)
    }
  })
}

/** Protect a Fastify app (or an encapsulated part of it) with tokens from the authority. */
export const tokenVerifier = fp(verifier, { fastify: '5.x', name: '@token-authority/fastify-verifier' })
export default tokenVerifier
