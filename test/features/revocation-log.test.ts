// The revocation log (issue 14, docs/revocation-stream.md), on both backends: every change that can
// deny access appends an event in its own transaction; running authorities follow the log (a CLI
// revoke reaches them within the poll bound); consumers follow it over HTTP (Server-Sent Events,
// resumed exactly by Last-Event-ID, reset when behind the retention); and, with Redis, cache
// entries Redis cannot forge.
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t from 'tap'
import { run } from '../../scripts/authority-cli.js'
import { RedisTokenCache } from '../../services/authority/src/cache/redis-cache.js'
import { pruneAll } from '../../services/authority/src/jobs/prune-job.js'
import { appendRevocation } from '../../services/authority/src/revocations/revocation.repository.js'
import { revokeTokenRows } from '../../services/authority/src/tokens/token.repository.js'
import {
  ADMIN,
  bearer,
  createAccount,
  createService,
  introspect,
  login,
  startAuthority,
  type TestAuthority
} from '../support/authority.js'
import { openStream } from '../support/sse.js'
import { BACKEND_NAMES, createBackend } from '../support/backends.js'
import { frozenOf } from '../support/rfc.js'
import { newPat, PW } from '../support/revocation-fixture.js'

async function events(ta: TestAuthority) {
  const rows = await ta.app.authority.database.db.selectFrom('revocation_events').selectAll().orderBy('seq').execute()
  return rows.map((r) => ({
    seq: Number(r.seq),
    tokenIds: JSON.parse(r.token_ids) as string[],
    accountId: r.account_id,
    reason: r.reason
  }))
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<number> {
  const started = Date.now()
  for (;;) {
    if (await check()) return Date.now() - started
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

for (const name of BACKEND_NAMES()) {
  t.test(`revocation log on ${name}`, async (t) => {
    const ta = await startAuthority(t, name)
    const carolId = await createAccount(ta, {
      username: 'carol',
      password: PW,
      kind: 'customer',
      permissions: ['tokens:read', 'tokens:write']
    })
    const svc = await createService(ta, 'follower', [
      'tokens:introspect',
      'tokens:introspect:reason',
      'tokens:revocations'
    ])

    t.test('every change that can deny access appends one event, in its own transaction', async (t) => {
      const carol = await login(ta.app, 'customer', 'carol', PW)
      const a = await newPat(ta, carol, 'pat', ['tokens:read', 'tokens:write'])
      const b = await newPat(ta, carol, 'pat')
      const c = await newPat(ta, carol, 'pat')
      const before = (await events(ta)).length
      const call = (
        method: 'POST' | 'PATCH' | 'DELETE',
        url: string,
        payload: Record<string, unknown>,
        token = carol
      ) => ta.app.inject({ method, url, headers: bearer(token), payload })
      t.equal((await call('PATCH', `/v1/tokens/${a.id}`, { name: 'renamed', password: PW })).statusCode, 200)
      t.equal((await events(ta)).length, before, 'a rename denies nothing: no event')
      t.equal((await call('PATCH', `/v1/tokens/${a.id}`, { scopes: ['tokens:read'], password: PW })).statusCode, 200)
      t.equal((await call('DELETE', `/v1/tokens/${b.id}`, { password: PW })).statusCode, 200)
      const regen = await call('POST', `/v1/tokens/${c.id}/regenerate`, { password: PW })
      t.equal(regen.statusCode, 201)
      // a change that fails writes no event: the transaction rolls back whole
      const count = (await events(ta)).length
      t.equal(
        (await call('POST', `/v1/tokens/${c.id}/regenerate`, { password: PW })).statusCode,
        409,
        'regenerating the old value again: refused'
      )
      t.equal((await events(ta)).length, count, 'a refused regenerate leaves no event')
      t.equal(
        (
          await call(
            'PATCH',
            `/v1/accounts/${carolId}`,
            { permissions: ['tokens:read'], current_password: ADMIN.password },
            ta.adminToken
          )
        ).statusCode,
        200
      )
      const second = await login(ta.app, 'customer', 'carol', PW)
      const secondId = (
        (await ta.app.inject({ url: '/v1/me', headers: bearer(second) })).json() as { token: { id: string } }
      ).token.id
      t.equal(
        (await call('POST', '/v1/me/password', { current_password: PW, new_password: 'carol-second-password' }))
          .statusCode,
        204
      )
      const after = (await events(ta)).slice(before)
      t.same(
        after.map((e) => [e.reason, e.tokenIds, e.accountId]),
        [
          ['edited', [a.id], null],
          ['revoked', [b.id], null],
          ['regenerated', [c.id], null],
          ['permissions_changed', [], carolId],
          ['password_changed', [secondId], null]
        ],
        'edit (narrower), revoke, regenerate, permissions reduced, password change (the other login token)'
      )
      const seqs = after.map((e) => e.seq)
      t.same(
        seqs,
        [...seqs].sort((x, y) => x - y),
        'sequence numbers only grow'
      )
      t.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!))
      const reset = await call(
        'PATCH',
        `/v1/accounts/${carolId}`,
        { permissions: ['tokens:read', 'tokens:write'], password: PW, current_password: ADMIN.password },
        ta.adminToken
      )
      t.equal(reset.statusCode, 200)
    })

    t.test('an earlier expiry, an admin password reset and a disable each append their events', async (t) => {
      const erinId = await createAccount(ta, {
        username: 'erin',
        password: PW,
        kind: 'customer',
        permissions: ['tokens:read', 'tokens:write']
      })
      const sessionId = async (token: string) =>
        ((await ta.app.inject({ url: '/v1/me', headers: bearer(token) })).json() as { token: { id: string } }).token.id
      const one = await login(ta.app, 'customer', 'erin', PW)
      const two = await login(ta.app, 'customer', 'erin', PW)
      const sessions = [await sessionId(one), await sessionId(two)].sort()
      const pat = await newPat(ta, one, 'pat')
      const before = (await events(ta)).length
      const earlier = await ta.app.inject({
        method: 'PATCH',
        url: `/v1/tokens/${pat.id}`,
        headers: bearer(one),
        payload: { expires_at: new Date(Date.now() + 86_400_000).toISOString(), password: PW }
      })
      t.equal(earlier.statusCode, 200, earlier.body)
      const reset = await ta.app.inject({
        method: 'PATCH',
        url: `/v1/accounts/${erinId}`,
        headers: bearer(ta.adminToken),
        payload: { password: 'erin-reset-password-1', current_password: ADMIN.password }
      })
      t.equal(reset.statusCode, 200, reset.body)
      const disable = await ta.app.inject({
        method: 'PATCH',
        url: `/v1/accounts/${erinId}`,
        headers: bearer(ta.adminToken),
        payload: { disabled: true, current_password: ADMIN.password }
      })
      t.equal(disable.statusCode, 200, disable.body)
      const after = (await events(ta)).slice(before)
      t.same(
        after.map((e) => [e.reason, [...e.tokenIds].sort(), e.accountId]),
        [
          ['edited', [pat.id], null],
          ['password_reset', sessions, null],
          ['account_disabled', [], erinId],
          ['account_disabled', [pat.id], null]
        ],
        'earlier expiry (the token), admin reset (every login token), disable (the account, then its live tokens)'
      )
      for (const token of [one, two]) {
        t.same(await introspect(ta, svc.token, token), { active: false, reason: 'revoked' }, 'the sessions ended')
      }
      t.same(await introspect(ta, svc.token, pat.value), { active: false, reason: 'revoked' }, 'the PAT too')
    })

    t.test('a CLI revoke reaches the running server through the log', async (t) => {
      const carol = await login(ta.app, 'customer', 'carol', PW)
      const pat = await newPat(ta, carol, 'pat')
      t.equal((await introspect(ta, svc.token, pat.value)).active, true, 'cached as active')
      const out: string[] = []
      const io = {
        env: { ...process.env, ...ta.backend.env, BCRYPT_COST: '4', LOG_LEVEL: 'warn' },
        stdout: { write: (s: string) => out.push(s) },
        stderr: { write: () => true },
        stdin: (async function* () {})()
      }
      const started = Date.now()
      t.equal(await run(['revoke-token', pat.id], io), 0)
      t.match(
        out.join(''),
        /revoked .*\n\(running authorities read the revocation log every 250 ms \(REVOCATION_LOG_POLL_MS as set for this command\) and apply it at their next read\)/
      )
      const waited = await waitUntil(
        'the server to see the CLI revoke',
        async () => (await introspect(ta, svc.token, pat.value)).active === false
      )
      t.ok(
        Date.now() - started < 3000,
        `inactive at the server ${waited} ms after the CLI returned (poll bound 250 ms)`
      )
      t.same(await introspect(ta, svc.token, pat.value), { active: false, reason: 'revoked' })
    })

    t.test(
      'a change committed by a process that died before invalidating anything still reaches the cache',
      async (t) => {
        const carol = await login(ta.app, 'customer', 'carol', PW)
        const pat = await newPat(ta, carol, 'pat')
        t.equal((await introspect(ta, svc.token, pat.value)).active, true, 'cached as active')
        // what a replica commits before it dies: the row and the event, no cache work at all
        const db = ta.app.authority.database.db
        await db.transaction().execute(async (trx) => {
          await revokeTokenRows(trx, [pat.id], Date.now(), 'revoked')
          await appendRevocation(trx, { at: Date.now(), tokenIds: [pat.id], reason: 'revoked' })
        })
        const waited = await waitUntil(
          'the follower to apply it',
          async () => (await introspect(ta, svc.token, pat.value)).active === false
        )
        t.comment(`applied from the log ${waited} ms after the commit`)
        t.same(await introspect(ta, svc.token, pat.value), { active: false, reason: 'revoked' })
      }
    )

    t.test('the stream: events in order, Last-Event-ID resumes exactly, reset past the retention', async (t) => {
      const base = await listen(ta.app)
      // no socket of this test may hold the app's close (fetch keeps connections alive)
      t.teardown(() => ta.app.server.closeAllConnections())
      const url = `${base}/v1/revocations`
      const noScope = await createService(ta, 'no-stream', ['tokens:introspect'])
      t.equal((await fetch(url)).status, 401, 'no credential: 401')
      t.equal(
        (await fetch(url, { headers: { authorization: `Bearer ${noScope.token}` } })).status,
        403,
        'without tokens:revocations: 403'
      )

      const carol = await login(ta.app, 'customer', 'carol', PW)
      const first = await openStream(url, svc.token)
      t.equal(first.res.status, 200)
      t.match(first.res.headers.get('content-type'), /^text\/event-stream/)
      const pats = [await newPat(ta, carol, 'pat'), await newPat(ta, carol, 'pat'), await newPat(ta, carol, 'pat')]
      const revokedAt: number[] = []
      for (const p of pats) {
        revokedAt.push(Date.now())
        const del = await ta.app.inject({
          method: 'DELETE',
          url: `/v1/tokens/${p.id}`,
          headers: bearer(carol),
          payload: { password: PW }
        })
        t.equal(del.statusCode, 200)
      }
      await waitUntil('three events', async () => first.received.length >= 3)
      await first.close()
      const got = first.received.slice(0, 3)
      t.same(
        got.map((e) => e.data.token_ids),
        pats.map((p) => [p.id]),
        'one event per revoke, in order'
      )
      t.ok(
        got.every((e) => e.event === 'revocation' && e.id === e.data.seq),
        'id = seq'
      )
      const lastId = got[2]!.id!

      // while the consumer is away: two more
      const more = [await newPat(ta, carol, 'pat'), await newPat(ta, carol, 'pat')]
      for (const p of more)
        await ta.app.inject({
          method: 'DELETE',
          url: `/v1/tokens/${p.id}`,
          headers: bearer(carol),
          payload: { password: PW }
        })
      const second = await openStream(url, svc.token, lastId)
      await waitUntil('the two missed events', async () => second.received.length >= 2)
      await new Promise((resolve) => setTimeout(resolve, 300))
      await second.close()
      t.same(
        second.received.map((e) => e.data.token_ids),
        more.map((p) => [p.id]),
        'resumed after Last-Event-ID: exactly the missed ones, no repeats'
      )

      // a consumer behind what the log keeps: reset
      const db = ta.app.authority.database.db
      await db.deleteFrom('revocation_events').where('seq', '<=', lastId).execute()
      const third = await openStream(url, svc.token, lastId - 2)
      await waitUntil('a reset', async () => third.received.length >= 1)
      await third.close()
      t.equal(third.received[0]!.event, 'reset', 'further behind than the retention: reset')
    })
  })

  t.test(`the stream's heartbeat on ${name}: a comment, and a revoked consumer is cut off`, async (t) => {
    const ta = await startAuthority(t, name, { env: { REVOCATION_STREAM_HEARTBEAT_SECONDS: '1' } })
    const base = await listen(ta.app)
    t.teardown(() => ta.app.server.closeAllConnections())
    const consumer = await createService(ta, 'heartbeat-consumer', ['tokens:revocations'])
    const controller = new AbortController()
    t.teardown(() => controller.abort())
    const res = await fetch(`${base}/v1/revocations`, {
      headers: { authorization: `Bearer ${consumer.token}`, accept: 'text/event-stream' },
      signal: controller.signal
    })
    t.equal(res.status, 200)
    let text = ''
    let ended = false
    const reading = (async () => {
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
          text += Buffer.from(chunk).toString()
      } catch {
        // aborted by the teardown
      }
      ended = true
    })()
    await waitUntil('a heartbeat', async () => text.includes(': heartbeat\n\n'), 5000)
    t.pass('a `: heartbeat` comment within the interval')
    t.notOk(ended, 'the stream stays open while the credential is good')
    // the consumer's own token revoked (RFC 7009, by its holder): the next heartbeat ends the stream
    const revoked = await ta.app.inject({
      method: 'POST',
      url: '/revoke',
      headers: bearer(consumer.token),
      payload: { token: consumer.token }
    })
    t.equal(revoked.statusCode, 200)
    const waited = await waitUntil('the stream to end', async () => ended, 5000)
    t.comment(`cut off ${waited} ms after the revoke`)
    await reading
    t.ok(ended, 'a revoked consumer no longer hears revocations')
  })

  t.test(`pruning the log on ${name}: events past the retention go, the newest always stays`, async (t) => {
    const ta = await startAuthority(t, name, { frozen: Date.now() })
    const clock = frozenOf(ta)
    const db = ta.app.authority.database.db
    const append = (id: string) =>
      db.transaction().execute((trx) => appendRevocation(trx, { at: clock.now(), tokenIds: [id], reason: 'revoked' }))
    for (const id of ['old-1', 'old-2', 'old-3']) await append(id)
    const older = (await events(ta)).length
    clock.advance(25 * 3600_000)
    await append('new-1')
    const retention = {
      retentionMs: 30 * 86_400_000,
      revocationRetentionMs: 24 * 3600_000,
      webhookRetentionMs: 30 * 86_400_000
    }
    const pruned = await pruneAll(db, clock, retention)
    t.equal(pruned.revocationEvents, older, 'every event older than 24 h')
    t.same(
      (await events(ta)).map((e) => e.tokenIds),
      [['new-1']],
      'the recent one stays'
    )
    clock.advance(25 * 3600_000)
    t.equal((await pruneAll(db, clock, retention)).revocationEvents, 0, 'the newest is kept even when old')
    t.same(
      (await events(ta)).map((e) => e.tokenIds),
      [['new-1']],
      'a follower still finds where the log stands'
    )
  })
}

