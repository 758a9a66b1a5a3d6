// Last use of each token (issue 16 item 2, docs/tokens.md "Last used"), on both backends: uses are
// kept in memory per token and written behind in batches (one UPDATE for many introspections,
// never one per request), flushed on close; shown in list/get; filtered by used_since /
// unused_since; the introspecting service is the caller, and the verifier can forward the client.
import Fastify from 'fastify'
import t from 'tap'
import tokenVerifier from '@token-authority/fastify-verifier'
import type { FastifyInstance } from 'fastify'
import { LastUsedRecorder } from '../../services/authority/src/tokens/last-used.js'
import {
  bearer,
  createAccount,
  createService,
  errorCode,
  login,
  startAuthority,
  type TestAuthority
} from '../support/authority.js'
import { BACKEND_NAMES } from '../support/backends.js'

const PW = 'customer-password-1'
const START = Date.UTC(2026, 5, 1, 12, 0, 0)

async function newPat(ta: TestAuthority, session: string, name = 'pat'): Promise<{ id: string; value: string }> {
  const res = await ta.app.inject({
    method: 'POST',
    url: '/v1/tokens',
    headers: bearer(session),
    payload: { name, scopes: ['tokens:read'], password: PW }
  })
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`)
  return { id: res.json().token.id as string, value: res.json().access_token as string }
}

async function getToken(app: FastifyInstance, session: string, id: string) {
  const res = await app.inject({ url: `/v1/tokens/${id}`, headers: bearer(session) })
  if (res.statusCode !== 200) throw new Error(`get failed: ${res.statusCode} ${res.body}`)
  return res.json() as {
    last_used: { at: string; address: string | null; user_agent: string | null; caller: string | null } | null
  }
}

const count = (app: FastifyInstance, name: string) => app.authority.metrics.count(name)

async function setup(
  t: { teardown(fn: () => unknown): void },
  backend: ReturnType<typeof BACKEND_NAMES>[number],
  env: Record<string, string> = {}
) {
  // the interval is long: nothing is written unless a test flushes (or closes) explicitly
  const ta = await startAuthority(t, backend, { env: { LAST_USED_FLUSH_SECONDS: '3600', ...env }, frozen: START })
  const svc = await createService(ta, 'gateway', ['tokens:introspect'])
  const accountId = await createAccount(ta, {
    username: 'casey',
    password: PW,
    kind: 'customer',
    permissions: ['tokens:read', 'tokens:write']
  })
  const session = await login(ta.app, 'customer', 'casey', PW)
  return { ta, svc, accountId, session }
}

for (const backend of BACKEND_NAMES()) {
  t.test(`last used on ${backend}`, async (t) => {
    t.test('many introspections of several tokens are one write, after the interval, not before', async (t) => {
      const { ta, svc, session } = await setup(t, backend)
      const a = await newPat(ta, session, 'a')
      const b = await newPat(ta, session, 'b')
      await ta.app.authority.lastUsed.flush()
      const writesBefore = await count(ta.app, 'ta_last_used_writes_total')
      const writtenBefore = await count(ta.app, 'ta_last_used_written_total')
      for (let i = 0; i < 40; i++) {
        for (const token of [a, b]) {
          const res = await ta.app.inject({
            method: 'POST',
            url: '/introspect',
            headers: bearer(svc.token),
            payload: { token: token.value }
          })
          t.equal(res.json().active, true)
        }
      }
      t.equal(await count(ta.app, 'ta_last_used_writes_total'), writesBefore, 'no write while introspecting')
      const row = await ta.app.authority.database.db
        .selectFrom('tokens')
        .select('last_used_at')
        .where('id', '=', a.id)
        .executeTakeFirstOrThrow()
      t.equal(row.last_used_at, null, 'nothing in the database yet')
      await ta.app.authority.lastUsed.flush()
      t.equal(await count(ta.app, 'ta_last_used_writes_total'), writesBefore + 1, 'one UPDATE for all of them')
      // a, b and the gateway's own credential (used on /introspect): one row each
      t.equal(await count(ta.app, 'ta_last_used_written_total'), writtenBefore + 3, 'three tokens')
    })

    t.test('the introspecting service is the caller; the forwarded client is the address', async (t) => {
      const { ta, svc, session } = await setup(t, backend)
      const pat = await newPat(ta, session)
      const res = await ta.app.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(svc.token),
        payload: { token: pat.value, client_address: '203.0.113.7', client_user_agent: 'orders-cli/2.3' }
      })
      t.equal(res.json().active, true)
      await ta.app.authority.lastUsed.flush()
      const view = await getToken(ta.app, session, pat.id)
      t.same(view.last_used, {
        at: new Date(START).toISOString(),
        address: '203.0.113.7',
        user_agent: 'orders-cli/2.3',
        caller: svc.id
      })
    })

    t.test('a token used on the authority’s own API records the request’s address and user agent', async (t) => {
      const { ta, session } = await setup(t, backend)
      const pat = await newPat(ta, session)
      const res = await ta.app.inject({
        url: '/v1/tokens',
        headers: { ...bearer(pat.value), 'user-agent': 'curl/8.5' },
        remoteAddress: '198.51.100.9'
      })
      t.equal(res.statusCode, 200)
      await ta.app.authority.lastUsed.flush()
      const view = await getToken(ta.app, session, pat.id)
      t.same(view.last_used, {
        at: new Date(START).toISOString(),
        address: '198.51.100.9',
        user_agent: 'curl/8.5',
        caller: null
      })
    })

    t.test('inactive tokens are not recorded; a fresh token shows last_used null', async (t) => {
      const { ta, svc, session } = await setup(t, backend)
      const pat = await newPat(ta, session)
      const dead = await newPat(ta, session, 'dead')
      const del = await ta.app.inject({
        method: 'DELETE',
        url: `/v1/tokens/${dead.id}`,
        headers: bearer(session),
        payload: { password: PW }
      })
      t.equal(del.statusCode, 200)
      const res = await ta.app.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(svc.token),
        payload: { token: dead.value }
      })
      t.equal(res.json().active, false)
      await ta.app.authority.lastUsed.flush()
      t.equal((await getToken(ta.app, session, dead.id)).last_used, null, 'revoked: not recorded')
      t.equal((await getToken(ta.app, session, pat.id)).last_used, null, 'never used')
    })

    t.test('the latest use wins, and a later write never goes back in time', async (t) => {
      const { ta, svc, session } = await setup(t, backend)
      const pat = await newPat(ta, session)
      const clock = ta.clock as { advance(ms: number): void }
      const use = (address: string) =>
        ta.app.inject({
          method: 'POST',
          url: '/introspect',
          headers: bearer(svc.token),
          payload: { token: pat.value, client_address: address }
        })
      await use('192.0.2.1')
      clock.advance(5000)
      await use('192.0.2.2')
      await ta.app.authority.lastUsed.flush()
      let view = await getToken(ta.app, session, pat.id)
      t.equal(view.last_used?.address, '192.0.2.2')
      t.equal(view.last_used?.at, new Date(START + 5000).toISOString())
      // another replica with an older use writes later: the stored later use stays
      clock.advance(-3000)
      await use('192.0.2.3')
      await ta.app.authority.lastUsed.flush()
      view = await getToken(ta.app, session, pat.id)
      t.equal(view.last_used?.address, '192.0.2.2', 'older use did not overwrite')
    })

    t.test('closing the app writes what is pending (graceful shutdown)', async (t) => {
      const { ta, svc, session } = await setup(t, backend)
      const pat = await newPat(ta, session)
      const replica = await ta.replica()
      const res = await replica.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(svc.token),
        payload: { token: pat.value }
      })
      t.equal(res.json().active, true)
      t.ok(replica.authority.lastUsed.pendingCount > 0, 'kept in memory')
      await replica.close()
      t.equal((await getToken(ta.app, session, pat.id)).last_used?.caller, svc.id, 'written on close')
    })

    t.test('used_since and unused_since filter the list (own and admin listing)', async (t) => {
      const { ta, svc, accountId, session } = await setup(t, backend)
      const clock = ta.clock as { advance(ms: number): void }
      const old = await newPat(ta, session, 'old')
      const recent = await newPat(ta, session, 'recent')
      const never = await newPat(ta, session, 'never')
      const use = (value: string) =>
        ta.app.inject({ method: 'POST', url: '/introspect', headers: bearer(svc.token), payload: { token: value } })
      await use(old.value)
      clock.advance(1200_000)
      await use(recent.value)
      await ta.app.authority.lastUsed.flush()
      const cut = new Date(START + 600_000).toISOString()
      const names = async (url: string, token: string) => {
        const res = await ta.app.inject({ url, headers: bearer(token) })
        t.equal(res.statusCode, 200, url)
        return (res.json().items as { name: string; id: string }[])
          .map((i) => i.id)
          .filter((id) => [old.id, recent.id, never.id].includes(id))
          .sort()
      }
      t.same(await names(`/v1/tokens?used_since=${cut}`, session), [recent.id])
      t.same(await names(`/v1/tokens?unused_since=${cut}`, session), [old.id, never.id].sort())
      t.same(await names(`/v1/accounts/${accountId}/tokens?used_since=${cut}`, ta.adminToken), [recent.id])
      const bad = await ta.app.inject({ url: '/v1/tokens?used_since=yesterday', headers: bearer(session) })
      t.equal(bad.statusCode, 400)
      t.equal(errorCode(bad), 'validation_failed')
    })

    t.test('bad forwarded client fields are a 400 that records nothing', async (t) => {
      const { ta, svc, session } = await setup(t, backend)
      const pat = await newPat(ta, session)
      for (const extra of [
        { client_address: 'not an address' },
        { client_address: '1'.repeat(46) },
        { client_user_agent: 'bad\nagent' },
        { client_user_agent: 'x'.repeat(513) }
      ]) {
        const res = await ta.app.inject({
          method: 'POST',
          url: '/introspect',
          headers: bearer(svc.token),
          payload: { token: pat.value, ...extra }
        })
        t.equal(res.statusCode, 400, JSON.stringify(extra).slice(0, 60))
      }
      await ta.app.authority.lastUsed.flush()
      t.equal((await getToken(ta.app, session, pat.id)).last_used, null)
    })

    t.test('recording off (LAST_USED_FLUSH_SECONDS=0): nothing kept, nothing written', async (t) => {
      const { ta, svc, session } = await setup(t, backend, { LAST_USED_FLUSH_SECONDS: '0' })
      const pat = await newPat(ta, session)
      await ta.app.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(svc.token),
        payload: { token: pat.value }
      })
      t.equal(ta.app.authority.lastUsed.pendingCount, 0)
      await ta.app.authority.lastUsed.flush()
      t.equal((await getToken(ta.app, session, pat.id)).last_used, null)
    })

    t.test('the pending map is bounded; drops are counted', async (t) => {
      const { ta, session } = await setup(t, backend)
      const tokens = [await newPat(ta, session, 'a'), await newPat(ta, session, 'b'), await newPat(ta, session, 'c')]
      let dropped = 0
      let written = 0
      const recorder = new LastUsedRecorder({
        db: ta.app.authority.database.db,
        guard: (p) => p,
        clock: ta.app.authority.clock,
        log: { warn() {} },
        intervalMs: 3600_000,
        maxPending: 2,
        counters: {
          written: {
            inc: (n = 1) => {
              written += n
            }
          },
          batches: { inc() {} },
          dropped: {
            inc: (n = 1) => {
              dropped += n
            }
          },
          failed: { inc() {} }
        }
      })
      t.teardown(() => recorder.close())
      for (const tk of tokens) recorder.record(tk.id, '192.0.2.1', 'ua', null)
      recorder.record(tokens[0]!.id, '192.0.2.9', 'ua', null)
      t.equal(recorder.pendingCount, 2)
      t.equal(dropped, 1, 'the third token was dropped; an update of a kept one was not')
      await recorder.flush()
      t.equal(written, 2)
      t.equal((await getToken(ta.app, session, tokens[0]!.id)).last_used?.address, '192.0.2.9')
      t.equal((await getToken(ta.app, session, tokens[2]!.id)).last_used, null)
    })

    t.test('the verifier forwards the client address and user agent when forwardClient is on', async (t) => {
      const { ta, svc, session } = await setup(t, backend)
      const pat = await newPat(ta, session)
      const authorityUrl = await ta.app.listen({ port: 0, host: '127.0.0.1' })
      const consumer = async (forwardClient: boolean | undefined) => {
        const app = Fastify({ trustProxy: true })
        await app.register(tokenVerifier, {
          authorityUrl,
          credential: svc.token,
          revocations: { stream: false },
          cache: { ttlSeconds: 1 },
          ...(forwardClient === undefined ? {} : { forwardClient })
        })
        app.get('/x', async () => ({ ok: true }))
        t.teardown(() => app.close())
        return app
      }
      const off = await consumer(undefined)
      const r1 = await off.inject({
        url: '/x',
        headers: { ...bearer(pat.value), 'user-agent': 'shop-app/1', 'x-forwarded-for': '192.0.2.44' }
      })
      t.equal(r1.statusCode, 200)
      await ta.app.authority.lastUsed.flush()
      let view = await getToken(ta.app, session, pat.id)
      t.same([view.last_used?.address, view.last_used?.user_agent, view.last_used?.caller], [null, null, svc.id])

      ;(ta.clock as { advance(ms: number): void }).advance(1000)
      const on = await consumer(true)
      const r2 = await on.inject({
        url: '/x',
        headers: { ...bearer(pat.value), 'user-agent': 'shop-app/2\tbeta', 'x-forwarded-for': '192.0.2.45' }
      })
      t.equal(r2.statusCode, 200)
      await ta.app.authority.lastUsed.flush()
      view = await getToken(ta.app, session, pat.id)
      t.same(view.last_used, {
        at: new Date(START + 1000).toISOString(),
        address: '192.0.2.45',
        user_agent: 'shop-app/2 beta',
        caller: svc.id
      })
    })
  })
}
