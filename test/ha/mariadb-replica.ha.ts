import { randomBytes } from 'node:crypto'
import t from 'tap'
import { ADMIN, bearer, createAccount, createService, introspect, startAuthority } from '../support/authority.js'
import type { Backend } from '../support/backends.js'
import { requireBinaries, startMariaPair } from '../../scripts/private-servers.js'

/**
 * A replicated database (DATABASE_READ_URL): a MariaDB primary and a replica whose replication is
 * paused (STOP SLAVE SQL_THREAD). A revoke committed on the primary must make the token inactive
 * through every authority process at once, although the replica still holds it as active; lists
 * (which read the replica) may show the old state until replication resumes.
 */

if (requireBinaries(t, ['mariadbd', 'mariadb-install-db'])) {
  t.test('replica paused: a revoked token is inactive, lists may lag', async (t) => {
    const started = Date.now()
    const pair = await startMariaPair()
    t.teardown(() => pair.stop())
    t.comment(`MariaDB primary :${pair.primary.port} + replica :${pair.replica.port} up in ${Date.now() - started} ms`)
    const backend: Backend = {
      name: 'mysql+redis',
      env: {
        DATABASE_URL: pair.primary.url,
        DATABASE_READ_URL: pair.replica.url,
        TOKEN_SIGNING_KEYS: `t1:${randomBytes(32).toString('base64')}`,
        TOKEN_PEPPER: randomBytes(32).toString('base64'),
        DATA_DIR: pair.primary.dir
      },
      dump: async () => '',
      dumpBytes: async () => Buffer.alloc(0),
      cleanup: async () => undefined
    }
    const ta = await startAuthority(t, 'mysql+redis', { backend })
    const other = await ta.replica()
    const svc = await createService(ta, 'ha-introspector', ['tokens:introspect', 'tokens:revoke'])
    const ownerId = await createAccount(ta, {
      username: 'ha-owner',
      password: 'ha-owner-password-1',
      kind: 'service',
      permissions: ['tokens:introspect']
    })
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
    const warm = await mint('warm')
    const cold = await mint('cold')
    await pair.caughtUp()
    // the other process has the warm token in its cache; the cold one it has never seen
    t.equal((await introspect({ ...ta, app: other }, svc.token, warm.value)).active, true, 'warm token active before')

    await pair.pauseReplication()
    for (const tok of [warm, cold]) {
      const res = await ta.app.inject({
        method: 'POST',
        url: '/revoke',
        headers: bearer(svc.token),
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
    t.equal((await introspect({ ...ta, app: fresh }, svc.token, cold.value)).active, false, 'cold token: inactive')
    t.equal((await introspect({ ...ta, app: fresh }, svc.token, warm.value)).active, false, 'warm token: inactive')
    t.equal((await introspect({ ...ta, app: other }, svc.token, cold.value)).active, false, 'other process: inactive')
    // the other process had the warm token cached: it follows the revocation log on the primary
    const deadline = Date.now() + ta.config.REVOCATION_LOG_POLL_MS * 4 + 2000
    let warmActive = true
    while (Date.now() < deadline && warmActive) {
      warmActive = (await introspect({ ...ta, app: other }, svc.token, warm.value)).active === true
      if (warmActive) await new Promise((r) => setTimeout(r, 50))
    }
    t.equal(warmActive, false, 'the cached copy in the other process is dropped by the revocation log (primary)')

    // a token minted while the replica is behind is active (its check reads the primary)
    const late = await mint('late')
    t.equal((await introspect({ ...ta, app: fresh }, svc.token, late.value)).active, true, 'a new token is active')
    // a change needs its token read in a transaction on the primary: revoking it by id works
    const del = await fresh.inject({
      method: 'DELETE',
      url: `/v1/accounts/${ownerId}/tokens/${late.id}`,
      headers: bearer(ta.adminToken),
      payload: { password: ADMIN.password }
    })
    t.equal(del.statusCode, 200, `the token the replica has never seen is revoked by id (${del.body})`)
    t.equal((await introspect({ ...ta, app: fresh }, svc.token, late.value)).active, false, 'and inactive')

    // lists read the replica: they lag, and that is all they do
    const list = async () => {
      const res = await fresh.inject({
        method: 'GET',
        url: `/v1/accounts/${ownerId}/tokens`,
        headers: bearer(ta.adminToken)
      })
      t.equal(res.statusCode, 200)
      return new Map((res.json().items as { id: string; state: string }[]).map((i) => [i.id, i.state]))
    }
    const lagging = await list()
    t.equal(lagging.get(cold.id), 'active', 'the list (replica) still shows the revoked token as active')
    t.notOk(lagging.has(late.id), 'and does not show the token minted meanwhile')

    await pair.resumeReplication()
    await pair.caughtUp()
    const current = await list()
    t.equal(current.get(cold.id), 'revoked', 'once replication resumes the list shows it revoked')
    t.equal(current.get(late.id), 'revoked', 'and the late token')
    t.comment(`replica test done in ${Date.now() - started} ms`)
  })
}
