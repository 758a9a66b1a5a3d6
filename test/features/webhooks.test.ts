// Signed webhooks from a transactional outbox (issue 17, docs/webhooks.md), on both backends: the
// admin API (secret shown once, sealed at rest), events recorded with their change and delivered
// signed (the docs' verification snippet checks every request), a receiver that fails, times out
// and recovers gets each event exactly once, two instances on one database never double-deliver,
// redirects are not followed, retries end in `failed` after the configured time, test events,
// the delivery log; and the measured commit → receiver latency.
import { sql } from 'kysely'
import t from 'tap'
import { retryDelayMs } from '../../services/authority/src/webhooks/delivery-worker.js'
import {
  ADMIN,
  bearer,
  createAccount,
  errorCode,
  login,
  startAuthority,
  type TestAuthority
} from '../support/authority.js'
import { BACKEND_NAMES } from '../support/backends.js'
import { frozenOf } from '../support/rfc.js'
import { Receiver, waitFor } from '../support/webhook-receiver.js'

const FAST = {
  WEBHOOK_POLL_MS: '20',
  WEBHOOK_RETRY_BASE_MS: '40',
  WEBHOOK_RETRY_MAX_DELAY_MS: '150',
  // generous: on a loaded machine a receiver in this same process may answer late, and a timeout
  // after the receiver accepted is a (legitimate, at-least-once) second delivery
  WEBHOOK_CONNECT_TIMEOUT_MS: '2000',
  WEBHOOK_TIMEOUT_MS: '3000',
  WEBHOOK_RETRY_FOR_SECONDS: '120',
  EXPIRY_NOTICE_INTERVAL_SECONDS: '0'
}
const ALL_TOKEN_EVENTS = ['token.created', 'token.regenerated', 'token.revoked']
const PW = 'customer-password-1'

async function createEndpoint(
  ta: TestAuthority,
  url: string,
  eventTypes: string[] = ALL_TOKEN_EVENTS
): Promise<{ id: string; secret: string }> {
  const res = await ta.app.inject({
    method: 'POST',
    url: '/v1/webhooks',
    headers: bearer(ta.adminToken),
    payload: { url, event_types: eventTypes, password: ADMIN.password }
  })
  if (res.statusCode !== 201) throw new Error(`create webhook failed: ${res.statusCode} ${res.body}`)
  const body = res.json() as { endpoint: { id: string }; secret: string }
  return { id: body.endpoint.id, secret: body.secret }
}

/** Pauses an endpoint whose receiver a test closed, so its retries do not crowd the next tests. */
async function pause(ta: TestAuthority, id: string): Promise<void> {
  await ta.app.inject({
    method: 'PATCH',
    url: `/v1/webhooks/${id}`,
    headers: bearer(ta.adminToken),
    payload: { enabled: false, password: ADMIN.password }
  })
}

