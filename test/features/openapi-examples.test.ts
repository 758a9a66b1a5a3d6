import type { LightMyRequestResponse } from 'fastify'
import type { OpenAPIV3 } from 'openapi-types'
import t from 'tap'
import { bearer, createAccount, errorCode, login, startAuthority } from '../support/authority.js'

/**
 * Every request body and parameter in the OpenAPI document carries an example (what "Try it out"
 * in /docs fills in), and each is accepted by the running authority as it stands: the request
 * built from an operation's examples passes validation and the checks behind it (known scopes and
 * presets, an expiry in the future, the caller's password). Ids in examples are made up, so "not
 * found" is a fine answer; so is "taken" for a username that exists.
 */
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const

interface Example {
  name: string
  value: unknown
}

/** the examples Swagger UI shows for a media type or a parameter (OpenAPI 3.0: `example`, `examples`, or the schema's) */
function examplesOf(
  node: { example?: unknown; examples?: Record<string, unknown>; schema?: unknown },
  doc: OpenAPIV3.Document
): Example[] {
  if (node.example !== undefined) return [{ name: 'example', value: node.example }]
  if (node.examples !== undefined) {
    return Object.entries(node.examples).map(([name, e]) => ({ name, value: (e as OpenAPIV3.ExampleObject).value }))
  }
  const schema = schemaOf(node.schema, doc)
  return schema?.example !== undefined ? [{ name: 'schema example', value: schema.example }] : []
}

/** a schema, or the component its `$ref` names */
function schemaOf(schema: unknown, doc: OpenAPIV3.Document): OpenAPIV3.SchemaObject | undefined {
  const ref = (schema as { $ref?: unknown } | undefined)?.$ref
  if (typeof ref === 'string')
    return doc.components?.schemas?.[ref.replace('#/components/schemas/', '')] as OpenAPIV3.SchemaObject | undefined
  return schema as OpenAPIV3.SchemaObject | undefined
}

function formEncode(value: unknown): string {
  const form = new URLSearchParams()
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    for (const item of Array.isArray(v) ? v : [v]) form.append(k, String(item))
  }
  return form.toString()
}

const ENCODERS: Record<string, (value: unknown) => string> = {
  'application/json': (value) => JSON.stringify(value),
  'application/x-www-form-urlencoded': formEncode
}

