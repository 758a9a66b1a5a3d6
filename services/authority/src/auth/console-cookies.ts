import { parseCookie, stringifySetCookie } from 'cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * The console's cookies and the rule that makes them safe to accept (docs/security-model.md,
 * "Console sessions"). Over TLS the names carry the `__Host-` prefix: the browser then only
 * accepts them `Secure`, with `Path=/` and no `Domain`, so a sibling host or a plain-http page
 * cannot plant or overwrite them. Over plain http (a newcomer's `npm start`, a port-forward) they
 * cannot be `Secure`, and are read under their plain names only.
 */
export const SESSION_COOKIE = 'ta_session'
export const ACTIVITY_COOKIE = 'ta_activity'
/** the header the console's own page sends with every call (a cross-site form cannot, a cross-site fetch would need a preflight we never grant) */
export const CSRF_HEADER = 'x-requested-by'
export const CSRF_HEADER_VALUE = 'token-console'

const overTls = (request: FastifyRequest): boolean => request.protocol === 'https'

/** The cookie's name for this request: `__Host-ta_session` over TLS, `ta_session` otherwise. */
export function cookieName(request: FastifyRequest, base: string): string {
  return overTls(request) ? `__Host-${base}` : base
}

/** The value of one of our cookies on this request (under the name its protocol uses), if any. */
export function readCookie(request: FastifyRequest, base: string): string | undefined {
  const header = request.headers.cookie
  if (header === undefined || header === '') return undefined
  const value = parseCookie(header)[cookieName(request, base)]
  return value === undefined || value === '' ? undefined : value
}

function setCookie(request: FastifyRequest, base: string, value: string, maxAgeSeconds: number): string {
  return stringifySetCookie({
    name: cookieName(request, base),
    value,
    httpOnly: true,
    secure: overTls(request),
    sameSite: 'strict',
    path: '/',
    maxAge: maxAgeSeconds
  })
}

/** Sets the session and activity cookies (both HttpOnly, SameSite=Strict, Path=/, Secure over TLS). */
export function setSessionCookies(
  request: FastifyRequest,
  reply: FastifyReply,
  cookies: { session?: string; activity: string; maxAgeSeconds: number }
): void {
  const max = Math.max(0, Math.floor(cookies.maxAgeSeconds))
  const out = [setCookie(request, ACTIVITY_COOKIE, cookies.activity, max)]
  if (cookies.session !== undefined) out.unshift(setCookie(request, SESSION_COOKIE, cookies.session, max))
  void reply.header('set-cookie', out)
}

/** Clears both cookies (sign-out, or a session that ended). */
export function clearSessionCookies(request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('set-cookie', [
    setCookie(request, SESSION_COOKIE, '', 0),
    setCookie(request, ACTIVITY_COOKIE, '', 0)
  ])
}

/** This request's own origin (scheme, host, port), as a browser would write it in `Origin`. */
function ownOrigin(request: FastifyRequest): string | null {
  try {
    return new URL(`${request.protocol}://${request.host}`).origin
  } catch {
    return null
  }
}

function sameOrigin(origin: string, request: FastifyRequest): boolean {
  const own = ownOrigin(request)
  if (own === null) return false
  try {
    // URL normalises case and default ports; an opaque origin ("null") parses to "null"
    return new URL(origin).origin === own
  } catch {
    return false
  }
}

/**
 * Why a request authenticated by the cookie alone is not the console's own, or null when it is:
 * it must carry `X-Requested-By: token-console`, an `Origin` (when there is one) equal to its own
 * origin, and `Sec-Fetch-Site` (when there is one) `same-origin`.
 */
export function csrfProblem(request: FastifyRequest): string | null {
  if (request.headers[CSRF_HEADER] !== CSRF_HEADER_VALUE)
    return `a request authenticated by the console cookie needs the header X-Requested-By: ${CSRF_HEADER_VALUE}`
  return crossSiteProblem(request)
}

/** The browser-set half of the rule (no custom header needed): `Origin` and `Sec-Fetch-Site`. */
export function crossSiteProblem(request: FastifyRequest): string | null {
  const site = request.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin') return 'a cross-site request cannot use the console session'
  const origin = request.headers.origin
  if (origin !== undefined && !sameOrigin(origin, request))
    return 'a request from another origin cannot use the console session (behind a TLS proxy, set TRUST_PROXY)'
  return null
}
