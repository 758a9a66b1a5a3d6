import type { AddressInfo } from 'node:net'
import t from 'tap'
import { BACKEND_NAMES } from '../support/backends.js'
import { ADMIN, bearer, createAccount, createService, login, startAuthority } from '../support/authority.js'
import {
  assertError,
  assertNotLogged,
  ERROR_KEYS,
  INVALID_TOKEN_CHALLENGE,
  rawGet,
  REALM
} from '../support/http-contract.js'

/**
 * RFC 6750 transport of the Bearer credential: the Authorization header (scheme case-insensitive,
 * exactly one), the URI query parameter (refused by default, §2.3 when enabled), and the
 * WWW-Authenticate challenges with the exact error codes (§3, §3.1).
 */

for (const backend of BACKEND_NAMES()) {
  t.test(`RFC 6750 bearer transport on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend)
    const { app } = ta
    const me = (headers: Record<string, string | string[]>, query = '') =>
      app.inject({ method: 'GET', url: `/v1/me${query}`, headers })

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
      assertError(
        t,
        await me({ authorization: `Bearer ${ta.adminToken} extra` }),
        400,
        'invalid_request',
        'Bearer with two values'
      )
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
      for (const value of [
        'garbage',
        `tka_pat_${'A'.repeat(132)}`,
        ta.adminToken.slice(0, -1) + (ta.adminToken.endsWith('A') ? 'B' : 'A')
      ]) {
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
      const both = await app.inject({
        url: `/v1/me?${param}=${encodeURIComponent(ta.adminToken)}`,
        headers: bearer(ta.adminToken)
      })
      assertError(t, both, 400, 'invalid_request', `header and ?${param}= together`)
      const empty = await app.inject({ url: `/v1/me?${param}=` })
      assertError(t, empty, 400, 'invalid_request', `an empty ?${param}=`)
      const invalid = await app.inject({ url: `/v1/me?${param}=garbage-value-in-query` })
      assertError(t, invalid, 401, 'invalid_token', `an invalid ?${param}=`)
    }
    const twoParams = await app.inject({
      url: `/v1/me?access_token=${encodeURIComponent(ta.adminToken)}&session=${encodeURIComponent(ta.adminToken)}`
    })
    assertError(t, twoParams, 400, 'invalid_request', 'both query parameters')
    const svc = await createService(ta, 'query-svc', ['tokens:introspect'])
    const intro = await app.inject({
      method: 'POST',
      url: `/introspect?access_token=${encodeURIComponent(svc.token)}`,
      payload: { token: customer }
    })
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

    t.test('query-string tokens (when enabled) work on routes with a query schema', async (t) => {
      // (moved from the former hardening.test.ts)
      const res = await app.inject({ url: `/v1/tokens?limit=1&access_token=${ta.adminToken}` })
      t.equal(res.statusCode, 200)
      const acc = await app.inject({ url: `/v1/accounts?session=${ta.adminToken}` })
      t.equal(acc.statusCode, 200)
    })
  })
}
