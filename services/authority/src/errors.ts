import Type from 'typebox'
import { BEARER_ERRORS, type BearerChallengeError } from '../../verifier/src/bearer.js'

/**
 * The one error catalogue: every stable `code` (clients branch on it), its HTTP status, the message
 * an answer carries when the thrower gives none, and what the code means for people. The OpenAPI
 * `Error` schema's enum, the response descriptions by status (openapi.ts) and docs/errors.md
 * (`npm run docs`) are generated from it. The codes a bearer-protected route answers with are the
 * verifier package's (services/verifier/src/bearer.ts), so both answer alike. 5xx bodies
 * never carry internal text.
 *
 * Throw with the factory of the code, adding a message where it says more than the default:
 * `throw err.not_found('account not found')`.
 */
export interface ErrorDefinition {
  status: number
  /** the message when the thrower gives none */
  message: string
  /** what the code means (docs/errors.md) */
  description: string
  /** options every error of this code carries (overridable per throw) */
  defaults?: AppErrorOptions
}

export const ERRORS = {
  validation_failed: {
    status: 400,
    message: 'the request does not match the schema',
    description:
      'the request does not match the route’s schema (a missing or extra field, a wrong type, a path parameter too long, a password over 72 bytes); `message` names the problem'
  },
  invalid_request: {
    ...BEARER_ERRORS.invalid_request,
    description:
      'the credential was sent wrongly (RFC 6750): more than one `Authorization` header, the token given more than one way, an empty token parameter, or `?access_token=` while `ALLOW_QUERY_TOKENS` is off'
  },
  invalid_scope: {
    status: 400,
    message: 'the requested scope is invalid or exceeds the subject token’s',
    description: '`POST /token`: `scope` names a scope the subject token does not hold (RFC 6749 §5.2)'
  },
  invalid_target: {
    status: 400,
    message: 'the audience is not acceptable',
    description:
      '`POST /token`: an `audience` or `resource` is malformed or not among `TOKEN_EXCHANGE_AUDIENCES` (RFC 8693 §2.2.2)'
  },
  unsupported_grant_type: {
    status: 400,
    message: 'unsupported grant_type; this endpoint does urn:ietf:params:oauth:grant-type:token-exchange',
    description: '`POST /token`: the `grant_type` is not token exchange (RFC 6749 §5.2)'
  },
  password_required: {
    status: 400,
    message: 'confirm this change with your current password in the "password" field',
    description:
      'a management change needs the caller’s current password (`password`, or `current_password` on `/v1/accounts`) and none was given'
  },
  unknown_scope: {
    status: 400,
    message: 'unknown scope; see GET /v1/scopes',
    description: 'a scope named in the request is not in the catalogue (`GET /v1/scopes`)'
  },
  unknown_preset: {
    status: 400,
    message: 'unknown preset; see GET /v1/scopes',
    description: 'the `preset` named is not one of the catalogue’s presets (`GET /v1/scopes`)'
  },
  invalid_webhook_url: {
    status: 400,
    message: 'the webhook url is not acceptable',
    description:
      'a webhook endpoint’s `url` is not an absolute `http`/`https` URL, carries a user name or password, or has a fragment'
  },
  invalid_expiry: {
    status: 400,
    message: 'expires_at is not acceptable',
    description:
      '`expires_at` is in the past, too far ahead, past `TOKEN_MAX_LIFETIME_DAYS`, or `null` (never) while a maximum lifetime is set'
  },
  overlap_too_long: {
    status: 400,
    message: 'old_valid_for_seconds is longer than this service allows',
    description: '`old_valid_for_seconds` of a regenerate is past `ROTATION_MAX_OVERLAP_SECONDS`'
  },
  unauthorized: {
    ...BEARER_ERRORS.unauthorized,
    description: 'the route needs a credential and the request carried none (bare `WWW-Authenticate: Bearer realm=…`)',
    defaults: { challenge: true }
  },
  invalid_token: {
    ...BEARER_ERRORS.invalid_token,
    description:
      'the bearer token is malformed, forged, expired or revoked (`WWW-Authenticate: Bearer …, error="invalid_token"`)',
    defaults: { bearerError: 'invalid_token' }
  },
  invalid_credentials: {
    status: 401,
    message: 'invalid username or password',
    description:
      'login refused: unknown user, wrong password, wrong realm or disabled account all give this same answer'
  },
  session_expired: {
    status: 401,
    message: 'your console session has ended; sign in again',
    description:
      'the console session cookie is no longer good: idle past `CONSOLE_SESSION_IDLE_SECONDS`, past its lifetime, signed out or revoked, or its activity cookie is missing or forged; the cookies are cleared and its token revoked'
  },
  invalid_client: {
    status: 401,
    message: 'client authentication failed',
    description:
      'the caller of `/introspect` or `/revoke` did not authenticate (Bearer service token, HTTP Basic, or `client_id` + `client_secret`); Basic callers get `WWW-Authenticate: Basic`'
  },
  insufficient_scope: {
    ...BEARER_ERRORS.insufficient_scope,
    description:
      'the credential lacks a scope the route needs (`WWW-Authenticate: Bearer …, error="insufficient_scope", scope="…"`)',
    defaults: { bearerError: 'insufficient_scope' }
  },
  csrf_rejected: {
    status: 403,
    message: 'a request authenticated by the console cookie must come from the console itself',
    description:
      'a request carried the console session cookie as its only credential but not the marks of the console’s own page: the `X-Requested-By: token-console` header, no foreign `Origin`, `Sec-Fetch-Site` absent or `same-origin`; nothing was changed'
  },
  scope_not_permitted: {
    status: 403,
    message: 'those scopes are not permitted here',
    description:
      'the scopes asked for lie beyond what the account or the calling credential holds, widen a token on edit, or are not allowed for that kind of account'
  },
  password_confirmation_failed: {
    status: 403,
    message: 'the password does not match',
    description: 'the current password given to confirm a management change does not match'
  },
  account_more_privileged: {
    status: 403,
    message: 'that account holds permissions your credential does not: you cannot act on it',
    description:
      'the target account holds a permission the calling credential does not: it cannot be changed, minted for, listed or revoked by this caller'
  },
  forbidden: {
    status: 403,
    message: 'the action is not allowed',
    description: 'the action is not allowed: the account is disabled, or an admin tried to disable their own account'
  },
  not_found: {
    status: 404,
    message: 'not found',
    description: 'no such route, token or account (or not one the caller may see)'
  },
  token_inactive: {
    status: 409,
    message: 'the token is not active',
    description: 'the token to change is expired or revoked'
  },
  token_superseded: {
    status: 409,
    message: 'the token was already regenerated; regenerate its successor (replaced_by)',
    description:
      'the token to regenerate already has a successor (it is in its rotation overlap, or stopped): regenerate the successor named by `replaced_by`'
  },
  conflict: {
    status: 409,
    message: 'a concurrent change to the same token won; read it again and retry',
    description: 'a concurrent change to the same token won (edit, regenerate, revoke): read it again and retry'
  },
  username_taken: {
    status: 409,
    message: 'that username is taken',
    description: 'an account with that username exists'
  },
  last_admin: {
    status: 409,
    message: 'this is the last enabled account holding accounts:write; grant it to another admin first',
    description: 'the change would leave no enabled account holding `accounts:write`; grant it to another admin first'
  },
  payload_too_large: {
    status: 413,
    message: 'the request body is too large',
    description: 'the request body is over `BODY_LIMIT_BYTES`'
  },
  unsupported_media_type: {
    status: 415,
    message: 'unsupported content type',
    description:
      'the request’s content type is not one the route accepts (JSON; `/introspect` and `/revoke` also take form-encoded bodies)'
  },
  too_many_requests: {
    status: 429,
    message: 'too many requests',
    description:
      'a budget is spent: failed logins or password confirmations (per account, per address), or unknown tokens asked about by one introspection caller; `Retry-After` says when to try again'
  },
  internal_error: {
    status: 500,
    message: 'internal error',
    description: 'an unexpected failure; the body never carries internal text, the logs have it under `requestId`'
  },
  service_unavailable: {
    ...BEARER_ERRORS.service_unavailable,
    description:
      'the database (or the process, when load shedding) cannot answer in time; never a pass, carries `Retry-After`',
    defaults: { retryAfterSeconds: 5 }
  }
} as const satisfies Record<string, ErrorDefinition>

