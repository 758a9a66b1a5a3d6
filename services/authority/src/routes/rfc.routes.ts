import formbody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import Type from 'typebox'
import { INACTIVE_DESCRIPTIONS, recordOwnUse, refuseExchanged, requireScopes } from '../auth/authenticate.js'
import { readCredential } from '../auth/credentials.js'
import { normalizeUsername } from '../accounts/account-service.js'
import { seconds } from '../clock.js'
import { err } from '../errors.js'
import type { ActiveToken, Verification } from '../tokens/introspection.js'
import { actorOf, type RouteDeps } from './context.js'
import { errorResponses, EXAMPLE, SAFE_TEXT_PATTERN } from './schemas.js'

/** an IP address literal's characters (no zone id): what `client_address` may hold */
const CLIENT_ADDRESS_PATTERN = '^[0-9A-Fa-f:.]+$'

// Property examples too: Swagger UI fills a form body field by field from them (and sends each).
const ClientFields = {
  client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, examples: ['orders-service'] })),
  client_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, examples: [EXAMPLE.serviceTokenValue] }))
}
const TokenRequest = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 4096, examples: [EXAMPLE.tokenValue] }),
    token_type_hint: Type.Optional(Type.String({ maxLength: 64, examples: ['access_token'] })),
    ...ClientFields
  },
  {
    $id: 'TokenRequest',
    additionalProperties: false,
    examples: [{ token: EXAMPLE.tokenValue, token_type_hint: 'access_token' }]
  }
)

/**
 * RFC 7662 allows extension parameters (§2.1): the end client's address and user agent, which a
 * service that introspects on a client's behalf may forward so the token's last use shows them.
 */
const IntrospectionRequest = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 4096, examples: [EXAMPLE.tokenValue] }),
    token_type_hint: Type.Optional(Type.String({ maxLength: 64, examples: ['access_token'] })),
    client_address: Type.Optional(
      Type.String({
        minLength: 2,
        maxLength: 45,
        pattern: CLIENT_ADDRESS_PATTERN,
        description:
          'extension: the IPv4 or IPv6 address of the client that presented the token to the caller (shown as its last use)',
        examples: ['203.0.113.7']
      })
    ),
    client_user_agent: Type.Optional(
      Type.String({
        maxLength: 512,
        pattern: SAFE_TEXT_PATTERN,
        description: 'extension: that client’s User-Agent (stored cut to 256 characters)',
        examples: ['orders-cli/2.3']
      })
    ),
    ...ClientFields
  },
  {
    $id: 'IntrospectionRequest',
    additionalProperties: false,
    examples: [{ token: EXAMPLE.tokenValue, token_type_hint: 'access_token' }]
  }
)

const IntrospectionSchema = Type.Object(
  {
    active: Type.Boolean(),
    scope: Type.Optional(Type.String()),
    client_id: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    token_type: Type.Optional(Type.String()),
    exp: Type.Optional(Type.Integer()),
    iat: Type.Optional(Type.Integer()),
    sub: Type.Optional(Type.String()),
    iss: Type.Optional(Type.String()),
    jti: Type.Optional(Type.String()),
    kind: Type.Optional(
      Type.Unsafe<string>({
        type: 'string',
        enum: ['admin', 'customer', 'service'],
        description: 'the owner’s account kind'
      })
    ),
    token_kind: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: ['pat', 'lgn', 'svc', 'xch'] })),
    aud: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'exchanged tokens (RFC 8693): the audiences the token is bound to (a consumer not among them refuses it)'
      })
    ),
    act: Type.Optional(
      Type.Object(
        {
          sub: Type.String({ description: 'the account that exchanged the subject token' }),
          token_id: Type.String({ description: 'the subject token’s id' })
        },
        { additionalProperties: false, description: 'exchanged tokens: who exchanged it (RFC 8693 §4.1)' }
      )
    ),
    permissions: Type.Optional(
      Type.Array(Type.String(), { description: 'token scopes ∩ the owner’s current permissions' })
    ),
    reason: Type.Optional(
      Type.Unsafe<string>({
        type: 'string',
        enum: ['expired', 'revoked', 'unknown', 'reuse_detected'],
        description:
          'why the token is inactive; only for callers holding tokens:introspect:reason. reuse_detected: revoked with its rotation family because a value a rotation had stopped was presented again'
      })
    ),
    rotation: Type.Optional(
      Type.Unsafe<string>({
        type: 'string',
        enum: ['superseded'],
        description:
          'the token was regenerated with an overlap: this value works until rotation_ends_at, or until its successor is first used'
      })
    ),
    rotation_ends_at: Type.Optional(Type.Integer({ description: 'when the overlap ends at the latest (unix seconds)' }))
  },
  { $id: 'Introspection', additionalProperties: false }
)

