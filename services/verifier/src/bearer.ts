import { STATUS_CODES } from 'node:http'

/**
 * What the authority and this plugin answer alike when a bearer-protected route refuses a request:
 * the codes (with their statuses and default messages), the RFC 6750 `WWW-Authenticate` challenge
 * and the error body. The authority's error catalogue (services/authority/src/errors.ts) takes these
 * five entries from here. Node built-ins only (the authority compiles this file into its own build, see token-shape.ts).
 */
export const BEARER_ERRORS = {
  invalid_request: { status: 400, message: 'malformed request' },
  unauthorized: { status: 401, message: 'authentication required' },
  invalid_token: { status: 401, message: 'the access token is not valid' },
  insufficient_scope: { status: 403, message: 'the credential lacks a scope this call needs' },
  service_unavailable: { status: 503, message: 'the service is unavailable, try again shortly' }
} as const satisfies Record<string, { status: number; message: string }>

export type BearerErrorCode = keyof typeof BEARER_ERRORS

/** The `error` values of an RFC 6750 §3.1 challenge. */
export type BearerChallengeError = 'invalid_request' | 'invalid_token' | 'insufficient_scope'

/** `error_description` of an invalid_token answer, by why the token is not active. */
export const INACTIVE_TOKEN_DESCRIPTIONS = {
  expired: 'the access token has expired',
  revoked: 'the access token has been revoked',
  unknown: BEARER_ERRORS.invalid_token.message
} as const

/** The HTTP reason phrase of a status (the error body's `error`). */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Error'
}

/** a quoted-string's content: `"` and `\` dropped (realms are validated; messages are ours) */
const quoted = (s: string): string => `"${s.replace(/[\\"]/g, '')}"`

/**
 * The RFC 6750 challenge: bare `Bearer realm="…"` when the request carried no credential (§3.1),
 * else with `error`, `error_description` and, for insufficient_scope, `scope`.
 */
export function bearerChallenge(
  realm: string,
  error?: { error: BearerChallengeError; description: string; scope?: string }
): string {
  if (error === undefined) return `Bearer realm=${quoted(realm)}`
  const scope = error.scope !== undefined && error.scope !== '' ? `, scope=${quoted(error.scope)}` : ''
  return `Bearer realm=${quoted(realm)}, error=${quoted(error.error)}, error_description=${quoted(error.description)}${scope}`
}

/** The challenge of a Basic-authenticated endpoint (RFC 7617). */
export function basicChallenge(realm: string): string {
  return `Basic realm=${quoted(realm)}`
}
