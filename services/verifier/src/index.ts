import { hash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { LRUCache } from 'lru-cache'
import { VerifierError, VerifierOptionsError } from './errors.js'
import {
  AuthorityUnavailableError,
  clientInfo,
  IntrospectionClient,
  type ClientInfo,
  type IntrospectionResponse
} from './introspection-client.js'
import { bearerChallenge, INACTIVE_TOKEN_DESCRIPTIONS } from './bearer.js'
import { RevocationStream, type RevocationMessage, type StreamState } from './revocation-stream.js'
import { tokenShapeOk } from './token-shape.js'

export { VerifierError, VerifierOptionsError } from './errors.js'
export { tokenShapeOk } from './token-shape.js'
export { SseParser, type RevocationMessage, type SseMessage, type StreamState } from './revocation-stream.js'

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
  /** exchanged tokens (RFC 8693): the audiences the token is bound to; empty for every other kind */
  audience: readonly string[]
  /** exchanged tokens: who exchanged it (the subject token's account and id) */
  actor?: { subject: string; tokenId: string }
}

export interface VerifierOptions {
  /** base URL of the token authority, e.g. http://token-authority:3000 */
  authorityUrl: string
  /** this service's own token, holding tokens:introspect (and tokens:introspect:reason for precise errors) */
  credential: string
  /** token prefix of the authority (TOKEN_PREFIX there); default 'tka' */
  tokenPrefix?: string
  /**
   * This service's audience name. When set, only tokens bound to it are accepted: exchanged tokens
   * (RFC 8693, `POST /token` with `audience=<this>`) whose `aud` includes it. Every other token —
   * PATs, service and login tokens (no `aud`), tokens exchanged for another audience — gets 401
   * invalid_token. Unset: any active token is accepted.
   */
  audience?: string
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
   * Forward the end client's address (`request.ip`, so as your Fastify `trustProxy` resolves it)
   * and User-Agent with each introspection (`client_address`, `client_user_agent`), so the
   * token's last use in the authority shows the client rather than nothing. Default false: an
   * authority older than these parameters refuses them (400), which would fail every request
   * closed; turn it on once the authority is at least the version that documents them. Values
   * that do not fit (not an IP literal, control characters) are left out or cleaned, never sent
   * as they are. Only introspections carry them: uses answered from this plugin's cache are not seen.
   */
  forwardClient?: boolean
  /**
   * Follow the authority's revocation stream (GET /v1/revocations, Server-Sent Events; the
   * credential must also hold tokens:revocations) so that revocations drop cached answers at once.
   */
  revocations?: {
    /** default true. Off: a revoked token may pass for as long as `cache.ttlSeconds` */
    stream?: boolean
    /**
     * While the stream is not connected (and until it first is), a cached answer is used only if
     * fetched at most this long ago; default 5 s. Must not exceed cache.ttlSeconds.
     */
    degradedTtlSeconds?: number
    /** while the stream is not connected, use no cached answer: introspect every request (503 if the authority is unreachable); default false */
    failClosed?: boolean
    /** reconnect backoff: exponential from minMs to maxMs with full jitter; default 100 ms → 5000 ms */
    reconnect?: { minMs?: number; maxMs?: number }
    /** no byte (event or the 15 s heartbeat) for this long: the stream is dead, reconnect; default 35000 ms */
    idleTimeoutMs?: number
  }
}

interface CacheEntry {
  auth: AuthInfo
  /** ms timestamp after which the entry is not used */
  until: number
  /** ms timestamp of the introspection (answers older than the degraded TTL are not used while the stream is down) */
  fetchedAt: number
}

export interface VerifierStats {
  /** introspection calls made to the authority */
  authorityCalls: () => number
  hits: number
  misses: number
  rejectedOffline: number
  /** cached answers dropped by a revocation event */
  evictedByRevocation: number
  /** whole-cache drops: `reset` events and fresh (not resumed) stream connections */
  cacheResets: number
}

/** the revocation stream, as the plugin sees it */
export interface RevocationStreamInfo {
  /** 'off' when revocations.stream is false */
  readonly state: StreamState | 'off'
  /** last seq received, if any */
  readonly lastEventId: string | undefined
  /** connections opened */
  readonly connects: number
  /**
   * Events: `state` (StreamState), `revocation` (RevocationMessage, after the cache dropped what it
   * names), `reset` ({seq}, after the cache was cleared)
   */
  readonly events: EventEmitter
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the verified caller; null on public routes */
    auth: AuthInfo | null
  }
  interface FastifyInstance {
    /** an onRequest hook that requires these scopes (after the plugin's own verification) */
    requireScopes(...scopes: string[]): onRequestHookHandler
    tokenVerifier: { stats: VerifierStats; clearCache(): void; revocationStream: RevocationStreamInfo }
  }
  interface FastifyContextConfig {
    /** no token needed on this route */
    public?: boolean
    /** scopes the caller's token must hold */
    scopes?: readonly string[]
  }
}

