import bcrypt from 'bcrypt'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { BACKEND_NAMES } from '../support/backends.js'
import { ADMIN, bearer, createAccount, errorCode, login, startAuthority } from '../support/authority.js'

/**
 * Issue §6, "throttles that do not hurt the owner": an attempt refused by one budget spends no
 * other, and a burst of correct password confirmations from a known address is not refused,
 * while no more than the account budget of guesses is ever checked.
 */

const PW = 'owner-password-17'
/** small budgets so they are reachable in a test */
const SMALL = { LOGIN_ACCOUNT_FAILURES_PER_HOUR: '5', LOGIN_IP_FAILURES: '3', LOGIN_IP_WINDOW_SECONDS: '60' }

let compares = 0
const originalCompare = bcrypt.compare.bind(bcrypt) as (data: string, hash: string) => Promise<boolean>
;(bcrypt as unknown as { compare: typeof originalCompare }).compare = (data: string, hash: string) => {
  compares++
  return originalCompare(data, hash)
}

function attempt(
  app: FastifyInstance,
  username: string,
  password: string,
  ip: string,
  realm: 'admin' | 'customer' = 'customer'
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: `/v1/auth/${realm}/token`,
    remoteAddress: ip,
    payload: { username, password }
  })
}

const retryAfter = (res: LightMyRequestResponse): number => Number(res.headers['retry-after'])

