// The verifier package on its own (no authority): options are checked at registration, with a
// typed error; good options register and decorate the app.
import Fastify from 'fastify'
import t from 'tap'
import tokenVerifier, {
  VerifierError,
  VerifierOptionsError,
  type VerifierOptions
} from '@token-authority/fastify-verifier'

const GOOD = { authorityUrl: 'http://127.0.0.1:1', credential: 'svc-token' }

async function register(opts: unknown): Promise<void> {
  const app = Fastify()
  try {
    await app.register(tokenVerifier, opts as VerifierOptions)
    await app.ready()
  } finally {
    await app.close()
  }
}

t.test('bad options throw VerifierOptionsError (code FST_TA_VERIFIER_OPTIONS) at registration', async (t) => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['no options', undefined, /required|authorityUrl/],
    ['empty object', {}, /authorityUrl/],
    ['relative URL', { ...GOOD, authorityUrl: '/introspect' }, /absolute/],
    ['not a URL', { ...GOOD, authorityUrl: 'not a url' }, /absolute/],
    ['ftp URL', { ...GOOD, authorityUrl: 'ftp://authority' }, /http or https/],
    ['no credential', { authorityUrl: GOOD.authorityUrl }, /credential/],
    ['empty credential', { ...GOOD, credential: '' }, /credential/],
    ['credential not a string', { ...GOOD, credential: 42 }, /credential/],
    ['tokenPrefix with capitals', { ...GOOD, tokenPrefix: 'TKA' }, /tokenPrefix/],
    ['tokenPrefix too long', { ...GOOD, tokenPrefix: 'abcdefghi' }, /tokenPrefix/],
    ['tokenPrefix too short', { ...GOOD, tokenPrefix: 'a' }, /tokenPrefix/],
    ['cache.ttlSeconds 0', { ...GOOD, cache: { ttlSeconds: 0 } }, /cache\.ttlSeconds/],
    ['cache.ttlSeconds negative', { ...GOOD, cache: { ttlSeconds: -5 } }, /cache\.ttlSeconds/],
    ['cache.ttlSeconds NaN', { ...GOOD, cache: { ttlSeconds: Number.NaN } }, /cache\.ttlSeconds/],
    ['cache.ttlSeconds Infinity', { ...GOOD, cache: { ttlSeconds: Infinity } }, /cache\.ttlSeconds/],
    ['cache.max a string', { ...GOOD, cache: { max: '10' } }, /cache\.max/],
    ['timeoutMs 0', { ...GOOD, timeoutMs: 0 }, /timeoutMs/],
    ['connections negative', { ...GOOD, connections: -1 }, /connections/],
    ['retryAfterSeconds 0', { ...GOOD, retryAfterSeconds: 0 }, /retryAfterSeconds/],
    ['queryParameters not a list', { ...GOOD, queryParameters: 'access_token' }, /queryParameters/],
    ['queryParameters with an empty name', { ...GOOD, queryParameters: [''] }, /queryParameters/],
    [
      'the removed Redis invalidation option',
      { ...GOOD, invalidation: { redisUrl: 'redis://redis:6379' } },
      /invalidation.*gone/
    ],
    ['revocations not an object', { ...GOOD, revocations: 'yes' }, /revocations/],
    ['revocations with an unknown key', { ...GOOD, revocations: { redisUrl: 'redis://x' } }, /revocations\.redisUrl/],
    ['revocations.stream not a boolean', { ...GOOD, revocations: { stream: 'false' } }, /revocations\.stream/],
    ['revocations.failClosed not a boolean', { ...GOOD, revocations: { failClosed: 1 } }, /revocations\.failClosed/],
    ['revocations.degradedTtlSeconds 0', { ...GOOD, revocations: { degradedTtlSeconds: 0 } }, /degradedTtlSeconds/],
    [
      'revocations.degradedTtlSeconds above the cache TTL',
      { ...GOOD, cache: { ttlSeconds: 2 }, revocations: { degradedTtlSeconds: 3 } },
      /degradedTtlSeconds/
    ],
    [
      'revocations.reconnect.minMs negative',
      { ...GOOD, revocations: { reconnect: { minMs: -1 } } },
      /reconnect\.minMs/
    ],
    [
      'revocations.reconnect.maxMs below minMs',
      { ...GOOD, revocations: { reconnect: { minMs: 500, maxMs: 100 } } },
      /maxMs/
    ],
    ['revocations.idleTimeoutMs 0', { ...GOOD, revocations: { idleTimeoutMs: 0 } }, /idleTimeoutMs/]
  ]
  for (const [what, opts, message] of bad) {
    const err = await register(opts).then(
      () => null,
      (e: unknown) => e
    )
    t.type(err, VerifierOptionsError, what)
    t.equal((err as VerifierOptionsError | null)?.code, 'FST_TA_VERIFIER_OPTIONS', `${what}: code`)
    t.match((err as Error | null)?.message ?? '', message, `${what}: says which option`)
  }
})

t.test('good options register; the app gets requireScopes, tokenVerifier and request.auth', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(tokenVerifier, {
    ...GOOD,
    authorityUrl: 'https://authority.example:8443/base/',
    tokenPrefix: 'acme',
    cache: { max: 10, ttlSeconds: 0.5 },
    queryParameters: ['access_token'],
    timeoutMs: 200,
    connections: 2,
    realm: 'orders',
    retryAfterSeconds: 2,
    revocations: {
      stream: false,
      degradedTtlSeconds: 0.5,
      failClosed: true,
      reconnect: { minMs: 10, maxMs: 20 },
      idleTimeoutMs: 1000
    }
  })
  let seen: unknown = 'unset'
  app.get('/open', { config: { public: true } }, async (request) => {
    seen = request.auth
    return { ok: true }
  })
  await app.ready()
  t.type(app.requireScopes, 'function')
  t.type(app.requireScopes('orders:read'), 'function')
  t.same(app.tokenVerifier.stats, {
    hits: 0,
    misses: 0,
    rejectedOffline: 0,
    evictedByRevocation: 0,
    cacheResets: 0,
    authorityCalls: app.tokenVerifier.stats.authorityCalls
  })
  t.equal(app.tokenVerifier.revocationStream.state, 'off', 'revocations.stream false: no stream')
  t.equal(app.tokenVerifier.stats.authorityCalls(), 0)
  t.equal((await app.inject({ url: '/open' })).statusCode, 200, 'public route: no token needed')
  t.equal(seen, null, 'request.auth is null on a public route')
})

t.test('only defaults: registers with authorityUrl and credential alone', async (t) => {
  await t.resolves(register(GOOD))
})

t.test('VerifierError maps codes to statuses', async (t) => {
  const cases: Array<[ConstructorParameters<typeof VerifierError>[0], number, string]> = [
    ['unauthorized', 401, 'Unauthorized'],
    ['invalid_request', 400, 'Bad Request'],
    ['invalid_token', 401, 'Unauthorized'],
    ['insufficient_scope', 403, 'Forbidden'],
    ['service_unavailable', 503, 'Service Unavailable']
  ]
  for (const [code, status, reason] of cases) {
    const e = new VerifierError(code, 'x')
    t.equal(e.statusCode, status, code)
    t.equal(e.reasonPhrase, reason, code)
  }
})
