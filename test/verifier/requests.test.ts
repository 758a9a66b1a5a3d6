// How the verifier reads a request and answers it (RFC 6750): where the token may come from,
// challenges, scopes on routes and through requireScopes, encapsulation.
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import tokenVerifier from '@token-authority/fastify-verifier'
import { active, shapedToken, startFakeAuthority } from './fake-authority.js'

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

t.test('requests', async (t) => {
  const fake = await startFakeAuthority()
  t.teardown(() => fake.close())
  fake.answer = () => ({ body: active({ scope: 'orders:read' }), cacheControl: 'private, max-age=60' })

  const app: FastifyInstance = Fastify()
  t.teardown(() => app.close())
  await app.register(tokenVerifier, {
    authorityUrl: fake.url,
    credential: fake.credential,
    queryParameters: ['access_token'],
    realm: 'orders'
  })
  app.get('/health', { config: { public: true } }, async () => ({ ok: true }))
  app.get('/orders', { config: { scopes: ['orders:read'] } }, async (request) => ({ owner: request.auth!.subject }))
  app.post('/orders', { onRequest: [app.requireScopes('orders:write')] }, async () => ({ created: true }))
  app.get('/admin', { config: { scopes: ['orders:read', 'orders:admin'] } }, async () => ({}))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const reader = shapedToken()

  t.test('no token: 401 with a bare challenge in our realm', async (t) => {
    const res = await app.inject({ url: '/orders' })
    t.equal(res.statusCode, 401)
    t.equal(res.headers['www-authenticate'], 'Bearer realm="orders"')
    t.match(res.json(), { statusCode: 401, code: 'unauthorized', error: 'Unauthorized', requestId: String })
  })

  t.test('public routes need nothing', async (t) => {
    t.equal((await app.inject({ url: '/health' })).statusCode, 200)
  })

  t.test('the token in the header (any case of "Bearer") or an allowed query parameter', async (t) => {
    t.equal((await app.inject({ url: '/orders', headers: bearer(reader) })).statusCode, 200)
    t.equal((await app.inject({ url: '/orders', headers: { authorization: `bearer ${reader}` } })).statusCode, 200)
    t.equal((await app.inject({ url: `/orders?access_token=${reader}` })).statusCode, 200)
    t.equal(
      (await app.inject({ url: `/orders?token=${reader}` })).statusCode,
      401,
      'a parameter not allowed is not read'
    )
  })

  t.test('malformed: 400 invalid_request', async (t) => {
    for (const [what, url, headers] of [
      ['another scheme', '/orders', { authorization: 'Basic YTpi' }],
      ['Bearer and nothing', '/orders', { authorization: 'Bearer ' }],
      ['header and query at once', `/orders?access_token=${reader}`, bearer(reader)],
      ['empty query parameter', '/orders?access_token=', {}]
    ] as const) {
      const res = await app.inject({ url, headers })
      t.equal(res.statusCode, 400, what)
      t.equal(res.json().code, 'invalid_request', what)
      t.match(res.headers['www-authenticate'], /^Bearer realm="orders", error="invalid_request"/, what)
    }
  })

  t.test('two Authorization headers: 400', async (t) => {
    const { port } = app.server.address() as AddressInfo
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/orders',
          headers: ['authorization', `Bearer ${reader}`, 'authorization', `Bearer ${reader}`]
        },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        }
      )
      req.on('error', reject)
      req.end()
    })
    t.equal(status, 400)
  })

  t.test('missing scopes: 403 insufficient_scope naming them', async (t) => {
    const post = await app.inject({ method: 'POST', url: '/orders', headers: bearer(reader) })
    t.equal(post.statusCode, 403)
    t.equal(post.json().code, 'insufficient_scope')
    t.match(
      post.headers['www-authenticate'],
      /error="insufficient_scope", error_description="[^"]+", scope="orders:write"/
    )
    const admin = await app.inject({ url: '/admin', headers: bearer(reader) })
    t.equal(admin.statusCode, 403)
    t.match(admin.headers['www-authenticate'], /scope="orders:read orders:admin"/, 'all the route needs')
    const writer = shapedToken()
    fake.answer = (token) => ({
      body: active({ scope: token === writer ? 'orders:read orders:write' : 'orders:read' }),
      cacheControl: 'private, max-age=60'
    })
    t.equal((await app.inject({ method: 'POST', url: '/orders', headers: bearer(writer) })).statusCode, 200)
  })

  t.test('registered in an encapsulated context, it protects only that context', async (t) => {
    const outer = Fastify()
    t.teardown(() => outer.close())
    outer.get('/open', async () => ({ ok: true }))
    await outer.register(async (api) => {
      await api.register(tokenVerifier, { authorityUrl: fake.url, credential: fake.credential })
      api.get('/api/orders', async () => ({ ok: true }))
    })
    t.equal((await outer.inject({ url: '/open' })).statusCode, 200, 'outside: untouched')
    t.equal((await outer.inject({ url: '/api/orders' })).statusCode, 401, 'inside: protected')
  })
})
