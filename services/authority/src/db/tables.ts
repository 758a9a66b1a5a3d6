import type { AccountsTable } from './tables/accounts.table.js'
import type { AuditEventsTable } from './tables/audit-events.table.js'
import type { PresetsTable } from './tables/presets.table.js'
import type { RevocationEventsTable } from './tables/revocation-events.table.js'
import type { ScopesTable } from './tables/scopes.table.js'
import type { TokensTable } from './tables/tokens.table.js'
import type {
  OutboxEventsTable,
  TokenNoticesTable,
  WebhookDeliveriesTable,
  WebhookEndpointsTable
} from './tables/webhooks.table.js'

/**
 * The Database interface Kysely checks queries against, one table per file (tables/*.table.ts).
 * Timestamps are unix milliseconds in BIGINT columns and lists are JSON text, so one schema means
 * the same on MySQL and SQLite. Only repositories see these rows; they map them to domain objects.
 */
export interface Database {
  accounts: AccountsTable
  tokens: TokensTable
  audit_events: AuditEventsTable
  scopes: ScopesTable
  presets: PresetsTable
  revocation_events: RevocationEventsTable
  webhook_endpoints: WebhookEndpointsTable
  outbox_events: OutboxEventsTable
  webhook_deliveries: WebhookDeliveriesTable
  token_notices: TokenNoticesTable
}

export type * from './tables/accounts.table.js'
export type * from './tables/audit-events.table.js'
export type * from './tables/presets.table.js'
export type * from './tables/revocation-events.table.js'
export type * from './tables/scopes.table.js'
export type * from './tables/tokens.table.js'
export type * from './tables/webhooks.table.js'
