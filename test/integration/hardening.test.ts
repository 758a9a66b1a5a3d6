import t from 'tap'
import { BACKEND_NAMES } from '../helpers/backends.js'
import { ADMIN, bearer, createAccount, createService, errorCode, introspect, login, startAuthority } from '../helpers/authority.js'

/** Regressions for the failure modes found in review: each asserts the safe behaviour. */
for (const backend of BACKEND_NAMES()) {
  t.test(`hardening on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend, {
      frozen: Date.now(),
      env: { LOGIN_ACCOUNT_FAILURES_PER_HOUR: '5', LOGIN_IP_FAILURES: '1000', ALLOW_QUERY_TOKENS: 'true' }
    })
    const { app } = ta
    const db = app.authority.database.db
    const svc = await createService(ta, 'hardening-svc', ['tokens:introspect', 'tokens:introspect:reason'])
    const adminPat = async (scopes: string[]) => {
      const res = await app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(ta.adminToken), payload: { name: 'h', scopes, password: ADMIN.password } })
      if (res.statusCode !== 201) throw new Error(res.body)
      return { id: res.json().token.id as string, value: res.json().access_token as string }
    }

    t.test('a revoke that committed without reaching the cache is cleared by the retry', async (t) => {
      const pat = await adminPat(['tokens:read'])
      t.equal((await introspect(ta, svc.token, pat.value)).active, true, 'cached as active')
      // the database says revoked, the cache was never told (a commit after our timeout)
      await db.updateTable('tokens').set({ revoked_at: Date.now(), revoked_reason: 'revoked' }).where('id', '=', pat.id).execute()
      const retry = await app.inject({ method: 'DELETE', url: `/v1/tokens/${pat.id}`, headers: bearer(ta.adminToken), payload: { password: ADMIN.password } })
      t.equal(retry.statusCode, 200)
      t.same(await introspect(ta, svc.token, pat.value), { active: false, reason: 'revoked' }, 'the retry invalidated the cache')
    })

    t.test('disabled:true sweeps live tokens even when the account is already disabled', async (t) => {
      const id = await createAccount(ta, { username: 'sweep', password: 'sweep-password-1', kind: 'customer' })
      const session = await login(app, 'customer', 'sweep', 'sweep-password-1')
      const disable = () =>
        app.inject({ method: 'PATCH', url: `/v1/accounts/${id}`, headers: bearer(ta.adminToken), payload: { disabled: true, current_password: ADMIN.password } })
      t.equal((await disable()).statusCode, 200)
      t.same(await introspect(ta, svc.token, session), { active: false, reason: 'revoked' })
      // a token left live behind a disabled account (an interrupted sweep)
      const left = await db.selectFrom('tokens').select('id').where('account_id', '=', id).executeTakeFirstOrThrow()
      await db.updateTable('tokens').set({ revoked_at: null, revoked_reason: null }).where('id', '=', left.id).execute()
      t.equal((await disable()).statusCode, 200)
      const row = await db.selectFrom('tokens').select('revoked_at').where('id', '=', left.id).executeTakeFirstOrThrow()
      t.not(row.revoked_at, null, 'the retry revoked it')
      const mint = await app.inject({
        method: 'POST',
        url: `/v1/accounts/${id}/tokens`,
        headers: bearer(ta.adminToken),
        payload: { name: 'x', scopes: ['tokens:read'], password: ADMIN.password }
      })
      t.equal(mint.statusCode, 403, 'no new token for a disabled account')
      t.equal(errorCode(mint), 'forbidden')
    })

    t.test('password confirmation is throttled like login: a held token is no guessing oracle', async (t) => {
      await createAccount(ta, { username: 'oracle', password: 'oracle-password-1', kind: 'customer' })
      const session = await login(app, 'customer', 'oracle', 'oracle-password-1')
      const codes: number[] = []
      for (let i = 0; i < 8; i++) {
        const res = await app.inject({
          method: 'DELETE',
          url: '/v1/tokens/AAAAAAAAAAAAAAAAAAAAAA',
          headers: bearer(session),
          // a leaked token used from elsewhere (the owner's own address has a separate budget)
          remoteAddress: '10.66.0.1',
          payload: { password: `guess-${i}` }
        })
        codes.push(res.statusCode)
      }
      t.same(codes, [403, 403, 403, 403, 403, 429, 429, 429], 'five guesses checked (the account budget), then 429')
      const right = await app.inject({
        method: 'DELETE',
        url: '/v1/tokens/AAAAAAAAAAAAAAAAAAAAAA',
        headers: bearer(session),
        remoteAddress: '10.66.0.1',
        payload: { password: 'oracle-password-1' }
      })
      t.equal(right.statusCode, 429, 'even the right password waits: the budget is spent')
    })

    t.test('concurrent wrong logins cannot outrun the per-account budget', async (t) => {
      await createAccount(ta, { username: 'stampede', password: 'stampede-password', kind: 'customer' })
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          app.inject({ method: 'POST', url: '/v1/auth/customer/token', remoteAddress: `10.9.0.${i + 1}`, payload: { username: 'stampede', password: `nope-${i}` } })
        )
      )
      const checked = results.filter((r) => r.statusCode === 401).length
      t.ok(checked <= 5, `${checked} of 40 concurrent guesses were checked (budget 5)`)
      t.equal(results.filter((r) => r.statusCode === 429).length, 40 - checked)
    })

    t.test('nobody grants or mints more than their credential holds', async (t) => {
      const narrow = await adminPat(['accounts:write'])
      const otherAdmin = await createAccount(ta, { username: 'other-admin', password: 'other-admin-pass', kind: 'admin' })
      const mint = await app.inject({
        method: 'POST',
        url: `/v1/accounts/${otherAdmin}/tokens`,
        headers: bearer(narrow.value),
        payload: { name: 'wide', scopes: ['accounts:read', 'tokens:revoke'], password: ADMIN.password }
      })
      t.equal(mint.statusCode, 403)
      t.equal(errorCode(mint), 'scope_not_permitted')
      const grant = await app.inject({
        method: 'PATCH',
        url: `/v1/accounts/${otherAdmin}`,
        headers: bearer(narrow.value),
        payload: { permissions: ['accounts:write', 'tokens:revoke'], current_password: ADMIN.password }
      })
      t.equal(grant.statusCode, 403)
      t.equal(errorCode(grant), 'scope_not_permitted')
      const create = await app.inject({
        method: 'POST',
        url: '/v1/accounts',
        headers: bearer(narrow.value),
        payload: { username: 'svc-wide', password: 'svc-wide-password', kind: 'service', permissions: ['tokens:revoke'], current_password: ADMIN.password }
      })
      t.equal(create.statusCode, 403)
      const before = await db.selectFrom('accounts').select('id').where('username', '=', 'svc-wide').execute()
      t.equal(before.length, 0, 'nothing was created')
    })

    t.test('concurrent edits: compare-and-set, never a silent re-widening', async (t) => {
      const pat = await adminPat(['tokens:read', 'tokens:write', 'accounts:read'])
      const sets = [['tokens:read'], ['tokens:read', 'tokens:write'], ['accounts:read'], ['tokens:write']]
      const results = await Promise.all(
        sets.map((scopes) =>
          app.inject({ method: 'PATCH', url: `/v1/tokens/${pat.id}`, headers: bearer(ta.adminToken), payload: { scopes, password: ADMIN.password } })
        )
      )
      const codes = results.map((r) => r.statusCode)
      t.ok(codes.every((c) => c === 200 || c === 409 || c === 403), `codes ${codes.join(',')}`)
      const ok = results.filter((r) => r.statusCode === 200).map((r) => r.json().scopes as string[])
      t.ok(ok.length >= 1)
      const row = await db.selectFrom('tokens').select('scopes').where('id', '=', pat.id).executeTakeFirstOrThrow()
      const final = JSON.parse(row.scopes!) as string[]
      t.ok(ok.some((s) => JSON.stringify(s) === JSON.stringify(final)), 'the stored scopes are what a 200 reported')
      const edits = await db.selectFrom('audit_events').select('id').where('token_id', '=', pat.id).where('action', '=', 'token.edit').execute()
      t.equal(edits.length, ok.length, 'one audit row per successful edit')
    })

    t.test('query-string tokens (when enabled) work on routes with a query schema', async (t) => {
      const res = await app.inject({ url: `/v1/tokens?limit=1&access_token=${ta.adminToken}` })
      t.equal(res.statusCode, 200)
      const acc = await app.inject({ url: `/v1/accounts?session=${ta.adminToken}` })
      t.equal(acc.statusCode, 200)
    })

    t.test('the cache hint shrinks with the age of a cached answer', async (t) => {
      const clock = ta.clock as { advance(ms: number): void }
      const pat = await adminPat(['tokens:read'])
      const first = await app.inject({ method: 'POST', url: '/introspect', headers: bearer(svc.token), payload: { token: pat.value } })
      t.equal(first.headers['cache-control'], `private, max-age=${ta.config.CACHE_TTL_SECONDS}`)
      clock.advance(20_000)
      const later = await app.inject({ method: 'POST', url: '/introspect', headers: bearer(svc.token), payload: { token: pat.value } })
      t.equal(later.headers['cache-control'], `private, max-age=${ta.config.CACHE_TTL_SECONDS - 20}`, 'aged by 20 s')
    })
  })
}
