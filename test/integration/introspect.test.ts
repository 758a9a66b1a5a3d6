import { randomBytes } from 'node:crypto'
import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { pruneNow } from '../../services/authority/src/jobs/prune-job.js'
import { resolveKeys } from '../../services/authority/src/keys.js'
import { encodeToken, newTokenId } from '../../services/authority/src/tokens/token-format.js'
import { BACKEND_NAMES } from '../helpers/backends.js'
import { ADMIN, bearer, createAccount, createService, errorCode, login, startAuthority, type TestAuthority } from '../helpers/authority.js'

/**
 * RFC 7662 `POST /introspect` and RFC 7009 `POST /revoke` (DESIGN.md §4–6): media types, the three
 * ways a service caller authenticates, the active and inactive answers, expiry on a frozen clock,
 * pruning, and revocation by value.
 */

const PW = 'customer-password-1'
const REALM = 'token-authority'
const HOUR = 3600_000

type Media = 'form' | 'json'
const MEDIA: Media[] = ['form', 'json']

function basic(username: string, secret: string): string {
  // RFC 6749 §2.3.1: form-urlencode each part, then Basic-encode.
  return `Basic ${Buffer.from(`${encodeURIComponent(username)}:${encodeURIComponent(secret)}`).toString('base64')}`
}

type Frozen = { now(): number; advance(ms: number): void; set(ms: number): void }
function frozenOf(ta: TestAuthority): Frozen {
  const c = ta.clock as Partial<Frozen>
  if (typeof c.advance !== 'function' || typeof c.set !== 'function') throw new Error('this authority has no frozen clock')
  return ta.clock as Frozen
}

/** POSTs `body` to an RFC endpoint as a form (a string with the content type) or as JSON. */
function rfcPost(
  ta: TestAuthority,
  url: '/introspect' | '/revoke',
  media: Media,
  body: Record<string, string>,
  headers: Record<string, string> = {}
): Promise<LightMyRequestResponse> {
  if (media === 'form') {
    return ta.app.inject({
      method: 'POST',
      url,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(body).toString()
    })
  }
  return ta.app.inject({ method: 'POST', url, headers, payload: body })
}

function sortedKeys(o: object): string[] {
  return Object.keys(o).sort()
}

