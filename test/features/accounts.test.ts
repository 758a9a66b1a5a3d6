import { randomUUID } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { BUILTIN_SCOPES, DEFAULT_PERMISSIONS } from '../../services/authority/src/scopes/catalogue.js'
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
const ACCOUNT_KEYS = [
  'created_at',
  'disabled',
  'id',
  'kind',
  'permissions',
  'tokens_revoked_before',
  'updated_at',
  'username'
]
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/
const ALL_SCOPES = [...BUILTIN_SCOPES.map((s) => s.name)].sort()

type Json = Record<string, unknown>
/** the assertions these helpers use, from a tap (sub)test */
type Asserts = Pick<typeof t, 'equal' | 'same' | 'match' | 'type' | 'ok'>
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

function call(
  ta: TestAuthority,
  method: Method,
  url: string,
  payload?: Json,
  token: string | null = ta.adminToken
): Promise<LightMyRequestResponse> {
  return ta.app.inject({
    method,
    url,
    headers: token === null ? {} : bearer(token),
    ...(payload !== undefined ? { payload } : {})
  })
}

/** status and code of a negative, both exact */
function refused(t: Asserts, res: LightMyRequestResponse, status: number, code: string, what: string): void {
  t.equal(res.statusCode, status, `${what}: status ${status} (${res.body})`)
  t.equal(errorCode(res), code, `${what}: code ${code}`)
}

function assertAccountShape(t: Asserts, body: Json): void {
  t.same(Object.keys(body).sort(), ACCOUNT_KEYS, 'Account shape: exactly the public fields')
  t.match(body.id, UUID)
  t.match(body.created_at, ISO)
  t.match(body.updated_at, ISO)
  t.type(body.disabled, 'boolean')
  t.ok(Array.isArray(body.permissions))
}

async function auditRows(ta: TestAuthority, where: { accountId?: string; action?: string }) {
  let q = ta.app.authority.database.db.selectFrom('audit_events').selectAll()
  if (where.accountId !== undefined) q = q.where('account_id', '=', where.accountId)
  if (where.action !== undefined) q = q.where('action', '=', where.action)
  return q.orderBy('at').execute()
}

async function myId(ta: TestAuthority, token: string): Promise<string> {
  const res = await call(ta, 'GET', '/v1/me', undefined, token)
  if (res.statusCode !== 200) throw new Error(`GET /v1/me failed: ${res.statusCode} ${res.body}`)
  return (res.json() as { account: { id: string } }).account.id
}

async function createPat(
  ta: TestAuthority,
  session: string,
  password: string,
  name: string,
  scopes: string[]
): Promise<{ id: string; value: string }> {
  const res = await call(ta, 'POST', '/v1/tokens', { name, scopes, password }, session)
  if (res.statusCode !== 201) throw new Error(`PAT create failed: ${res.statusCode} ${res.body}`)
  const body = res.json() as { access_token: string; token: { id: string } }
  return { id: body.token.id, value: body.access_token }
}

function withoutRequestId(res: LightMyRequestResponse): Json {
  const body = res.json() as Json
  delete body.requestId
  return body
}

