import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import t from 'tap'
import tokenVerifier, { VerifierOptionsError, tokenShapeOk } from '@token-authority/fastify-verifier'
import { buildOrdersApp } from '../../services/orders-demo/src/app.js'
import { encodeToken, newTokenId } from '../../services/authority/src/tokens/token-format.js'
import { BACKEND_NAMES } from '../helpers/backends.js'
import { ADMIN, bearer, createAccount, createService, login, startAuthority } from '../helpers/authority.js'

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
    { authorityUrl: 'http://x', credential: 'x', invalidation: { redisUrl: 'http://x' } }
  ]
  for (const opts of bad) {
    const app = Fastify()
    await t.rejects(async () => {
      await app.register(tokenVerifier, opts as never)
      await app.ready()
    }, VerifierOptionsError, JSON.stringify(opts))
    await app.close()
  }
})

for (const backend of BACKEND_NAMES()) {
  t.test(`authority + verifier + orders demo on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend, { env: { EXTRA_SCOPES: 'orders:read=Read orders,orders:write=Create orders' } })
    const authorityUrl = await ta.app.listen({ port: 0, host: '127.0.0.1' })
    const svc = await createService(ta, 'orders-api', ['tokens:introspect', 'tokens:introspect:reason'])
    await createAccount(ta, { username: 'dana', password: PW, kind: 'customer', permissions: ['orders:read', 'orders:write', 'tokens:write'] })
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
    const withRedis = ta.config.REDIS_URL !== undefined
    const ttlSeconds = withRedis ? 30 : 1
    const orders = await buildOrdersApp({
      authorityUrl,
      credential: svc.token,
      cache: { ttlSeconds },
      ...(withRedis ? { invalidation: { redisUrl: ta.config.REDIS_URL!, channel: `${ta.config.REDIS_KEY_PREFIX}invalidate` } } : {})
    })
    t.teardown(() => orders.close())
    const calls = () => orders.tokenVerifier.stats.authorityCalls()

    t.test('public route, scopes, customers see their own orders', async (t) => {
      t.equal((await orders.inject({ url: '/health' })).statusCode, 200, 'public: no token needed')
      const reader = await pat(['orders:read'])
      const writer = await pat(['orders:read', 'orders:write'])
      const list = await orders.inject({ url: '/orders', headers: bearer(reader.value) })
      t.equal(list.statusCode, 200)
      const denied = await orders.inject({ method: 'POST', url: '/orders', headers: bearer(reader.value), payload: { item: 'tea', quantity: 1 } })
      t.equal(denied.statusCode, 403)
      t.equal(denied.json().code, 'insufficient_scope')
      t.match(denied.headers['www-authenticate'], /error="insufficient_scope", error_description="[^"]+", scope="orders:write"/)
      const created = await orders.inject({ method: 'POST', url: '/orders', headers: bearer(writer.value), payload: { item: 'tea', quantity: 2 } })
      t.equal(created.statusCode, 201)
      t.equal(created.json().owner, (await ta.app.inject({ url: '/v1/me', headers: bearer(session) })).json().account.id)
      const mine = await orders.inject({ url: '/orders', headers: bearer(reader.value) })
      t.same(mine.json().items.map((o: { item: string }) => o.item), ['tea'])
      const adminView = await orders.inject({ url: '/orders', headers: bearer(ta.adminToken) })
      t.equal(adminView.statusCode, 200)
      t.equal(adminView.json().items.length, 1, 'admins see every order')
    })

    t.test('cached active results: one introspection for repeated calls', async (t) => {
      const reader = await pat(['orders:read'])
      const before = calls()
      await Promise.all(Array.from({ length: 20 }, () => orders.inject({ url: '/orders', headers: bearer(reader.value) })))
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
      for (const garbage of ['garbage', 'tka_pat_' + 'A'.repeat(132), randomBytes(60).toString('base64url')]) {
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
      const revoke = await ta.app.inject({ method: 'DELETE', url: `/v1/tokens/${token.id}`, headers: bearer(session), payload: { password: PW } })
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
      const bound = withRedis ? 1000 : ttlSeconds * 1000 + 250
      t.ok(delay <= bound, `revocation delay ${delay.toFixed(1)} ms ≤ ${bound} ms`)
      t.comment(`revocation delay on ${backend}: ${delay.toFixed(1)} ms (${withRedis ? 'Redis invalidation channel' : `cache TTL ${ttlSeconds} s`})`)
      const last = await orders.inject({ url: '/orders', headers: bearer(token.value) })
      t.match(last.headers['www-authenticate'], /has been revoked/, 'the description says revoked')
    })

    t.test('an expired token gets the expired description', async (t) => {
      const soon = await pat(['orders:read'], { expires_at: new Date(Date.now() + 1500).toISOString() })
      t.equal((await orders.inject({ url: '/orders', headers: bearer(soon.value) })).statusCode, 200)
      await sleep(2100)
      const res = await orders.inject({ url: '/orders', headers: bearer(soon.value) })
      t.equal(res.statusCode, 401)
      t.match(res.headers['www-authenticate'], /error="invalid_token", error_description="the access token has expired"/)
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
      const res = await ta.app.inject({ method: 'POST', url: '/introspect', headers: bearer(svc.token), payload: { token: short.value } })
      const maxAge = Number(/max-age=(\d+)/.exec(String(res.headers['cache-control']))?.[1])
      t.ok(maxAge > 0 && maxAge <= 20, `max-age ${maxAge} ≤ 20 s left`)
      const forever = await pat(['orders:read'])
      const res2 = await ta.app.inject({ method: 'POST', url: '/introspect', headers: bearer(svc.token), payload: { token: forever.value } })
      t.equal(res2.headers['cache-control'], `private, max-age=${ta.config.CACHE_TTL_SECONDS}`)
      const inactive = await ta.app.inject({ method: 'POST', url: '/introspect', headers: bearer(svc.token), payload: { token: 'nope' } })
      t.equal(inactive.headers['cache-control'], 'no-store')
    })
    void ADMIN
  })
}
