import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { actorOf, confirm, principalOf, type RouteDeps } from './context.js'
import {
  AUTHED_ERRORS,
  ConfirmBody,
  ConfirmPassword,
  Description,
  errorResponses,
  EXAMPLE,
  ListQuery,
  NullableTimestamp,
  ScopeName,
  Timestamp,
  TokenId,
  TokenName,
  TokenSpecBody
} from './schemas.js'
import { issuedResponse, tokenListOptions, tokenPage, tokenSpecFrom, tokenView, toUnixSeconds } from './views.js'

const TAG = 'tokens'
const IdParams = Type.Object({ id: TokenId })

/** The caller's own tokens: `/v1/tokens…` (docs/design.md, "HTTP surface"). */
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
      return tokenPage(await tokens.list(principalOf(request).accountId, tokenListOptions(request.query)))
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
        body: Type.Object(TokenSpecBody, {
          additionalProperties: false,
          examples: [
            {
              name: 'deploy pipeline (orders)',
              description: 'CI job that lists and rotates its own tokens',
              scopes: ['tokens:read', 'tokens:write'],
              password: EXAMPLE.password
            },
            { name: 'read-only dashboard', preset: 'read-only', password: EXAMPLE.password }
          ]
        }),
        response: { 201: Type.Ref('IssuedToken'), ...errorResponses(...AUTHED_ERRORS) }
      }
    },
    async (request, reply) => {
      const body = request.body
      await confirm(deps, request, body.password)
      const caller = principalOf(request)
      const owner = await accounts.get(caller.accountId)
      const issued = await tokens.createToken(owner, tokenSpecFrom(body), caller, actorOf(request))
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
          {
            additionalProperties: false,
            examples: [{ ids: [EXAMPLE.tokenId, EXAMPLE.otherTokenId], password: EXAMPLE.password }]
          }
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
      return tokenView(row)
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
          {
            additionalProperties: false,
            examples: [
              {
                name: 'deploy pipeline (orders, prod)',
                description: 'CI job of the production deploy',
                password: EXAMPLE.password
              },
              { scopes: ['tokens:read'], password: EXAMPLE.password }
            ]
          }
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
        {
          name: b.name,
          description: b.description,
          scopes: b.scopes,
          expiresAt: toUnixSeconds(b.expires_at) ?? undefined
        },
        actorOf(request)
      )
      return tokenView(row)
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
      return tokenView(row)
    }
  )

  app.post(
    '/v1/tokens/:id/regenerate',
    {
      config: { scopes: ['tokens:write'] },
      schema: {
        operationId: 'regenerateToken',
        tags: [TAG],
        summary: 'New value, same parameters; the old value stops at once, or after an overlap',
        description:
          'Without `old_valid_for_seconds` the old value stops working at once. With it, the old value keeps working until that many seconds have passed or the new value is first used (introspected or presented to this API), whichever comes first. Once stopped, presenting the old value again revokes it together with every successor (reason `reuse_detected`). See docs/tokens.md, "Rotation".',
        params: IdParams,
        body: Type.Object(
          {
            expires_at: Type.Optional(NullableTimestamp),
            old_valid_for_seconds: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: 2147483647,
                description:
                  'overlap: how long the old value keeps working (it stops earlier, at the first use of the new one); 0 or absent = none; at most ROTATION_MAX_OVERLAP_SECONDS (400 overlap_too_long past it)'
              })
            ),
            password: ConfirmPassword
          },
          {
            additionalProperties: false,
            examples: [{ password: EXAMPLE.password }, { old_valid_for_seconds: 3600, password: EXAMPLE.password }]
          }
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
        { expiresAt: toUnixSeconds(request.body.expires_at), oldValidForSeconds: request.body.old_valid_for_seconds },
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
          {
            additionalProperties: false,
            examples: [{ name: 'deploy pipeline (orders, staging)', password: EXAMPLE.password }]
          }
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
