import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import Type from 'typebox'
import { tokenRegex } from '../tokens/token-format.js'
import type { RouteDeps } from './context.js'
import { errorResponses } from './schemas.js'
import { GRANT_TYPE_TOKEN_EXCHANGE, TOKEN_TYPE_ACCESS_TOKEN } from './token-exchange.routes.js'

/** how service callers authenticate to /introspect and /revoke (a Bearer service token works too) */
const CALLER_AUTH_METHODS = ['client_secret_basic', 'client_secret_post']
const Urls = Type.Array(Type.String())

const Metadata = Type.Object(
  {
    issuer: Type.String({ description: '`ISSUER_URL`, or the request’s scheme and host when unset' }),
    token_endpoint: Type.String({ description: 'RFC 8693 token exchange' }),
    token_endpoint_auth_methods_supported: Urls,
    grant_types_supported: Urls,
    response_types_supported: Type.Array(Type.String(), { description: 'none: there is no authorization endpoint' }),
    scopes_supported: Urls,
    introspection_endpoint: Type.String(),
    introspection_endpoint_auth_methods_supported: Urls,
    revocation_endpoint: Type.String(),
    revocation_endpoint_auth_methods_supported: Urls,
    service_documentation: Type.String(),
    // this service's extensions
    introspection_token_type_hints_supported: Urls,
    revocation_token_type_hints_supported: Urls,
    token_exchange_subject_token_types_supported: Urls,
    token_exchange_requested_token_types_supported: Urls,
    caller_bearer_token_supported: Type.Boolean({
      description: '/introspect and /revoke also take `Authorization: Bearer <service token>`'
    }),
    revocation_stream_endpoint: Type.String({
      description: 'Server-Sent Events of the revocation log (`tokens:revocations`; resume with `Last-Event-ID`)'
    }),
    leaked_token_report_endpoint: Type.String({ description: 'public: report leaked values (`POST`, JSON)' }),
    token_pattern: Type.String({ description: 'the regex secret scanners match (docs/scanners/gitleaks.toml)' })
  },
  { $id: 'AuthorizationServerMetadata', additionalProperties: false }
)

/**
 * RFC 8414 authorization server metadata: where the RFC endpoints are and how to call them, so an
 * off-the-shelf OAuth client configures itself from the issuer URL alone.
 */
export const discoveryRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  const { config, catalogue } = deps
  app.addSchema(Metadata)

  /** `ISSUER_URL`, or (unset) the scheme and host this request came in on (`TRUST_PROXY` decides which headers count) */
  const issuerOf = (request: FastifyRequest): string => config.ISSUER_URL ?? `${request.protocol}://${request.host}`

  app.get(
    '/.well-known/oauth-authorization-server',
    {
      schema: {
        operationId: 'getAuthorizationServerMetadata',
        tags: ['rfc'],
        summary: 'RFC 8414 authorization server metadata',
        security: [],
        response: { 200: Type.Ref('AuthorizationServerMetadata'), ...errorResponses(503) }
      }
    },
    async (request, reply) => {
      const issuer = issuerOf(request)
      // derived from the Host header: never cached by anyone in between
      reply.header('cache-control', config.ISSUER_URL === undefined ? 'no-store' : 'public, max-age=300')
      return {
        issuer,
        token_endpoint: `${issuer}/token`,
        token_endpoint_auth_methods_supported: ['none', ...CALLER_AUTH_METHODS],
        grant_types_supported: [GRANT_TYPE_TOKEN_EXCHANGE],
        response_types_supported: [],
        scopes_supported: catalogue.names,
        introspection_endpoint: `${issuer}/introspect`,
        introspection_endpoint_auth_methods_supported: CALLER_AUTH_METHODS,
        revocation_endpoint: `${issuer}/revoke`,
        revocation_endpoint_auth_methods_supported: CALLER_AUTH_METHODS,
        service_documentation: `${issuer}/docs`,
        introspection_token_type_hints_supported: ['access_token'],
        revocation_token_type_hints_supported: ['access_token'],
        token_exchange_subject_token_types_supported: [TOKEN_TYPE_ACCESS_TOKEN],
        token_exchange_requested_token_types_supported: [TOKEN_TYPE_ACCESS_TOKEN],
        caller_bearer_token_supported: true,
        revocation_stream_endpoint: `${issuer}/v1/revocations`,
        leaked_token_report_endpoint: `${issuer}/v1/leaked-tokens`,
        token_pattern: tokenRegex(config.TOKEN_PREFIX).source
      }
    }
  )
}
