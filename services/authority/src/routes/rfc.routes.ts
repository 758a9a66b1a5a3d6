import formbody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import Type from 'typebox'
import { INACTIVE_DESCRIPTIONS, requireScopes } from '../auth/authenticate.js'
import { readCredential } from '../auth/credentials.js'
import { normalizeUsername } from '../accounts/account-service.js'
import { seconds } from '../clock.js'
import { AppError, errors } from '../errors.js'
import type { ActiveToken } from '../tokens/token-service.js'
import { actorOf, type RouteDeps } from './context.js'
import { errorResponses } from './schemas.js'

const ClientFields = {
  client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  client_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 }))
}
const TokenRequest = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 4096 }),
    token_type_hint: Type.Optional(Type.String({ maxLength: 64 })),
    ...ClientFields
  },
  { $id: 'TokenRequest', additionalProperties: false }
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
    kind: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: ['admin', 'customer', 'service'], description: 'the owner’s account kind' })),
    token_kind: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: ['pat', 'lgn', 'svc'] })),
    permissions: Type.Optional(Type.Array(Type.String(), { description: 'token scopes ∩ the owner’s current permissions' })),
    reason: Type.Optional(
      Type.Unsafe<string>({
        type: 'string',
        enum: ['expired', 'revoked', 'unknown'],
        description: 'why the token is inactive; only for callers holding tokens:introspect:reason'
      })
    )
  },
  { $id: 'Introspection', additionalProperties: false }
)

const fishing = (wait: number) =>
  new AppError('too_many_requests', 'too many introspections of unknown tokens from this caller', { retryAfterSeconds: wait })

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
  const { tokens, config } = deps
  await app.register(formbody, { bodyLimit: config.BODY_LIMIT_BYTES })
  app.addSchema(TokenRequest)
  app.addSchema(IntrospectionSchema)

  async function verifyClient(username: string | null, secret: string): Promise<ActiveToken> {
    const result = await tokens.verifyCaller(secret)
    if (!result.active || (username !== null && normalizeUsername(username) !== result.token.username)) {
      throw new AppError('invalid_client', 'client authentication failed')
    }
    return result.token
  }

  /** the Bearer value the caller presented, for RFC 7009 self-revocation */
  const callerToken = new WeakMap<FastifyRequest, string>()

  // Header credentials are checked before the body is read; form-field credentials after.
  app.addHook('onRequest', async (request) => {
    const cred = readCredential(request, config.ALLOW_QUERY_TOKENS)
    if (cred.scheme === 'bearer') {
      const result = await tokens.verifyCaller(cred.token)
      if (!result.active) throw errors.invalidToken(INACTIVE_DESCRIPTIONS[result.reason])
      request.principal = result.token
      callerToken.set(request, cred.token)
    } else if (cred.scheme === 'basic') {
      request.principal = await verifyClient(cred.username, cred.secret)
    }
  })
  app.addHook('preHandler', async (request) => {
    const body = request.body as { client_id?: string; client_secret?: string } | undefined
    if (request.principal === null) {
      if (body?.client_id === undefined || body.client_secret === undefined) throw errors.unauthorized()
      request.principal = await verifyClient(body.client_id, body.client_secret)
    } else if (body?.client_secret !== undefined) {
      throw new AppError('invalid_request', 'authenticate one way only')
    }
  })
  app.post(
    '/introspect',
    {
      schema: {
        operationId: 'introspectToken',
        tags: ['rfc'],
        summary: 'RFC 7662 token introspection (service callers with tokens:introspect)',
        consumes: CONSUMES,
        security: CALLER_SECURITY,
        body: Type.Ref('TokenRequest'),
        response: { 200: Type.Ref('Introspection'), ...errorResponses(...RFC_ERRORS) }
      }
    },
    async (request, reply) => {
      const caller = request.principal!
      requireScopes(caller, ['tokens:introspect'])
      const { token } = request.body as Type.Static<typeof TokenRequest>
      const blocked = deps.fishing.blockedFor(caller.id)
      if (blocked !== null) throw fishing(blocked)
      const result = await tokens.verify(token)
      if (!result.active && result.reason === 'unknown') {
        const wait = await deps.fishing.recordUnknown(caller.id)
        if (wait !== null) throw fishing(wait)
      }
      deps.metrics.introspections.inc(result.active ? { result: 'active', reason: '' } : { result: 'inactive', reason: result.reason })
      if (!result.active) {
        reply.header('cache-control', 'no-store')
        return caller.scopes.includes('tokens:introspect:reason') ? { active: false, reason: result.reason } : { active: false }
      }
      const t = result.token
      // A cache hint for verifiers: never longer than our own cache TTL or the token's life.
      const left = t.exp === null ? Infinity : t.exp - seconds(deps.clock.now())
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
        permissions: t.scopes
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
