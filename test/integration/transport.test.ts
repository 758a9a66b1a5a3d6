import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { BACKEND_NAMES } from '../helpers/backends.js'
import { ADMIN, bearer, createAccount, createService, errorCode, login, startAuthority, type TestAuthority } from '../helpers/authority.js'

/**
 * RFC 6750 transport of the Bearer credential, and the one error contract (DESIGN.md §6, §8):
 * header and query parameters, ambiguity, challenges, error body shape, body limits, media types,
 * dependency failure (503 without internal text) and secrets kept out of the logs.
 */

const REALM = 'token-authority'
const ERROR_KEYS = ['code', 'error', 'message', 'requestId', 'statusCode']
const INVALID_TOKEN_CHALLENGE = /^Bearer realm="token-authority", error="invalid_token", error_description="([^"]+)"$/

/** Asserts the one error shape: exact keys, status, code, and the request id echoed in the header. */
function assertError(t: Tap, res: LightMyRequestResponse, status: number, code: string, label: string): Record<string, unknown> {
  t.equal(res.statusCode, status, `${label}: status ${status}`)
  t.equal(errorCode(res), code, `${label}: code ${code}`)
  t.match(String(res.headers['content-type']), /^application\/json/, `${label}: JSON body`)
  const body = res.json() as Record<string, unknown>
  t.strictSame(Object.keys(body).sort(), ERROR_KEYS, `${label}: exactly the error keys`)
  t.equal(body.statusCode, status, `${label}: statusCode in the body`)
  t.type(body.message, 'string')
  t.type(body.error, 'string')
  t.ok(typeof body.requestId === 'string' && body.requestId.length > 0, `${label}: a request id`)
  t.equal(body.requestId, res.headers['x-request-id'], `${label}: requestId equals the x-request-id header`)
  return body
}
/** the assertion methods the helpers use (a subtest has them all) */
type Tap = Pick<typeof t, 'equal' | 'match' | 'strictSame' | 'type' | 'ok'>

function assertNotLogged(t: Tap, ta: TestAuthority, secret: string, label: string): void {
  t.ok(ta.logs.length > 0, 'logs were captured')
  const hits = ta.logs.filter((line) => line.includes(secret))
  t.equal(hits.length, 0, `${label} appears in no log line${hits.length > 0 ? `: ${hits[0]}` : ''}`)
}

/** A raw HTTP request, for what light-my-request cannot express faithfully. */
function rawGet(port: number, path: string, headers: Record<string, string | string[]>): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', headers: { ...headers, connection: 'close' }, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, unknown>, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

