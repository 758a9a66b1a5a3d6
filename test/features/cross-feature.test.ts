// Where features meet (after the rotation, exchange, leaked-token, last-used and webhook merges), on
// both backends and a frozen clock: reuse detection and leaked-token reports each publish exactly
// one signed webhook event carrying ids and no token value, delivered at once (the poll interval
// here is a minute: only the change's own nudge gets it out); the tokens exchanged (RFC 8693) from
// a reused family, or from a token regenerated with an overlap, introspect inactive; token.expired
// says whether the token was used in its last 7 days (last-used data); and the introspecting
// service's own credential shows its last use on every way it can authenticate.
import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
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
import { BACKEND_NAMES } from '../support/backends.js'
import { basic, frozenOf, rfcPost } from '../support/rfc.js'
import { Receiver, waitFor } from '../support/webhook-receiver.js'

const PW = 'customer-password-1'
const DAY = 86_400_000
const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
const ACCESS = 'urn:ietf:params:oauth:token-type:access_token'
const ENV = {
  // a minute: an event that arrives within the test's wait was sent on its change's nudge
  WEBHOOK_POLL_MS: '60000',
  WEBHOOK_CONNECT_TIMEOUT_MS: '2000',
  WEBHOOK_TIMEOUT_MS: '3000',
  EXPIRY_NOTICE_INTERVAL_SECONDS: '0',
  // nothing is written unless a test flushes
  LAST_USED_FLUSH_SECONDS: '3600',
  LEAK_REPORTS_PER_MINUTE: '1000'
}
/** any token value of ours, of any kind */
const TOKEN_VALUE = /tka_(pat|svc|lgn|xch)_/

