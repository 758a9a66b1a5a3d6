import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { ADMIN, bearer, introspect, startAuthority, type TestAuthority } from '../support/authority.js'
import type { Backend } from '../support/backends.js'
import { mintTokens, runLoad } from './load.js'
import {
  connected,
  type MariaPair,
  type RedisNodeProc,
  requireBinaries,
  startMariaPair,
  startRedisNode,
  waitFor
} from '../../scripts/private-servers.js'

/**
 * A replicated database (DATABASE_READ_URL): a MariaDB primary and a replica whose replication is
 * paused (STOP SLAVE SQL_THREAD), with Redis (a private redis-server) as the cache: the
 * MySQL + Redis combination, on a replica. (The Sentinel failover runs on the embedded database.)
 *
 * First, one by one: a revoke committed on the primary makes the token inactive through every
 * authority process at once, although the replica still holds it as active; lists (which read the
 * replica) show the old state until replication resumes.
 *
 * Then under introspection + revoke load (two processes, test/ha/load.ts, 12 s), the replica paused
 * for the first 6 s and resumed while the load goes on. Counted: requests served, wrong answers (an introspection that started
 * after the token's revoke returned and said active: must be 0), errors clients saw, and, once
 * replication resumes (under load), the time until the replica has applied what the primary held
 * and until the lists read from it show every token revoked during the pause as revoked.
 */

/** `domain-server-seq,…` (a GTID position) as domain → seq */
const gtidSeqs = (pos: string): Map<string, number> =>
  new Map(
    pos
      .split(',')
      .map((g) => g.trim().split('-'))
      .filter((p) => p.length === 3)
      .map(([domain, , seq]) => [domain!, Number(seq)])
  )

