import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import {
  bearer,
  createService,
  dbReads,
  errorCode,
  login,
  startAuthority,
  type TestAuthority
} from '../support/authority.js'
import { BACKEND_NAMES } from '../support/backends.js'
import { basic, frozenOf, PW, rfcFixture } from '../support/rfc.js'

/**
 * RFC 8693 token exchange at `POST /token`: a PAT or service token → a short-lived (`xch`),
 * narrower, audience-bound token that introspects with `aud` and `act` and dies with its subject
 * token; errors as RFC 8693 §2.2.2 / RFC 6749 §5.2 with `Cache-Control: no-store`.
 */

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
const ACCESS = 'urn:ietf:params:oauth:token-type:access_token'

function exchange(
  ta: TestAuthority,
  params: Record<string, string | string[]>,
  headers: Record<string, string> = {}
): Promise<LightMyRequestResponse> {
  const form = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) form.append(k, one)
  return ta.app.inject({
    method: 'POST',
    url: '/token',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    payload: form.toString()
  })
}

type Tap = Pick<typeof t, 'equal' | 'match' | 'strictSame'>

/** RFC 6749 §5.2: exactly `error` and `error_description`, the status, and never cached. */
function assertOAuthError(t: Tap, res: LightMyRequestResponse, status: number, error: string, label: string): void {
  t.equal(res.statusCode, status, `${label}: ${status}`)
  t.match(String(res.headers['content-type']), /^application\/json/, `${label}: JSON`)
  const body = res.json() as Record<string, unknown>
  t.strictSame(Object.keys(body).sort(), ['error', 'error_description'], `${label}: RFC 6749 §5.2 keys`)
  t.equal(body.error, error, `${label}: error ${error}`)
  t.equal(res.headers['cache-control'], 'no-store', `${label}: Cache-Control no-store`)
}