async function subscribe(ta: TestAuthority, receiver: Receiver, eventTypes: string[]): Promise<string> {
  const res = await ta.app.inject({
    method: 'POST',
    url: '/v1/webhooks',
    headers: bearer(ta.adminToken),
    payload: { url: receiver.url, event_types: eventTypes, password: ADMIN.password }
  })
  if (res.statusCode !== 201) throw new Error(`create webhook failed: ${res.statusCode} ${res.body}`)
  const body = res.json() as { endpoint: { id: string }; secret: string }
  receiver.secret = body.secret
  // the frozen clock signs with its own time
  receiver.toleranceSeconds = 365 * 86400
  return body.endpoint.id
}

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
  session: string,
  name: string,
  extra: Record<string, unknown> = {}
): Promise<{ id: string; value: string }> {
  const res = await ta.app.inject({
    method: 'POST',
    url: '/v1/tokens',
    headers: bearer(session),
    payload: { name, scopes: ['tokens:read'], password: PW, ...extra }
  })
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`)
  return { id: res.json().token.id as string, value: res.json().access_token as string }
}

async function rotate(
  ta: TestAuthority,
  session: string,
  id: string,
  overlap?: number
): Promise<{ id: string; value: string }> {
  const res = await ta.app.inject({
    method: 'POST',
    url: `/v1/tokens/${id}/regenerate`,
    headers: bearer(session),
    payload: { password: PW, ...(overlap === undefined ? {} : { old_valid_for_seconds: overlap }) }
  })
  if (res.statusCode !== 201) throw new Error(`regenerate failed: ${res.statusCode} ${res.body}`)
  return { id: res.json().token.id as string, value: res.json().access_token as string }
}

/** RFC 8693: an exchanged token (kind xch) for `subject`, and its id */
async function exchange(ta: TestAuthority, subject: string): Promise<{ id: string; value: string }> {
  const res = await ta.app.inject({
    method: 'POST',
    url: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: GRANT,
      subject_token: subject,
      subject_token_type: ACCESS,
      audience: 'orders-api'
    }).toString()
  })
  if (res.statusCode !== 200) throw new Error(`exchange failed: ${res.statusCode} ${res.body}`)
  const value = res.json().access_token as string
  // its id is the value's jti
  return { id: (await look(ta, value)).jti as string, value }
}

const verifiers = new WeakMap<TestAuthority, Promise<{ id: string; token: string }>>()
/** one verifier service per authority (tokens:introspect + :reason) */
function verifierOf(ta: TestAuthority): Promise<{ id: string; token: string }> {
  let v = verifiers.get(ta)
  if (v === undefined) {
    v = createService(ta, 'cross-verifier', ['tokens:introspect', 'tokens:introspect:reason'])
    verifiers.set(ta, v)
  }
  return v
}

async function look(ta: TestAuthority, value: string): Promise<Record<string, unknown>> {
  return introspect(ta, (await verifierOf(ta)).token, value)
}

async function revokedReason(ta: TestAuthority, id: string): Promise<string | null> {
  const row = await ta.app.authority.database.db
    .selectFrom('tokens')
    .select('revoked_reason')
    .where('id', '=', id)
    .executeTakeFirstOrThrow()
  return row.revoked_reason
}

/** events of `type` in the outbox about `tokenId` */
async function outboxed(ta: TestAuthority, type: string, tokenId: string): Promise<Record<string, unknown>[]> {
  const rows = await ta.app.authority.database.db
    .selectFrom('outbox_events')
    .select('payload')
    .where('type', '=', type)
    .execute()
  return rows.map((r) => JSON.parse(r.payload) as Record<string, unknown>).filter((d) => d.token_id === tokenId)
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 500))

for (const backend of BACKEND_NAMES()) {
  t.test(`cross-feature on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend, { env: ENV, frozen: Date.now() })
    const clock = frozenOf(ta)
    const accountId = await createAccount(ta, {
      username: 'xena',
      password: PW,
      kind: 'customer',
      permissions: ['tokens:read', 'tokens:write']
    })
    // logged in again per test: a test that moves the clock must not leave the next one without a session
    const session = () => login(ta.app, 'customer', 'xena', PW)
    await verifierOf(ta)

    t.test('reuse detection: one token.reuse_detected event, ids only, delivered at once', async (t) => {
      const receiver = await Receiver.start()
      t.teardown(() => receiver.close())
      const ep = await subscribe(ta, receiver, ['token.reuse_detected'])
      t.teardown(() => pause(ta, ep))
      const s = await session()
      const first = await newPat(ta, s, 'reused')
      const second = await rotate(ta, s, first.id)
      const third = await rotate(ta, s, second.id, 600)
      t.equal((await look(ta, third.value)).active, true)
      clock.advance(60_000)
      t.same(await look(ta, first.value), { active: false, reason: 'reuse_detected' })
      // presented again, at once and later: nothing more is set off
      await Promise.all([look(ta, first.value), look(ta, first.value)])
      t.same(await look(ta, second.value), { active: false, reason: 'reuse_detected' })
      await waitFor('the reuse event', () => receiver.received.length >= 1)
      await settle()
      t.equal(receiver.received.length, 1, 'exactly one request')
      const [e] = receiver.received
      t.equal(e!.type, 'token.reuse_detected')
      t.ok(e!.verified, 'signed (the docs’ snippet verifies it)')
      t.match(e!.event.data, { token_id: first.id, account_id: accountId, kind: 'pat' })
      t.same(e!.event.data.family, [first.id, second.id, third.id])
      for (const value of [first.value, second.value, third.value, s])
        t.notOk(e!.body.includes(value), 'no token value in the event')
      t.notOk(TOKEN_VALUE.test(e!.body), 'nothing shaped like a token value')
      t.equal((await outboxed(ta, 'token.reuse_detected', first.id)).length, 1, 'one event recorded')
    })

    t.test('reuse detection ends the tokens exchanged from any member of the family', async (t) => {
      const s = await session()
      const first = await newPat(ta, s, 'family with exchanges')
      const second = await rotate(ta, s, first.id)
      const third = await rotate(ta, s, second.id)
      const children = [await exchange(ta, third.value), await exchange(ta, third.value)]
      for (const c of children) t.equal((await look(ta, c.value)).active, true, 'exchanged and cached')
      clock.advance(60_000)
      t.same(await look(ta, second.value), { active: false, reason: 'reuse_detected' })
      for (const c of children) {
        t.equal((await look(ta, c.value)).active, false, 'the exchanged token died with the family')
        t.equal(await revokedReason(ta, c.id), 'subject_revoked')
      }
      const events = await ta.app.authority.database.db
        .selectFrom('revocation_events')
        .select('token_ids')
        .where('reason', '=', 'reuse_detected')
        .execute()
      t.ok(
        events.some((e) => {
          const ids = JSON.parse(e.token_ids) as string[]
          return ids.includes(third.id) && children.every((c) => ids.includes(c.id))
        }),
        'in the family’s revocation-log event'
      )
    })

    t.test('a leaked-token report: one token.leaked event, ids only, delivered at once', async (t) => {
      const receiver = await Receiver.start()
      t.teardown(() => receiver.close())
      const ep = await subscribe(ta, receiver, ['token.leaked'])
      t.teardown(() => pause(ta, ep))
      const s = await session()
      const pat = await newPat(ta, s, 'leaked')
      // the create's own nudge has come and gone
      await settle()
      const report = (tokens: string[]): Promise<LightMyRequestResponse> =>
        ta.app.inject({ method: 'POST', url: '/v1/leaked-tokens', remoteAddress: '203.0.113.9', payload: { tokens } })
      t.equal((await report([pat.value, pat.value])).statusCode, 202, 'reported twice in one report')
      t.equal((await report([pat.value])).statusCode, 202, 'and again')
      await waitFor('the leak event', () => receiver.received.length >= 1, 5000)
      await settle()
      t.equal(receiver.received.length, 1, 'exactly one request')
      const [e] = receiver.received
      t.equal(e!.type, 'token.leaked')
      t.ok(e!.verified)
      t.match(e!.event.data, { token_id: pat.id, account_id: accountId, kind: 'pat', reason: 'leaked' })
      t.notOk(e!.body.includes(pat.value), 'not the value')
      t.notOk(e!.body.includes('203.0.113.9'), 'nor the reporter’s address')
      t.notOk(TOKEN_VALUE.test(e!.body))
      t.equal((await outboxed(ta, 'token.leaked', pat.id)).length, 1, 'one event recorded')
    })

    t.test('regenerate with an overlap ends the tokens exchanged from the old value', async (t) => {
      const s = await session()
      const old = await newPat(ta, s, 'rotated with exchanges')
      const child = await exchange(ta, old.value)
      t.equal((await look(ta, child.value)).active, true, 'exchanged and cached')
      const next = await rotate(ta, s, old.id, 600)
      const o = await look(ta, old.value)
      t.equal(o.active, true, 'the old value is in its overlap')
      t.equal(o.rotation, 'superseded')
      t.same(await look(ta, child.value), { active: false, reason: 'revoked' }, 'its exchanged token is not')
      t.equal(await revokedReason(ta, child.id), 'subject_revoked')
      t.equal((await look(ta, next.value)).active, true)
    })

    t.test('a token exchanged from the old value during its overlap dies when the overlap stops', async (t) => {
      const s = await session()
      const old = await newPat(ta, s, 'exchanged in the overlap')
      const next = await rotate(ta, s, old.id, 600)
      const early = await exchange(ta, old.value)
      t.equal((await look(ta, early.value)).active, true)
      // the successor's first use stops the old value at once
      t.equal((await look(ta, next.value)).active, true)
      t.equal((await look(ta, old.value)).active, false, 'the old value stopped')
      t.equal((await look(ta, early.value)).active, false, 'and what was exchanged from it')
      // the overlap's scheduled end, with no write at all
      const old2 = await newPat(ta, s, 'exchanged in the overlap 2')
      await rotate(ta, s, old2.id, 60)
      const late = await exchange(ta, old2.value)
      t.ok(
        Number((await look(ta, late.value)).exp) <= Math.floor(clock.now() / 1000) + 60,
        'it lives no longer than the overlap'
      )
      clock.advance(60_000)
      t.equal((await look(ta, old2.value)).active, false, 'the overlap ended')
      t.equal((await look(ta, late.value)).active, false, 'and what was exchanged from it')
    })

    for (const path of ['Bearer', 'HTTP Basic', 'client_secret form field'] as const) {
      t.test(`the introspecting service’s own token shows its last use (${path})`, async (t) => {
        const s = await session()
        const pat = await newPat(ta, s, `introspected via ${path}`)
        const username = { Bearer: 'gw-bearer', 'HTTP Basic': 'gw-basic', 'client_secret form field': 'gw-form' }[path]
        const svc = await createService(ta, username, ['tokens:introspect'])
        const ownUse = async () => {
          const res = await ta.app.inject({
            url: `/v1/accounts/${svc.id}/tokens`,
            headers: bearer(ta.adminToken)
          })
          t.equal(res.statusCode, 200)
          const items = (res.json() as { items: { kind: string; last_used: Record<string, unknown> | null }[] }).items
          const own = items.filter((i) => i.kind === 'svc')
          t.equal(own.length, 1)
          return own[0]!.last_used
        }
        await ta.app.authority.lastUsed.flush()
        t.equal(await ownUse(), null, 'not used yet')
        const res =
          path === 'Bearer'
            ? await rfcPost(ta, '/introspect', 'form', { token: pat.value }, bearer(svc.token))
            : path === 'HTTP Basic'
              ? await rfcPost(
                  ta,
                  '/introspect',
                  'form',
                  { token: pat.value },
                  { authorization: basic(username, svc.token) }
                )
              : await rfcPost(ta, '/introspect', 'form', {
                  token: pat.value,
                  client_id: username,
                  client_secret: svc.token
                })
        t.equal(res.statusCode, 200, res.body)
        t.equal(res.json().active, true)
        await ta.app.authority.lastUsed.flush()
        const used = await ownUse()
        t.ok(used !== null, 'last_used is set')
        t.match(used, { at: new Date(clock.now()).toISOString(), caller: null })
      })
    }
  })

  t.test(`token.expired: used_in_last_7_days from last-used data on ${backend}`, async (t) => {
    const start = Date.now()
    const ta = await startAuthority(t, backend, { env: ENV, frozen: start })
    const clock = frozenOf(ta)
    const receiver = await Receiver.start()
    t.teardown(() => receiver.close())
    await subscribe(ta, receiver, ['token.expired'])
    // created now: the admin's login token does not last the days this test moves through
    await verifierOf(ta)
    await createAccount(ta, {
      username: 'exa',
      password: PW,
      kind: 'customer',
      permissions: ['tokens:read', 'tokens:write']
    })
    const s = await login(ta.app, 'customer', 'exa', PW)
    const expiresAt = new Date(start + 9 * DAY).toISOString()
    const recent = await newPat(ta, s, 'used 6 days before expiry', { expires_at: expiresAt })
    const stale = await newPat(ta, s, 'used 8 days before expiry', { expires_at: expiresAt })
    const never = await newPat(ta, s, 'never used', { expires_at: expiresAt })
    const notices = ta.app.authority.expiryNotices
    // the scheduler every 6 hours of frozen time for 10 days; the uses on days 1 and 3
    for (let hours = 0; hours <= 10 * 24; hours += 6) {
      if (hours === 24) t.equal((await look(ta, stale.value)).active, true)
      if (hours === 72) t.equal((await look(ta, recent.value)).active, true)
      // written behind: a flush per step, as the interval would
      await ta.app.authority.lastUsed.flush()
      await notices.runOnce()
      clock.advance(6 * 3600_000)
    }
    await waitFor('three token.expired events', () => receiver.received.length >= 3)
    await settle()
    t.equal(receiver.received.length, 3)
    const used = new Map(receiver.received.map((r) => [r.event.data.token_id, r.event.data.used_in_last_7_days]))
    t.same(
      used,
      new Map<unknown, unknown>([
        [recent.id, true],
        [stale.id, false],
        [never.id, false]
      ])
    )
    for (const r of receiver.received) t.notOk(TOKEN_VALUE.test(r.body), 'no token value')
  })
}
