import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import type { OpenAPIV3 } from 'openapi-types'
import Type from 'typebox'
import { ERROR_CODES } from './errors.js'

/** What each status means, for the response descriptions of every operation. */
const STATUS_TEXT: Record<string, string> = {
  '200': 'OK',
  '201': 'Created (a token value, when present, is shown this once)',
  '400': 'Bad input: invalid_request, validation_failed, password_required, unknown_scope, unknown_preset, invalid_expiry',
  '401': 'Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, invalid_client (see WWW-Authenticate)',
  '403': 'Not allowed: insufficient_scope, scope_not_permitted, password_confirmation_failed, forbidden',
  '404': 'not_found',
  '409': 'Conflict with the current state: token_inactive, conflict, username_taken',
  '413': 'payload_too_large',
  '415': 'unsupported_media_type',
  '429': 'too_many_requests (see Retry-After)',
  '500': 'internal_error (no internal detail is ever given)',
  '503': 'service_unavailable: a dependency is down or slow; never a pass (see Retry-After)'
}

const TAGS = [
  { name: 'auth', description: 'Login: username + password → login token' },
  { name: 'tokens', description: 'Your own tokens (PATs): create, list, edit, regenerate, copy, revoke' },
  { name: 'accounts', description: 'The caller, and admin management of accounts and their tokens' },
  { name: 'scopes', description: 'The scope catalogue and presets' },
  { name: 'rfc', description: 'RFC 7662 introspection and RFC 7009 revocation, for services' },
  { name: 'operations', description: 'Health, readiness, metrics and this document' }
]

/**
 * Post-processing that makes the generated document exact: response descriptions by status,
 * explicit per-operation security, and optional bodies marked optional.
 */
function finish(doc: OpenAPIV3.Document): OpenAPIV3.Document {
  for (const item of Object.values(doc.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const op = item?.[method]
      if (op === undefined) continue
      op.security ??= [{ bearer: [] }]
      for (const [status, response] of Object.entries(op.responses)) {
        const r = response as OpenAPIV3.ResponseObject
        if (r.description === 'Default Response') r.description = STATUS_TEXT[status] ?? 'Response'
      }
      const body = op.requestBody as OpenAPIV3.RequestBodyObject | undefined
      const schema = body?.content['application/json']?.schema as OpenAPIV3.SchemaObject | undefined
      if (body && schema && !('$ref' in schema) && (schema.required ?? []).length === 0) body.required = false
    }
  }
  delete doc.security
  doc.tags = TAGS
  return doc
}

/** The OpenAPI document (from the route schemas), served at /openapi.json, with a UI at /docs. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Token authority',
        version: '1.0.0',
        license: { name: 'Proprietary (internal service)' },
        description:
          'Issues, regenerates, copies, edits, revokes and introspects access tokens. Errors share one shape (the Error ' +
          `schema) with a stable code: ${Object.keys(ERROR_CODES).join(', ')}.`
      },
      servers: [{ url: '/', description: 'relative: the authority serving this document; point generated clients at your deployment' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'a login token, PAT or service token' },
          basic: { type: 'http', scheme: 'basic', description: 'service callers of /introspect and /revoke: client_id = service account username, client_secret = one of its tokens' }
        }
      }
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `Schema${i}`) },
    transformObject: (doc) => finish(('openapiObject' in doc ? doc.openapiObject : {}) as OpenAPIV3.Document)
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })
  app.get(
    '/openapi.json',
    {
      logLevel: 'warn',
      schema: {
        operationId: 'getOpenApiDocument',
        tags: ['operations'],
        summary: 'This OpenAPI document',
        security: [],
        response: { 200: Type.Object({}, { additionalProperties: true, description: 'OpenAPI 3.0 document' }) }
      }
    },
    async () => app.swagger()
  )
}
