import type { FastifyReply } from 'fastify'
import type { TokenRow } from '../db/tables.js'
import type { IssuedToken, TokenSpecInput } from '../tokens/token-service.js'
import type { Account } from '../accounts/account-service.js'
import type { TokenState } from '../tokens/token-store.js'

const iso = (ms: number): string => new Date(ms).toISOString()
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms))

/** The public view of a token row: never the hash, never the value. */
export function tokenView(row: TokenRow, state: TokenState) {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    description: row.description,
    scopes: row.scopes === null ? null : (JSON.parse(row.scopes) as string[]),
    preset: row.preset,
    state,
    created_at: iso(row.created_at),
    expires_at: isoOrNull(row.expires_at),
    revoked_at: isoOrNull(row.revoked_at),
    parent_id: row.parent_id,
    replaced_by: row.replaced_by
  }
}

export function accountView(a: Account) {
  return {
    id: a.id,
    username: a.username,
    kind: a.kind,
    permissions: a.permissions,
    disabled: a.disabled,
    created_at: iso(a.createdAt),
    updated_at: iso(a.updatedAt)
  }
}

/** ISO timestamp from a request → unix seconds (null stays null, absent stays undefined). */
export function toUnixSeconds(value: string | null | undefined): number | null | undefined {
  if (value === undefined || value === null) return value
  return Math.floor(Date.parse(value) / 1000)
}

/** A response that carries a token value: 201, never cached, the value this once. */
export function issuedResponse(reply: FastifyReply, issued: IssuedToken) {
  void reply.code(201).header('cache-control', 'no-store')
  return { token: tokenView(issued.row, 'active'), access_token: issued.value }
}

/** The create-token body (TokenSpecBody) as the service takes it. */
export function tokenSpecFrom(body: {
  name: string
  description?: string | undefined
  scopes?: string[] | undefined
  preset?: string | undefined
  expires_at?: string | null | undefined
}): TokenSpecInput {
  return { name: body.name, description: body.description, scopes: body.scopes, preset: body.preset, expiresAt: toUnixSeconds(body.expires_at) }
}
