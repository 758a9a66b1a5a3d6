import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { BUILTIN_SCOPES } from '../../services/authority/src/scopes/catalogue.js'
import { BACKEND_NAMES } from '../support/backends.js'
import {
  ADMIN,
  bearer,
  createAccount,
  createService,
  errorCode,
  introspect,
  startAuthority,
  type TestAuthority
} from '../support/authority.js'

const PW = 'customer-password-1'
const ALL_SCOPES = BUILTIN_SCOPES.map((s) => s.name).sort()
/** small budgets so the throttle is reachable in a test */
const THROTTLE = { LOGIN_ACCOUNT_FAILURES_PER_HOUR: '5', LOGIN_IP_FAILURES: '3', LOGIN_IP_WINDOW_SECONDS: '60' }

type Json = Record<string, unknown>
type Realm = 'admin' | 'customer'
/** the assertions the helpers use, from a tap (sub)test */
type Asserts = Pick<typeof t, 'equal' | 'same' | 'match' | 'ok' | 'notOk'>

function attempt(
  app: FastifyInstance,
  realm: Realm,
  username: string,
  password: string,
  opts: { ip?: string; headers?: Record<string, string> } = {}
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: `/v1/auth/${realm}/token`,
    payload: { username, password },
    ...(opts.ip !== undefined ? { remoteAddress: opts.ip } : {}),
    ...(opts.headers !== undefined ? { headers: opts.headers } : {})
  })
}

function refused(t: Asserts, res: LightMyRequestResponse, status: number, code: string, what: string): void {
  t.equal(res.statusCode, status, `${what}: status ${status} (${res.body})`)
  t.equal(errorCode(res), code, `${what}: code ${code}`)
}

/** a 429 with a Retry-After of at most `max` seconds */
function throttled(t: Asserts, res: LightMyRequestResponse, max: number, what: string): void {
  refused(t, res, 429, 'too_many_requests', what)
  const retry = Number(res.headers['retry-after'])
  t.ok(
    Number.isInteger(retry) && retry >= 1 && retry <= max,
    `${what}: Retry-After 1..${max} (${String(res.headers['retry-after'])})`
  )
  t.notOk(res.body.includes('tka_'), `${what}: no token issued`)
}

