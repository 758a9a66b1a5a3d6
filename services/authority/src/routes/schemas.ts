import Type from 'typebox'
import type { ErrorCode } from '../errors.js'

/** Shared HTTP schemas. Named (`$id`) so the OpenAPI document gets readable component names. */

export const ErrorRef = Type.Unsafe<{ statusCode: number; code: ErrorCode; error: string; message: string; requestId: string }>(
  Type.Ref('Error')
)

/** Response schemas for the error statuses a route can return, all with the one error shape. */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorRef> {
  const out: Record<number, typeof ErrorRef> = {}
  for (const s of [...statuses, 500]) out[s] = ErrorRef
  return out
}

/** The error statuses every authenticated route can give. */
export const AUTHED_ERRORS = [400, 401, 403, 413, 415, 429, 503] as const

export const Timestamp = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' })
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()])
export const ScopeName = Type.String({ pattern: '^[a-z][a-z0-9_-]*(:[a-z0-9_-]+)+$', maxLength: 64 })
export const ScopeList = Type.Array(ScopeName, { maxItems: 64, uniqueItems: true })
/** Printable text: no control characters (keeps logs and UIs honest). */
export const TokenName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$' })
export const Description = Type.String({ maxLength: 500, pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$' })
export const TokenId = Type.String({ pattern: '^[A-Za-z0-9_-]{22}$', description: 'public token id' })
export const AccountId = Type.String({ format: 'uuid' })
export const Password = Type.String({ minLength: 1, maxLength: 1024, description: 'the account password of the caller' })
export const ConfirmPassword = Type.Optional(
  Type.String({ minLength: 1, maxLength: 1024, description: 'your current password; required when password confirmation is on (default)' })
)

/** Body of a change that carries nothing but the confirmation (DELETE): may be absent. */
export const ConfirmBody = Type.Object({ password: ConfirmPassword }, { additionalProperties: false })

export const TokenState = Type.Unsafe<'active' | 'expired' | 'revoked'>({ type: 'string', enum: ['active', 'expired', 'revoked'] })
export const TokenKind = Type.Unsafe<'pat' | 'lgn' | 'svc'>({
  type: 'string',
  enum: ['pat', 'lgn', 'svc'],
  description: 'pat = personal access token, lgn = login token, svc = service token'
})
export const AccountKind = Type.Unsafe<'admin' | 'customer' | 'service'>({ type: 'string', enum: ['admin', 'customer', 'service'] })

export const TokenSchema = Type.Object(
  {
    id: TokenId,
    kind: TokenKind,
    name: Type.String(),
    description: Type.String(),
    scopes: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'null: all of the owner’s permissions (login tokens)' }),
    preset: Type.Union([Type.String(), Type.Null()]),
    state: TokenState,
    created_at: Timestamp,
    expires_at: NullableTimestamp,
    revoked_at: NullableTimestamp,
    parent_id: Type.Union([TokenId, Type.Null()], { description: 'the token this one was regenerated or copied from' }),
    replaced_by: Type.Union([TokenId, Type.Null()], { description: 'the token that replaced this one when it was regenerated' })
  },
  { $id: 'Token', additionalProperties: false }
)

export const IssuedTokenSchema = Type.Object(
  {
    token: Type.Ref('Token'),
    access_token: Type.String({ description: 'the token value; shown this once and never again' })
  },
  { $id: 'IssuedToken', additionalProperties: false }
)

export const AccountSchema = Type.Object(
  {
    id: AccountId,
    username: Type.String(),
    kind: AccountKind,
    permissions: Type.Array(Type.String()),
    disabled: Type.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp
  },
  { $id: 'Account', additionalProperties: false }
)

export const TokenSpecBody = {
  name: TokenName,
  description: Type.Optional(Description),
  scopes: Type.Optional(Type.Array(ScopeName, { minItems: 1, maxItems: 64, uniqueItems: true })),
  preset: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  expires_at: Type.Optional(Type.Union([Timestamp, Type.Null()], { description: 'null or absent: never expires' })),
  password: ConfirmPassword
}

export const ListQuery = Type.Object(
  {
    state: Type.Optional(TokenState),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 200 }))
  },
  { additionalProperties: false }
)

export const TokenPageSchema = Type.Object(
  { items: Type.Array(Type.Ref('Token')), next_cursor: Type.Union([Type.String(), Type.Null()]) },
  { $id: 'TokenPage', additionalProperties: false }
)

export const RevokeResultSchema = Type.Object(
  {
    revoked: Type.Array(TokenId),
    already_inactive: Type.Array(TokenId),
    not_found: Type.Array(TokenId)
  },
  { $id: 'RevokeResult', additionalProperties: false }
)

export const SHARED_SCHEMAS = [TokenSchema, IssuedTokenSchema, AccountSchema, TokenPageSchema, RevokeResultSchema]
