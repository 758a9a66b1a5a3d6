import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { BACKEND_NAMES } from '../support/backends.js'
import { ADMIN, bearer, createAccount, createService, startAuthority } from '../support/authority.js'
import { assertError, assertNotLogged } from '../support/http-contract.js'

/**
 * The one error contract (docs/design.md, "HTTP surface" and "Operations"): the error body shape, body limits, media types,
 * dependency failure (503 without internal text) and secrets kept out of the logs. The Bearer
 * transport and its challenges are test/spec/rfc6750-bearer.test.ts.
 */

for (const backend of BACKEND_NAMES()) {
  t.test(`the error contract on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend)
    const { app } = ta
    const me = (headers: Record<string, string | string[]>, query = '') =>
      app.inject({ method: 'GET', url: `/v1/me${query}`, headers })

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
      t.match(
        forbidden.headers['www-authenticate'],
        /^Bearer realm="token-authority", error="insufficient_scope", error_description="[^"]+", scope="accounts:read"$/
      )
      assertError(
        t,
        await app.inject({
          method: 'POST',
          url: '/v1/auth/admin/token',
          payload: { username: ADMIN.username, password: 'wrong-password' }
        }),
        401,
        'invalid_credentials',
        'a wrong password'
      )
      assertError(
        t,
        await app.inject({ method: 'POST', url: '/v1/auth/admin/token', payload: { username: ADMIN.username } }),
        400,
        'validation_failed',
        'a missing field'
      )
      const noPw = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: 'x', scopes: ['tokens:read'] }
      })
      assertError(t, noPw, 400, 'password_required', 'no password confirmation')
    })

    t.test('body limit, media types, invalid JSON, unknown routes', async (t) => {
      const listBefore = (await app.inject({ url: '/v1/tokens?limit=200', headers: bearer(ta.adminToken) })).json()
        .items.length as number
      t.equal(ta.config.BODY_LIMIT_BYTES, 16384, 'the default body limit')

      const big = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: 'big', scopes: ['tokens:read'], description: 'x'.repeat(20000), password: ADMIN.password }
      })
      assertError(t, big, 413, 'payload_too_large', 'a JSON body over the limit')
      const bigLogin = await app.inject({
        method: 'POST',
        url: '/v1/auth/admin/token',
        payload: { username: ADMIN.username, password: 'p'.repeat(17000) }
      })
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
      assertError(
        t,
        await app.inject({ method: 'POST', url: '/nope', payload: { a: 1 } }),
        404,
        'not_found',
        'an unknown POST route'
      )
      assertError(
        t,
        await app.inject({ method: 'PUT', url: '/v1/me', headers: bearer(ta.adminToken) }),
        404,
        'not_found',
        'a known path, unknown method'
      )

      const listAfter = (await app.inject({ url: '/v1/tokens?limit=200', headers: bearer(ta.adminToken) })).json().items
        .length as number
      t.equal(listAfter, listBefore, 'bad input created nothing')
    })

    t.test('secrets never reach the logs', async (t) => {
      const basicValue = Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')
      await me({ authorization: `Basic ${basicValue}` })
      await app.inject({ url: '/v1/nope', headers: bearer(ta.adminToken) })
      await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: { ...bearer(ta.adminToken), 'content-type': 'text/plain' },
        payload: 'x'
      })
      await app.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(ta.adminToken),
        payload: { token: ta.adminToken }
      })
      await app.inject({
        method: 'POST',
        url: '/v1/auth/admin/token',
        payload: { username: ADMIN.username, password: ADMIN.password }
      })
      t.ok(
        ta.logs.some((l) => l.includes('/v1/me')),
        'request lines are logged (so the checks below can see a leak)'
      )
      assertNotLogged(t, ta, ta.adminToken, 'the admin token (Authorization header and body)')
      assertNotLogged(t, ta, basicValue, 'a Basic credential')
      assertNotLogged(t, ta, ADMIN.password, 'the admin password')
    })
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
    const warm = await app.inject({
      method: 'POST',
      url: '/introspect',
      headers: bearer(verifier.token),
      payload: { token: ta.adminToken }
    })
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
      [
        'introspect a never-seen token',
        app.inject({ method: 'POST', url: '/introspect', headers: bearer(verifier.token), payload: { token: unseen } })
      ],
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
      [
        'customer login',
        app.inject({
          method: 'POST',
          url: '/v1/auth/customer/token',
          payload: { username: 'dora', password: 'customer-password-1' }
        })
      ],
      [
        'RFC 7009 revoke',
        app.inject({ method: 'POST', url: '/revoke', headers: bearer(unseen), payload: { token: unseen } })
      ]
    ]
    for (const [what, pending] of failures) {
      const res = await pending
      const body = assertError(t, res, 503, 'service_unavailable', what)
      t.ok(
        res.headers['retry-after'] !== undefined && /^\d+$/.test(String(res.headers['retry-after'])),
        `${what}: Retry-After`
      )
      const message = String(body.message)
      for (const word of ['sql', 'SQLITE', 'select', 'Error:', '    at ']) {
        t.notOk(message.toLowerCase().includes(word.toLowerCase()), `${what}: the message has no "${word}"`)
      }
      for (const word of ['sql', 'select', 'destroyed', 'kysely', 'driver', 'pool', 'ECONN']) {
        t.notOk(res.body.toLowerCase().includes(word.toLowerCase()), `${what}: the body has no "${word}"`)
      }
      t.notOk(
        res.body.includes('Error:') || res.body.includes('    at '),
        `${what}: no error text or stack in the body`
      )
    }
    const ready = await app.inject({ url: '/readyz' })
    t.equal(ready.statusCode, 503, 'readiness fails while the database is gone')
    const live = await app.inject({ url: '/healthz' })
    t.equal(live.statusCode, 200, 'liveness does not depend on the database')
    // The harness teardown closes the app (and with it the database) once more: that must not throw.
    await t.resolves(app.authority.database.close(), 'closing the database a second time resolves')
  })
}