t.test('every request body and parameter has an example the server accepts as it is', async (t) => {
  const ta = await startAuthority(t, 'embedded')
  const docRes = await ta.app.inject({ url: '/openapi.json' })
  t.equal(docRes.statusCode, 200)
  const doc = docRes.json() as OpenAPIV3.Document

  // The caller is the account of the login example, an admin whose password is the one the
  // examples confirm changes with: then every check behind validation runs on the examples too.
  const loginMedia = (doc.paths['/v1/auth/admin/token']!.post!.requestBody as OpenAPIV3.RequestBodyObject).content[
    'application/json'
  ]!
  const credentials = examplesOf(loginMedia, doc)[0]?.value as { username: string; password: string }
  t.ok(credentials?.username && credentials.password, 'the login example has a username and a password')
  await createAccount(ta, { username: credentials.username, password: credentials.password, kind: 'admin' })
  const token = await login(ta.app, 'admin', credentials.username, credentials.password)
  // the console's cookie, for the operations that take only it (its check; sign-out is not sent it)
  const signedIn = await ta.app.inject({
    method: 'POST',
    url: '/v1/auth/session',
    payload: { realm: 'admin', ...credentials }
  })
  t.equal(signedIn.statusCode, 200, 'console sign-in')
  const sessionCookie = ([] as string[])
    .concat(signedIn.headers['set-cookie'] ?? [])
    .map((c) => c.split(';')[0])
    .join('; ')

  /** a token of `accountPath` (the caller's own by default), made for one request */
  let fresh = 0
  const freshToken = async (accountPath = '/v1/tokens'): Promise<string> => {
    const res = await ta.app.inject({
      method: 'POST',
      url: accountPath,
      headers: bearer(token),
      payload: { name: `fresh ${++fresh}`, scopes: ['tokens:read', 'tokens:write'], password: credentials.password }
    })
    if (res.statusCode !== 201) throw new Error(`fresh token: ${res.statusCode} ${res.body}`)
    return (res.json() as { token: { id: string } }).token.id
  }
  /** existing ids for a path's parameters */
  const freshIds = async (path: string): Promise<Record<string, string>> => {
    if (path.startsWith('/v1/tokens/{id}')) return { id: await freshToken() }
    if (path.startsWith('/v1/accounts/{id}')) {
      // a service account holding every built-in scope: any example's scopes or preset fit it
      const id = await createAccount(ta, {
        username: `fresh-service-${++fresh}`,
        password: 'fresh-service-password-1',
        kind: 'service',
        permissions: ['tokens:read', 'tokens:write', 'tokens:introspect', 'tokens:introspect:reason']
      })
      return path.includes('{tokenId}') ? { id, tokenId: await freshToken(`/v1/accounts/${id}/tokens`) } : { id }
    }
    if (path.startsWith('/v1/webhooks/{id}')) {
      // paused: the examples' test events and the like send nothing anywhere
      const res = await ta.app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: bearer(token),
        payload: {
          url: 'https://hooks.example.com/fresh',
          event_types: ['token.created'],
          enabled: false,
          password: credentials.password
        }
      })
      if (res.statusCode !== 201) throw new Error(`fresh webhook: ${res.statusCode} ${res.body}`)
      return { id: (res.json() as { endpoint: { id: string } }).endpoint.id }
    }
    throw new Error(`no existing ids for ${path}`)
  }

  let operations = 0
  let bodies = 0
  let parameters = 0
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item?.[method]
      if (op === undefined) continue
      operations++
      const where = `${op.operationId} (${method.toUpperCase()} ${path})`

      const pathParams: Record<string, string> = {}
      const query = new URLSearchParams()
      for (const p of (op.parameters ?? []) as OpenAPIV3.ParameterObject[]) {
        parameters++
        const [example] = examplesOf(p, doc)
        if (!t.ok(example, `${where}: parameter ${p.in} ${p.name} has an example`) || example === undefined) continue
        if (p.in === 'path') pathParams[p.name] = String(example.value)
        else if (p.in === 'query') query.set(p.name, String(example.value))
        else t.fail(`${where}: a ${p.in} parameter (this test sends path and query parameters only)`)
      }
      const urlWith = (ids: Record<string, string>): string => {
        const filled = path.replace(/\{(\w+)\}/g, (whole, name: string) =>
          ids[name] !== undefined ? encodeURIComponent(ids[name]) : whole
        )
        return query.size > 0 ? `${filled}?${query}` : filled
      }
      const url = urlWith(pathParams)
      t.notMatch(url, /[{}]/, `${where}: every path parameter filled in`)

      const requests: { label: string; headers: Record<string, string>; payload?: string; bodyCredential?: boolean }[] =
        []
      const body = op.requestBody as OpenAPIV3.RequestBodyObject | undefined
      for (const [mediaType, media] of Object.entries(body?.content ?? {})) {
        bodies++
        const examples = examplesOf(media, doc)
        t.ok(examples.length > 0, `${where}: ${mediaType} body has an example`)
        const encode = ENCODERS[mediaType]
        if (!t.ok(encode, `${where}: this test can send ${mediaType}`) || encode === undefined) continue
        for (const e of examples)
          requests.push({
            label: `${mediaType} ${e.name}`,
            headers: { 'content-type': mediaType },
            payload: encode(e.value)
          })
        if (mediaType === 'application/x-www-form-urlencoded') {
          // Swagger UI shows a form body as one input per field, filled from the field's own
          // example, and sends every filled field
          const properties = schemaOf(media.schema, doc)?.properties ?? {}
          const fields: Record<string, unknown> = {}
          for (const [name, p] of Object.entries(properties)) {
            const example = (p as OpenAPIV3.SchemaObject).example
            if (t.ok(example !== undefined, `${where}: ${mediaType} field ${name} has an example`))
              fields[name] = example
          }
          // client_id + client_secret in the body are the credential (sent without a header)
          requests.push({
            label: `${mediaType} fields as Swagger UI fills them`,
            headers: { 'content-type': mediaType },
            payload: formEncode(fields),
            bodyCredential: 'client_secret' in fields
          })
        }
      }
      if (requests.length === 0) requests.push({ label: 'no body', headers: {} })

      const secured = (op.security ?? []).length > 0
      const cookieOnly = op.security?.length === 1 && 'cookieAuth' in op.security[0]!
      const credential = cookieOnly ? { cookie: sessionCookie, 'x-requested-by': 'token-console' } : bearer(token)
      // a Server-Sent Events stream never ends, so it is not sent here (its examples are checked
      // above; revocation-log.test.ts runs the stream with them)
      const streamed = Object.keys(
        (op.responses as Record<string, OpenAPIV3.ResponseObject>)['200']?.content ?? {}
      ).includes('text/event-stream')
      if (streamed) continue
      const send = (url: string, r: (typeof requests)[number]): Promise<LightMyRequestResponse> =>
        ta.app.inject({
          method: method.toUpperCase() as 'GET',
          url,
          headers: { ...r.headers, ...(secured && r.bodyCredential !== true ? credential : {}) },
          ...(r.payload !== undefined ? { payload: r.payload } : {})
        })
      for (const r of requests) {
        const res = await send(url, r)
        const code = errorCode(res)
        // made-up ids: 404; a username the example creates twice: 409; logging in to the other realm: 401
        const accepted =
          res.statusCode < 300 ||
          res.statusCode === 404 ||
          (res.statusCode === 409 && code === 'username_taken') ||
          (!secured && res.statusCode === 401 && code === 'invalid_credentials') ||
          // ... and a made-up client credential in the body: 401 (after validation, which passed)
          (r.bodyCredential === true && res.statusCode === 401 && code === 'invalid_client') ||
          // ... and the made-up subject token of a token exchange: refused after validation passed
          (op.operationId === 'exchangeToken' &&
            res.statusCode === 400 &&
            res.json().error_description === 'the subject_token is not active')
        t.ok(accepted, `${where} with ${r.label}: accepted (${res.statusCode} ${code ?? ''})`, {
          url,
          payload: r.payload,
          response: res.body.slice(0, 500)
        })
        if (op.operationId === 'changeMyPassword' && res.statusCode === 204) {
          // the example changed the caller's own password: put it back for the examples after it
          const sent = JSON.parse(r.payload ?? '{}') as { current_password: string; new_password: string }
          const back = await send(url, {
            ...r,
            payload: JSON.stringify({ current_password: sent.new_password, new_password: sent.current_password })
          })
          t.equal(back.statusCode, 204, 'the password is changed back')
        }
        if (Object.keys(pathParams).length === 0) continue
        // the same request on things that exist (fresh for each request): the body is carried out
        const real = urlWith(await freshIds(path))
        const done = await send(real, r)
        t.ok(
          done.statusCode < 300,
          `${where} with ${r.label} on existing ids: done (${done.statusCode} ${errorCode(done) ?? ''})`,
          {
            url: real,
            payload: r.payload,
            response: done.body.slice(0, 500)
          }
        )
      }
    }
  }
  t.ok(operations > 20, `${operations} operations`)
  t.ok(bodies >= 14, `${bodies} request bodies (media types) checked`)
  t.ok(parameters >= 15, `${parameters} parameters checked`)
})

t.test(
  'examples are where Swagger UI takes them from (OpenAPI 3.0), never JSON Schema `examples` arrays',
  async (t) => {
    const ta = await startAuthority(t, 'embedded')
    const doc = (await ta.app.inject({ url: '/openapi.json' })).json() as OpenAPIV3.Document
    const arrays: string[] = []
    const walk = (node: unknown, at: string): void => {
      if (typeof node !== 'object' || node === null) return
      if (Array.isArray((node as { examples?: unknown }).examples)) arrays.push(at)
      for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k}`)
    }
    walk(doc, '#')
    t.same(
      arrays,
      [],
      'no `examples` array anywhere (OpenAPI 3.0 takes `example` on schemas, a map on media types and parameters)'
    )
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const op = item?.[method]
        const body = op?.requestBody as OpenAPIV3.RequestBodyObject | undefined
        for (const [mediaType, media] of Object.entries(body?.content ?? {})) {
          // the media type's own example: Swagger UI fills the "Try it out" editor from it
          t.ok(
            media.example !== undefined || media.examples !== undefined,
            `${method.toUpperCase()} ${path} ${mediaType}: a media-type example`
          )
        }
      }
    }
  }
)
