import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseSetCookie } from 'cookie'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import t from 'tap'
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

/**
 * The token console's cookie session (issue 15, server side): sign-in, the CSRF rule on every
 * cookie-authenticated request, the idle timeout and lifetime, sign-out, and the static console.
 * docs/security-model.md, "Console sessions".
 */

const CONSOLE = { 'x-requested-by': 'token-console' }
const PW = 'customer-password-1'
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

type Asserts = Pick<typeof t, 'equal' | 'same' | 'match' | 'ok' | 'notOk'>

/** A browser's cookie jar for one origin: what Set-Cookie gave, minus what it expired. */
class Jar {
  readonly cookies = new Map<string, string>()
  take(res: LightMyRequestResponse): void {
    const set = res.headers['set-cookie']
    for (const line of set === undefined ? [] : Array.isArray(set) ? set : [set]) {
      const c = parseSetCookie(line)
      if (c.maxAge !== undefined && c.maxAge <= 0) this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value ?? '')
    }
  }
  get header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
  get(name: string): string | undefined {
    return this.cookies.get(name)
  }
}

/** one request as the browser sends it: the jar's cookies, then whatever the jar is told */
async function send(app: FastifyInstance, jar: Jar, opts: InjectOptions): Promise<LightMyRequestResponse> {
  const headers = { ...(jar.header !== '' ? { cookie: jar.header } : {}), ...(opts.headers ?? {}) }
  const res = await app.inject({ ...opts, headers })
  jar.take(res)
  return res
}

async function signIn(
  app: FastifyInstance,
  realm: 'admin' | 'customer',
  username: string,
  password: string,
  headers: Record<string, string> = CONSOLE
): Promise<{ res: LightMyRequestResponse; jar: Jar }> {
  const jar = new Jar()
  const res = await send(app, jar, {
    method: 'POST',
    url: '/v1/auth/session',
    headers,
    payload: { realm, username, password }
  })
  return { res, jar }
}

function refused(t: Asserts, res: LightMyRequestResponse, status: number, code: string, what: string): void {
  t.equal(res.statusCode, status, `${what}: ${status} (${res.body})`)
  t.equal(errorCode(res), code, `${what}: ${code}`)
}

async function patCount(ta: TestAuthority): Promise<number> {
  const rows = await ta.app.authority.database.db.selectFrom('tokens').select('id').where('kind', '=', 'pat').execute()
  return rows.length
}

function setCookies(res: LightMyRequestResponse): string[] {
  const set = res.headers['set-cookie']
  return set === undefined ? [] : Array.isArray(set) ? set : [set]
}

