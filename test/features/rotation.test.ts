// Rotation that never strands a client (issue 16, item 1; docs/tokens.md, "Rotation"), on both
// backends and a frozen clock: a regenerate may give the old value an overlap; the first use of the
// new value ends it at once (introspection or API credential), the overlap's end in any case; a
// stopped value presented again revokes the whole family (reason reuse_detected), published
// through the revocation log. The pure state rules are unit-tested in test/unit/rotation.test.ts.
import type { AddressInfo } from 'node:net'
import t from 'tap'
import {
  bearer,
  createAccount,
  createService,
  errorCode,
  introspect,
  login,
  startAuthority
} from '../support/authority.js'
import { openStream } from '../support/sse.js'
import { BACKEND_NAMES } from '../support/backends.js'

const PW = 'customer-password-1'
const START = Date.UTC(2026, 5, 1, 12, 0, 0)

for (const backend of BACKEND_NAMES()) {
  t.test(`rotation on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend, { frozen: START })
    const { app } = ta
    const clock = ta.clock as { now(): number; advance(ms: number): void }
    const db = app.authority.database.db
    const svc = await createService(ta, 'rotation-verifier', ['tokens:introspect', 'tokens:introspect:reason'])
    await createAccount(ta, {
      username: 'rita',
      password: PW,
      kind: 'customer',
      permissions: ['tokens:read', 'tokens:write']
    })
    // logged in again per test: a test that moves the clock must not leave the next one without a session
    const session = () => login(app, 'customer', 'rita', PW)

    const create = async (s: string): Promise<{ id: string; value: string }> => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(s),
        payload: { name: 'deploy', scopes: ['tokens:read'], password: PW }
      })
      if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`)
      return { id: res.json().token.id, value: res.json().access_token }
    }
    const regenerate = (s: string, id: string, extra: Record<string, unknown> = {}) =>
      app.inject({
        method: 'POST',
        url: `/v1/tokens/${id}/regenerate`,
        headers: bearer(s),
        payload: { password: PW, ...extra }
      })
    const rotate = async (s: string, id: string, overlap?: number): Promise<{ id: string; value: string }> => {
      const res = await regenerate(s, id, overlap === undefined ? {} : { old_valid_for_seconds: overlap })
      if (res.statusCode !== 201) throw new Error(`regenerate failed: ${res.statusCode} ${res.body}`)
      return { id: res.json().token.id, value: res.json().access_token }
    }
    const view = async (s: string, id: string) =>
      (await app.inject({ url: `/v1/tokens/${id}`, headers: bearer(s) })).json()
    const look = (value: string) => introspect(ta, svc.token, value)
    const audit = (tokenId: string) =>
      db
        .selectFrom('audit_events')
        .select(['action', 'details', 'actor_token_id'])
        .where('token_id', '=', tokenId)
        .orderBy('at')
        .execute()
    const events = async (reason: string) =>
      (await db.selectFrom('revocation_events').selectAll().where('reason', '=', reason).orderBy('seq').execute()).map(
        (r) => JSON.parse(r.token_ids) as string[]
      )
    const nowSec = () => Math.floor(clock.now() / 1000)

    t.test('during the overlap the old value works, and introspection says until when', async (t) => {
      const s = await session()
      const old = await create(s)
      t.equal((await look(old.value)).active, true, 'cached before the regenerate')
      const next = await rotate(s, old.id, 600)
      const endsAt = nowSec() + 600
      const a = await look(old.value)
      t.equal(a.active, true)
      t.equal(a.rotation, 'superseded')
      t.equal(a.rotation_ends_at, endsAt)
      t.equal(a.jti, old.id)
      // the answer's cache hint stops at the overlap's end
      clock.advance(590_000)
      const res = await app.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(svc.token),
        payload: { token: old.value }
      })
      t.equal(res.json().active, true)
      t.match(res.headers['cache-control'], /max-age=([0-9]|10)$/, 'max-age ≤ the 10 s left of the overlap')
      const v = await view(s, old.id)
      t.equal(v.state, 'active')
      t.equal(v.rotation, 'superseded')
      t.equal(v.replaced_by, next.id)
      t.equal(v.rotation_ends_at, new Date(endsAt * 1000).toISOString())
      const listed = (await app.inject({ url: '/v1/tokens?state=active', headers: bearer(s) })).json().items
      t.ok(
        listed.some((x: { id: string; rotation: string }) => x.id === old.id && x.rotation === 'superseded'),
        'listed as active and superseded'
      )
      t.equal((await view(s, next.id)).rotation, null, 'the new token is not in a rotation state')
      // (the clock is frozen: rows of one moment have no order, so find it by action)
      const row = (await audit(old.id)).find((r) => r.action === 'token.regenerate')
      t.ok(row, 'the regenerate is audited')
      t.match(JSON.parse(row!.details), {
        successor: next.id,
        old_valid_for_seconds: 600,
        old_valid_until: endsAt
      })
    })

    t.test('the first introspection of the new value ends the old at once (one write)', async (t) => {
      const s = await session()
      const old = await create(s)
      const next = await rotate(s, old.id, 3600)
      t.equal((await look(old.value)).active, true, 'old active and cached')
      const before = (await events('rotated')).length
      for (let i = 0; i < 3; i++) t.equal((await look(next.value)).active, true, 'new value active')
      const v = await view(s, old.id)
      t.equal(v.state, 'revoked')
      t.equal(v.rotation, 'stopped')
      t.equal(v.revoked_reason, 'rotated')
      t.equal(v.rotation_ends_at, new Date(clock.now()).toISOString(), 'stopped now, not at the overlap end')
      const ended = (await audit(old.id)).filter((r) => r.action === 'token.rotation_end')
      t.equal(ended.length, 1, 'one audit row, however often the new value is used')
      t.match(JSON.parse(ended[0]!.details), { successor: next.id, cause: 'successor_used' })
      t.equal(ended[0]!.actor_token_id, next.id)
      const after = await events('rotated')
      t.equal(after.length, before + 1, 'one revocation event')
      t.same(after.at(-1), [old.id])
      t.equal(
        (await db.selectFrom('tokens').select('supersedes_until').where('id', '=', next.id).executeTakeFirstOrThrow())
          .supersedes_until,
        null,
        'the new token no longer sets anything off'
      )
    })

    t.test('the first use of the new value as an API credential ends the old at once', async (t) => {
      const s = await session()
      const old = await create(s)
      const next = await rotate(s, old.id, 3600)
      t.equal((await app.inject({ url: '/v1/tokens', headers: bearer(old.value) })).statusCode, 200, 'old works')
      t.equal((await app.inject({ url: '/v1/tokens', headers: bearer(next.value) })).statusCode, 200, 'new works')
      const v = await view(s, old.id)
      t.equal(v.state, 'revoked')
      t.equal(v.revoked_reason, 'rotated')
    })

    t.test('the overlap ends the old value at its end, even unused', async (t) => {
      const s = await session()
      const old = await create(s)
      const next = await rotate(s, old.id, 60)
      t.equal((await look(old.value)).active, true, 'cached during the overlap')
      clock.advance(59_000)
      t.equal((await look(old.value)).active, true, 'one second left')
      clock.advance(1000)
      const s2 = await session()
      const v = await view(s2, old.id)
      t.equal(v.state, 'revoked', 'no write needed: the row says when')
      t.equal(v.rotation, 'stopped')
      const active = (await app.inject({ url: '/v1/tokens?state=active', headers: bearer(s2) })).json().items
      t.notOk(
        active.some((x: { id: string }) => x.id === old.id),
        'not listed as active'
      )
      const revoked = (await app.inject({ url: '/v1/tokens?state=revoked', headers: bearer(s2) })).json().items
      t.ok(
        revoked.some((x: { id: string }) => x.id === old.id),
        'listed as revoked'
      )
      // the cached entry does not answer past the overlap: the database does; within the grace
      // (ROTATION_REUSE_GRACE_SECONDS) that is `revoked`, after it reuse
      t.same(await look(old.value), { active: false, reason: 'revoked' })
      t.equal((await look(next.value)).active, true)
      clock.advance(60_000)
      t.same(await look(old.value), { active: false, reason: 'reuse_detected' })
      t.same(await look(next.value), { active: false, reason: 'reuse_detected' })
    })

    t.test('reuse after a stop revokes the whole family, later successors too', async (t) => {
      const s = await session()
      const first = await create(s)
      const second = await rotate(s, first.id)
      const third = await rotate(s, second.id, 600)
      const fourth = await rotate(s, third.id)
      t.equal((await look(fourth.value)).active, true, 'the newest works (and is cached)')
      t.same(await look(first.value), { active: false, reason: 'revoked' }, 'within the grace: dead, not reuse')
      clock.advance(60_000)
      const before = (await events('reuse_detected')).length
      t.same(await look(first.value), { active: false, reason: 'reuse_detected' }, 'a stopped value presented again')
      for (const x of [second, third, fourth])
        t.same(await look(x.value), { active: false, reason: 'reuse_detected' }, `${x.id} revoked with the family`)
      for (const x of [first, second, third, fourth]) {
        const v = await view(s, x.id)
        t.equal(v.state, 'revoked')
        t.equal(v.revoked_reason, 'reuse_detected')
      }
      const logged = await events('reuse_detected')
      t.equal(logged.length, before + 1, 'one revocation event, in the change’s transaction')
      t.same(logged.at(-1), [first.id, second.id, third.id, fourth.id])
      const detected = (await audit(first.id)).filter((r) => r.action === 'token.reuse_detected')
      t.equal(detected.length, 1)
      t.match(JSON.parse(detected[0]!.details), { family: [first.id, second.id, third.id, fourth.id] })
      const revokedRow = (await audit(fourth.id)).find((r) => r.action === 'token.revoke')
      t.match(JSON.parse(revokedRow!.details), { reason: 'reuse_detected' })
      // presenting it again sets nothing off again
      t.same(await look(first.value), { active: false, reason: 'reuse_detected' })
      t.equal((await events('reuse_detected')).length, before + 1)
      t.equal((await audit(first.id)).filter((r) => r.action === 'token.reuse_detected').length, 1)
    })

    t.test('after an early stop, reuse is armed at the overlap’s scheduled end (API credential)', async (t) => {
      const s = await session()
      const old = await create(s)
      const next = await rotate(s, old.id, 3600)
      t.equal((await look(next.value)).active, true, 'the client switched: the old value stopped')
      // a replica of the client still rolling over, long after the grace but within the overlap
      clock.advance(3_599_000)
      const late = await app.inject({ url: '/v1/tokens', headers: bearer(old.value) })
      t.equal(late.statusCode, 401, 'the old value is dead')
      t.equal((await look(next.value)).active, true, 'and takes nothing down with it')
      clock.advance(1000)
      const res = await app.inject({ url: '/v1/tokens', headers: bearer(old.value) })
      t.equal(res.statusCode, 401)
      t.equal(errorCode(res), 'invalid_token')
      t.same(await look(next.value), { active: false, reason: 'reuse_detected' }, 'the new value went with it')
      const v = await view(await session(), old.id)
      t.equal(v.revoked_reason, 'reuse_detected')
    })

    t.test('a value a person revoked, or one that failed its hash, sets nothing off', async (t) => {
      const s = await session()
      const old = await create(s)
      const next = await rotate(s, old.id, 3600)
      const del = await app.inject({
        method: 'DELETE',
        url: `/v1/tokens/${old.id}`,
        headers: bearer(s),
        payload: { password: PW }
      })
      t.equal(del.statusCode, 200)
      t.equal(del.json().replaced_by, next.id, 'a revoke keeps the link to the successor')
      t.same(await look(old.value), { active: false, reason: 'revoked' })
      t.equal((await look(next.value)).active, true)
      // same id, signature and expiry, another secret: not the holder of the value
      const other = await create(s)
      const after = await rotate(s, other.id)
      const v = other.value
      const forged = v.slice(0, 20) + (v[20] === 'A' ? 'B' : 'A') + v.slice(21)
      t.equal((await look(forged)).active, false)
      t.equal((await look(after.value)).active, true, 'the family stands')
    })

    t.test('the overlap is capped by configuration', async (t) => {
      const s = await session()
      const old = await create(s)
      const res = await regenerate(s, old.id, { old_valid_for_seconds: 86401 })
      t.equal(res.statusCode, 400)
      t.equal(errorCode(res), 'overlap_too_long')
      const neg = await regenerate(s, old.id, { old_valid_for_seconds: -1 })
      t.equal(neg.statusCode, 400)
      t.equal(errorCode(neg), 'validation_failed')
      const v = await view(s, old.id)
      t.equal(v.replaced_by, null, 'nothing changed')
      t.equal((await look(old.value)).active, true)
      t.equal((await regenerate(s, old.id, { old_valid_for_seconds: 86400 })).statusCode, 201, 'the cap itself is fine')
    })

    t.test('concurrent regenerates with an overlap: one successor', async (t) => {
      const s = await session()
      const old = await create(s)
      const results = await Promise.all(
        Array.from({ length: 8 }, () => regenerate(s, old.id, { old_valid_for_seconds: 600 }))
      )
      const codes = results.map((r) => r.statusCode)
      t.equal(codes.filter((c) => c === 201).length, 1, `one winner (${codes.join(',')})`)
      t.ok(
        codes.every((c) => c === 201 || c === 409),
        'the rest 409'
      )
      const rows = await db.selectFrom('tokens').select('id').where('parent_id', '=', old.id).execute()
      t.equal(rows.length, 1, 'one successor row')
      t.equal((await look(old.value)).active, true, 'the old value is in its overlap')
      const again = await regenerate(s, old.id, { old_valid_for_seconds: 600 })
      t.equal(again.statusCode, 409)
      t.equal(errorCode(again), 'token_superseded', 'a superseded token is not regenerated again')
    })

    t.test('regenerating the successor during the overlap stops the old value', async (t) => {
      const s = await session()
      const old = await create(s)
      const next = await rotate(s, old.id, 600)
      t.equal((await look(old.value)).active, true)
      const newest = await rotate(s, next.id, 600)
      const v = await view(s, old.id)
      t.equal(v.state, 'revoked', 'one overlap per family at a time')
      t.equal(v.revoked_reason, 'rotated')
      const ended = (await audit(old.id)).find((r) => r.action === 'token.rotation_end')
      t.match(JSON.parse(ended!.details), { cause: 'successor_regenerated' })
      const n = await look(next.value)
      t.equal(n.active, true, 'the middle value is in its own overlap')
      t.equal(n.rotation, 'superseded')
      t.equal((await look(newest.value)).active, true)
      t.equal((await view(s, next.id)).state, 'revoked', 'the newest value’s first use stopped the middle one')
    })

    t.test('the family revocation reaches another replica through the log', async (t) => {
      const s = await session()
      const replica = await ta.replica()
      const old = await create(s)
      const next = await rotate(s, old.id)
      const onReplica = async (value: string) =>
        (
          await replica.inject({
            method: 'POST',
            url: '/introspect',
            headers: bearer(svc.token),
            payload: { token: value }
          })
        ).json()
      t.equal((await onReplica(next.value)).active, true, 'cached on the replica')
      clock.advance(60_000)
      t.equal((await look(old.value)).reason, 'reuse_detected')
      await waitFor(async () => (await onReplica(next.value)).active === false)
      t.same(await onReplica(next.value), { active: false, reason: 'reuse_detected' })
    })

    t.test('the revocation stream carries the family revocation', async (t) => {
      await app.listen({ port: 0, host: '127.0.0.1' })
      // no socket of this test may hold the app's close (fetch keeps connections alive)
      t.teardown(() => app.server.closeAllConnections())
      const follower = await createService(ta, 'rotation-follower', ['tokens:revocations'])
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/revocations`
      const stream = await openStream(url, follower.token)
      t.equal(stream.res.status, 200)
      const s = await session()
      const old = await create(s)
      const next = await rotate(s, old.id)
      clock.advance(60_000)
      t.equal((await look(old.value)).reason, 'reuse_detected')
      await waitFor(async () => stream.received.some((e) => e.data.reason === 'reuse_detected'))
      await stream.close()
      const e = stream.received.find((x) => x.data.reason === 'reuse_detected')!
      t.same(e.data.token_ids, [old.id, next.id])
    })
  })
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
