import Type from 'typebox'
import type { ErrorCode } from '../errors.js'

/** Shared HTTP schemas. Named (`$id`) so the OpenAPI document gets readable component names. */

/**
 * Values for the `examples` of request bodies and parameters: what "Try it out" in /docs fills in
 * (instead of text generated from the patterns). Made up, never real secrets, and each accepted by
 * the schemas as it stands (test/features/openapi-examples.test.ts sends every one).
 */
export const EXAMPLE = {
  /** the caller's own password, for confirmations and logins */
  password: 'correct-horse-battery-staple',
  /** a password being set */
  newPassword: 'new-correct-horse-battery-staple',
  accountId: '3f1c9a52-7b4e-4d2a-9c61-0e8b5d7f2a14',
  tokenId: 'mZ3kQ8vT2xW9pL4sN7bR1A',
  otherTokenId: 'Hk5cV0qYe7JtU2nF6wXa9g',
  /** shaped like a token of the default prefix (tka), but not one */
  tokenValue: `tka_pat_${'EXAMPLE_not_a_real_token_'.repeat(6).slice(0, 132)}`,
  serviceTokenValue: `tka_svc_${'EXAMPLE_not_a_real_service_token_'.repeat(5).slice(0, 132)}`
} as const

export const ErrorRef = Type.Unsafe<{
  statusCode: number
  code: ErrorCode
  error: string
  message: string
  requestId: string
}>(Type.Ref('Error'))

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
/**
 * Text people give (names, descriptions) is stored exactly as echoed, so it must be plain: no
 * C0/C1 controls (line breaks and tabs included), no line/paragraph separators, no bidi embeddings,
 * overrides or isolates (they make a name read as something else), no lone surrogates; and a name
 * needs at least one visible character (not only spaces or zero-width ones). Checked by the
 * schema (ECMAScript `u` regexes), so a client validating against the OpenAPI document agrees.
 */
const FORBIDDEN_TEXT = '\\p{Cc}\\u061C\\u200E\\u200F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069\\uD800-\\uDFFF'
const INVISIBLE = '\\s\\p{Cf}\\p{Cn}\\p{Mn}\\p{Me}\\p{Default_Ignorable_Code_Point}\\u115F\\u1160\\u2800\\u3164\\uFFA0'
export const SAFE_TEXT_PATTERN = `^[^${FORBIDDEN_TEXT}]*$`
// (no lookahead: schema-driven generators and some validators do not support it)
export const VISIBLE_TEXT_PATTERN = `^[^${FORBIDDEN_TEXT}]*[^${FORBIDDEN_TEXT}${INVISIBLE}][^${FORBIDDEN_TEXT}]*$`
export const TokenName = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: VISIBLE_TEXT_PATTERN,
  description: 'plain text with at least one visible character: no control, line-separator or bidi-control characters'
})
export const Description = Type.String({
  maxLength: 500,
  pattern: SAFE_TEXT_PATTERN,
  description: 'plain text on one line: no control, line-separator or bidi-control characters'
})
export const TokenId = Type.String({
  pattern: '^[A-Za-z0-9_-]{22}$',
  description: 'public token id',
  examples: [EXAMPLE.tokenId]
})
export const AccountId = Type.String({ format: 'uuid', examples: [EXAMPLE.accountId] })
export const Password = Type.String({
  minLength: 1,
  maxLength: 1024,
  description: 'the account password of the caller'
})
/** A password being set: bcrypt reads 72 bytes, so more is refused (the service checks bytes, not characters). */
export const NewPassword = Type.String({
  minLength: 12,
  maxLength: 72,
  pattern: '^[^\\uD800-\\uDFFF]*$',
  description: 'at least 12 characters, at most 72 bytes in UTF-8'
})
export const ConfirmPassword = Type.Optional(
  Type.String({
    minLength: 1,
    maxLength: 1024,
    description: 'your current password; required when password confirmation is on (default)'
  })
)

/** Body of a change that carries nothing but the confirmation (DELETE): may be absent. */
export const ConfirmBody = Type.Object(
  { password: ConfirmPassword },
  { additionalProperties: false, examples: [{ password: EXAMPLE.password }] }
)

export const TokenState = Type.Unsafe<'active' | 'expired' | 'revoked'>({
  type: 'string',
  enum: ['active', 'expired', 'revoked']
})
export const TokenKind = Type.Unsafe<'pat' | 'lgn' | 'svc' | 'xch'>({
  type: 'string',
  enum: ['pat', 'lgn', 'svc', 'xch'],
  description:
    'pat = personal access token, lgn = login token, svc = service token, xch = exchanged token (RFC 8693, `POST /token`)'
})
export const AccountKind = Type.Unsafe<'admin' | 'customer' | 'service'>({
  type: 'string',
  enum: ['admin', 'customer', 'service']
})