/** A console build: index.html and a hashed asset, in a folder of its own. */
function fakeConsole(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ta-console-'))
  mkdirSync(join(dir, 'assets'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Token console</title><div id="app"></div>\n')
  writeFileSync(join(dir, 'assets', 'index-3f9a1c.js'), 'document.title = "console"\n')
  writeFileSync(join(dir, '.index.html.1234'), 'a build in progress\n')
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

for (const backend of BACKEND_NAMES()) {
  t.test(`console session on ${backend}`, async (t) => {
    t.test('sign-in sets HttpOnly SameSite=Strict cookies holding a login token; the body never has it', async (t) => {
      const ta = await startAuthority(t, backend)
      const svc = await createService(ta, 'cs-svc', ['tokens:introspect'])
      const { res, jar } = await signIn(ta.app, 'admin', ADMIN.username, ADMIN.password)
      t.equal(res.statusCode, 200, res.body)
      t.equal(res.headers['cache-control'], 'no-store')
      const body = res.json()
      t.same(Object.keys(body).sort(), ['account', 'expires_at', 'idle_timeout_seconds'])
      t.same(Object.keys(body.account).sort(), ['id', 'kind', 'permissions', 'username'])
      t.equal(body.account.username, ADMIN.username)
      t.equal(body.account.kind, 'admin')
      t.equal(body.idle_timeout_seconds, 1800, 'CONSOLE_SESSION_IDLE_SECONDS default')
      const ttl = (Date.parse(body.expires_at) - Date.now()) / 1000
      t.ok(ttl > 28800 - 60 && ttl <= 28800, `expires in the session lifetime, 8 h by default (${ttl})`)
      t.notOk(/tka_/.test(res.body), 'no token value in the body')

      const cookies = setCookies(res).map((line) => parseSetCookie(line))
      t.same(cookies.map((c) => c.name).sort(), ['ta_activity', 'ta_session'])
      for (const c of cookies) {
        t.equal(c.httpOnly, true, `${c.name}: HttpOnly`)
        t.equal(c.sameSite, 'strict', `${c.name}: SameSite=Strict`)
        t.equal(c.path, '/', `${c.name}: Path=/`)
        t.equal(c.maxAge, 28800, `${c.name}: Max-Age = the session lifetime`)
        t.notOk(c.secure, `${c.name}: not Secure over plain http (the browser would drop it)`)
        t.equal(c.domain, undefined, `${c.name}: no Domain`)
      }
      const value = jar.get('ta_session')!
      t.match(value, /^tka_lgn_/, 'the session cookie holds a login token')
      const seen = await introspect(ta, svc.token, value)
      t.equal(seen.active, true)
      t.equal(seen.username, ADMIN.username)
      t.equal((seen.exp as number) - (seen.iat as number), 28800, 'its lifetime is the session lifetime')
      const row = await ta.app.authority.database.db
        .selectFrom('tokens')
        .select(['name', 'kind'])
        .where('id', '=', seen.jti as string)
        .executeTakeFirst()
      t.same(row, { name: 'console session', kind: 'lgn' }, 'named apart from API logins in token lists')
    })

    t.test(
      'over TLS (behind a trusted proxy) the cookies are __Host- and Secure, and only they are read',
      async (t) => {
        const ta = await startAuthority(t, backend, { env: { TRUST_PROXY: 'true' } })
        const tls = { 'x-forwarded-proto': 'https', host: 'console.example' }
        const { res, jar } = await signIn(ta.app, 'admin', ADMIN.username, ADMIN.password, { ...CONSOLE, ...tls })
        t.equal(res.statusCode, 200, res.body)
        const cookies = setCookies(res).map((line) => parseSetCookie(line))
        t.same(cookies.map((c) => c.name).sort(), ['__Host-ta_activity', '__Host-ta_session'])
        for (const c of cookies) {
          t.equal(c.secure, true, `${c.name}: Secure`)
          t.equal(c.path, '/', `${c.name}: Path=/`)
          t.equal(c.domain, undefined, `${c.name}: no Domain (required by the __Host- prefix)`)
        }
        const me = await send(ta.app, jar, {
          url: '/v1/me',
          headers: { ...CONSOLE, ...tls, origin: 'https://console.example', 'sec-fetch-site': 'same-origin' }
        })
        t.equal(me.statusCode, 200, me.body)
        // the same cookie values under the plain names, over plain http: not a session
        const plain = `ta_session=${jar.get('__Host-ta_session')}; ta_activity=${jar.get('__Host-ta_activity')}`
        const overHttp = await ta.app.inject({
          url: '/v1/me',
          headers: { ...CONSOLE, cookie: plain, host: 'console.example' }
        })
        t.equal(overHttp.statusCode, 200, 'the plain names over http are read as such (this is not TLS)')
        // a plain-named cookie (settable by a plain-http page of the host) is not read over TLS
        const planted = await ta.app.inject({ url: '/v1/me', headers: { ...CONSOLE, ...tls, cookie: plain } })
        refused(t, planted, 401, 'unauthorized', 'a plain-named cookie over TLS')
      }
    )

    t.test(
      'cookie + X-Requested-By works on /v1/me and /v1/tokens, refreshes the activity seal, never cached',
      async (t) => {
        const start = Math.floor(Date.now() / 1000) * 1000
        const ta = await startAuthority(t, backend, { frozen: start })
        const { jar } = await signIn(ta.app, 'admin', ADMIN.username, ADMIN.password)
        const before = jar.get('ta_activity')
        const clock = ta.clock as { advance(ms: number): void }
        clock.advance(5000)
        const me = await send(ta.app, jar, { url: '/v1/me', headers: CONSOLE })
        t.equal(me.statusCode, 200, me.body)
        t.equal(me.json().account.username, ADMIN.username)
        t.equal(me.json().token.kind, 'lgn')
        t.equal(me.headers['cache-control'], 'no-store')
        t.not(jar.get('ta_activity'), before, 'a fresh activity seal')
        t.notOk(
          setCookies(me).some((c) => c.startsWith('ta_session=')),
          'the session cookie itself is not re-sent'
        )
        const list = await send(ta.app, jar, { url: '/v1/tokens', headers: CONSOLE })
        t.equal(list.statusCode, 200, list.body)
        t.equal(list.headers['cache-control'], 'no-store')
        const created = await send(ta.app, jar, {
          method: 'POST',
          url: '/v1/tokens',
          headers: { ...CONSOLE, origin: 'http://localhost', 'sec-fetch-site': 'same-origin' },
          payload: { name: 'from the console', preset: 'read-only', password: ADMIN.password }
        })
        t.equal(created.statusCode, 201, created.body)
        t.equal(await patCount(ta), 1)
      }
    )

    t.test('the cookie without X-Requested-By is refused: 403 csrf_rejected, nothing changed', async (t) => {
      const ta = await startAuthority(t, backend)
      const { jar } = await signIn(ta.app, 'admin', ADMIN.username, ADMIN.password)
      refused(t, await send(ta.app, jar, { url: '/v1/me' }), 403, 'csrf_rejected', 'GET without the header')
      refused(
        t,
        await send(ta.app, jar, { url: '/v1/me', headers: { 'x-requested-by': 'something-else' } }),
        403,
        'csrf_rejected',
        'a wrong header value'
      )
      const post = await send(ta.app, jar, {
        method: 'POST',
        url: '/v1/tokens',
        payload: { name: 'csrf', preset: 'read-only', password: ADMIN.password }
      })
      refused(t, post, 403, 'csrf_rejected', 'POST without the header')
      t.equal(await patCount(ta), 0, 'nothing created')
      refused(t, await send(ta.app, jar, { url: '/v1/auth/session' }), 403, 'csrf_rejected', 'GET session')
      refused(
        t,
        await send(ta.app, jar, { method: 'DELETE', url: '/v1/auth/session' }),
        403,
        'csrf_rejected',
        'sign-out'
      )
      t.equal(
        (await send(ta.app, jar, { url: '/v1/me', headers: CONSOLE })).statusCode,
        200,
        'the session still stands'
      )
    })

    t.test('a cross-site Origin or Sec-Fetch-Site is refused even with the header, and changes nothing', async (t) => {
      const ta = await startAuthority(t, backend)
      const { jar } = await signIn(ta.app, 'admin', ADMIN.username, ADMIN.password)
      const own = await send(ta.app, jar, {
        method: 'POST',
        url: '/v1/tokens',
        headers: CONSOLE,
        payload: { name: 'mine', preset: 'read-only', password: ADMIN.password }
      })
      t.equal(own.statusCode, 201)
      const id = own.json().token.id as string
      const foreign: Record<string, string>[] = [
        { origin: 'https://evil.example' },
        { origin: 'http://localhost:8080' },
        { origin: 'https://localhost' },
        { origin: 'null' },
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site' },
        { origin: 'http://localhost', 'sec-fetch-site': 'cross-site' }
      ]
      for (const h of foreign) {
        const what = JSON.stringify(h)
        const post = await send(ta.app, jar, {
          method: 'POST',
          url: '/v1/tokens',
          headers: { ...CONSOLE, ...h },
          payload: { name: 'csrf', preset: 'read-only', password: ADMIN.password }
        })
        refused(t, post, 403, 'csrf_rejected', `POST /v1/tokens ${what}`)
        const del = await send(ta.app, jar, {
          method: 'DELETE',
          url: `/v1/tokens/${id}`,
          headers: { ...CONSOLE, ...h },
          payload: { password: ADMIN.password }
        })
        refused(t, del, 403, 'csrf_rejected', `DELETE /v1/tokens/{id} ${what}`)
      }
      t.equal(await patCount(ta), 1, 'nothing created')
      const still = await ta.app.inject({ url: `/v1/tokens/${id}`, headers: bearer(ta.adminToken) })
      t.equal(still.json().state, 'active', 'nothing revoked')
      const signIn2 = await signIn(ta.app, 'admin', ADMIN.username, ADMIN.password, {
        ...CONSOLE,
        origin: 'https://evil.example'
      })
      refused(t, signIn2.res, 403, 'csrf_rejected', 'a cross-site sign-in (login CSRF)')
      t.equal(signIn2.jar.cookies.size, 0, 'no cookie set')
    })

    t.test('a classic cross-site form post is refused and creates nothing', async (t) => {
      const ta = await startAuthority(t, backend)
      const { jar } = await signIn(ta.app, 'admin', ADMIN.username, ADMIN.password)
      // what <form method=post action=…/v1/tokens> on another site sends (SameSite=Strict would keep
      // the cookie at home; the rule must hold even for a browser that sends it)
      const form = 'name=csrf&preset=read-only&password=admin-password-123'
      const post = await send(ta.app, jar, {
        method: 'POST',
        url: '/v1/tokens',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
        payload: form
      })
      refused(t, post, 403, 'csrf_rejected', 'cross-site form post')
      const noOrigin = await send(ta.app, jar, {
        method: 'POST',
        url: '/v1/tokens',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form
      })
      refused(t, noOrigin, 403, 'csrf_rejected', 'form post without Origin (an old browser)')
      const textPlain = await send(ta.app, jar, {
        method: 'POST',
        url: '/v1/tokens',
        headers: { 'content-type': 'text/plain' },
        payload: JSON.stringify({ name: 'csrf', preset: 'read-only', password: ADMIN.password })
      })
      refused(t, textPlain, 403, 'csrf_rejected', 'JSON smuggled as text/plain (a no-preflight fetch)')
      const formSignIn = await ta.app.inject({
        method: 'POST',
        url: '/v1/auth/session',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `realm=admin&username=${ADMIN.username}&password=${ADMIN.password}`
      })
      t.equal(formSignIn.statusCode, 415, 'a form cannot sign in either')
      t.equal(setCookies(formSignIn).length, 0)
      t.equal(await patCount(ta), 0, 'nothing created')
    })

    t.test('sign-out revokes the session token (introspects inactive) and clears the cookies', async (t) => {
      const ta = await startAuthority(t, backend)
      const svc = await createService(ta, 'cs-svc', ['tokens:introspect'])
      const { jar } = await signIn(ta.app, 'admin', ADMIN.username, ADMIN.password)
      const value = jar.get('ta_session')!
      const stale = jar.header
      const out = await send(ta.app, jar, { method: 'DELETE', url: '/v1/auth/session', headers: CONSOLE })
      t.equal(out.statusCode, 204, out.body)
      t.equal(out.headers['cache-control'], 'no-store')
      const cleared = setCookies(out).map((l) => parseSetCookie(l))
      t.same(cleared.map((c) => [c.name, c.value, c.maxAge]).sort(), [
        ['ta_activity', '', 0],
        ['ta_session', '', 0]
      ])
      t.equal(jar.cookies.size, 0, 'the browser drops both')
      t.equal((await introspect(ta, svc.token, value)).active, false, 'the session token is inactive')
      // a copy of the cookies taken before sign-out is worth nothing
      const replay = await ta.app.inject({ url: '/v1/me', headers: { ...CONSOLE, cookie: stale } })
      refused(t, replay, 401, 'session_expired', 'the old cookies after sign-out')
      const again = await ta.app.inject({ method: 'DELETE', url: '/v1/auth/session', headers: CONSOLE })
      t.equal(again.statusCode, 204, 'signing out without a session is fine')
    })

    t.test('no cookie: GET /v1/auth/session is 401 unauthorized', async (t) => {
      const ta = await startAuthority(t, backend)
      refused(t, await ta.app.inject({ url: '/v1/auth/session', headers: CONSOLE }), 401, 'unauthorized', 'no cookie')
      refused(t, await ta.app.inject({ url: '/v1/me', headers: CONSOLE }), 401, 'unauthorized', '/v1/me, no cookie')
    })

    t.test('an idle session ends: 401 session_expired, cookies cleared, token revoked', async (t) => {
      const start = Math.floor(Date.now() / 1000) * 1000
      const ta = await startAuthority(t, backend, { frozen: start, env: { CONSOLE_SESSION_IDLE_SECONDS: '60' } })
      const clock = ta.clock as { advance(ms: number): void }
      const svc = await createService(ta, 'cs-svc', ['tokens:introspect'])
      const { res, jar } = await signIn(ta.app, 'admin', ADMIN.username, ADMIN.password)
      t.equal(res.json().idle_timeout_seconds, 60)
      const value = jar.get('ta_session')!
      // activity keeps it alive well past one idle period
      for (let i = 0; i < 5; i++) {
        clock.advance(50_000)
        const me = await send(ta.app, jar, { url: '/v1/me', headers: CONSOLE })
        t.equal(me.statusCode, 200, `active at ${(i + 1) * 50} s`)
      }
      clock.advance(61_000)
      const idle = await send(ta.app, jar, { url: '/v1/auth/session', headers: CONSOLE })
      refused(t, idle, 401, 'session_expired', 'idle past the timeout')
      t.equal(jar.cookies.size, 0, 'the cookies are cleared')
      t.equal((await introspect(ta, svc.token, value)).active, false, 'the idle session token is revoked')
      const row = await ta.app.authority.database.db
        .selectFrom('tokens')
        .select(['revoked_reason'])
        .where('kind', '=', 'lgn')
        .where('revoked_at', 'is not', null)
        .execute()
      t.same(
        row.map((r) => r.revoked_reason),
        ['session_idle']
      )
    })

    t.test('the lifetime ends a session however active: 401 session_expired', async (t) => {
      const start = Math.floor(Date.now() / 1000) * 1000
      const ta = await startAuthority(t, backend, {
        frozen: start,
        env: { CONSOLE_SESSION_TTL_SECONDS: '120', CONSOLE_SESSION_IDLE_SECONDS: '60' }
      })
      const clock = ta.clock as { advance(ms: number): void }
      const { res, jar } = await signIn(ta.app, 'customer', ADMIN.username, ADMIN.password)
      refused(t, res, 401, 'invalid_credentials', 'the admin in the customer realm (same rule as login)')
      await createAccount(ta, { username: 'carol', password: PW, kind: 'customer' })
      const carol = await signIn(ta.app, 'customer', 'carol', PW)
      t.equal(carol.res.statusCode, 200)
      t.equal(Date.parse(carol.res.json().expires_at), start + 120_000)
      t.equal(parseSetCookie(setCookies(carol.res)[0]!).maxAge, 120)
      clock.advance(50_000)
      t.equal((await send(ta.app, carol.jar, { url: '/v1/me', headers: CONSOLE })).statusCode, 200)
      clock.advance(50_000)
      const late = await send(ta.app, carol.jar, { url: '/v1/me', headers: CONSOLE })
      t.equal(late.statusCode, 200)
      const left = parseSetCookie(setCookies(late).find((c) => c.startsWith('ta_activity='))!).maxAge
      t.equal(left, 20, 'the refreshed seal lives only as long as the session')
      clock.advance(21_000)
      const expired = await send(ta.app, carol.jar, { url: '/v1/tokens', headers: CONSOLE })
      refused(t, expired, 401, 'session_expired', 'past the lifetime')
      t.equal(carol.jar.cookies.size, 0, 'the cookies are cleared')
      t.equal(jar.cookies.size, 0)
    })

    t.test('a missing, forged or foreign activity cookie is refused and ends the session', async (t) => {
      const ta = await startAuthority(t, backend)
      const svc = await createService(ta, 'cs-svc', ['tokens:introspect'])
      const cases: [string, (jar: Jar, other: Jar) => string][] = [
        ['missing', (jar) => `ta_session=${jar.get('ta_session')}`],
        [
          'time moved later (MAC unchanged)',
          (jar) => {
            const [v, at, mac] = jar.get('ta_activity')!.split('.')
            return `ta_session=${jar.get('ta_session')}; ta_activity=${v}.${Number(at) + 600}.${mac}`
          }
        ],
        [
          'MAC altered',
          (jar) => {
            const a = jar.get('ta_activity')!
            const flipped = a.slice(0, -2) + (a.endsWith('AA') ? 'BB' : 'AA')
            return `ta_session=${jar.get('ta_session')}; ta_activity=${flipped}`
          }
        ],
        ['garbage', (jar) => `ta_session=${jar.get('ta_session')}; ta_activity=v1.x.y`],
        [
          "another session's seal",
          (jar, other) => `ta_session=${jar.get('ta_session')}; ta_activity=${other.get('ta_activity')}`
        ]
      ]
      for (const [what, forge] of cases) {
        const { jar } = await signIn(ta.app, 'admin', ADMIN.username, ADMIN.password)
        const other = (await signIn(ta.app, 'admin', ADMIN.username, ADMIN.password)).jar
        const res = await ta.app.inject({ url: '/v1/me', headers: { ...CONSOLE, cookie: forge(jar, other) } })
        refused(t, res, 401, 'session_expired', what)
        t.equal(
          (await introspect(ta, svc.token, jar.get('ta_session')!)).active,
          false,
          `${what}: the session token is revoked`
        )
        t.equal((await introspect(ta, svc.token, other.get('ta_session')!)).active, true, `${what}: the other stands`)
      }
    })

    t.test('only a login token is a session: a PAT or a forged value in the cookie is refused', async (t) => {
      const ta = await startAuthority(t, backend)
      const pat = await ta.app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: 'a pat', preset: 'read-only', password: ADMIN.password }
      })
      const value = pat.json().access_token as string
      const { jar } = await signIn(ta.app, 'admin', ADMIN.username, ADMIN.password)
      for (const [what, cookie] of [
        ['a PAT', `ta_session=${value}; ta_activity=${jar.get('ta_activity')}`],
        ['a forged value', `ta_session=tka_lgn_${'A'.repeat(132)}; ta_activity=${jar.get('ta_activity')}`]
      ] as const) {
        const res = await ta.app.inject({ url: '/v1/me', headers: { ...CONSOLE, cookie } })
        refused(t, res, 401, 'session_expired', what)
      }
      const still = await ta.app.inject({ url: '/v1/me', headers: bearer(value) })
      t.equal(still.statusCode, 200, 'the PAT itself is untouched')
    })

    t.test('a wrong password gets the login answer and shares the login throttle', async (t) => {
      const ta = await startAuthority(t, backend, {
        env: { LOGIN_ACCOUNT_FAILURES_PER_HOUR: '5', LOGIN_IP_FAILURES: '3', LOGIN_IP_WINDOW_SECONDS: '60' }
      })
      await createAccount(ta, { username: 'carol', password: PW, kind: 'customer' })
      const viaToken = await ta.app.inject({
        method: 'POST',
        url: '/v1/auth/customer/token',
        payload: { username: 'carol', password: 'wrong-password-1' },
        remoteAddress: '10.0.0.9'
      })
      const viaSession = await ta.app.inject({
        method: 'POST',
        url: '/v1/auth/session',
        headers: CONSOLE,
        payload: { realm: 'customer', username: 'carol', password: 'wrong-password-2' },
        remoteAddress: '10.0.0.9'
      })
      refused(t, viaSession, 401, 'invalid_credentials', 'wrong password')
      t.equal(viaSession.json().message, viaToken.json().message, 'the same message as the login route')
      t.equal(setCookies(viaSession).length, 0, 'no cookie')
      const unknown = await ta.app.inject({
        method: 'POST',
        url: '/v1/auth/session',
        payload: { realm: 'customer', username: 'nobody-here', password: 'x' },
        remoteAddress: '10.0.0.9'
      })
      refused(t, unknown, 401, 'invalid_credentials', 'unknown user')
      // three failures from 10.0.0.9 across both routes spend its address budget
      const fourth = await ta.app.inject({
        method: 'POST',
        url: '/v1/auth/session',
        payload: { realm: 'customer', username: 'carol', password: PW },
        remoteAddress: '10.0.0.9'
      })
      refused(t, fourth, 429, 'too_many_requests', 'throttled after the shared budget is spent')
      t.ok(Number(fourth.headers['retry-after']) >= 1, 'Retry-After')
      const other = await ta.app.inject({
        method: 'POST',
        url: '/v1/auth/customer/token',
        payload: { username: 'carol', password: PW },
        remoteAddress: '10.0.0.9'
      })
      refused(t, other, 429, 'too_many_requests', 'the login route sees the same budget')
      const bad = await ta.app.inject({
        method: 'POST',
        url: '/v1/auth/session',
        payload: { realm: 'service', username: 'carol', password: PW }
      })
      refused(t, bad, 400, 'validation_failed', 'a realm other than admin or customer')
    })

    t.test('Bearer clients are unaffected: the header always wins over the cookie', async (t) => {
      const ta = await startAuthority(t, backend)
      await createAccount(ta, { username: 'carol', password: PW, kind: 'customer' })
      const carol = await signIn(ta.app, 'customer', 'carol', PW)
      // no X-Requested-By, a foreign Origin, a session cookie of someone else: the Bearer decides
      const res = await ta.app.inject({
        url: '/v1/me',
        headers: {
          ...bearer(ta.adminToken),
          cookie: carol.jar.header,
          origin: 'https://evil.example',
          'sec-fetch-site': 'cross-site'
        }
      })
      t.equal(res.statusCode, 200, res.body)
      t.equal(res.json().account.username, ADMIN.username, "the Bearer token's account, not the cookie's")
      t.equal(res.headers['cache-control'], 'no-store', 'authenticated answers are not cached')
      t.equal(res.headers['set-cookie'], undefined, 'the cookie is not touched')
      const bad = await ta.app.inject({
        url: '/v1/me',
        headers: { ...bearer('nope'), cookie: carol.jar.header, ...CONSOLE }
      })
      refused(t, bad, 401, 'invalid_token', 'a bad Bearer token does not fall back to the cookie')
      const basic = await ta.app.inject({
        url: '/v1/me',
        headers: { authorization: 'Basic Y2Fyb2w6eA==', cookie: carol.jar.header, ...CONSOLE }
      })
      refused(t, basic, 400, 'invalid_request', 'Basic is not a fallback to the cookie either')
      const plain = await ta.app.inject({ url: '/v1/tokens', headers: bearer(ta.adminToken) })
      t.equal(plain.statusCode, 200)
      t.equal(plain.headers['cache-control'], 'no-store')
    })

    t.test('/introspect and /revoke never accept the cookie', async (t) => {
      const ta = await startAuthority(t, backend)
      const svc = await createService(ta, 'cs-svc', ['tokens:introspect', 'tokens:revoke'])
      const { jar } = await signIn(ta.app, 'admin', ADMIN.username, ADMIN.password)
      for (const url of ['/introspect', '/revoke']) {
        const res = await ta.app.inject({
          method: 'POST',
          url,
          headers: { ...CONSOLE, cookie: jar.header },
          payload: { token: ta.adminToken }
        })
        refused(t, res, 401, 'unauthorized', `${url} with the console cookie only`)
      }
      t.equal((await introspect(ta, svc.token, ta.adminToken)).active, true, 'nothing revoked')
    })

    t.test('GET / redirects to the console; the console has its headers and client-side routes', async (t) => {
      const dir = fakeConsole(t)
      const ta = await startAuthority(t, backend, { env: { CONSOLE_DIR: dir } })
      const root = await ta.app.inject({ url: '/' })
      t.equal(root.statusCode, 302)
      t.equal(root.headers.location, '/console/')
      const bare = await ta.app.inject({ url: '/console' })
      t.equal(bare.statusCode, 302)
      t.equal(bare.headers.location, '/console/')
      for (const url of ['/console/', '/console/tokens', '/console/accounts/3f1c9a52/tokens']) {
        const res = await ta.app.inject({ url })
        t.equal(res.statusCode, 200, url)
        t.match(res.headers['content-type'], /^text\/html/, `${url}: html`)
        t.match(res.body, /Token console/, `${url}: index.html`)
        t.equal(res.headers['content-security-policy'], CSP, `${url}: CSP`)
        t.equal(res.headers['x-content-type-options'], 'nosniff', `${url}: nosniff`)
        t.equal(res.headers['referrer-policy'], 'no-referrer', `${url}: Referrer-Policy`)
        t.equal(res.headers['x-frame-options'], 'DENY', `${url}: X-Frame-Options`)
        t.equal(res.headers['cache-control'], 'no-cache', `${url}: revalidated, so a new build is seen at once`)
      }
      t.notOk(CSP.includes('unsafe-inline'), 'no unsafe-inline')
      t.notOk(CSP.includes('upgrade-insecure-requests'), 'works over plain http')
      const asset = await ta.app.inject({ url: '/console/assets/index-3f9a1c.js' })
      t.equal(asset.statusCode, 200)
      t.match(asset.headers['content-type'], /javascript/)
      t.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable', 'hashed assets cached for good')
      t.equal(asset.headers['content-security-policy'], CSP)
      const missing = await ta.app.inject({ url: '/console/assets/gone-123.js' })
      refused(t, missing, 404, 'not_found', 'a missing asset is a 404, not index.html')
      t.equal(missing.headers['x-content-type-options'], 'nosniff')
      for (const url of ['/console/../package.json', '/console/%2e%2e/package.json', '/console/..%2fpackage.json']) {
        const res = await ta.app.inject({ url })
        t.notOk(res.body.includes('"token-authority"'), `${url}: nothing outside the console folder`)
      }
      const dot = await ta.app.inject({ url: '/console/.index.html.1234' })
      refused(t, dot, 404, 'not_found', 'dot files are not served')
      t.notOk(dot.body.includes('build in progress'))
      const post = await ta.app.inject({ method: 'POST', url: '/console/tokens' })
      t.equal(post.statusCode, 404, 'only GET and HEAD serve the console')
    })

    t.test('a missing console build answers 404 saying to run npm run build', async (t) => {
      const ta = await startAuthority(t, backend, { env: { CONSOLE_DIR: join(tmpdir(), 'ta-console-not-built-here') } })
      for (const url of ['/console/', '/console/tokens', '/console/assets/index.js']) {
        const res = await ta.app.inject({ url })
        refused(t, res, 404, 'not_found', url)
        t.match(res.json().message, /npm run build/, `${url}: says how to build it`)
      }
      t.equal((await ta.app.inject({ url: '/' })).statusCode, 302, 'GET / still redirects')
      t.equal((await ta.app.inject({ url: '/healthz' })).statusCode, 200, 'the API is unaffected')
    })
  })
}
