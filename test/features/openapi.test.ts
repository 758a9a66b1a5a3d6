import { readFileSync } from 'node:fs'
import t from 'tap'
import { CLIENT_SCHEMA_PATH, generateArtifacts, SPEC_PATH } from '../../scripts/openapi-generate.js'

const root = new URL('../../', import.meta.url).pathname
const artifacts = await generateArtifacts()
const committed = JSON.parse(readFileSync(root + SPEC_PATH, 'utf8'))
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const

t.test('the committed document and client are what the code generates', async (t) => {
  t.equal(readFileSync(root + SPEC_PATH, 'utf8'), artifacts.spec, `${SPEC_PATH} is current (npm run openapi)`)
  t.equal(readFileSync(root + CLIENT_SCHEMA_PATH, 'utf8'), artifacts.clientSchema, `${CLIENT_SCHEMA_PATH} is current`)
})

t.test('every route the server serves is in the document, and nothing else', async (t) => {
  const documented = new Set<string>()
  for (const [path, item] of Object.entries(committed.paths as Record<string, Record<string, unknown>>)) {
    for (const m of METHODS) if (item[m]) documented.add(`${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)
  }
  const served = new Set(artifacts.routes)
  t.ok(served.size > 20, `${served.size} routes`)
  t.same(
    [...served].filter((r) => !documented.has(r)),
    [],
    'no route without a documented operation'
  )
  t.same(
    [...documented].filter((r) => !served.has(r)),
    [],
    'no documented operation without a route'
  )
})

t.test('every operation is complete', async (t) => {
  const ids = new Set<string>()
  // biome-ignore lint/suspicious/noExplicitAny: walks the committed JSON document loosely
  for (const [path, item] of Object.entries(committed.paths as Record<string, Record<string, any>>)) {
    for (const m of METHODS) {
      const op = item[m]
      if (!op) continue
      const where = `${m.toUpperCase()} ${path}`
      t.ok(op.operationId && !ids.has(op.operationId), `${where}: unique operationId`)
      ids.add(op.operationId)
      t.ok(op.tags?.length === 1, `${where}: a tag`)
      t.ok(op.summary, `${where}: a summary`)
      t.ok(Array.isArray(op.security), `${where}: explicit security`)
      t.ok(op.responses['500'] || path.match(/healthz|livez|readyz|metrics|openapi/), `${where}: 500 documented`)
      // biome-ignore lint/suspicious/noExplicitAny: walks the committed JSON document loosely
      for (const [status, r] of Object.entries(op.responses as Record<string, any>)) {
        t.not(r.description, 'Default Response', `${where} ${status}: described`)
        if (Number(status) >= 400 && !path.endsWith('readyz')) {
          // RFC 8693 token exchange answers RFC 6749 §5.2 bodies ({error, error_description})
          t.equal(
            r.content['application/json'].schema.$ref,
            path === '/token' ? '#/components/schemas/OAuthError' : '#/components/schemas/Error',
            `${where} ${status}: the Error schema`
          )
        }
      }
      // `{}` among the requirements: the credential is optional (sign-out answers 204 either way)
      const required = op.security.length > 0 && !op.security.some((r: object) => Object.keys(r).length === 0)
      if (required) t.ok(op.responses['401'], `${where}: a secured operation documents 401`)
    }
  }
  for (const path of ['/introspect', '/revoke']) {
    t.same(
      Object.keys(committed.paths[path].post.requestBody.content).sort(),
      ['application/json', 'application/x-www-form-urlencoded'],
      `${path}: form and JSON`
    )
    t.same(committed.paths[path].post.security, [{ bearer: [] }, { basic: [] }])
  }
  t.same(Object.keys(committed.components.securitySchemes).sort(), ['basic', 'bearer', 'cookieAuth'])
  const names = Object.keys(committed.components.schemas)
  t.same(
    names.filter((n) => /^(def-\d+|Schema\d+)$/.test(n)),
    [],
    'every component has a real name'
  )
  t.ok(
    committed.components.schemas.Error.properties.code.enum.includes('insufficient_scope'),
    'the stable codes are listed'
  )
})

t.test('the document is served at a stable URL, with a docs UI', async (t) => {
  const { startAuthority } = await import('../support/authority.js')
  const ta = await startAuthority(t, 'embedded')
  const doc = await ta.app.inject({ url: '/openapi.json' })
  t.equal(doc.statusCode, 200)
  t.same(doc.json(), committed, '/openapi.json is the committed document')
  const ui = await ta.app.inject({ url: '/docs/' })
  t.equal(ui.statusCode, 200)
  t.match(ui.headers['content-type'], /text\/html/)
  t.match(ui.body, /swagger/i)
})