export const TokenSchema = Type.Object(
  {
    id: TokenId,
    kind: TokenKind,
    name: Type.String(),
    description: Type.String(),
    scopes: Type.Union([Type.Array(Type.String()), Type.Null()], {
      description: 'null: all of the owner’s permissions (login tokens)'
    }),
    preset: Type.Union([Type.String(), Type.Null()]),
    state: TokenState,
    created_at: Timestamp,
    expires_at: NullableTimestamp,
    revoked_at: NullableTimestamp,
    revoked_reason: Type.Union([Type.String(), Type.Null()], {
      description:
        'why it was revoked: `revoked` (by a person), `regenerated` / `rotated` (a rotation stopped it), `reuse_detected` (its rotation family was revoked because a stopped value was presented again), …'
    }),
    parent_id: Type.Union([TokenId, Type.Null()], { description: 'the token this one was regenerated or copied from' }),
    replaced_by: Type.Union([TokenId, Type.Null()], {
      description: 'the token that replaced this one when it was regenerated'
    }),
    // OpenAPI 3.0: a nullable enum lists null among its values
    rotation: Type.Unsafe<'superseded' | 'stopped' | null>({
      type: 'string',
      enum: ['superseded', 'stopped', null],
      nullable: true,
      description:
        'superseded: regenerated with an overlap that is still open (the value still works until rotation_ends_at or the first use of replaced_by); stopped: a rotation ended it (presenting it again revokes the family); null: not rotated away'
    }),
    rotation_ends_at: Type.Union([Timestamp, Type.Null()], {
      description: 'when the overlap ends (superseded) or when the value stopped (stopped)'
    }),
    last_used: Type.Union(
      [
        Type.Object(
          {
            at: Timestamp,
            address: Type.Union([Type.String(), Type.Null()], {
              description: 'the client address: the request’s, or the one the introspecting service forwarded'
            }),
            user_agent: Type.Union([Type.String(), Type.Null()]),
            caller: Type.Union([AccountId, Type.Null()], {
              description: 'the service account that introspected it; null = used on this API'
            })
          },
          { additionalProperties: false }
        ),
        Type.Null()
      ],
      {
        description: 'the last use seen, written behind (up to LAST_USED_FLUSH_SECONDS late); null = no use recorded'
      }
    )
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
    tokens_revoked_before: Type.Union([Timestamp, Type.Null()], {
      description: 'its tokens created before this time are inactive (revoke-before); null = none'
    }),
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
  expires_at: Type.Optional(
    Type.Union([Timestamp, Type.Null()], {
      description:
        'absent: the default lifetime (TOKEN_DEFAULT_LIFETIME_DAYS); at most TOKEN_MAX_LIFETIME_DAYS ahead; null (never) only when there is no maximum'
    })
  ),
  password: ConfirmPassword
}

export const ListQuery = Type.Object(
  {
    state: Type.Optional(Type.Unsafe<'active' | 'expired' | 'revoked'>({ ...TokenState, examples: ['active'] })),
    expiring_within: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 40,
        pattern: '^(\\d+|P[0-9WDTHMS]+)$',
        description:
          'only live tokens expiring within this: seconds (`86400`) or an ISO 8601 duration in weeks, days, hours, minutes, seconds (`P30D`, `PT12H`)',
        examples: ['P7D']
      })
    ),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50, examples: [20] }),
    // a next_cursor as this service issues them (opaque: created_at and id of the last token seen)
    cursor: Type.Optional(
      Type.String({
        maxLength: 200,
        description: 'next_cursor of the previous page; leave it out for the first page',
        examples: [Buffer.from(JSON.stringify([Date.UTC(2026, 0, 1), EXAMPLE.tokenId])).toString('base64url')]
      })
    ),
    used_since: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'only tokens whose last recorded use is at or after this time',
        examples: ['2026-01-01T00:00:00Z']
      })
    ),
    unused_since: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'only tokens with no recorded use at or after this time (never-used ones included)',
        examples: ['2026-01-01T00:00:00Z']
      })
    )
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

export const RevokeBeforeBody = Type.Object(
  {
    before: Type.Optional(
      Type.String({
        format: 'date-time',
        description:
          "tokens created before this time stop working; now or in the past; left out: now, by the authority's clock (so a caller's clock running ahead cannot make it a time to come); the watermark never moves back"
      })
    ),
    password: ConfirmPassword
  },
  { additionalProperties: false, examples: [{ before: '2026-01-01T00:00:00Z', password: EXAMPLE.password }] }
)

export const RevokeBeforeResultSchema = Type.Object(
  {
    tokens_revoked_before: Timestamp,
    revoked: Type.Integer({ description: 'live tokens this call revoked' })
  },
  { $id: 'RevokeBeforeResult', additionalProperties: false }
)

export const SHARED_SCHEMAS = [
  RevokeBeforeResultSchema,
  TokenSchema,
  IssuedTokenSchema,
  AccountSchema,
  TokenPageSchema,
  RevokeResultSchema
]
