import type { AccountRow } from '../db/tables.js'

export type AccountKind = 'admin' | 'customer' | 'service'

/** An account as the services see it: permissions as a list, disabled as a boolean. */
export interface Account {
  id: string
  username: string
  kind: AccountKind
  permissions: string[]
  disabled: boolean
  /** unix ms: its tokens created before it are inactive (revoke-before watermark); null = none */
  tokensRevokedBefore: number | null
  createdAt: number
  updatedAt: number
}

/** The one place an account row becomes an Account. */
export function toAccount(row: Omit<AccountRow, 'password_hash' | 'token_generation'>): Account {
  return {
    id: row.id,
    username: row.username,
    kind: row.kind,
    permissions: JSON.parse(row.permissions) as string[],
    disabled: row.disabled === 1,
    tokensRevokedBefore: row.tokens_revoked_before === null ? null : Number(row.tokens_revoked_before),
    createdAt: row.created_at,
    updatedAt: row.updated_at
  }
}