interface CheckedRevocations {
  stream: boolean
  degradedTtlSeconds: number
  failClosed: boolean
  reconnect: { minMs: number; maxMs: number }
  idleTimeoutMs: number
}

function checkOptions(o: VerifierOptions): Required<Omit<VerifierOptions, 'revocations' | 'cache' | 'audience'>> & {
  audience: string | null
  cache: { max: number; ttlSeconds: number }
  revocations: CheckedRevocations
} {
  if (o === null || typeof o !== 'object') throw new VerifierOptionsError('options are required')
  let url: URL
  try {
    url = new URL(o.authorityUrl)
  } catch {
    throw new VerifierOptionsError('authorityUrl must be an absolute http(s) URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new VerifierOptionsError('authorityUrl must be http or https')
  if (typeof o.credential !== 'string' || o.credential.length === 0)
    throw new VerifierOptionsError('credential (a service token) is required')
  const positive = (name: string, v: unknown, dflt: number): number => {
    if (v === undefined) return dflt
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw new VerifierOptionsError(`${name} must be a positive number`)
    return v
  }
  if (o.audience !== undefined && (typeof o.audience !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(o.audience)))
    throw new VerifierOptionsError('audience must be printable ASCII without spaces (1-256 characters)')
  const prefix = o.tokenPrefix ?? 'tka'
  if (!/^[a-z]{2,8}$/.test(prefix)) throw new VerifierOptionsError('tokenPrefix must be 2-8 lower-case letters')
  const query = o.queryParameters ?? []
  if (!Array.isArray(query) || query.some((q) => typeof q !== 'string' || q === '')) {
    throw new VerifierOptionsError('queryParameters must be a list of parameter names')
  }
  if ('invalidation' in o) {
    throw new VerifierOptionsError(
      'the invalidation (Redis) option is gone: the plugin follows the revocation stream (revocations option)'
    )
  }
  const r = o.revocations ?? {}
  if (r === null || typeof r !== 'object') throw new VerifierOptionsError('revocations must be an object')
  for (const k of Object.keys(r)) {
    if (!['stream', 'degradedTtlSeconds', 'failClosed', 'reconnect', 'idleTimeoutMs'].includes(k))
      throw new VerifierOptionsError(`revocations.${k} is not an option`)
  }
  if (r.stream !== undefined && typeof r.stream !== 'boolean')
    throw new VerifierOptionsError('revocations.stream must be a boolean')
  if (r.failClosed !== undefined && typeof r.failClosed !== 'boolean')
    throw new VerifierOptionsError('revocations.failClosed must be a boolean')
  const ttlSeconds = positive('cache.ttlSeconds', o.cache?.ttlSeconds, 30)
  const degradedTtlSeconds = positive('revocations.degradedTtlSeconds', r.degradedTtlSeconds, Math.min(5, ttlSeconds))
  if (degradedTtlSeconds > ttlSeconds)
    throw new VerifierOptionsError('revocations.degradedTtlSeconds must not exceed cache.ttlSeconds')
  const minMs = positive('revocations.reconnect.minMs', r.reconnect?.minMs, 100)
  const maxMs = positive('revocations.reconnect.maxMs', r.reconnect?.maxMs, Math.max(5000, minMs))
  if (maxMs < minMs) throw new VerifierOptionsError('revocations.reconnect.maxMs must be at least minMs')
  const revocations: CheckedRevocations = {
    stream: r.stream ?? true,
    degradedTtlSeconds,
    failClosed: r.failClosed ?? false,
    reconnect: { minMs, maxMs },
    idleTimeoutMs: positive('revocations.idleTimeoutMs', r.idleTimeoutMs, 35_000)
  }
  return {
    authorityUrl: url.toString(),
    credential: o.credential,
    tokenPrefix: prefix,
    audience: o.audience ?? null,
    cache: { max: Math.floor(positive('cache.max', o.cache?.max, 10_000)), ttlSeconds },
    queryParameters: query,
    timeoutMs: positive('timeoutMs', o.timeoutMs, 1000),
    connections: Math.floor(positive('connections', o.connections, 16)),
    realm: o.realm ?? 'token-authority',
    retryAfterSeconds: Math.ceil(positive('retryAfterSeconds', o.retryAfterSeconds, 5)),
    forwardClient: checkBoolean('forwardClient', o.forwardClient, false),
    revocations
  }
}

function checkBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new VerifierOptionsError(`${name} must be a boolean`)
  return value
}

/** `Authorization: Bearer <token>` (no g flag: exec keeps no state between calls) */
const BEARER = /^Bearer +(\S+)$/i

const REASONS: Record<string, string> = {
  expired: INACTIVE_TOKEN_DESCRIPTIONS.expired,
  revoked: INACTIVE_TOKEN_DESCRIPTIONS.revoked
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
    expiresAt: b.exp ?? null,
    audience: Array.isArray(b.aud) ? b.aud : [],
    ...(b.act === undefined ? {} : { actor: { subject: b.act.sub, tokenId: b.act.token_id } })
  }
}