export type ErrorCode = keyof typeof ERRORS

/** code → HTTP status, from the catalogue */
export const ERROR_CODES = Object.fromEntries(Object.entries(ERRORS).map(([code, e]) => [code, e.status])) as {
  readonly [C in ErrorCode]: (typeof ERRORS)[C]['status']
}

export const ErrorSchema = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.Unsafe<ErrorCode>({ type: 'string', enum: Object.keys(ERRORS) }),
    error: Type.String({ description: 'HTTP reason phrase' }),
    message: Type.String(),
    requestId: Type.String()
  },
  { $id: 'Error', title: 'Error', additionalProperties: false }
)
export type ErrorBody = Type.Static<typeof ErrorSchema>

export interface AppErrorOptions {
  /** RFC 6750 error for WWW-Authenticate (401/403 on bearer-protected routes) */
  bearerError?: BearerChallengeError
  /** scope list for insufficient_scope */
  scope?: string
  retryAfterSeconds?: number
  /** bare challenge: the request carried no credential (RFC 6750 §3.1) */
  challenge?: boolean
}

export class AppError extends Error {
  override name = 'AppError'
  readonly statusCode: number
  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    readonly opts: AppErrorOptions = {}
  ) {
    super(message)
    this.statusCode = ERRORS[code].status
  }
}

export type ErrorFactory = (message?: string, opts?: AppErrorOptions) => AppError

/**
 * One factory per code: `err.<code>(message?, opts?)`; the message defaults to the catalogue's, the
 * options to the code's `defaults` (a bare challenge for unauthorized, the RFC 6750 error for
 * invalid_token and insufficient_scope, Retry-After for service_unavailable).
 */
export const err = Object.fromEntries(
  (Object.keys(ERRORS) as ErrorCode[]).map((code) => {
    const def: ErrorDefinition = ERRORS[code]
    const factory: ErrorFactory = (message, opts) =>
      new AppError(code, message ?? def.message, { ...def.defaults, ...opts })
    return [code, factory]
  })
) as { readonly [C in ErrorCode]: ErrorFactory }