const fishing = (wait: number) =>
  err.too_many_requests('too many introspections of unknown tokens from this caller', { retryAfterSeconds: wait })

const CONSUMES = ['application/x-www-form-urlencoded', 'application/json']
/** Bearer service token or HTTP Basic; client_id + client_secret body fields also work (RFC 6749 §2.3.1). */
const CALLER_SECURITY: { [scheme: string]: string[] }[] = [{ bearer: [] }, { basic: [] }]
const RFC_ERRORS = [400, 401, 403, 413, 415, 429, 503] as const

/**
 * RFC 7662 introspection and RFC 7009 revocation. Callers authenticate the ways gateways and
 * OAuth libraries do: Bearer service token, HTTP Basic (client_id = service account username,
 * client_secret = one of its tokens), or client_id + client_secret form fields.
 */
export const rfcRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  const { introspection, tokens, config } = deps
  await app.register(formbody, { bodyLimit: config.BODY_LIMIT_BYTES })
  app.addSchema(TokenRequest)
  app.addSchema(IntrospectionRequest)
  app.addSchema(IntrospectionSchema)

  async function verifyClient(username: string | null, secret: string): Promise<ActiveToken> {
    const result = await introspection.verifyCaller(secret)
    if (!result.active || (username !== null && normalizeUsername(username) !== result.token.username)) {
      throw err.invalid_client()
    }
    refuseExchanged(result.token)
    return result.token
  }

  /** the Bearer value the caller presented, for RFC 7009 self-revocation */
  const callerToken = new WeakMap<FastifyRequest, string>()

  /** the principal from a verified Bearer credential, or the 401 for an inactive one */
  const bearerPrincipal = (request: FastifyRequest, token: string, result: Verification) => {
    if (!result.active) throw err.invalid_token(INACTIVE_DESCRIPTIONS[result.reason])
    refuseExchanged(result.token)
    request.principal = result.token
    callerToken.set(request, token)
  }

  // Header credentials are checked before the body is read; form-field credentials after.
  // Callback hooks: a reused caller credential (every call of a gateway) finishes them synchronously,
  // with no promise per hook.
  app.addHook('onRequest', (request, _reply, done) => {
    let pending: Promise<unknown>
    try {
      const cred = readCredential(request, config.ALLOW_QUERY_TOKENS)
      if (cred.scheme === 'bearer') {
        const now = introspection.verifyCallerNow(cred.token)
        if (!(now instanceof Promise)) {
          bearerPrincipal(request, cred.token, now)
          done()
          return
        }
        pending = now.then((result) => bearerPrincipal(request, cred.token, result))
      } else if (cred.scheme === 'basic') {
        pending = verifyClient(cred.username, cred.secret).then((token) => {
          request.principal = token
        })
      } else {
        done()
        return
      }
    } catch (e) {
      done(e as Error)
      return
    }
    pending.then(
      () => done(),
      (e: unknown) => done(e as Error)
    )
  })
  app.addHook('preHandler', (request, _reply, done) => {
    const body = request.body as { client_id?: string; client_secret?: string } | undefined
    if (request.principal === null) {
      if (body?.client_id === undefined || body.client_secret === undefined) {
        done(err.unauthorized())
        return
      }
      verifyClient(body.client_id, body.client_secret).then(
        (token) => {
          request.principal = token
          // the caller's own credential was used on the authority's API
          recordOwnUse(deps.lastUsed, request, token)
          done()
        },
        (e: unknown) => done(e as Error)
      )
    } else if (body?.client_secret !== undefined) {
      done(err.invalid_request('authenticate one way only'))
    } else {
      // the caller's own credential was used on the authority's API
      recordOwnUse(deps.lastUsed, request, request.principal)
      done()
    }
  })
  // outcome counters bound once (a labelled inc() hashes its labels on every call)
  const counted = {
    active: deps.metrics.introspections.labels({ result: 'active', reason: '' }),
    expired: deps.metrics.introspections.labels({ result: 'inactive', reason: 'expired' }),
    revoked: deps.metrics.introspections.labels({ result: 'inactive', reason: 'revoked' }),
    unknown: deps.metrics.introspections.labels({ result: 'inactive', reason: 'unknown' }),
    reuse_detected: deps.metrics.introspections.labels({ result: 'inactive', reason: 'reuse_detected' })
  }
  app.post(
    '/introspect',
    {
      schema: {
        operationId: 'introspectToken',
        tags: ['rfc'],
        summary: 'RFC 7662 token introspection (service callers with tokens:introspect)',
        consumes: CONSUMES,
        security: CALLER_SECURITY,
        body: Type.Ref('IntrospectionRequest'),
        response: { 200: Type.Ref('Introspection'), ...errorResponses(...RFC_ERRORS) }
      }
    },
    async (request, reply) => {
      const caller = request.principal!
      requireScopes(caller, ['tokens:introspect'])
      const body = request.body as Type.Static<typeof IntrospectionRequest>
      const { token } = body
      const blocked = deps.fishing.blockedFor(caller.id)
      if (blocked !== null) throw fishing(blocked)
      const result = await introspection.verify(token)
      if (!result.active && result.reason === 'unknown') {
        const wait = deps.fishing.recordUnknown(caller.id)
        if (wait !== null) throw fishing(wait)
      }
      counted[result.active ? 'active' : result.reason].inc()
      if (!result.active) {
        reply.header('cache-control', 'no-store')
        return caller.scopes.includes('tokens:introspect:reason')
          ? { active: false, reason: result.reason }
          : { active: false }
      }
      const t = result.token
      // last use: through this caller, from the client it names (if it forwards one); no I/O here
      deps.lastUsed.record(t.id, body.client_address, body.client_user_agent, caller.accountId)
      // A cache hint for verifiers: never longer than our own cache TTL or the token's life.
      const until = Math.min(t.exp ?? Infinity, t.rotationEndsAt ?? Infinity)
      const left = until - seconds(deps.clock.now())
      // An answer that came from our cache has already aged: the hint covers only what is left.
      const maxAge = Math.max(0, Math.min(config.CACHE_TTL_SECONDS - result.ageSeconds, left))
      reply.header('cache-control', `private, max-age=${maxAge}`)
      return {
        active: true,
        scope: t.scopes.join(' '),
        client_id: t.accountId,
        username: t.username,
        token_type: 'Bearer',
        ...(t.exp === null ? {} : { exp: t.exp }),
        iat: t.iat,
        sub: t.accountId,
        iss: config.TOKEN_ISSUER,
        jti: t.id,
        kind: t.accountKind,
        token_kind: t.tokenKind,
        permissions: t.scopes,
        ...(t.rotationEndsAt === undefined ? {} : { rotation: 'superseded', rotation_ends_at: t.rotationEndsAt }),
        ...(t.aud === undefined ? {} : { aud: t.aud }),
        ...(t.act === undefined ? {} : { act: t.act })
      }
    }
  )

  app.post(
    '/revoke',
    {
      schema: {
        operationId: 'revokeTokenByValue',
        tags: ['rfc'],
        summary: 'RFC 7009 revocation: a service with tokens:revoke, or the token itself as the Bearer credential',
        consumes: CONSUMES,
        security: CALLER_SECURITY,
        body: Type.Ref('TokenRequest'),
        response: { 200: Type.Object({}, { additionalProperties: false }), ...errorResponses(...RFC_ERRORS) }
      }
    },
    async (request) => {
      const caller = request.principal!
      const { token } = request.body as Type.Static<typeof TokenRequest>
      const selfRevoke = callerToken.get(request) === token
      if (!selfRevoke) requireScopes(caller, ['tokens:revoke'])
      // RFC 7009 §2.2: 200 whether or not the token was valid, so the answer reveals nothing.
      await tokens.revokeByValue(token, actorOf(request), null)
      return {}
    }
  )
}
