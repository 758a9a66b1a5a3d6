import Type from 'typebox'

/**
 * The one error catalogue. `code` values are stable (clients branch on them); the message is for
 * humans. 5xx bodies never carry internal text.
 */
export const ERROR_CODES = {
  validation_failed: 400,
  invalid_request: 400,
  password_required: 400,
  unknown_scope: 400,
  unknown_preset: 400,
  invalid_expiry: 400,
  unauthorized: 401,
  invalid_token: 401,
  invalid_credentials: 401,
  invalid_client: 401,
  insufficient_scope: 403,
  scope_not_permitted: 403,
  password_confirmation_failed: 403,
  forbidden: 403,
  not_found: 404,
  token_inactive: 409,
  conflict: 409,
  username_taken: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  internal_error: 500,
  service_unavailable: 503
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export const ErrorSchema = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.Unsafe<ErrorCode>({ type: 'string', enum: Object.keys(ERROR_CODES) }),
    error: Type.String({ description: 'HTTP reason phrase' }),
    message: Type.String(),
    requestId: Type.String()
  },
  { $id: 'Error', title: 'Error', additionalProperties: false }
)
export type ErrorBody = Type.Static<typeof ErrorSchema>

export interface AppErrorOptions {
  /** RFC 6750 error for WWW-Authenticate (401/403 on bearer-protected routes) */
  bearerError?: 'invalid_request' | 'invalid_token' | 'insufficient_scope'
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
    message: string,
    readonly opts: AppErrorOptions = {}
  ) {
    super(message)
    this.statusCode = ERROR_CODES[code]
  }
}

export const errors = {
  unauthorized: () => new AppError('unauthorized', 'authentication required', { challenge: true }),
  invalidToken: (description: string) => new AppError('invalid_token', description, { bearerError: 'invalid_token' }),
  insufficientScope: (scopes: readonly string[]) =>
    new AppError('insufficient_scope', `this call needs the scope ${scopes.join(' ')}`, {
      bearerError: 'insufficient_scope',
      scope: scopes.join(' ')
    }),
  notFound: (what: string) => new AppError('not_found', `${what} not found`),
  unavailable: (what: string, retryAfterSeconds = 5) =>
    new AppError('service_unavailable', `${what} is unavailable, try again shortly`, { retryAfterSeconds })
}
