import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { actorOf, confirm, principalOf, type RouteDeps } from './context.js'
import {
  AUTHED_ERRORS,
  errorResponses,
  EXAMPLE,
  NewPassword,
  NullableTimestamp,
  RevokeBeforeBody,
  TokenId,
  TokenKind
} from './schemas.js'
import { accountView } from './views.js'

const MeSchema = Type.Object(
  {
    account: Type.Ref('Account'),
    token: Type.Object(
      { id: TokenId, kind: TokenKind, expires_at: NullableTimestamp },
      { additionalProperties: false }
    ),
    scopes: Type.Array(Type.String(), { description: 'effective scopes of this credential' })
  },
  { $id: 'Me', additionalProperties: false }
)

const ScopeCatalogueSchema = Type.Object(
  {
    scopes: Type.Array(
      Type.Object(
        { name: Type.String(), description: Type.String(), builtin: Type.Boolean() },
        { additionalProperties: false }
      )
    ),
    presets: Type.Array(
      Type.Object(
        { name: Type.String(), description: Type.String(), scopes: Type.Array(Type.String()) },
        { additionalProperties: false }
      )
    ),
    lifetime: Type.Object(
      {
        default_days: Type.Integer({
          minimum: 1,
          description: 'lifetime of a PAT or service token created without `expires_at` (TOKEN_DEFAULT_LIFETIME_DAYS)'
        }),
        max_days: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
          description:
            'longest lifetime a PAT or service token may be given, in days from its creation (TOKEN_MAX_LIFETIME_DAYS); null: no maximum, and `expires_at: null` (never) is allowed'
        })
      },
      {
        additionalProperties: false,
        description: 'the lifetime policy a new token must keep to (a form offers only what it allows)'
      }
    )
  },
  { $id: 'ScopeCatalogue', additionalProperties: false }
)

export const meRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  app.addSchema(MeSchema)
  app.addSchema(ScopeCatalogueSchema)

  app.get(
    '/v1/me',
    {
      schema: {
        operationId: 'getMe',
        tags: ['accounts'],
        summary: 'The calling account and the effective scopes of this credential',
        response: { 200: Type.Ref('Me'), ...errorResponses(...AUTHED_ERRORS) }
      }
    },
    async (request) => {
      const p = principalOf(request)
      const account = await deps.accounts.get(p.accountId)
      return {
        account: accountView(account),
        token: {
          id: p.id,
          kind: p.tokenKind,
          expires_at: p.exp === null ? null : new Date(p.exp * 1000).toISOString()
        },
        scopes: p.scopes
      }
    }
  )

  app.post(
    '/v1/me/password',
    {
      schema: {
        operationId: 'changeMyPassword',
        tags: ['accounts'],
        summary: 'Change your password; ends your other login sessions (and, on request, your PATs)',
        description:
          'Confirmed with `current_password` (throttled like every password check). Every login token of the account ' +
          'except the one making this call is revoked at once; with `revoke_tokens: true` its PATs and service tokens too.',
        body: Type.Object(
          {
            current_password: Type.String({ minLength: 1, maxLength: 1024, description: 'your current password' }),
            new_password: NewPassword,
            revoke_tokens: Type.Optional(
              Type.Boolean({ default: false, description: 'also revoke every PAT and service token of the account' })
            )
          },
          {
            additionalProperties: false,
            examples: [
              { current_password: EXAMPLE.password, new_password: EXAMPLE.newPassword },
              { current_password: EXAMPLE.password, new_password: EXAMPLE.newPassword, revoke_tokens: true }
            ]
          }
        ),
        response: { 204: Type.Null({ description: 'changed' }), ...errorResponses(...AUTHED_ERRORS, 409) }
      }
    },
    async (request, reply) => {
      const b = request.body
      await deps.accounts.changePassword(
        principalOf(request),
        { currentPassword: b.current_password, newPassword: b.new_password, revokeTokens: b.revoke_tokens ?? false },
        actorOf(request),
        request.ip
      )
      return reply.code(204).send(null)
    }
  )

  app.post(
    '/v1/me/revoke-before',
    {
      config: { scopes: ['tokens:write'] },
      schema: {
        operationId: 'revokeMyTokensBefore',
        tags: ['tokens'],
        summary: 'Revoke every token of your account issued before a time (this one too, if it is older)',
        description:
          'Sets the revoke-before watermark on your account: tokens created before `before` are inactive from now on, ' +
          'and the live ones are revoked. The watermark only moves forward.',
        body: RevokeBeforeBody,
        response: { 200: Type.Ref('RevokeBeforeResult'), ...errorResponses(...AUTHED_ERRORS, 409) }
      }
    },
    async (request) => {
      await confirm(deps, request, request.body.password)
      const caller = principalOf(request)
      // the account acting on itself: no privilege boundary to cross
      const r = await deps.accounts.revokeBefore(
        caller.accountId,
        request.body.before === undefined ? undefined : Date.parse(request.body.before),
        null,
        actorOf(request)
      )
      return { tokens_revoked_before: new Date(r.tokensRevokedBefore).toISOString(), revoked: r.revoked }
    }
  )

  app.get(
    '/v1/scopes',
    {
      schema: {
        operationId: 'listScopes',
        tags: ['scopes'],
        summary: 'The scope catalogue, the named presets and the token lifetime policy',
        response: { 200: Type.Ref('ScopeCatalogue'), ...errorResponses(...AUTHED_ERRORS) }
      }
    },
    async () => ({
      scopes: [...deps.catalogue.scopes.values()],
      presets: [...deps.catalogue.presets.values()],
      lifetime: {
        default_days: deps.config.TOKEN_DEFAULT_LIFETIME_DAYS,
        max_days: deps.config.TOKEN_MAX_LIFETIME_DAYS === 0 ? null : deps.config.TOKEN_MAX_LIFETIME_DAYS
      }
    })
  )
}
