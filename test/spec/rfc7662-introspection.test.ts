import { randomBytes } from 'node:crypto'
import t from 'tap'
import { resolveKeys } from '../../services/authority/src/keys.js'
import { encodeToken, newTokenId } from '../../services/authority/src/tokens/token-format.js'
import { BACKEND_NAMES } from '../support/backends.js'
import { ADMIN, bearer, createAccount, createService, dbReads, errorCode, login } from '../support/authority.js'
import { basic, MEDIA, PW, REALM, rfcFixture, rfcPost, sortedKeys } from '../support/rfc.js'

/**
 * RFC 7662 `POST /introspect` (docs/design.md, "Tokens" to "HTTP surface"): media types, the three ways a service caller
 * authenticates (and the exact codes when it fails), the active and inactive answers, and the
 * cache hint. RFC 7009 is test/spec/rfc7009-revocation.test.ts; expiry on a frozen clock and
 * pruning are in test/features/lifecycle.test.ts.
 */

for (const backend of BACKEND_NAMES()) {
  t.test(`RFC 7662 introspection on ${backend}`, async (t) => {
    // no maximum lifetime here: a never-expiring PAT (expires_at: null) is one of the cases
    const { ta, app, startSec, verifier, plain, revoker, carolId, session, makePat, intro, introJson } =
      await rfcFixture(t, backend)

    t.test('caller authentication: Bearer, HTTP Basic and client_id + client_secret, as form and JSON', async (t) => {
      const target = await makePat({ name: 'auth target', scopes: ['tokens:read'] })
      const ways: Record<string, { headers: Record<string, string>; fields: Record<string, string> }> = {
        bearer: { headers: bearer(verifier.token), fields: {} },
        basic: { headers: { authorization: basic('verifier', verifier.token) }, fields: {} },
        'form fields': { headers: {}, fields: { client_id: 'verifier', client_secret: verifier.token } }
      }
      for (const media of MEDIA) {
        for (const [way, { headers, fields }] of Object.entries(ways)) {
          const res = await rfcPost(
            ta,
            '/introspect',
            media,
            { token: target.value, token_type_hint: 'access_token', ...fields },
            headers
          )
          t.equal(res.statusCode, 200, `${way} / ${media}: 200`)
          t.equal(
            res.headers['cache-control'],
            `private, max-age=${ta.config.CACHE_TTL_SECONDS}`,
            `${way} / ${media}: a cache hint for an active token`
          )
          const body = res.json()
          t.equal(body.active, true, `${way} / ${media}: active`)
          t.equal(body.jti, target.id, `${way} / ${media}: the token asked about`)
        }
      }
      // The Basic username is the service account's username, case as the account was created.
      const basicUpper = await rfcPost(
        ta,
        '/introspect',
        'form',
        { token: target.value },
        { authorization: `basic ${Buffer.from(`verifier:${verifier.token}`).toString('base64')}` }
      )
      t.equal(basicUpper.statusCode, 200, 'the Basic scheme name is case-insensitive')
    })

    t.test('caller authentication failures', async (t) => {
      const target = await makePat({ name: 'auth failures', scopes: ['tokens:read'] })
      for (const media of MEDIA) {
        // Basic: the client_id names another account than the one the secret belongs to.
        const wrongBasic = await rfcPost(
          ta,
          '/introspect',
          media,
          { token: target.value },
          { authorization: basic('plain-verifier', verifier.token) }
        )
        t.equal(wrongBasic.statusCode, 401, `${media}: Basic with a mismatched client_id`)
        t.equal(errorCode(wrongBasic), 'invalid_client')
        t.match(wrongBasic.headers['www-authenticate'], /^Basic realm="token-authority"$/)

        const wrongFields = await rfcPost(ta, '/introspect', media, {
          token: target.value,
          client_id: 'revoker',
          client_secret: verifier.token
        })
        t.equal(wrongFields.statusCode, 401, `${media}: form fields with a mismatched client_id`)
        t.equal(errorCode(wrongFields), 'invalid_client')
        t.match(wrongFields.headers['www-authenticate'], /^Basic realm="token-authority"$/)

        const unknownClient = await rfcPost(ta, '/introspect', media, {
          token: target.value,
          client_id: 'nobody',
          client_secret: verifier.token
        })
        t.equal(unknownClient.statusCode, 401, `${media}: an unknown client_id`)
        t.equal(errorCode(unknownClient), 'invalid_client')

        const badSecret = await rfcPost(
          ta,
          '/introspect',
          media,
          { token: target.value },
          { authorization: basic('verifier', 'not-a-token') }
        )
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
        const revokedSecret = await rfcPost(ta, '/introspect', media, {
          token: target.value,
          client_id: `gone-${media}`,
          client_secret: revokedSvc.token
        })
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
        const revokeOnlyBasic = await rfcPost(
          ta,
          '/introspect',
          media,
          { token: target.value },
          { authorization: basic('revoker', revoker.token) }
        )
        t.equal(revokeOnlyBasic.statusCode, 403, `${media}: the same service over Basic`)
        t.equal(errorCode(revokeOnlyBasic), 'insufficient_scope')

        // An invalid Bearer credential is an RFC 6750 invalid_token.
        const badBearer = await rfcPost(ta, '/introspect', media, { token: target.value }, bearer('tka_pat_nonsense'))
        t.equal(badBearer.statusCode, 401, `${media}: an invalid Bearer caller`)
        t.equal(errorCode(badBearer), 'invalid_token')
        t.match(
          badBearer.headers['www-authenticate'],
          /^Bearer realm="token-authority", error="invalid_token", error_description="[^"]+"$/
        )

        // Two ways at once is ambiguous.
        const twice = await rfcPost(
          ta,
          '/introspect',
          media,
          { token: target.value, client_id: 'verifier', client_secret: verifier.token },
          bearer(verifier.token)
        )
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
      const pat = await makePat({
        name: 'fields',
        scopes: ['tokens:read'],
        expires_at: new Date(expSec * 1000).toISOString()
      })
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

      const forever = await makePat({ name: 'forever', preset: 'ci', expires_at: null })
      const f = await introJson(forever.value)
      t.equal(f.active, true)
      t.notOk('exp' in f, 'a never-expiring token has no exp')
      t.equal(f.iat, startSec)
      t.equal(f.jti, forever.id)
      t.equal(f.scope, 'tokens:read tokens:write')
      t.strictSame(f.permissions, ['tokens:read', 'tokens:write'])
      t.strictSame(sortedKeys(f), [
        'active',
        'client_id',
        'iat',
        'iss',
        'jti',
        'kind',
        'permissions',
        'scope',
        'sub',
        'token_kind',
        'token_type',
        'username'
      ])

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
      const daveId = await createAccount(ta, {
        username: 'dave',
        password: PW,
        kind: 'customer',
        permissions: ['tokens:read', 'tokens:write']
      })
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
      const del = await app.inject({
        method: 'DELETE',
        url: `/v1/tokens/${pat.id}`,
        headers: bearer(session),
        payload: { password: PW }
      })
      t.equal(del.statusCode, 200)
      for (const media of MEDIA) {
        const bare = await intro(pat.value, plain.token, media)
        t.equal(bare.statusCode, 200)
        t.equal(bare.body, '{"active":false}', `revoked, caller without the reason scope (${media})`)
        const why = await intro(pat.value, verifier.token, media)
        t.equal(why.statusCode, 200)
        t.strictSame(
          why.json(),
          { active: false, reason: 'revoked' },
          `revoked, caller with the reason scope (${media})`
        )
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
        'signed by another key (same kid)': encodeToken(
          prefix,
          'pat',
          { kid: realKey.kid, secret: randomBytes(32) },
          live.id,
          null
        ),
        'signed by an unknown key id': encodeToken(
          prefix,
          'pat',
          { kid: 'zz9', secret: randomBytes(32) },
          newTokenId(),
          null
        ),
        'another issuer prefix': encodeToken('xyz', 'pat', realKey, newTokenId(), null),
        'a login token shape with garbage': `${prefix}_lgn_${'-'.repeat(132)}`,
        huge: 'x'.repeat(4000)
      }
      // Warm both callers' credentials so that only the token under test could cause a read.
      await intro('warm-up', plain.token)
      await intro('warm-up', verifier.token)
      const reads = await dbReads(ta.app)
      for (const [what, value] of Object.entries(forged)) {
        for (const media of MEDIA) {
          const bare = await intro(value, plain.token, media)
          t.equal(bare.statusCode, 200, `${what} (${media}): 200`)
          t.equal(bare.body, '{"active":false}', `${what} (${media}): exactly {"active":false}`)
          const why = await intro(value, verifier.token, media)
          t.strictSame(why.json(), { active: false, reason: 'unknown' }, `${what} (${media}): reason unknown`)
        }
      }
      t.equal(await dbReads(ta.app), reads, 'forged and garbage tokens cause zero database reads')

      // The counter does count: a correctly signed value for an id that does not exist is read once.
      const signedUnknown = encodeToken(prefix, 'pat', realKey, newTokenId(), null)
      t.strictSame(await introJson(signedUnknown), { active: false, reason: 'unknown' })
      t.equal(await dbReads(ta.app), reads + 1, 'a well-signed unknown id costs exactly one read')
      // A correctly signed value naming a real id but with the wrong secret is still unknown.
      const guessed = encodeToken(prefix, 'pat', realKey, live.id, null)
      t.strictSame(await introJson(guessed), { active: false, reason: 'unknown' })
      t.equal((await introJson(live.value)).active, true, 'the real token is still active')
    })

    t.test('the cache hint shrinks with the age of a cached answer', async (t) => {
      // (moved from the former hardening.test.ts: an admin PAT, asked about by a service holding tokens:introspect:reason)
      const clock = ta.clock as { advance(ms: number): void }
      const res = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: 'h', scopes: ['tokens:read'], password: ADMIN.password }
      })
      if (res.statusCode !== 201) throw new Error(res.body)
      const pat = { id: res.json().token.id as string, value: res.json().access_token as string }
      const first = await app.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(verifier.token),
        payload: { token: pat.value }
      })
      t.equal(first.headers['cache-control'], `private, max-age=${ta.config.CACHE_TTL_SECONDS}`)
      clock.advance(20_000)
      const later = await app.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(verifier.token),
        payload: { token: pat.value }
      })
      t.equal(later.headers['cache-control'], `private, max-age=${ta.config.CACHE_TTL_SECONDS - 20}`, 'aged by 20 s')
    })
  })
}
