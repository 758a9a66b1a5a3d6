// The verifier following the authority's revocation stream (docs/revocation-stream.md) against a
// stand-in authority: SSE parsing; revocation events drop cached answers by token id and by
// account; a dropped stream resumes with Last-Event-ID; a consumer behind the retention gets
// `reset` and drops everything; while the stream is down cached answers are trusted for
// degradedTtlSeconds only, or not at all with failClosed; a silent stream is reconnected; an answer
// fetched across a revocation is not kept; onClose ends the stream.
import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import tokenVerifier, { SseParser, type SseMessage, type VerifierOptions } from '@token-authority/fastify-verifier'
import { active, shapedToken, startFakeAuthority, type FakeAuthority } from './fake-authority.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
type TapLike = { teardown(fn: () => unknown): void }

async function waitFor(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

type Revocations = NonNullable<VerifierOptions['revocations']>

async function consumer(
  t: TapLike,
  fake: FakeAuthority,
  revocations: Revocations = {},
  extra: Partial<VerifierOptions> = {}
): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(tokenVerifier, {
    authorityUrl: fake.url,
    credential: fake.credential,
    cache: { ttlSeconds: 30 },
    ...extra,
    revocations: { reconnect: { minMs: 20, maxMs: 100 }, ...revocations }
  })
  app.get('/me', async (request) => request.auth)
  await app.ready()
  t.teardown(() => app.close())
  return app
}

/** a token the fake answers active for (with this jti and account) until `revoked` is set */
function tokenFor(fake: FakeAuthority, overrides: Record<string, unknown> = {}) {
  const value = shapedToken()
  const body = active(overrides)
  const state = { value, jti: body.jti as string, revoked: false }
  const previous = fake.answer
  fake.answer = (tok) =>
    tok === value
      ? state.revoked
        ? { body: { active: false, reason: 'revoked' } }
        : { body, cacheControl: 'private, max-age=60' }
      : previous(tok)
  return state
}

t.test('SseParser: fields, comments, line endings, chunks split anywhere', async (t) => {
  const wire =
    'retry: 1000\r\n\r\n: heartbeat\n\nid: 7\nevent: revocation\ndata: {"a":\ndata:1}\n\nid: 8\revent: reset\rdata: {"seq":8}\r\r'
  for (const size of [1, 2, 3, 7, wire.length]) {
    const got: SseMessage[] = []
    const comments: string[] = []
    const p = new SseParser(
      (m) => got.push(m),
      (c) => comments.push(c)
    )
    for (let i = 0; i < wire.length; i += size) p.push(wire.slice(i, i + size))
    t.same(
      got,
      [
        { id: '7', event: 'revocation', data: '{"a":\n1}' },
        { id: '8', event: 'reset', data: '{"seq":8}' }
      ],
      `chunks of ${size}`
    )
    t.same(comments, ['heartbeat'], `chunks of ${size}: the heartbeat comment`)
  }
})

