// Invalidation markers ("tombstones") in Redis are sealed like cache entries (issue 14, point 5:
// "Tombstones likewise"; services/authority/src/cache/redis-cache.ts). A client with write access
// to Redis tampers with the marker a revoke left: deletes it, overwrites it with a forged or
// another token's marker, or puts a sealed entry in its place (another token's, or this token's
// own from before the revoke). The revoked token stays inactive, answered from the database, and
// every value that was not ours is counted (ta_token_cache_rejected_total, by reason) and logged
// without the value. MySQL + Redis only: the embedded default has no Redis.
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { RedisTokenCache } from '../../services/authority/src/cache/redis-cache.js'
import {
  bearer,
  createAccount,
  createService,
  dbReads,
  introspect,
  login,
  startAuthority
} from '../support/authority.js'
import { BACKEND_NAMES } from '../support/backends.js'
import { newPat, PW } from '../support/revocation-fixture.js'

/** ta_token_cache_rejected_total of one app, by reason */
async function rejections(app: FastifyInstance): Promise<Record<string, number>> {
  const text = await app.authority.metrics.registry.getSingleMetricAsString('ta_token_cache_rejected_total')
  const out: Record<string, number> = {}
  for (const m of text.matchAll(/^ta_token_cache_rejected_total\{reason="([a-z]+)"\} (\d+)$/gm)) {
    out[m[1]!] = Number(m[2])
  }
  return out
}

/** what grew between two readings of the counter (reasons that did not grow are left out) */
function grown(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [reason, n] of Object.entries(after)) {
    if (n > (before[reason] ?? 0)) out[reason] = n - (before[reason] ?? 0)
  }
  return out
}