for (const backend of BACKEND_NAMES()) {
  t.test(`introspection and revocation on ${backend}`, async (t) => {
    const startMs = Date.now()
    const startSec = Math.floor(startMs / 1000)
    const ta = await startAuthority(t, backend, { frozen: startMs })
    const { app } = ta
    const verifier = await createService(ta, 'verifier', ['tokens:introspect', 'tokens:introspect:reason'])
    const plain = await createService(ta, 'plain-verifier', ['tokens:introspect'])
    const revoker = await createService(ta, 'revoker', ['tokens:revoke'])
    const carolId = await createAccount(ta, { username: 'carol', password: PW, kind: 'customer', permissions: ['tokens:read', 'tokens:write'] })
    const session = await login(app, 'customer', 'carol', PW)

    const makePat = async (payload: Record<string, unknown>, token = session, password = PW): Promise<{ value: string; id: string }> => {
      const res = await app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(token), payload: { password, ...payload } })
      if (res.statusCode !== 201) throw new Error(`create PAT failed: ${res.statusCode} ${res.body}`)
      return { value: res.json().access_token as string, id: res.json().token.id as string }
    }
    const intro = (token: string, caller = verifier.token, media: Media = 'json') =>
      rfcPost(ta, '/introspect', media, { token }, bearer(caller))
    const introJson = async (token: string, caller = verifier.token): Promise<Record<string, unknown>> => {
      const res = await intro(token, caller)
      if (res.statusCode !== 200) throw new Error(`introspect failed: ${res.statusCode} ${res.body}`)
      return res.json()
    }

    t.test('caller authentication: Bearer, HTTP Basic and client_id + client_secret, as form and JSON', async (t) => {
      const target = await makePat({ name: 'auth target', scopes: ['tokens:read'] })
      const ways: Record<string, { headers: Record<string, string>; fields: Record<string, string> }> = {
        bearer: { headers: bearer(verifier.token), fields: {} },
        basic: { headers: { authorization: basic('verifier', verifier.token) }, fields: {} },
        'form fields': { headers: {}, fields: { client_id: 'verifier', client_secret: verifier.token } }
      }
      for (const media of MEDIA) {
        for (const [way, { headers, fields }] of Object.entries(ways)) {
          const res = await rfcPost(ta, '/introspect', media, { token: target.value, token_type_hint: 'access_token', ...fields }, headers)
          t.equal(res.statusCode, 200, `${way} / ${media}: 200`)
          t.equal(res.headers['cache-control'], `private, max-age=${ta.config.CACHE_TTL_SECONDS}`, `${way} / ${media}: a cache hint for an active token`)
          const body = res.json()
          t.equal(body.active, true, `${way} / ${media}: active`)
          t.equal(body.jti, target.id, `${way} / ${media}: the token asked about`)
        }
      }
      // The Basic username is the service account's username, case as the account was created.
      const basicUpper = await rfcPost(ta, '/introspect', 'form', { token: target.value }, { authorization: `basic ${Buffer.from(`verifier:${verifier.token}`).toString('base64')}` })
      t.equal(basicUpper.statusCode, 200, 'the Basic scheme name is case-insensitive')
    })

    t.test('caller authentication failures', async (t) => {
      const target = await makePat({ name: 'auth failures', scopes: ['tokens:read'] })
      for (const media of MEDIA) {
        // Basic: the client_id names another account than the one the secret belongs to.
        const wrongBasic = await rfcPost(ta, '/introspect', media, { token: target.value }, { authorization: basic('plain-verifier', verifier.token) })
        t.equal(wrongBasic.statusCode, 401, `${media}: Basic with a mismatched client_id`)
        t.equal(errorCode(wrongBasic), 'invalid_client')
        t.match(wrongBasic.headers['www-authenticate'], /^Basic realm="token-authority"$/)

        const wrongFields = await rfcPost(ta, '/introspect', media, { token: target.value, client_id: 'revoker', client_secret: verifier.token })
        t.equal(wrongFields.statusCode, 401, `${media}: form fields with a mismatched client_id`)
        t.equal(errorCode(wrongFields), 'invalid_client')
        t.match(wrongFields.headers['www-authenticate'], /^Basic realm="token-authority"$/)

        const unknownClient = await rfcPost(ta, '/introspect', media, { token: target.value, client_id: 'nobody', client_secret: verifier.token })
        t.equal(unknownClient.statusCode, 401, `${media}: an unknown client_id`)
        t.equal(errorCode(unknownClient), 'invalid_client')

        const badSecret = await rfcPost(ta, '/introspect', media, { token: target.value }, { authorization: basic('verifier', 'not-a-token') })
        t.equal(badSecret.statusCode, 401, `${media}: Basic with a secret that is no token`)
        t.equal(errorCode(badSecret), 'invalid_client')
        t.match(badSecret.headers['www-authenticate'], /^Basic realm="token-authority"$/)

        const revokedSvc = await createService(ta, `gone-${media}`, ['tokens:introspect'])
        const revokeAll = await app.inject({
          method: 'DELETE',
          url: `/v1/accounts/${revokedSvc.id}/tokens`,
          headers: bearer(ta.adminToken),
          payload: { password: ADMIN.password }
        })
        t.equal(revokeAll.statusCode, 200)
        t.equal((await introJson(revokedSvc.token)).active, false, 'precondition: that service token is revoked')
        const revokedSecret = await rfcPost(ta, '/introspect', media, { token: target.value, client_id: `gone-${media}`, client_secret: revokedSvc.token })
        t.equal(revokedSecret.statusCode, 401, `${media}: a revoked client_secret`)
        t.equal(errorCode(revokedSecret), 'invalid_client')

        // No credential at all: a bare challenge (RFC 6750 §3.1), no error attribute.
        const none = await rfcPost(ta, '/introspect', media, { token: target.value })
        t.equal(none.statusCode, 401, `${media}: no caller credential`)
        t.equal(errorCode(none), 'unauthorized')
        t.equal(none.headers['www-authenticate'], `Bearer realm="${REALM}"`)

        const idOnly = await rfcPost(ta, '/introspect', media, { token: target.value, client_id: 'verifier' })
        t.equal(idOnly.statusCode, 401, `${media}: client_id without client_secret`)
        t.equal(errorCode(idOnly), 'unauthorized')

        // Authenticated, but without tokens:introspect.
        const customer = await rfcPost(ta, '/introspect', media, { token: target.value }, bearer(session))
        t.equal(customer.statusCode, 403, `${media}: a customer login token`)
        t.equal(errorCode(customer), 'insufficient_scope')
        t.match(customer.headers['www-authenticate'], /error="insufficient_scope"/)
        const revokeOnly = await rfcPost(ta, '/introspect', media, { token: target.value }, bearer(revoker.token))
        t.equal(revokeOnly.statusCode, 403, `${media}: a service holding only tokens:revoke`)
        t.equal(errorCode(revokeOnly), 'insufficient_scope')
        const revokeOnlyBasic = await rfcPost(ta, '/introspect', media, { token: target.value }, { authorization: basic('revoker', revoker.token) })
        t.equal(revokeOnlyBasic.statusCode, 403, `${media}: the same service over Basic`)
        t.equal(errorCode(revokeOnlyBasic), 'insufficient_scope')

        // An invalid Bearer credential is an RFC 6750 invalid_token.
        const badBearer = await rfcPost(ta, '/introspect', media, { token: target.value }, bearer('tka_pat_nonsense'))
        t.equal(badBearer.statusCode, 401, `${media}: an invalid Bearer caller`)
        t.equal(errorCode(badBearer), 'invalid_token')
        t.match(badBearer.headers['www-authenticate'], /^Bearer realm="token-authority", error="invalid_token", error_description="[^"]+"$/)

        // Two ways at once is ambiguous.
        const twice = await rfcPost(ta, '/introspect', media, { token: target.value, client_id: 'verifier', client_secret: verifier.token }, bearer(verifier.token))
        t.equal(twice.statusCode, 400, `${media}: Bearer and client_secret together`)
        t.equal(errorCode(twice), 'invalid_request')

        // A missing token parameter is bad input.
        const noToken = await rfcPost(ta, '/introspect', media, {}, bearer(verifier.token))
        t.equal(noToken.statusCode, 400, `${media}: no token parameter`)
        t.equal(errorCode(noToken), 'validation_failed')
      }
      t.equal((await introJson(target.value)).active, true, 'the token asked about is untouched')
    })

    t.test('active response: every field, exact values', async (t) => {
      const expSec = startSec + 86400
      const pat = await makePat({ name: 'fields', scopes: ['tokens:read'], expires_at: new Date(expSec * 1000).toISOString() })
      for (const media of MEDIA) {
        const res = await intro(pat.value, verifier.token, media)
        t.equal(res.statusCode, 200)
        t.strictSame(
          res.json(),
          {
            active: true,
            scope: 'tokens:read',
            client_id: carolId,
            username: 'carol',
            token_type: 'Bearer',
            exp: expSec,
            iat: startSec,
            sub: carolId,
            iss: 'token-authority',
            jti: pat.id,
            kind: 'customer',
            token_kind: 'pat',
            permissions: ['tokens:read']
          },
          `a PAT with an expiry (${media})`
        )
      }

      const forever = await makePat({ name: 'forever', preset: 'ci' })
      const f = await introJson(forever.value)
      t.equal(f.active, true)
      t.notOk('exp' in f, 'a never-expiring token has no exp')
      t.equal(f.iat, startSec)
      t.equal(f.jti, forever.id)
      t.equal(f.scope, 'tokens:read tokens:write')
      t.strictSame(f.permissions, ['tokens:read', 'tokens:write'])
      t.strictSame(sortedKeys(f), ['active', 'client_id', 'iat', 'iss', 'jti', 'kind', 'permissions', 'scope', 'sub', 'token_kind', 'token_type', 'username'])

      const lgn = await introJson(session)
      t.equal(lgn.token_kind, 'lgn')
      t.equal(lgn.kind, 'customer')
      t.equal(lgn.exp, startSec + 3600, 'a customer login token lives 1 h by default')
      t.strictSame(lgn.permissions, ['tokens:read', 'tokens:write'], 'a login token carries the full permissions')

      const svc = await introJson(plain.token)
      t.equal(svc.kind, 'service')
      t.equal(svc.token_kind, 'svc')
      t.equal(svc.username, 'plain-verifier')
      t.equal(svc.client_id, plain.id)
      t.equal(svc.sub, plain.id)
      t.strictSame(svc.permissions, ['tokens:introspect'])

      const admin = await introJson(ta.adminToken)
      t.equal(admin.kind, 'admin')
      t.equal(admin.token_kind, 'lgn')
      t.equal(admin.username, ADMIN.username)
      t.equal(admin.exp, startSec + 4 * 3600, 'an admin login token lives 4 h by default')
    })

    t.test('permissions = token scopes ∩ the owner’s current permissions', async (t) => {
      const daveId = await createAccount(ta, { username: 'dave', password: PW, kind: 'customer', permissions: ['tokens:read', 'tokens:write'] })
      const daveSession = await login(app, 'customer', 'dave', PW)
      const pat = await makePat({ name: 'narrowing', preset: 'ci' }, daveSession)
      const before = await introJson(pat.value)
      t.strictSame(before.permissions, ['tokens:read', 'tokens:write'])
      t.equal(before.scope, 'tokens:read tokens:write')
      t.strictSame((await introJson(daveSession)).permissions, ['tokens:read', 'tokens:write'])

      const patch = await app.inject({
        method: 'PATCH',
        url: `/v1/accounts/${daveId}`,
        headers: bearer(ta.adminToken),
        payload: { permissions: ['tokens:read'], current_password: ADMIN.password }
      })
      t.equal(patch.statusCode, 200)
      t.strictSame(patch.json().permissions, ['tokens:read'])

      const after = await introJson(pat.value)
      t.equal(after.active, true)
      t.strictSame(after.permissions, ['tokens:read'], 'the PAT narrows at once (cache invalidated)')
      t.equal(after.scope, 'tokens:read')
      const lgnAfter = await introJson(daveSession)
      t.strictSame(lgnAfter.permissions, ['tokens:read'], 'the login token narrows too')
      t.equal(lgnAfter.scope, 'tokens:read')
      // The narrowing is enforced, not only reported: the PAT can no longer create tokens.
      const denied = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(pat.value),
        payload: { name: 'x', scopes: ['tokens:read'], password: PW }
      })
      t.equal(denied.statusCode, 403)
      t.equal(errorCode(denied), 'insufficient_scope')
    })

    t.test('inactive: exact bodies, reasons only with tokens:introspect:reason', async (t) => {
      const pat = await makePat({ name: 'to revoke', scopes: ['tokens:read'] })
      const del = await app.inject({ method: 'DELETE', url: `/v1/tokens/${pat.id}`, headers: bearer(session), payload: { password: PW } })
      t.equal(del.statusCode, 200)
      for (const media of MEDIA) {
        const bare = await intro(pat.value, plain.token, media)
        t.equal(bare.statusCode, 200)
        t.equal(bare.body, '{"active":false}', `revoked, caller without the reason scope (${media})`)
        const why = await intro(pat.value, verifier.token, media)
        t.equal(why.statusCode, 200)
        t.strictSame(why.json(), { active: false, reason: 'revoked' }, `revoked, caller with the reason scope (${media})`)
      }

      // Forged and garbage values: unknown, decided without any database read.
      const live = await makePat({ name: 'template', scopes: ['tokens:read'] })
      const prefix = ta.config.TOKEN_PREFIX
      const keys = resolveKeys(ta.config).signingKeys
      const realKey = keys[0]!
      const mid = prefix.length + 5 + 80
      const flipped = live.value.slice(0, mid) + (live.value[mid] === 'A' ? 'B' : 'A') + live.value.slice(mid + 1)
      t.not(flipped, live.value)
      const forged: Record<string, string> = {
        garbage: 'garbage',
        'empty-ish': ' ',
        'prefix only': `${prefix}_pat_`,
        'right shape, bad checksum': `${prefix}_pat_${'A'.repeat(132)}`,
        'one character changed': flipped,
        'signed by another key (same kid)': encodeToken(prefix, 'pat', { kid: realKey.kid, secret: randomBytes(32) }, live.id, null),
        'signed by an unknown key id': encodeToken(prefix, 'pat', { kid: 'zz9', secret: randomBytes(32) }, newTokenId(), null),
        'another issuer prefix': encodeToken('xyz', 'pat', realKey, newTokenId(), null),
        'a login token shape with garbage': `${prefix}_lgn_${'-'.repeat(132)}`,
        huge: 'x'.repeat(4000)
      }
      // Warm both callers' credentials so that only the token under test could cause a read.
      await intro('warm-up', plain.token)
      await intro('warm-up', verifier.token)
      const reads = ta.app.authority.tokens.dbReads
      for (const [what, value] of Object.entries(forged)) {
        for (const media of MEDIA) {
          const bare = await intro(value, plain.token, media)
          t.equal(bare.statusCode, 200, `${what} (${media}): 200`)
          t.equal(bare.body, '{"active":false}', `${what} (${media}): exactly {"active":false}`)
          const why = await intro(value, verifier.token, media)
          t.strictSame(why.json(), { active: false, reason: 'unknown' }, `${what} (${media}): reason unknown`)
        }
      }
      t.equal(ta.app.authority.tokens.dbReads, reads, 'forged and garbage tokens cause zero database reads')

      // The counter does count: a correctly signed value for an id that does not exist is read once.
      const signedUnknown = encodeToken(prefix, 'pat', realKey, newTokenId(), null)
      t.strictSame(await introJson(signedUnknown), { active: false, reason: 'unknown' })
      t.equal(ta.app.authority.tokens.dbReads, reads + 1, 'a well-signed unknown id costs exactly one read')
      // A correctly signed value naming a real id but with the wrong secret is still unknown.
      const guessed = encodeToken(prefix, 'pat', realKey, live.id, null)
      t.strictSame(await introJson(guessed), { active: false, reason: 'unknown' })
      t.equal((await introJson(live.value)).active, true, 'the real token is still active')
    })

    t.test('RFC 7009 /revoke', async (t) => {
      // A service holding tokens:revoke revokes any token, each caller authentication and media type.
      const ways: [string, Media, Record<string, string>, Record<string, string>][] = [
        ['bearer', 'form', bearer(revoker.token), {}],
        ['bearer', 'json', bearer(revoker.token), {}],
        ['basic', 'form', { authorization: basic('revoker', revoker.token) }, {}],
        ['basic', 'json', { authorization: basic('revoker', revoker.token) }, {}],
        ['form fields', 'form', {}, { client_id: 'revoker', client_secret: revoker.token }],
        ['form fields', 'json', {}, { client_id: 'revoker', client_secret: revoker.token }]
      ]
      for (const [way, media, headers, fields] of ways) {
        const victim = await makePat({ name: `victim ${way} ${media}`, scopes: ['tokens:read'] })
        t.equal((await introJson(victim.value)).active, true)
        const res = await rfcPost(ta, '/revoke', media, { token: victim.value, token_type_hint: 'access_token', ...fields }, headers)
        t.equal(res.statusCode, 200, `${way} / ${media}: 200`)
        t.equal(res.body, '{}', `${way} / ${media}: an empty object`)
        t.strictSame(await introJson(victim.value), { active: false, reason: 'revoked' }, `${way} / ${media}: revoked`)
        const row = await app.inject({ url: `/v1/tokens/${victim.id}`, headers: bearer(session) })
        t.equal(row.json().state, 'revoked')
      }
      // Revoking a login token or a service token of another account works too.
      const otherSvc = await createService(ta, 'victim-service', ['tokens:introspect'])
      const svcRes = await rfcPost(ta, '/revoke', 'json', { token: otherSvc.token }, bearer(revoker.token))
      t.equal(svcRes.statusCode, 200)
      t.strictSame(await introJson(otherSvc.token), { active: false, reason: 'revoked' })

      // Self-revocation: the token itself as the Bearer credential, no tokens:revoke needed.
      for (const media of MEDIA) {
        const own = await login(app, 'customer', 'carol', PW)
        t.equal((await introJson(own)).active, true)
        const res = await rfcPost(ta, '/revoke', media, { token: own }, bearer(own))
        t.equal(res.statusCode, 200, `self-revoke of a login token (${media})`)
        t.equal(res.body, '{}')
        t.strictSame(await introJson(own), { active: false, reason: 'revoked' })
        const me = await app.inject({ url: '/v1/me', headers: bearer(own) })
        t.equal(me.statusCode, 401, 'a self-revoked token no longer authenticates')
        t.equal(errorCode(me), 'invalid_token')
        const pat = await makePat({ name: `self ${media}`, scopes: ['tokens:read'] })
        const patRes = await rfcPost(ta, '/revoke', media, { token: pat.value }, bearer(pat.value))
        t.equal(patRes.statusCode, 200, `self-revoke of a PAT with no revoke scope (${media})`)
        t.strictSame(await introJson(pat.value), { active: false, reason: 'revoked' })
      }

      // A caller without tokens:revoke cannot revoke another token.
      const keep = await makePat({ name: 'keep me', scopes: ['tokens:read'] })
      const otherOfCarol = await makePat({ name: 'caller', scopes: ['tokens:read'] })
      const deniers: [string, Record<string, string>, Record<string, string>][] = [
        ['customer login token', bearer(session), {}],
        ['customer PAT', bearer(otherOfCarol.value), {}],
        ['introspection service', bearer(verifier.token), {}],
        ['introspection service over Basic', { authorization: basic('verifier', verifier.token) }, {}],
        ['introspection service with form fields', {}, { client_id: 'verifier', client_secret: verifier.token }]
      ]
      for (const media of MEDIA) {
        for (const [who, headers, fields] of deniers) {
          const res = await rfcPost(ta, '/revoke', media, { token: keep.value, ...fields }, headers)
          t.equal(res.statusCode, 403, `${who} (${media}): 403`)
          t.equal(errorCode(res), 'insufficient_scope', `${who} (${media}): insufficient_scope`)
        }
      }
      t.equal((await introJson(keep.value)).active, true, 'the other token stays active')

      // 200 whether or not the token existed (RFC 7009 §2.2).
      const already = await makePat({ name: 'twice', scopes: ['tokens:read'] })
      t.equal((await rfcPost(ta, '/revoke', 'json', { token: already.value }, bearer(revoker.token))).statusCode, 200)
      for (const media of MEDIA) {
        for (const value of ['garbage', `${ta.config.TOKEN_PREFIX}_pat_${'A'.repeat(132)}`, already.value, encodeToken(ta.config.TOKEN_PREFIX, 'pat', resolveKeys(ta.config).signingKeys[0]!, newTokenId(), null)]) {
          const res = await rfcPost(ta, '/revoke', media, { token: value }, bearer(revoker.token))
          t.equal(res.statusCode, 200, `unknown, garbage or already revoked (${media}): 200`)
          t.equal(res.body, '{}')
        }
      }

      // The caller is still authenticated on /revoke.
      for (const media of MEDIA) {
        const none = await rfcPost(ta, '/revoke', media, { token: keep.value })
        t.equal(none.statusCode, 401)
        t.equal(errorCode(none), 'unauthorized')
        t.equal(none.headers['www-authenticate'], `Bearer realm="${REALM}"`)
        const wrong = await rfcPost(ta, '/revoke', media, { token: keep.value }, { authorization: basic('verifier', revoker.token) })
        t.equal(wrong.statusCode, 401)
        t.equal(errorCode(wrong), 'invalid_client')
        t.match(wrong.headers['www-authenticate'], /^Basic realm="token-authority"$/)
      }
      t.equal((await introJson(keep.value)).active, true, 'failed revocations changed nothing')
    })
  })

  t.test(`expiry on a frozen clock, and after pruning, on ${backend}`, async (t) => {
    const startMs = Date.now()
    const ta = await startAuthority(t, backend, { frozen: startMs })
    const clock = frozenOf(ta)
    const { app } = ta
    const verifier = await createService(ta, 'verifier', ['tokens:introspect', 'tokens:introspect:reason'])
    const plain = await createService(ta, 'plain-verifier', ['tokens:introspect'])
    await createAccount(ta, { username: 'erin', password: PW, kind: 'customer', permissions: ['tokens:read', 'tokens:write'] })
    const session = await login(app, 'customer', 'erin', PW)
    const expSec = Math.floor(startMs / 1000) + 3600
    const created = await app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: bearer(session),
      payload: { name: 'short', scopes: ['tokens:read'], expires_at: new Date(expSec * 1000).toISOString(), password: PW }
    })
    t.equal(created.statusCode, 201)
    const value = created.json().access_token as string
    const id = created.json().token.id as string
    const intro = (token: string, caller: string) =>
      app.inject({ method: 'POST', url: '/introspect', headers: { ...bearer(caller), 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${encodeURIComponent(token)}` })

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
    const reads = app.authority.tokens.dbReads
    const why = await intro(value, verifier.token)
    t.equal(why.statusCode, 200)
    t.strictSame(why.json(), { active: false, reason: 'expired' }, 'two hours later: expired')
    const bare = await intro(value, plain.token)
    t.equal(bare.body, '{"active":false}', 'no reason for a caller without tokens:introspect:reason')
    t.equal(app.authority.tokens.dbReads, reads, 'an expired token costs no database read (expiry is signed)')
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

    t.strictSame((await intro(value, verifier.token)).json(), { active: false, reason: 'expired' }, 'still expired after the row is pruned')
    t.equal((await intro(value, plain.token)).body, '{"active":false}')
    t.equal((await intro(verifier.token, verifier.token)).json().active, true, 'the service token itself still introspects active')
  })
}
