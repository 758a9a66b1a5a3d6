import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { basicChallenge, bearerChallenge, reasonPhrase } from '../../verifier/src/bearer.js'
import { AppError, ERRORS, type ErrorBody, type ErrorCode } from './errors.js'
import { safePath } from './logging.js'

/**
 * The one error shape (ErrorSchema) for every answer that is not a success: the status from the
 * catalogue, the reason phrase from node:http, the catalogue's message unless a more precise one is given.
 */
export function errorBody(code: ErrorCode, requestId: string, message: string = ERRORS[code].message): ErrorBody {
  const statusCode = ERRORS[code].status
  return { statusCode, code, error: reasonPhrase(statusCode), message, requestId }
}

/** Answers with the catalogue's status for `code` and the one error shape. */
function sendError(reply: FastifyReply, request: FastifyRequest, code: ErrorCode, message?: string): FastifyReply {
  return reply.code(ERRORS[code].status).send(errorBody(code, request.id, message))
}

/**
 * Errors Fastify raises before routing (the fuzz test found both answering Fastify's own body, one
 * with an undocumented 414): a malformed percent-encoding in the path, and a path parameter past
 * maxParamLength (no id is that long). Both get the one error shape, as 400s.
 */
export function frameworkErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return sendError(reply, request, 'validation_failed', 'a path parameter is too long')
  }
  if (err.code === 'FST_ERR_BAD_URL') return sendError(reply, request, 'invalid_request', 'malformed URL')
  request.log.error({ err }, 'framework error')
  return sendError(reply, request, 'internal_error')
}

/** One mapper for every error: stable codes, RFC 6750 challenges, and no internal text on 5xx. */
export function errorHandler(realm: string) {
  return (err: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof AppError) {
      const { opts } = err
      if (err.statusCode === 401 || opts.bearerError !== undefined) {
        if (err.code === 'invalid_client') reply.header('www-authenticate', basicChallenge(realm))
        else if (opts.challenge || opts.bearerError === undefined)
          reply.header('www-authenticate', bearerChallenge(realm))
        else
          reply.header(
            'www-authenticate',
            bearerChallenge(realm, { error: opts.bearerError, description: err.message, scope: opts.scope })
          )
      }
      if (opts.retryAfterSeconds !== undefined) reply.header('retry-after', String(opts.retryAfterSeconds))
      if (err.statusCode >= 500) request.log.warn({ code: err.code }, err.message)
      return sendError(reply, request, err.code, err.message)
    }
    if (err.validation) {
      return sendError(reply, request, 'validation_failed', err.message)
    }
    const status = err.statusCode ?? 500
    if (status === 413) return sendError(reply, request, 'payload_too_large')
    if (status === 415) return sendError(reply, request, 'unsupported_media_type')
    if (status === 429) return sendError(reply, request, 'too_many_requests')
    if (status >= 400 && status < 500) {
      // Fastify's own 4xx (invalid JSON, empty body, bad header): say what, without echoing input.
      const message =
        err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError
          ? 'the body is not valid JSON'
          : 'malformed request'
      return sendError(reply, request, 'invalid_request', message)
    }
    request.log.error({ err }, 'unhandled error')
    return sendError(reply, request, 'internal_error')
  }
}

/** Installs the mappers: thrown errors, unknown routes (404); frameworkErrorHandler goes to the Fastify factory. */
export function registerErrorHandling(app: FastifyInstance, realm: string): void {
  app.setErrorHandler(errorHandler(realm))
  app.setNotFoundHandler((request, reply) => {
    void sendError(reply, request, 'not_found', `no route ${request.method} ${safePath(request.url)}`)
  })
}