if (requireBinaries(t, ['mariadbd', 'mariadb-install-db', 'redis-server'])) {
  t.test('replica paused: a revoked token is inactive, lists may lag; then under load', async (t) => {
    const started = Date.now()
    const [pairR, redisR] = await Promise.allSettled([startMariaPair(), startRedisNode()])
    const stopRedis = async (redis: RedisNodeProc) => {
      await redis.proc.kill()
      rmSync(redis.dir, { recursive: true, force: true })
    }
    if (pairR.status === 'rejected' || redisR.status === 'rejected') {
      if (pairR.status === 'fulfilled') await pairR.value.stop()
      if (redisR.status === 'fulfilled') await stopRedis(redisR.value)
      throw pairR.status === 'rejected' ? pairR.reason : (redisR as PromiseRejectedResult).reason
    }
    const pair: MariaPair = pairR.value
    const redis = redisR.value
    const stopServers = async () => {
      await stopRedis(redis)
      await pair.stop()
    }
    t.comment(
      `MariaDB primary :${pair.primary.port} + replica :${pair.replica.port}, Redis :${redis.port} up in ${Date.now() - started} ms`
    )
    const backend: Backend = {
      name: 'mysql+redis',
      env: {
        DATABASE_URL: pair.primary.url,
        DATABASE_READ_URL: pair.replica.url,
        REDIS_URL: `redis://127.0.0.1:${redis.port}`,
        REDIS_KEY_PREFIX: 'ha-replica:',
        TOKEN_SIGNING_KEYS: `t1:${randomBytes(32).toString('base64')}`,
        TOKEN_PEPPER: randomBytes(32).toString('base64'),
        DATA_DIR: pair.primary.dir,
        LOG_LEVEL: 'warn'
      },
      dump: async () => '',
      dumpBytes: async () => Buffer.alloc(0),
      cleanup: async () => undefined
    }
    // tap runs teardowns last-added first: registered before the authority, this runs after its
    // pools and Redis clients have closed (also when the start fails)
    t.teardown(stopServers)
    const ta: TestAuthority = await startAuthority(t, 'mysql+redis', { backend })
    t.equal(ta.config.redis?.mode, 'single', 'Redis is the cache')
    const other = await ta.replica()
    for (const app of [ta.app, other]) await waitFor('redis ready', connected(app.authority.cache))
    // the load's tokens (and its service and account), minted while the replica follows
    const { svc, ownerId, tokens } = await mintTokens(ta, 200)
    const mint = async (name: string): Promise<{ id: string; value: string }> => {
      const res = await ta.app.inject({
        method: 'POST',
        url: `/v1/accounts/${ownerId}/tokens`,
        headers: bearer(ta.adminToken),
        payload: { name, scopes: ['tokens:introspect'], password: ADMIN.password }
      })
      t.equal(res.statusCode, 201, `minted ${name}`)
      return { id: res.json().token.id as string, value: res.json().access_token as string }
    }
    /** every token of the account as the list (the replica) shows it: id → state; undefined on an error */
    let listErrors = 0
    const listAll = async (app: FastifyInstance): Promise<Map<string, string> | undefined> => {
      const states = new Map<string, string>()
      let cursor: string | null = null
      do {
        const res = await app.inject({
          method: 'GET',
          url: `/v1/accounts/${ownerId}/tokens?limit=200${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
          headers: bearer(ta.adminToken)
        })
        if (res.statusCode !== 200) {
          listErrors++
          return undefined
        }
        const page = res.json() as { items: { id: string; state: string }[]; next_cursor: string | null }
        for (const i of page.items) states.set(i.id, i.state)
        cursor = page.next_cursor
      } while (cursor !== null)
      return states
    }

    const warm = await mint('warm')
    const cold = await mint('cold')
    await pair.caughtUp()
    // the other process has the warm token in its cache; the cold one it has never seen
    t.equal((await introspect({ ...ta, app: other }, svc, warm.value)).active, true, 'warm token active before')

    await pair.pauseReplication()
    for (const tok of [warm, cold]) {
      const res = await ta.app.inject({
        method: 'POST',
        url: '/revoke',
        headers: bearer(svc),
        payload: { token: tok.value }
      })
      t.equal(res.statusCode, 200, 'revoked on the primary')
    }
    const [onReplica] = (await pair.replica.query(
      `SELECT COUNT(*) AS n FROM ta.tokens WHERE id IN ('${warm.id}', '${cold.id}') AND revoked_at IS NULL`
    )) as { n: number }[]
    t.equal(Number(onReplica?.n), 2, 'the replica still holds both tokens as not revoked (replication paused)')

    // a process started now knows nothing: every check it makes reads the database
    const fresh = await ta.replica()
    t.equal((await introspect({ ...ta, app: fresh }, svc, cold.value)).active, false, 'cold token: inactive')
    t.equal((await introspect({ ...ta, app: fresh }, svc, warm.value)).active, false, 'warm token: inactive')
    t.equal((await introspect({ ...ta, app: other }, svc, cold.value)).active, false, 'other process: inactive')
    // the other process had the warm token cached: it follows the revocation log on the primary
    const deadline = Date.now() + ta.config.REVOCATION_LOG_POLL_MS * 4 + 2000
    let warmActive = true
    while (Date.now() < deadline && warmActive) {
      warmActive = (await introspect({ ...ta, app: other }, svc, warm.value)).active === true
      if (warmActive) await new Promise((r) => setTimeout(r, 50))
    }
    t.equal(warmActive, false, 'the cached copy in the other process is dropped (invalidation, revocation log)')

    // a token minted while the replica is behind is active (its check reads the primary)
    const late = await mint('late')
    t.equal((await introspect({ ...ta, app: fresh }, svc, late.value)).active, true, 'a new token is active')
    // a change needs its token read in a transaction on the primary: revoking it by id works
    const del = await fresh.inject({
      method: 'DELETE',
      url: `/v1/accounts/${ownerId}/tokens/${late.id}`,
      headers: bearer(ta.adminToken),
      payload: { password: ADMIN.password }
    })
    t.equal(del.statusCode, 200, `the token the replica has never seen is revoked by id (${del.statusCode})`)
    t.equal((await introspect({ ...ta, app: fresh }, svc, late.value)).active, false, 'and inactive')

    // lists read the replica: they lag, and that is all they do
    const lagging = await listAll(fresh)
    t.equal(lagging?.get(cold.id), 'active', 'the list (replica) still shows the revoked token as active')
    t.notOk(lagging?.has(late.id), 'and does not show the token minted meanwhile')

    await pair.resumeReplication()
    await pair.caughtUp()
    const current = await listAll(fresh)
    t.equal(current?.get(cold.id), 'revoked', 'once replication resumes the list shows it revoked')
    t.equal(current?.get(late.id), 'revoked', 'and the late token')
    const before = await listAll(ta.app)
    t.equal(
      tokens.filter((tok) => before?.get(tok.id) === 'active').length,
      tokens.length,
      'the load tokens are on the replica, active'
    )
    t.comment(`one by one done in ${Date.now() - started} ms`)

    // Under load. Replication is paused before the first request: every revoke happens during the
    // pause. At +6 s the lists (replica) are read, then replication resumes, under load.
    const revoked: Array<{ id: string; at: number }> = []
    let pausedAt = 0
    let resumedAt = 0
    let caughtUpAt = 0
    let listsFreshAt = 0
    let revokedBeforeList = 0
    let staleInList = 0
    let staleOnReplicaSql = 0
    let behindAtResume = 0
    await pair.pauseReplication()
    pausedAt = Date.now()
    const report = await runLoad({
      apps: [ta.app, other],
      svc,
      tokens,
      workers: 8,
      revokeEveryMs: 50,
      durationMs: 12000,
      onRevoke: (tok, at) => revoked.push({ id: tok.id, at }),
      during: async (startedAt) => {
        await new Promise((r) => setTimeout(r, 6000))
        // every revoke that has returned so far happened during the pause: the replica lags on each
        const ids = revoked.map((r) => r.id)
        revokedBeforeList = ids.length
        const list = await listAll(ta.app)
        staleInList = ids.filter((id) => list?.get(id) === 'active').length
        if (ids.length > 0) {
          const [row] = (await pair.replica.query(
            `SELECT COUNT(*) AS n FROM ta.tokens WHERE id IN (${ids.map((id) => `'${id}'`).join(',')}) AND revoked_at IS NULL`
          )) as { n: number }[]
          staleOnReplicaSql = Number(row?.n)
        }
        const [p] = (await pair.primary.query('SELECT @@gtid_binlog_pos AS pos')) as { pos: string }[]
        const [r] = (await pair.replica.query('SELECT @@gtid_slave_pos AS pos')) as { pos: string }[]
        const target = gtidSeqs(p?.pos ?? '')
        const applied = gtidSeqs(r?.pos ?? '')
        for (const [domain, seq] of target) behindAtResume += seq - (applied.get(domain) ?? 0)
        const mustShow = revoked.map((x) => x.id)
        resumedAt = Date.now()
        await pair.resumeReplication()
        t.comment(`paused ${resumedAt - pausedAt} ms; replication resumed at +${resumedAt - startedAt} ms`)
        try {
          await waitFor(
            'the replica applied what the primary held at the resume',
            async () => {
              const [now] = (await pair.replica.query('SELECT @@gtid_slave_pos AS pos')) as { pos: string }[]
              const have = gtidSeqs(now?.pos ?? '')
              return [...target].every(([domain, seq]) => (have.get(domain) ?? 0) >= seq)
            },
            30000
          )
          caughtUpAt = Date.now()
          await waitFor(
            'the lists show every token revoked during the pause as revoked',
            async () => {
              const l = await listAll(ta.app)
              return l !== undefined && mustShow.every((id) => l.get(id) === 'revoked')
            },
            30000
          )
          listsFreshAt = Date.now()
        } catch (e) {
          t.comment(`not recovered: ${(e as Error).message}`)
        }
      }
    })
    await pair.caughtUp()
    const after = await listAll(ta.app)
    const revokedIds = new Set(revoked.map((r) => r.id))
    const revokedNotShown = [...revokedIds].filter((id) => after?.get(id) !== 'revoked').length
    const liveNotShown = tokens.filter((tok) => !revokedIds.has(tok.id) && after?.get(tok.id) !== 'active').length
    const figures = {
      requestsServed: report.introspections,
      medianIntrospectionsPerSecond: report.medianPerSecond,
      revokes: report.revokes,
      revokesDuringPause: revoked.filter((r) => r.at < resumedAt).length,
      wrongAnswers: report.wrongAnswers,
      revokedStillActiveAfter: report.revokedStillActive,
      clientErrors: {
        introspect: report.introspectionErrors,
        byStatus: report.errorStatuses,
        revoke: report.revokeErrors,
        list: listErrors
      },
      listStaleDuringPause: `${staleInList}/${revokedBeforeList}`,
      replicaBehindAtResumeTransactions: behindAtResume,
      replicaCaughtUpMs: caughtUpAt - resumedAt,
      listsFreshMs: listsFreshAt - resumedAt,
      servedPerSecond: report.perSecond.map(([s, e]) => (e > 0 ? `${s}/${e}err` : String(s))).join(' ')
    }
    t.comment(`mariadb replica paused: ${JSON.stringify(figures)}`)
    t.equal(report.wrongAnswers, 0, 'no revoked token answered active after its revoke returned')
    t.equal(report.revokedStillActive, 0, 'every revoked token is inactive on every process afterwards')
    t.equal(report.revokeErrors, 0, 'every revoke succeeded (on the primary)')
    t.equal(report.introspectionErrors, 0, 'no introspection failed')
    t.equal(listErrors, 0, 'no list failed')
    t.ok(report.introspections > 100, `requests were served (${report.introspections})`)
    t.ok(revokedBeforeList > 0, `tokens were revoked during the pause (${revokedBeforeList})`)
    t.equal(staleInList, revokedBeforeList, 'during the pause the lists (replica) showed every revoked token as active')
    t.equal(staleOnReplicaSql, revokedBeforeList, 'and the replica held each as not revoked')
    t.ok(behindAtResume > 0, `the replica was behind at the resume (${behindAtResume} transactions)`)
    t.ok(caughtUpAt > 0 && listsFreshAt > 0, 'after the resume the replica caught up and the lists showed the revokes')
    t.equal(revokedNotShown, 0, 'afterwards the lists show every revoked token as revoked')
    t.equal(liveNotShown, 0, 'and every other one as active')
    t.comment(`replica test done in ${Date.now() - started} ms`)
  })
}