for (const backend of BACKEND_NAMES()) {
  t.test(`login budgets on ${backend}`, async (t) => {
    t.test("a refusal by the account budget does not spend the address's budget", async (t) => {
      const ta = await startAuthority(t, backend, { env: SMALL })
      await createAccount(ta, { username: 'victim', password: PW, kind: 'customer' })
      await createAccount(ta, { username: 'other', password: PW, kind: 'customer' })
      // the victim's hour is spent by guesses from elsewhere
      for (let n = 1; n <= 5; n++)
        t.equal(
          (await attempt(ta.app, 'victim', `guess-${n}-password`, `10.0.0.${n}`)).statusCode,
          401,
          `guess ${n}: 401`
        )

      // a client (address C, budget 3) keeps trying the victim: every answer is the account's 429
      const C = '192.0.2.50'
      const before = compares
      for (let n = 1; n <= 10; n++) {
        const res = await attempt(ta.app, 'victim', n === 10 ? PW : `retry-${n}-password`, C)
        t.equal(res.statusCode, 429, `C, attempt ${n} at the victim: 429`)
        t.ok(
          retryAfter(res) > 60,
          `  for the account (Retry-After ${retryAfter(res)} s, longer than the address window)`
        )
      }
      t.equal(compares - before, 0, 'none of them was checked')

      // C's own budget is whole: another account logs in from C, and C still has 3 failures to spend
      const other = await attempt(ta.app, 'other', PW, C)
      t.equal(
        other.statusCode,
        200,
        `C logs into another account (${other.statusCode} ${other.statusCode === 200 ? '' : other.body})`
      )
      for (let n = 1; n <= 3; n++)
        t.equal((await attempt(ta.app, 'nobody', `typo-${n}-password`, C)).statusCode, 401, `C failure ${n} of 3: 401`)
      const fourth = await attempt(ta.app, 'other', PW, C)
      t.equal(fourth.statusCode, 429, 'the 4th failure-budget attempt from C: 429')
      t.ok(retryAfter(fourth) <= 60, `  for the address (Retry-After ${retryAfter(fourth)} s)`)
    })

    t.test("a refusal by the address budget does not spend the account's budget", async (t) => {
      const ta = await startAuthority(t, backend, { env: SMALL })
      await createAccount(ta, { username: 'owner', password: PW, kind: 'customer' })
      const A = '192.0.2.60'
      for (let n = 1; n <= 3; n++)
        t.equal((await attempt(ta.app, 'nobody', `x-${n}-password`, A)).statusCode, 401, `A failure ${n}: 401`)
      for (let n = 1; n <= 10; n++)
        t.equal(
          (await attempt(ta.app, 'owner', `y-${n}-password`, A)).statusCode,
          429,
          `A at the owner, ${n}: 429 (address)`
        )
      // the owner's budget (5) is whole
      for (let n = 1; n <= 5; n++)
        t.equal(
          (await attempt(ta.app, 'owner', `z-${n}-password`, `10.3.0.${n}`)).statusCode,
          401,
          `guess ${n} from elsewhere: checked (401)`
        )
      t.equal((await attempt(ta.app, 'owner', 'z-6-password', '10.3.0.6')).statusCode, 429, 'the 6th: 429')
    })

    t.test("a refusal by a known address's own budget does not spend the address budget", async (t) => {
      const ta = await startAuthority(t, backend, { env: { ...SMALL, LOGIN_IP_FAILURES: '12' } })
      await createAccount(ta, { username: 'owner', password: PW, kind: 'customer' })
      await createAccount(ta, { username: 'other', password: PW, kind: 'customer' })
      const K = '192.0.2.70'
      t.equal((await attempt(ta.app, 'owner', PW, K)).statusCode, 200, 'the owner logs in from K: K is known')
      // the known address's own budget is 10 failures per 15 minutes
      for (let n = 1; n <= 10; n++)
        t.equal((await attempt(ta.app, 'owner', `typo-${n}-password`, K)).statusCode, 401, `typo ${n} from K: 401`)
      for (let n = 1; n <= 5; n++)
        t.equal((await attempt(ta.app, 'owner', `typo-x${n}-password`, K)).statusCode, 429, `more from K: 429 (${n})`)
      // K's address budget (12) has 2 failures left: the refusals did not spend it
      t.equal((await attempt(ta.app, 'other', PW, K)).statusCode, 200, 'K logs into another account')
      t.equal((await attempt(ta.app, 'other', 'typo-a-password', K)).statusCode, 401, 'K: failure 11 of 12')
      t.equal((await attempt(ta.app, 'other', 'typo-b-password', K)).statusCode, 401, 'K: failure 12 of 12')
      t.equal((await attempt(ta.app, 'other', PW, K)).statusCode, 429, 'then the address budget refuses')
    })

    t.test('50 correct password confirmations at once from an address the admin logged in from', async (t) => {
      const ta = await startAuthority(t, backend)
      // startAuthority logged the admin in from app.inject's default address: a known one
      const before = compares
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          ta.app.inject({
            method: 'POST',
            url: '/v1/tokens',
            headers: bearer(ta.adminToken),
            payload: { name: `burst ${i}`, scopes: ['tokens:read'], password: ADMIN.password }
          })
        )
      )
      const statuses = new Map<number, number>()
      for (const r of results) statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1)
      t.comment(
        `${backend}: answers ${JSON.stringify(Object.fromEntries(statuses))}, ${compares - before} bcrypt checks`
      )
      t.equal(statuses.get(201) ?? 0, 50, `all 50 created (${JSON.stringify(Object.fromEntries(statuses))})`)
      const refused = results.find((r) => r.statusCode !== 201)
      if (refused !== undefined) t.comment(`first refusal: ${refused.statusCode} ${errorCode(refused)}`)
      // and a burst of correct logins from that address
      const logins = await Promise.all(
        Array.from({ length: 50 }, () => ta.app.inject({ method: 'POST', url: '/v1/auth/admin/token', payload: ADMIN }))
      )
      t.equal(logins.filter((r) => r.statusCode === 200).length, 50, 'and 50 correct logins at once: all 200')
      // the budgets were not spent: a wrong confirmation is still a plain 403, then the right one works
      const wrong = await ta.app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: 'wrong', scopes: ['tokens:read'], password: 'not-the-admin-password' }
      })
      t.equal(errorCode(wrong), 'password_confirmation_failed', 'a wrong confirmation afterwards: 403')
    })

    t.test(
      'a burst of identical wrong guesses is one checked guess; distinct guesses still stop at the budget',
      async (t) => {
        const ta = await startAuthority(t, backend, { env: { ...SMALL, LOGIN_IP_FAILURES: '1000' } })
        await createAccount(ta, { username: 'owner', password: PW, kind: 'customer' })
        const before = compares
        const same = await Promise.all(
          Array.from({ length: 20 }, () => attempt(ta.app, 'owner', 'same-guess-password', '10.4.0.1'))
        )
        t.ok(
          same.every((r) => r.statusCode === 401 || r.statusCode === 429),
          'all refused'
        )
        const distinct = await Promise.all(
          Array.from({ length: 40 }, (_, i) => attempt(ta.app, 'owner', `guess-${i}-password`, `10.4.1.${i + 1}`))
        )
        t.equal(distinct.filter((r) => r.statusCode === 200).length, 0, 'no success')
        const checked = compares - before
        t.ok(checked <= 5, `at most the account budget (5) checked: ${checked}`)
      }
    )
  })

  t.test(`password confirmation and concurrent guesses spend the login budget on ${backend}`, async (t) => {
    // (moved from the former hardening.test.ts, same settings)
    const ta = await startAuthority(t, backend, {
      frozen: Date.now(),
      env: { LOGIN_ACCOUNT_FAILURES_PER_HOUR: '5', LOGIN_IP_FAILURES: '1000', ALLOW_QUERY_TOKENS: 'true' }
    })
    const { app } = ta

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

    t.test('a password change is throttled like a confirmation: its current password is a guess too', async (t) => {
      await createAccount(ta, { username: 'changer', password: 'changer-password-1', kind: 'customer' })
      const session = await login(app, 'customer', 'changer', 'changer-password-1')
      const change = (current: string) =>
        app.inject({
          method: 'POST',
          url: '/v1/me/password',
          headers: bearer(session),
          remoteAddress: '10.66.0.2',
          payload: { current_password: current, new_password: 'changer-password-2' }
        })
      const codes: number[] = []
      for (let i = 0; i < 7; i++) codes.push((await change(`guess-${i}`)).statusCode)
      t.same(codes, [403, 403, 403, 403, 403, 429, 429], 'five guesses checked (the account budget), then 429')
      const right = await change('changer-password-1')
      t.equal(right.statusCode, 429, 'the right current password waits too')
      t.equal(errorCode(right), 'too_many_requests')
      t.ok(retryAfter(right) > 0, 'with Retry-After')
      t.equal(
        await login(app, 'customer', 'changer', 'changer-password-2').catch(() => 'refused'),
        'refused',
        'the password did not change'
      )
    })

    t.test('concurrent wrong logins cannot outrun the per-account budget', async (t) => {
      await createAccount(ta, { username: 'stampede', password: 'stampede-password', kind: 'customer' })
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          app.inject({
            method: 'POST',
            url: '/v1/auth/customer/token',
            remoteAddress: `10.9.0.${i + 1}`,
            payload: { username: 'stampede', password: `nope-${i}` }
          })
        )
      )
      const checked = results.filter((r) => r.statusCode === 401).length
      t.ok(checked <= 5, `${checked} of 40 concurrent guesses were checked (budget 5)`)
      t.equal(results.filter((r) => r.statusCode === 429).length, 40 - checked)
    })
  })
}
