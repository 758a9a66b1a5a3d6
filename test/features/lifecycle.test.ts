import { randomBytes } from 'node:crypto'
import t from 'tap'
import { pruneNow } from '../../services/authority/src/jobs/prune-job.js'
import { BACKEND_NAMES, createBackend } from '../support/backends.js'
import {
  ADMIN,
  bearer,
  createAccount,
  createService,
  dbReads,
  errorCode,
  introspect,
  login,
  startAuthority
} from '../support/authority.js'
import { frozenOf, HOUR } from '../support/rfc.js'

/**
 * The lifecycle of issued tokens through the API: create, list, edit, regenerate, copy and revoke
 * (each audited once), races between them, expiry on a frozen clock and pruning, and signing-key
 * rotation. The pure rules behind them are unit-tested in test/unit/token-policy.test.ts.
 */

const PW = 'customer-password-1'
const key = (kid: string) => `${kid}:${randomBytes(32).toString('base64')}`

for (const backend of BACKEND_NAMES()) {
  t.test(`PAT lifecycle on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend)
    const { app } = ta
    const svc = await createService(ta, 'verifier', ['tokens:introspect', 'tokens:introspect:reason'])
    await createAccount(ta, {
      username: 'carol',
      password: PW,
      kind: 'customer',
      permissions: ['tokens:read', 'tokens:write']
    })
    const session = await login(app, 'customer', 'carol', PW)
    const create = (payload: Record<string, unknown>, token = session) =>
      app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(token), payload: { password: PW, ...payload } })

    t.test('create: value once, scopes within the owner, preset, errors', async (t) => {
      const res = await create({ name: 'ci', description: 'for CI', scopes: ['tokens:read'] })
      t.equal(res.statusCode, 201)
      t.equal(res.headers['cache-control'], 'no-store')
      const body = res.json()
      t.match(body.access_token, /^tka_pat_[A-Za-z0-9_-]{132}$/)
      t.same(body.token.scopes, ['tokens:read'])
      t.equal(body.token.state, 'active')
      // no expires_at: the default lifetime (TOKEN_DEFAULT_LIFETIME_DAYS, 90), never "never"
      t.equal(
        Date.parse(body.token.expires_at) - Date.parse(body.token.created_at),
        90 * 86400_000 - (Date.parse(body.token.created_at) % 1000)
      )
      const got = await app.inject({ url: `/v1/tokens/${body.token.id}`, headers: bearer(session) })
      t.equal(got.statusCode, 200)
      t.notOk(JSON.stringify(got.json()).includes(body.access_token), 'the value is never shown again')
      const info = await introspect(ta, svc.token, body.access_token)
      t.equal(info.active, true)
      t.same(info.permissions, ['tokens:read'])
      t.equal(info.username, 'carol')
      t.equal(info.kind, 'customer')

      const preset = await create({ name: 'from preset', preset: 'ci' })
      t.equal(preset.statusCode, 201)
      t.same(preset.json().token.scopes, ['tokens:read', 'tokens:write'])
      t.equal(preset.json().token.preset, 'ci')

      const wider = await create({ name: 'too wide', scopes: ['accounts:read'] })
      t.equal(wider.statusCode, 403)
      t.equal(errorCode(wider), 'scope_not_permitted')
      const unknown = await create({ name: 'unknown', scopes: ['nope:read'] })
      t.equal(unknown.statusCode, 400)
      t.equal(errorCode(unknown), 'unknown_scope')
      const badPreset = await create({ name: 'x', preset: 'nope' })
      t.equal(errorCode(badPreset), 'unknown_preset')
      const both = await create({ name: 'x', preset: 'ci', scopes: ['tokens:read'] })
      t.equal(errorCode(both), 'invalid_request')
      const none = await create({ name: 'x' })
      t.equal(errorCode(none), 'invalid_request')
      const past = await create({ name: 'x', scopes: ['tokens:read'], expires_at: '2000-01-01T00:00:00Z' })
      t.equal(past.statusCode, 400)
      t.equal(errorCode(past), 'invalid_expiry')
      const extra = await create({ name: 'x', scopes: ['tokens:read'], owner: 'someone' })
      t.equal(extra.statusCode, 400)
      t.equal(errorCode(extra), 'validation_failed')
      const noPw = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(session),
        payload: { name: 'x', scopes: ['tokens:read'] }
      })
      t.equal(noPw.statusCode, 400)
      t.equal(errorCode(noPw), 'password_required')
      const wrongPw = await create({ name: 'x', scopes: ['tokens:read'], password: 'wrong-password' })
      t.equal(wrongPw.statusCode, 403)
      t.equal(errorCode(wrongPw), 'password_confirmation_failed')

      // A PAT with tokens:write only cannot mint a token holding tokens:read.
      const narrow = (await create({ name: 'writer', scopes: ['tokens:write'] })).json().access_token as string
      const broader = await create({ name: 'broader', scopes: ['tokens:read'] }, narrow)
      t.equal(broader.statusCode, 403)
      t.equal(errorCode(broader), 'scope_not_permitted')
      // ...and a token without tokens:write cannot create at all.
      const readOnly = (await create({ name: 'reader', scopes: ['tokens:read'] })).json().access_token as string
      const denied = await create({ name: 'nope', scopes: ['tokens:read'] }, readOnly)
      t.equal(denied.statusCode, 403)
      t.equal(errorCode(denied), 'insufficient_scope')
      t.match(denied.headers['www-authenticate'], /error="insufficient_scope"/)
    })

    t.test('list: state filter and cursor pagination', async (t) => {
      const ids: string[] = []
      for (let i = 0; i < 5; i++)
        ids.push((await create({ name: `page ${i}`, scopes: ['tokens:read'] })).json().token.id)
      const revoke = await app.inject({
        method: 'DELETE',
        url: `/v1/tokens/${ids[0]}`,
        headers: bearer(session),
        payload: { password: PW }
      })
      t.equal(revoke.statusCode, 200)
      t.equal(revoke.json().state, 'revoked')
      const seen: string[] = []
      let cursor: string | null = null
      do {
        const url: string = `/v1/tokens?limit=2${cursor ? `&cursor=${cursor}` : ''}`
        const page = await app.inject({ url, headers: bearer(session) })
        t.equal(page.statusCode, 200)
        const body = page.json()
        t.ok(body.items.length <= 2)
        seen.push(...body.items.map((i: { id: string }) => i.id))
        cursor = body.next_cursor
      } while (cursor !== null)
      t.equal(new Set(seen).size, seen.length, 'no token repeats across pages')
      for (const id of ids) t.ok(seen.includes(id), 'every token is listed once')
      const revoked = (await app.inject({ url: '/v1/tokens?state=revoked', headers: bearer(session) })).json()
      t.same(
        revoked.items.map((i: { id: string }) => i.id),
        [ids[0]]
      )
      const active = (await app.inject({ url: '/v1/tokens?state=active&limit=200', headers: bearer(session) })).json()
      t.notOk(active.items.some((i: { id: string }) => i.id === ids[0]))
      const badCursor = await app.inject({ url: '/v1/tokens?cursor=garbage', headers: bearer(session) })
      t.equal(badCursor.statusCode, 400)
      t.equal(errorCode(badCursor), 'invalid_request')
      const badState = await app.inject({ url: '/v1/tokens?state=zombie', headers: bearer(session) })
      t.equal(errorCode(badState), 'validation_failed')
    })

    t.test('edit: rename, narrow scopes, earlier expiry only', async (t) => {
      const exp = new Date(Date.now() + 86400_000).toISOString()
      const made = (await create({ name: 'edit me', preset: 'ci', expires_at: exp })).json()
      const value = made.access_token as string
      const id = made.token.id as string
      t.same((await introspect(ta, svc.token, value)).permissions, ['tokens:read', 'tokens:write'])
      const patch = (payload: Record<string, unknown>) =>
        app.inject({
          method: 'PATCH',
          url: `/v1/tokens/${id}`,
          headers: bearer(session),
          payload: { password: PW, ...payload }
        })
      const renamed = await patch({ name: 'edited', description: 'new words' })
      t.equal(renamed.statusCode, 200)
      t.equal(renamed.json().name, 'edited')
      const narrowed = await patch({ scopes: ['tokens:read'] })
      t.equal(narrowed.statusCode, 200)
      t.same(narrowed.json().scopes, ['tokens:read'])
      t.same(
        (await introspect(ta, svc.token, value)).permissions,
        ['tokens:read'],
        'narrowing takes effect at once (cache invalidated)'
      )
      const widen = await patch({ scopes: ['tokens:read', 'tokens:write'] })
      t.equal(widen.statusCode, 403)
      t.equal(errorCode(widen), 'scope_not_permitted')
      const later = await patch({ expires_at: new Date(Date.now() + 2 * 86400_000).toISOString() })
      t.equal(later.statusCode, 400)
      t.equal(errorCode(later), 'invalid_expiry')
      const earlier = new Date(Date.now() + 3600_000)
      const shortened = await patch({ expires_at: earlier.toISOString() })
      t.equal(shortened.statusCode, 200)
      const info = await introspect(ta, svc.token, value)
      t.equal(info.exp, Math.floor(earlier.getTime() / 1000), 'introspection reports the shortened expiry')
      const notMine = await app.inject({
        method: 'PATCH',
        url: `/v1/tokens/${svc.id.slice(0, 22)}`,
        headers: bearer(session),
        payload: { password: PW, name: 'x' }
      })
      t.equal(notMine.statusCode, 404)
    })

    t.test('regenerate: same parameters, old value dead at once, one winner', async (t) => {
      const made = (await create({ name: 'rotate me', description: 'd', scopes: ['tokens:read'] })).json()
      const regen = await app.inject({
        method: 'POST',
        url: `/v1/tokens/${made.token.id}/regenerate`,
        headers: bearer(session),
        payload: { password: PW }
      })
      t.equal(regen.statusCode, 201)
      const next = regen.json()
      t.not(next.access_token, made.access_token)
      t.equal(next.token.name, 'rotate me')
      t.equal(next.token.description, 'd')
      t.same(next.token.scopes, ['tokens:read'])
      t.equal(next.token.parent_id, made.token.id)
      t.same(await introspect(ta, svc.token, made.access_token), { active: false, reason: 'revoked' })
      t.equal((await introspect(ta, svc.token, next.access_token)).active, true)
      const old = (await app.inject({ url: `/v1/tokens/${made.token.id}`, headers: bearer(session) })).json()
      t.equal(old.replaced_by, next.token.id)
      const again = await app.inject({
        method: 'POST',
        url: `/v1/tokens/${made.token.id}/regenerate`,
        headers: bearer(session),
        payload: { password: PW }
      })
      t.equal(again.statusCode, 409)
      t.equal(errorCode(again), 'token_inactive')

      // Concurrent regenerations of one token: exactly one live successor.
      const target = (await create({ name: 'race', scopes: ['tokens:read'] })).json().token.id as string
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          app.inject({
            method: 'POST',
            url: `/v1/tokens/${target}/regenerate`,
            headers: bearer(session),
            payload: { password: PW }
          })
        )
      )
      const codes = results.map((r) => r.statusCode)
      t.equal(codes.filter((c) => c === 201).length, 1, `one winner (${codes.join(',')})`)
      t.ok(
        codes.every((c) => c === 201 || c === 409),
        'the rest get 409'
      )
      const successors = await app.authority.database.db
        .selectFrom('tokens')
        .select('id')
        .where('parent_id', '=', target)
        .execute()
      t.equal(successors.length, 1, 'one successor row in the database')
    })

    t.test('copy: new token from the parameters, source untouched', async (t) => {
      const made = (await create({ name: 'original', description: 'src', preset: 'read-only' })).json()
      const copy = await app.inject({
        method: 'POST',
        url: `/v1/tokens/${made.token.id}/copy`,
        headers: bearer(session),
        payload: { password: PW }
      })
      t.equal(copy.statusCode, 201)
      const c = copy.json()
      t.equal(c.token.name, 'original (copy)')
      t.equal(c.token.preset, 'read-only')
      t.same(c.token.scopes, made.token.scopes)
      t.not(c.token.id, made.token.id)
      t.equal((await introspect(ta, svc.token, made.access_token)).active, true, 'source still active')
      t.equal((await introspect(ta, svc.token, c.access_token)).active, true)
    })

    t.test('revoke several, audit rows, others cannot touch', async (t) => {
      const a = (await create({ name: 'a', scopes: ['tokens:read'] })).json()
      const b = (await create({ name: 'b', scopes: ['tokens:read'] })).json()
      const admins = (
        await app.inject({
          method: 'POST',
          url: '/v1/tokens',
          headers: bearer(ta.adminToken),
          payload: { name: 'admin pat', scopes: ['tokens:read'], password: ADMIN.password }
        })
      ).json()
      const res = await app.inject({
        method: 'POST',
        url: '/v1/tokens/revoke',
        headers: bearer(session),
        payload: { ids: [a.token.id, b.token.id, admins.token.id], password: PW }
      })
      t.equal(res.statusCode, 200)
      t.same(res.json().revoked.sort(), [a.token.id, b.token.id].sort())
      t.same(res.json().not_found, [admins.token.id], "another account's token is not found, and not revoked")
      t.equal((await introspect(ta, svc.token, admins.access_token)).active, true)
      t.same(await introspect(ta, svc.token, a.access_token), { active: false, reason: 'revoked' })
      const audit = await app.authority.database.db
        .selectFrom('audit_events')
        .selectAll()
        .where('token_id', 'in', [a.token.id, b.token.id])
        .orderBy('at')
        .execute()
      t.same(audit.map((r) => r.action).sort(), ['token.create', 'token.create', 'token.revoke', 'token.revoke'])
      for (const row of audit) {
        t.ok(row.actor_account_id, 'audit row names the actor')
        t.ok(row.ip, 'audit row has the client address')
        t.notOk(row.details.includes('tka_'), 'no token value in audit details')
      }
      const again = await app.inject({
        method: 'POST',
        url: '/v1/tokens/revoke',
        headers: bearer(session),
        payload: { ids: [a.token.id], password: PW }
      })
      t.same(again.json().already_inactive, [a.token.id])
      const auditAfter = await app.authority.database.db
        .selectFrom('audit_events')
        .select('id')
        .where('token_id', '=', a.token.id)
        .execute()
      t.equal(auditAfter.length, 2, 'a no-op revoke writes no audit row')
    })
    t.test('concurrent edits: compare-and-set, never a silent re-widening', async (t) => {
      // (moved from the former hardening.test.ts)
      const db = app.authority.database.db
      const made = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: 'h', scopes: ['tokens:read', 'tokens:write', 'accounts:read'], password: ADMIN.password }
      })
      if (made.statusCode !== 201) throw new Error(made.body)
      const pat = { id: made.json().token.id as string, value: made.json().access_token as string }
      const sets = [['tokens:read'], ['tokens:read', 'tokens:write'], ['accounts:read'], ['tokens:write']]
      const results = await Promise.all(
        sets.map((scopes) =>
          app.inject({
            method: 'PATCH',
            url: `/v1/tokens/${pat.id}`,
            headers: bearer(ta.adminToken),
            payload: { scopes, password: ADMIN.password }
          })
        )
      )
      const codes = results.map((r) => r.statusCode)
      t.ok(
        codes.every((c) => c === 200 || c === 409 || c === 403),
        `codes ${codes.join(',')}`
      )
      const ok = results.filter((r) => r.statusCode === 200).map((r) => r.json().scopes as string[])
      t.ok(ok.length >= 1)
      const row = await db.selectFrom('tokens').select('scopes').where('id', '=', pat.id).executeTakeFirstOrThrow()
      const final = JSON.parse(row.scopes!) as string[]
      t.ok(
        ok.some((s) => JSON.stringify(s) === JSON.stringify(final)),
        'the stored scopes are what a 200 reported'
      )
      const edits = await db
        .selectFrom('audit_events')
        .select('id')
        .where('token_id', '=', pat.id)
        .where('action', '=', 'token.edit')
        .execute()
      t.equal(edits.length, ok.length, 'one audit row per successful edit')
    })
  })

  t.test(`races and the audit trail on ${backend}`, async (t) => {
    // (moved from the former adversarial.test.ts, same settings) A 1,000-request burst queues
    // behind 10 pooled connections: give the queue time to drain (with the default 3 s bound the
    // excess would be shed as 503, by design) and count what it costs.
    const ta = await startAuthority(t, backend, {
      env: { INTROSPECT_UNKNOWN_PER_MINUTE: '20', REQUIRE_PASSWORD_CONFIRMATION: 'false', DB_QUERY_TIMEOUT_MS: '30000' }
    })
    const { app } = ta
    const db = app.authority.database.db

    t.test('50 concurrent regenerations: one 201, the rest 409, one successor', async (t) => {
      const made = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: 'race', scopes: ['tokens:read'] }
      })
      const id = made.json().token.id as string
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          app.inject({
            method: 'POST',
            url: `/v1/tokens/${id}/regenerate`,
            headers: bearer(ta.adminToken),
            payload: {}
          })
        )
      )
      const codes = results.map((r) => r.statusCode)
      t.equal(codes.filter((c) => c === 201).length, 1, `one winner (${codes.join(',')})`)
      t.equal(
        codes.filter((c) => c === 409).length,
        49,
        `the rest 409 (${results
          .filter((r) => r.statusCode !== 201 && r.statusCode !== 409)
          .map((r) => r.body)
          .join(' ')})`
      )
      const successors = await db
        .selectFrom('tokens')
        .select('id')
        .where('parent_id', '=', id)
        .where('revoked_at', 'is', null)
        .execute()
      t.equal(successors.length, 1, 'one live successor in the database')
    })

    t.test('1,000 concurrent creates: 1,000 distinct values and rows, no 5xx', async (t) => {
      const before = (await db.selectFrom('tokens').select('id').execute()).length
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          app.inject({
            method: 'POST',
            url: '/v1/tokens',
            headers: bearer(ta.adminToken),
            payload: { name: `bulk ${i}`, scopes: ['tokens:read'] }
          })
        )
      )
      t.equal(results.filter((r) => r.statusCode >= 500).length, 0, 'no 5xx')
      const statuses: Record<string, number> = {}
      for (const r of results) {
        const k = r.statusCode >= 300 ? `${r.statusCode} ${r.json().code}` : String(r.statusCode)
        statuses[k] = (statuses[k] ?? 0) + 1
      }
      t.equal(results.filter((r) => r.statusCode === 201).length, 1000, `all created (${JSON.stringify(statuses)})`)
      t.equal(new Set(results.map((r) => r.json().access_token)).size, 1000, 'distinct values')
      const after = (await db.selectFrom('tokens').select('id').execute()).length
      t.equal(after - before, 1000, '1,000 rows')
    })

    t.test('one audit row per change', async (t) => {
      const count = async () =>
        Number(
          (await db.selectFrom('audit_events').select(db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n
        )
      const start = await count()
      const made = (
        await app.inject({
          method: 'POST',
          url: '/v1/tokens',
          headers: bearer(ta.adminToken),
          payload: { name: 'a', preset: 'ci' }
        })
      ).json()
      await app.inject({
        method: 'PATCH',
        url: `/v1/tokens/${made.token.id}`,
        headers: bearer(ta.adminToken),
        payload: { name: 'b' }
      })
      await app.inject({
        method: 'PATCH',
        url: `/v1/tokens/${made.token.id}`,
        headers: bearer(ta.adminToken),
        payload: { name: 'b' }
      }) // no change
      const regen = (
        await app.inject({
          method: 'POST',
          url: `/v1/tokens/${made.token.id}/regenerate`,
          headers: bearer(ta.adminToken),
          payload: {}
        })
      ).json()
      const copy = (
        await app.inject({
          method: 'POST',
          url: `/v1/tokens/${regen.token.id}/copy`,
          headers: bearer(ta.adminToken),
          payload: {}
        })
      ).json()
      await app.inject({
        method: 'POST',
        url: '/v1/tokens/revoke',
        headers: bearer(ta.adminToken),
        payload: { ids: [regen.token.id, copy.token.id] }
      })
      await app.inject({
        method: 'POST',
        url: '/v1/tokens/revoke',
        headers: bearer(ta.adminToken),
        payload: { ids: [regen.token.id] }
      }) // no change
      await app.inject({
        method: 'PATCH',
        url: `/v1/tokens/${copy.token.id}`,
        headers: bearer(ta.adminToken),
        payload: { name: 'refused' }
      }) // 409
      t.equal((await count()) - start, 6, 'create, edit, regenerate, copy, 2 revokes: 6 rows; no-ops and refusals none')
    })
  })

  t.test(`expiry on a frozen clock, and after pruning, on ${backend}`, async (t) => {
    const startMs = Date.now()
    const ta = await startAuthority(t, backend, { frozen: startMs })
    const clock = frozenOf(ta)
    const { app } = ta
    const verifier = await createService(ta, 'verifier', ['tokens:introspect', 'tokens:introspect:reason'])
    const plain = await createService(ta, 'plain-verifier', ['tokens:introspect'])
    await createAccount(ta, {
      username: 'erin',
      password: PW,
      kind: 'customer',
      permissions: ['tokens:read', 'tokens:write']
    })
    const session = await login(app, 'customer', 'erin', PW)
    const expSec = Math.floor(startMs / 1000) + 3600
    const created = await app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: bearer(session),
      payload: {
        name: 'short',
        scopes: ['tokens:read'],
        expires_at: new Date(expSec * 1000).toISOString(),
        password: PW
      }
    })
    t.equal(created.statusCode, 201)
    const value = created.json().access_token as string
    const id = created.json().token.id as string
    const intro = (token: string, caller: string) =>
      app.inject({
        method: 'POST',
        url: '/introspect',
        headers: { ...bearer(caller), 'content-type': 'application/x-www-form-urlencoded' },
        payload: `token=${encodeURIComponent(token)}`
      })

    const active = await intro(value, verifier.token)
    t.equal(active.json().active, true)
    t.equal(active.json().exp, expSec)

    clock.set((expSec - 1) * 1000)
    t.equal((await intro(value, verifier.token)).json().active, true, 'one second before exp: active')
    clock.set(expSec * 1000)
    t.strictSame((await intro(value, verifier.token)).json(), { active: false, reason: 'expired' }, 'at exp: expired')

    clock.set(startMs + 2 * HOUR)
    // Warm the callers (their own tokens never expire) so only the expired token could read.
    await intro('warm-up', verifier.token)
    await intro('warm-up', plain.token)
    const reads = await dbReads(app)
    const why = await intro(value, verifier.token)
    t.equal(why.statusCode, 200)
    t.strictSame(why.json(), { active: false, reason: 'expired' }, 'two hours later: expired')
    const bare = await intro(value, plain.token)
    t.equal(bare.body, '{"active":false}', 'no reason for a caller without tokens:introspect:reason')
    t.equal(await dbReads(app), reads, 'an expired token costs no database read (expiry is signed)')
    const me = await app.inject({ url: '/v1/me', headers: bearer(session) })
    t.equal(me.statusCode, 401, 'the 1 h customer login token has expired too')
    t.equal(errorCode(me), 'invalid_token')

    const db = app.authority.database.db
    const rowsBefore = await db.selectFrom('tokens').select('id').where('id', '=', id).execute()
    t.equal(rowsBefore.length, 1, 'the expired row is still stored before pruning')
    const pruned = await pruneNow(db, clock, 0)
    t.ok(pruned >= 1, `pruneNow deleted rows (${pruned})`)
    const rowsAfter = await db.selectFrom('tokens').select('id').where('id', '=', id).execute()
    t.equal(rowsAfter.length, 0, 'the expired row is gone')
    const live = await db.selectFrom('tokens').select('id').where('account_id', '=', verifier.id).execute()
    t.equal(live.length, 1, 'a live, never-expiring token is not pruned')

    t.strictSame(
      (await intro(value, verifier.token)).json(),
      { active: false, reason: 'expired' },
      'still expired after the row is pruned'
    )
    t.equal((await intro(value, plain.token)).body, '{"active":false}')
    t.equal(
      (await intro(verifier.token, verifier.token)).json().active,
      true,
      'the service token itself still introspects active'
    )
  })

  t.test(`HMAC key rotation on ${backend}`, async (t) => {
    const backendHandle = await createBackend(backend)
    t.teardown(() => backendHandle.cleanup())
    const pepper = randomBytes(32).toString('base64')
    const oldKey = key('old')
    const newKey = key('new')
    const withKeys = (keys: string) =>
      startAuthority(t, backend, { backend: backendHandle, env: { TOKEN_SIGNING_KEYS: keys, TOKEN_PEPPER: pepper } })
    const a = await withKeys(oldKey)
    const svcA = await createService(a, 'rotation-svc', ['tokens:introspect', 'tokens:introspect:reason'])
    const oldPat = (
      await a.app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(a.adminToken),
        payload: { name: 'old', scopes: ['tokens:read'], password: ADMIN.password }
      })
    ).json()

    // rotate: the new key signs, the old one still verifies
    const b = await withKeys(`${newKey},${oldKey}`)
    t.equal(
      (await introspect(b, svcA.token, oldPat.access_token)).active,
      true,
      'old-key token verifies after rotation'
    )
    const newPat = (
      await b.app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(b.adminToken),
        payload: { name: 'new', scopes: ['tokens:read'], password: ADMIN.password }
      })
    ).json()
    t.equal(newPat.token.id.length, 22)
    const row = await b.app.authority.database.db
      .selectFrom('tokens')
      .select('kid')
      .where('id', '=', newPat.token.id)
      .executeTakeFirstOrThrow()
    t.equal(row.kid, 'new', 'new tokens use the new key')

    // retire the old key: its tokens are inactive (no I/O needed to know), new ones still work
    const c = await withKeys(newKey)
    const svcC = (
      await c.app.inject({
        method: 'POST',
        url: `/v1/accounts/${svcA.id}/tokens`,
        headers: bearer(c.adminToken),
        payload: {
          name: 'rotated',
          scopes: ['tokens:introspect', 'tokens:introspect:reason'],
          password: ADMIN.password
        }
      })
    ).json().access_token as string
    t.same(
      await introspect(c, svcC, oldPat.access_token),
      { active: false, reason: 'unknown' },
      'retired key: inactive'
    )
    t.equal((await introspect(c, svcC, newPat.access_token)).active, true)
  })
}