async function newPat(
  ta: TestAuthority,
  token: string,
  name = 'pat',
  password = PW
): Promise<{ id: string; value: string }> {
  const res = await ta.app.inject({
    method: 'POST',
    url: '/v1/tokens',
    headers: bearer(token),
    payload: { name, scopes: ['tokens:read'], password }
  })
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`)
  const body = res.json() as { access_token: string; token: { id: string } }
  return { id: body.token.id, value: body.access_token }
}

async function customer(ta: TestAuthority, username: string): Promise<{ id: string; token: string }> {
  const id = await createAccount(ta, { username, password: PW, kind: 'customer' })
  return { id, token: await login(ta.app, 'customer', username, PW) }
}

async function deliveries(ta: TestAuthority, endpointId: string, query = '') {
  const res = await ta.app.inject({
    method: 'GET',
    url: `/v1/webhooks/${endpointId}/deliveries${query}`,
    headers: bearer(ta.adminToken)
  })
  if (res.statusCode !== 200) throw new Error(`deliveries failed: ${res.statusCode} ${res.body}`)
  return res.json() as {
    items: {
      id: string
      event_id: string
      event_type: string
      status: string
      attempts: number
      last_http_status: number | null
      last_error: string | null
      last_latency_ms: number | null
      next_attempt_at: string | null
    }[]
    next_cursor: string | null
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

t.test('retry delays: full jitter under an exponential ceiling, capped', async (t) => {
  const policy = { baseMs: 10_000, maxDelayMs: 3_600_000, retryForMs: 86_400_000 }
  t.equal(
    retryDelayMs(policy, 1, () => 0.999999),
    9999
  )
  t.equal(
    retryDelayMs(policy, 3, () => 0.5),
    20_000
  )
  t.equal(
    retryDelayMs(policy, 40, () => 0.5),
    1_800_000
  )
  t.equal(
    retryDelayMs(policy, 2, () => 0),
    0
  )
})

for (const backend of BACKEND_NAMES()) {
  t.test(backend, async (t) => {
    const ta = await startAuthority(t, backend, { env: FAST })
    const receiver = await Receiver.start()
    t.teardown(() => receiver.close())

    t.test('admin API: the secret is shown once, sealed at rest, never read back', async (t) => {
      const res = await ta.app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: bearer(ta.adminToken),
        payload: {
          url: `${receiver.url}?tenant=a`,
          description: 'api test',
          event_types: ['token.revoked', 'token.created', 'token.revoked'.slice(0)],
          password: ADMIN.password
        }
      })
      t.equal(res.statusCode, 400, 'duplicate event types are refused by the schema')
      const created = await ta.app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: bearer(ta.adminToken),
        payload: {
          url: `${receiver.url}?tenant=a`,
          description: 'api test',
          event_types: ['token.revoked', 'token.created'],
          enabled: false,
          password: ADMIN.password
        }
      })
      t.equal(created.statusCode, 201)
      t.equal(created.headers['cache-control'], 'no-store')
      const body = created.json() as {
        endpoint: { id: string; event_types: string[]; enabled: boolean }
        secret: string
      }
      t.match(body.secret, /^whsec_[A-Za-z0-9_-]{43}$/)
      t.same(body.endpoint.event_types, ['token.created', 'token.revoked'])
      t.equal(body.endpoint.enabled, false)
      const read = await ta.app.inject({
        method: 'GET',
        url: `/v1/webhooks/${body.endpoint.id}`,
        headers: bearer(ta.adminToken)
      })
      t.equal(read.statusCode, 200)
      t.notOk(read.body.includes(body.secret), 'reading never shows the secret')
      const list = await ta.app.inject({ method: 'GET', url: '/v1/webhooks', headers: bearer(ta.adminToken) })
      t.notOk(list.body.includes(body.secret))
      t.ok((list.json() as { items: { id: string }[] }).items.some((i) => i.id === body.endpoint.id))
      const dump = await ta.backend.dump()
      t.notOk(dump.includes(body.secret), 'the secret is not stored in clear')
      t.notOk(dump.includes(body.secret.slice(6)), 'nor its random part')
      const rotated = await ta.app.inject({
        method: 'POST',
        url: `/v1/webhooks/${body.endpoint.id}/rotate-secret`,
        headers: bearer(ta.adminToken),
        payload: { password: ADMIN.password }
      })
      t.equal(rotated.statusCode, 200)
      const newSecret = (rotated.json() as { secret: string }).secret
      t.not(newSecret, body.secret)
      const edited = await ta.app.inject({
        method: 'PATCH',
        url: `/v1/webhooks/${body.endpoint.id}`,
        headers: bearer(ta.adminToken),
        payload: { event_types: ['account.disabled'], description: 'edited', password: ADMIN.password }
      })
      t.equal(edited.statusCode, 200)
      t.same((edited.json() as { event_types: string[] }).event_types, ['account.disabled'])
      const del = await ta.app.inject({
        method: 'DELETE',
        url: `/v1/webhooks/${body.endpoint.id}`,
        headers: bearer(ta.adminToken),
        payload: { password: ADMIN.password }
      })
      t.equal(del.statusCode, 204)
      const gone = await ta.app.inject({
        method: 'GET',
        url: `/v1/webhooks/${body.endpoint.id}`,
        headers: bearer(ta.adminToken)
      })
      t.equal(gone.statusCode, 404)
    })

    t.test('admin API: bad URLs, unknown event types, no password are 4xx that change nothing', async (t) => {
      const before = (await ta.app.inject({ method: 'GET', url: '/v1/webhooks', headers: bearer(ta.adminToken) })).body
      const cases: [Record<string, unknown>, number, string][] = [
        [{ url: 'ftp://example.com/x', event_types: ['token.created'] }, 400, 'validation_failed'],
        [{ url: 'http://user:pw@example.com/x', event_types: ['token.created'] }, 400, 'invalid_webhook_url'],
        [{ url: 'http://example.com/x#frag', event_types: ['token.created'] }, 400, 'invalid_webhook_url'],
        [{ url: 'https:// bad', event_types: ['token.created'] }, 400, 'invalid_webhook_url'],
        [{ url: 'https://example.com/x', event_types: ['token.nope'] }, 400, 'validation_failed'],
        [{ url: 'https://example.com/x', event_types: ['webhook.test'] }, 400, 'validation_failed'],
        [{ url: 'https://example.com/x', event_types: [] }, 400, 'validation_failed']
      ]
      for (const [payload, status, code] of cases) {
        const res = await ta.app.inject({
          method: 'POST',
          url: '/v1/webhooks',
          headers: bearer(ta.adminToken),
          payload: { ...payload, password: ADMIN.password }
        })
        t.equal(res.statusCode, status, JSON.stringify(payload))
        t.equal(errorCode(res), code, JSON.stringify(payload))
      }
      const noPassword = await ta.app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: bearer(ta.adminToken),
        payload: { url: 'https://example.com/x', event_types: ['token.created'] }
      })
      t.equal(errorCode(noPassword), 'password_required')
      const after = (await ta.app.inject({ method: 'GET', url: '/v1/webhooks', headers: bearer(ta.adminToken) })).body
      t.equal(after, before)
    })

    t.test('admin API: customers have no webhook scopes and cannot be given them', async (t) => {
      const c = await customer(ta, 'hook-customer')
      for (const [method, url] of [
        ['GET', '/v1/webhooks'],
        ['POST', '/v1/webhooks']
      ] as const) {
        const res = await ta.app.inject({
          method,
          url,
          headers: bearer(c.token),
          ...(method === 'POST'
            ? { payload: { url: 'https://example.com/x', event_types: ['token.created'], password: PW } }
            : {})
        })
        t.equal(res.statusCode, 403, `${method} ${url}`)
        t.equal(errorCode(res), 'insufficient_scope')
      }
      const grant = await ta.app.inject({
        method: 'PATCH',
        url: `/v1/accounts/${c.id}`,
        headers: bearer(ta.adminToken),
        payload: { permissions: ['tokens:read', 'webhooks:read'], current_password: ADMIN.password }
      })
      t.equal(grant.statusCode, 403)
      t.equal(errorCode(grant), 'scope_not_permitted')
    })

    t.test('token and account events arrive signed, with ids and never a token value', async (t) => {
      receiver.mode = 'ok'
      const ep = await createEndpoint(ta, receiver.url, [
        ...ALL_TOKEN_EVENTS,
        'account.disabled',
        'account.password_changed'
      ])
      t.teardown(() => pause(ta, ep.id))
      receiver.secret = ep.secret
      const c = await customer(ta, 'hook-events')
      const pat = await newPat(ta, c.token)
      const regen = await ta.app.inject({
        method: 'POST',
        url: `/v1/tokens/${pat.id}/regenerate`,
        headers: bearer(c.token),
        payload: { password: PW }
      })
      t.equal(regen.statusCode, 201)
      const successor = regen.json() as { access_token: string; token: { id: string } }
      const revoke = await ta.app.inject({
        method: 'DELETE',
        url: `/v1/tokens/${successor.token.id}`,
        headers: bearer(c.token),
        payload: { password: PW }
      })
      t.equal(revoke.statusCode, 200)
      const changed = await ta.app.inject({
        method: 'POST',
        url: '/v1/me/password',
        headers: bearer(c.token),
        payload: { current_password: PW, new_password: 'customer-password-2' }
      })
      t.equal(changed.statusCode, 204, changed.body)
      const pat2 = await newPat(ta, c.token, 'second', 'customer-password-2')
      const disable = await ta.app.inject({
        method: 'PATCH',
        url: `/v1/accounts/${c.id}`,
        headers: bearer(ta.adminToken),
        payload: { disabled: true, current_password: ADMIN.password }
      })
      t.equal(disable.statusCode, 200)
      const mine = () => receiver.received.filter((r) => JSON.stringify(r.event.data).includes(c.id))
      await waitFor('seven events', () => mine().length >= 7)
      const types = mine().map((r) => `${r.type}:${String(r.event.data.token_id ?? '')}`)
      t.same(
        new Set(types),
        new Set([
          `token.created:${pat.id}`,
          `token.regenerated:${successor.token.id}`,
          `token.revoked:${successor.token.id}`,
          'account.password_changed:',
          `token.created:${pat2.id}`,
          `token.revoked:${pat2.id}`,
          'account.disabled:'
        ])
      )
      for (const r of mine()) {
        t.ok(r.verified, `${r.type}: the signature verifies with the docs' snippet`)
        t.equal(r.id, r.event.id, 'Webhook-Id is the event id')
        t.equal(r.headers['content-type'], 'application/json')
        for (const value of [pat.value, successor.access_token, pat2.value, c.token])
          t.notOk(r.body.includes(value), `${r.type} carries no token value`)
        t.notOk(r.body.includes(PW), 'no password')
      }
      const regenerated = mine().find((r) => r.type === 'token.regenerated')!
      t.equal(regenerated.event.data.previous_token_id, pat.id)
      t.equal(mine().find((r) => r.type === 'account.password_changed')!.event.data.by, 'self')
      t.notOk(receiver.verify('whsec_wrong', regenerated.headers, regenerated.body), 'a wrong secret does not verify')
      t.notOk(
        receiver.verify(ep.secret, regenerated.headers, regenerated.body.replace('}', ' }')),
        'a changed body does not verify'
      )
    })

    t.test('a receiver that fails, times out and recovers gets every event exactly once', async (t) => {
      const flaky = await Receiver.start()
      t.teardown(() => flaky.close())
      const ep = await createEndpoint(ta, flaky.url, ['token.created'])
      t.teardown(() => pause(ta, ep.id))
      flaky.secret = ep.secret
      flaky.mode = 'fail'
      const c = await customer(ta, 'hook-flaky')
      const made: string[] = []
      for (let i = 0; i < 5; i++) made.push((await newPat(ta, c.token, `f${i}`)).id)
      await waitFor('failed attempts', () => flaky.received.filter((r) => r.answered === 500).length >= 8)
      await waitFor('a 500 logged', async () =>
        (await deliveries(ta, ep.id, '?status=pending')).items.some((d) => d.last_http_status === 500)
      )
      t.pass('the log shows 500s')
      flaky.mode = 'hang'
      for (let i = 5; i < 8; i++) made.push((await newPat(ta, c.token, `f${i}`)).id)
      await waitFor('timed-out attempts', () => flaky.received.filter((r) => r.answered === null).length >= 4)
      await waitFor('a timeout logged', async () =>
        (await deliveries(ta, ep.id, '?status=pending')).items.some(
          (d) => d.last_error !== null && /timed out/.test(d.last_error)
        )
      )
      const log = await deliveries(ta, ep.id, '?status=pending')
      t.ok(log.items.every((d) => d.next_attempt_at !== null))
      flaky.mode = 'ok'
      await waitFor('all eight accepted', () => flaky.acceptedCounts().size >= 8, 20000)
      // give any duplicate time to show up
      await new Promise((resolve) => setTimeout(resolve, 1000))
      const accepted = flaky.acceptedCounts()
      const tokenIds = flaky.received
        .filter((r) => r.answered !== null && r.answered < 300)
        .map((r) => r.event.data.token_id as string)
      t.same(new Set(tokenIds), new Set(made), 'no event lost')
      t.ok(
        [...accepted.values()].every((n) => n === 1),
        'none accepted twice'
      )
      t.ok(
        flaky.received.every((r) => r.verified),
        'every attempt signed'
      )
      const done = await deliveries(ta, ep.id)
      t.equal(done.items.length, 8)
      t.ok(done.items.every((d) => d.status === 'delivered' && d.next_attempt_at === null))
      t.ok(done.items.filter((d) => d.attempts > 1).length >= 5, 'the events of the failing phase were retried')
    })

    t.test('two instances on one database never deliver an event twice', async (t) => {
      const other = await ta.replica()
      t.ok(other.authority.deliveries, 'the second instance runs a worker too')
      const shared = await Receiver.start()
      t.teardown(() => shared.close())
      const ep = await createEndpoint(ta, shared.url, ['token.created'])
      t.teardown(() => pause(ta, ep.id))
      shared.secret = ep.secret
      const c = await customer(ta, 'hook-replicas')
      const n = 40
      // in bursts of 5 (a loaded CI machine times out 40 parallel commits)
      for (let i = 0; i < n; i += 5) {
        await Promise.all(Array.from({ length: 5 }, (_, j) => newPat(ta, c.token, `r${i + j}`)))
      }
      await waitFor(`${n} accepted`, () => shared.acceptedCounts().size >= n, 20000)
      await new Promise((resolve) => setTimeout(resolve, 500))
      const retried = await ta.app.authority.database.db
        .selectFrom('webhook_deliveries')
        .select(['attempts', 'last_error'])
        .where('endpoint_id', '=', ep.id)
        .where('attempts', '>', 1)
        .execute()
      t.equal(shared.received.length, n, `one request per event, no more (retried: ${JSON.stringify(retried)})`)
      t.ok([...shared.acceptedCounts().values()].every((v) => v === 1))
      const workers = await ta.app.authority.database.db
        .selectFrom('webhook_deliveries')
        .select(['status'])
        .where('endpoint_id', '=', ep.id)
        .execute()
      t.ok(workers.every((w) => w.status === 'delivered'))
    })

    t.test('an attempt still in flight is not sent again when the clock passes its lease', async (t) => {
      // found by cross-feature.test.ts: a frozen clock moved hours ahead while a request was in
      // flight, and the next nudge claimed the same delivery again (its lease had "run out")
      const frozen = await startAuthority(t, backend, {
        env: { ...FAST, WEBHOOK_POLL_MS: '60000' },
        frozen: Date.now()
      })
      const slow = await Receiver.start()
      t.teardown(() => slow.close())
      slow.mode = 'hang'
      const ep = await createEndpoint(frozen, slow.url, ['token.created'])
      t.teardown(() => pause(frozen, ep.id))
      const c = await customer(frozen, 'hook-lease')
      await newPat(frozen, c.token)
      await waitFor('the attempt under way', () => slow.received.length >= 1)
      frozenOf(frozen).advance(3600_000)
      const worker = frozen.app.authority.deliveries!
      t.equal(await worker.tick(), 0, 'nothing claimed: the only due delivery is being sent by this worker')
      t.equal(slow.received.length, 1, 'one request')
    })

    t.test('redirects are not followed', async (t) => {
      const target = await Receiver.start()
      const redirecting = await Receiver.start()
      t.teardown(() => Promise.all([target.close(), redirecting.close()]))
      redirecting.mode = 'redirect'
      redirecting.redirectTo = target.url
      const ep = await createEndpoint(ta, redirecting.url, ['token.created'])
      t.teardown(() => pause(ta, ep.id))
      const c = await customer(ta, 'hook-redirect')
      await newPat(ta, c.token)
      await waitFor('a redirect answered', () => redirecting.received.length >= 2)
      await new Promise((resolve) => setTimeout(resolve, 200))
      t.equal(target.received.length, 0, 'nothing reached the redirect target')
      const log = await deliveries(ta, ep.id)
      t.equal(log.items[0]!.status, 'pending')
      t.equal(log.items[0]!.last_http_status, 302)
      t.equal(log.items[0]!.last_error, 'redirect not followed')
    })

    t.test('a change that fails after recording its event leaves no event: one transaction', async (t) => {
      const atomic = await Receiver.start()
      t.teardown(() => atomic.close())
      const ep = await createEndpoint(ta, atomic.url, ['token.revoked'])
      t.teardown(() => pause(ta, ep.id))
      const c = await customer(ta, 'hook-atomic')
      const pat = await newPat(ta, c.token)
      const db = ta.app.authority.database.db
      // the revoke writes the token row, its audit row and its token.revoked event, then its
      // revocation-log entry: refuse that last insert and the whole change must vanish
      await sql
        .raw(
          backend === 'embedded'
            ? "CREATE TRIGGER refuse_log BEFORE INSERT ON revocation_events BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            : "CREATE TRIGGER refuse_log BEFORE INSERT ON revocation_events FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'"
        )
        .execute(db)
      let dropped = false
      const drop = async () => {
        if (!dropped) await sql.raw('DROP TRIGGER refuse_log').execute(db)
        dropped = true
      }
      t.teardown(drop)
      const revoke = await ta.app.inject({
        method: 'DELETE',
        url: `/v1/tokens/${pat.id}`,
        headers: bearer(c.token),
        payload: { password: PW }
      })
      t.ok(revoke.statusCode >= 500, `the revoke failed (${revoke.statusCode})`)
      await drop()
      const events = await db
        .selectFrom('outbox_events')
        .select('payload')
        .where('type', '=', 'token.revoked')
        .execute()
      t.notOk(
        events.some((e) => e.payload.includes(pat.id)),
        'no token.revoked event for it in the outbox'
      )
      const row = await db.selectFrom('tokens').select('revoked_at').where('id', '=', pat.id).executeTakeFirstOrThrow()
      t.equal(row.revoked_at, null, 'and the token is not revoked')
      await new Promise((resolve) => setTimeout(resolve, 200))
      t.equal(atomic.received.length, 0, 'nothing was delivered')
      // the same revoke, now allowed: one event, delivered
      const again = await ta.app.inject({
        method: 'DELETE',
        url: `/v1/tokens/${pat.id}`,
        headers: bearer(c.token),
        payload: { password: PW }
      })
      t.equal(again.statusCode, 200, again.body)
      await waitFor('the event of the revoke that committed', () => atomic.received.length >= 1)
      t.equal(atomic.received[0]!.event.data.token_id, pat.id)
    })

    t.test('send test event: delivered to that endpoint only, logged with latency', async (t) => {
      const one = await Receiver.start()
      const two = await Receiver.start()
      t.teardown(() => Promise.all([one.close(), two.close()]))
      const ep = await createEndpoint(ta, one.url, ['token.created'])
      const ep2 = await createEndpoint(ta, two.url, ['token.created'])
      t.teardown(() => Promise.all([pause(ta, ep.id), pause(ta, ep2.id)]))
      one.secret = ep.secret
      const res = await ta.app.inject({
        method: 'POST',
        url: `/v1/webhooks/${ep.id}/test`,
        headers: bearer(ta.adminToken)
      })
      t.equal(res.statusCode, 202)
      const eventId = (res.json() as { event_id: string }).event_id
      await waitFor('the test event', () => one.received.length >= 1)
      t.equal(one.received[0]!.type, 'webhook.test')
      t.equal(one.received[0]!.id, eventId)
      t.ok(one.received[0]!.verified)
      await waitFor('logged', async () => (await deliveries(ta, ep.id)).items[0]?.status === 'delivered')
      const entry = (await deliveries(ta, ep.id)).items[0]!
      t.equal(entry.event_type, 'webhook.test')
      t.equal(entry.attempts, 1)
      t.equal(entry.last_http_status, 204)
      t.type(entry.last_latency_ms, 'number')
      t.equal(two.received.length, 0)
      t.equal((await deliveries(ta, ep2.id)).items.length, 0)
      const missing = await ta.app.inject({
        method: 'POST',
        url: '/v1/webhooks/00000000-0000-4000-8000-000000000000/test',
        headers: bearer(ta.adminToken)
      })
      t.equal(missing.statusCode, 404)
    })

    t.test('delivery log pages with a cursor, newest first', async (t) => {
      const sink = await Receiver.start()
      t.teardown(() => sink.close())
      const ep = await createEndpoint(ta, sink.url, ['token.created'])
      t.teardown(() => pause(ta, ep.id))
      const c = await customer(ta, 'hook-pages')
      for (let i = 0; i < 5; i++) await newPat(ta, c.token, `p${i}`)
      await waitFor('five delivered', () => sink.received.length >= 5)
      const seen: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const page = await deliveries(ta, ep.id, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        seen.push(...page.items.map((d) => d.id))
        cursor = page.next_cursor
        pages++
      } while (cursor !== null && pages < 10)
      t.equal(pages, 3)
      t.equal(new Set(seen).size, 5)
      const bad = await ta.app.inject({
        method: 'GET',
        url: `/v1/webhooks/${ep.id}/deliveries?cursor=nonsense`,
        headers: bearer(ta.adminToken)
      })
      t.equal(bad.statusCode, 400)
    })

    t.test('rotating the secret: later requests are signed with the new one', async (t) => {
      const r = await Receiver.start()
      t.teardown(() => r.close())
      const ep = await createEndpoint(ta, r.url, ['token.created'])
      t.teardown(() => pause(ta, ep.id))
      const rotated = await ta.app.inject({
        method: 'POST',
        url: `/v1/webhooks/${ep.id}/rotate-secret`,
        headers: bearer(ta.adminToken),
        payload: { password: ADMIN.password }
      })
      const secret = (rotated.json() as { secret: string }).secret
      const c = await customer(ta, 'hook-rotate')
      await newPat(ta, c.token)
      await waitFor('delivered', () => r.received.length >= 1)
      t.ok(r.verify(secret, r.received[0]!.headers, r.received[0]!.body))
      t.notOk(r.verify(ep.secret, r.received[0]!.headers, r.received[0]!.body))
    })
  })
}

