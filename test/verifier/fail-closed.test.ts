// Fail closed: whenever the authority cannot give an answer (down, slow, erroring, refusing our
// credential, answering nonsense) and nothing valid is cached, the verifier answers 503 with
// Retry-After — never a pass. A cached active answer still serves during an outage, until it ages out.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import tokenVerifier, { type VerifierOptions } from '@token-authority/fastify-verifier'
import { active, shapedToken, startFakeAuthority, type Answer } from './fake-authority.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
type TapLike = { teardown(fn: () => unknown): void }

/** a consumer app whose protected handler counts how often it ran */
async function consumer(
  t: TapLike,
  options: VerifierOptions
): Promise<{ app: FastifyInstance; handled: () => number }> {
  const app = Fastify()
  let handled = 0
  await app.register(tokenVerifier, options)
  app.get('/protected', async () => {
    handled++
    return { ok: true }
  })
  await app.ready()
  t.teardown(() => app.close())
  return { app, handled: () => handled }
}

async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as AddressInfo
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

t.test('authority unreachable: 503 with Retry-After, no challenge, never a pass', async (t) => {
  const port = await closedPort()
  const { app, handled } = await consumer(t, {
    authorityUrl: `http://127.0.0.1:${port}`,
    credential: 'x',
    timeoutMs: 300,
    retryAfterSeconds: 7
  })
  const res = await app.inject({ url: '/protected', headers: bearer(shapedToken()) })
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '7')
  t.notOk(res.headers['www-authenticate'], 'a 503 is not a challenge: the token may be fine')
  t.match(res.json(), { statusCode: 503, code: 'service_unavailable', error: 'Service Unavailable' })
  t.equal(handled(), 0)
})

t.test('an authority that answers but cannot be trusted: 503 every time', async (t) => {
  const fake = await startFakeAuthority()
  t.teardown(() => fake.close())
  const { app, handled } = await consumer(t, { authorityUrl: fake.url, credential: fake.credential, timeoutMs: 250 })
  const cases: Array<[string, Answer]> = [
    ['slower than timeoutMs', { body: active(), cacheControl: 'private, max-age=60', delayMs: 600 }],
    ['500', { status: 500, body: { code: 'internal' } }],
    ['429 (throttled)', { status: 429, body: { code: 'too_many_requests' } }],
    ['not JSON', { text: '<html>proxy error</html>' }],
    ['JSON without "active"', { body: { scope: 'orders:read' } }],
    ['"active" not a boolean', { body: { active: 'true' } }]
  ]
  for (const [what, answer] of cases) {
    fake.answer = () => answer
    const res = await app.inject({ url: '/protected', headers: bearer(shapedToken()) })
    t.equal(res.statusCode, 503, what)
    t.equal(res.headers['retry-after'], '5', `${what}: default Retry-After`)
  }
  t.equal(handled(), 0, 'the route never ran')
})

t.test('the authority refusing our credential is an outage, not a verdict on the caller', async (t) => {
  const fake = await startFakeAuthority()
  t.teardown(() => fake.close())
  const { app, handled } = await consumer(t, { authorityUrl: fake.url, credential: shapedToken('tka', 'svc') })
  fake.answer = () => ({ body: active(), cacheControl: 'private, max-age=60' })
  const res = await app.inject({ url: '/protected', headers: bearer(shapedToken()) })
  t.equal(res.statusCode, 503)
  t.equal(fake.calls, 0, 'the stand-in refused the wrong credential before introspecting')
  t.equal(handled(), 0)
})

t.test('a cached active answer serves through an outage until it ages out', async (t) => {
  const fake = await startFakeAuthority()
  t.teardown(() => fake.close())
  const { app, handled } = await consumer(t, {
    authorityUrl: fake.url,
    credential: fake.credential,
    cache: { ttlSeconds: 0.5 },
    timeoutMs: 250
  })
  const token = shapedToken()
  fake.answer = () => ({ body: active(), cacheControl: 'private, max-age=60' })
  t.equal((await app.inject({ url: '/protected', headers: bearer(token) })).statusCode, 200)
  fake.answer = () => ({ status: 503, body: { code: 'service_unavailable' } })
  t.equal((await app.inject({ url: '/protected', headers: bearer(token) })).statusCode, 200, 'cached')
  await sleep(600)
  t.equal((await app.inject({ url: '/protected', headers: bearer(token) })).statusCode, 503, 'aged out: fails closed')
  t.equal(handled(), 2)
})

t.test('a token that cannot be ours is refused offline even with the authority down', async (t) => {
  const port = await closedPort()
  const { app } = await consumer(t, { authorityUrl: `http://127.0.0.1:${port}`, credential: 'x', timeoutMs: 300 })
  const res = await app.inject({ url: '/protected', headers: bearer(`tka_pat_${'A'.repeat(132)}`) })
  t.equal(res.statusCode, 401)
  t.match(res.headers['www-authenticate'], /error="invalid_token"/)
  t.equal(app.tokenVerifier.stats.rejectedOffline, 1)
  t.equal(app.tokenVerifier.stats.authorityCalls(), 0)
})
