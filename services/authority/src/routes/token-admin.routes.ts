import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { err } from '../errors.js'
import { SELECTOR_MAX_SCANNED, SELECTOR_SAMPLE, type TokenSelector } from '../tokens/token-lifecycle.js'
import { actorOf, confirm, principalOf, type RouteDeps } from './context.js'
import {
  AccountId,
  AUTHED_ERRORS,
  ConfirmPassword,
  errorResponses,
  EXAMPLE,
  SAFE_TEXT_PATTERN,
  ScopeName,
  Timestamp,
  TokenId,
  TokenKind
} from './schemas.js'
import { toUnixMs } from './views.js'

const Selector = Type.Object(
  {
    account_id: Type.Optional(AccountId),
    kind: Type.Optional(TokenKind),
    scope: Type.Optional(ScopeName),
    created_before: Type.Optional(Timestamp),
    created_after: Type.Optional(Timestamp),
    last_used_before: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'last recorded use before this time (never-used tokens only with include_never_used)'
      })
    ),
    include_never_used: Type.Optional(
      Type.Boolean({ description: 'with last_used_before: tokens with no recorded use match too (default false)' })
    ),
    name_prefix: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, pattern: SAFE_TEXT_PATTERN, description: 'exact, case-sensitive' })
    )
  },
  {
    additionalProperties: false,
    description: 'every criterion given must hold; at least one of them (include_never_used is not one)'
  }
)

const RevokeMatchingResult = Type.Object(
  {
    dry_run: Type.Boolean(),
    matched: Type.Integer({ description: 'live tokens matched that you may act on (in a real run: the ones revoked)' }),
    revoked: Type.Integer({ description: 'tokens this call revoked (0 in a dry run)' }),
    ids: Type.Array(TokenId, { description: `the first ${SELECTOR_SAMPLE} ids matched` }),
    next_cursor: Type.Union([TokenId, Type.Null()], {
      description: `null: every match was seen. Otherwise this call stopped after scanning ${SELECTOR_MAX_SCANNED} tokens: send the same request with this cursor to go on`
    })
  },
  { $id: 'RevokeMatchingResult', additionalProperties: false }
)

type SelectorBody = Type.Static<typeof Selector>

/** The request's selector in service terms, or a 400 saying what is wrong with it. */
function toSelector(s: SelectorBody): TokenSelector {
  const sel: TokenSelector = {
    accountId: s.account_id,
    kind: s.kind,
    scope: s.scope,
    createdBefore: toUnixMs(s.created_before),
    createdAfter: toUnixMs(s.created_after),
    lastUsedBefore: toUnixMs(s.last_used_before),
    includeNeverUsed: s.include_never_used,
    namePrefix: s.name_prefix
  }
  const criteria = Object.entries(sel).filter(([k, v]) => k !== 'includeNeverUsed' && v !== undefined)
  if (criteria.length === 0) throw err.validation_failed('the selector needs at least one criterion')
  if (s.include_never_used !== undefined && s.last_used_before === undefined)
    throw err.validation_failed('include_never_used goes with last_used_before')
  if (sel.createdBefore !== undefined && sel.createdAfter !== undefined && sel.createdAfter >= sel.createdBefore)
    throw err.validation_failed('created_after must be earlier than created_before')
  return sel
}

/** Admin operations across accounts' tokens (scope accounts:write). */
export const tokenAdminRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  const { tokens, accounts, catalogue } = deps
  app.addSchema(RevokeMatchingResult)

  app.post(
    '/v1/admin/tokens/revoke-matching',
    {
      config: { scopes: ['accounts:write'] },
      schema: {
        operationId: 'revokeMatchingTokens',
        tags: ['accounts'],
        summary: 'Revoke every live token matching a selector (or count them with dry_run)',
        description:
          'Matches live tokens only. `dry_run: true` counts and lists the first ids and changes nothing (no password needed). ' +
          `A real run revokes in transactions of up to 500 tokens, each appended to the revocation log, up to ${SELECTOR_MAX_SCANNED} tokens scanned per call ` +
          '(then `next_cursor`: send it back to go on); one audit row for the call, with the counts. ' +
          'Tokens of accounts holding permissions your credential lacks are left out in the query: not revoked, not counted, not listed (the answer is as if they did not exist); naming such an account in `account_id` is a 403.',
        body: Type.Object(
          {
            selector: Selector,
            dry_run: Type.Boolean(),
            cursor: Type.Optional(TokenId),
            password: ConfirmPassword
          },
          {
            additionalProperties: false,
            examples: [
              {
                selector: { kind: 'pat', last_used_before: '2026-01-01T00:00:00Z', include_never_used: true },
                dry_run: true
              },
              {
                selector: { account_id: EXAMPLE.accountId, name_prefix: 'ci-' },
                dry_run: false,
                password: EXAMPLE.password
              }
            ]
          }
        ),
        response: { 200: Type.Ref('RevokeMatchingResult'), ...errorResponses(...AUTHED_ERRORS, 404, 409) }
      }
    },
    async (request) => {
      const b = request.body
      const sel = toSelector(b.selector)
      if (sel.scope !== undefined) catalogue.assertKnown([sel.scope])
      if (!b.dry_run) await confirm(deps, request, b.password)
      const caller = principalOf(request)
      // a named account must be within the caller's reach (404 / 403 like every account route)
      if (sel.accountId !== undefined) await accounts.getActable(sel.accountId, caller)
      // tokens of accounts holding what the caller lacks are left out in the query
      const ownerLacks = caller === null ? [] : catalogue.names.filter((name) => !caller.scopes.includes(name))
      const r = await tokens.revokeMatching(
        { ...sel, ownerLacks },
        {
          dryRun: b.dry_run,
          cursor: b.cursor ?? null,
          mayActOn: (permissions) => accounts.mayActOn(caller, permissions)
        },
        actorOf(request)
      )
      return {
        dry_run: b.dry_run,
        matched: r.matched,
        revoked: r.revoked,
        ids: r.ids,
        next_cursor: r.nextCursor
      }
    }
  )
}
