/** Storage shape: unix ms in BIGINT columns, lists as JSON text (one meaning on MySQL and SQLite). */
import type { Selectable } from 'kysely'

export interface ScopesTable {
  name: string
  description: string
  builtin: number
}

export type ScopeRow = Selectable<ScopesTable>
