import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import { parseToken } from '../../services/authority/src/tokens/token-format.js'
import { BACKEND_NAMES, createBackend } from '../helpers/backends.js'
import { ADMIN, bearer, createAccount, createService, errorCode, introspect, startAuthority } from '../helpers/authority.js'

const key = (kid: string) => `${kid}:${randomBytes(32).toString('base64')}`

t.test('property: any input to the token parser is rejected cleanly, never a throw', async (t) => {
  const keys = [{ kid: 'k1', secret: randomBytes(32) }]
  let runs = 0
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.uint8Array({ maxLength: 16384 }).map((b) => Buffer.from(b).toString('latin1')),
        fc.stringMatching(/^tka_(pat|lgn|svc)_[A-Za-z0-9_-]{132}$/),
        fc.string({ maxLength: 16384 })
      ),
      (input) => {
        runs++
        const r = parseToken(input, 'tka', keys)
        return r.ok === false
      }
    ),
    { numRuns: 3000 }
  )
  t.equal(runs, 3000, `${runs} arbitrary inputs, all inactive`)
  t.same(parseToken(undefined, 'tka', keys), { ok: false, reason: 'malformed' })
})

for (const backend of BACKEND_NAMES()) {
  t.test(`hostile input and races on ${backend}`, async (t) => {
    // A 1,000-request burst queues behind 10 pooled connections: give the queue time to drain (with
    // the default 3 s bound the excess would be shed as 503, by design) and count what it costs.
    const ta = await startAuthority(t, backend, {
      env: { INTROSPECT_UNKNOWN_PER_MINUTE: '20', REQUIRE_PASSWORD_CONFIRMATION: 'false', DB_QUERY_TIMEOUT_MS: '30000' }
    })
    const { app } = ta
    const { tokens } = app.authority
    const db = app.authority.database.db

    t.test('property: arbitrary values cost no cache or database call', async (t) => {
      const reads = tokens.dbReads
      const lookups = app.authority.cache.stats.hits + app.authority.cache.stats.misses
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.string({ maxLength: 200 }), fc.stringMatching(/^tka_pat_[A-Za-z0-9_-]{132}$/)), async (v) => {
          const r = await tokens.verify(v)
          return r.active === false
        }),
        { numRuns: 500 }
      )
      t.equal(tokens.dbReads, reads, 'no database read')
      t.equal(app.authority.cache.stats.hits + app.authority.cache.stats.misses, lookups, 'no cache lookup')
    })

    t.test('a caller fishing with unknown tokens is throttled with 429', async (t) => {
      const fisher = await createService(ta, 'fisher', ['tokens:introspect'])
      const honest = await createService(ta, 'honest', ['tokens:introspect'])
      const statuses: number[] = []
      for (let i = 0; i < 25; i++) {
        const res = await app.inject({ method: 'POST', url: '/introspect', headers: bearer(fisher.token), payload: { token: `guess-${i}` } })
        statuses.push(res.statusCode)
      }
      t.same(statuses.slice(0, 20), Array(20).fill(200))
      t.same(statuses.slice(20), Array(5).fill(429), 'then 429')
      const blocked = await app.inject({ method: 'POST', url: '/introspect', headers: bearer(fisher.token), payload: { token: ta.adminToken } })
      t.equal(blocked.statusCode, 429)
      t.equal(errorCode(blocked), 'too_many_requests')
      t.ok(Number(blocked.headers['retry-after']) >= 1)
      t.equal((await introspect(ta, honest.token, ta.adminToken)).active, true, 'another caller is unaffected')
    })

    t.test('50 concurrent regenerations: one 201, the rest 409, one successor', async (t) => {
      const made = await app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(ta.adminToken), payload: { name: 'race', scopes: ['tokens:read'] } })
      const id = made.json().token.id as string
      const results = await Promise.all(
        Array.from({ length: 50 }, () => app.inject({ method: 'POST', url: `/v1/tokens/${id}/regenerate`, headers: bearer(ta.adminToken), payload: {} }))
      )
      const codes = results.map((r) => r.statusCode)
      t.equal(codes.filter((c) => c === 201).length, 1, `one winner (${codes.join(',')})`)
      t.equal(codes.filter((c) => c === 409).length, 49, `the rest 409 (${results.filter((r) => r.statusCode !== 201 && r.statusCode !== 409).map((r) => r.body).join(' ')})`)
      const successors = await db.selectFrom('tokens').select('id').where('parent_id', '=', id).where('revoked_at', 'is', null).execute()
      t.equal(successors.length, 1, 'one live successor in the database')
    })

    t.test('1,000 concurrent creates: 1,000 distinct values and rows, no 5xx', async (t) => {
      const before = (await db.selectFrom('tokens').select('id').execute()).length
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(ta.adminToken), payload: { name: `bulk ${i}`, scopes: ['tokens:read'] } })
        )
      )
      t.equal(results.filter((r) => r.statusCode >= 500).length, 0, 'no 5xx')
      const statuses: Record<string, number> = {}
      for (const r of results) {
        const k = r.statusCode >= 300 ? `${r.statusCode} ${r.json().code}` : String(r.statusCode)
        statuses[k] = (statuses[k] ?? 0) + 1
      }
      t.equal(results.filter((r) => r.statusCode === 201).length, 1000, `all created (${JSON.stringify(statuses)})`)
      t.equal(new Set(results.map((r) => r.json().access_token)).size, 1000, 'distinct values')
      const after = (await db.selectFrom('tokens').select('id').execute()).length
      t.equal(after - before, 1000, '1,000 rows')
    })

    t.test('1,000 concurrent introspections of one uncached token: one database read', async (t) => {
      const svc = await createService(ta, 'burst', ['tokens:introspect'])
      const made = await app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(ta.adminToken), payload: { name: 'burst', scopes: ['tokens:read'] } })
      const value = made.json().access_token as string
      await introspect(ta, svc.token, 'warm-the-caller') // the caller's own token is now cached
      const reads = tokens.dbReads
      const cacheErrors = app.authority.cache.stats.errors
      const results = await Promise.all(
        Array.from({ length: 1000 }, () => app.inject({ method: 'POST', url: '/introspect', headers: bearer(svc.token), payload: { token: value } }))
      )
      t.comment(`1,000 concurrent introspections: ${tokens.dbReads - reads} database read(s), ${app.authority.cache.stats.errors - cacheErrors} cache errors`)
      t.ok(results.every((r) => r.statusCode === 200 && r.json().active === true))
      t.equal(tokens.dbReads - reads, 1, 'one database read for 1,000 concurrent misses')
    })

    t.test('log injection: control characters never forge a log line', async (t) => {
      const evil = 'x\r\n{"level":50,"msg":"forged"}\u001b[31m'
      const badAccount = await app.inject({
        method: 'POST',
        url: '/v1/accounts',
        headers: bearer(ta.adminToken),
        payload: { username: evil, password: 'long-enough-password', kind: 'customer' }
      })
      t.equal(badAccount.statusCode, 400, 'control characters in a username are refused')
      await app.inject({ method: 'POST', url: '/v1/auth/customer/token', payload: { username: evil, password: evil } })
      const badName = await app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(ta.adminToken), payload: { name: evil, scopes: ['tokens:read'] } })
      t.equal(badName.statusCode, 400, 'control characters in a token name are refused')
      const desc = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: 'ok', description: 'line one\nline two', scopes: ['tokens:read'] }
      })
      t.equal(desc.statusCode, 201, 'a newline in a description is data')
      await app.inject({ url: `/v1/me?x=${encodeURIComponent(evil)}`, headers: { authorization: `Bearer ${evil}`, 'x-request-id': evil } })
      for (const line of ta.logs) {
        const parsed = JSON.parse(line) as { msg?: string }
        if (parsed.msg === 'forged') t.fail('a forged log line')
      }
      t.ok(ta.logs.every((l) => !l.includes('\n') && !l.includes('\r')), `${ta.logs.length} log lines, each one JSON line`)
    })

    t.test('one audit row per change', async (t) => {
      const count = async () => Number((await db.selectFrom('audit_events').select(db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
      const start = await count()
      const made = (await app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(ta.adminToken), payload: { name: 'a', preset: 'ci' } })).json()
      await app.inject({ method: 'PATCH', url: `/v1/tokens/${made.token.id}`, headers: bearer(ta.adminToken), payload: { name: 'b' } })
      await app.inject({ method: 'PATCH', url: `/v1/tokens/${made.token.id}`, headers: bearer(ta.adminToken), payload: { name: 'b' } }) // no change
      const regen = (await app.inject({ method: 'POST', url: `/v1/tokens/${made.token.id}/regenerate`, headers: bearer(ta.adminToken), payload: {} })).json()
      const copy = (await app.inject({ method: 'POST', url: `/v1/tokens/${regen.token.id}/copy`, headers: bearer(ta.adminToken), payload: {} })).json()
      await app.inject({ method: 'POST', url: '/v1/tokens/revoke', headers: bearer(ta.adminToken), payload: { ids: [regen.token.id, copy.token.id] } })
      await app.inject({ method: 'POST', url: '/v1/tokens/revoke', headers: bearer(ta.adminToken), payload: { ids: [regen.token.id] } }) // no change
      await app.inject({ method: 'PATCH', url: `/v1/tokens/${copy.token.id}`, headers: bearer(ta.adminToken), payload: { name: 'refused' } }) // 409
      t.equal((await count()) - start, 6, 'create, edit, regenerate, copy, 2 revokes: 6 rows; no-ops and refusals none')
    })
    void createAccount
    void ADMIN
  })

  t.test(`HMAC key rotation on ${backend}`, async (t) => {
    const backendHandle = await createBackend(backend)
    t.teardown(() => backendHandle.cleanup())
    const pepper = randomBytes(32).toString('base64')
    const oldKey = key('old')
    const newKey = key('new')
    const withKeys = (keys: string) => startAuthority(t, backend, { backend: backendHandle, env: { TOKEN_SIGNING_KEYS: keys, TOKEN_PEPPER: pepper } })
    const a = await withKeys(oldKey)
    const svcA = await createService(a, 'rotation-svc', ['tokens:introspect', 'tokens:introspect:reason'])
    const oldPat = (await a.app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(a.adminToken), payload: { name: 'old', scopes: ['tokens:read'], password: ADMIN.password } })).json()

    // rotate: the new key signs, the old one still verifies
    const b = await withKeys(`${newKey},${oldKey}`)
    t.equal((await introspect(b, svcA.token, oldPat.access_token)).active, true, 'old-key token verifies after rotation')
    const newPat = (await b.app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(b.adminToken), payload: { name: 'new', scopes: ['tokens:read'], password: ADMIN.password } })).json()
    t.equal(newPat.token.id.length, 22)
    const row = await b.app.authority.database.db.selectFrom('tokens').select('kid').where('id', '=', newPat.token.id).executeTakeFirstOrThrow()
    t.equal(row.kid, 'new', 'new tokens use the new key')

    // retire the old key: its tokens are inactive (no I/O needed to know), new ones still work
    const c = await withKeys(newKey)
    const svcC = (await c.app.inject({
      method: 'POST',
      url: `/v1/accounts/${svcA.id}/tokens`,
      headers: bearer(c.adminToken),
      payload: { name: 'rotated', scopes: ['tokens:introspect', 'tokens:introspect:reason'], password: ADMIN.password }
    })).json().access_token as string
    t.same(await introspect(c, svcC, oldPat.access_token), { active: false, reason: 'unknown' }, 'retired key: inactive')
    t.equal((await introspect(c, svcC, newPat.access_token)).active, true)
  })
}
