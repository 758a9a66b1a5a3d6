// Input means what it says (issue 12 §5), on both backends: JSON bodies are not coerced, the token
// lifetime policy, plain text in names and descriptions, and no token-shaped value from a URL in a
// log line or an error body.
import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { BACKEND_NAMES } from '../support/backends.js'
import {
  ADMIN,
  bearer,
  createAccount,
  createService,
  errorCode,
  introspect,
  login,
  startAuthority,
  type TestAuthority
} from '../support/authority.js'

const PW = 'customer-password-1'
const DAY = 86400_000

function post(
  ta: TestAuthority,
  url: string,
  token: string,
  payload: unknown,
  method: 'POST' | 'PATCH' = 'POST'
): Promise<LightMyRequestResponse> {
  return ta.app.inject({
    method,
    url,
    headers: { ...bearer(token), 'content-type': 'application/json' },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload)
  })
}

async function tokenCount(ta: TestAuthority): Promise<number> {
  const r = await ta.app.authority.database.db
    .selectFrom('tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(r.n)
}

for (const name of BACKEND_NAMES()) {
  t.test(`input rules on ${name}`, async (t) => {
    const ta = await startAuthority(t, name)
    const carolId = await createAccount(ta, {
      username: 'carol',
      password: PW,
      kind: 'customer',
      permissions: ['tokens:read', 'tokens:write']
    })
    // the first subtest disables carol (ending her sessions): later ones log in again
    let carol = await login(ta.app, 'customer', 'carol', PW)
    const create = (body: Record<string, unknown> | string) =>
      post(
        ta,
        '/v1/tokens',
        carol,
        typeof body === 'string' ? body : { password: PW, scopes: ['tokens:read'], ...body }
      )

    t.test('JSON bodies are not coerced', async (t) => {
      const off = await post(
        ta,
        `/v1/accounts/${carolId}`,
        ta.adminToken,
        { disabled: true, current_password: ADMIN.password },
        'PATCH'
      )
      t.equal(off.statusCode, 200)
      for (const disabled of [null, 'false', 0, '']) {
        const res = await post(
          ta,
          `/v1/accounts/${carolId}`,
          ta.adminToken,
          { disabled, current_password: ADMIN.password },
          'PATCH'
        )
        t.equal(res.statusCode, 400, `disabled: ${JSON.stringify(disabled)} is refused`)
        t.equal(errorCode(res), 'validation_failed')
      }
      const still = await ta.app.inject({ url: `/v1/accounts/${carolId}`, headers: bearer(ta.adminToken) })
      t.equal((still.json() as { disabled: boolean }).disabled, true, 'and the account stays disabled')
      const on = await post(
        ta,
        `/v1/accounts/${carolId}`,
        ta.adminToken,
        { disabled: false, current_password: ADMIN.password },
        'PATCH'
      )
      t.equal(on.statusCode, 200)
      const again = await login(ta.app, 'customer', 'carol', PW)
      carol = again

      const before = await tokenCount(ta)
      for (const body of [
        { name: 'x', expires_at: '' },
        { name: 'x', expires_at: 0 },
        { name: 42 },
        { name: 'x', scopes: 'tokens:read' },
        { name: ['x'] }
      ]) {
        const res = await post(ta, '/v1/tokens', again, { password: PW, scopes: ['tokens:read'], ...body })
        t.equal(res.statusCode, 400, `${JSON.stringify(body)} is refused (${res.body})`)
      }
      t.equal(await tokenCount(ta), before, 'no token was created')
      // query strings keep their coercion: they are text
      const list = await ta.app.inject({ url: '/v1/tokens?limit=2', headers: bearer(again) })
      t.equal(list.statusCode, 200)
    })

    t.test('lifetime policy: a default, a maximum, never only without one', async (t) => {
      const s = await login(ta.app, 'customer', 'carol', PW)
      const policy = await ta.app.inject({ url: '/v1/scopes', headers: bearer(s) })
      t.same(
        (policy.json() as { lifetime: unknown }).lifetime,
        { default_days: 90, max_days: 365 },
        'the policy is published with the catalogue (what the console offers)'
      )
      const none = await post(ta, '/v1/tokens', s, { name: 'default', scopes: ['tokens:read'], password: PW })
      t.equal(none.statusCode, 201)
      const tok = (none.json() as { token: { id: string; created_at: string; expires_at: string } }).token
      const days = (Date.parse(tok.expires_at) - Date.parse(tok.created_at)) / DAY
      t.ok(days > 89.99 && days <= 90, `no expires_at: 90 days (${days})`)
      const never = await post(ta, '/v1/tokens', s, {
        name: 'never',
        scopes: ['tokens:read'],
        password: PW,
        expires_at: null
      })
      t.equal(never.statusCode, 400)
      t.equal(errorCode(never), 'invalid_expiry')
      t.match((never.json() as { message: string }).message, /365 days/)
      const far = new Date(Date.now() + 366 * DAY).toISOString()
      const tooLong = await post(ta, '/v1/tokens', s, {
        name: 'far',
        scopes: ['tokens:read'],
        password: PW,
        expires_at: far
      })
      t.equal(tooLong.statusCode, 400)
      t.match((tooLong.json() as { message: string }).message, /maximum lifetime of 365 days/)
      const fine = new Date(Date.now() + 300 * DAY).toISOString()
      t.equal(
        (await post(ta, '/v1/tokens', s, { name: 'fine', scopes: ['tokens:read'], password: PW, expires_at: fine }))
          .statusCode,
        201
      )
      for (const path of ['regenerate', 'copy']) {
        const res = await post(ta, `/v1/tokens/${tok.id}/${path}`, s, { password: PW, expires_at: far })
        t.equal(res.statusCode, 400, `${path} past the maximum`)
        t.equal(errorCode(res), 'invalid_expiry')
      }
      const svcId = await createAccount(ta, {
        username: 'svc-policy',
        password: PW,
        kind: 'service',
        permissions: ['tokens:introspect']
      })
      const svc = await post(ta, `/v1/accounts/${svcId}/tokens`, ta.adminToken, {
        name: 'svc',
        scopes: ['tokens:introspect'],
        password: ADMIN.password,
        expires_at: null
      })
      t.equal(svc.statusCode, 400, 'service tokens follow the policy too')
    })

    t.test('without a maximum, "never" is allowed', async (t) => {
      const open = await startAuthority(t, name, { env: { TOKEN_MAX_LIFETIME_DAYS: '0' } })
      const policy = await open.app.inject({ url: '/v1/scopes', headers: bearer(open.adminToken) })
      t.same(
        (policy.json() as { lifetime: unknown }).lifetime,
        { default_days: 90, max_days: null },
        'no maximum: null'
      )
      const res = await post(open, '/v1/tokens', open.adminToken, {
        name: 'forever',
        scopes: ['tokens:read'],
        password: ADMIN.password,
        expires_at: null
      })
      t.equal(res.statusCode, 201, res.body)
      t.equal((res.json() as { token: { expires_at: null } }).token.expires_at, null)
      // the operator then sets a maximum (the default 365 days): what exists is not cut short
      const capped = await startAuthority(t, name, { backend: open.backend })
      t.equal(capped.config.TOKEN_MAX_LIFETIME_DAYS, 365)
      const checker = await createService(capped, 'lifetime-checker', ['tokens:introspect'])
      const info = await introspect(capped, checker.token, (res.json() as { access_token: string }).access_token)
      t.equal(info.active, true, 'a never-expiring token keeps working under a maximum set later')
      t.notOk('exp' in info, 'and still has no expiry')
      const renamed = await post(
        capped,
        `/v1/tokens/${(res.json() as { token: { id: string } }).token.id}`,
        capped.adminToken,
        { name: 'forever, renamed', password: ADMIN.password },
        'PATCH'
      )
      t.equal(renamed.statusCode, 200, renamed.body)
      t.equal(
        (renamed.json() as { expires_at: null }).expires_at,
        null,
        'an edit that does not touch the expiry keeps it'
      )
    })

    t.test('names and descriptions are plain text, stored exactly as echoed', async (t) => {
      const refused: [string, string][] = [
        ['NUL', 'a\u0000b'],
        ['newline', 'a\nb'],
        ['tab', 'a\tb'],
        ['C1 NEL', 'a\u0085b'],
        ['right-to-left override', 'invoice\u202Egpj.exe'],
        ['isolate', 'a\u2066b\u2069'],
        ['line separator', 'a\u2028b'],
        ['paragraph separator', 'a\u2029b'],
        ['zero-width only', '\u200b\u200b'],
        ['spaces only', '   '],
        ['word joiner only', '\u2060']
      ]
      const before = await tokenCount(ta)
      for (const [what, value] of refused) {
        const res = await create({ name: value })
        t.equal(res.statusCode, 400, `name with ${what} is refused`)
        if (what !== 'zero-width only' && what !== 'spaces only' && what !== 'word joiner only') {
          t.equal(
            (await create({ name: 'ok', description: value })).statusCode,
            400,
            `description with ${what} is refused`
          )
        }
      }
      // a lone surrogate can only be sent as a JSON escape
      const lone = await create(`{"name":"a\\ud800b","scopes":["tokens:read"],"password":"${PW}"}`)
      t.equal(lone.statusCode, 400, 'a lone surrogate is refused')
      t.equal(await tokenCount(ta), before, 'nothing was stored')

      for (const value of ['Déjà vu', '日本語のトークン', 'deploy 👩‍💻 bot', 'שלום', 'x']) {
        const res = await create({ name: value, description: `about ${value}` })
        t.equal(res.statusCode, 201, `"${value}" is accepted`)
        const id = (res.json() as { token: { id: string; name: string } }).token.id
        t.equal((res.json() as { token: { name: string } }).token.name, value)
        const got = (await ta.app.inject({ url: `/v1/tokens/${id}`, headers: bearer(carol) })).json() as {
          name: string
          description: string
        }
        t.equal(got.name, value, 'read back exactly')
        t.equal(got.description, `about ${value}`)
      }
    })

    t.test('a token-shaped value in a URL is never logged or echoed', async (t) => {
      const value = (await create({ name: 'leaky' })).json() as { access_token: string }
      const secret = value.access_token
      const urls = [
        `/v1/nowhere/${secret}`,
        `/v1/tokens/${secret}`,
        `/v1/nowhere?access_token=${secret}`,
        `/${secret}`,
        `/v1/tokens/${encodeURIComponent(secret)}x`
      ]
      for (const url of urls) {
        const res = await ta.app.inject({ url, headers: bearer(carol) })
        t.ok(res.statusCode === 404 || res.statusCode === 400, `${res.statusCode} for a token in the URL`)
        t.notOk(res.body.includes(secret), 'not in the error body')
        t.notOk(res.body.includes(secret.slice(8, 60)), 'no part of it either')
      }
      t.notOk(
        ta.logs.some((line) => line.includes(secret.slice(8, 60))),
        'never in a log line'
      )
    })
  })

  t.test(`log injection on ${name}`, async (t) => {
    // (moved from the former adversarial.test.ts, same settings: no password confirmation, so each
    // refusal below is the input rule's, not a missing password's)
    const ta = await startAuthority(t, name, {
      env: { INTROSPECT_UNKNOWN_PER_MINUTE: '20', REQUIRE_PASSWORD_CONFIRMATION: 'false', DB_QUERY_TIMEOUT_MS: '30000' }
    })
    const { app } = ta

    t.test('log injection: control characters never forge a log line', async (t) => {
      const evil = 'x\r\n{"level":50,"msg":"forged"}\u001b[31m'
      const badAccount = await app.inject({
        method: 'POST',
        url: '/v1/accounts',
        headers: bearer(ta.adminToken),
        payload: { username: evil, password: 'long-enough-password', kind: 'customer' }
      })
      t.equal(badAccount.statusCode, 400, 'control characters in a username are refused')
      await app.inject({ method: 'POST', url: '/v1/auth/customer/token', payload: { username: evil, password: evil } })
      const badName = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: evil, scopes: ['tokens:read'] }
      })
      t.equal(badName.statusCode, 400, 'control characters in a token name are refused')
      const desc = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: 'ok', description: 'line one\nline two', scopes: ['tokens:read'] }
      })
      t.equal(desc.statusCode, 400, 'a newline in a description is refused (a C0 control: issue 12 §5)')
      await app.inject({
        url: `/v1/me?x=${encodeURIComponent(evil)}`,
        headers: { authorization: `Bearer ${evil}`, 'x-request-id': evil }
      })
      for (const line of ta.logs) {
        const parsed = JSON.parse(line) as { msg?: string }
        if (parsed.msg === 'forged') t.fail('a forged log line')
      }
      t.ok(
        ta.logs.every((l) => !l.includes('\n') && !l.includes('\r')),
        `${ta.logs.length} log lines, each one JSON line`
      )
    })
  })
}
