/** Storage shape: unix ms in BIGINT columns, lists as JSON text (one meaning on MySQL and SQLite). */
import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely'

export interface AccountsTable {
  id: string
  username: string
  kind: 'admin' | 'customer' | 'service'
  password_hash: string
  /** JSON array of scope names */
  permissions: string
  disabled: number
  /** moved on by every disable: tokens of an older generation are inactive */
  token_generation: ColumnType<number, number | undefined, number>
  /** unix ms: tokens created before it are inactive (only moves forward) */
  tokens_revoked_before: ColumnType<number | null, number | null | undefined, number | null>
  created_at: number
  updated_at: number
}

export type AccountRow = Selectable<AccountsTable>
export type NewAccount = Insertable<AccountsTable>
export type AccountUpdate = Updateable<AccountsTable>