async function verifier(app: FastifyInstance, options: VerifierOptions): Promise<void> {
  const o = checkOptions(options)
  const authority = new IntrospectionClient({
    authorityUrl: o.authorityUrl,
    credential: o.credential,
    timeoutMs: o.timeoutMs,
    connections: o.connections
  })
  // Active results only, keyed by a hash of the token (the value itself is not kept), with two
  // indexes for the revocation stream: token id → keys, account id → keys.
  const keysByTokenId = new Map<string, Set<string>>()
  const keysByAccount = new Map<string, Set<string>>()
  const index = (m: Map<string, Set<string>>, id: string, key: string): void => {
    let set = m.get(id)
    if (set === undefined) {
      set = new Set()
      m.set(id, set)
    }
    set.add(key)
  }
  const unindex = (m: Map<string, Set<string>>, id: string, key: string): void => {
    const set = m.get(id)
    if (set === undefined) return
    set.delete(key)
    if (set.size === 0) m.delete(id)
  }
  const cache = new LRUCache<string, CacheEntry>({
    max: o.cache.max,
    // evicted, expired or dropped entries leave the indexes too (they must not outgrow the cache)
    dispose: (entry, key) => {
      unindex(keysByTokenId, entry.auth.tokenId, key)
      unindex(keysByAccount, entry.auth.subject, key)
    }
  })
  /** bumped by every revocation event and cache drop: an answer fetched across one is not cached */
  let generation = 0
  const inflight = new Map<string, Promise<CacheEntry | { inactive: string | undefined }>>()
  const stats: VerifierStats = {
    authorityCalls: () => authority.calls,
    hits: 0,
    misses: 0,
    rejectedOffline: 0,
    evictedByRevocation: 0,
    cacheResets: 0
  }

  const clearCache = (): void => {
    generation++
    cache.clear()
    keysByTokenId.clear()
    keysByAccount.clear()
  }
  const dropKeys = (keys: Set<string> | undefined): void => {
    if (keys === undefined) return
    for (const key of [...keys]) {
      if (cache.delete(key)) stats.evictedByRevocation++
    }
  }

  const events = new EventEmitter()
  let stream: RevocationStream | undefined
  if (o.revocations.stream) {
    stream = new RevocationStream({
      authorityUrl: o.authorityUrl,
      credential: o.credential,
      connectTimeoutMs: Math.max(o.timeoutMs, 1000),
      idleTimeoutMs: o.revocations.idleTimeoutMs,
      reconnect: o.revocations.reconnect
    })
    stream.on('revocation', (e: RevocationMessage) => {
      generation++
      for (const id of e.token_ids) if (typeof id === 'string') dropKeys(keysByTokenId.get(id))
      if (typeof e.account_id === 'string') dropKeys(keysByAccount.get(e.account_id))
      events.emit('revocation', e)
    })
    stream.on('reset', (data: { seq?: number }) => {
      // further behind than the log keeps: anything cached may have been revoked since
      clearCache()
      stats.cacheResets++
      app.log.warn({ seq: data.seq }, 'token verifier: revocation stream reset; cache dropped')
      events.emit('reset', data)
    })
    stream.on('open', ({ resumed }: { resumed: boolean }) => {
      // a fresh stream starts at "now": what was cached before it (while blind) is not covered
      if (!resumed && cache.size > 0) {
        clearCache()
        stats.cacheResets++
      }
      if (!resumed) generation++
    })
    let warned = false
    stream.on('failure', ({ reason }: { reason: string }) => {
      // once per outage at warn, then debug (reconnects are frequent while the authority is down)
      app.log[warned ? 'debug' : 'warn'](
        { reason },
        'token verifier: revocation stream down; reconnecting (cached answers trusted less meanwhile)'
      )
      warned = true
    })
    stream.on('state', (state: StreamState) => {
      if (state === 'live') {
        if (warned) app.log.info('token verifier: revocation stream back')
        warned = false
      }
      events.emit('state', state)
    })
  }
  const revocationStream: RevocationStreamInfo = {
    get state() {
      return stream ? stream.state : 'off'
    },
    get lastEventId() {
      return stream?.lastEventId
    },
    get connects() {
      return stream?.connects ?? 0
    },
    events
  }
  // Ready once the stream is up or has failed once (bounded by timeoutMs): a consumer that starts
  // with the authority up starts with the stream live; one that cannot reach it starts degraded.
  app.addHook('onReady', async () => {
    if (stream === undefined) return
    const s = stream
    const settled = new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(o.timeoutMs, 1000))
      function done(): void {
        clearTimeout(timer)
        s.off('state', onState)
        resolve()
      }
      function onState(state: StreamState): void {
        if (state !== 'connecting') done()
      }
      s.on('state', onState)
    })
    s.start()
    await settled
  })

  app.addHook('onClose', async () => {
    await stream?.close()
    await authority.close()
  })

  function readToken(request: FastifyRequest): string | null {
    const raw = request.raw.rawHeaders
    let headers = 0
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!
      if (name.length === 13 && name.toLowerCase() === 'authorization') headers++
    }
    if (headers > 1) throw new VerifierError('invalid_request', 'more than one Authorization header')
    const header = request.headers.authorization
    // the common case (no query parameters configured) allocates nothing here
    if (o.queryParameters.length === 0) return bearerValue(header)
    const query = (request.query ?? {}) as Record<string, unknown>
    const fromQuery = o.queryParameters.filter((p) => query[p] !== undefined)
    if (fromQuery.length + (header ? 1 : 0) > 1)
      throw new VerifierError('invalid_request', 'give the token one way only')
    if (fromQuery.length === 1) {
      const v = query[fromQuery[0]!]
      if (typeof v !== 'string' || v === '') throw new VerifierError('invalid_request', 'empty token parameter')
      return v
    }
    return bearerValue(header)
  }

  function bearerValue(header: string | undefined): string | null {
    if (!header) return null
    const m = BEARER.exec(header)
    if (!m) throw new VerifierError('invalid_request', 'use an Authorization: Bearer token')
    return m[1]!
  }

  /** the cached answer for this token, if still fresh: no I/O, no await (the hot path) */
  function cached(key: string): CacheEntry | undefined {
    const hit = cache.get(key)
    if (hit === undefined) return undefined
    const now = Date.now()
    if (hit.until <= now) {
      cache.delete(key)
      return undefined
    }
    if (stream !== undefined && stream.state !== 'live') {
      // the stream is down (or not up yet): revocations may be passing us by
      if (o.revocations.failClosed) return undefined
      if (now - hit.fetchedAt > o.revocations.degradedTtlSeconds * 1000) return undefined
    }
    stats.hits++
    return hit
  }

  async function lookup(
    token: string,
    key: string,
    client: ClientInfo | undefined
  ): Promise<CacheEntry | { inactive: string | undefined }> {
    stats.misses++
    const running = inflight.get(key)
    if (running) return running
    const p = (async () => {
      const started = generation
      const askedAt = Date.now()
      const { body, maxAgeSeconds } = await authority.introspect(token, client)
      if (!body.active) return { inactive: body.reason }
      const auth = toAuth(body)
      // Trust it no longer than our TTL, the authority's hint, and the token's own life.
      const ttlMs = Math.min(
        o.cache.ttlSeconds * 1000,
        maxAgeSeconds * 1000,
        auth.expiresAt === null ? Infinity : auth.expiresAt * 1000 - Date.now()
      )
      const now = Date.now()
      const entry = { auth, until: now + ttlMs, fetchedAt: askedAt }
      // a revoke announced while we asked may concern this very answer: use it once, do not keep it
      if (ttlMs > 0 && started === generation) {
        cache.set(key, entry, { ttl: Math.ceil(ttlMs) })
        index(keysByTokenId, auth.tokenId, key)
        index(keysByAccount, auth.subject, key)
      }
      return entry
    })().finally(() => inflight.delete(key))
    inflight.set(key, p)
    return p
  }

  function send(reply: FastifyReply, request: FastifyRequest, err: VerifierError): FastifyReply {
    if (err.code === 'unauthorized') reply.header('www-authenticate', bearerChallenge(o.realm))
    else if (err.code !== 'service_unavailable') {
      reply.header(
        'www-authenticate',
        bearerChallenge(o.realm, { error: err.code, description: err.message, scope: err.extra.scope })
      )
    }
    if (err.extra.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.extra.retryAfterSeconds))
    return reply.code(err.statusCode).send({
      statusCode: err.statusCode,
      code: err.code,
      error: err.reasonPhrase,
      message: err.message,
      requestId: request.id
    })
  }

  function checkScopes(request: FastifyRequest, needed: readonly string[]): VerifierError | null {
    // a route needs a scope or two and a token holds a handful: a linear scan allocates nothing
    const held = request.auth?.scopes ?? []
    if (needed.every((s) => held.includes(s))) return null
    return new VerifierError('insufficient_scope', `this route needs the scope ${needed.join(' ')}`, {
      scope: needed.join(' ')
    })
  }

  app.decorateRequest('auth', null)
  app.decorate('tokenVerifier', { stats, clearCache, revocationStream })
  app.decorate('requireScopes', (...scopes: string[]): onRequestHookHandler => {
    return async function requireScopesHook(request, reply) {
      const err = checkScopes(request, scopes)
      if (err) return send(reply, request, err)
    }
  })

  /** the request's AuthInfo once the token is known active, or the error answer to send */
  function admit(
    request: FastifyRequest,
    scopes: readonly string[] | undefined,
    result: CacheEntry | { inactive: string | undefined }
  ): VerifierError | null {
    if ('inactive' in result) {
      const description = (result.inactive && REASONS[result.inactive]) || 'the access token is not valid'
      return new VerifierError('invalid_token', description)
    }
    // audience binding (RFC 8693 exchanged tokens): a token meant for another service is not valid here
    if (o.audience !== null && !result.auth.audience.includes(o.audience)) {
      return new VerifierError('invalid_token', 'the access token is not meant for this service')
    }
    request.auth = result.auth
    return scopes && scopes.length > 0 ? checkScopes(request, scopes) : null
  }

  // onRequest: the token is checked before any body is read. A callback hook: a cached answer (the
  // common case) is decided synchronously, with no promise per request; a miss asks the authority.
  app.addHook('onRequest', (request, reply, done) => {
    // routeOptions is built afresh on every read (Fastify 5): read it once
    const { config } = request.routeOptions
    if (config.public === true) {
      done()
      return
    }
    let token: string | null
    try {
      token = readToken(request)
    } catch (err) {
      send(reply, request, err as VerifierError)
      return
    }
    if (token === null) {
      send(reply, request, new VerifierError('unauthorized', 'authentication required'))
      return
    }
    // Cache first (only active answers are cached, keyed by the token's SHA-256); the offline shape
    // check runs only on a miss, before any call to the authority.
    const key = hash('sha256', token, 'base64url')
    const hit = cached(key)
    if (hit !== undefined) {
      const refused = admit(request, config.scopes, hit)
      if (refused) send(reply, request, refused)
      else done()
      return
    }
    if (!tokenShapeOk(token, o.tokenPrefix)) {
      stats.rejectedOffline++
      send(reply, request, new VerifierError('invalid_token', 'the access token is not valid'))
      return
    }
    lookup(token, key, o.forwardClient ? clientInfo(request) : undefined).then(
      (result) => {
        const refused = admit(request, config.scopes, result)
        if (refused) send(reply, request, refused)
        else done()
      },
      (err: unknown) => {
        if (!(err instanceof AuthorityUnavailableError)) {
          done(err as Error)
          return
        }
        request.log.warn({ msg_: err.message }, 'token verifier: authority unavailable, failing closed')
        send(
          reply,
          request,
          new VerifierError('service_unavailable', 'cannot verify the token right now', {
            retryAfterSeconds: o.retryAfterSeconds
          })
        )
      }
    )
  })
}

/** Protect a Fastify app (or an encapsulated part of it) with tokens from the authority. */
export const tokenVerifier = fp(verifier, { fastify: '5.x', name: '@token-authority/fastify-verifier' })
export default tokenVerifier
