// Where an exchanged token (RFC 8693, kind xch) may go and how long it lives, against the features
// beside it (found by a review of the merged branches), on both backends:
// - it is a credential at its audience only: the authority refuses it on its API and as an RFC caller;
// - it never outlives its subject: a rotation overlap caps it and the successor's first use ends it,
//   revoke-before and revoke-by-selector take it with its subject;
// - a token regenerating itself (no overlap) gets its successor.
import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { ADMIN, bearer, errorCode, type TestAuthority } from '../support/authority.js'
import { BACKEND_NAMES } from '../support/backends.js'
import { frozenOf, PW, rfcFixture } from '../support/rfc.js'

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
const ACCESS = 'urn:ietf:params:oauth:token-type:access_token'

async function exchange(ta: TestAuthority, subject: string): Promise<{ value: string; expiresIn: number }> {
  const form = new URLSearchParams({
    grant_type: GRANT,
    subject_token: subject,
    subject_token_type: ACCESS,
    audience: 'orders-api'
  })
  const res: LightMyRequestResponse = await ta.app.inject({
    method: 'POST',
    url: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form.toString()
  })
  if (res.statusCode !== 200) throw new Error(`exchange failed: ${res.statusCode} ${res.body}`)
  return { value: res.json().access_token as string, expiresIn: res.json().expires_in as number }
}

for (const backend of BACKEND_NAMES()) {
  t.test(`exchanged tokens at the edges of other features on ${backend}`, async (t) => {
    const fx = await rfcFixture(t, backend)
    const { ta, app, introJson, makePat, session } = fx
    const clock = frozenOf(ta)

    t.test('an exchanged token is no credential at the authority itself', async (t) => {
      const pat = await makePat({ name: 'subject', scopes: ['tokens:read', 'tokens:write'] })
      const xch = await exchange(ta, pat.value)
      t.equal((await introJson(xch.value)).active, true, 'it is active (for its audience)')
      const list = await app.inject({ url: '/v1/tokens', headers: bearer(xch.value) })
      t.equal(list.statusCode, 401, 'the management API refuses it')
      t.equal(errorCode(list), 'invalid_token')
      const create = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(xch.value),
        payload: { name: 'minted', scopes: ['tokens:read'], password: PW }
      })
      t.equal(create.statusCode, 401, 'it cannot mint a PAT')
      const revoke = await app.inject({
        method: 'POST',
        url: '/revoke',
        headers: { ...bearer(xch.value), 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ token: pat.value }).toString()
      })
      t.equal(revoke.statusCode, 401, 'nor revoke by value as an RFC 7009 caller')
      t.equal((await introJson(pat.value)).active, true, 'the subject is untouched')
    })

    t.test('a token regenerating itself without an overlap gets its successor', async (t) => {
      const pat = await makePat({ name: 'self', scopes: ['tokens:read', 'tokens:write'] })
      const res = await app.inject({
        method: 'POST',
        url: `/v1/tokens/${pat.id}/regenerate`,
        headers: bearer(pat.value),
        payload: { password: PW }
      })
      t.equal(res.statusCode, 201, res.body)
      const next = res.json().access_token as string
      t.equal((await introJson(next)).active, true, 'the successor works')
      t.equal((await introJson(pat.value)).active, false, 'the old value stopped')
    })

    t.test('exchanged during an overlap: capped at its end, ended by the successor’s first use', async (t) => {
      const pat = await makePat({ name: 'rotating', scopes: ['tokens:read'] })
      const regen = await app.inject({
        method: 'POST',
        url: `/v1/tokens/${pat.id}/regenerate`,
        headers: bearer(session),
        payload: { password: PW, old_valid_for_seconds: 120 }
      })
      t.equal(regen.statusCode, 201, regen.body)
      const xch = await exchange(ta, pat.value)
      t.ok(xch.expiresIn <= 120, `lives ${xch.expiresIn} s, not past the overlap (120 s)`)
      t.equal((await introJson(xch.value)).active, true)
      // the successor's first use ends the old value's overlap, and what was exchanged from it
      t.equal((await introJson(regen.json().access_token)).active, true)
      t.equal((await introJson(pat.value)).active, false, 'the old value stopped')
      t.equal((await introJson(xch.value)).active, false, 'its exchanged token stopped with it')
    })

    t.test('revoke-before takes the tokens exchanged from what it revokes', async (t) => {
      const pat = await makePat({ name: 'before', scopes: ['tokens:read'] })
      clock.advance(5_000)
      const xch = await exchange(ta, pat.value)
      t.equal((await introJson(xch.value)).active, true)
      const res = await app.inject({
        method: 'POST',
        url: `/v1/accounts/${fx.carolId}/revoke-before`,
        headers: bearer(ta.adminToken),
        payload: { before: new Date(clock.now() - 1_000).toISOString(), password: ADMIN.password }
      })
      t.equal(res.statusCode, 200, res.body)
      t.equal((await introJson(pat.value)).active, false, 'the PAT issued before T')
      t.equal((await introJson(xch.value)).active, false, 'the token exchanged from it, though issued after T')
    })

    t.test('revoke-by-selector takes the tokens exchanged from what it revokes', async (t) => {
      // a fresh session: revoke-before above ended the one the fixture made
      clock.advance(5_000)
      const pat = await makePat({ name: 'sel-target', scopes: ['tokens:read'] }, await relogin(ta))
      const xch = await exchange(ta, pat.value)
      t.equal((await introJson(xch.value)).active, true)
      const res = await app.inject({
        method: 'POST',
        url: '/v1/admin/tokens/revoke-matching',
        headers: bearer(ta.adminToken),
        payload: { selector: { name_prefix: 'sel-target' }, dry_run: false, password: ADMIN.password }
      })
      t.equal(res.statusCode, 200, res.body)
      t.equal((await introJson(pat.value)).active, false)
      t.equal((await introJson(xch.value)).active, false, 'the exchanged token went with its subject')
    })
  })
}

async function relogin(ta: TestAuthority): Promise<string> {
  const res = await ta.app.inject({
    method: 'POST',
    url: '/v1/auth/customer/token',
    payload: { username: 'carol', password: PW }
  })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
  return res.json().access_token as string
}
