// The per-account revoke-before watermark (issue 16 item 3, docs/tokens.md), on both backends:
// older tokens become inactive (even a row the sweep missed), newer ones stay, warm introspection
// reads nothing more; /v1/me for one's own account; the privilege boundary holds.
import t from 'tap'
import {
  ADMIN,
  bearer,
  createAccount,
  dbReads,
  errorCode,
  introspect,
  login,
  type TestAuthority
} from '../support/authority.js'
import { BACKEND_NAMES } from '../support/backends.js'
import { active, events, newPat, OPS_PW, PW, START, setup } from '../support/revocation-fixture.js'

for (const backend of BACKEND_NAMES()) {
  t.test(`revoke-before on ${backend}`, async (t) => {
    const revokeBefore = (ta: TestAuthority, url: string, token: string, before: number, password: string) =>
      ta.app.inject({
        method: 'POST',
        url,
        headers: bearer(token),
        payload: { before: new Date(before).toISOString(), password }
      })

    t.test('older tokens become inactive, newer ones stay, published in the log', async (t) => {
      const { ta, svc, customerId, session } = await setup(t, backend)
      const clock = ta.clock as { advance(ms: number): void }
      clock.advance(1000)
      const old = await newPat(ta, session, 'old')
      clock.advance(10_000)
      const fresh = await newPat(ta, session, 'fresh')
      t.equal(await active(ta, svc.token, old.value), true, 'cached before the change')
      const T = START + 5000
      const res = await revokeBefore(ta, `/v1/accounts/${customerId}/revoke-before`, ta.adminToken, T, ADMIN.password)
      t.equal(res.statusCode, 200, res.body)
      // the customer's login session (created at START) and `old` are before T
      t.same(res.json(), { tokens_revoked_before: new Date(T).toISOString(), revoked: 2 })
      t.same((await introspect(ta, svc.token, old.value)).reason, 'revoked')
      t.equal(await active(ta, svc.token, fresh.value), true)
      t.ok((await events(ta, 'revoke_before')).includes(old.id), 'in the revocation log')
      const audit = await ta.app.authority.database.db
        .selectFrom('audit_events')
        .select(['account_id', 'actor_account_id', 'details'])
        .where('action', '=', 'account.revoke_before')
        .execute()
      t.equal(audit.length, 1, 'one audit row')
      t.equal(audit[0]!.account_id, customerId, 'about the account')
      t.not(audit[0]!.actor_account_id, null, 'naming the admin who did it')
      t.same(JSON.parse(audit[0]!.details), { before: new Date(T).toISOString(), revoked: 2 })
      const account = await ta.app.inject({ url: `/v1/accounts/${customerId}`, headers: bearer(ta.adminToken) })
      t.equal(account.json().tokens_revoked_before, new Date(T).toISOString())
      // it never moves back
      const back = await revokeBefore(
        ta,
        `/v1/accounts/${customerId}/revoke-before`,
        ta.adminToken,
        START,
        ADMIN.password
      )
      t.equal(back.json().tokens_revoked_before, new Date(T).toISOString())
    })

    t.test('the watermark holds a token whose row the sweep missed (issued concurrently)', async (t) => {
      const { ta, svc, customerId, session } = await setup(t, backend)
      const clock = ta.clock as { advance(ms: number): void }
      clock.advance(1000)
      const racer = await newPat(ta, session, 'racer')
      clock.advance(10_000)
      const res = await revokeBefore(
        ta,
        `/v1/accounts/${customerId}/revoke-before`,
        ta.adminToken,
        START + 5000,
        ADMIN.password
      )
      t.equal(res.statusCode, 200)
      // as if its insert committed after the sweep: the row says live
      await ta.app.authority.database.db
        .updateTable('tokens')
        .set({ revoked_at: null, revoked_reason: null })
        .where('id', '=', racer.id)
        .execute()
      await ta.app.authority.introspection.invalidate([racer.id])
      t.same(await introspect(ta, svc.token, racer.value), { active: false, reason: 'revoked' })
    })

    t.test('warm introspection reads nothing more; a miss is still one read', async (t) => {
      const { ta, svc, customerId, session } = await setup(t, backend)
      const clock = ta.clock as { advance(ms: number): void }
      clock.advance(10_000)
      const res = await revokeBefore(
        ta,
        `/v1/accounts/${customerId}/revoke-before`,
        ta.adminToken,
        START + 5000,
        ADMIN.password
      )
      t.equal(res.statusCode, 200)
      const session2 = await login(ta.app, 'customer', 'casey', PW)
      const pat = await newPat(ta, session2, 'after')
      // the caller's own credential verified (and reused) first: only the token's reads are counted
      t.equal(await active(ta, svc.token, session2), true)
      const before = await dbReads(ta.app)
      t.equal(await active(ta, svc.token, pat.value), true)
      t.equal(await dbReads(ta.app), before + 1, 'the miss: one read, the watermark in its join')
      for (let i = 0; i < 5; i++) t.equal(await active(ta, svc.token, pat.value), true)
      t.equal(await dbReads(ta.app), before + 1, 'warm: no read')
      void session
    })

    t.test('an account revokes its own older tokens through /v1/me, this credential too', async (t) => {
      const { ta, svc, session } = await setup(t, backend)
      const clock = ta.clock as { advance(ms: number): void }
      const pat = await newPat(ta, session, 'mine')
      clock.advance(10_000)
      const res = await revokeBefore(ta, '/v1/me/revoke-before', session, START + 5000, PW)
      t.equal(res.statusCode, 200, res.body)
      t.equal(res.json().revoked, 2)
      t.equal(await active(ta, svc.token, pat.value), false)
      const after = await ta.app.inject({ url: '/v1/tokens', headers: bearer(session) })
      t.equal(after.statusCode, 401, 'the calling session was issued before T')
    })

    t.test("`before` left out is now, by the authority's clock", async (t) => {
      const { ta, svc, customerId, session } = await setup(t, backend)
      const clock = ta.clock as { advance(ms: number): void; now(): number }
      clock.advance(1000)
      const old = await newPat(ta, session, 'old')
      clock.advance(1000)
      const now = clock.now()
      const res = await ta.app.inject({
        method: 'POST',
        url: `/v1/accounts/${customerId}/revoke-before`,
        headers: bearer(ta.adminToken),
        payload: { password: ADMIN.password }
      })
      t.equal(res.statusCode, 200, res.body)
      // the login session and `old`: both issued before now
      t.same(res.json(), { tokens_revoked_before: new Date(now).toISOString(), revoked: 2 })
      t.equal(await active(ta, svc.token, old.value), false, 'issued before now: inactive')
      clock.advance(1000)
      const later = await login(ta.app, 'customer', 'casey', PW)
      t.equal(await active(ta, svc.token, later), true, 'issued after: works')
      clock.advance(1000)
      const mine = await ta.app.inject({
        method: 'POST',
        url: '/v1/me/revoke-before',
        headers: bearer(later),
        payload: { password: PW }
      })
      t.equal(mine.statusCode, 200, mine.body)
      t.equal(mine.json().tokens_revoked_before, new Date(clock.now()).toISOString(), 'on /v1/me too')
      t.equal(await active(ta, svc.token, later), false, 'this credential too: it was issued before now')
    })

    t.test('a future time, a missing password and a more powerful account are refused', async (t) => {
      const { ta, svc, customerId, session } = await setup(t, backend)
      const future = await revokeBefore(
        ta,
        `/v1/accounts/${customerId}/revoke-before`,
        ta.adminToken,
        START + 3600_000,
        ADMIN.password
      )
      t.equal(future.statusCode, 400)
      t.equal(errorCode(future), 'validation_failed')
      const noPw = await ta.app.inject({
        method: 'POST',
        url: '/v1/me/revoke-before',
        headers: bearer(session),
        payload: { before: new Date(START).toISOString() }
      })
      t.equal(noPw.statusCode, 400)
      t.equal(errorCode(noPw), 'password_required')
      await createAccount(ta, {
        username: 'ops',
        password: OPS_PW,
        kind: 'admin',
        permissions: ['accounts:read', 'accounts:write', 'tokens:read', 'tokens:write']
      })
      const ops = await login(ta.app, 'admin', 'ops', OPS_PW)
      const above = await revokeBefore(ta, `/v1/accounts/${svc.id}/revoke-before`, ops, START, OPS_PW)
      t.equal(above.statusCode, 403)
      t.equal(errorCode(above), 'account_more_privileged')
      t.equal(await active(ta, svc.token, svc.token), true, 'the service token still works')
    })
  })
}
