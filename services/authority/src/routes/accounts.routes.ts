import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { actorOf, confirm, principalOf, type RouteDeps } from './context.js'
import {
  AccountId,
  AccountKind,
  AUTHED_ERRORS,
  ConfirmBody,
  ConfirmPassword,
  errorResponses,
  ListQuery,
  ScopeList,
  TokenId,
  TokenSpecBody
} from './schemas.js'
import { accountView, issuedResponse, tokenSpecFrom, tokenView } from './views.js'

const TAG = 'accounts'
const Params = Type.Object({ id: AccountId })
const NewPassword = Type.String({ minLength: 12, maxLength: 72, description: 'at least 12 characters, at most 72 bytes' })
const Username = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]*$' })

const AccountPage = Type.Object(
  { items: Type.Array(Type.Ref('Account')), next_cursor: Type.Union([Type.String(), Type.Null()]) },
  { $id: 'AccountPage', additionalProperties: false }
)

/** Admin: accounts and their tokens. Scopes `accounts:read` / `accounts:write`. */
export const accountRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  const { accounts, tokens } = deps
  app.addSchema(AccountPage)

  app.post(
    '/v1/accounts',
    {
      config: { scopes: ['accounts:write'] },
      schema: {
        operationId: 'createAccount',
        tags: [TAG],
        summary: 'Create an account (admin, customer or service)',
        body: Type.Object(
          {
            username: Username,
            password: NewPassword,
            kind: AccountKind,
            permissions: Type.Optional(ScopeList),
            current_password: ConfirmPassword
          },
          { additionalProperties: false }
        ),
        response: { 201: Type.Ref('Account'), ...errorResponses(...AUTHED_ERRORS, 409) }
      }
    },
    async (request, reply) => {
      const b = request.body
      await confirm(deps, request, b.current_password)
      const account = await accounts.create(
        { username: b.username, password: b.password, kind: b.kind, permissions: b.permissions },
        principalOf(request),
        actorOf(request)
      )
      reply.code(201)
      return accountView(account)
    }
  )

  app.get(
    '/v1/accounts',
    {
      config: { scopes: ['accounts:read'] },
      schema: {
        operationId: 'listAccounts',
        tags: [TAG],
        summary: 'List accounts by username',
        querystring: Type.Object(
          {
            kind: Type.Optional(AccountKind),
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
            cursor: Type.Optional(Type.String({ maxLength: 128 }))
          },
          { additionalProperties: false }
        ),
        response: { 200: Type.Ref('AccountPage'), ...errorResponses(...AUTHED_ERRORS) }
      }
    },
    async (request) => {
      const q = request.query
      const page = await accounts.list({ limit: q.limit, after: q.cursor, kind: q.kind })
      return { items: page.accounts.map(accountView), next_cursor: page.next }
    }
  )

  app.get(
    '/v1/accounts/:id',
    {
      config: { scopes: ['accounts:read'] },
      schema: {
        operationId: 'getAccount',
        tags: [TAG],
        summary: 'Read an account',
        params: Params,
        response: { 200: Type.Ref('Account'), ...errorResponses(...AUTHED_ERRORS, 404) }
      }
    },
    async (request) => accountView(await accounts.get(request.params.id))
  )

  app.patch(
    '/v1/accounts/:id',
    {
      config: { scopes: ['accounts:write'] },
      schema: {
        operationId: 'editAccount',
        tags: [TAG],
        summary: 'Edit permissions, set a new password, disable (revokes all its tokens) or enable',
        params: Params,
        body: Type.Object(
          {
            permissions: Type.Optional(ScopeList),
            password: Type.Optional(NewPassword),
            disabled: Type.Optional(Type.Boolean()),
            current_password: ConfirmPassword
          },
          { additionalProperties: false }
        ),
        response: { 200: Type.Ref('Account'), ...errorResponses(...AUTHED_ERRORS, 404) }
      }
    },
    async (request) => {
      const b = request.body
      await confirm(deps, request, b.current_password)
      const account = await accounts.update(
        request.params.id,
        { permissions: b.permissions, password: b.password, disabled: b.disabled },
        principalOf(request),
        actorOf(request)
      )
      return accountView(account)
    }
  )

  app.get(
    '/v1/accounts/:id/tokens',
    {
      config: { scopes: ['accounts:read'] },
      schema: {
        operationId: 'listAccountTokens',
        tags: [TAG],
        summary: 'List an account’s tokens',
        params: Params,
        querystring: ListQuery,
        response: { 200: Type.Ref('TokenPage'), ...errorResponses(...AUTHED_ERRORS, 404) }
      }
    },
    async (request) => {
      await accounts.get(request.params.id)
      const { state, limit, cursor } = request.query
      const page = await tokens.list(request.params.id, { state, limit, cursor })
      return { items: page.rows.map((r) => tokenView(r, tokens.stateOf(r))), next_cursor: page.nextCursor }
    }
  )

  app.post(
    '/v1/accounts/:id/tokens',
    {
      config: { scopes: ['accounts:write'] },
      schema: {
        operationId: 'createAccountToken',
        tags: [TAG],
        summary: 'Create a token for an account (how service accounts get theirs)',
        params: Params,
        body: Type.Object(TokenSpecBody, { additionalProperties: false }),
        response: { 201: Type.Ref('IssuedToken'), ...errorResponses(...AUTHED_ERRORS, 404) }
      }
    },
    async (request, reply) => {
      const b = request.body
      await confirm(deps, request, b.password)
      const owner = await accounts.get(request.params.id)
      // Scopes within the owner's permissions and within the caller's own: never broader than itself.
      const issued = await tokens.createToken(
        owner,
        tokenSpecFrom(b),
        principalOf(request),
        actorOf(request)
      )
      return issuedResponse(reply, issued)
    }
  )

  app.delete(
    '/v1/accounts/:id/tokens',
    {
      config: { scopes: ['accounts:write'] },
      schema: {
        operationId: 'revokeAccountTokens',
        tags: [TAG],
        summary: 'Revoke every live token of an account',
        params: Params,
        body: ConfirmBody,
        response: { 200: Type.Ref('RevokeResult'), ...errorResponses(...AUTHED_ERRORS, 404) }
      }
    },
    async (request) => {
      await confirm(deps, request, request.body.password)
      await accounts.get(request.params.id)
      const r = await tokens.revoke(request.params.id, null, 'revoked', actorOf(request))
      return { revoked: r.revoked, already_inactive: r.alreadyInactive, not_found: r.notFound }
    }
  )

  app.delete(
    '/v1/accounts/:id/tokens/:tokenId',
    {
      config: { scopes: ['accounts:write'] },
      schema: {
        operationId: 'revokeAccountToken',
        tags: [TAG],
        summary: 'Revoke one token of an account',
        params: Type.Object({ id: AccountId, tokenId: TokenId }),
        body: ConfirmBody,
        response: { 200: Type.Ref('Token'), ...errorResponses(...AUTHED_ERRORS, 404) }
      }
    },
    async (request) => {
      await confirm(deps, request, request.body.password)
      const { id, tokenId } = request.params
      await tokens.getOwned(id, tokenId)
      await tokens.revoke(id, [tokenId], 'revoked', actorOf(request))
      const row = await tokens.getOwned(id, tokenId)
      return tokenView(row, tokens.stateOf(row))
    }
  )
}
