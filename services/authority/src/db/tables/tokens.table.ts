/** Storage shape: unix ms in BIGINT columns, lists as JSON text (one meaning on MySQL and SQLite). */
import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely'

export interface TokensTable {
  id: string
  account_id: string
  kind: 'pat' | 'lgn' | 'svc' | 'xch'
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
  /** the token this one was regenerated or copied from; for an exchanged token (`xch`), its subject token */
  parent_id: string | null
  /** set once, by the single regenerate that wins */
  replaced_by: string | null
  /** regenerated with an overlap: the value works until then (unix ms) unless its successor is used first */
  rotation_ends_at: number | null
  /** on that successor, while the predecessor's overlap is open: when it ends (cleared by the first use) */
  supersedes_until: number | null
  /** the account's token generation when this token was inserted (older than the account's: inactive) */
  account_generation: ColumnType<number, number | undefined, number>
  /** exchanged tokens: JSON array of the audiences it is bound to (RFC 8693 `audience`); null otherwise */
  audience: ColumnType<string | null, string | null | undefined, string | null>
  /** unix ms of the last use seen (written behind in batches: tokens/last-used.ts) */
  last_used_at: ColumnType<number | null, number | null | undefined, number | null>
  /** the client address of that use (the request's, or the one an introspecting service forwarded) */
  last_used_address: ColumnType<string | null, string | null | undefined, string | null>
  last_used_user_agent: ColumnType<string | null, string | null | undefined, string | null>
  /** the account id of the service that introspected it; null = used on the authority's own API */
  last_used_caller: ColumnType<string | null, string | null | undefined, string | null>
}

export type TokenRow = Selectable<TokensTable>
export type NewToken = Insertable<TokensTable>
export type TokenUpdate = Updateable<TokensTable>
