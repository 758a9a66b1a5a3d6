import type { FastifyReply } from 'fastify'
import type { Account } from '../accounts/account.js'
import type { Token, TokenState } from '../tokens/token.js'
import { parseWithinSeconds } from '../tokens/token-policy.js'
import type { IssuedToken, TokenSpecInput } from '../tokens/token-lifecycle.js'

const iso = (ms: number): string => new Date(ms).toISOString()
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms))

/** The public view of a token: never the hash, never the value. */
export function tokenView(token: Token) {
  return {
    id: token.id,
    kind: token.kind,
    name: token.name,
    description: token.description,
    scopes: token.scopes,
    preset: token.preset,
    state: token.state,
    created_at: iso(token.createdAt),
    expires_at: isoOrNull(token.expiresAt),
    revoked_at: isoOrNull(token.revokedAt),
    revoked_reason: token.revokedReason,
    parent_id: token.parentId,
    replaced_by: token.replacedBy,
    ...rotationView(token),
    last_used:
      token.lastUsed === null
        ? null
        : {
            at: iso(token.lastUsed.at),
            address: token.lastUsed.address,
            user_agent: token.lastUsed.userAgent,
            caller: token.lastUsed.caller
          }
  }
}

/** Where a token stands in a rotation (docs/tokens.md, "Rotation"), as of the read. */
function rotationView(token: Token): { rotation: 'superseded' | 'stopped' | null; rotation_ends_at: string | null } {
  if (token.rotation === 'none') return { rotation: null, rotation_ends_at: null }
  // when it stopped: the overlap's end, or earlier (the successor's first use), or the regenerate
  const ends = Math.min(token.rotationEndsAt ?? Infinity, token.revokedAt ?? Infinity)
  return { rotation: token.rotation, rotation_ends_at: Number.isFinite(ends) ? iso(ends) : null }
}

export function accountView(a: Account) {
  return {
    id: a.id,
    username: a.username,
    kind: a.kind,
    permissions: a.permissions,
    disabled: a.disabled,
    tokens_revoked_before: isoOrNull(a.tokensRevokedBefore),
    created_at: iso(a.createdAt),
    updated_at: iso(a.updatedAt)
  }
}

/** ISO timestamp from a request → unix ms (absent stays undefined) */
export function toUnixMs(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Date.parse(value)
}

/** ISO timestamp from a request → unix seconds (null stays null, absent stays undefined). */
export function toUnixSeconds(value: string | null | undefined): number | null | undefined {
  if (value === undefined || value === null) return value
  return Math.floor(Date.parse(value) / 1000)
}

/** A token list's query (ListQuery) as the service takes it. */
export function tokenListOptions(query: {
  state?: TokenState | undefined
  limit: number
  cursor?: string | undefined
  used_since?: string | undefined
  unused_since?: string | undefined
  expiring_within?: string | undefined
}) {
  return {
    state: query.state,
    limit: query.limit,
    cursor: query.cursor,
    usedSince: toUnixMs(query.used_since),
    unusedSince: toUnixMs(query.unused_since),
    expiringWithinSeconds: query.expiring_within === undefined ? undefined : parseWithinSeconds(query.expiring_within)
  }
}

/** A page of tokens as the API answers it (TokenPage). */
export function tokenPage(page: { tokens: Token[]; nextCursor: string | null }) {
  return { items: page.tokens.map(tokenView), next_cursor: page.nextCursor }
}

/** A response that carries a token value: 201, never cached, the value this once. */
export function issuedResponse(reply: FastifyReply, issued: IssuedToken) {
  void reply.code(201).header('cache-control', 'no-store')
  return { token: tokenView(issued.token), access_token: issued.value }
}

/** The create-token body (TokenSpecBody) as the service takes it. */
export function tokenSpecFrom(body: {
  name: string
  description?: string | undefined
  scopes?: string[] | undefined
  preset?: string | undefined
  expires_at?: string | null | undefined
}): TokenSpecInput {
  return {
    name: body.name,
    description: body.description,
    scopes: body.scopes,
    preset: body.preset,
    expiresAt: toUnixSeconds(body.expires_at)
  }
}
