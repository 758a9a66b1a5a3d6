import type { TokenRow } from '../db/tables.js'
import { rotationState, type RotationState } from './rotation.js'
import type { TokenKind } from './token-format.js'

export type TokenState = 'active' | 'expired' | 'revoked'

/** A stored token as the services see it: scopes as a list, times in unix ms, state worked out once. */
export interface Token {
  id: string
  accountId: string
  kind: TokenKind
  name: string
  description: string
  /** null = all of the owner's current permissions (login tokens) */
  scopes: string[] | null
  preset: string | null
  /** hex HMAC-SHA256(pepper, value) */
  hash: string
  kid: string
  createdAt: number
  expiresAt: number | null
  revokedAt: number | null
  revokedReason: string | null
  parentId: string | null
  replacedBy: string | null
  /** regenerated with an overlap: its value works until then (unix ms) unless the successor is used first */
  rotationEndsAt: number | null
  /** the successor's copy of that moment while the overlap is open */
  supersedesUntil: number | null
  /** exchanged tokens (RFC 8693): the audiences it is bound to; null for every other kind */
  audience: string[] | null
  /** as of the read (`now` given to the mapper) */
  state: TokenState
  /** where it stands in a rotation, as of the read (tokens/rotation.ts) */
  rotation: RotationState
  /** the last use written so far (behind by up to LAST_USED_FLUSH_SECONDS); null = none seen */
  lastUsed: LastUse | null
}

/** A use of a token: when, from where, and through which service (tokens/last-used.ts). */
export interface LastUse {
  /** unix ms */
  at: number
  address: string | null
  userAgent: string | null
  /** account id of the introspecting service; null = used on the authority's own API */
  caller: string | null
}

/** Columns the services write themselves: the account generation comes from the account, last use from the recorder. */
export type TokenOwnRow = Omit<
  TokenRow,
  'account_generation' | 'last_used_at' | 'last_used_address' | 'last_used_user_agent' | 'last_used_caller'
>

export function tokenState(revokedAt: number | null, expiresAt: number | null, now: number): TokenState {
  if (revokedAt !== null) return 'revoked'
  if (expiresAt !== null && expiresAt <= now) return 'expired'
  return 'active'
}

/** The one place a token row becomes a Token. */
export function toToken(row: TokenRow, now: number): Token {
  const token: Token = {
    id: row.id,
    accountId: row.account_id,
    kind: row.kind,
    name: row.name,
    description: row.description,
    scopes: row.scopes === null ? null : (JSON.parse(row.scopes) as string[]),
    preset: row.preset,
    hash: row.hash,
    kid: row.kid,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    parentId: row.parent_id,
    replacedBy: row.replaced_by,
    rotationEndsAt: row.rotation_ends_at === null ? null : Number(row.rotation_ends_at),
    supersedesUntil: row.supersedes_until === null ? null : Number(row.supersedes_until),
    audience: row.audience === null || row.audience === undefined ? null : (JSON.parse(row.audience) as string[]),
    state: tokenState(row.revoked_at, row.expires_at, now),
    rotation: 'none',
    lastUsed:
      row.last_used_at === null || row.last_used_at === undefined
        ? null
        : {
            at: Number(row.last_used_at),
            address: row.last_used_address,
            userAgent: row.last_used_user_agent,
            caller: row.last_used_caller
          }
  }
  token.rotation = rotationState(token, now)
  // a value whose overlap is over is no longer active, though no write marked it (docs/tokens.md)
  if (token.state === 'active' && token.rotation === 'stopped') token.state = 'revoked'
  return token
}

/** …and the one place a Token becomes a row. */
/** The row's own columns (its account generation is copied from the account by the insert). */
export function toTokenRow(t: Token): TokenOwnRow {
  return {
    id: t.id,
    account_id: t.accountId,
    kind: t.kind,
    name: t.name,
    description: t.description,
    scopes: t.scopes === null ? null : JSON.stringify(t.scopes),
    preset: t.preset,
    hash: t.hash,
    kid: t.kid,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
    revoked_at: t.revokedAt,
    revoked_reason: t.revokedReason,
    parent_id: t.parentId,
    replaced_by: t.replacedBy,
    rotation_ends_at: t.rotationEndsAt,
    supersedes_until: t.supersedesUntil,
    audience: t.audience === null ? null : JSON.stringify(t.audience)
  }
}

/** Fields of a token edit, in domain terms. */
export interface TokenChanges {
  name?: string
  description?: string
  scopes?: string[]
  preset?: null
  expiresAt?: number
}