for (const backend of BACKEND_NAMES()) {
  t.test(`RFC 8693 POST /token on ${backend}`, async (t) => {
    const fx = await rfcFixture(t, backend)
    const { ta, app, verifier, carolId, makePat, introJson, intro } = fx
    const clock = frozenOf(ta)
    const base = (subject: string, extra: Record<string, string | string[]> = {}) => ({
      grant_type: GRANT,
      subject_token: subject,
      subject_token_type: ACCESS,
      audience: 'orders-api',
      ...extra
    })

    t.test('a PAT is exchanged for a short-lived, narrower, audience-bound token with act', async (t) => {
      const pat = await makePat({ name: 'subject', scopes: ['tokens:read', 'tokens:write'] })
      const res = await exchange(ta, base(pat.value, { scope: 'tokens:read' }))
      t.equal(res.statusCode, 200, res.body)
      t.equal(res.headers['cache-control'], 'no-store')
      const body = res.json()
      t.strictSame(Object.keys(body).sort(), ['access_token', 'expires_in', 'issued_token_type', 'scope', 'token_type'])
      t.equal(body.issued_token_type, ACCESS)
      t.equal(body.token_type, 'Bearer')
      t.equal(body.expires_in, 300, 'TOKEN_EXCHANGE_TTL_SECONDS default')
      t.equal(body.scope, 'tokens:read')
      t.match(body.access_token, /^tka_xch_[A-Za-z0-9_-]{132}$/)
      const info = await introJson(body.access_token)
      t.equal(info.active, true)
      t.equal(info.scope, 'tokens:read')
      t.equal(info.token_kind, 'xch')
      t.strictSame(info.aud, ['orders-api'])
      t.strictSame(info.act, { sub: carolId, token_id: pat.id })
      t.equal(info.sub, carolId)
      t.equal(info.exp, Math.floor(clock.now() / 1000) + 300)
      // the subject's own introspection carries neither
      const subj = await introJson(pat.value)
      t.equal(subj.aud, undefined)
      t.equal(subj.act, undefined)
    })

    t.test('without scope the subject token’s effective scopes are granted; several audiences', async (t) => {
      const pat = await makePat({ name: 'all scopes', scopes: ['tokens:read', 'tokens:write'] })
      const res = await exchange(
        ta,
        base(pat.value, { audience: ['orders-api', 'billing'], resource: 'https://x.example/' })
      )
      t.equal(res.statusCode, 200, res.body)
      t.equal(res.json().scope, 'tokens:read tokens:write')
      t.strictSame((await introJson(res.json().access_token)).aud, ['orders-api', 'billing', 'https://x.example/'])
    })

    t.test('a service token can be exchanged; its lifetime never passes the subject’s', async (t) => {
      const svc = await createService(ta, 'exchanger', ['tokens:introspect'])
      const res = await exchange(ta, base(svc.token))
      t.equal(res.statusCode, 200, res.body)
      const short = await makePat({
        name: 'short',
        scopes: ['tokens:read'],
        expires_at: new Date(clock.now() + 100_000).toISOString()
      })
      const capped = await exchange(ta, base(short.value))
      t.equal(capped.json().expires_in, 100, 'capped by the subject token’s expiry')
    })

    t.test('client authentication is optional; when given it must be valid and the subject’s', async (t) => {
      const pat = await makePat({ name: 'client auth', scopes: ['tokens:read'] })
      const ok = await exchange(ta, base(pat.value), { authorization: basic('carol', pat.value) })
      t.equal(ok.statusCode, 200, 'HTTP Basic with the account and one of its tokens')
      const post = await exchange(ta, base(pat.value, { client_id: 'carol', client_secret: pat.value }))
      t.equal(post.statusCode, 200, 'client_secret_post')
      const bad = await exchange(ta, base(pat.value), { authorization: basic('carol', 'not-a-token') })
      assertOAuthError(t, bad, 401, 'invalid_client', 'a wrong client secret')
      t.match(String(bad.headers['www-authenticate']), /^Basic realm=/)
      const other = await exchange(ta, base(pat.value), { authorization: basic('verifier', verifier.token) })
      assertOAuthError(t, other, 400, 'invalid_request', 'a client that is not the subject token’s account')
      const bearerAuth = await exchange(ta, base(pat.value), bearer(pat.value))
      assertOAuthError(t, bearerAuth, 401, 'invalid_client', 'a Bearer header is not client authentication')
    })

    t.test('errors are RFC 8693 §2.2.2 / RFC 6749 §5.2, and change nothing', async (t) => {
      const pat = await makePat({ name: 'errors', scopes: ['tokens:read'] })
      const revoked = await makePat({ name: 'revoked', scopes: ['tokens:read'] })
      await app.inject({
        method: 'DELETE',
        url: `/v1/tokens/${revoked.id}`,
        headers: bearer(fx.session),
        payload: { password: PW }
      })
      const loginToken = await login(app, 'customer', 'carol', PW)
      const exchanged = (await exchange(ta, base(pat.value))).json().access_token as string
      const forged = `${pat.value.slice(0, -4)}AAAA`
      const cases: [string, Record<string, string | string[]>, number, string][] = [
        [
          'no grant_type',
          { subject_token: pat.value, subject_token_type: ACCESS, audience: 'a' },
          400,
          'invalid_request'
        ],
        ['another grant_type', base(pat.value, { grant_type: 'client_credentials' }), 400, 'unsupported_grant_type'],
        ['grant_type twice', base(pat.value, { grant_type: [GRANT, GRANT] }), 400, 'invalid_request'],
        ['no subject_token', { grant_type: GRANT, subject_token_type: ACCESS, audience: 'a' }, 400, 'invalid_request'],
        [
          'no subject_token_type',
          { grant_type: GRANT, subject_token: pat.value, audience: 'a' },
          400,
          'invalid_request'
        ],
        [
          'a subject_token_type other than access_token',
          base(pat.value, { subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' }),
          400,
          'invalid_request'
        ],
        [
          'a requested_token_type other than access_token',
          base(pat.value, { requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }),
          400,
          'invalid_request'
        ],
        [
          'an actor_token',
          base(pat.value, { actor_token: pat.value, actor_token_type: ACCESS }),
          400,
          'invalid_request'
        ],
        ['a forged subject token', base(forged), 400, 'invalid_request'],
        ['a revoked subject token', base(revoked.value), 400, 'invalid_request'],
        ['a login token as subject', base(loginToken), 400, 'invalid_request'],
        ['an exchanged token as subject (no re-exchange)', base(exchanged), 400, 'invalid_request'],
        [
          'a scope the subject does not hold',
          base(pat.value, { scope: 'tokens:read tokens:write' }),
          400,
          'invalid_scope'
        ],
        ['an unknown scope', base(pat.value, { scope: 'nope:nope' }), 400, 'invalid_scope'],
        [
          'no audience',
          { grant_type: GRANT, subject_token: pat.value, subject_token_type: ACCESS },
          400,
          'invalid_request'
        ],
        ['a malformed audience', base(pat.value, { audience: 'has space' }), 400, 'invalid_target'],
        [
          'too many audiences',
          base(pat.value, { audience: ['a', 'b', 'c', 'd', 'e'], resource: 'f' }),
          400,
          'invalid_target'
        ]
      ]
      const before = await app.authority.database.db.selectFrom('tokens').select('id').execute()
      for (const [label, params, status, error] of cases) {
        assertOAuthError(t, await exchange(ta, params), status, error, label)
      }
      const json = await app.inject({ method: 'POST', url: '/token', payload: base(pat.value) })
      assertOAuthError(t, json, 400, 'invalid_request', 'a JSON body')
      const after = await app.authority.database.db.selectFrom('tokens').select('id').execute()
      t.equal(after.length, before.length, 'no token was minted by a refusal')
    })

    t.test('revoking the subject ends its exchanged tokens, with no extra I/O on warm introspection', async (t) => {
      const pat = await makePat({ name: 'parent', scopes: ['tokens:read'] })
      const child = (await exchange(ta, base(pat.value))).json().access_token as string
      const childId = (await introJson(child)).jti as string
      const reads = await dbReads(app)
      for (let i = 0; i < 5; i++) t.equal((await introJson(child)).active, true)
      t.equal(await dbReads(app), reads, 'warm introspection of an exchanged token reads no database row')
      const del = await app.inject({
        method: 'DELETE',
        url: `/v1/tokens/${pat.id}`,
        headers: bearer(fx.session),
        payload: { password: PW }
      })
      t.equal(del.statusCode, 200, del.body)
      t.strictSame(await introJson(child), { active: false, reason: 'revoked' }, 'the exchanged token died with it')
      const row = await app.authority.database.db
        .selectFrom('tokens')
        .select(['revoked_reason'])
        .where('id', '=', childId)
        .executeTakeFirstOrThrow()
      t.equal(row.revoked_reason, 'subject_revoked')
      const events = await app.authority.database.db.selectFrom('revocation_events').select('token_ids').execute()
      t.ok(
        events.some((e) => {
          const ids = JSON.parse(e.token_ids) as string[]
          return ids.includes(pat.id) && ids.includes(childId)
        }),
        'one revocation-log event names the subject and the exchanged token'
      )
    })

    t.test('exchanges racing a revoke of their subject: none outlives it', async (t) => {
      for (let round = 0; round < 6; round++) {
        const pat = await makePat({ name: `race ${round}`, scopes: ['tokens:read'] })
        // the revoke (straight to the service: no password check to slow it) lands among them
        const first = Array.from({ length: 4 }, () => exchange(ta, base(pat.value)))
        // …after a delay that grows each round, so the rounds cover before, among and after
        const revoke = new Promise((r) => setTimeout(r, round * 4)).then(() =>
          app.authority.tokens.revoke(carolId, [pat.id], 'revoked', { accountId: null, tokenId: null, ip: null })
        )
        const exchanges = [...first, ...Array.from({ length: 4 }, () => exchange(ta, base(pat.value)))]
        const [results, revoked] = await Promise.all([Promise.all(exchanges), revoke])
        t.strictSame(revoked.revoked, [pat.id])
        const issued = results.filter((r) => r.statusCode === 200).map((r) => r.json().access_token as string)
        for (const r of results) t.ok(r.statusCode === 200 || r.statusCode === 400, `200 or 400 (${r.statusCode})`)
        for (const value of issued) t.equal((await introJson(value)).active, false, 'an exchange that won is swept')
        t.comment(`round ${round}: ${issued.length} of 8 exchanges landed before the revoke, the rest refused`)
      }
    })

    t.test('regenerating or narrowing the subject ends its exchanged tokens too', async (t) => {
      const pat = await makePat({ name: 'to regenerate', scopes: ['tokens:read', 'tokens:write'] })
      const child = (await exchange(ta, base(pat.value))).json().access_token as string
      t.equal((await introJson(child)).active, true)
      const regen = await app.inject({
        method: 'POST',
        url: `/v1/tokens/${pat.id}/regenerate`,
        headers: bearer(fx.session),
        payload: { password: PW }
      })
      t.equal(regen.statusCode, 201, regen.body)
      t.strictSame(await introJson(child), { active: false, reason: 'revoked' }, 'regenerate')
      const next = regen.json() as { access_token: string; token: { id: string } }
      const child2 = (await exchange(ta, base(next.access_token))).json().access_token as string
      t.equal((await introJson(child2)).active, true)
      const edit = await app.inject({
        method: 'PATCH',
        url: `/v1/tokens/${next.token.id}`,
        headers: bearer(fx.session),
        payload: { scopes: ['tokens:read'], password: PW }
      })
      t.equal(edit.statusCode, 200, edit.body)
      t.strictSame(await introJson(child2), { active: false, reason: 'revoked' }, 'a narrowing edit')
    })

    t.test('RFC 7009 revocation of the subject by value ends them too; exchanged tokens are audited', async (t) => {
      const pat = await makePat({ name: 'by value', scopes: ['tokens:read'] })
      const child = (await exchange(ta, base(pat.value))).json().access_token as string
      const res = await intro(pat.value, verifier.token)
      t.equal(res.statusCode, 200)
      const rev = await app.inject({
        method: 'POST',
        url: '/revoke',
        headers: bearer(pat.value),
        payload: { token: pat.value }
      })
      t.equal(rev.statusCode, 200)
      t.strictSame(await introJson(child), { active: false, reason: 'revoked' })
      const audit = await app.authority.database.db
        .selectFrom('audit_events')
        .select(['action', 'details', 'actor_token_id'])
        .where('action', '=', 'token.exchange')
        .execute()
      t.ok(audit.length > 0, 'token.exchange audit rows')
      t.ok(
        audit.every((a) => !a.details.includes('tka_')),
        'no token value in an audit row'
      )
    })
  })

  t.test(`RFC 8693 with an audience allow-list and a shorter TTL on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend, {
      env: { TOKEN_EXCHANGE_AUDIENCES: 'orders-api, billing', TOKEN_EXCHANGE_TTL_SECONDS: '60' }
    })
    const svc = await createService(ta, 'allow-list', ['tokens:introspect'])
    const params = (audience: string) => ({
      grant_type: GRANT,
      subject_token: svc.token,
      subject_token_type: ACCESS,
      audience
    })
    const ok = await exchange(ta, params('billing'))
    t.equal(ok.statusCode, 200, ok.body)
    t.equal(ok.json().expires_in, 60)
    assertOAuthError(t, await exchange(ta, params('elsewhere')), 400, 'invalid_target', 'an audience off the list')
    t.equal(errorCode(ok), undefined)
  })
}