t.test('retries are bounded: past WEBHOOK_RETRY_FOR_SECONDS (3 s here) a delivery is failed', async (t) => {
  const backend = BACKEND_NAMES()[BACKEND_NAMES().length - 1]!
  const ta = await startAuthority(t, backend, { env: { ...FAST, WEBHOOK_RETRY_FOR_SECONDS: '3' } })
  const down = await Receiver.start()
  t.teardown(() => down.close())
  down.mode = 'fail'
  const ep = await createEndpoint(ta, down.url, ['token.created'])
  const c = await customer(ta, 'hook-bounded')
  await newPat(ta, c.token)
  await waitFor('failed for good', async () => (await deliveries(ta, ep.id)).items[0]?.status === 'failed', 10000)
  const entry = (await deliveries(ta, ep.id)).items[0]!
  t.ok(entry.attempts >= 2, `retried (${entry.attempts} attempts) before giving up`)
  t.equal(entry.next_attempt_at, null)
  const attempts = down.received.length
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(down.received.length, attempts, 'no attempt after failing')
})

for (const backend of BACKEND_NAMES()) {
  t.test(`latency ${backend}: event commit → receiver, default settings`, async (t) => {
    const ta = await startAuthority(t, backend, { env: { EXPIRY_NOTICE_INTERVAL_SECONDS: '0' } })
    const r = await Receiver.start()
    t.teardown(() => r.close())
    await createEndpoint(ta, r.url, ['token.created'])
    const c = await customer(ta, 'hook-latency')
    const n = 50
    for (let i = 0; i < n; i++) {
      await newPat(ta, c.token, `l${i}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await waitFor('all delivered', () => r.received.length >= n)
    const lat = r.received.map((e) => e.at - Date.parse(e.event.created_at)).sort((a, b) => a - b)
    const figures = { n, p50: percentile(lat, 50), p95: percentile(lat, 95), max: lat[lat.length - 1]! }
    t.comment(`webhook latency ${backend}: ${JSON.stringify(figures)} ms`)
    t.ok(figures.p50 < 2000, `generous bound: p50 under 2 s (${figures.p50} ms)`)
  })
}
