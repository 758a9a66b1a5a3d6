// Expiry notices (issue 17, docs/webhooks.md), on both backends and a frozen clock: token.expiring
// at 30, 7 and 1 day(s) before expiry (the smallest window a token is in when first seen) and
// token.expired, each exactly once per token across replicas running the scheduler at once and
// across restarts; revoked and login tokens get none; notices reach a subscribed endpoint signed;
// and GET /v1/tokens?expiring_within= asks the same question directly.
import t from 'tap'
import { bearer, createAccount, errorCode, login, startAuthority, type TestAuthority } from '../support/authority.js'
import { BACKEND_NAMES } from '../support/backends.js'
import { Receiver, waitFor } from '../support/webhook-receiver.js'
import { ADMIN } from '../support/authority.js'

const DAY = 86_400_000
const PW = 'customer-password-1'
const ENV = { EXPIRY_NOTICE_INTERVAL_SECONDS: '0', WEBHOOK_POLL_MS: '20' }

async function customer(ta: TestAuthority, username: string): Promise<string> {
  await createAccount(ta, { username, password: PW, kind: 'customer' })
  return login(ta.app, 'customer', username, PW)
}

async function patExpiringIn(ta: TestAuthority, token: string, ms: number, name = 'pat'): Promise<string> {
  const res = await ta.app.inject({
    method: 'POST',
    url: '/v1/tokens',
    headers: bearer(token),
    payload: {
      name,
      scopes: ['tokens:read'],
      expires_at: new Date(ta.clock.now() + ms).toISOString(),
      password: PW
    }
  })
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`)
  return (res.json() as { token: { id: string } }).token.id
}

/** notices recorded in the outbox, as "token id:notice" */
async function notices(ta: TestAuthority): Promise<string[]> {
  const rows = await ta.app.authority.database.db
    .selectFrom('outbox_events')
    .select(['type', 'payload'])
    .where('type', 'in', ['token.expiring', 'token.expired'])
    .execute()
  return rows.map((r) => {
    const data = JSON.parse(r.payload) as { token_id: string; notice?: string }
    return `${data.token_id}:${r.type === 'token.expired' ? 'expired' : data.notice}`
  })
}

function frozen(ta: TestAuthority): { advance(ms: number): void } {
  return ta.clock as unknown as { advance(ms: number): void }
}

for (const backend of BACKEND_NAMES()) {
  t.test(backend, async (t) => {
    t.test('30, 7 and 1 day(s) before, and expired: once each, smallest window first', async (t) => {
      const ta = await startAuthority(t, backend, { env: ENV, frozen: Date.now() })
      const token = await customer(ta, 'notice-owner')
      const a = await patExpiringIn(ta, token, 20 * DAY, 'a')
      const b = await patExpiringIn(ta, token, 5 * DAY, 'b')
      const c = await patExpiringIn(ta, token, 12 * 3600_000, 'c')
      const far = await patExpiringIn(ta, token, 60 * DAY, 'far')
      const revoked = await patExpiringIn(ta, token, 3 * DAY, 'revoked')
      const del = await ta.app.inject({
        method: 'DELETE',
        url: `/v1/tokens/${revoked}`,
        headers: bearer(token),
        payload: { password: PW }
      })
      t.equal(del.statusCode, 200)
      const { expiryNotices } = ta.app.authority
      t.equal(await expiryNotices.runOnce(), 3)
      t.same(new Set(await notices(ta)), new Set([`${a}:30d`, `${b}:7d`, `${c}:1d`]))
      t.equal(await expiryNotices.runOnce(), 0, 'a second run adds nothing')
      // the scheduler runs every minute in production; here every 6 hours of frozen time for 21 days
      for (let i = 0; i < 21 * 4; i++) {
        frozen(ta).advance(6 * 3600_000)
        await expiryNotices.runOnce()
      }
      const all = await notices(ta)
      t.equal(all.length, new Set(all).size, 'no notice twice')
      t.same(
        new Set(all),
        new Set([
          `${a}:30d`,
          `${a}:7d`,
          `${a}:1d`,
          `${a}:expired`,
          `${b}:7d`,
          `${b}:1d`,
          `${b}:expired`,
          `${c}:1d`,
          `${c}:expired`
        ])
      )
      t.notOk(
        all.some((n) => n.startsWith(`${revoked}:`) || n.startsWith(`${far}:`)),
        'none for a revoked token or one 60 days away (yet)'
      )
      const rows = await ta.app.authority.database.db
        .selectFrom('outbox_events')
        .select('payload')
        .where('type', '=', 'token.expired')
        .execute()
      for (const r of rows) {
        const data = JSON.parse(r.payload) as Record<string, unknown>
        t.equal(data.used_in_last_7_days, false, 'never used: false (last-use data is wired)')
      }
    })

    t.test('two replicas running the scheduler at once: one event per token and notice', async (t) => {
      const ta = await startAuthority(t, backend, { env: ENV, frozen: Date.now() })
      const other = await ta.replica()
      const token = await customer(ta, 'notice-replicas')
      const ids: string[] = []
      for (let i = 0; i < 12; i++) ids.push(await patExpiringIn(ta, token, (20 + i / 100) * DAY, `r${i}`))
      // Both at once, a few rounds (on the embedded database a replica's run can fail on the
      // file lock, SQLITE_BUSY: it records nothing, and a later round catches up)
      const bothAtOnce = async () => {
        for (let round = 0; round < 4; round++) {
          await Promise.allSettled([ta.app.authority.expiryNotices.runOnce(), other.authority.expiryNotices.runOnce()])
        }
      }
      await bothAtOnce()
      const all = await notices(ta)
      t.equal(all.length, 12, 'twelve notices, not more')
      t.same(new Set(all), new Set(ids.map((id) => `${id}:30d`)))
      frozen(ta).advance(14 * DAY)
      await bothAtOnce()
      const after = await notices(ta)
      t.equal(after.length, 24)
      t.equal(new Set(after).size, 24)
    })

    t.test('a restart does not repeat a notice', async (t) => {
      const ta = await startAuthority(t, backend, { env: ENV, frozen: Date.now() })
      const token = await customer(ta, 'notice-restart')
      await patExpiringIn(ta, token, 3 * DAY)
      t.equal(await ta.app.authority.expiryNotices.runOnce(), 1)
      await ta.app.close()
      const restarted = await ta.replica()
      t.equal(await restarted.authority.expiryNotices.runOnce(), 0, 'the new process finds it done')
      t.equal((await notices({ ...ta, app: restarted })).length, 1)
    })

    t.test('notices reach a subscribed endpoint, signed, with no token value', async (t) => {
      const ta = await startAuthority(t, backend, { env: ENV, frozen: Date.now() })
      const receiver = await Receiver.start()
      t.teardown(() => receiver.close())
      receiver.toleranceSeconds = 365 * 86400 // the frozen clock signs with its own time
      const created = await ta.app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: bearer(ta.adminToken),
        payload: { url: receiver.url, event_types: ['token.expiring', 'token.expired'], password: ADMIN.password }
      })
      receiver.secret = (created.json() as { secret: string }).secret
      const token = await customer(ta, 'notice-hook')
      const id = await patExpiringIn(ta, token, 2 * 3600_000)
      await ta.app.authority.expiryNotices.runOnce()
      frozen(ta).advance(3 * 3600_000)
      await ta.app.authority.expiryNotices.runOnce()
      await waitFor('two notices', () => receiver.received.length >= 2)
      t.same(receiver.received.map((r) => r.type).sort(), ['token.expired', 'token.expiring'])
      for (const r of receiver.received) {
        t.ok(r.verified, 'signed')
        t.equal(r.event.data.token_id, id)
        t.notOk(/_pat_/.test(r.body), 'no token value')
      }
      t.equal(receiver.received.find((r) => r.type === 'token.expiring')!.event.data.notice, '1d')
    })

    t.test('GET /v1/tokens?expiring_within=: live tokens expiring within a duration', async (t) => {
      const ta = await startAuthority(t, backend, { env: ENV, frozen: Date.now() })
      const token = await customer(ta, 'notice-filter')
      const two = await patExpiringIn(ta, token, 2 * DAY, 'two')
      const ten = await patExpiringIn(ta, token, 10 * DAY, 'ten')
      await patExpiringIn(ta, token, 40 * DAY, 'forty')
      const gone = await patExpiringIn(ta, token, 1 * DAY, 'revoked')
      await ta.app.inject({
        method: 'DELETE',
        url: `/v1/tokens/${gone}`,
        headers: bearer(token),
        payload: { password: PW }
      })
      const ask = async (within: string) => {
        const res = await ta.app.inject({
          method: 'GET',
          url: `/v1/tokens?expiring_within=${encodeURIComponent(within)}`,
          headers: bearer(token)
        })
        return res
      }
      // the caller's login token (1 h) is a live token too: these checks are about the PATs
      const ids = async (within: string) =>
        new Set(
          ((await ask(within)).json() as { items: { id: string; kind: string }[] }).items
            .filter((i) => i.kind !== 'lgn')
            .map((i) => i.id)
        )
      t.same(await ids('P7D'), new Set([two]))
      t.same(await ids('P1W'), new Set([two]))
      t.same(await ids(String(10 * 86400)), new Set([two, ten]))
      t.same(await ids('P10DT1S'), new Set([two, ten]))
      t.same(await ids('PT1H'), new Set())
      // an admin asks the same about an account
      const me = await ta.app.inject({ url: '/v1/me', headers: bearer(token) })
      const accountId = (me.json() as { account: { id: string } }).account.id
      const adminAsk = await ta.app.inject({
        url: `/v1/accounts/${accountId}/tokens?expiring_within=P7D`,
        headers: bearer(ta.adminToken)
      })
      t.equal(adminAsk.statusCode, 200, adminAsk.body)
      t.same(
        new Set(
          (adminAsk.json() as { items: { id: string; kind: string }[] }).items
            .filter((i) => i.kind !== 'lgn')
            .map((i) => i.id)
        ),
        new Set([two]),
        'GET /v1/accounts/{id}/tokens?expiring_within= answers the same'
      )
      for (const bad of ['P1Y', 'P1M', 'PT', 'P', '7d', '-5', 'P1.5D']) {
        const res = await ask(bad)
        t.equal(res.statusCode, 400, bad)
        t.equal(errorCode(res), 'validation_failed', bad)
      }
    })
  })
}
