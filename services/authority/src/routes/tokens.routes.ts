import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { actorOf, confirm, principalOf, type RouteDeps } from './context.js'
import {
  AUTHED_ERRORS,
  ConfirmBody,
  ConfirmPassword,
  Description,
  errorResponses,
  ListQuery,
  NullableTimestamp,
  ScopeName,
  Timestamp,
  TokenId,
  TokenName,
  TokenSpecBody
} from './schemas.js'
import { issuedResponse, tokenSpecFrom, tokenView, toUnixSeconds } from './views.js'

const TAG = 'tokens'
const IdParams = Type.Object({ id: TokenId })

/** The caller's own tokens: `/v1/tokens…` (DESIGN.md §6). */
export const tokenRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  const { tokens, accounts } = deps

  app.get(
    '/v1/tokens',
    {
      config: { scopes: ['tokens:read'] },
      schema: {
        operationId: 'listTokens',
        tags: [TAG],
        summary: 'List your tokens, newest first',
        querystring: ListQuery,
        response: { 200: Type.Ref('TokenPage'), ...errorResponses(...AUTHED_ERRORS) }
      }
    },
    async (request) => {
      const { state, limit, cursor } = request.query
      const page = await tokens.list(principalOf(request).accountId, { state, limit, cursor })
      return { items: page.rows.map((r) => tokenView(r, tokens.stateOf(r))), next_cursor: page.nextCursor }
    }
  )

  app.post(
    '/v1/tokens',
    {
      config: { scopes: ['tokens:write'] },
      schema: {
        operationId: 'createToken',
        tags: [TAG],
        summary: 'Create a personal access token (its value is shown once)',
        body: Type.Object(TokenSpecBody, { additionalProperties: false }),
        response: { 201: Type.Ref('IssuedToken'), ...errorResponses(...AUTHED_ERRORS) }
      }
    },
    async (request, reply) => {
      const body = request.body
      await confirm(deps, request, body.password)
      const caller = principalOf(request)
      const owner = await accounts.get(caller.accountId)
      const issued = await tokens.createToken(
        owner,
        tokenSpecFrom(body),
        caller,
        actorOf(request)
      )
      return issuedResponse(reply, issued)
    }
  )

  app.post(
    '/v1/tokens/revoke',
    {
      config: { scopes: ['tokens:write'] },
      schema: {
        operationId: 'revokeTokens',
        tags: [TAG],
        summary: 'Revoke several of your tokens at once',
        body: Type.Object(
          { ids: Type.Array(TokenId, { minItems: 1, maxItems: 100, uniqueItems: true }), password: ConfirmPassword },
          { additionalProperties: false }
        ),
        response: { 200: Type.Ref('RevokeResult'), ...errorResponses(...AUTHED_ERRORS) }
      }
    },
    async (request) => {
      await confirm(deps, request, request.body.password)
      const r = await tokens.revoke(principalOf(request).accountId, request.body.ids, 'revoked', actorOf(request))
      return { revoked: r.revoked, already_inactive: r.alreadyInactive, not_found: r.notFound }
    }
  )

  app.get(
    '/v1/tokens/:id',
    {
      config: { scopes: ['tokens:read'] },
      schema: {
        operationId: 'getToken',
        tags: [TAG],
        summary: 'Read one of your tokens',
        params: IdParams,
        response: { 200: Type.Ref('Token'), ...errorResponses(...AUTHED_ERRORS, 404) }
      }
    },
    async (request) => {
      const row = await tokens.getOwned(principalOf(request).accountId, request.params.id)
      return tokenView(row, tokens.stateOf(row))
    }
  )

  app.patch(
    '/v1/tokens/:id',
    {
      config: { scopes: ['tokens:write'] },
      schema: {
        operationId: 'editToken',
        tags: [TAG],
        summary: 'Edit a token: name, description, narrower scopes, earlier expiry',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(TokenName),
            description: Type.Optional(Description),
            scopes: Type.Optional(Type.Array(ScopeName, { minItems: 1, maxItems: 64, uniqueItems: true })),
            expires_at: Type.Optional(Timestamp),
            password: ConfirmPassword
          },
          { additionalProperties: false }
        ),
        response: { 200: Type.Ref('Token'), ...errorResponses(...AUTHED_ERRORS, 404, 409) }
      }
    },
    async (request) => {
      const b = request.body
      await confirm(deps, request, b.password)
      const row = await tokens.edit(
        principalOf(request).accountId,
        request.params.id,
        { name: b.name, description: b.description, scopes: b.scopes, expiresAt: toUnixSeconds(b.expires_at) ?? undefined },
        actorOf(request)
      )
      return tokenView(row, tokens.stateOf(row))
    }
  )

  app.delete(
    '/v1/tokens/:id',
    {
      config: { scopes: ['tokens:write'] },
      schema: {
        operationId: 'revokeToken',
        tags: [TAG],
        summary: 'Revoke one of your tokens',
        params: IdParams,
        body: ConfirmBody,
        response: { 200: Type.Ref('Token'), ...errorResponses(...AUTHED_ERRORS, 404) }
      }
    },
    async (request) => {
      await confirm(deps, request, request.body.password)
      const accountId = principalOf(request).accountId
      await tokens.getOwned(accountId, request.params.id)
      await tokens.revoke(accountId, [request.params.id], 'revoked', actorOf(request))
      const row = await tokens.getOwned(accountId, request.params.id)
      return tokenView(row, tokens.stateOf(row))
    }
  )

  app.post(
    '/v1/tokens/:id/regenerate',
    {
      config: { scopes: ['tokens:write'] },
      schema: {
        operationId: 'regenerateToken',
        tags: [TAG],
        summary: 'New value, same parameters; the old value stops working at once',
        params: IdParams,
        body: Type.Object(
          { expires_at: Type.Optional(NullableTimestamp), password: ConfirmPassword },
          { additionalProperties: false }
        ),
        response: { 201: Type.Ref('IssuedToken'), ...errorResponses(...AUTHED_ERRORS, 404, 409) }
      }
    },
    async (request, reply) => {
      await confirm(deps, request, request.body.password)
      const caller = principalOf(request)
      const owner = await accounts.get(caller.accountId)
      const issued = await tokens.regenerate(
        owner,
        request.params.id,
        { expiresAt: toUnixSeconds(request.body.expires_at) },
        caller,
        actorOf(request)
      )
      return issuedResponse(reply, issued)
    }
  )

  app.post(
    '/v1/tokens/:id/copy',
    {
      config: { scopes: ['tokens:write'] },
      schema: {
        operationId: 'copyToken',
        tags: [TAG],
        summary: 'A new token with this one’s parameters',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(TokenName),
            description: Type.Optional(Description),
            expires_at: Type.Optional(NullableTimestamp),
            password: ConfirmPassword
          },
          { additionalProperties: false }
        ),
        response: { 201: Type.Ref('IssuedToken'), ...errorResponses(...AUTHED_ERRORS, 404) }
      }
    },
    async (request, reply) => {
      const b = request.body
      await confirm(deps, request, b.password)
      const caller = principalOf(request)
      const owner = await accounts.get(caller.accountId)
      const issued = await tokens.copy(
        owner,
        request.params.id,
        { name: b.name, description: b.description, expiresAt: toUnixSeconds(b.expires_at) },
        caller,
        actorOf(request)
      )
      return issuedResponse(reply, issued)
    }
  )
}
