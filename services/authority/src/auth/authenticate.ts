import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError, errors } from '../errors.js'
import type { ActiveToken, InactiveReason, TokenService } from '../tokens/token-service.js'
import { readCredential } from './credentials.js'

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

export const INACTIVE_DESCRIPTIONS: Record<InactiveReason, string> = {
  expired: 'the access token has expired',
  revoked: 'the access token has been revoked',
  unknown: 'the access token is not valid'
}

export function requireScopes(principal: ActiveToken, scopes: readonly string[]): void {
  const held = new Set(principal.scopes)
  const missing = scopes.filter((s) => !held.has(s))
  if (missing.length > 0) throw errors.insufficientScope(scopes)
}

export async function authenticateBearer(request: FastifyRequest, tokens: TokenService, allowQuery: boolean): Promise<ActiveToken> {
  const cred = readCredential(request, allowQuery)
  if (cred.scheme === 'none') throw errors.unauthorized()
  if (cred.scheme !== 'bearer') throw new AppError('invalid_request', 'use a Bearer token', { bearerError: 'invalid_request' })
  const result = await tokens.verify(cred.token)
  if (!result.active) throw errors.invalidToken(INACTIVE_DESCRIPTIONS[result.reason])
  return result.token
}

/**
 * For an encapsulated context of authenticated routes: verifies the Bearer token in `onRequest`
 * (before any body is parsed) and checks the route's `config.scopes`.
 */
export const authenticatePlugin = fp<{ tokens: TokenService; allowQuery: boolean }>(
  async (app: FastifyInstance, opts) => {
    app.addHook('onRequest', async (request) => {
      const principal = await authenticateBearer(request, opts.tokens, opts.allowQuery)
      request.principal = principal
      const needed = request.routeOptions.config.scopes
      if (needed !== undefined && needed.length > 0) requireScopes(principal, needed)
    })
  },
  { name: 'authenticate' }
)
