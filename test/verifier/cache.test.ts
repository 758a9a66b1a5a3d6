// Cache rules of the verifier package against a stand-in authority: only active answers are kept,
// for no longer than cache.ttlSeconds, the authority's max-age hint and the token's own expiry;
// one introspection per token at a time; LRU bound; clearCache.
import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import tokenVerifier, { type VerifierOptions } from '@token-authority/fastify-verifier'
import { active, shapedToken, startFakeAuthority, type FakeAuthority } from './fake-authority.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
type TapLike = { teardown(fn: () => unknown): void }

async function consumer(
  t: TapLike,
  fake: FakeAuthority,
  extra: Partial<VerifierOptions> = {}
): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(tokenVerifier, { authorityUrl: fake.url, credential: fake.credential, ...extra })
  app.get('/me', async (request) => request.auth)
  await app.ready()
  t.teardown(() => app.close())
  return app
}

t.test('cache rules', async (t) => {
  const fake = await startFakeAuthority()
  t.teardown(() => fake.close())

  t.test('an active answer is trusted for cache.ttlSeconds, then asked again', async (t) => {
    const app = await consumer(t, fake, { cache: { ttlSeconds: 0.3 } })
    const token = shapedToken()
    fake.answer = () => ({ body: active(), cacheControl: 'private, max-age=60' })
    const before = fake.calls
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
    t.equal(fake.calls - before, 1, 'the second request is served from the cache')
    t.equal(app.tokenVerifier.stats.hits, 1)
    t.equal(app.tokenVerifier.stats.authorityCalls(), 1)
    await sleep(400)
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
    t.equal(fake.calls - before, 2, 'past the TTL the authority is asked again')
  })

  t.test("the authority's max-age hint shortens it; no hint, 0 or no-store means no caching", async (t) => {
    const app = await consumer(t, fake, { cache: { ttlSeconds: 30 } })
    for (const cacheControl of [undefined, 'no-store', 'private, max-age=0', 'no-cache, max-age=60']) {
      const token = shapedToken()
      fake.answer = () => ({ body: active(), ...(cacheControl === undefined ? {} : { cacheControl }) })
      const before = fake.calls
      for (let i = 0; i < 3; i++) t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
      t.equal(fake.calls - before, 3, `Cache-Control ${cacheControl ?? '(none)'}: every request asks`)
    }
    const token = shapedToken()
    fake.answer = () => ({ body: active(), cacheControl: 'private, max-age=1' })
    const before = fake.calls
    await app.inject({ url: '/me', headers: bearer(token) })
    await app.inject({ url: '/me', headers: bearer(token) })
    t.equal(fake.calls - before, 1, 'max-age=1: cached')
    await sleep(1100)
    await app.inject({ url: '/me', headers: bearer(token) })
    t.equal(fake.calls - before, 2, 'max-age=1: asked again after a second although the TTL is 30 s')
  })

  t.test("the token's own expiry shortens it", async (t) => {
    const app = await consumer(t, fake, { cache: { ttlSeconds: 30 } })
    const token = shapedToken()
    const exp = Math.floor(Date.now() / 1000) + 1
    fake.answer = () => ({ body: active({ exp }), cacheControl: 'private, max-age=60' })
    const before = fake.calls
    const first = await app.inject({ url: '/me', headers: bearer(token) })
    t.equal(first.json().expiresAt, exp)
    await sleep(1100)
    fake.answer = () => ({ body: { active: false, reason: 'expired' }, cacheControl: 'no-store' })
    const after = await app.inject({ url: '/me', headers: bearer(token) })
    t.equal(fake.calls - before, 2, 'asked again once the token expired')
    t.equal(after.statusCode, 401)
    t.match(
      after.headers['www-authenticate'],
      /error="invalid_token", error_description="the access token has expired"/
    )
  })

  t.test('inactive answers are never cached; the reason reaches the challenge', async (t) => {
    const app = await consumer(t, fake)
    const token = shapedToken()
    fake.answer = () => ({ body: { active: false, reason: 'revoked' }, cacheControl: 'no-store' })
    const before = fake.calls
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({ url: '/me', headers: bearer(token) })
      t.equal(res.statusCode, 401)
      t.equal(res.json().code, 'invalid_token')
      t.match(res.headers['www-authenticate'], /error_description="the access token has been revoked"/)
    }
    t.equal(fake.calls - before, 2)
    fake.answer = () => ({ body: { active: false } })
    const plain = await app.inject({ url: '/me', headers: bearer(token) })
    t.match(
      plain.headers['www-authenticate'],
      /error_description="the access token is not valid"/,
      'no reason: a generic description'
    )
  })

  t.test('concurrent first requests for one token share one introspection', async (t) => {
    const app = await consumer(t, fake)
    const token = shapedToken()
    fake.answer = () => ({ body: active(), cacheControl: 'private, max-age=60', delayMs: 100 })
    const before = fake.calls
    const all = await Promise.all(Array.from({ length: 10 }, () => app.inject({ url: '/me', headers: bearer(token) })))
    t.same(
      all.map((r) => r.statusCode),
      Array(10).fill(200)
    )
    t.equal(fake.calls - before, 1)
  })

  t.test('the cache is keyed per token, bounded by cache.max, and clearCache empties it', async (t) => {
    const app = await consumer(t, fake, { cache: { max: 2, ttlSeconds: 30 } })
    fake.answer = () => ({ body: active(), cacheControl: 'private, max-age=60' })
    const [a, b, c] = [shapedToken(), shapedToken(), shapedToken()]
    const before = fake.calls
    for (const token of [a, b, a, b]) await app.inject({ url: '/me', headers: bearer(token!) })
    t.equal(fake.calls - before, 2, 'two tokens, two introspections')
    await app.inject({ url: '/me', headers: bearer(c!) })
    await app.inject({ url: '/me', headers: bearer(a!) })
    t.equal(fake.calls - before, 4, 'a third token pushed out the least recently used')
    app.tokenVerifier.clearCache()
    await app.inject({ url: '/me', headers: bearer(a!) })
    t.equal(fake.calls - before, 5, 'after clearCache the authority is asked again')
  })

  t.test('request.auth carries what the authority vouched for', async (t) => {
    const app = await consumer(t, fake)
    const token = shapedToken()
    fake.answer = () => ({
      body: active({ scope: 'orders:read orders:write', jti: 'tok-1' }),
      cacheControl: 'private, max-age=60'
    })
    const res = await app.inject({ url: '/me', headers: bearer(token) })
    t.same(res.json(), {
      subject: 'acc-1',
      username: 'dana',
      kind: 'customer',
      tokenKind: 'pat',
      scopes: ['orders:read', 'orders:write'],
      permissions: ['orders:read', 'orders:write'],
      tokenId: 'tok-1',
      expiresAt: null,
      audience: []
    })
    t.equal(fake.asked.at(-1), token, 'the token was sent form-encoded as `token`')
  })
})
