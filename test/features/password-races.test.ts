// Races around password changes and revoke-alls (found by a hostile review), on both backends. The
// window is held open deterministically: the first password confirmation of the attacker's request
// waits until the victim's (or the admin's) change has committed, as bcrypt latency or scheduling
// would make it wait in real life.
import t from 'tap'
import { BACKEND_NAMES } from '../support/backends.js'
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

const OLD = 'victim-old-password-1'

/** The next confirmPassword call finishes its check, then waits for `release` before it returns. */
function holdNextConfirmation(ta: TestAuthority): { release: () => void; held: Promise<void> } {
  const accounts = ta.app.authority.accounts as unknown as { confirmPassword: (...a: unknown[]) => Promise<unknown> }
  const original = accounts.confirmPassword.bind(accounts)
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  let markHeld!: () => void
  const held = new Promise<void>((resolve) => (markHeld = resolve))
  let armed = true
  accounts.confirmPassword = async (...args: unknown[]) => {
    const result = await original(...args)
    if (armed) {
      armed = false
      markHeld()
      await gate
    }
    return result
  }
  return { release, held }
}

for (const name of BACKEND_NAMES()) {
  t.test(`password races on ${name}`, async (t) => {
    const ta = await startAuthority(t, name)
    const call = (method: 'POST' | 'PATCH', url: string, token: string, payload: unknown) =>
      ta.app.inject({ method, url, headers: bearer(token), payload: payload as Record<string, unknown> })
    const svc = await createService(ta, 'checker', ['tokens:introspect', 'tokens:introspect:reason'])

    t.test('a PAT minted with a stolen session that a password change ends is never issued', async (t) => {
      await createAccount(ta, { username: 'victim', password: OLD, kind: 'customer' })
      const stolen = await login(ta.app, 'customer', 'victim', OLD)
      const own = await login(ta.app, 'customer', 'victim', OLD)
      const hold = holdNextConfirmation(ta)
      const attack = call('POST', '/v1/tokens', stolen, {
        name: 'backdoor',
        scopes: ['tokens:read', 'tokens:write'],
        password: OLD
      })
      await hold.held
      const change = await call('POST', '/v1/me/password', own, {
        current_password: OLD,
        new_password: 'victim-new-password-1',
        revoke_tokens: true
      })
      t.equal(change.statusCode, 204, change.body)
      hold.release()
      const res = await attack
      t.equal(res.statusCode, 403, `the in-flight create is refused (${res.body})`)
      t.equal((await introspect(ta, svc.token, stolen)).active, false)
      const rows = await ta.app.authority.database.db
        .selectFrom('tokens')
        .select('id')
        .where('name', '=', 'backdoor')
        .execute()
      t.equal(rows.length, 0, 'no backdoor token was stored')
    })

    t.test("an attacker's password change in flight never overrides an admin reset", async (t) => {
      const id = await createAccount(ta, { username: 'victim2', password: OLD, kind: 'customer' })
      const stolen = await login(ta.app, 'customer', 'victim2', OLD)
      const hold = holdNextConfirmation(ta)
      const attack = call('POST', '/v1/me/password', stolen, {
        current_password: OLD,
        new_password: 'attacker-chosen-pw-1'
      })
      await hold.held
      const reset = await call('PATCH', `/v1/accounts/${id}`, ta.adminToken, {
        password: 'admin-chosen-password-1',
        revoke_tokens: true,
        current_password: ADMIN.password
      })
      t.equal(reset.statusCode, 200, reset.body)
      hold.release()
      const res = await attack
      t.equal(res.statusCode, 409, `the stale change is refused (${res.body})`)
      const loginAs = (password: string) =>
        ta.app.inject({ method: 'POST', url: '/v1/auth/customer/token', payload: { username: 'victim2', password } })
      t.equal((await loginAs('attacker-chosen-pw-1')).statusCode, 401, "the attacker's password does not log in")
      t.equal((await loginAs('admin-chosen-password-1')).statusCode, 200, "the admin's password does")
    })
  })
}