for (const name of BACKEND_NAMES().filter((n) => n === 'mysql+redis')) {
  t.test('SQLite + Redis: a CLI revoke reaches the running server (it once printed ok and dropped it)', async (t) => {
    const sqlite = await createBackend('embedded')
    const prefix = `ta_t_sqlite_redis_${process.pid}_${Date.now()}:`
    const backend = {
      ...sqlite,
      env: { ...sqlite.env, REDIS_URL: process.env.TEST_REDIS_URL!, REDIS_KEY_PREFIX: prefix }
    }
    const direct = new Redis(process.env.TEST_REDIS_URL!)
    t.teardown(async () => {
      const keys = await direct.keys(`${prefix}*`)
      if (keys.length > 0) await direct.del(...keys)
      await direct.quit()
      await sqlite.cleanup()
    })
    const ta = await startAuthority(t, 'embedded', { backend })
    t.ok(ta.app.authority.cache instanceof RedisTokenCache, 'the cache is Redis, the database SQLite')
    const svc = await createService(ta, 'follower', ['tokens:introspect', 'tokens:introspect:reason'])
    await createAccount(ta, {
      username: 'frank',
      password: PW,
      kind: 'customer',
      permissions: ['tokens:read', 'tokens:write']
    })
    const frank = await login(ta.app, 'customer', 'frank', PW)
    const pat = await newPat(ta, frank, 'pat')
    t.equal((await introspect(ta, svc.token, pat.value)).active, true, 'cached as active')
    t.ok((await direct.keys(`${prefix}*`)).length > 0, 'in Redis')
    const io = {
      env: { ...process.env, ...backend.env, BCRYPT_COST: '4', LOG_LEVEL: 'warn' },
      stdout: { write: () => true },
      stderr: { write: () => true },
      stdin: (async function* () {})()
    }
    t.equal(await run(['revoke-token', pat.id], io), 0)
    const waited = await waitUntil(
      'the server to see the CLI revoke',
      async () => (await introspect(ta, svc.token, pat.value)).active === false
    )
    t.comment(`inactive at the server ${waited} ms after the CLI returned`)
    t.same(await introspect(ta, svc.token, pat.value), { active: false, reason: 'revoked' })
  })

  t.test('cache entries Redis cannot forge', async (t) => {
    const ta = await startAuthority(t, name)
    t.ok(ta.app.authority.cache instanceof RedisTokenCache)
    const direct = new Redis(process.env.TEST_REDIS_URL!)
    t.teardown(() => direct.quit())
    const key = (id: string) => `${ta.config.REDIS_KEY_PREFIX}tok:${id}`
    const svc = await createService(ta, 'checker', ['tokens:introspect', 'tokens:introspect:reason'])
    await createAccount(ta, {
      username: 'dave',
      password: PW,
      kind: 'customer',
      permissions: ['tokens:read', 'tokens:write']
    })
    const dave = await login(ta.app, 'customer', 'dave', PW)
    const narrow = await newPat(ta, dave, 'pat', ['tokens:read'])
    const other = await newPat(ta, dave, 'pat', ['tokens:read', 'tokens:write'])
    const rejected = async () => {
      const m = await ta.app.authority.metrics.registry.getSingleMetricAsString('ta_token_cache_rejected_total')
      return [...m.matchAll(/ (\d+)$/gm)].reduce((n, x) => n + Number(x[1]), 0)
    }

    t.test('widened scopes in a sealed entry: not accepted', async (t) => {
      t.equal((await introspect(ta, svc.token, narrow.value)).scope, 'tokens:read')
      const sealed = (await direct.get(key(narrow.id)))!
      t.match(sealed, /^v1\./, 'entries are sealed')
      const before = await rejected()
      await direct.set(
        key(narrow.id),
        sealed.replace('"scopes":["tokens:read"]', '"scopes":["tokens:read","tokens:write"]'),
        'EX',
        60
      )
      const info = await introspect(ta, svc.token, narrow.value)
      t.equal(info.scope, 'tokens:read', 'the widened entry is a miss: scopes from the database')
      t.ok((await rejected()) > before, 'counted')
      // an unsealed entry written by hand (the old format, or a forgery) is a miss too
      await direct.set(key(narrow.id), sealed.replace(/^v1\.[^.]+\./, ''), 'EX', 60)
      t.equal((await introspect(ta, svc.token, narrow.value)).scope, 'tokens:read')
    })

    t.test("another token's entry under this key: not accepted", async (t) => {
      await introspect(ta, svc.token, other.value)
      const foreign = (await direct.get(key(other.id)))!
      await direct.set(key(narrow.id), foreign, 'EX', 60)
      t.equal((await introspect(ta, svc.token, narrow.value)).scope, 'tokens:read')
    })

    t.test('an entry from before a revoke, put back after it: not accepted', async (t) => {
      await introspect(ta, svc.token, other.value)
      const saved = (await direct.get(key(other.id)))!
      const del = await ta.app.inject({
        method: 'DELETE',
        url: `/v1/tokens/${other.id}`,
        headers: bearer(dave),
        payload: { password: PW }
      })
      t.equal(del.statusCode, 200)
      await direct.set(key(other.id), saved, 'EX', 60)
      t.same(
        await introspect(ta, svc.token, other.value),
        { active: false, reason: 'revoked' },
        'replayed entry: revoked'
      )
      // a second replica learns of the revoke from the log and refuses the replay too
      const replica = await ta.replica()
      await waitUntil(
        'the replica to follow the log',
        async () => replica.authority.revocations.cursor >= ta.app.authority.revocations.cursor
      )
      await direct.set(key(other.id), saved, 'EX', 60)
      const r = await replica.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(svc.token),
        payload: { token: other.value }
      })
      t.same(r.json(), { active: false, reason: 'revoked' }, 'on another replica as well')
    })
  })
}
