import formbody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import Type from 'typebox'
import { normalizeUsername } from '../accounts/account-service.js'
import { readCredential } from '../auth/credentials.js'
import { seconds } from '../clock.js'
import { AppError, err } from '../errors.js'
import { missingFrom } from '../scopes/catalogue.js'
import type { ActiveToken } from '../tokens/introspection.js'
import type { RouteDeps } from './context.js'
import { EXAMPLE } from './schemas.js'

/**
 * RFC 8693 token exchange at `POST /token`: a PAT or service token (the subject token) is
 * exchanged for a short-lived token (kind `xch`) that is narrower (`scope` ⊆ the subject's) and
 * bound to the audiences it will be sent to, so the long-lived secret is never forwarded
 * downstream. The subject token proves possession; client authentication is optional (RFC 8693
 * §2.1 allows either): when given, it must be valid and name the subject token's account.
 * Errors are RFC 6749 §5.2 bodies (`error`, `error_description`), always `Cache-Control: no-store`.
 */

export const GRANT_TYPE_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
export const TOKEN_TYPE_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token'
/** audiences per exchanged token */
export const MAX_AUDIENCES = 5
/** an audience: printable ASCII without spaces (a service name or an absolute URI) */
const AUDIENCE_RE = /^[\x21-\x7e]{1,256}$/

const OAUTH_ERRORS = [
  'invalid_request',
  'invalid_client',
  'invalid_scope',
  'invalid_target',
  'unsupported_grant_type',
  'temporarily_unavailable',
  'server_error'
] as const
type OAuthErrorCode = (typeof OAUTH_ERRORS)[number]

const OAuthErrorSchema = Type.Object(
  {
    error: Type.Unsafe<OAuthErrorCode>({ type: 'string', enum: [...OAUTH_ERRORS] }),
    error_description: Type.String()
  },
  {
    $id: 'OAuthError',
    title: 'OAuthError',
    additionalProperties: false,
    description: 'RFC 6749 §5.2 error response (RFC 8693 §2.2.2)'
  }
)

// Every field optional and text (or a list of text for the ones RFC 8693 lets repeat): the handler
// checks them in the order RFC 6749 §5.2 reports problems (grant_type first). Unknown parameters
// are ignored (RFC 6749 §3.2); a parameter given twice is a list, and invalid_request.
const Text = (maxLength: number, examples: string[]) => Type.Optional(Type.String({ maxLength, examples }))
const TextOrList = (maxLength: number, examples: string[]) =>
  Type.Optional(
    Type.Union([Type.String({ maxLength }), Type.Array(Type.String({ maxLength }), { maxItems: MAX_AUDIENCES })], {
      examples
    })
  )
const ExchangeRequest = Type.Object(
  {
    grant_type: Text(128, [GRANT_TYPE_TOKEN_EXCHANGE]),
    subject_token: Text(4096, [EXAMPLE.serviceTokenValue]),
    subject_token_type: Text(128, [TOKEN_TYPE_ACCESS_TOKEN]),
    requested_token_type: Text(128, [TOKEN_TYPE_ACCESS_TOKEN]),
    scope: Text(2048, ['orders:read']),
    audience: TextOrList(256, ['orders-api']),
    resource: TextOrList(256, ['https://orders.example.com/'])
  },
  {
    $id: 'TokenExchangeRequest',
    additionalProperties: true,
    examples: [
      {
        grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
        subject_token: EXAMPLE.serviceTokenValue,
        subject_token_type: TOKEN_TYPE_ACCESS_TOKEN,
        audience: 'orders-api',
        scope: 'orders:read'
      }
    ]
  }
)
/**
 * Also read, though not in the documented schema (Swagger UI would send made-up values for them):
 * `client_id` + `client_secret` (client_secret_post) and `actor_token` / `actor_token_type`
 * (refused: the subject token's holder is the actor).
 */
type ExchangeBody = Type.Static<typeof ExchangeRequest> & {
  client_id?: unknown
  client_secret?: unknown
  actor_token?: unknown
  actor_token_type?: unknown
}

