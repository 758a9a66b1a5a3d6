/** Typed errors, in the style of the official Fastify auth plugins: a stable `code` each. */
export class VerifierOptionsError extends Error {
  override name = 'VerifierOptionsError'
  readonly code = 'FST_TA_VERIFIER_OPTIONS'
}

export type VerifierErrorCode = 'unauthorized' | 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'service_unavailable'

const STATUS: Record<VerifierErrorCode, number> = {
  unauthorized: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  service_unavailable: 503
}

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  503: 'Service Unavailable'
}

/** A rejection the plugin answers itself: status, RFC 6750 challenge, the authority's error shape. */
export class VerifierError extends Error {
  override name = 'VerifierError'
  readonly statusCode: number
  constructor(
    readonly code: VerifierErrorCode,
    message: string,
    readonly extra: { scope?: string; retryAfterSeconds?: number } = {}
  ) {
    super(message)
    this.statusCode = STATUS[code]
  }

  get reasonPhrase(): string {
    return REASON[this.statusCode] ?? 'Error'
  }
}
