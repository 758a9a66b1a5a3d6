import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import t from 'tap'
import tokenVerifier, { VerifierOptionsError, tokenShapeOk } from '@token-authority/fastify-verifier'
import { buildOrdersApp } from '../../services/orders-demo/src/app.js'
import { encodeToken, newTokenId } from '../../services/authority/src/tokens/token-format.js'
import { BACKEND_NAMES } from '../support/backends.js'
import { ADMIN, bearer, createAccount, createService, login, startAuthority } from '../support/authority.js'

const PW = 'dana-password-123'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('options are checked at registration', async (t) => {
  const bad = [
    {},
    { authorityUrl: 'not a url', credential: 'x' },
    { authorityUrl: 'ftp://x', credential: 'x' },
    { authorityUrl: 'http://x' },
    { authorityUrl: 'http://x', credential: 'x', timeoutMs: -1 },
    { authorityUrl: 'http://x', credential: 'x', cache: { ttlSeconds: 0 } },
    { authorityUrl: 'http://x', credential: 'x', tokenPrefix: 'BAD!' },
    { authorityUrl: 'http://x', credential: 'x', invalidation: { redisUrl: 'redis://x' } },
    { authorityUrl: 'http://x', credential: 'x', revocations: { failClosed: 'yes' } },
    { authorityUrl: 'http://x', credential: 'x', audience: 'has space' },
    { authorityUrl: 'http://x', credential: 'x', audience: '' }
  ]
  for (const opts of bad) {
    const app = Fastify()
    await t.rejects(
      async () => {
        await app.register(tokenVerifier, opts as never)
        await app.ready()
      },
      VerifierOptionsError,
      JSON.stringify(opts)
    )
    await app.close()
  }
})