for (const backend of BACKEND_NAMES()) {
  t.test(`admin accounts API on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend)
    const rootId = await myId(ta, ta.adminToken)

    t.test('create: each kind, default permissions, lower-cased username', async (t) => {
      // the live catalogue, as the API shows it
      const catalogue = ((await call(ta, 'GET', '/v1/scopes')).json() as { scopes: { name: string }[] }).scopes
        .map((s) => s.name)
        .sort()
      t.same(catalogue, ALL_SCOPES)
      const expected: Record<'admin' | 'customer' | 'service', string[]> = {
        admin: DEFAULT_PERMISSIONS.admin(catalogue).sort(),
        customer: DEFAULT_PERMISSIONS.customer(catalogue).sort(),
        service: DEFAULT_PERMISSIONS.service(catalogue).sort()
      }
      const names = { admin: 'Second.Admin', customer: 'Cust-One@Example.com', service: 'Billing_SVC' }
      for (const kind of ['admin', 'customer', 'service'] as const) {
        const res = await call(ta, 'POST', '/v1/accounts', {
          username: names[kind],
          password: PW,
          kind,
          current_password: ADMIN.password
        })
        t.equal(res.statusCode, 201, `${kind}: 201 (${res.body})`)
        const body = res.json() as Json
        assertAccountShape(t, body)
        t.equal(body.username, names[kind].toLowerCase(), `${kind}: username lower-cased`)
        t.equal(body.kind, kind)
        t.same(body.permissions, expected[kind], `${kind}: default permissions`)
        t.equal(body.disabled, false)
        const got = await call(ta, 'GET', `/v1/accounts/${body.id as string}`)
        t.equal(got.statusCode, 200)
        t.same(got.json(), body, `${kind}: GET returns what POST returned`)
        const audit = await auditRows(ta, { accountId: body.id as string, action: 'account.create' })
        t.equal(audit.length, 1, `${kind}: one account.create audit row`)
        t.equal(audit[0]?.actor_account_id, rootId, 'the audit row names the admin')
        t.notOk(audit[0]?.details.includes(PW), 'no password in the audit row')
      }
      const hash = await ta.app.authority.database.db
        .selectFrom('accounts')
        .select('password_hash')
        .where('username', '=', 'cust-one@example.com')
        .executeTakeFirstOrThrow()
      t.match(hash.password_hash, /^\$2[aby]\$04\$/, 'the password is stored as a bcrypt hash at the configured cost')
      t.equal(
        await login(ta.app, 'customer', 'Cust-One@Example.com', PW).then((v) => v.startsWith('tka_lgn_')),
        true,
        'the new customer can log in'
      )
      t.equal(
        await login(ta.app, 'admin', 'second.admin', PW).then((v) => v.startsWith('tka_lgn_')),
        true,
        'the new admin can log in'
      )

      const explicit = await call(ta, 'POST', '/v1/accounts', {
        username: 'explicit',
        password: PW,
        kind: 'customer',
        permissions: ['tokens:write', 'tokens:read'],
        current_password: ADMIN.password
      })
      t.equal(explicit.statusCode, 201)
      t.same(explicit.json().permissions, ['tokens:read', 'tokens:write'], 'explicit permissions kept (sorted)')
      const none = await call(ta, 'POST', '/v1/accounts', {
        username: 'no-perms',
        password: PW,
        kind: 'customer',
        permissions: [],
        current_password: ADMIN.password
      })
      t.equal(none.statusCode, 201)
      t.same(none.json().permissions, [], 'an explicit empty list is not replaced by the defaults')
    })

    t.test('create: refusals change nothing', async (t) => {
      await createAccount(ta, { username: 'taken', password: PW, kind: 'customer' })
      const countBefore = (await ta.app.authority.database.db.selectFrom('accounts').select('id').execute()).length
      const auditBefore = (await auditRows(ta, {})).length
      const create = (body: Json) =>
        call(ta, 'POST', '/v1/accounts', { password: PW, kind: 'customer', current_password: ADMIN.password, ...body })

      refused(t, await create({ username: 'taken' }), 409, 'username_taken', 'duplicate username')
      refused(t, await create({ username: 'TAKEN' }), 409, 'username_taken', 'duplicate username in another case')
      refused(
        t,
        await create({ username: 'taken', kind: 'service' }),
        409,
        'username_taken',
        'duplicate username of another kind'
      )
      for (const bad of [
        'has space',
        ' lead',
        'tab\there',
        'nul\u0000x',
        'bell\u0007',
        'new\nline',
        '',
        '-dash-first',
        'x'.repeat(129)
      ]) {
        refused(t, await create({ username: bad }), 400, 'validation_failed', `username ${JSON.stringify(bad)}`)
      }
      refused(
        t,
        await create({ username: 'shortpw', password: 'short' }),
        400,
        'validation_failed',
        'password of 5 characters'
      )
      refused(
        t,
        await create({ username: 'shortpw', password: 'a'.repeat(11) }),
        400,
        'validation_failed',
        'password of 11 characters'
      )
      refused(
        t,
        await create({ username: 'longpw', password: 'é'.repeat(40) }),
        400,
        'validation_failed',
        'password over 72 bytes'
      )
      refused(t, await create({ username: 'badkind', kind: 'root' }), 400, 'validation_failed', 'unknown kind')
      refused(t, await create({ username: 'extra', owner: 'x' }), 400, 'validation_failed', 'unknown body field')
      refused(
        t,
        await create({ username: 'unknown-perm', permissions: ['nope:read'] }),
        400,
        'unknown_scope',
        'unknown permission'
      )
      refused(
        t,
        await create({ username: 'unknown-perm', permissions: ['tokens:read', 'orders:write'] }),
        400,
        'unknown_scope',
        'one unknown permission'
      )
      refused(
        t,
        await create({ username: 'cust-admin', permissions: ['accounts:read'] }),
        403,
        'scope_not_permitted',
        'customer given accounts:read'
      )
      refused(
        t,
        await create({ username: 'cust-admin', permissions: ['tokens:read', 'accounts:write'] }),
        403,
        'scope_not_permitted',
        'customer given accounts:write'
      )
      refused(
        t,
        await create({ username: 'cust-intro', permissions: ['tokens:introspect'] }),
        403,
        'scope_not_permitted',
        'customer given tokens:introspect'
      )
      refused(
        t,
        await create({ username: 'cust-revoke', permissions: ['tokens:revoke'] }),
        403,
        'scope_not_permitted',
        'customer given tokens:revoke'
      )
      refused(
        t,
        await create({ username: 'svc-admin', kind: 'service', permissions: ['accounts:read'] }),
        403,
        'scope_not_permitted',
        'service given accounts:read'
      )
      const noConfirm = await call(ta, 'POST', '/v1/accounts', {
        username: 'noconfirm',
        password: PW,
        kind: 'customer'
      })
      refused(t, noConfirm, 400, 'password_required', 'missing current_password')
      refused(
        t,
        await create({ username: 'wrongconfirm', current_password: 'not-the-admin-password' }),
        403,
        'password_confirmation_failed',
        'wrong current_password'
      )

      const countAfter = (await ta.app.authority.database.db.selectFrom('accounts').select('id').execute()).length
      t.equal(countAfter, countBefore, 'no account was created by a refused request')
      t.equal((await auditRows(ta, {})).length, auditBefore, 'no audit row was written by a refused request')
    })

    t.test('list: kind filter, cursor pagination; get; 404', async (t) => {
      const made: string[] = []
      for (const n of ['pg-c', 'pg-a', 'pg-e', 'pg-b', 'pg-d'])
        made.push(await createAccount(ta, { username: n, password: PW, kind: 'customer' }))
      await createService(ta, 'pg-svc', ['tokens:introspect'])
      const allRows = await ta.app.authority.database.db
        .selectFrom('accounts')
        .select(['id', 'username', 'kind'])
        .execute()
      const customersInDb = allRows
        .filter((r) => r.kind === 'customer')
        .map((r) => r.username)
        .sort()

      const seen: { id: string; username: string; kind: string }[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const url: string = `/v1/accounts?kind=customer&limit=2${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
        const page = await call(ta, 'GET', url)
        t.equal(page.statusCode, 200)
        const body = page.json() as { items: Json[]; next_cursor: string | null }
        t.same(Object.keys(body).sort(), ['items', 'next_cursor'])
        t.ok(body.items.length <= 2, 'a page holds at most `limit` items')
        for (const item of body.items) assertAccountShape(t, item)
        seen.push(...(body.items as { id: string; username: string; kind: string }[]))
        cursor = body.next_cursor
        pages++
      } while (cursor !== null && pages < 50)
      t.equal(cursor, null, 'pagination ends')
      t.ok(pages >= 3, `more than one page (${pages})`)
      t.ok(
        seen.every((a) => a.kind === 'customer'),
        'the kind filter holds on every page'
      )
      t.same(
        seen.map((a) => a.username),
        customersInDb,
        'every customer exactly once, in username order'
      )
      for (const id of made) t.ok(seen.some((a) => a.id === id))

      const services = (await call(ta, 'GET', '/v1/accounts?kind=service&limit=200')).json() as {
        items: Json[]
        next_cursor: string | null
      }
      t.ok(services.items.length > 0)
      t.ok(services.items.every((a) => a.kind === 'service'))
      t.equal(services.next_cursor, null)
      const everyone = (await call(ta, 'GET', '/v1/accounts?limit=200')).json() as { items: Json[] }
      t.equal(everyone.items.length, allRows.length, 'no filter: every account')
      t.ok(everyone.items.some((a) => a.username === ADMIN.username && a.kind === 'admin'))

      const one = await call(ta, 'GET', `/v1/accounts/${made[1]!}`)
      t.equal(one.statusCode, 200)
      t.equal(one.json().username, 'pg-a')
      refused(t, await call(ta, 'GET', `/v1/accounts/${randomUUID()}`), 404, 'not_found', 'unknown uuid')
      refused(t, await call(ta, 'GET', '/v1/accounts/not-a-uuid'), 400, 'validation_failed', 'malformed id')
      refused(t, await call(ta, 'GET', '/v1/accounts?kind=root'), 400, 'validation_failed', 'unknown kind filter')
      refused(t, await call(ta, 'GET', '/v1/accounts?limit=0'), 400, 'validation_failed', 'limit 0')
      refused(t, await call(ta, 'GET', '/v1/accounts?limit=201'), 400, 'validation_failed', 'limit over 200')
    })

    t.test('only account admins may call /v1/accounts', async (t) => {
      const custId = await createAccount(ta, { username: 'nosy', password: PW, kind: 'customer' })
      const victimId = await createAccount(ta, { username: 'nosy-victim', password: PW, kind: 'customer' })
      const session = await login(ta.app, 'customer', 'nosy', PW)
      const victimPat = await createPat(ta, await login(ta.app, 'customer', 'nosy-victim', PW), PW, 'victim pat', [
        'tokens:read'
      ])
      const svc = await createService(ta, 'nosy-svc', ['tokens:introspect'])
      const adminReadOnly = await createPat(ta, ta.adminToken, ADMIN.password, 'admin read-only', ['tokens:read'])
      const routes: [Method, string, Json | undefined][] = [
        ['GET', '/v1/accounts', undefined],
        ['POST', '/v1/accounts', { username: 'made-by-customer', password: PW, kind: 'admin', current_password: PW }],
        ['GET', `/v1/accounts/${victimId}`, undefined],
        ['PATCH', `/v1/accounts/${victimId}`, { disabled: true, current_password: PW }],
        ['PATCH', `/v1/accounts/${custId}`, { permissions: ['tokens:read', 'tokens:write'], current_password: PW }],
        ['GET', `/v1/accounts/${victimId}/tokens`, undefined],
        ['POST', `/v1/accounts/${victimId}/tokens`, { name: 'x', scopes: ['tokens:read'], password: PW }],
        ['DELETE', `/v1/accounts/${victimId}/tokens`, { password: PW }],
        ['DELETE', `/v1/accounts/${victimId}/tokens/${victimPat.id}`, { password: PW }]
      ]
      for (const [method, url, payload] of routes) {
        const asCustomer = await call(ta, method, url, payload, session)
        refused(t, asCustomer, 403, 'insufficient_scope', `customer ${method} ${url}`)
        t.match(asCustomer.headers['www-authenticate'], /error="insufficient_scope"/)
        refused(
          t,
          await call(ta, method, url, payload, svc.token),
          403,
          'insufficient_scope',
          `service token ${method} ${url}`
        )
        refused(
          t,
          await call(ta, method, url, payload, adminReadOnly.value),
          403,
          'insufficient_scope',
          `admin PAT without accounts:* ${method} ${url}`
        )
        const anonymous = await call(ta, method, url, payload, null)
        refused(t, anonymous, 401, 'unauthorized', `no token ${method} ${url}`)
        t.match(anonymous.headers['www-authenticate'], /^Bearer realm="[^"]+"$/, 'a bare Bearer challenge')
        refused(
          t,
          await call(ta, method, url, payload, 'tka_lgn_not-a-real-token'),
          401,
          'invalid_token',
          `garbage token ${method} ${url}`
        )
      }
      const victim = (await call(ta, 'GET', `/v1/accounts/${victimId}`)).json() as Json
      t.equal(victim.disabled, false, 'the victim was not disabled')
      t.equal((await introspect(ta, svc.token, victimPat.value)).active, true, "the victim's token was not revoked")
      const made = await ta.app.authority.database.db
        .selectFrom('accounts')
        .select('id')
        .where('username', '=', 'made-by-customer')
        .execute()
      t.equal(made.length, 0, 'no account was created')
    })

    t.test('PATCH permissions narrows existing tokens at once', async (t) => {
      const svc = await createService(ta, 'narrow-svc', ['tokens:introspect'])
      const id = await createAccount(ta, {
        username: 'narrow',
        password: PW,
        kind: 'customer',
        permissions: ['tokens:read', 'tokens:write']
      })
      const session = await login(ta.app, 'customer', 'narrow', PW)
      const pat = await createPat(ta, session, PW, 'both', ['tokens:read', 'tokens:write'])
      const writeOnly = await createPat(ta, session, PW, 'write only', ['tokens:write'])
      // fill the caches first, so the test sees invalidation and not a cold read
      t.same((await introspect(ta, svc.token, session)).permissions, ['tokens:read', 'tokens:write'])
      t.same((await introspect(ta, svc.token, pat.value)).permissions, ['tokens:read', 'tokens:write'])
      t.same((await introspect(ta, svc.token, writeOnly.value)).permissions, ['tokens:write'])
      const meBefore = await call(ta, 'GET', '/v1/me', undefined, session)
      t.same(meBefore.json().scopes, ['tokens:read', 'tokens:write'])

      const res = await call(ta, 'PATCH', `/v1/accounts/${id}`, {
        permissions: ['tokens:read'],
        current_password: ADMIN.password
      })
      t.equal(res.statusCode, 200)
      assertAccountShape(t, res.json())
      t.same(res.json().permissions, ['tokens:read'])

      const s = await introspect(ta, svc.token, session)
      t.equal(s.active, true)
      t.same(s.permissions, ['tokens:read'], 'the login token narrows at once')
      t.equal(s.scope, 'tokens:read')
      t.same((await introspect(ta, svc.token, pat.value)).permissions, ['tokens:read'], 'the PAT narrows at once')
      const w = await introspect(ta, svc.token, writeOnly.value)
      t.equal(w.active, true)
      t.same(w.permissions, [], 'a PAT whose only scope was removed keeps no scope')
      const me = await call(ta, 'GET', '/v1/me', undefined, session)
      t.equal(me.statusCode, 200)
      t.same(me.json().scopes, ['tokens:read'], 'GET /v1/me shows the new effective scopes')
      t.same(me.json().account.permissions, ['tokens:read'])
      refused(
        t,
        await call(ta, 'POST', '/v1/tokens', { name: 'x', scopes: ['tokens:read'], password: PW }, session),
        403,
        'insufficient_scope',
        'tokens:write is gone'
      )
      const edits = await auditRows(ta, { accountId: id, action: 'account.edit' })
      t.equal(edits.length, 1, 'one account.edit audit row')
      t.same(JSON.parse(edits[0]!.details).permissions, { from: ['tokens:read', 'tokens:write'], to: ['tokens:read'] })

      // Giving a permission back. docs/design.md, "Accounts, permissions, scopes": a login token carries the account's full *current*
      // permissions, so a grant reaches a session that is already in the cache (a fresh login,
      // cached after the narrowing above, so no invalidation marker hides the cache).
      const session2 = await login(ta.app, 'customer', 'narrow', PW)
      t.same(
        (await introspect(ta, svc.token, session2)).permissions,
        ['tokens:read'],
        'a new session: read only (now cached)'
      )
      const back = await call(ta, 'PATCH', `/v1/accounts/${id}`, {
        permissions: ['tokens:read', 'tokens:write'],
        current_password: ADMIN.password
      })
      t.equal(back.statusCode, 200)
      t.same(
        (await introspect(ta, svc.token, session2)).permissions,
        ['tokens:read', 'tokens:write'],
        'a grant reaches the cached login token at once'
      )
      const meAfterGrant = (await call(ta, 'GET', '/v1/me', undefined, session2)).json() as {
        scopes: string[]
        account: { permissions: string[] }
      }
      t.same(
        meAfterGrant.scopes,
        meAfterGrant.account.permissions,
        'GET /v1/me: the login token scopes equal the account permissions'
      )
      // ...and never widens a PAT beyond its own scopes.
      const readOnly = await createPat(ta, await login(ta.app, 'customer', 'narrow', PW), PW, 'read only', [
        'tokens:read'
      ])
      t.same((await introspect(ta, svc.token, readOnly.value)).permissions, ['tokens:read'])

      const patch = (body: Json, target = id) =>
        call(ta, 'PATCH', `/v1/accounts/${target}`, { current_password: ADMIN.password, ...body })
      refused(
        t,
        await patch({ permissions: ['accounts:read'] }),
        403,
        'scope_not_permitted',
        'customer given accounts:read by PATCH'
      )
      refused(
        t,
        await patch({ permissions: ['tokens:introspect'] }),
        403,
        'scope_not_permitted',
        'customer given tokens:introspect by PATCH'
      )
      refused(t, await patch({ permissions: ['nope:read'] }), 400, 'unknown_scope', 'unknown permission by PATCH')
      refused(t, await patch({ permissions: ['not a scope'] }), 400, 'validation_failed', 'malformed permission')
      refused(t, await patch({ permissions: ['tokens:read'] }, randomUUID()), 404, 'not_found', 'PATCH unknown account')
      refused(t, await patch({ username: 'renamed' }), 400, 'validation_failed', 'PATCH an unknown field')
      refused(
        t,
        await call(ta, 'PATCH', `/v1/accounts/${id}`, { permissions: ['tokens:read'] }),
        400,
        'password_required',
        'PATCH without current_password'
      )
      refused(
        t,
        await patch({ permissions: ['tokens:read'], current_password: 'wrong-password-x' }),
        403,
        'password_confirmation_failed',
        'PATCH with a wrong current_password'
      )
      const after = (await call(ta, 'GET', `/v1/accounts/${id}`)).json() as Json
      t.same(after.permissions, ['tokens:read', 'tokens:write'], 'refused edits changed nothing')
    })

    t.test('PATCH disabled: every token inactive at once, no login, audit; enable again', async (t) => {
      const svc = await createService(ta, 'dis-svc', ['tokens:introspect'])
      const why = await createService(ta, 'dis-why', ['tokens:introspect', 'tokens:introspect:reason'])
      const id = await createAccount(ta, { username: 'dora', password: PW, kind: 'customer' })
      const l1 = await login(ta.app, 'customer', 'dora', PW)
      const l2 = await login(ta.app, 'customer', 'dora', PW)
      const p1 = await createPat(ta, l1, PW, 'p1', ['tokens:read'])
      const p2 = await createPat(ta, l1, PW, 'p2', ['tokens:read', 'tokens:write'])
      const p3 = await createPat(ta, l1, PW, 'p3 revoked before', ['tokens:read'])
      const del = await call(ta, 'DELETE', `/v1/tokens/${p3.id}`, { password: PW }, l1)
      t.equal(del.statusCode, 200)
      const live = [l1, l2, p1.value, p2.value]
      for (const v of live) t.equal((await introspect(ta, svc.token, v)).active, true, 'active before (and cached)')
      const liveIds = (
        await ta.app.authority.database.db
          .selectFrom('tokens')
          .select('id')
          .where('account_id', '=', id)
          .where('revoked_at', 'is', null)
          .execute()
      ).map((r) => r.id)
      t.equal(liveIds.length, 4)
      const revokesBefore = await auditRows(ta, { accountId: id, action: 'token.revoke' })
      t.equal(revokesBefore.length, 1, 'the earlier revoke of p3')
      const wrongPwBefore = await ta.app.inject({
        method: 'POST',
        url: '/v1/auth/customer/token',
        payload: { username: 'dora', password: 'wrong-password-1' }
      })
      refused(t, wrongPwBefore, 401, 'invalid_credentials', 'wrong password while enabled')

      const res = await call(ta, 'PATCH', `/v1/accounts/${id}`, { disabled: true, current_password: ADMIN.password })
      t.equal(res.statusCode, 200)
      assertAccountShape(t, res.json())
      t.equal(res.json().disabled, true)

      for (const v of live) {
        t.same(await introspect(ta, svc.token, v), { active: false }, 'inactive at once')
        t.same(await introspect(ta, why.token, v), { active: false, reason: 'revoked' })
      }
      refused(
        t,
        await call(ta, 'GET', '/v1/me', undefined, l1),
        401,
        'invalid_token',
        'a login token of the disabled account'
      )
      refused(
        t,
        await call(ta, 'GET', '/v1/tokens', undefined, p1.value),
        401,
        'invalid_token',
        'a PAT of the disabled account'
      )
      const activeList = (await call(ta, 'GET', `/v1/accounts/${id}/tokens?state=active`)).json() as {
        items: unknown[]
      }
      t.same(activeList.items, [], 'no active token left')

      const disabledLogin = await ta.app.inject({
        method: 'POST',
        url: '/v1/auth/customer/token',
        payload: { username: 'dora', password: PW }
      })
      refused(t, disabledLogin, 401, 'invalid_credentials', 'login of a disabled account')
      t.same(withoutRequestId(disabledLogin), withoutRequestId(wrongPwBefore), 'same body as a wrong password')
      t.equal(disabledLogin.headers['www-authenticate'], wrongPwBefore.headers['www-authenticate'])

      const revokes = await auditRows(ta, { accountId: id, action: 'token.revoke' })
      const newRevokes = revokes.filter((r) => !revokesBefore.some((b) => b.id === r.id))
      t.same(
        newRevokes.map((r) => r.token_id).sort(),
        [...liveIds].sort(),
        'one token.revoke row per live token, none for p3'
      )
      for (const r of newRevokes) t.equal(r.actor_account_id, rootId, 'the revoke rows name the admin')
      t.equal((await auditRows(ta, { accountId: id, action: 'account.disable' })).length, 1, 'one account.disable row')

      const again = await call(ta, 'PATCH', `/v1/accounts/${id}`, { disabled: true, current_password: ADMIN.password })
      t.equal(again.statusCode, 200)
      t.equal(
        (await auditRows(ta, { accountId: id, action: 'account.disable' })).length,
        1,
        'disabling twice writes no second row'
      )

      const enable = await call(ta, 'PATCH', `/v1/accounts/${id}`, {
        disabled: false,
        current_password: ADMIN.password
      })
      t.equal(enable.statusCode, 200)
      t.equal(enable.json().disabled, false)
      t.equal((await auditRows(ta, { accountId: id, action: 'account.enable' })).length, 1, 'one account.enable row')
      const fresh = await login(ta.app, 'customer', 'dora', PW)
      t.equal((await introspect(ta, svc.token, fresh)).active, true, 'can log in again')
      for (const v of live)
        t.same(await introspect(ta, why.token, v), { active: false, reason: 'revoked' }, 'old tokens stay revoked')

      // An admin cannot disable themselves.
      const self = await call(ta, 'PATCH', `/v1/accounts/${rootId}`, {
        disabled: true,
        current_password: ADMIN.password
      })
      refused(t, self, 403, 'forbidden', 'admin disabling themselves')
      const root = (await call(ta, 'GET', `/v1/accounts/${rootId}`)).json() as Json
      t.equal(root.disabled, false, 'still enabled')
      t.equal((await introspect(ta, svc.token, ta.adminToken)).active, true, "the admin's token still works")
      t.equal((await auditRows(ta, { accountId: rootId, action: 'account.disable' })).length, 0)

      // A second admin may disable another admin, and that admin's tokens die.
      const otherAdminId = await createAccount(ta, { username: 'other-admin', password: PW, kind: 'admin' })
      const otherSession = await login(ta.app, 'admin', 'other-admin', PW)
      const byOther = await call(ta, 'PATCH', `/v1/accounts/${otherAdminId}`, {
        disabled: true,
        current_password: ADMIN.password
      })
      t.equal(byOther.statusCode, 200)
      t.same(await introspect(ta, svc.token, otherSession), { active: false })
    })

    t.test('account tokens: service tokens, list, revoke one and all', async (t) => {
      const checker = await createService(ta, 'acct-tok-checker', ['tokens:introspect', 'tokens:introspect:reason'])
      const svcId = await createAccount(ta, {
        username: 'billing',
        password: PW,
        kind: 'service',
        permissions: ['tokens:introspect', 'tokens:revoke']
      })
      const url = `/v1/accounts/${svcId}/tokens`
      const mint = (body: Json) => call(ta, 'POST', url, { password: ADMIN.password, ...body })

      const first = await mint({ name: 'billing 1', description: 'introspection', scopes: ['tokens:introspect'] })
      t.equal(first.statusCode, 201)
      t.equal(first.headers['cache-control'], 'no-store')
      const f = first.json() as { access_token: string; token: Json }
      t.match(f.access_token, /^tka_svc_[A-Za-z0-9_-]+$/)
      t.equal(f.token.kind, 'svc')
      t.same(f.token.scopes, ['tokens:introspect'])
      t.equal(f.token.state, 'active')
      t.equal(f.token.name, 'billing 1')
      const info = await introspect(ta, checker.token, f.access_token)
      t.equal(info.active, true)
      t.equal(info.username, 'billing')
      t.equal(info.kind, 'service')
      t.same(info.permissions, ['tokens:introspect'])
      t.equal((await introspect(ta, f.access_token, ta.adminToken)).active, true, 'the service token can introspect')

      const second = (await mint({ name: 'billing 2', scopes: ['tokens:introspect', 'tokens:revoke'] })).json() as {
        access_token: string
        token: { id: string }
      }
      const third = (await mint({ name: 'billing 3', scopes: ['tokens:revoke'] })).json() as {
        access_token: string
        token: { id: string }
      }

      refused(
        t,
        await mint({ name: 'wide', scopes: ['tokens:introspect:reason'] }),
        403,
        'scope_not_permitted',
        'scope beyond the service account'
      )
      refused(
        t,
        await mint({ name: 'wide', scopes: ['accounts:read'] }),
        403,
        'scope_not_permitted',
        'admin scope for a service account'
      )
      refused(
        t,
        await mint({ name: 'wide', preset: 'introspection' }),
        403,
        'scope_not_permitted',
        'preset beyond the service account'
      )
      refused(t, await mint({ name: 'unknown', scopes: ['nope:read'] }), 400, 'unknown_scope', 'unknown scope')
      refused(
        t,
        await call(ta, 'POST', url, { name: 'nopw', scopes: ['tokens:introspect'] }),
        400,
        'password_required',
        'no password'
      )
      refused(
        t,
        await call(ta, 'POST', `/v1/accounts/${randomUUID()}/tokens`, {
          name: 'x',
          scopes: ['tokens:read'],
          password: ADMIN.password
        }),
        404,
        'not_found',
        'unknown account'
      )

      const list = await call(ta, 'GET', url)
      t.equal(list.statusCode, 200)
      const items = (list.json() as { items: Json[]; next_cursor: string | null }).items
      t.same(
        items.map((i) => i.id).sort(),
        [f.token.id as string, second.token.id, third.token.id].sort(),
        'lists exactly its tokens'
      )
      t.ok(items.every((i) => i.kind === 'svc' && i.state === 'active'))
      t.notOk(list.body.includes('tka_svc_'), 'no token value in the list')
      const page = (await call(ta, 'GET', `${url}?limit=2`)).json() as { items: Json[]; next_cursor: string | null }
      t.equal(page.items.length, 2)
      t.type(page.next_cursor, 'string')
      refused(
        t,
        await call(ta, 'GET', `/v1/accounts/${randomUUID()}/tokens`),
        404,
        'not_found',
        'list tokens of an unknown account'
      )

      // revoke one
      const one = await call(ta, 'DELETE', `${url}/${f.token.id as string}`, { password: ADMIN.password })
      t.equal(one.statusCode, 200)
      t.equal(one.json().id, f.token.id)
      t.equal(one.json().state, 'revoked')
      t.match(one.json().revoked_at, ISO)
      t.same(await introspect(ta, checker.token, f.access_token), { active: false, reason: 'revoked' })
      t.equal((await introspect(ta, checker.token, second.access_token)).active, true, 'the others stay active')
      const checkerTokens = (await call(ta, 'GET', `/v1/accounts/${checker.id}/tokens`)).json() as {
        items: { id: string }[]
      }
      t.equal(checkerTokens.items.length, 1)
      const otherAccountsToken = checkerTokens.items[0]!.id
      refused(
        t,
        await call(ta, 'DELETE', `${url}/${otherAccountsToken}`, { password: ADMIN.password }),
        404,
        'not_found',
        "another account's token through this account"
      )
      t.equal(
        (await introspect(ta, checker.token, ta.adminToken)).active,
        true,
        'the checker still works (its token was not revoked)'
      )
      refused(
        t,
        await call(ta, 'DELETE', `${url}/${'A'.repeat(22)}`, { password: ADMIN.password }),
        404,
        'not_found',
        'unknown token id'
      )
      refused(
        t,
        await call(ta, 'DELETE', `${url}/${second.token.id}`, {}),
        400,
        'password_required',
        'revoke one, body without password'
      )
      // The body of these DELETEs is optional in the route schema: with no body at all the answer is
      // still "confirm with your password", not a schema error about the body.
      refused(
        t,
        await call(ta, 'DELETE', `${url}/${second.token.id}`),
        400,
        'password_required',
        'revoke one, no body at all'
      )

      // revoke all
      refused(t, await call(ta, 'DELETE', url, {}), 400, 'password_required', 'revoke all, body without password')
      refused(t, await call(ta, 'DELETE', url), 400, 'password_required', 'revoke all, no body at all')
      refused(
        t,
        await call(ta, 'DELETE', url, { password: 'not-the-admin-password' }),
        403,
        'password_confirmation_failed',
        'revoke all, wrong password'
      )
      t.equal(
        (await introspect(ta, checker.token, second.access_token)).active,
        true,
        'a refused revoke-all revoked nothing'
      )
      const all = await call(ta, 'DELETE', url, { password: ADMIN.password })
      t.equal(all.statusCode, 200)
      const r = all.json() as { revoked: string[]; already_inactive: string[]; not_found: string[] }
      t.same(Object.keys(r).sort(), ['already_inactive', 'not_found', 'revoked'], 'RevokeResult shape')
      t.same([...r.revoked].sort(), [second.token.id, third.token.id].sort())
      t.same(r.already_inactive, [])
      t.same(r.not_found, [])
      for (const v of [second.access_token, third.access_token])
        t.same(await introspect(ta, checker.token, v), { active: false, reason: 'revoked' })
      const none = (await call(ta, 'DELETE', url, { password: ADMIN.password })).json()
      t.same(none, { revoked: [], already_inactive: [], not_found: [] }, 'nothing left to revoke')
      const states = (await call(ta, 'GET', `${url}?state=revoked`)).json() as { items: Json[] }
      t.equal(states.items.length, 3)
      refused(
        t,
        await call(ta, 'DELETE', `/v1/accounts/${randomUUID()}/tokens`, { password: ADMIN.password }),
        404,
        'not_found',
        'revoke all of an unknown account'
      )

      // an admin minting for a customer makes a PAT, within the customer's permissions
      const custId = await createAccount(ta, {
        username: 'minted-for',
        password: PW,
        kind: 'customer',
        permissions: ['tokens:read']
      })
      const pat = await call(ta, 'POST', `/v1/accounts/${custId}/tokens`, {
        name: 'by admin',
        scopes: ['tokens:read'],
        password: ADMIN.password
      })
      t.equal(pat.statusCode, 201)
      t.match(pat.json().access_token, /^tka_pat_/)
      t.equal(pat.json().token.kind, 'pat')
      refused(
        t,
        await call(ta, 'POST', `/v1/accounts/${custId}/tokens`, {
          name: 'too wide',
          scopes: ['tokens:write'],
          password: ADMIN.password
        }),
        403,
        'scope_not_permitted',
        "scope beyond the customer's permissions"
      )
    })

    t.test('PATCH password: the old one stops working, the new one works', async (t) => {
      const id = await createAccount(ta, { username: 'pwchange', password: PW, kind: 'customer' })
      await login(ta.app, 'customer', 'pwchange', PW)
      const NEW = 'brand-new-password-2'
      refused(
        t,
        await call(ta, 'PATCH', `/v1/accounts/${id}`, { password: 'short', current_password: ADMIN.password }),
        400,
        'validation_failed',
        'short new password'
      )
      refused(
        t,
        await call(ta, 'PATCH', `/v1/accounts/${id}`, { password: NEW }),
        400,
        'password_required',
        'no current_password'
      )
      await login(ta.app, 'customer', 'pwchange', PW)
      const res = await call(ta, 'PATCH', `/v1/accounts/${id}`, { password: NEW, current_password: ADMIN.password })
      t.equal(res.statusCode, 200)
      assertAccountShape(t, res.json())
      t.notOk(res.body.includes(NEW), 'the new password is not echoed')
      const old = await ta.app.inject({
        method: 'POST',
        url: '/v1/auth/customer/token',
        remoteAddress: '10.77.0.1',
        payload: { username: 'pwchange', password: PW }
      })
      refused(t, old, 401, 'invalid_credentials', 'login with the old password')
      const fresh = await ta.app.inject({
        method: 'POST',
        url: '/v1/auth/customer/token',
        remoteAddress: '10.77.0.2',
        payload: { username: 'pwchange', password: NEW }
      })
      t.equal(fresh.statusCode, 200)
      t.match(fresh.json().access_token, /^tka_lgn_/)
      const edits = await auditRows(ta, { accountId: id, action: 'account.edit' })
      t.equal(edits.length, 1)
      t.same(JSON.parse(edits[0]!.details), { password: 'reset, login tokens revoked' })
      t.notOk(edits[0]!.details.includes(NEW))
    })

    t.test('disabled:true sweeps live tokens even when the account is already disabled', async (t) => {
      // (moved from the former hardening.test.ts)
      const { app } = ta
      const db = app.authority.database.db
      const svc = await createService(ta, 'hardening-svc', ['tokens:introspect', 'tokens:introspect:reason'])
      const id = await createAccount(ta, { username: 'sweep', password: 'sweep-password-1', kind: 'customer' })
      const session = await login(app, 'customer', 'sweep', 'sweep-password-1')
      const disable = () =>
        app.inject({
          method: 'PATCH',
          url: `/v1/accounts/${id}`,
          headers: bearer(ta.adminToken),
          payload: { disabled: true, current_password: ADMIN.password }
        })
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
  })

  t.test(`admin accounts API without password confirmation on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend, { env: { REQUIRE_PASSWORD_CONFIRMATION: 'false' } })
    const checker = await createService(ta, 'nc-checker', ['tokens:introspect'])
    const res = await call(ta, 'POST', '/v1/accounts', { username: 'nc-svc', password: PW, kind: 'service' })
    t.equal(res.statusCode, 201, 'create without current_password')
    const id = res.json().id as string
    const mint = await call(ta, 'POST', `/v1/accounts/${id}/tokens`, { name: 'nc', scopes: ['tokens:introspect'] })
    t.equal(mint.statusCode, 201, 'mint without password')
    const a = mint.json() as { access_token: string; token: { id: string } }
    const b = (
      await call(ta, 'POST', `/v1/accounts/${id}/tokens`, { name: 'nc 2', scopes: ['tokens:introspect'] })
    ).json() as { access_token: string; token: { id: string } }
    // With confirmation off a DELETE needs no body at all (the route declares the body optional).
    const one = await call(ta, 'DELETE', `/v1/accounts/${id}/tokens/${a.token.id}`)
    t.equal(one.statusCode, 200, `revoke one with no body (${one.body})`)
    t.same(
      await introspect(ta, checker.token, a.access_token),
      { active: false },
      'the token revoked with no body is inactive'
    )
    const all = await call(ta, 'DELETE', `/v1/accounts/${id}/tokens`)
    t.equal(all.statusCode, 200, `revoke all with no body (${all.body})`)
    t.same(
      await introspect(ta, checker.token, b.access_token),
      { active: false },
      'the tokens revoked with no body are inactive'
    )
    const patch = await call(ta, 'PATCH', `/v1/accounts/${id}`, { disabled: true })
    t.equal(patch.statusCode, 200, 'edit without current_password')
    t.equal(patch.json().disabled, true)
  })
}
