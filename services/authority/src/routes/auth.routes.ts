import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import type { Realm } from '../accounts/account-service.js'
import { USERNAME_MAX_LENGTH } from '../accounts/username.js'
import { seconds } from '../clock.js'
import type { RouteDeps } from './context.js'
import { errorResponses, EXAMPLE } from './schemas.js'

const LoginBody = Type.Object(
  {
    // Any text: a name outside the username pattern is answered like an unknown user (401), after
    // the same work (accounts/username.ts). Case and width do not matter (NFKC, lower case).
    username: Type.String({ minLength: 1, maxLength: USERNAME_MAX_LENGTH }),
    password: Type.String({ minLength: 1, maxLength: 1024 })
  },
  { additionalProperties: false, examples: [{ username: 'jane.doe', password: EXAMPLE.password }] }
)

const TokenResponse = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer(),
    scope: Type.String({ description: 'space-separated permissions the token carries now' })
  },
  { $id: 'LoginToken', additionalProperties: false }
)

/** Username + password → login token, one endpoint per realm (Magento-style). Public. */
export const authRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  app.addSchema(TokenResponse)
  for (const realm of ['admin', 'customer'] as const satisfies readonly Realm[]) {
    app.post(
      `/v1/auth/${realm}/token`,
      {
        schema: {
          operationId: realm === 'admin' ? 'loginAdmin' : 'loginCustomer',
          tags: ['auth'],
          summary: `Exchange an ${realm} username and password for a login token`,
          security: [],
          body: LoginBody,
          response: { 200: Type.Ref('LoginToken'), ...errorResponses(400, 401, 413, 415, 429, 503) }
        }
      },
      async (request, reply) => {
        const issued = await deps.accounts.login(realm, request.body.username, request.body.password, request.ip)
        const account = await deps.accounts.get(issued.token.accountId)
        // RFC 6749 §5.1: token responses are not cached.
        reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
        return {
          access_token: issued.value,
          token_type: 'Bearer' as const,
          expires_in: (issued.token.expiresAt ?? 0) / 1000 - seconds(issued.token.createdAt),
          scope: account.permissions.join(' ')
        }
      }
    )
  }
}
