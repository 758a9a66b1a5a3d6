// Revoke by selector (issue 16 item 3, docs/tokens.md), on both backends: a dry run changes
// nothing; a real run revokes exactly the matching set, in the revocation log, audited once; the
// privilege boundary holds; bad selectors are 400s. The revoke-before watermark: revoke-before.test.ts.
import t from 'tap'
import { ADMIN, bearer, createAccount, errorCode, introspect, login, type TestAuthority } from '../support/authority.js'
import { seedOwners, seedTokens } from '../../scripts/bench/seed.js'
import { BACKEND_NAMES } from '../support/backends.js'
import { active, events, newPat, OPS_PW, START, setup } from '../support/revocation-fixture.js'

for (const backend of BACKEND_NAMES()) {
  t.test(`revoke by selector on ${backend}`, async (t) => {
    const revokeMatching = (ta: TestAuthority, token: string, body: Record<string, unknown>) =>
      ta.app.inject({ method: 'POST', url: '/v1/admin/tokens/revoke-matching', headers: bearer(token), payload: body })

    t.test('a dry run counts and lists, and changes nothing', async (t) => {
      const { ta, svc, session } = await setup(t, backend)
      const a = await newPat(ta, session, 'ci-deploy')
      const b = await newPat(ta, session, 'ci-lint')
      const other = await newPat(ta, session, 'laptop')
      const res = await revokeMatching(ta, ta.adminToken, { selector: { name_prefix: 'ci-' }, dry_run: true })
      t.equal(res.statusCode, 200, res.body)
      const body = res.json()
      t.equal(body.dry_run, true)
      t.equal(body.matched, 2)
      t.equal(body.revoked, 0)
      t.same([...body.ids].sort(), [a.id, b.id].sort())
      t.equal(body.next_cursor, null)
      t.same(await events(ta, 'revoked_by_selector'), [], 'nothing in the revocation log')
      for (const tk of [a, b, other]) t.equal(await active(ta, svc.token, tk.value), true)
    })

    t.test('a real run revokes exactly the matching set, publishes it and audits once', async (t) => {
      const { ta, svc, session } = await setup(t, backend)
      const a = await newPat(ta, session, 'ci-deploy')
      const b = await newPat(ta, session, 'ci-lint', ['tokens:read', 'tokens:write'])
      const caseDiffers = await newPat(ta, session, 'CI-upper')
      const other = await newPat(ta, session, 'laptop', ['tokens:write'])
      // warm the caches: the revoke must reach them
      for (const tk of [a, b, caseDiffers, other]) t.equal(await active(ta, svc.token, tk.value), true)
      const res = await revokeMatching(ta, ta.adminToken, {
        selector: { name_prefix: 'ci-', scope: 'tokens:read' },
        dry_run: false,
        password: ADMIN.password
      })
      t.equal(res.statusCode, 200, res.body)
      t.match(res.json(), { dry_run: false, matched: 2, revoked: 2, next_cursor: null })
      t.same(await events(ta, 'revoked_by_selector'), [a.id, b.id].sort(), 'in the revocation log')
      t.equal(await active(ta, svc.token, a.value), false)
      t.equal(await active(ta, svc.token, b.value), false)
      t.equal(await active(ta, svc.token, caseDiffers.value), true, 'the prefix is case-sensitive')
      t.equal(await active(ta, svc.token, other.value), true)
      const audit = await ta.app.authority.database.db
        .selectFrom('audit_events')
        .selectAll()
        .where('action', '=', 'token.revoke_matching')
        .execute()
      t.equal(audit.length, 1, 'one audit row')
      t.match(JSON.parse(audit[0]!.details), { revoked: 2, complete: true, selector: { name_prefix: 'ci-' } })
      const again = await revokeMatching(ta, ta.adminToken, {
        selector: { name_prefix: 'ci-' },
        dry_run: false,
        password: ADMIN.password
      })
      t.equal(again.json().matched, 0, 'revoked tokens no longer match')
    })

    t.test('kind, account, created and last-used criteria', async (t) => {
      const { ta, svc, customerId, session } = await setup(t, backend)
      const clock = ta.clock as { advance(ms: number): void }
      const early = await newPat(ta, session, 'early')
      clock.advance(60_000)
      const late = await newPat(ta, session, 'late')
      await introspect(ta, svc.token, late.value)
      await ta.app.authority.lastUsed.flush()
      const ids = async (selector: Record<string, unknown>) => {
        const res = await revokeMatching(ta, ta.adminToken, { selector, dry_run: true })
        t.equal(res.statusCode, 200, res.body)
        return [...(res.json().ids as string[])].sort()
      }
      const mid = new Date(START + 30_000).toISOString()
      t.same(await ids({ account_id: customerId, kind: 'pat' }), [early.id, late.id].sort())
      const beforeMid = await ids({ account_id: customerId, created_before: mid })
      t.ok(beforeMid.includes(early.id))
      t.notOk(beforeMid.includes(late.id))
      t.same(await ids({ account_id: customerId, kind: 'pat', created_after: mid }), [late.id])
      const soon = new Date(START + 120_000).toISOString()
      t.same(
        await ids({ account_id: customerId, kind: 'pat', last_used_before: soon }),
        [late.id],
        'never-used not matched'
      )
      t.same(
        await ids({ account_id: customerId, kind: 'pat', last_used_before: soon, include_never_used: true }),
        [early.id, late.id].sort(),
        'never-used matched when asked'
      )
      t.same(await ids({ account_id: customerId, kind: 'svc' }), [])
    })

    t.test('the scope criterion alone leaves out tokens without that scope', async (t) => {
      const { ta, customerId, session } = await setup(t, backend)
      const reader = await newPat(ta, session, 'reader', ['tokens:read'])
      const both = await newPat(ta, session, 'both', ['tokens:read', 'tokens:write'])
      await newPat(ta, session, 'writer', ['tokens:write'])
      const res = await revokeMatching(ta, ta.adminToken, {
        selector: { account_id: customerId, kind: 'pat', scope: 'tokens:read' },
        dry_run: true
      })
      t.equal(res.statusCode, 200, res.body)
      t.same([...res.json().ids].sort(), [reader.id, both.id].sort(), 'every token holding it, no other')
    })

    t.test(
      'over 10,000 matches: pages of 500, a cursor to continue, a sample of 100, audited as incomplete',
      async (t) => {
        const { ta, svc } = await setup(t, backend)
        const db = ta.app.authority.database.db
        const [owner] = await seedOwners(db, 1, 4, `sel-${backend}`)
        // an account the admin may act on (seeded owners hold orders:read, which the admin does not)
        await db
          .updateTable('accounts')
          .set({ permissions: JSON.stringify(['tokens:read']) })
          .where('id', '=', owner!)
          .execute()
        const { kept } = await seedTokens({
          db,
          dialect: ta.app.authority.database.dialect,
          prefix: ta.config.TOKEN_PREFIX,
          signingKey: ta.keys.signingKeys[0]!,
          pepper: ta.keys.pepper,
          count: 10_050,
          owners: [owner!],
          keep: (i) => i === 0 || i === 10_049,
          label: `sel-${backend}`
        })
        const selector = { account_id: owner }
        const dry = await revokeMatching(ta, ta.adminToken, { selector, dry_run: true })
        t.equal(dry.statusCode, 200, dry.body)
        t.match(dry.json(), { matched: 10_000, revoked: 0 }, 'a call looks at 10,000 at most')
        t.equal(dry.json().ids.length, 100, 'and lists a sample of 100')
        t.type(dry.json().next_cursor, 'string', 'with a cursor to continue')
        const rest = await revokeMatching(ta, ta.adminToken, {
          selector,
          dry_run: true,
          cursor: dry.json().next_cursor
        })
        t.match(rest.json(), { matched: 50, next_cursor: null }, 'the cursor continues where it stopped')

        const first = await revokeMatching(ta, ta.adminToken, { selector, dry_run: false, password: ADMIN.password })
        t.equal(first.statusCode, 200, first.body)
        t.match(first.json(), { matched: 10_000, revoked: 10_000 })
        t.type(first.json().next_cursor, 'string')
        t.equal((await events(ta, 'revoked_by_selector')).length, 10_000, 'every revoked id in the revocation log')
        const second = await revokeMatching(ta, ta.adminToken, {
          selector,
          dry_run: false,
          password: ADMIN.password,
          cursor: first.json().next_cursor
        })
        t.match(second.json(), { matched: 50, revoked: 50, next_cursor: null })
        const log = await db
          .selectFrom('revocation_events')
          .select('token_ids')
          .where('reason', '=', 'revoked_by_selector')
          .execute()
        t.equal(log.length, 21, 'one log event per page of 500 (20 + the last 50)')
        t.ok(
          log.every((e) => (JSON.parse(e.token_ids) as string[]).length <= 500),
          'no page over 500'
        )
        const live = await db
          .selectFrom('tokens')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('account_id', '=', owner!)
          .where('revoked_at', 'is', null)
          .executeTakeFirstOrThrow()
        t.equal(Number(live.n), 0, 'all 10,050 revoked')
        for (const k of kept) t.equal(await active(ta, svc.token, k.value), false)
        const audit = await db
          .selectFrom('audit_events')
          .select('details')
          .where('action', '=', 'token.revoke_matching')
          .execute()
        t.same(
          audit
            .map((a) => {
              const d = JSON.parse(a.details) as { revoked: number; complete: boolean }
              return [d.revoked, d.complete] as const
            })
            .sort((x, y) => y[0] - x[0]),
          [
            [10_000, false],
            [50, true]
          ],
          'one audit row per call, the first marked incomplete'
        )
      }
    )

    t.test('the privilege boundary: tokens of more powerful accounts are left out, unseen', async (t) => {
      const { ta, svc, session } = await setup(t, backend)
      await createAccount(ta, {
        username: 'ops',
        password: OPS_PW,
        kind: 'admin',
        permissions: ['accounts:read', 'accounts:write', 'tokens:read', 'tokens:write']
      })
      const ops = await login(ta.app, 'admin', 'ops', OPS_PW)
      const job = await newPat(ta, session, 'job-customer')
      // nothing of the service account's (it holds more than ops) matches "svc-only-" yet
      const before = await revokeMatching(ta, ops, { selector: { name_prefix: 'svc-only-' }, dry_run: true })
      // two tokens of the service account, minted by the full admin
      const mintForService = async (name: string) => {
        const res = await ta.app.inject({
          method: 'POST',
          url: `/v1/accounts/${svc.id}/tokens`,
          headers: bearer(ta.adminToken),
          payload: { name, scopes: ['tokens:introspect'], password: ADMIN.password }
        })
        t.equal(res.statusCode, 201, `${name} minted`)
        return { id: res.json().token.id as string, value: res.json().access_token as string }
      }
      const svcJob = await mintForService('job-service')
      const svcOnly = await mintForService('svc-only-1')
      const dry = await revokeMatching(ta, ops, { selector: { name_prefix: 'job-' }, dry_run: true })
      t.same(dry.json(), { dry_run: true, matched: 1, revoked: 0, ids: [job.id], next_cursor: null })
      // the answer says nothing about the more powerful account's tokens: not a count, not an id
      const after = await revokeMatching(ta, ops, { selector: { name_prefix: 'svc-only-' }, dry_run: true })
      t.same(after.json(), before.json(), 'a selector matching only their tokens answers as if there were none')
      t.same(after.json(), { dry_run: true, matched: 0, revoked: 0, ids: [], next_cursor: null })
      const real = await revokeMatching(ta, ops, {
        selector: { name_prefix: 'job-' },
        dry_run: false,
        password: OPS_PW
      })
      t.same(real.json(), { dry_run: false, matched: 1, revoked: 1, ids: [job.id], next_cursor: null })
      t.equal(await active(ta, svc.token, job.value), false)
      t.equal(await active(ta, svc.token, svcJob.value), true, 'the service account holds more than ops: untouched')
      // an admin holding everything the service account holds does match it
      const all = await revokeMatching(ta, ta.adminToken, { selector: { name_prefix: 'svc-only-' }, dry_run: true })
      t.match(all.json(), { matched: 1, ids: [svcOnly.id] })
      const named = await revokeMatching(ta, ops, { selector: { account_id: svc.id }, dry_run: true })
      t.equal(named.statusCode, 403)
      t.equal(errorCode(named), 'account_more_privileged')
    })

    t.test('bad selectors are 400s that change nothing', async (t) => {
      const { ta, svc, session } = await setup(t, backend)
      const pat = await newPat(ta, session, 'ci-x')
      const bad: Array<[Record<string, unknown>, string]> = [
        [{ selector: {}, dry_run: false, password: ADMIN.password }, 'validation_failed'],
        [{ selector: { include_never_used: true }, dry_run: true }, 'validation_failed'],
        [{ selector: { name_prefix: 'ci-', include_never_used: true }, dry_run: true }, 'validation_failed'],
        [
          {
            selector: {
              created_after: new Date(START).toISOString(),
              created_before: new Date(START - 1000).toISOString()
            },
            dry_run: true
          },
          'validation_failed'
        ],
        [{ selector: { name_prefix: 'ci-', owner: 'x' }, dry_run: true }, 'validation_failed'],
        [{ selector: { created_before: 'last week' }, dry_run: true }, 'validation_failed'],
        [{ selector: { kind: 'jwt' }, dry_run: true }, 'validation_failed'],
        [{ selector: { name_prefix: 'ci-' } }, 'validation_failed'],
        [{ selector: { scope: 'nope:nothing' }, dry_run: true }, 'unknown_scope'],
        [{ selector: { name_prefix: 'ci-' }, dry_run: false }, 'password_required']
      ]
      for (const [body, code] of bad) {
        const res = await revokeMatching(ta, ta.adminToken, body)
        t.equal(res.statusCode, 400, JSON.stringify(body))
        t.equal(errorCode(res), code, JSON.stringify(body))
      }
      t.equal(await active(ta, svc.token, pat.value), true)
      t.same(await events(ta, 'revoked_by_selector'), [])
    })

    t.test('needs accounts:write', async (t) => {
      const { ta, session } = await setup(t, backend)
      const res = await revokeMatching(ta, session, { selector: { name_prefix: 'x' }, dry_run: true })
      t.equal(res.statusCode, 403)
      t.equal(errorCode(res), 'insufficient_scope')
    })
  })
}
