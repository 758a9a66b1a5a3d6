import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import type { Realm } from '../accounts/account-service.js'
import { USERNAME_MAX_LENGTH } from '../accounts/username.js'
import { authenticateSession } from '../auth/authenticate.js'
import {
  clearSessionCookies,
  crossSiteProblem,
  csrfProblem,
  readCookie,
  SESSION_COOKIE,
  setSessionCookies
} from '../auth/console-cookies.js'
import type { ConsoleSessions } from '../auth/console-session.js'
import { err } from '../errors.js'
import type { ActiveToken } from '../tokens/introspection.js'
import type { RouteDeps } from './context.js'
import { AccountId, AccountKind, errorResponses, EXAMPLE, Timestamp } from './schemas.js'

const SignInBody = Type.Object(
  {
    realm: Type.Unsafe<Realm>({ type: 'string', enum: ['admin', 'customer'] }),
    username: Type.String({ minLength: 1, maxLength: USERNAME_MAX_LENGTH }),
    password: Type.String({ minLength: 1, maxLength: 1024 })
  },
  {
    additionalProperties: false,
    examples: [{ realm: 'admin', username: 'jane.doe', password: EXAMPLE.password }]
  }
)

const ConsoleSessionSchema = Type.Object(
  {
    account: Type.Object(
      { id: AccountId, username: Type.String(), kind: AccountKind, permissions: Type.Array(Type.String()) },
      { additionalProperties: false }
    ),
    expires_at: { ...Timestamp, description: 'when the session ends whatever the activity (its lifetime)' },
    idle_timeout_seconds: Type.Integer({
      description: 'the session ends after this long without an authenticated request'
    })
  },
  { $id: 'ConsoleSession', additionalProperties: false }
)

/** the name of a console sign-in's login token in token lists (a plain login's is "login") */
export const CONSOLE_TOKEN_NAME = 'console session'

const COOKIE_SECURITY = [{ cookieAuth: [] }]
const CSRF_NOTE =
  'Cookie-authenticated: the request must carry `X-Requested-By: token-console`, no `Origin` other than ' +
  'the authority’s own, and `Sec-Fetch-Site` absent or `same-origin` (otherwise 403 `csrf_rejected`).'

export interface SessionRouteDeps extends RouteDeps {
  sessions: ConsoleSessions
}

/**
 * The console's sign-in, session check and sign-out (docs/security-model.md, "Console sessions").
 * The login token lives in an HttpOnly cookie only: it never appears in a body.
 */
export const sessionRoutes: FastifyPluginAsyncTypebox<SessionRouteDeps> = async (app, deps) => {
  const { sessions, accounts } = deps
  app.addSchema(ConsoleSessionSchema)
  app.addHook('onRequest', async (_request, reply) => {
    void reply.header('cache-control', 'no-store')
  })

  const view = async (token: Pick<ActiveToken, 'accountId' | 'exp'>) => {
    const account = await accounts.get(token.accountId)
    return {
      account: { id: account.id, username: account.username, kind: account.kind, permissions: account.permissions },
      expires_at: new Date((token.exp ?? 0) * 1000).toISOString(),
      idle_timeout_seconds: sessions.idleSeconds
    }
  }

  app.post(
    '/v1/auth/session',
    {
      // Sign-in CSRF (a victim signed in as the attacker): refused before the body is read when the
      // browser says the request is cross-site; a cross-site form cannot send JSON at all (415).
      onRequest: async (request) => {
        const problem = crossSiteProblem(request)
        if (problem !== null) throw err.csrf_rejected(problem)
      },
      schema: {
        operationId: 'signIn',
        tags: ['auth'],
        summary: 'Console sign-in: username and password → an HttpOnly session cookie',
        description:
          'Issues a login token of the account exactly as `POST /v1/auth/{realm}/token` does (same throttle, same ' +
          'errors) but lasting `CONSOLE_SESSION_TTL_SECONDS`, and sets it as the `ta_session` cookie ' +
          '(`__Host-ta_session` over TLS; `HttpOnly`, `SameSite=Strict`, `Path=/`, `Secure` over TLS) with a ' +
          'sealed activity cookie (`ta_activity`) for the idle timeout. The token value is never in the body. ' +
          'Refused with 403 `csrf_rejected` when `Origin` or `Sec-Fetch-Site` say the request is cross-site.',
        security: [],
        body: SignInBody,
        response: {
          200: {
            ...Type.Ref('ConsoleSession'),
            description: 'Signed in; `Set-Cookie` carries the session and its activity seal'
          },
          ...errorResponses(400, 401, 403, 413, 415, 429, 503)
        }
      }
    },
    async (request, reply) => {
      const { realm, username, password } = request.body
      const ttl = sessions.ttlSeconds
      const issued = await accounts.login(realm, username, password, request.ip, {
        ttlSeconds: ttl,
        tokenName: CONSOLE_TOKEN_NAME
      })
      // Signing in again ends the session this browser held before (best effort: it expires anyway).
      const previous = readCookie(request, SESSION_COOKIE)
      if (previous !== undefined) {
        await sessions.endByValue(previous, request.ip).catch((cause: unknown) => {
          request.log.warn({ err: cause }, 'could not end the previous console session')
        })
      }
      setSessionCookies(request, reply, {
        session: issued.value,
        activity: sessions.seal(issued.token.id),
        maxAgeSeconds: ttl
      })
      return view({ accountId: issued.token.accountId, exp: (issued.token.expiresAt ?? 0) / 1000 })
    }
  )

  app.get(
    '/v1/auth/session',
    {
      schema: {
        operationId: 'getSession',
        tags: ['auth'],
        summary: 'The console session: its account, when it ends, its idle timeout',
        description: `${CSRF_NOTE} 401 \`session_expired\` when the session ended (idle, past its lifetime, signed out or revoked; the cookies are cleared), \`unauthorized\` when there is no session cookie. Counts as activity.`,
        security: COOKIE_SECURITY,
        response: { 200: Type.Ref('ConsoleSession'), ...errorResponses(401, 403, 503) }
      }
    },
    async (request, reply) => {
      const value = readCookie(request, SESSION_COOKIE)
      if (value === undefined) throw err.unauthorized('no console session: sign in')
      return view(await authenticateSession(request, reply, sessions, value))
    }
  )

  app.delete(
    '/v1/auth/session',
    {
      schema: {
        operationId: 'signOut',
        tags: ['auth'],
        summary: 'Console sign-out: revokes the session’s login token and clears the cookies',
        description: `${CSRF_NOTE} Answers 204 whether or not a session was live (the cookie is optional).`,
        security: [{ cookieAuth: [] }, {}],
        response: {
          204: Type.Null({ description: 'Signed out; the cookies are cleared' }),
          ...errorResponses(403, 503)
        }
      }
    },
    async (request, reply) => {
      const value = readCookie(request, SESSION_COOKIE)
      if (value !== undefined) {
        const problem = csrfProblem(request)
        if (problem !== null) throw err.csrf_rejected(problem)
        await sessions.endByValue(value, request.ip)
      }
      clearSessionCookies(request, reply)
      return reply.code(204).send(null)
    }
  )
}
