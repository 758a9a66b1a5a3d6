import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import type { OpenAPIV3 } from 'openapi-types'
import Type from 'typebox'
import { ERRORS } from './errors.js'

/** What a status means, around the catalogue's codes for it: `summary: codes: detail (note)`, where it helps. */
const STATUS_SUMMARY: Record<number, { summary?: string; detail?: string; note?: string }> = {
  400: { summary: 'Bad input' },
  401: { summary: 'Missing or invalid credential', note: 'see WWW-Authenticate' },
  403: { summary: 'Not allowed' },
  409: { summary: 'Conflict with the current state' },
  429: { note: 'see Retry-After' },
  500: { note: 'no internal detail is ever given' },
  503: { detail: 'a dependency is down or slow; never a pass', note: 'see Retry-After' }
}

/**
 * The response descriptions by status: success texts, then for every status of the error catalogue
 * the codes answered with it (`Bad input: validation_failed, invalid_request, …`).
 */
export function statusDescriptions(): Record<string, string> {
  const text: Record<string, string> = {
    '200': 'OK',
    '201': 'Created (a token value, when present, is shown this once)'
  }
  const byStatus = new Map<number, string[]>()
  for (const [code, { status }] of Object.entries(ERRORS)) byStatus.set(status, [...(byStatus.get(status) ?? []), code])
  for (const [status, codes] of byStatus) {
    const { summary, detail, note } = STATUS_SUMMARY[status] ?? {}
    const parts = [
      summary !== undefined ? `${summary}: ` : '',
      codes.join(', '),
      detail !== undefined ? `: ${detail}` : '',
      note !== undefined ? ` (${note})` : ''
    ]
    text[String(status)] = parts.join('')
  }
  return text
}
const STATUS_TEXT = statusDescriptions()

const TAGS = [
  {
    name: 'auth',
    description:
      'Login: username + password → login token; the token console’s cookie session (sign in, check, sign out)'
  },
  { name: 'tokens', description: 'Your own tokens (PATs): create, list, edit, regenerate, copy, revoke' },
  { name: 'accounts', description: 'The caller, and admin management of accounts and their tokens' },
  { name: 'scopes', description: 'The scope catalogue and presets' },
  { name: 'rfc', description: 'RFC 7662 introspection and RFC 7009 revocation, for services' },
  {
    name: 'webhooks',
    description: 'Admin: signed webhook endpoints for token and account events, their delivery logs'
  },
  { name: 'operations', description: 'Health, readiness, metrics and this document' }
]

/**
 * OpenAPI 3.0 Schema Objects take one `example`, not JSON Schema's `examples` array: @fastify/swagger
 * converts it on bodies, parameters and their properties but not inside anyOf (nullable fields).
 * Parameter and media `examples` are maps, not arrays, and stay.
 */
function schemaExamplesToExample(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) schemaExamplesToExample(item)
    return
  }
  if (typeof node !== 'object' || node === null) return
  const obj = node as Record<string, unknown>
  if (Array.isArray(obj.examples)) {
    if (obj.example === undefined && obj.examples.length > 0) obj.example = obj.examples[0]
    delete obj.examples
  }
  for (const value of Object.values(obj)) schemaExamplesToExample(value)
}

/** The component a `$ref` names, when the document has it. */
function component(doc: OpenAPIV3.Document, schema: unknown): OpenAPIV3.SchemaObject | undefined {
  const ref = (schema as { $ref?: unknown } | undefined)?.$ref
  if (typeof ref !== 'string' || !ref.startsWith('#/components/schemas/')) return undefined
  return doc.components?.schemas?.[ref.slice('#/components/schemas/'.length)] as OpenAPIV3.SchemaObject | undefined
}

/**
 * Post-processing that makes the generated document exact: response descriptions by status,
 * explicit per-operation security, optional bodies marked optional, and examples where Swagger UI
 * looks for them (a body that is a `$ref` gets its component's example on each media type).
 */
function finish(doc: OpenAPIV3.Document): OpenAPIV3.Document {
  schemaExamplesToExample(doc.components?.schemas)
  for (const item of Object.values(doc.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const op = item?.[method]
      if (op === undefined) continue
      // the authenticated /v1 routes: a Bearer token, or the console's session cookie (CSRF rule above)
      op.security ??= [{ bearer: [] }, { cookieAuth: [] }]
      for (const [status, response] of Object.entries(op.responses)) {
        const r = response as OpenAPIV3.ResponseObject
        if (r.description === 'Default Response') r.description = STATUS_TEXT[status] ?? 'Response'
      }
      const body = op.requestBody as OpenAPIV3.RequestBodyObject | undefined
      const schema = body?.content['application/json']?.schema as OpenAPIV3.SchemaObject | undefined
      if (body && schema && !('$ref' in schema) && (schema.required ?? []).length === 0) body.required = false
      for (const media of Object.values(body?.content ?? {})) {
        const example = component(doc, media.schema)?.example
        if (media.example === undefined && media.examples === undefined && example !== undefined)
          media.example = example
      }
    }
  }
  delete doc.security
  doc.tags = TAGS
  return doc
}

/**
 * The Content-Security-Policy of /docs and its assets: everything from this origin only, no inline
 * or eval'd script, no plugins, no framing, no form posts elsewhere. Deliberately without
 * `upgrade-insecure-requests` (the @fastify/swagger-ui default has it): /docs is reached over
 * plain http inside a cluster or through a port-forward, by host name or IP, and there it made the
 * browser fetch every asset over https and show a blank page. 'self' already pins each fetch to the
 * scheme, host and port the page was loaded from, so nothing is lost: a deployment behind TLS is
 * loaded over https and stays there.
 */
export const DOCS_CSP: Readonly<Record<string, string>> = {
  'default-src': "'self'",
  'base-uri': "'self'",
  'connect-src': "'self'",
  'font-src': "'self' data:",
  'form-action': "'self'",
  'frame-ancestors': "'none'",
  'img-src': "'self' data:",
  'object-src': "'none'",
  'script-src': "'self'",
  'script-src-attr': "'none'",
  // the one inline <style> Swagger UI renders: the colours of the Swagger logo in its top bar
  // (swagger-ui-dist 5; a new version that changes it shows up as a CSP error in test/features/docs-ui.test.ts)
  'style-src': "'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='"
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
          `schema) with a stable code: ${Object.keys(ERRORS).join(', ')}.`
      },
      servers: [
        {
          url: '/',
          description: 'relative: the authority serving this document; point generated clients at your deployment'
        }
      ],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'a login token, PAT or service token' },
          cookieAuth: {
            type: 'apiKey',
            in: 'cookie',
            name: 'ta_session',
            description:
              'the token console’s session (`POST /v1/auth/session`): an HttpOnly cookie holding a login token, named `__Host-ta_session` over TLS. Accepted by the /v1 routes only with the header `X-Requested-By: token-console`, no `Origin` other than the authority’s own and `Sec-Fetch-Site` absent or `same-origin` (otherwise 403 `csrf_rejected`), and only when the request has no `Authorization` header (which always wins). Never accepted by /introspect or /revoke.'
          },
          basic: {
            type: 'http',
            scheme: 'basic',
            description:
              'service callers of /introspect and /revoke: client_id = service account username, client_secret = one of its tokens'
          }
        }
      }
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `Schema${i}`) },
    transformObject: (doc) => finish(('openapiObject' in doc ? doc.openapiObject : {}) as OpenAPIV3.Document)
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: Object.entries(DOCS_CSP)
      .map(([directive, sources]) => `${directive} ${sources}`)
      .join('; ')
  })
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
