/** Storage shape: unix ms in BIGINT columns, lists as JSON text (one meaning on MySQL and SQLite). */
import type { Generated, Selectable } from 'kysely'

/** The revocation log (docs/revocation-stream.md): one row per change that can deny access. */
export interface RevocationEventsTable {
  /** only grows; the stream's event id */
  seq: Generated<number>
  at: number
  /** set when every token of the account is concerned (permissions reduced, disabled) */
  account_id: string | null
  /** JSON array of token ids */
  token_ids: string
  reason: string
}

export type RevocationEventRow = Selectable<RevocationEventsTable>