for (const backend of BACKEND_NAMES()) {
  t.test(`transport and the error contract on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend)
    const { app } = ta
    const me = (headers: Record<string, string | string[]>, query = '') => app.inject({ method: 'GET', url: `/v1/me${query}`, headers })

    t.test('Authorization: Bearer, scheme case-insensitive', async (t) => {
      const ok = await me(bearer(ta.adminToken))
      t.equal(ok.statusCode, 200)
      t.equal(ok.json().account.username, ADMIN.username)
      t.equal(ok.json().token.kind, 'lgn')
      for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
        const res = await me({ authorization: `${scheme} ${ta.adminToken}` })
        t.equal(res.statusCode, 200, `scheme "${scheme}"`)
      }
      const none = await me({})
      assertError(t, none, 401, 'unauthorized', 'no credential')
      t.equal(none.headers['www-authenticate'], `Bearer realm="${REALM}"`, 'a bare challenge without error=')
      assertError(t, await me({ authorization: `Token ${ta.adminToken}` }), 400, 'invalid_request', 'an unknown scheme')
      assertError(t, await me({ authorization: 'Bearer' }), 400, 'invalid_request', 'Bearer without a value')
      assertError(t, await me({ authorization: `Bearer ${ta.adminToken} extra` }), 400, 'invalid_request', 'Bearer with two values')
      assertError(
        t,
        await me({ authorization: `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}` }),
        400,
        'invalid_request',
        'Basic on a Bearer route'
      )
    })

    t.test('query-string tokens are refused by default', async (t) => {
      for (const param of ['access_token', 'session']) {
        const res = await me({}, `?${param}=${encodeURIComponent(ta.adminToken)}`)
        assertError(t, res, 400, 'invalid_request', `?${param}= with the default config`)
        t.match(res.headers['www-authenticate'], /error="invalid_request"/)
        const intro = await app.inject({
          method: 'POST',
          url: `/introspect?${param}=${encodeURIComponent(ta.adminToken)}`,
          payload: { token: ta.adminToken }
        })
        assertError(t, intro, 400, 'invalid_request', `?${param}= on /introspect`)
      }
      assertNotLogged(t, ta, ta.adminToken, 'the admin token given in the query string')
    })

    t.test('two Authorization headers are ambiguous', async (t) => {
      const injected = await me({ authorization: [`Bearer ${ta.adminToken}`, `Bearer ${ta.adminToken}`] })
      assertError(t, injected, 400, 'invalid_request', 'two headers (inject)')

      // The same over a real socket, where Node keeps only the first header in request.headers.
      const svc = await createService(ta, 'two-headers-svc', ['tokens:introspect'])
      await app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = app.server.address() as AddressInfo
      const single = await rawGet(port, '/v1/me', { authorization: `Bearer ${ta.adminToken}` })
      t.equal(single.status, 200, 'one header over the socket: 200')
      for (const pair of [
        [`Bearer ${ta.adminToken}`, `Bearer ${ta.adminToken}`],
        [`Bearer ${ta.adminToken}`, `Bearer ${svc.token}`],
        [`Bearer ${ta.adminToken}`, 'Bearer garbage']
      ]) {
        const res = await rawGet(port, '/v1/me', { authorization: pair })
        t.equal(res.status, 400, 'two headers over the socket: 400')
        const body = JSON.parse(res.body) as Record<string, unknown>
        t.equal(body.code, 'invalid_request')
        t.strictSame(Object.keys(body).sort(), ERROR_KEYS)
        t.equal(body.requestId, res.headers['x-request-id'])
      }
    })

    t.test('invalid, revoked and expired tokens: 401 with an RFC 6750 challenge', async (t) => {
      for (const value of ['garbage', 'tka_pat_' + 'A'.repeat(132), ta.adminToken.slice(0, -1) + (ta.adminToken.endsWith('A') ? 'B' : 'A')]) {
        const res = await me(bearer(value))
        const body = assertError(t, res, 401, 'invalid_token', 'an invalid token')
        const m = INVALID_TOKEN_CHALLENGE.exec(String(res.headers['www-authenticate']))
        t.ok(m, `challenge: ${res.headers['www-authenticate']}`)
        t.equal(m?.[1], body.message, 'error_description is the message')
      }

      const created = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: 'soon revoked', scopes: ['tokens:read'], password: ADMIN.password }
      })
      t.equal(created.statusCode, 201)
      const pat = created.json().access_token as string
      t.equal((await me(bearer(pat))).statusCode, 200, 'the PAT works before it is revoked')
      const del = await app.inject({
        method: 'DELETE',
        url: `/v1/tokens/${created.json().token.id}`,
        headers: bearer(ta.adminToken),
        payload: { password: ADMIN.password }
      })
      t.equal(del.statusCode, 200)
      const revoked = await me(bearer(pat))
      assertError(t, revoked, 401, 'invalid_token', 'a revoked token')
      const rm = INVALID_TOKEN_CHALLENGE.exec(String(revoked.headers['www-authenticate']))
      t.ok(rm, `challenge: ${revoked.headers['www-authenticate']}`)
      t.match(rm?.[1], /revoked/, 'the description says revoked')
      t.match(revoked.json().message, /revoked/)
    })

    t.test('expired token on a frozen clock: 401 saying expired', async (t) => {
      const start = Date.now()
      const frozen = await startAuthority(t, backend, { frozen: start })
      const clock = frozen.clock as { advance(ms: number): void }
      t.equal((await frozen.app.inject({ url: '/v1/me', headers: bearer(frozen.adminToken) })).statusCode, 200)
      clock.advance(5 * 3600_000) // the admin login token lives 4 h
      const res = await frozen.app.inject({ url: '/v1/me', headers: bearer(frozen.adminToken) })
      assertError(t, res, 401, 'invalid_token', 'an expired token')
      const m = INVALID_TOKEN_CHALLENGE.exec(String(res.headers['www-authenticate']))
      t.ok(m, `challenge: ${res.headers['www-authenticate']}`)
      t.match(m?.[1], /expired/, 'the description says expired')
      t.match(res.json().message, /expired/)
    })

    t.test('the error body: exact keys and the request id', async (t) => {
      const given = await app.inject({ url: '/v1/nope', headers: { 'x-request-id': 'req-abc.123_X' } })
      const body = assertError(t, given, 404, 'not_found', 'a given request id')
      t.equal(body.requestId, 'req-abc.123_X', 'a well-formed x-request-id is kept')
      const bad = await app.inject({ url: '/v1/nope', headers: { 'x-request-id': 'has spaces and "quotes"' } })
      const badBody = assertError(t, bad, 404, 'not_found', 'an ill-formed request id')
      t.not(badBody.requestId, 'has spaces and "quotes"', 'an ill-formed x-request-id is replaced')

      const svc = await createService(ta, 'shape-svc', ['tokens:introspect'])
      const forbidden = await app.inject({ url: '/v1/accounts', headers: bearer(svc.token) })
      assertError(t, forbidden, 403, 'insufficient_scope', 'a missing scope')
      t.match(forbidden.headers['www-authenticate'], /^Bearer realm="token-authority", error="insufficient_scope", error_description="[^"]+", scope="accounts:read"$/)
      assertError(t, await app.inject({ method: 'POST', url: '/v1/auth/admin/token', payload: { username: ADMIN.username, password: 'wrong-password' } }), 401, 'invalid_credentials', 'a wrong password')
      assertError(t, await app.inject({ method: 'POST', url: '/v1/auth/admin/token', payload: { username: ADMIN.username } }), 400, 'validation_failed', 'a missing field')
      const noPw = await app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(ta.adminToken), payload: { name: 'x', scopes: ['tokens:read'] } })
      assertError(t, noPw, 400, 'password_required', 'no password confirmation')
    })

    t.test('body limit, media types, invalid JSON, unknown routes', async (t) => {
      const listBefore = (await app.inject({ url: '/v1/tokens?limit=200', headers: bearer(ta.adminToken) })).json().items.length as number
      t.equal(ta.config.BODY_LIMIT_BYTES, 16384, 'the default body limit')

      const big = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: 'big', scopes: ['tokens:read'], description: 'x'.repeat(20000), password: ADMIN.password }
      })
      assertError(t, big, 413, 'payload_too_large', 'a JSON body over the limit')
      const bigLogin = await app.inject({ method: 'POST', url: '/v1/auth/admin/token', payload: { username: ADMIN.username, password: 'p'.repeat(17000) } })
      assertError(t, bigLogin, 413, 'payload_too_large', 'a login body over the limit')
      const bigForm = await app.inject({
        method: 'POST',
        url: '/introspect',
        headers: { ...bearer(ta.adminToken), 'content-type': 'application/x-www-form-urlencoded' },
        payload: `token=${'x'.repeat(17000)}`
      })
      assertError(t, bigForm, 413, 'payload_too_large', 'a form body over the limit')

      const plain = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: { ...bearer(ta.adminToken), 'content-type': 'text/plain' },
        payload: 'name=x'
      })
      assertError(t, plain, 415, 'unsupported_media_type', 'text/plain on POST /v1/tokens')
      const plainIntro = await app.inject({
        method: 'POST',
        url: '/introspect',
        headers: { ...bearer(ta.adminToken), 'content-type': 'text/plain' },
        payload: 'token=x'
      })
      assertError(t, plainIntro, 415, 'unsupported_media_type', 'text/plain on /introspect')
      const xml = await app.inject({
        method: 'POST',
        url: '/introspect',
        headers: { ...bearer(ta.adminToken), 'content-type': 'application/xml' },
        payload: '<token>x</token>'
      })
      assertError(t, xml, 415, 'unsupported_media_type', 'application/xml on /introspect')

      const broken = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: { ...bearer(ta.adminToken), 'content-type': 'application/json' },
        payload: '{"name": "x", "scopes": ['
      })
      const brokenBody = assertError(t, broken, 400, 'invalid_request', 'invalid JSON')
      t.notMatch(brokenBody.message, /scopes/, 'the message does not echo the input')
      const brokenLogin = await app.inject({
        method: 'POST',
        url: '/v1/auth/admin/token',
        headers: { 'content-type': 'application/json' },
        payload: '{"username":'
      })
      assertError(t, brokenLogin, 400, 'invalid_request', 'invalid JSON on login')

      assertError(t, await app.inject({ url: '/v1/does-not-exist' }), 404, 'not_found', 'an unknown route')
      assertError(t, await app.inject({ method: 'POST', url: '/nope', payload: { a: 1 } }), 404, 'not_found', 'an unknown POST route')
      assertError(t, await app.inject({ method: 'PUT', url: '/v1/me', headers: bearer(ta.adminToken) }), 404, 'not_found', 'a known path, unknown method')

      const listAfter = (await app.inject({ url: '/v1/tokens?limit=200', headers: bearer(ta.adminToken) })).json().items.length as number
      t.equal(listAfter, listBefore, 'bad input created nothing')
    })

    t.test('secrets never reach the logs', async (t) => {
      const basicValue = Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')
      await me({ authorization: `Basic ${basicValue}` })
      await app.inject({ url: '/v1/nope', headers: bearer(ta.adminToken) })
      await app.inject({ method: 'POST', url: '/v1/tokens', headers: { ...bearer(ta.adminToken), 'content-type': 'text/plain' }, payload: 'x' })
      await app.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(ta.adminToken),
        payload: { token: ta.adminToken }
      })
      await app.inject({ method: 'POST', url: '/v1/auth/admin/token', payload: { username: ADMIN.username, password: ADMIN.password } })
      t.ok(
        ta.logs.some((l) => l.includes('/v1/me')),
        'request lines are logged (so the checks below can see a leak)'
      )
      assertNotLogged(t, ta, ta.adminToken, 'the admin token (Authorization header and body)')
      assertNotLogged(t, ta, basicValue, 'a Basic credential')
      assertNotLogged(t, ta, ADMIN.password, 'the admin password')
    })
  })

  t.test(`query-string tokens when enabled on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend, { env: { ALLOW_QUERY_TOKENS: 'true' } })
    const { app } = ta
    t.equal(ta.config.ALLOW_QUERY_TOKENS, true)
    await createAccount(ta, { username: 'quinn', password: 'customer-password-1', kind: 'customer' })
    const customer = await login(app, 'customer', 'quinn', 'customer-password-1')
    for (const param of ['access_token', 'session']) {
      for (const [who, token] of [
        ['admin', ta.adminToken],
        ['customer', customer]
      ] as const) {
        const res = await app.inject({ url: `/v1/me?${param}=${encodeURIComponent(token)}` })
        t.equal(res.statusCode, 200, `?${param}= with a valid ${who} token`)
        t.equal(res.json().account.kind, who)
      }
      const both = await app.inject({ url: `/v1/me?${param}=${encodeURIComponent(ta.adminToken)}`, headers: bearer(ta.adminToken) })
      assertError(t, both, 400, 'invalid_request', `header and ?${param}= together`)
      const empty = await app.inject({ url: `/v1/me?${param}=` })
      assertError(t, empty, 400, 'invalid_request', `an empty ?${param}=`)
      const invalid = await app.inject({ url: `/v1/me?${param}=garbage-value-in-query` })
      assertError(t, invalid, 401, 'invalid_token', `an invalid ?${param}=`)
    }
    const twoParams = await app.inject({ url: `/v1/me?access_token=${encodeURIComponent(ta.adminToken)}&session=${encodeURIComponent(ta.adminToken)}` })
    assertError(t, twoParams, 400, 'invalid_request', 'both query parameters')
    const svc = await createService(ta, 'query-svc', ['tokens:introspect'])
    const intro = await app.inject({ method: 'POST', url: `/introspect?access_token=${encodeURIComponent(svc.token)}`, payload: { token: customer } })
    t.equal(intro.statusCode, 200, 'introspection caller via the query string')
    t.equal(intro.json().active, true)
    t.ok(
      ta.logs.some((l) => l.includes('/v1/me')),
      'request lines are logged (so the checks below can see a leak)'
    )
    assertNotLogged(t, ta, ta.adminToken, 'the admin token given in the query string')
    assertNotLogged(t, ta, customer, 'the customer token given in the query string')
    assertNotLogged(t, ta, svc.token, 'the service token given in the query string')
    assertNotLogged(t, ta, 'garbage-value-in-query', 'an invalid query token')
  })

  t.test(`database failure → 503 without internal text on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend)
    const { app } = ta
    const verifier = await createService(ta, 'db-verifier', ['tokens:introspect'])
    await createAccount(ta, { username: 'dora', password: 'customer-password-1', kind: 'customer' })
    const created = await app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: bearer(ta.adminToken),
      payload: { name: 'never introspected', scopes: ['tokens:read'], password: ADMIN.password }
    })
    t.equal(created.statusCode, 201)
    const unseen = created.json().access_token as string
    // Warm the callers' credentials into the cache, then take the database away.
    const warm = await app.inject({ method: 'POST', url: '/introspect', headers: bearer(verifier.token), payload: { token: ta.adminToken } })
    t.equal(warm.json().active, true)
    t.equal((await app.inject({ url: '/v1/scopes', headers: bearer(ta.adminToken) })).statusCode, 200)

    await app.authority.database.close()

    const failures: [string, Promise<LightMyRequestResponse>][] = [
      [
        'POST /v1/tokens',
        app.inject({
          method: 'POST',
          url: '/v1/tokens',
          headers: bearer(ta.adminToken),
          payload: { name: 'during outage', scopes: ['tokens:read'], password: ADMIN.password }
        })
      ],
      ['introspect a never-seen token', app.inject({ method: 'POST', url: '/introspect', headers: bearer(verifier.token), payload: { token: unseen } })],
      [
        'introspect a never-seen token (form)',
        app.inject({
          method: 'POST',
          url: '/introspect',
          headers: { ...bearer(verifier.token), 'content-type': 'application/x-www-form-urlencoded' },
          payload: `token=${unseen}`
        })
      ],
      ['GET /v1/me', app.inject({ url: '/v1/me', headers: bearer(ta.adminToken) })],
      ['customer login', app.inject({ method: 'POST', url: '/v1/auth/customer/token', payload: { username: 'dora', password: 'customer-password-1' } })],
      ['RFC 7009 revoke', app.inject({ method: 'POST', url: '/revoke', headers: bearer(unseen), payload: { token: unseen } })]
    ]
    for (const [what, pending] of failures) {
      const res = await pending
      const body = assertError(t, res, 503, 'service_unavailable', what)
      t.ok(res.headers['retry-after'] !== undefined && /^\d+$/.test(String(res.headers['retry-after'])), `${what}: Retry-After`)
      const message = String(body.message)
      for (const word of ['sql', 'SQLITE', 'select', 'Error:', '    at ']) {
        t.notOk(message.toLowerCase().includes(word.toLowerCase()), `${what}: the message has no "${word}"`)
      }
      for (const word of ['sql', 'select', 'destroyed', 'kysely', 'driver', 'pool', 'ECONN']) {
        t.notOk(res.body.toLowerCase().includes(word.toLowerCase()), `${what}: the body has no "${word}"`)
      }
      t.notOk(res.body.includes('Error:') || res.body.includes('    at '), `${what}: no error text or stack in the body`)
    }
    const ready = await app.inject({ url: '/readyz' })
    t.equal(ready.statusCode, 503, 'readiness fails while the database is gone')
    const live = await app.inject({ url: '/healthz' })
    t.equal(live.statusCode, 200, 'liveness does not depend on the database')
    // The harness teardown closes the app (and with it the database) once more: that must not throw.
    await t.resolves(app.authority.database.close(), 'closing the database a second time resolves')
  })
}
