/** Storage shape: unix ms in BIGINT columns, lists as JSON text (one meaning on MySQL and SQLite). */
import type { Insertable, Selectable } from 'kysely'

export interface AuditEventsTable {
  id: string
  at: number
  action: string
  token_id: string | null
  account_id: string | null
  actor_account_id: string | null
  actor_token_id: string | null
  ip: string | null
  /** JSON: what changed, never a secret */
  details: string
}

export type AuditRow = Selectable<AuditEventsTable>
export type NewAuditEvent = Insertable<AuditEventsTable>