function withoutRequestId(res: LightMyRequestResponse): Json {
  const body = res.json() as Json
  delete body.requestId
  return body
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

async function loginTokenCount(ta: TestAuthority): Promise<number> {
  return (await ta.app.authority.database.db.selectFrom('tokens').select('id').where('kind', '=', 'lgn').execute())
    .length
}

for (const backend of BACKEND_NAMES()) {
  t.test(`login on ${backend}`, async (t) => {
    t.test('success: a login token with the account permissions, not cached', async (t) => {
      const start = Math.floor(Date.now() / 1000) * 1000
      const ta = await startAuthority(t, backend, { frozen: start })
      const svc = await createService(ta, 'login-svc', ['tokens:introspect'])
      await createAccount(ta, { username: 'carol', password: PW, kind: 'customer' })
      await createAccount(ta, { username: 'reader', password: PW, kind: 'customer', permissions: ['tokens:read'] })
      await createAccount(ta, { username: 'MixedCase.User', password: PW, kind: 'customer' })

      const admin = await attempt(ta.app, 'admin', ADMIN.username, ADMIN.password)
      t.equal(admin.statusCode, 200)
      t.equal(admin.headers['cache-control'], 'no-store')
      t.equal(admin.headers.pragma, 'no-cache')
      const a = admin.json() as Json
      t.same(Object.keys(a).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
      t.match(a.access_token, /^tka_lgn_[A-Za-z0-9_-]+$/)
      t.equal(a.token_type, 'Bearer')
      t.equal(a.expires_in, 14400, 'admin: 4 hours by default')
      t.equal(a.scope, ALL_SCOPES.join(' '), "admin: the account's permissions")
      const me = await ta.app.inject({ url: '/v1/me', headers: bearer(a.access_token as string) })
      t.equal(me.statusCode, 200)
      t.equal(me.json().token.kind, 'lgn')
      t.equal(me.json().account.username, ADMIN.username)
      t.equal(
        a.scope,
        (me.json().account.permissions as string[]).join(' '),
        'scope = the permissions the account holds'
      )
      const ai = await introspect(ta, svc.token, a.access_token as string)
      t.equal(ai.active, true)
      t.equal(ai.exp, start / 1000 + 14400)
      t.equal((ai.exp as number) - (ai.iat as number), 14400)
      t.equal(ai.kind, 'admin')

      const customer = await attempt(ta.app, 'customer', 'carol', PW)
      t.equal(customer.statusCode, 200)
      t.equal(customer.headers['cache-control'], 'no-store')
      const c = customer.json() as Json
      t.match(c.access_token, /^tka_lgn_/)
      t.equal(c.token_type, 'Bearer')
      t.equal(c.expires_in, 3600, 'customer: 1 hour by default')
      t.equal(c.scope, 'tokens:read tokens:write')
      const ci = await introspect(ta, svc.token, c.access_token as string)
      t.equal(ci.exp, start / 1000 + 3600)
      t.equal(ci.username, 'carol')
      t.equal(ci.kind, 'customer')
      t.same(ci.permissions, ['tokens:read', 'tokens:write'])
      const audit = await ta.app.authority.database.db
        .selectFrom('audit_events')
        .selectAll()
        .where('action', '=', 'token.login')
        .where('token_id', '=', me.json().token.id as string)
        .execute()
      t.equal(audit.length, 1, 'a token.login audit row per login')
      t.notOk(audit[0]?.details.includes('tka_'), 'no token value in the audit row')

      const reader = (await attempt(ta.app, 'customer', 'reader', PW)).json() as Json
      t.equal(reader.scope, 'tokens:read', 'scope follows the account, not the kind')

      for (const name of ['CAROL', 'Carol', 'cArOl']) {
        const res = await attempt(ta.app, 'customer', name, PW)
        t.equal(res.statusCode, 200, `username ${name} is case-insensitive`)
        t.equal((await introspect(ta, svc.token, res.json().access_token as string)).username, 'carol')
      }
      for (const name of ['mixedcase.user', 'MIXEDCASE.USER', 'MixedCase.User']) {
        t.equal((await attempt(ta.app, 'customer', name, PW)).statusCode, 200, `username ${name} is case-insensitive`)
      }
      t.equal(
        (await attempt(ta.app, 'admin', ADMIN.username.toUpperCase(), ADMIN.password)).statusCode,
        200,
        'admin username case-insensitive'
      )
      t.equal(
        (await attempt(ta.app, 'customer', 'carol', PW.toUpperCase())).statusCode,
        401,
        'the password is not case-insensitive'
      )

      const bad = (payload: unknown) =>
        ta.app.inject({ method: 'POST', url: '/v1/auth/customer/token', payload: payload as Json })
      refused(t, await bad({ username: 'carol' }), 400, 'validation_failed', 'no password')
      refused(t, await bad({ password: PW }), 400, 'validation_failed', 'no username')
      refused(t, await bad({ username: '', password: PW }), 400, 'validation_failed', 'empty username')
      refused(
        t,
        await bad({ username: 'carol', password: PW, scope: 'accounts:write' }),
        400,
        'validation_failed',
        'extra field'
      )
    })

    t.test('TTLs are configurable', async (t) => {
      const start = Math.floor(Date.now() / 1000) * 1000
      const ta = await startAuthority(t, backend, {
        frozen: start,
        env: { ADMIN_TOKEN_TTL_SECONDS: '600', CUSTOMER_TOKEN_TTL_SECONDS: '120' }
      })
      const svc = await createService(ta, 'ttl-svc', ['tokens:introspect'])
      await createAccount(ta, { username: 'ttl-customer', password: PW, kind: 'customer' })
      const admin = (await attempt(ta.app, 'admin', ADMIN.username, ADMIN.password)).json() as Json
      t.equal(admin.expires_in, 600)
      t.equal((await introspect(ta, svc.token, admin.access_token as string)).exp, start / 1000 + 600)
      const customer = (await attempt(ta.app, 'customer', 'ttl-customer', PW)).json() as Json
      t.equal(customer.expires_in, 120)
      t.equal((await introspect(ta, svc.token, customer.access_token as string)).exp, start / 1000 + 120)
    })

    t.test('expires_in is the configured lifetime at any millisecond', async (t) => {
      // The clock stands 700 ms into a second: expires_in must still be the configured TTL and
      // agree with the token's own exp - iat (what introspection reports).
      const start = Math.floor(Date.now() / 1000) * 1000 + 700
      const ta = await startAuthority(t, backend, { frozen: start })
      const svc = await createService(ta, 'ms-svc', ['tokens:introspect'])
      await createAccount(ta, { username: 'ms-customer', password: PW, kind: 'customer' })
      for (const [realm, username, password, ttl] of [
        ['admin', ADMIN.username, ADMIN.password, 14400],
        ['customer', 'ms-customer', PW, 3600]
      ] as const) {
        const body = (await attempt(ta.app, realm, username, password)).json() as Json
        const info = await introspect(ta, svc.token, body.access_token as string)
        t.equal(
          (info.exp as number) - (info.iat as number),
          ttl,
          `${realm}: the token lives ${ttl} s by its own claims`
        )
        t.equal(body.expires_in, ttl, `${realm}: expires_in ${ttl}`)
      }
    })

    t.test('every failure gives one answer', async (t) => {
      const ta = await startAuthority(t, backend)
      await createAccount(ta, { username: 'carol', password: PW, kind: 'customer' })
      await createAccount(ta, { username: 'second-admin', password: PW, kind: 'admin' })
      await createAccount(ta, { username: 'robot', password: PW, kind: 'service' })
      const danId = await createAccount(ta, { username: 'dan', password: PW, kind: 'customer' })
      const disable = await ta.app.inject({
        method: 'PATCH',
        url: `/v1/accounts/${danId}`,
        headers: bearer(ta.adminToken),
        payload: { disabled: true, current_password: ADMIN.password }
      })
      t.equal(disable.statusCode, 200)

      const reference = await attempt(ta.app, 'customer', 'carol', 'wrong-password-1', { ip: '10.20.0.1' })
      refused(t, reference, 401, 'invalid_credentials', 'wrong password')
      t.same(Object.keys(reference.json() as Json).sort(), ['code', 'error', 'message', 'requestId', 'statusCode'])
      t.equal(reference.headers['retry-after'], undefined)
      const before = await loginTokenCount(ta)
      const cases: [Realm, string, string, string][] = [
        ['admin', 'carol', PW, 'a customer on the admin endpoint'],
        ['customer', ADMIN.username, ADMIN.password, 'an admin on the customer endpoint'],
        ['customer', 'second-admin', PW, 'another admin on the customer endpoint'],
        ['admin', 'robot', PW, 'a service account on the admin endpoint'],
        ['customer', 'robot', PW, 'a service account on the customer endpoint'],
        ['customer', 'nobody', PW, 'an unknown user'],
        ['admin', 'nobody-admin', ADMIN.password, 'an unknown admin'],
        ['customer', 'Carol', 'wrong-password-2', 'a wrong password, other case of username'],
        ['admin', ADMIN.username, 'wrong-password-3', 'a wrong admin password'],
        ['customer', 'dan', PW, 'a disabled account with its right password'],
        ['customer', 'dan', 'wrong-password-4', 'a disabled account with a wrong password']
      ]
      let i = 2
      for (const [realm, username, password, what] of cases) {
        const res = await attempt(ta.app, realm, username, password, { ip: `10.20.0.${i++}` })
        refused(t, res, 401, 'invalid_credentials', what)
        t.same(withoutRequestId(res), withoutRequestId(reference), `${what}: same body as a wrong password`)
        t.equal(res.headers['www-authenticate'], reference.headers['www-authenticate'], `${what}: same challenge`)
        t.equal(res.headers['content-type'], reference.headers['content-type'])
        t.equal(res.headers['retry-after'], undefined)
        t.not(res.json().requestId, reference.json().requestId, 'each answer has its own request id')
      }
      t.equal(await loginTokenCount(ta), before, 'no login token was issued by a refused attempt')
      // positive controls: the same credentials work on the right endpoint
      t.equal((await attempt(ta.app, 'customer', 'carol', PW, { ip: '10.20.1.1' })).statusCode, 200)
      t.equal((await attempt(ta.app, 'admin', 'second-admin', PW, { ip: '10.20.1.2' })).statusCode, 200)
      t.equal((await attempt(ta.app, 'admin', ADMIN.username, ADMIN.password, { ip: '10.20.1.3' })).statusCode, 200)
    })

    t.test('unknown user and wrong password take the same time', async (t) => {
      // A bcrypt cost where the hash dominates the request, so a missing dummy hash would show.
      const ta = await startAuthority(t, backend, { env: { BCRYPT_COST: '8' } })
      await createAccount(ta, { username: 'timed', password: PW, kind: 'customer' })
      const ROUNDS = 30
      const unknown: number[] = []
      const wrong: number[] = []
      let ip = 0
      const nextIp = (): string => {
        ip++
        return `10.${40 + Math.floor(ip / 250)}.${ip % 250}.7`
      }
      const timed = async (username: string): Promise<number> => {
        const t0 = process.hrtime.bigint()
        const res = await attempt(ta.app, 'customer', username, 'wrong-password-1', { ip: nextIp() })
        const ms = Number(process.hrtime.bigint() - t0) / 1e6
        refused(t, res, 401, 'invalid_credentials', `${username} attempt`)
        return ms
      }
      for (let i = 0; i < 3; i++) {
        await timed(`warm-${i}`)
        await timed('timed')
      }
      for (let i = 0; i < ROUNDS; i++) {
        // interleaved, alternating which goes first, so drift affects both alike
        if (i % 2 === 0) {
          unknown.push(await timed(`ghost-${i}`))
          wrong.push(await timed('timed'))
        } else {
          wrong.push(await timed('timed'))
          unknown.push(await timed(`ghost-${i}`))
        }
      }
      const mu = median(unknown)
      const mw = median(wrong)
      t.comment(
        `median login time over ${ROUNDS} attempts: unknown user ${mu.toFixed(2)} ms, wrong password ${mw.toFixed(2)} ms`
      )
      t.ok(mu < 3 * mw, `unknown-user median (${mu.toFixed(2)} ms) < 3 x wrong-password median (${mw.toFixed(2)} ms)`)
      t.ok(mw < 3 * mu, `wrong-password median (${mw.toFixed(2)} ms) < 3 x unknown-user median (${mu.toFixed(2)} ms)`)
    })

    t.test('throttle per client address', async (t) => {
      const ta = await startAuthority(t, backend, { env: THROTTLE })
      await createAccount(ta, { username: 'victim', password: PW, kind: 'customer' })
      await createAccount(ta, { username: 'other', password: PW, kind: 'customer' })
      const A = '192.0.2.10'
      const B = '192.0.2.11'
      // three failures from A, whatever the username
      refused(
        t,
        await attempt(ta.app, 'customer', 'victim', 'wrong-password-1', { ip: A }),
        401,
        'invalid_credentials',
        'A failure 1'
      )
      refused(
        t,
        await attempt(ta.app, 'customer', 'nobody-1', 'wrong-password-1', { ip: A }),
        401,
        'invalid_credentials',
        'A failure 2'
      )
      refused(
        t,
        await attempt(ta.app, 'admin', 'other', PW, { ip: A }),
        401,
        'invalid_credentials',
        'A failure 3 (wrong realm)'
      )
      const before = await loginTokenCount(ta)
      throttled(t, await attempt(ta.app, 'customer', 'victim', PW, { ip: A }), 60, 'A, 4th attempt, right password')
      throttled(t, await attempt(ta.app, 'customer', 'other', PW, { ip: A }), 60, 'A, another account, right password')
      throttled(
        t,
        await attempt(ta.app, 'admin', ADMIN.username, ADMIN.password, { ip: A }),
        60,
        'A, the admin endpoint'
      )
      throttled(t, await attempt(ta.app, 'customer', 'nobody-2', 'x', { ip: A }), 60, 'A, unknown user')
      t.equal(await loginTokenCount(ta), before, 'nothing issued while throttled')
      // another address is not affected
      t.equal((await attempt(ta.app, 'customer', 'victim', PW, { ip: B })).statusCode, 200, 'B: victim logs in')
      t.equal((await attempt(ta.app, 'customer', 'other', PW, { ip: B })).statusCode, 200, 'B: other logs in')
      refused(
        t,
        await attempt(ta.app, 'customer', 'other', 'wrong-password-1', { ip: B }),
        401,
        'invalid_credentials',
        'B: a failure is still a 401'
      )
      throttled(t, await attempt(ta.app, 'customer', 'victim', PW, { ip: A }), 60, 'A is still throttled')
    })

    t.test('throttle per account, and the known client keeps its way in', async (t) => {
      const ta = await startAuthority(t, backend, { env: THROTTLE })
      await createAccount(ta, { username: 'owner', password: PW, kind: 'customer' })
      await createAccount(ta, { username: 'bystander', password: PW, kind: 'customer' })
      const X = '198.51.100.7'
      t.equal((await attempt(ta.app, 'customer', 'owner', PW, { ip: X })).statusCode, 200, 'the owner logs in from X')

      for (let n = 1; n <= 5; n++) {
        refused(
          t,
          await attempt(ta.app, 'customer', 'owner', `guess-${n}-password`, { ip: `10.0.0.${n}` }),
          401,
          'invalid_credentials',
          `attack ${n}`
        )
      }
      const before = await loginTokenCount(ta)
      throttled(
        t,
        await attempt(ta.app, 'customer', 'owner', PW, { ip: '10.0.0.6' }),
        3600,
        'new address, right password, after 5 failures'
      )
      throttled(
        t,
        await attempt(ta.app, 'customer', 'OWNER', 'guess-7-password', { ip: '10.0.0.7' }),
        3600,
        'new address, other case'
      )
      throttled(
        t,
        await attempt(ta.app, 'customer', 'owner', PW, { ip: '10.0.0.1' }),
        3600,
        'an attacking address (one failure of its own)'
      )
      t.equal(await loginTokenCount(ta), before, 'nothing issued while throttled')
      t.equal(
        (await attempt(ta.app, 'customer', 'bystander', PW, { ip: '10.0.0.8' })).statusCode,
        200,
        'another account is not affected'
      )

      // An unknown username is throttled the same way (the throttle does not reveal who exists).
      for (let n = 1; n <= 5; n++) {
        refused(
          t,
          await attempt(ta.app, 'customer', 'ghost', `guess-${n}-password`, { ip: `10.0.1.${n}` }),
          401,
          'invalid_credentials',
          `ghost ${n}`
        )
      }
      const ghost = await attempt(ta.app, 'customer', 'ghost', 'guess-6-password', { ip: '10.0.1.6' })
      throttled(t, ghost, 3600, 'unknown user after 5 failures')
      const real = await attempt(ta.app, 'customer', 'owner', 'guess-6-password', { ip: '10.0.1.7' })
      t.same(withoutRequestId(ghost), withoutRequestId(real), 'same 429 body for an unknown and a real account')

      // The owner, from the address they logged in from before, is not locked out.
      const back = await attempt(ta.app, 'customer', 'owner', PW, { ip: X })
      t.equal(back.statusCode, 200, `the owner logs in from X during the attack (${back.body})`)
      refused(
        t,
        await attempt(ta.app, 'customer', 'owner', 'typo-password-1', { ip: X }),
        401,
        'invalid_credentials',
        'a typo from X is a 401'
      )
      t.equal(
        (await attempt(ta.app, 'customer', 'owner', PW, { ip: X })).statusCode,
        200,
        'and the owner still gets in from X'
      )
      throttled(
        t,
        await attempt(ta.app, 'customer', 'owner', PW, { ip: '10.0.0.9' }),
        3600,
        "the owner's success does not reopen the account to new addresses"
      )
    })

    t.test('behind a trusted proxy, the forwarded address is throttled', async (t) => {
      const ta = await startAuthority(t, backend, { env: { ...THROTTLE, TRUST_PROXY: 'true' } })
      await createAccount(ta, { username: 'proxied', password: PW, kind: 'customer' })
      const proxy = '10.9.9.9'
      const from = (client: string) => ({ ip: proxy, headers: { 'x-forwarded-for': client } })
      for (let n = 1; n <= 3; n++) {
        refused(
          t,
          await attempt(ta.app, 'customer', `nobody-${n}`, 'wrong-password-1', from('203.0.113.10')),
          401,
          'invalid_credentials',
          `client 1 failure ${n}`
        )
      }
      throttled(t, await attempt(ta.app, 'customer', 'proxied', PW, from('203.0.113.10')), 60, 'client 1, 4th attempt')
      const other = await attempt(ta.app, 'customer', 'proxied', PW, from('203.0.113.11'))
      t.equal(other.statusCode, 200, 'client 2 through the same proxy has its own budget')
      const token = other.json().access_token as string
      const me = await ta.app.inject({ url: '/v1/me', headers: bearer(token) })
      const audit = await ta.app.authority.database.db
        .selectFrom('audit_events')
        .select('ip')
        .where('action', '=', 'token.login')
        .where('token_id', '=', me.json().token.id as string)
        .executeTakeFirstOrThrow()
      t.equal(audit.ip, '203.0.113.11', 'the audit row records the forwarded client address')
      t.equal(
        (await attempt(ta.app, 'customer', 'proxied', PW, { ip: proxy })).statusCode,
        200,
        'the proxy address itself is not throttled'
      )
    })

    t.test('without trust in proxies, X-Forwarded-For cannot buy a new budget', async (t) => {
      const ta = await startAuthority(t, backend, { env: THROTTLE })
      await createAccount(ta, { username: 'direct', password: PW, kind: 'customer' })
      const from = (client: string) => ({ ip: '10.8.8.8', headers: { 'x-forwarded-for': client } })
      for (let n = 1; n <= 3; n++) {
        refused(
          t,
          await attempt(ta.app, 'customer', `nobody-${n}`, 'wrong-password-1', from(`203.0.113.${n}`)),
          401,
          'invalid_credentials',
          `failure ${n}`
        )
      }
      throttled(
        t,
        await attempt(ta.app, 'customer', 'direct', PW, from('203.0.113.4')),
        60,
        'a fresh X-Forwarded-For from the same peer'
      )
      t.equal(
        (await attempt(ta.app, 'customer', 'direct', PW, { ip: '10.8.8.9' })).statusCode,
        200,
        'another peer is not affected'
      )
    })
  })
}