/** an undocumented text field: absent, or one string (given twice it is a list: invalid_request) */
function textField(body: ExchangeBody, name: 'client_id' | 'client_secret'): string | undefined {
  const v = body[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string' || v === '' || v.length > 4096) throw err.invalid_request(`${name} must be one value`)
  return v
}

const ExchangeResponse = Type.Object(
  {
    access_token: Type.String({ description: 'the exchanged token (kind xch); shown once' }),
    issued_token_type: Type.Literal(TOKEN_TYPE_ACCESS_TOKEN),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer({ description: 'seconds' }),
    scope: Type.String({ description: 'space-separated, ⊆ the subject token’s effective scopes' })
  },
  { $id: 'TokenExchangeResponse', additionalProperties: false }
)

const oauthError = (status: number, error: OAuthErrorCode) =>
  Type.Unsafe<Type.Static<typeof OAuthErrorSchema>>({
    ...Type.Ref('OAuthError'),
    description: `${status}: \`${error}\`…`
  })

/** the catalogue's codes as RFC 6749 §5.2 `error` values (every other 4xx is invalid_request) */
function toOAuth(error: FastifyError | AppError): { status: number; error: OAuthErrorCode; description: string } {
  if (error instanceof AppError) {
    switch (error.code) {
      case 'invalid_client':
        return { status: 401, error: 'invalid_client', description: error.message }
      case 'invalid_scope':
      case 'invalid_target':
      case 'unsupported_grant_type':
        return { status: 400, error: error.code, description: error.message }
      case 'unknown_scope':
        return { status: 400, error: 'invalid_scope', description: error.message }
      case 'too_many_requests':
        return { status: 429, error: 'invalid_request', description: error.message }
      default:
        if (error.statusCode >= 500) {
          return { status: 503, error: 'temporarily_unavailable', description: 'try again shortly' }
        }
        return { status: 400, error: 'invalid_request', description: error.message }
    }
  }
  const status = error.statusCode ?? 500
  if (error.validation) return { status: 400, error: 'invalid_request', description: error.message }
  if (status === 413) return { status: 400, error: 'invalid_request', description: 'the request body is too large' }
  if (status === 415)
    return { status: 400, error: 'invalid_request', description: 'send application/x-www-form-urlencoded' }
  if (status >= 400 && status < 500) return { status: 400, error: 'invalid_request', description: 'malformed request' }
  return { status: 500, error: 'server_error', description: 'internal error' }
}

function list(v: string | string[] | undefined): string[] {
  if (v === undefined) return []
  return (Array.isArray(v) ? v : [v]).filter((s) => s !== '')
}

export const tokenExchangeRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  const { introspection, tokens, config, clock, catalogue } = deps
  await app.register(formbody, { bodyLimit: config.BODY_LIMIT_BYTES })
  app.addSchema(OAuthErrorSchema)
  app.addSchema(ExchangeRequest)
  app.addSchema(ExchangeResponse)
  const allowedAudiences =
    config.TOKEN_EXCHANGE_AUDIENCES.trim() === ''
      ? null
      : new Set(
          config.TOKEN_EXCHANGE_AUDIENCES.split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        )

  // RFC 6749 §5.2 bodies for every refusal of this context, never cached (§5.1).
  app.setErrorHandler((error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) => {
    const o = toOAuth(error)
    if (o.status >= 500) request.log.error({ err: error }, 'token exchange failed')
    if (o.error === 'invalid_client') reply.header('www-authenticate', `Basic realm="${config.AUTH_REALM}"`)
    if (error instanceof AppError && error.opts.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(error.opts.retryAfterSeconds))
    return reply
      .code(o.status)
      .header('cache-control', 'no-store')
      .header('pragma', 'no-cache')
      .send({ error: o.error, error_description: o.description })
  })

  // RFC 6749 §3.2 / RFC 8693 §2.1: form-encoded only; refused before any body is read
  app.addHook('onRequest', async (request) => {
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/x-www-form-urlencoded') throw err.unsupported_media_type()
  })

  /** Optional client authentication: HTTP Basic or client_id + client_secret (RFC 6749 §2.3.1), never both. */
  async function client(request: FastifyRequest, body: ExchangeBody): Promise<{ username: string } | null> {
    const cred = readCredential(request, false)
    if (cred.scheme === 'bearer') throw err.invalid_client('authenticate the client with HTTP Basic, or not at all')
    const clientId = textField(body, 'client_id')
    const clientSecret = textField(body, 'client_secret')
    let username: string | null = null
    let secret: string | null = null
    if (cred.scheme === 'basic') {
      if (clientSecret !== undefined) throw err.invalid_request('authenticate one way only')
      username = cred.username
      secret = cred.secret
    } else if (clientId !== undefined) {
      username = clientId
      secret = clientSecret ?? null
    } else if (clientSecret !== undefined) throw err.invalid_request('client_secret without client_id')
    if (username === null) return null
    const name = normalizeUsername(username)
    if (secret !== null) {
      const verified = await introspection.verifyCaller(secret)
      // an exchanged token is no client credential (auth/authenticate.ts refuseExchanged)
      if (!verified.active || verified.token.username !== name || verified.token.tokenKind === 'xch')
        throw err.invalid_client()
    }
    return { username: name }
  }

  app.post(
    '/token',
    {
      schema: {
        operationId: 'exchangeToken',
        tags: ['rfc'],
        summary: 'RFC 8693 token exchange: a PAT or service token → a short-lived, narrower, audience-bound token',
        description:
          'The subject token proves possession; client authentication (HTTP Basic, or `client_id` + `client_secret` form fields: the service account’s username and one of its tokens) is optional and, when given, must name the subject token’s account. `audience` (or `resource`, repeatable, at most 5 in all) is required. `actor_token` is not supported. Errors are RFC 6749 §5.2 bodies with `Cache-Control: no-store`.',
        consumes: ['application/x-www-form-urlencoded'],
        // client authentication is optional (HTTP Basic, or client_id + client_secret fields)
        security: [],
        body: Type.Ref('TokenExchangeRequest'),
        response: {
          200: Type.Ref('TokenExchangeResponse'),
          400: oauthError(400, 'invalid_request'),
          401: oauthError(401, 'invalid_client'),
          429: oauthError(429, 'invalid_request'),
          500: oauthError(500, 'server_error'),
          503: oauthError(503, 'temporarily_unavailable')
        }
      }
    },
    async (request, reply) => {
      const body = request.body as ExchangeBody
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      if (body.grant_type === undefined) throw err.invalid_request('grant_type is required')
      if (body.grant_type !== GRANT_TYPE_TOKEN_EXCHANGE) throw err.unsupported_grant_type()
      const identified = await client(request, body)
      if (body.subject_token === undefined || body.subject_token === '')
        throw err.invalid_request('subject_token is required')
      if (body.subject_token_type !== TOKEN_TYPE_ACCESS_TOKEN)
        throw err.invalid_request(`subject_token_type must be ${TOKEN_TYPE_ACCESS_TOKEN}`)
      if (body.requested_token_type !== undefined && body.requested_token_type !== TOKEN_TYPE_ACCESS_TOKEN)
        throw err.invalid_request(`requested_token_type: only ${TOKEN_TYPE_ACCESS_TOKEN} is issued`)
      if (body.actor_token !== undefined || body.actor_token_type !== undefined)
        throw err.invalid_request('actor_token is not supported: the subject token’s holder is the actor')

      // RFC 8693 §2.2.2: an invalid or unacceptable subject token is invalid_request.
      const verified = await introspection.verify(body.subject_token)
      if (!verified.active) throw err.invalid_request('the subject_token is not active')
      const subject: ActiveToken = verified.token
      if (subject.tokenKind !== 'pat' && subject.tokenKind !== 'svc')
        throw err.invalid_request('only personal access tokens and service tokens can be exchanged')
      if (identified !== null && identified.username !== subject.username)
        throw err.invalid_request('the subject_token is not the client’s')

      const audience = [...new Set([...list(body.audience), ...list(body.resource)])]
      if (audience.length === 0)
        throw err.invalid_request('audience is required: an exchanged token is bound to where it is sent')
      if (audience.length > MAX_AUDIENCES) throw err.invalid_target(`at most ${MAX_AUDIENCES} audiences`)
      for (const a of audience) {
        if (!AUDIENCE_RE.test(a)) throw err.invalid_target('an audience is printable ASCII without spaces')
        if (allowedAudiences !== null && !allowedAudiences.has(a))
          throw err.invalid_target('an audience is not one this authority issues tokens for')
      }

      const asked = body.scope === '' ? undefined : body.scope
      const scopes =
        asked === undefined ? [...subject.scopes] : [...new Set(asked.split(' ').filter((s) => s !== ''))].sort()
      if (scopes.length === 0) throw err.invalid_scope('the subject token has no scope left to grant')
      catalogue.assertKnown(scopes)
      const wider = missingFrom(scopes, subject.scopes)
      if (wider.length > 0) throw err.invalid_scope(`the subject token does not hold ${wider.join(', ')}`)

      const nowSec = seconds(clock.now())
      // never past the subject's own end: its expiry, or the end of its rotation overlap
      const exp = Math.min(
        nowSec + config.TOKEN_EXCHANGE_TTL_SECONDS,
        subject.exp ?? Infinity,
        subject.rotationEndsAt ?? Infinity
      )
      if (exp <= nowSec) throw err.invalid_request('the subject_token is not active')
      // the actor is the subject token's holder (RFC 8693 `act`), from the caller's address
      const actor = { accountId: subject.accountId, tokenId: subject.id, ip: request.ip }
      const issued = await tokens.exchange(subject, { scopes, audience, expiresAt: exp }, actor)
      return {
        access_token: issued.value,
        issued_token_type: TOKEN_TYPE_ACCESS_TOKEN,
        token_type: 'Bearer' as const,
        expires_in: exp - nowSec,
        scope: scopes.join(' ')
      }
    }
  )
}
