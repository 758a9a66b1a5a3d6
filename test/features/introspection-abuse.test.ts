import fc from 'fast-check'
import t from 'tap'
import { BACKEND_NAMES } from '../support/backends.js'
import { bearer, createService, dbReads, errorCode, introspect, startAuthority } from '../support/authority.js'

/**
 * Introspection under hostile load (moved from the former adversarial.test.ts, same settings):
 * arbitrary values cost no I/O, a caller fishing with unknown tokens is throttled, and a burst of
 * concurrent misses for one token costs one database read.
 */

for (const backend of BACKEND_NAMES()) {
  t.test(`introspection under hostile load on ${backend}`, async (t) => {
    // A 1,000-request burst queues behind 10 pooled connections: give the queue time to drain (with
    // the default 3 s bound the excess would be shed as 503, by design) and count what it costs.
    const ta = await startAuthority(t, backend, {
      env: { INTROSPECT_UNKNOWN_PER_MINUTE: '20', REQUIRE_PASSWORD_CONFIRMATION: 'false', DB_QUERY_TIMEOUT_MS: '30000' }
    })
    const { app } = ta
    const { introspection } = app.authority

    t.test('property: arbitrary values cost no cache or database call', async (t) => {
      const reads = await dbReads(app)
      const lookups = app.authority.cache.stats.hits + app.authority.cache.stats.misses
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.string({ maxLength: 200 }), fc.stringMatching(/^tka_pat_[A-Za-z0-9_-]{132}$/)),
          async (v) => {
            const r = await introspection.verify(v)
            return r.active === false
          }
        ),
        { numRuns: 500 }
      )
      t.equal(await dbReads(app), reads, 'no database read')
      t.equal(app.authority.cache.stats.hits + app.authority.cache.stats.misses, lookups, 'no cache lookup')
    })

    t.test('a caller fishing with unknown tokens is throttled with 429', async (t) => {
      const fisher = await createService(ta, 'fisher', ['tokens:introspect'])
      const honest = await createService(ta, 'honest', ['tokens:introspect'])
      const statuses: number[] = []
      for (let i = 0; i < 25; i++) {
        const res = await app.inject({
          method: 'POST',
          url: '/introspect',
          headers: bearer(fisher.token),
          payload: { token: `guess-${i}` }
        })
        statuses.push(res.statusCode)
      }
      t.same(statuses.slice(0, 20), Array(20).fill(200))
      t.same(statuses.slice(20), Array(5).fill(429), 'then 429')
      const blocked = await app.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(fisher.token),
        payload: { token: ta.adminToken }
      })
      t.equal(blocked.statusCode, 429)
      t.equal(errorCode(blocked), 'too_many_requests')
      t.ok(Number(blocked.headers['retry-after']) >= 1)
      t.equal((await introspect(ta, honest.token, ta.adminToken)).active, true, 'another caller is unaffected')
    })

    t.test('1,000 concurrent introspections of one uncached token: one database read', async (t) => {
      const svc = await createService(ta, 'burst', ['tokens:introspect'])
      const made = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: 'burst', scopes: ['tokens:read'] }
      })
      const value = made.json().access_token as string
      await introspect(ta, svc.token, 'warm-the-caller') // the caller's own token is now cached
      const reads = await dbReads(app)
      const cacheErrors = app.authority.cache.stats.errors
      const results = await Promise.all(
        Array.from({ length: 1000 }, () =>
          app.inject({ method: 'POST', url: '/introspect', headers: bearer(svc.token), payload: { token: value } })
        )
      )
      t.comment(
        `1,000 concurrent introspections: ${(await dbReads(app)) - reads} database read(s), ${app.authority.cache.stats.errors - cacheErrors} cache errors`
      )
      t.ok(results.every((r) => r.statusCode === 200 && r.json().active === true))
      t.equal((await dbReads(app)) - reads, 1, 'one database read for 1,000 concurrent misses')
    })
  })
}
