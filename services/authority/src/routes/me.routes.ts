import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { principalOf, type RouteDeps } from './context.js'
import { AUTHED_ERRORS, errorResponses, NullableTimestamp, TokenId, TokenKind } from './schemas.js'
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
    scopes: Type.Array(Type.Object({ name: Type.String(), description: Type.String(), builtin: Type.Boolean() }, { additionalProperties: false })),
    presets: Type.Array(
      Type.Object({ name: Type.String(), description: Type.String(), scopes: Type.Array(Type.String()) }, { additionalProperties: false })
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
        token: { id: p.id, kind: p.tokenKind, expires_at: p.exp === null ? null : new Date(p.exp * 1000).toISOString() },
        scopes: p.scopes
      }
    }
  )

  app.get(
    '/v1/scopes',
    {
      schema: {
        operationId: 'listScopes',
        tags: ['scopes'],
        summary: 'The scope catalogue and the named presets',
        response: { 200: Type.Ref('ScopeCatalogue'), ...errorResponses(...AUTHED_ERRORS) }
      }
    },
    async () => ({ scopes: [...deps.catalogue.scopes.values()], presets: [...deps.catalogue.presets.values()] })
  )
}
