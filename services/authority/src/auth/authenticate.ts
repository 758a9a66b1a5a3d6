import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { INACTIVE_TOKEN_DESCRIPTIONS } from '../../../verifier/src/bearer.js'
import { err } from '../errors.js'
import type { ActiveToken, InactiveReason, Introspection } from '../tokens/introspection.js'
import type { LastUsedRecorder } from '../tokens/last-used.js'
import { seconds } from '../clock.js'
import {
  ACTIVITY_COOKIE,
  clearSessionCookies,
  csrfProblem,
  readCookie,
  SESSION_COOKIE,
  setSessionCookies
} from './console-cookies.js'
import type { ConsoleSessions } from './console-session.js'
import { badBearer, readCredential } from './credentials.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** the verified credential of the caller; set by the authenticate hook */
    principal: ActiveToken | null
  }
  interface FastifyContextConfig {
    /** scopes the caller's token must hold (effective scopes) */
    scopes?: readonly string[]
  }
}

/** error_description of an invalid_token answer: the verifier package's, so both say the same */
export const INACTIVE_DESCRIPTIONS: Readonly<Record<InactiveReason, string>> = {
  ...INACTIVE_TOKEN_DESCRIPTIONS,
  // a rotation family revoked for reuse: to the presenter, just revoked
  reuse_detected: INACTIVE_TOKEN_DESCRIPTIONS.revoked
}

export function requireScopes(principal: ActiveToken, scopes: readonly string[]): void {
  // a handful of scopes each side: includes() beats building a Set per request
  if (!scopes.every((s) => principal.scopes.includes(s)))
    throw err.insufficient_scope(`this call needs the scope ${scopes.join(' ')}`, { scope: scopes.join(' ') })
}

export async function authenticateBearer(
  request: FastifyRequest,
  introspection: Introspection,
  allowQuery: boolean
): Promise<ActiveToken> {
  const cred = readCredential(request, allowQuery)
  if (cred.scheme === 'none') throw err.unauthorized()
  if (cred.scheme !== 'bearer') throw badBearer('use a Bearer token')
  const result = await introspection.verify(cred.token)
  if (!result.active) throw err.invalid_token(INACTIVE_DESCRIPTIONS[result.reason])
  refuseExchanged(result.token)
  return result.token
}

/**
 * An exchanged token (RFC 8693, kind xch) is bound to the audiences it was minted for: it is a
 * credential at those services, never at the authority itself (else a downstream service holding it
 * could list, revoke or mint with its subject's scopes). Introspecting it is fine; presenting it is not.
 */
export function refuseExchanged(token: ActiveToken): void {
  if (token.tokenKind === 'xch')
    throw err.invalid_token('an exchanged token is a credential only at the audience it was issued for')
}

/** A token used as the credential of a call to the authority itself: the request's address and user agent, no calling service. */
export function recordOwnUse(lastUsed: LastUsedRecorder, request: FastifyRequest, principal: ActiveToken): void {
  lastUsed.record(principal.id, request.ip, request.headers['user-agent'], null)
}

/**
 * The console session cookie as the credential: only for the console's own page (the CSRF rule in
 * console-cookies.ts, checked before any I/O), then the token and the idle timeout. A session that
 * ended answers 401 session_expired and clears the cookies; a live one gets a fresh activity seal.
 */
export async function authenticateSession(
  request: FastifyRequest,
  reply: FastifyReply,
  sessions: ConsoleSessions,
  value: string
): Promise<ActiveToken> {
  const problem = csrfProblem(request)
  if (problem !== null) throw err.csrf_rejected(problem)
  const outcome = await sessions.resume(value, readCookie(request, ACTIVITY_COOKIE), request.ip)
  if (!outcome.ok) {
    clearSessionCookies(request, reply)
    throw err.session_expired()
  }
  const left = (outcome.token.exp ?? 0) - seconds(sessions.now())
  setSessionCookies(request, reply, { activity: outcome.activity, maxAgeSeconds: left })
  return outcome.token
}

export interface AuthenticateOptions {
  introspection: Introspection
  allowQuery: boolean
  /** accept the console session cookie when the request carries no Authorization (or query) credential */
  sessions?: ConsoleSessions | undefined
  /** where each use of the credential is recorded (its last use) */
  lastUsed: LastUsedRecorder
}

/**
 * For an encapsulated context of authenticated routes: verifies the credential in `onRequest`
 * (before any body is parsed) and checks the route's `config.scopes`. A Bearer credential always
 * wins; the console cookie is read only when there is none. Authenticated answers are never cached.
 */
export const authenticatePlugin = fp<AuthenticateOptions>(
  async (app: FastifyInstance, opts) => {
    app.addHook('onRequest', async (request, reply) => {
      void reply.header('cache-control', 'no-store')
      const session = opts.sessions !== undefined ? readCookie(request, SESSION_COOKIE) : undefined
      const principal =
        session !== undefined && opts.sessions !== undefined && !presentsCredential(request)
          ? await authenticateSession(request, reply, opts.sessions, session)
          : await authenticateBearer(request, opts.introspection, opts.allowQuery)
      request.principal = principal
      recordOwnUse(opts.lastUsed, request, principal)
      const needed = request.routeOptions.config.scopes
      if (needed !== undefined && needed.length > 0) requireScopes(principal, needed)
    })
  },
  { name: 'authenticate' }
)

/** Whether the request carries any credential of its own (it then wins over the cookie, which is ignored). */
function presentsCredential(request: FastifyRequest): boolean {
  if (request.headers.authorization !== undefined && request.headers.authorization !== '') return true
  // a token in the query goes the Bearer way too (and is refused there when ALLOW_QUERY_TOKENS is off)
  const query = (request.query ?? {}) as Record<string, unknown>
  return query.access_token !== undefined || query.session !== undefined
}
