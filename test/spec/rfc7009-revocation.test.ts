import t from 'tap'
import { resolveKeys } from '../../services/authority/src/keys.js'
import { encodeToken, newTokenId } from '../../services/authority/src/tokens/token-format.js'
import { bearer, createService, errorCode, login } from '../support/authority.js'
import { BACKEND_NAMES } from '../support/backends.js'
import { basic, MEDIA, PW, REALM, rfcFixture, rfcPost, type Media } from '../support/rfc.js'

/**
 * RFC 7009 `POST /revoke` (docs/design.md, "Tokens" to "HTTP surface"): who may revoke what, by each caller authentication and
 * media type; 200 whatever the token was (§2.2); the caller itself is still authenticated.
 */

for (const backend of BACKEND_NAMES()) {
  t.test(`RFC 7009 /revoke on ${backend}`, async (t) => {
    const { ta, app, revoker, verifier, session, makePat, introJson } = await rfcFixture(t, backend)

    t.test(
      'a service holding tokens:revoke revokes any token, by each caller authentication and media type',
      async (t) => {
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
          const res = await rfcPost(
            ta,
            '/revoke',
            media,
            { token: victim.value, token_type_hint: 'access_token', ...fields },
            headers
          )
          t.equal(res.statusCode, 200, `${way} / ${media}: 200`)
          t.equal(res.body, '{}', `${way} / ${media}: an empty object`)
          t.strictSame(
            await introJson(victim.value),
            { active: false, reason: 'revoked' },
            `${way} / ${media}: revoked`
          )
          const row = await app.inject({ url: `/v1/tokens/${victim.id}`, headers: bearer(session) })
          t.equal(row.json().state, 'revoked')
        }
      }
    )

    t.test('a service token of another account is revoked too', async (t) => {
      const otherSvc = await createService(ta, 'victim-service', ['tokens:introspect'])
      const svcRes = await rfcPost(ta, '/revoke', 'json', { token: otherSvc.token }, bearer(revoker.token))
      t.equal(svcRes.statusCode, 200)
      t.strictSame(await introJson(otherSvc.token), { active: false, reason: 'revoked' })
    })

    t.test('self-revocation: the token itself as the Bearer credential, no tokens:revoke needed', async (t) => {
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
    })

    // a token the refusals below must leave active
    let keep: { value: string; id: string }

    t.test('a caller without tokens:revoke cannot revoke another token: 403 insufficient_scope', async (t) => {
      keep = await makePat({ name: 'keep me', scopes: ['tokens:read'] })
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
    })

    t.test('200 whether or not the token existed (RFC 7009 §2.2)', async (t) => {
      const already = await makePat({ name: 'twice', scopes: ['tokens:read'] })
      t.equal((await rfcPost(ta, '/revoke', 'json', { token: already.value }, bearer(revoker.token))).statusCode, 200)
      for (const media of MEDIA) {
        for (const value of [
          'garbage',
          `${ta.config.TOKEN_PREFIX}_pat_${'A'.repeat(132)}`,
          already.value,
          encodeToken(ta.config.TOKEN_PREFIX, 'pat', resolveKeys(ta.config).signingKeys[0]!, newTokenId(), null)
        ]) {
          const res = await rfcPost(ta, '/revoke', media, { token: value }, bearer(revoker.token))
          t.equal(res.statusCode, 200, `unknown, garbage or already revoked (${media}): 200`)
          t.equal(res.body, '{}')
        }
      }
    })

    t.test('the caller is still authenticated on /revoke: 401 unauthorized / invalid_client', async (t) => {
      for (const media of MEDIA) {
        const none = await rfcPost(ta, '/revoke', media, { token: keep.value })
        t.equal(none.statusCode, 401)
        t.equal(errorCode(none), 'unauthorized')
        t.equal(none.headers['www-authenticate'], `Bearer realm="${REALM}"`)
        const wrong = await rfcPost(
          ta,
          '/revoke',
          media,
          { token: keep.value },
          { authorization: basic('verifier', revoker.token) }
        )
        t.equal(wrong.statusCode, 401)
        t.equal(errorCode(wrong), 'invalid_client')
        t.match(wrong.headers['www-authenticate'], /^Basic realm="token-authority"$/)
      }
      t.equal((await introJson(keep.value)).active, true, 'failed revocations changed nothing')
    })
  })
}
