import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { USERNAME_INPUT_PATTERN, USERNAME_MAX_LENGTH } from '../accounts/username.js'
import { actorOf, confirm, principalOf, type RouteDeps } from './context.js'
import {
  AccountId,
  AccountKind,
  AUTHED_ERRORS,
  ConfirmBody,
  ConfirmPassword,
  errorResponses,
  EXAMPLE,
  ListQuery,
  NewPassword,
  RevokeBeforeBody,
  ScopeList,
  TokenId,
  TokenSpecBody
} from './schemas.js'
import { accountView, issuedResponse, tokenListOptions, tokenPage, tokenSpecFrom, tokenView } from './views.js'

const TAG = 'accounts'
const Params = Type.Object({ id: AccountId })
// letters a-z (either case), digits, and . _ @ - after the first; stored in lower case (accounts/username.ts)
const Username = Type.String({ minLength: 1, maxLength: USERNAME_MAX_LENGTH, pattern: USERNAME_INPUT_PATTERN })

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
          {
            additionalProperties: false,
            examples: [
              {
                username: 'sam.lee',
                password: EXAMPLE.newPassword,
                kind: 'customer',
                current_password: EXAMPLE.password
              },
              {
                username: 'orders-service',
                password: EXAMPLE.newPassword,
                kind: 'service',
                permissions: ['tokens:introspect'],
                current_password: EXAMPLE.password
              }
            ]
          }
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
            kind: Type.Optional(
              Type.Unsafe<'admin' | 'customer' | 'service'>({ ...AccountKind, examples: ['customer'] })
            ),
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50, examples: [20] }),
            // a next_cursor as this service issues them: the last username of the previous page
            cursor: Type.Optional(
              Type.String({
                maxLength: 128,
                description: 'next_cursor of the previous page; leave it out for the first page',
                examples: ['jane.doe']
              })
            )
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
        summary:
          'Edit permissions, reset the password (ends its login tokens), disable (ends all its tokens for good) or enable',
        description:
          'Only on an account whose permissions your credential holds all of (else 403 account_more_privileged). ' +
          'A new `password` ends every login token of the account; with `revoke_tokens: true` every other token too. ' +
          '`disabled: true` revokes every token, and nothing issued before it works again after an enable. ' +
          'The last enabled holder of accounts:write cannot be disabled or lose it (409 last_admin).',
        params: Params,
        body: Type.Object(
          {
            permissions: Type.Optional(ScopeList),
            password: Type.Optional(NewPassword),
            disabled: Type.Optional(Type.Boolean()),
            revoke_tokens: Type.Optional(
              Type.Boolean({ description: 'with password: also revoke its PATs and service tokens' })
            ),
            current_password: ConfirmPassword
          },
          {
            additionalProperties: false,
            examples: [
              { permissions: ['tokens:read', 'tokens:write'], current_password: EXAMPLE.password },
              { password: EXAMPLE.newPassword, current_password: EXAMPLE.password },
              { disabled: true, current_password: EXAMPLE.password }
            ]
          }
        ),
        response: { 200: Type.Ref('Account'), ...errorResponses(...AUTHED_ERRORS, 404, 409) }
      }
    },
    async (request) => {
      const b = request.body
      await confirm(deps, request, b.current_password)
      const account = await accounts.update(
        request.params.id,
        { permissions: b.permissions, password: b.password, disabled: b.disabled, revokeTokens: b.revoke_tokens },
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
      await accounts.getActable(request.params.id, principalOf(request))
      return tokenPage(await tokens.list(request.params.id, tokenListOptions(request.query)))
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
        body: Type.Object(TokenSpecBody, {
          additionalProperties: false,
          examples: [
            {
              name: 'orders-service introspection',
              description: 'orders-service verifies its callers’ tokens with this one',
              preset: 'introspection',
              password: EXAMPLE.password
            }
          ]
        }),
        response: { 201: Type.Ref('IssuedToken'), ...errorResponses(...AUTHED_ERRORS, 404) }
      }
    },
    async (request, reply) => {
      const b = request.body
      await confirm(deps, request, b.password)
      const owner = await accounts.getActable(request.params.id, principalOf(request))
      // Scopes within the owner's permissions and within the caller's own: never broader than itself.
      const issued = await tokens.createToken(owner, tokenSpecFrom(b), principalOf(request), actorOf(request))
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
      await accounts.getActable(request.params.id, principalOf(request))
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
      await accounts.getActable(id, principalOf(request))
      await tokens.getOwned(id, tokenId)
      await tokens.revoke(id, [tokenId], 'revoked', actorOf(request))
      const row = await tokens.getOwned(id, tokenId)
      return tokenView(row)
    }
  )

  app.post(
    '/v1/accounts/:id/revoke-before',
    {
      config: { scopes: ['accounts:write'] },
      schema: {
        operationId: 'revokeAccountTokensBefore',
        tags: [TAG],
        summary: 'Revoke every token of an account issued before a time (a watermark on the account)',
        description:
          'Tokens created before `before` are inactive from now on, including any issued concurrently; the live ones are marked revoked and published through the revocation log. ' +
          'The watermark only moves forward. Only on an account you may act on (else 403 account_more_privileged).',
        params: Params,
        body: RevokeBeforeBody,
        response: { 200: Type.Ref('RevokeBeforeResult'), ...errorResponses(...AUTHED_ERRORS, 404, 409) }
      }
    },
    async (request) => {
      await confirm(deps, request, request.body.password)
      const r = await accounts.revokeBefore(
        request.params.id,
        request.body.before === undefined ? undefined : Date.parse(request.body.before),
        principalOf(request),
        actorOf(request)
      )
      return { tokens_revoked_before: new Date(r.tokensRevokedBefore).toISOString(), revoked: r.revoked }
    }
  )
}
