import { BEARER_ERRORS, reasonPhrase, type BearerErrorCode } from './bearer.js'

/** Typed errors, in the style of the official Fastify auth plugins: a stable `code` each. */
export class VerifierOptionsError extends Error {
  override name = 'VerifierOptionsError'
  readonly code = 'FST_TA_VERIFIER_OPTIONS'
}

/** The codes the plugin answers with: the authority's own (bearer.ts), same statuses. */
export type VerifierErrorCode = BearerErrorCode

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
    this.statusCode = BEARER_ERRORS[code].status
  }

  get reasonPhrase(): string {
    return reasonPhrase(this.statusCode)
  }
}
