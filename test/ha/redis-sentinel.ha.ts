import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import t from 'tap'
import type { RedisTokenCache } from '../../services/authority/src/cache/redis-cache.js'
import { ADMIN, bearer, startAuthority } from '../support/authority.js'
import type { Backend } from '../support/backends.js'
import { mintTokens, runLoad } from './load.js'
import { run } from '../../scripts/authority-cli.js'
import { connected, requireBinaries, startSentinelSetup, waitFor } from '../../scripts/private-servers.js'

/**
 * Redis behind Sentinel (one primary, one replica, three sentinels), two authority processes
 * configured with REDIS_SENTINELS. Under introspection + revoke load the primary is SIGKILLed:
 * the sentinels promote the replica, the authority follows. Counted: requests served, wrong
 * answers (an introspection that started after the token's revoke returned and said active: must
 * be 0), errors clients saw, and the time until the authority's Redis commands work again.
 */

if (requireBinaries(t, ['redis-server'])) {
  t.test('sentinel failover under introspection + revoke load', async (t) => {
    const setup = await startSentinelSetup()
    // tap runs teardowns last-added first: this one runs after the authority's, so its clients
    // close while the sentinels still answer and none is left reconnecting to a stopped one
    t.teardown(() => setup.stop())
    const dataDir = mkdtempSync(join(tmpdir(), 'ta-ha-data-'))
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
    const backend: Backend = {
      name: 'embedded',
      env: {
        DATA_DIR: dataDir,
        REDIS_SENTINELS: setup.sentinelList,
        REDIS_SENTINEL_NAME: setup.masterName,
        REDIS_KEY_PREFIX: 'ha:',
        LOG_LEVEL: 'warn',
        // the production bounds on a Redis command and connect (test support raises them): the figures are the product's
        REDIS_COMMAND_TIMEOUT_MS: '250',
        REDIS_CONNECT_TIMEOUT_MS: '1000'
      },
      dump: async () => '',
      dumpBytes: async () => Buffer.alloc(0),
      cleanup: async () => undefined
    }
    const ta = await startAuthority(t, 'embedded', { backend })
    t.equal(ta.config.redis?.mode, 'sentinel', 'configured through the sentinels')
    const other = await ta.replica()
    const apps = [ta.app, other]
    for (const app of apps) await waitFor('redis ready', connected(app.authority.cache))
    const { svc, tokens } = await mintTokens(ta, 300)
    const hitsBefore = ta.app.authority.cache.stats.hits

    let killedAt = 0
    let promotedAt = 0
    let recoveredAt = 0
    const report = await runLoad({
      apps,
      svc,
      tokens,
      workers: 8,
      revokeEveryMs: 50,
      durationMs: 14000,
      during: async (startedAt) => {
        await new Promise((r) => setTimeout(r, 3000))
        killedAt = Date.now()
        await setup.primary.proc.kill('SIGKILL')
        await waitFor(
          'sentinels promote the replica',
          async () => (await setup.currentPrimaryPort()) === setup.replica.port,
          20000
        )
        promotedAt = Date.now()
        // recovered: every authority process's Redis takes commands again (on the new primary).
        // Generous: on a saturated machine a 250 ms command timeout can miss many PINGs in a row.
        try {
          await waitFor(
            'authority Redis back',
            async () => {
              for (const app of apps) await app.authority.cache.ping()
              return true
            },
            60000
          )
          recoveredAt = Date.now()
        } catch {
          const statuses = apps.map((app) => (app.authority.cache as RedisTokenCache).client.status)
          t.comment(`authority Redis not back 60 s after the kill; client status: ${statuses.join(', ')}`)
        }
        t.comment(`primary killed at +${killedAt - startedAt} ms`)
      }
    })
    const figures = {
      requestsServed: report.introspections,
      medianIntrospectionsPerSecond: report.medianPerSecond,
      revokes: report.revokes,
      wrongAnswers: report.wrongAnswers,
      revokedStillActiveAfter: report.revokedStillActive,
      clientErrors: {
        introspect: report.introspectionErrors,
        byStatus: report.errorStatuses,
        revoke: report.revokeErrors
      },
      sentinelPromotionMs: promotedAt - killedAt,
      authorityRedisBackMs: recoveredAt - killedAt,
      servedPerSecond: report.perSecond.map(([s, e]) => (e > 0 ? `${s}/${e}err` : String(s))).join(' ')
    }
    t.comment(`sentinel failover: ${JSON.stringify(figures)}`)
    t.equal(report.wrongAnswers, 0, 'no revoked token answered active after its revoke returned')
    t.equal(report.revokedStillActive, 0, 'every revoked token is inactive on every process afterwards')
    t.equal(report.revokeErrors, 0, 'every revoke succeeded (the database decides; Redis is a cache)')
    t.equal(report.introspectionErrors, 0, 'no introspection failed: Redis away = the database answers')
    t.ok(report.introspections > 100, `requests were served (${report.introspections})`)
    t.ok(ta.app.authority.cache.stats.hits > hitsBefore, 'the cache was used')
    t.ok(recoveredAt > 0, 'the authority reached the new primary')
    // after the failover the cache works again on the promoted node
    const hitsAfter = ta.app.authority.cache.stats.hits
    const live = tokens[tokens.length - 1]!
    for (let i = 0; i < 3; i++)
      await ta.app.inject({
        method: 'POST',
        url: '/introspect',
        headers: { authorization: `Bearer ${svc}` },
        payload: { token: live.value }
      })
    t.ok(ta.app.authority.cache.stats.hits > hitsAfter, 'cache hits on the new primary')

    // The operator's CLI on the same set-up (REDIS_SENTINELS, the promoted primary): its revoke
    // reaches both running processes, and it leaves no active answer in the Redis cache.
    const pat = await ta.app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: bearer(ta.adminToken),
      payload: { name: 'cli target', scopes: ['tokens:read'], password: ADMIN.password }
    })
    t.equal(pat.statusCode, 201, pat.body)
    const target = { id: pat.json().token.id as string, value: pat.json().access_token as string }
    const active = async (app: (typeof apps)[number]) => {
      const res = await app.inject({
        method: 'POST',
        url: '/introspect',
        headers: { authorization: `Bearer ${svc}` },
        payload: { token: target.value }
      })
      return res.json().active === true
    }
    for (const app of apps) t.ok(await active(app), 'the CLI target is active (and cached) on both processes')
    const out: string[] = []
    const err: string[] = []
    const code = await run(['revoke-token', target.id], {
      env: { ...process.env, ...backend.env, BCRYPT_COST: '4' },
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => err.push(s) },
      stdin: Readable.from([])
    })
    t.equal(code, 0, `authority-cli revoke-token through the sentinels: ${out.join('')}`)
    t.same(err, [], 'no warning: its cache invalidation went through the sentinels (not deferred)')
    for (const [i, app] of apps.entries())
      await waitFor(`process ${i + 1} to see the CLI revoke`, async () => !(await active(app)), 5000)
    t.pass('the CLI revoke is effective on both processes')
  })
}