t.test('the stream', async (t) => {
  const fake = await startFakeAuthority()
  t.teardown(() => fake.close())

  t.test('a revocation event drops the cached answer at once; an account event drops all of its tokens', async (t) => {
    const app = await consumer(t, fake)
    await waitFor('live', () => app.tokenVerifier.revocationStream.state === 'live')
    const a = tokenFor(fake, { sub: 'acc-a' })
    const b = tokenFor(fake, { sub: 'acc-b' })
    const b2 = tokenFor(fake, { sub: 'acc-b' })
    for (const tok of [a, b, b2]) {
      t.equal((await app.inject({ url: '/me', headers: bearer(tok.value) })).statusCode, 200)
      t.equal((await app.inject({ url: '/me', headers: bearer(tok.value) })).statusCode, 200, 'cached')
    }
    const calls = fake.calls
    a.revoked = true
    const seen = new Promise((r) => app.tokenVerifier.revocationStream.events.once('revocation', r))
    fake.stream.revoke([a.jti])
    await seen
    const res = await app.inject({ url: '/me', headers: bearer(a.value) })
    t.equal(res.statusCode, 401, 'revoked at the next request')
    t.match(res.headers['www-authenticate'], /has been revoked/)
    t.equal(fake.calls, calls + 1, 'the authority was asked again')
    t.equal((await app.inject({ url: '/me', headers: bearer(b.value) })).statusCode, 200, 'other tokens stay cached')
    t.equal(fake.calls, calls + 1)
    b.revoked = b2.revoked = true
    const seen2 = new Promise((r) => app.tokenVerifier.revocationStream.events.once('revocation', r))
    fake.stream.revoke([], 'acc-b')
    await seen2
    t.equal((await app.inject({ url: '/me', headers: bearer(b.value) })).statusCode, 401, 'account event: first token')
    t.equal(
      (await app.inject({ url: '/me', headers: bearer(b2.value) })).statusCode,
      401,
      'account event: second token'
    )
    t.equal(app.tokenVerifier.stats.evictedByRevocation, 3)
    t.equal(app.tokenVerifier.revocationStream.lastEventId, String(fake.stream.log.length))
  })

  t.test('a dropped stream resumes with Last-Event-ID and gets what it missed', async (t) => {
    const app = await consumer(t, fake)
    await waitFor('live', () => app.tokenVerifier.revocationStream.state === 'live')
    fake.stream.revoke(['unrelated'])
    await waitFor('event', () => app.tokenVerifier.revocationStream.lastEventId === String(fake.stream.log.length))
    const tok = tokenFor(fake)
    t.equal((await app.inject({ url: '/me', headers: bearer(tok.value) })).statusCode, 200)
    const last = app.tokenVerifier.revocationStream.lastEventId
    // the authority refuses the stream for a while, so the consumer cannot come straight back
    fake.stream.refuse = 503
    fake.stream.drop()
    await waitFor('down', () => app.tokenVerifier.revocationStream.state === 'down')
    tok.revoked = true
    fake.stream.revoke([tok.jti]) // nobody is listening
    const from = fake.stream.resumedFrom.length
    fake.stream.refuse = null
    await waitFor('live again', () => app.tokenVerifier.revocationStream.state === 'live')
    t.equal(fake.stream.resumedFrom[from], last, 'reconnected with Last-Event-ID')
    await waitFor('backlog', () => app.tokenVerifier.revocationStream.lastEventId === String(fake.stream.log.length))
    t.equal(
      (await app.inject({ url: '/me', headers: bearer(tok.value) })).statusCode,
      401,
      'the missed revocation applied'
    )
    t.equal(app.tokenVerifier.stats.cacheResets, 0, 'a resumed stream keeps the cache')
  })

  t.test('behind the retention: reset drops the whole cache, then carries on from the given seq', async (t) => {
    const app = await consumer(t, fake)
    await waitFor('live', () => app.tokenVerifier.revocationStream.state === 'live')
    fake.stream.revoke(['unrelated'])
    await waitFor('event', () => app.tokenVerifier.revocationStream.lastEventId === String(fake.stream.log.length))
    const tok = tokenFor(fake)
    t.equal((await app.inject({ url: '/me', headers: bearer(tok.value) })).statusCode, 200)
    fake.stream.refuse = 503
    fake.stream.drop()
    await waitFor('down', () => app.tokenVerifier.revocationStream.state === 'down')
    tok.revoked = true
    for (let i = 0; i < 5; i++) fake.stream.revoke([i === 2 ? tok.jti : `other-${i}`])
    fake.stream.oldestSeq = fake.stream.log.length // the events the consumer missed are gone
    const reset = new Promise((r) => app.tokenVerifier.revocationStream.events.once('reset', r))
    fake.stream.refuse = null
    t.same(await reset, { seq: fake.stream.log.length })
    t.equal(app.tokenVerifier.stats.cacheResets, 1)
    t.equal(
      app.tokenVerifier.revocationStream.lastEventId,
      String(fake.stream.log.length),
      'carries on from the reset seq'
    )
    t.equal(
      (await app.inject({ url: '/me', headers: bearer(tok.value) })).statusCode,
      401,
      'the revoked token does not pass'
    )
    fake.stream.oldestSeq = 1
  })

  t.test('stream down: cached answers trusted for degradedTtlSeconds only', async (t) => {
    fake.stream.refuse = 503
    t.teardown(() => {
      fake.stream.refuse = null
    })
    const app = await consumer(t, fake, { degradedTtlSeconds: 0.3 })
    await sleep(50)
    t.not(app.tokenVerifier.revocationStream.state, 'live', 'never connected')
    const tok = tokenFor(fake)
    const calls = fake.calls
    t.equal((await app.inject({ url: '/me', headers: bearer(tok.value) })).statusCode, 200)
    t.equal((await app.inject({ url: '/me', headers: bearer(tok.value) })).statusCode, 200)
    t.equal(fake.calls, calls + 1, 'a fresh answer is used')
    await sleep(350)
    t.equal((await app.inject({ url: '/me', headers: bearer(tok.value) })).statusCode, 200)
    t.equal(fake.calls, calls + 2, 'older than the degraded TTL: asked again')
    // once the stream is up, the full TTL again (a fresh stream first drops what was cached blind)
    fake.stream.refuse = null
    await waitFor('live', () => app.tokenVerifier.revocationStream.state === 'live')
    t.equal(app.tokenVerifier.stats.cacheResets, 1, 'the first connect dropped the blind cache')
    t.equal((await app.inject({ url: '/me', headers: bearer(tok.value) })).statusCode, 200)
    await sleep(350)
    t.equal((await app.inject({ url: '/me', headers: bearer(tok.value) })).statusCode, 200)
    t.equal(fake.calls, calls + 3, 'stream live: cached past the degraded TTL')
  })

  t.test('failClosed: no cached answer while the stream is down; the authority unreachable is a 503', async (t) => {
    const app = await consumer(t, fake, { failClosed: true })
    await waitFor('live', () => app.tokenVerifier.revocationStream.state === 'live')
    const tok = tokenFor(fake)
    const calls = fake.calls
    t.equal((await app.inject({ url: '/me', headers: bearer(tok.value) })).statusCode, 200)
    t.equal((await app.inject({ url: '/me', headers: bearer(tok.value) })).statusCode, 200)
    t.equal(fake.calls, calls + 1, 'live: cached')
    fake.stream.refuse = 503
    t.teardown(() => {
      fake.stream.refuse = null
    })
    fake.stream.drop()
    await waitFor('down', () => app.tokenVerifier.revocationStream.state === 'down')
    t.equal((await app.inject({ url: '/me', headers: bearer(tok.value) })).statusCode, 200)
    t.equal((await app.inject({ url: '/me', headers: bearer(tok.value) })).statusCode, 200)
    t.equal(fake.calls, calls + 3, 'down: every request asks the authority')
    const answer = fake.answer
    fake.answer = () => ({ status: 503 })
    const res = await app.inject({ url: '/me', headers: bearer(tok.value) })
    t.equal(res.statusCode, 503, 'and without the authority: 503, not the cached pass')
    fake.answer = answer
  })

  t.test('a silent stream (no heartbeat) is reconnected; heartbeats keep it', async (t) => {
    const app = await consumer(t, fake, { idleTimeoutMs: 300 })
    await waitFor('live', () => app.tokenVerifier.revocationStream.state === 'live')
    const connects = app.tokenVerifier.revocationStream.connects
    const beat = setInterval(() => fake.stream.raw(': heartbeat\n\n'), 100)
    await sleep(700)
    clearInterval(beat)
    t.equal(app.tokenVerifier.revocationStream.connects, connects, 'heartbeats: the same connection')
    await waitFor('reconnect', () => app.tokenVerifier.revocationStream.connects > connects, 2000)
    t.pass('silent for idleTimeoutMs: reconnected')
  })

  t.test('an answer fetched across a revocation event is used once, not cached', async (t) => {
    const app = await consumer(t, fake)
    await waitFor('live', () => app.tokenVerifier.revocationStream.state === 'live')
    const tok = tokenFor(fake)
    const answer = fake.answer
    fake.answer = (v) => ({ ...answer(v), delayMs: 200 })
    const calls = fake.calls
    const pending = app.inject({ url: '/me', headers: bearer(tok.value) })
    await waitFor('asked', () => fake.calls === calls + 1)
    fake.stream.revoke([tok.jti])
    t.equal((await pending).statusCode, 200, 'answered as the authority said when asked')
    fake.answer = answer
    await app.inject({ url: '/me', headers: bearer(tok.value) })
    t.equal(fake.calls, calls + 2, 'not cached: asked again')
  })

  t.test('a credential the stream refuses (no tokens:revocations): degraded, keeps trying', async (t) => {
    fake.stream.refuse = 403
    t.teardown(() => {
      fake.stream.refuse = null
    })
    const app = await consumer(t, fake)
    const seen: string[] = []
    app.tokenVerifier.revocationStream.events.on('state', (s: string) => seen.push(s))
    await sleep(200)
    t.equal(app.tokenVerifier.revocationStream.state, 'down')
    t.equal(app.tokenVerifier.revocationStream.connects, 0)
    fake.stream.refuse = null
    await waitFor('live', () => app.tokenVerifier.revocationStream.state === 'live')
    t.ok(seen.includes('live'))
  })

  t.test('onClose ends the stream; revocations.stream false opens none', async (t) => {
    const app = await consumer(t, fake)
    await waitFor('live', () => app.tokenVerifier.revocationStream.state === 'live')
    t.ok(fake.stream.open >= 1)
    await app.close()
    t.equal(app.tokenVerifier.revocationStream.state, 'closed')
    await waitFor('stream gone', () => fake.stream.open === 0)
    const off = await consumer(t, fake, { stream: false })
    const before = fake.stream.resumedFrom.length
    await sleep(100)
    t.equal(off.tokenVerifier.revocationStream.state, 'off')
    t.equal(fake.stream.resumedFrom.length, before, 'no connection')
  })
})
