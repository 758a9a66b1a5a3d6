import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely'

/**
 * The Database interface Kysely checks queries against. Timestamps are unix milliseconds in
 * BIGINT columns and lists are JSON text, so one schema means the same on MySQL and SQLite.
 */
export interface AccountsTable {
  id: string
  username: string
  kind: 'admin' | 'customer' | 'service'
  password_hash: string
  /** JSON array of scope names */
  permissions: string
  disabled: number
  created_at: number
  updated_at: number
}

export interface TokensTable {
  id: string
  account_id: string
  kind: 'pat' | 'lgn' | 'svc'
  name: string
  description: string
  /** JSON array of scope names; null = all of the owner's current permissions (login tokens) */
  scopes: string | null
  preset: string | null
  /** hex HMAC-SHA256(pepper, value): the only trace of the value at rest */
  hash: string
  kid: string
  created_at: number
  expires_at: number | null
  revoked_at: number | null
  revoked_reason: string | null
  /** the token this one was regenerated or copied from */
  parent_id: string | null
  /** set once, by the single regenerate that wins */
  replaced_by: string | null
}

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

export interface ScopesTable {
  name: string
  description: string
  builtin: number
}

export interface PresetsTable {
  name: string
  description: string
  scopes: string
}

export interface Database {
  accounts: AccountsTable
  tokens: TokensTable
  audit_events: AuditEventsTable
  scopes: ScopesTable
  presets: PresetsTable
}

export type AccountRow = Selectable<AccountsTable>
export type NewAccount = Insertable<AccountsTable>
export type AccountUpdate = Updateable<AccountsTable>
export type TokenRow = Selectable<TokensTable>
export type NewToken = Insertable<TokensTable>
export type AuditRow = Selectable<AuditEventsTable>
export type NewAuditEvent = Insertable<AuditEventsTable>
export type { ColumnType }
