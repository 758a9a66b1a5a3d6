// Races around password changes and revoke-alls (found by a hostile review), on both backends. The
// window is held open deterministically: the first password confirmation of the attacker's request
// waits until the victim's (or the admin's) change has committed, as bcrypt latency or scheduling
// would make it wait in real life.
import t from 'tap'
import { PasswordHasher } from '../../services/authority/src/accounts/passwords.js'
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

/**
 * The next password check of `password` (a login's) finishes, then waits for `release` before it
 * returns: the login holds a correct check of a password that is about to change.
 */
function holdCheckOf(password: string): { release: () => void; held: Promise<void> } {
  const proto = PasswordHasher.prototype as unknown as { verify: (p: string, h?: string) => Promise<boolean> }
  const original = proto.verify
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  let markHeld!: () => void
  const held = new Promise<void>((resolve) => (markHeld = resolve))
  proto.verify = async function (this: unknown, p: string, h?: string) {
    const result = await original.call(this, p, h)
    if (p === password) {
      proto.verify = original
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

    for (const by of ['admin reset', 'self-service change'] as const) {
      t.test(
        `a login whose check passed before ${by === 'admin reset' ? 'an' : 'a'} ${by} is never issued after it`,
        async (t) => {
          const username = by === 'admin reset' ? 'victim3' : 'victim4'
          const old = `${username}-old-password-1`
          const id = await createAccount(ta, { username, password: old, kind: 'customer' })
          const own = await login(ta.app, 'customer', username, old)
          const hold = holdCheckOf(old)
          const pending = ta.app.inject({
            method: 'POST',
            url: '/v1/auth/customer/token',
            payload: { username, password: old }
          })
          await hold.held
          const change =
            by === 'admin reset'
              ? await call('PATCH', `/v1/accounts/${id}`, ta.adminToken, {
                  password: `${username}-new-password-1`,
                  current_password: ADMIN.password
                })
              : await call('POST', '/v1/me/password', own, {
                  current_password: old,
                  new_password: `${username}-new-password-1`
                })
          t.ok(change.statusCode === 200 || change.statusCode === 204, `the change committed (${change.statusCode})`)
          hold.release()
          const res = await pending
          t.equal(res.statusCode, 401, `the login that checked the old password gets no token (${res.body})`)
          const live = await ta.app.authority.database.db
            .selectFrom('tokens')
            .select('id')
            .where('account_id', '=', id)
            .where('kind', '=', 'lgn')
            .where('revoked_at', 'is', null)
            .execute()
          t.equal(
            live.length,
            by === 'admin reset' ? 0 : 1,
            by === 'admin reset' ? 'no login token of the account is live' : 'only the session that made the change'
          )
          const fresh = await ta.app.inject({
            method: 'POST',
            url: '/v1/auth/customer/token',
            payload: { username, password: `${username}-new-password-1` }
          })
          t.equal(fresh.statusCode, 200, 'the new password logs in')
        }
      )
    }

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
