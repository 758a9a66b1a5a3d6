import type { FastifyRequest } from 'fastify'
import type { AccountService } from '../accounts/account-service.js'
import type { Actor } from '../audit/audit.repository.js'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { AuthorityMetrics } from '../metrics.js'
import type { FishingGuard } from '../auth/fishing-guard.js'
import type { Counter } from '../accounts/login-throttle.js'
import type { ScopeCatalogue } from '../scopes/scope-catalogue.js'
import type { ActiveToken, Introspection } from '../tokens/introspection.js'
import type { LastUsedRecorder } from '../tokens/last-used.js'
import type { TokenLifecycle } from '../tokens/token-lifecycle.js'
import type { WebhookService } from '../webhooks/webhook-service.js'

/** What route plugins get: the services, built once (services.ts). */
export interface RouteDeps {
  config: Config
  introspection: Introspection
  tokens: TokenLifecycle
  accounts: AccountService
  catalogue: ScopeCatalogue
  clock: Clock
  metrics: AuthorityMetrics
  fishing: FishingGuard
  leakReports: Counter
  lastUsed: LastUsedRecorder
  webhooks: WebhookService
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