for (const backend of BACKEND_NAMES()) {
  t.test(`the audience option: only tokens exchanged for this service (${backend})`, async (t) => {
    const ta = await startAuthority(t, backend)
    const authorityUrl = await ta.app.listen({ port: 0, host: '127.0.0.1' })
    const svc = await createService(ta, 'billing-api', [
      'tokens:introspect',
      'tokens:introspect:reason',
      'tokens:revocations'
    ])
    const caller = await createService(ta, 'checkout', ['tokens:read'])
    const exchange = async (audience: string): Promise<string> => {
      const res = await ta.app.inject({
        method: 'POST',
        url: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token: caller.token,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          audience
        }).toString()
      })
      if (res.statusCode !== 200) throw new Error(res.body)
      return res.json().access_token as string
    }
    const consumer = async (audience?: string) => {
      const app = Fastify()
      await app.register(tokenVerifier, {
        authorityUrl,
        credential: svc.token,
        ...(audience === undefined ? {} : { audience })
      })
      app.get('/who', async (request) => ({ audience: request.auth!.audience, actor: request.auth!.actor ?? null }))
      await app.ready()
      t.teardown(() => app.close())
      return app
    }
    const bound = await consumer('billing-api')
    const open = await consumer()
    const forUs = await exchange('billing-api')
    const forOthers = await exchange('orders-api')

    t.test('a token exchanged for this audience passes, with its audience and actor', async (t) => {
      const res = await bound.inject({ url: '/who', headers: bearer(forUs) })
      t.equal(res.statusCode, 200, res.body)
      t.strictSame(res.json(), {
        audience: ['billing-api'],
        actor: { subject: caller.id, tokenId: res.json().actor.tokenId }
      })
      t.equal(typeof res.json().actor.tokenId, 'string')
    })

    t.test('tokens for another audience, and tokens with none, are refused: 401 invalid_token', async (t) => {
      for (const [label, token] of [
        ['exchanged for another audience', forOthers],
        ['the long-lived service token itself (no aud)', caller.token]
      ] as const) {
        const res = await bound.inject({ url: '/who', headers: bearer(token) })
        t.equal(res.statusCode, 401, label)
        t.equal(res.json().code, 'invalid_token', label)
        t.match(String(res.headers['www-authenticate']), /error="invalid_token"/, label)
      }
    })

    t.test('without the option any active token passes', async (t) => {
      t.equal((await open.inject({ url: '/who', headers: bearer(caller.token) })).statusCode, 200)
      t.equal((await open.inject({ url: '/who', headers: bearer(forOthers) })).statusCode, 200)
    })

    t.test('revoking the subject token reaches the consumer’s cache through the stream', async (t) => {
      const res = await bound.inject({ url: '/who', headers: bearer(forUs) })
      t.equal(res.statusCode, 200, 'cached')
      const revoke = await ta.app.inject({
        method: 'POST',
        url: '/revoke',
        headers: bearer(caller.token),
        payload: { token: caller.token }
      })
      t.equal(revoke.statusCode, 200)
      const deadline = Date.now() + 3000
      let status = 200
      while (Date.now() < deadline) {
        status = (await bound.inject({ url: '/who', headers: bearer(forUs) })).statusCode
        if (status === 401) break
        await sleep(20)
      }
      t.equal(status, 401, 'the exchanged token is refused once its subject is revoked')
    })
  })

  t.test(`authority + verifier + orders demo on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend, {
      env: { EXTRA_SCOPES: 'orders:read=Read orders,orders:write=Create orders' }
    })
    const authorityUrl = await ta.app.listen({ port: 0, host: '127.0.0.1' })
    const svc = await createService(ta, 'orders-api', [
      'tokens:introspect',
      'tokens:introspect:reason',
      'tokens:revocations'
    ])
    await createAccount(ta, {
      username: 'dana',
      password: PW,
      kind: 'customer',
      permissions: ['orders:read', 'orders:write', 'tokens:write']
    })
    const session = await login(ta.app, 'customer', 'dana', PW)
    const pat = async (scopes: string[], extra: Record<string, unknown> = {}) => {
      const res = await ta.app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(session),
        payload: { name: 'orders', scopes, password: PW, ...extra }
      })
      if (res.statusCode !== 201) throw new Error(res.body)
      return { id: res.json().token.id as string, value: res.json().access_token as string }
    }
    // the consumer follows the revocation stream over HTTP whatever the authority's backend: no Redis
    const ttlSeconds = 30
    const orders = await buildOrdersApp({ authorityUrl, credential: svc.token, cache: { ttlSeconds } })
    t.teardown(() => orders.close())
    await orders.ready()
    t.equal(orders.tokenVerifier.revocationStream.state, 'live', 'the stream is up once the app is ready')
    const calls = () => orders.tokenVerifier.stats.authorityCalls()

    t.test('public route, scopes, customers see their own orders', async (t) => {
      t.equal((await orders.inject({ url: '/health' })).statusCode, 200, 'public: no token needed')
      const reader = await pat(['orders:read'])
      const writer = await pat(['orders:read', 'orders:write'])
      const list = await orders.inject({ url: '/orders', headers: bearer(reader.value) })
      t.equal(list.statusCode, 200)
      const denied = await orders.inject({
        method: 'POST',
        url: '/orders',
        headers: bearer(reader.value),
        payload: { item: 'tea', quantity: 1 }
      })
      t.equal(denied.statusCode, 403)
      t.equal(denied.json().code, 'insufficient_scope')
      t.match(
        denied.headers['www-authenticate'],
        /error="insufficient_scope", error_description="[^"]+", scope="orders:write"/
      )
      const created = await orders.inject({
        method: 'POST',
        url: '/orders',
        headers: bearer(writer.value),
        payload: { item: 'tea', quantity: 2 }
      })
      t.equal(created.statusCode, 201)
      t.equal(
        created.json().owner,
        (await ta.app.inject({ url: '/v1/me', headers: bearer(session) })).json().account.id
      )
      const mine = await orders.inject({ url: '/orders', headers: bearer(reader.value) })
      t.same(
        mine.json().items.map((o: { item: string }) => o.item),
        ['tea']
      )
      const adminView = await orders.inject({ url: '/orders', headers: bearer(ta.adminToken) })
      t.equal(adminView.statusCode, 200)
      t.equal(adminView.json().items.length, 1, 'admins see every order')
    })

    t.test('cached active results: one introspection for repeated calls', async (t) => {
      const reader = await pat(['orders:read'])
      const before = calls()
      await Promise.all(
        Array.from({ length: 20 }, () => orders.inject({ url: '/orders', headers: bearer(reader.value) }))
      )
      t.equal(calls() - before, 1, 'concurrent first calls share one introspection')
      await orders.inject({ url: '/orders', headers: bearer(reader.value) })
      t.equal(calls() - before, 1, 'then served from the cache')
    })

    t.test('missing, malformed, garbage and forged tokens', async (t) => {
      const none = await orders.inject({ url: '/orders' })
      t.equal(none.statusCode, 401)
      t.equal(none.headers['www-authenticate'], 'Bearer realm="token-authority"', 'bare challenge without a token')
      const malformed = await orders.inject({ url: '/orders', headers: { authorization: 'Basic abc' } })
      t.equal(malformed.statusCode, 400)
      t.equal(malformed.json().code, 'invalid_request')
      const before = calls()
      for (const garbage of ['garbage', `tka_pat_${'A'.repeat(132)}`, randomBytes(60).toString('base64url')]) {
        const res = await orders.inject({ url: '/orders', headers: bearer(garbage) })
        t.equal(res.statusCode, 401)
        t.match(res.headers['www-authenticate'], /error="invalid_token"/)
      }
      t.equal(calls(), before, 'tokens that cannot be ours cost no call to the authority')
      const forged = encodeToken('tka', 'pat', { kid: 'zz', secret: randomBytes(32) }, newTokenId(), null)
      t.ok(tokenShapeOk(forged, 'tka'), 'well-formed, so it must be asked')
      const res = await orders.inject({ url: '/orders', headers: bearer(forged) })
      t.equal(res.statusCode, 401)
      t.equal(calls(), before + 1)
      const again = await orders.inject({ url: '/orders', headers: bearer(forged) })
      t.equal(again.statusCode, 401)
      t.equal(calls(), before + 2, 'inactive results are never cached')
    })

    t.test('revocation reaches the verifier within the measured bound', async (t) => {
      const token = await pat(['orders:read'])
      t.equal((await orders.inject({ url: '/orders', headers: bearer(token.value) })).statusCode, 200)
      t.equal((await orders.inject({ url: '/orders', headers: bearer(token.value) })).statusCode, 200, 'cached')
      const revoke = await ta.app.inject({
        method: 'DELETE',
        url: `/v1/tokens/${token.id}`,
        headers: bearer(session),
        payload: { password: PW }
      })
      t.equal(revoke.statusCode, 200)
      const revokedAt = performance.now()
      let status = 200
      let delay = 0
      while (status === 200 && delay < 5000) {
        status = (await orders.inject({ url: '/orders', headers: bearer(token.value) })).statusCode
        delay = performance.now() - revokedAt
        if (status === 200) await sleep(5)
      }
      t.equal(status, 401, 'the revoked token is rejected')
      const bound = 1000
      t.ok(delay <= bound, `revocation delay ${delay.toFixed(1)} ms ≤ ${bound} ms (cache TTL ${ttlSeconds} s)`)
      t.comment(`revocation delay on ${backend}: ${delay.toFixed(1)} ms (revocation stream)`)
      const last = await orders.inject({ url: '/orders', headers: bearer(token.value) })
      t.match(last.headers['www-authenticate'], /has been revoked/, 'the description says revoked')
    })

    t.test('an account whose permissions shrink: every cached token of it is dropped (account event)', async (t) => {
      const username = `carol-${randomBytes(3).toString('hex')}`
      const carol = await createAccount(ta, {
        username,
        password: PW,
        kind: 'customer',
        permissions: ['orders:read', 'tokens:write']
      })
      const carolSession = await login(ta.app, 'customer', username, PW)
      const tokens = []
      for (let i = 0; i < 2; i++) {
        const res = await ta.app.inject({
          method: 'POST',
          url: '/v1/tokens',
          headers: bearer(carolSession),
          payload: { name: `c${i}`, scopes: ['orders:read'], password: PW }
        })
        tokens.push(res.json().access_token as string)
      }
      for (const v of tokens) t.equal((await orders.inject({ url: '/orders', headers: bearer(v) })).statusCode, 200)
      const seen = new Promise((r) => orders.tokenVerifier.revocationStream.events.once('revocation', r))
      const edit = await ta.app.inject({
        method: 'PATCH',
        url: `/v1/accounts/${carol}`,
        headers: bearer(ta.adminToken),
        payload: { permissions: ['tokens:write'], current_password: ADMIN.password }
      })
      t.equal(edit.statusCode, 200, edit.body)
      t.match(await seen, { account_id: carol })
      for (const v of tokens) {
        const status = (await orders.inject({ url: '/orders', headers: bearer(v) })).statusCode
        t.ok(status === 401 || status === 403, `orders:read is gone at once (${status})`)
      }
    })

    t.test('an expired token gets the expired description', async (t) => {
      // 3 s of life: enough for the create and the first call on a loaded machine; then wait it out
      const expiresAt = Date.now() + 3000
      const soon = await pat(['orders:read'], { expires_at: new Date(expiresAt).toISOString() })
      t.equal((await orders.inject({ url: '/orders', headers: bearer(soon.value) })).statusCode, 200)
      await sleep(Math.max(0, expiresAt - Date.now()) + 600)
      const res = await orders.inject({ url: '/orders', headers: bearer(soon.value) })
      t.equal(res.statusCode, 401)
      t.match(
        res.headers['www-authenticate'],
        /error="invalid_token", error_description="the access token has expired"/
      )
    })

    t.test('the authority unreachable: 503 with Retry-After, never a pass', async (t) => {
      const orphan = await buildOrdersApp({ authorityUrl: 'http://127.0.0.1:1', credential: svc.token, timeoutMs: 300 })
      t.teardown(() => orphan.close())
      const token = await pat(['orders:read'])
      const res = await orphan.inject({ url: '/orders', headers: bearer(token.value) })
      t.equal(res.statusCode, 503)
      t.equal(res.headers['retry-after'], '5')
      t.equal(res.json().code, 'service_unavailable')
      // a credential the authority refuses is a fault of ours: also closed
      const refused = await buildOrdersApp({ authorityUrl, credential: session })
      t.teardown(() => refused.close())
      t.equal((await refused.inject({ url: '/orders', headers: bearer(token.value) })).statusCode, 503)
    })

    t.test('introspection carries a cache hint no longer than the TTL and the token life', async (t) => {
      const short = await pat(['orders:read'], { expires_at: new Date(Date.now() + 20_000).toISOString() })
      const res = await ta.app.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(svc.token),
        payload: { token: short.value }
      })
      const maxAge = Number(/max-age=(\d+)/.exec(String(res.headers['cache-control']))?.[1])
      t.ok(maxAge > 0 && maxAge <= 20, `max-age ${maxAge} ≤ 20 s left`)
      const forever = await pat(['orders:read'])
      const res2 = await ta.app.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(svc.token),
        payload: { token: forever.value }
      })
      t.equal(res2.headers['cache-control'], `private, max-age=${ta.config.CACHE_TTL_SECONDS}`)
      const inactive = await ta.app.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(svc.token),
        payload: { token: 'nope' }
      })
      t.equal(inactive.headers['cache-control'], 'no-store')
    })
  })
}