async function waitUntil(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

if (!BACKEND_NAMES().includes('mysql+redis')) {
  t.plan(0, 'cache tombstones: MySQL + Redis only (TEST_DATABASE_URL / TEST_REDIS_URL not set)')
} else {
  t.test('a revoke’s marker in Redis, tampered with: the token stays revoked', async (t) => {
    const ta = await startAuthority(t, 'mysql+redis')
    t.ok(ta.app.authority.cache instanceof RedisTokenCache, 'the cache is Redis')
    // the attacker: write access to the authority's Redis, nothing else (no pepper, no database)
    const redis = new Redis(process.env.TEST_REDIS_URL!)
    t.teardown(() => redis.quit())
    const key = (id: string) => `${ta.config.REDIS_KEY_PREFIX}tok:${id}`
    const svc = await createService(ta, 'gateway', ['tokens:introspect', 'tokens:introspect:reason'])
    await createAccount(ta, {
      username: 'tina',
      password: PW,
      kind: 'customer',
      permissions: ['tokens:read', 'tokens:write']
    })
    const session = await login(ta.app, 'customer', 'tina', PW)

    /** A PAT cached as active, then revoked: its sealed entry from before, and the marker that replaced it. */
    const revokedPat = async (t: Test) => {
      const pat = await newPat(ta, session, 'pat')
      t.equal((await introspect(ta, svc.token, pat.value)).active, true, 'active')
      const entry = (await redis.get(key(pat.id)))!
      t.match(entry, /^v1\.[A-Za-z0-9_-]{43}\./, 'cached, sealed')
      const del = await ta.app.inject({
        method: 'DELETE',
        url: `/v1/tokens/${pat.id}`,
        headers: bearer(session),
        payload: { password: PW }
      })
      t.equal(del.statusCode, 200, 'revoked')
      const marker = (await redis.get(key(pat.id)))!
      t.match(marker, /^![A-Za-z0-9_-]{43}$/, 'the revoke left a sealed marker in its place')
      t.ok((await redis.ttl(key(pat.id))) > 0, 'which expires')
      return { ...pat, entry, marker }
    }

    /**
     * Introspects the revoked token after a tamper: inactive (revoked), from the database (one read,
     * no cache hit); the rejection counter grew by one under one of `why` (by none when empty), and
     * so says the log, without `secret` (the value put in Redis). On `app` (the first replica unless given).
     */
    const stillRevoked = async (
      t: Test,
      pat: { id: string; value: string },
      why: readonly string[],
      secret?: string,
      app: FastifyInstance = ta.app
    ) => {
      const { introspection, cache } = app.authority
      const reads = await dbReads(app)
      const hits = cache.stats.hits
      const counted = await rejections(app)
      const logged = ta.logs.length
      t.same(await introspection.verify(pat.value), { active: false, reason: 'revoked' }, 'revoked')
      t.equal((await dbReads(app)) - reads, 1, 'answered from the database')
      t.equal(cache.stats.hits, hits, 'not from the cache')
      const grew = grown(counted, await rejections(app))
      const lines = ta.logs.slice(logged)
      const warned = lines.filter((l) => l.includes('cache entry rejected'))
      if (why.length === 0) {
        t.same(grew, {}, 'nothing rejected')
        t.same(warned, [], 'nothing logged')
      } else {
        const [reason] = Object.keys(grew)
        t.ok(reason !== undefined && why.includes(reason), `counted as ${why.join(' or ')} (got ${reason})`)
        t.same(grew, { [reason!]: 1 }, 'once')
        t.equal(warned.length, 1, 'logged once')
        t.match(warned[0], `"reason":"${reason}"`, 'the log says why')
      }
      if (secret !== undefined)
        t.notOk(
          lines.some((l) => l.includes(secret)),
          'without the value'
        )
      // the same over HTTP, as a gateway asks
      const res = await app.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(svc.token),
        payload: { token: pat.value }
      })
      t.same(res.json(), { active: false, reason: 'revoked' }, 'over /introspect too')
    }

    t.test('the marker deleted', async (t) => {
      const pat = await revokedPat(t)
      await redis.del(key(pat.id))
      await stillRevoked(t, pat, [])
      t.equal(await redis.get(key(pat.id)), null, 'the database answer put nothing back in Redis')
    })

    t.test('the marker overwritten with forged ones', async (t) => {
      const pat = await revokedPat(t)
      const other = await revokedPat(t)
      const forgeries = {
        'a bare marker (unsealed)': '!',
        'a marker with a made-up MAC': `!${randomBytes(32).toString('base64url')}`,
        'the marker of another revoked token': other.marker,
        'this marker with one character of its MAC changed': `${pat.marker.slice(0, 10)}${pat.marker[10] === 'A' ? 'B' : 'A'}${pat.marker.slice(11)}`
      }
      for (const [what, forged] of Object.entries(forgeries)) {
        await t.test(what, async (t) => {
          t.not(forged, pat.marker)
          await redis.set(key(pat.id), forged, 'EX', 60)
          await stillRevoked(t, pat, ['mac'], forged.length > 1 ? forged.slice(1) : undefined)
        })
      }
      await t.test('the genuine marker put back: no rejection', async (t) => {
        await redis.set(key(pat.id), pat.marker, 'EX', 60)
        await stillRevoked(t, pat, [])
      })
    })

    t.test('a sealed entry of another (active) token in the marker’s place', async (t) => {
      const pat = await revokedPat(t)
      // filled well after the revoke (past the replay check's margin): only the seal can refuse it
      await new Promise((resolve) => setTimeout(resolve, 2100))
      const donor = await newPat(ta, session, 'donor')
      t.equal((await introspect(ta, svc.token, donor.value)).active, true, 'the donor is active')
      const foreign = (await redis.get(key(donor.id)))!
      t.match(foreign, /^v1\./, 'a genuine sealed entry, of an active token')
      await redis.set(key(pat.id), foreign, 'EX', 60)
      // its MAC covers its own key: under this one it fails (mac), and it names another token (foreign)
      await stillRevoked(t, pat, ['mac', 'foreign'], foreign.slice(3, 46))
      t.equal((await introspect(ta, svc.token, donor.value)).active, true, 'the donor itself is unaffected')
    })

    t.test('this token’s own entry from before the revoke in the marker’s place (a replay)', async (t) => {
      const pat = await revokedPat(t)
      await redis.set(key(pat.id), pat.entry, 'EX', 60)
      await stillRevoked(t, pat, ['replay'], pat.entry.slice(3, 46))
      // a replica started after the revoke learns of it from the log (it writes the marker again),
      // and refuses the same replay
      const replica = await ta.replica()
      await waitUntil(
        () => replica.authority.revocations.cursor >= ta.app.authority.revocations.cursor,
        'the new replica to read the log'
      )
      t.match(await redis.get(key(pat.id)), /^!/, 'it wrote the marker again')
      await redis.set(key(pat.id), pat.entry, 'EX', 60)
      await stillRevoked(t, pat, ['replay'], pat.entry.slice(3, 46), replica)
    })
  })
}
