import type { FastifyRequest } from 'fastify'
import type { AccountService } from '../accounts/account-service.js'
import type { Actor } from '../audit/audit-log.js'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { AuthorityMetrics } from '../metrics.js'
import type { FishingGuard } from '../auth/fishing-guard.js'
import type { ScopeCatalogue } from '../scopes/scope-catalogue.js'
import type { ActiveToken, TokenService } from '../tokens/token-service.js'

/** What route plugins get: the services, built once in buildApp. */
export interface RouteDeps {
  config: Config
  tokens: TokenService
  accounts: AccountService
  catalogue: ScopeCatalogue
  clock: Clock
  metrics: AuthorityMetrics
  fishing: FishingGuard
}

export function principalOf(request: FastifyRequest): ActiveToken {
  const p = request.principal
  if (p === null) throw new Error('route registered outside the authenticated context')
  return p
}

export function actorOf(request: FastifyRequest): Actor {
  return { accountId: request.principal?.accountId ?? null, tokenId: request.principal?.id ?? null, ip: request.ip }
}

/** Password confirmation of management changes (on by default). */
export async function confirm(deps: RouteDeps, request: FastifyRequest, password: string | undefined): Promise<void> {
  if (!deps.config.REQUIRE_PASSWORD_CONFIRMATION) return
  await deps.accounts.confirmPassword(principalOf(request).accountId, password, request.ip)
}
