import type { AddressInfo } from 'node:net'
import * as oidc from 'openid-client'
import t from 'tap'
import { ADMIN, bearer, createService, introspect, startAuthority, type TestAuthority } from '../support/authority.js'
import { BACKEND_NAMES } from '../support/backends.js'

/**
 * RFC 8414 metadata at `/.well-known/oauth-authorization-server`, and an off-the-shelf OAuth
 * client (openid-client v6) configured from the issuer URL alone: it introspects (RFC 7662),
 * revokes (RFC 7009) and exchanges (RFC 8693) with a service account's credential
 * (client_id = the account's username, client_secret = one of its service tokens).
 */

const WELL_KNOWN = '/.well-known/oauth-authorization-server'

async function listening(ta: TestAuthority): Promise<string> {
  await ta.app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(ta.app.server.address() as AddressInfo).port}`
}

async function makePat(ta: TestAuthority, name: string): Promise<string> {
  const res = await ta.app.inject({
    method: 'POST',
    url: '/v1/tokens',
    headers: bearer(ta.adminToken),
    payload: { name, scopes: ['tokens:read'], password: ADMIN.password }
  })
  if (res.statusCode !== 201) throw new Error(res.body)
  return res.json().access_token as string
}

for (const backend of BACKEND_NAMES()) {
  t.test(`RFC 8414 discovery on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend)
    const issuer = await listening(ta)
    const gateway = await createService(ta, 'gateway', ['tokens:introspect', 'tokens:revoke'])

    t.test('the metadata: issuer from the request, endpoints, auth methods, hints, extensions', async (t) => {
      const res = await fetch(`${issuer}${WELL_KNOWN}`)
      t.equal(res.status, 200)
      t.equal(res.headers.get('cache-control'), 'no-store', 'derived from Host: not cached by anyone')
      const m = (await res.json()) as Record<string, unknown>
      t.equal(m.issuer, issuer, 'ISSUER_URL unset: the scheme and host the request came in on')
      t.equal(m.introspection_endpoint, `${issuer}/introspect`)
      t.equal(m.revocation_endpoint, `${issuer}/revoke`)
      t.equal(m.token_endpoint, `${issuer}/token`)
      t.strictSame(m.introspection_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post'])
      t.strictSame(m.revocation_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post'])
      t.strictSame(m.token_endpoint_auth_methods_supported, ['none', 'client_secret_basic', 'client_secret_post'])
      t.strictSame(m.grant_types_supported, ['urn:ietf:params:oauth:grant-type:token-exchange'])
      t.strictSame(m.introspection_token_type_hints_supported, ['access_token'])
      t.strictSame(m.revocation_token_type_hints_supported, ['access_token'])
      t.ok((m.scopes_supported as string[]).includes('tokens:introspect'), 'the scope catalogue')
      t.equal(m.revocation_stream_endpoint, `${issuer}/v1/revocations`)
      t.equal(m.leaked_token_report_endpoint, `${issuer}/v1/leaked-tokens`)
      t.equal(m.caller_bearer_token_supported, true)
      t.ok(new RegExp(m.token_pattern as string).test(ta.adminToken), 'token_pattern matches a real token')
    })

    t.test('openid-client, configured from the issuer URL alone (client_secret_basic)', async (t) => {
      const config = await oidc.discovery(
        new URL(issuer),
        'gateway',
        undefined,
        oidc.ClientSecretBasic(gateway.token),
        { algorithm: 'oauth2', execute: [oidc.allowInsecureRequests] }
      )
      t.equal(config.serverMetadata().issuer, issuer)
      const pat = await makePat(ta, 'seen by openid-client')
      const active = await oidc.tokenIntrospection(config, pat)
      t.equal(active.active, true)
      t.equal(active.scope, 'tokens:read')
      t.equal(active.username, ADMIN.username)
      const forged = await oidc.tokenIntrospection(config, `${pat.slice(0, -4)}AAAA`)
      t.equal(forged.active, false)
      await oidc.tokenRevocation(config, pat, { token_type_hint: 'access_token' })
      t.strictSame(await introspect(ta, gateway.token, pat), { active: false }, 'revoked through openid-client')
      t.equal((await oidc.tokenIntrospection(config, pat)).active, false)
    })

    t.test('openid-client with client_secret_post', async (t) => {
      const config = await oidc.discovery(new URL(issuer), 'gateway', undefined, oidc.ClientSecretPost(gateway.token), {
        algorithm: 'oauth2',
        execute: [oidc.allowInsecureRequests]
      })
      const pat = await makePat(ta, 'post')
      t.equal((await oidc.tokenIntrospection(config, pat)).active, true)
      await oidc.tokenRevocation(config, pat)
      t.equal((await oidc.tokenIntrospection(config, pat)).active, false)
    })

    t.test('openid-client exchanges the service’s own token at the discovered token_endpoint', async (t) => {
      const config = await oidc.discovery(
        new URL(issuer),
        'gateway',
        undefined,
        oidc.ClientSecretBasic(gateway.token),
        { algorithm: 'oauth2', execute: [oidc.allowInsecureRequests] }
      )
      const res = await oidc.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:token-exchange', {
        subject_token: gateway.token,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        audience: 'orders-api',
        scope: 'tokens:introspect'
      })
      t.match(res.access_token, /^tka_xch_/)
      t.equal(res.token_type, 'bearer')
      t.equal(res.expires_in, 300)
      const info = await oidc.tokenIntrospection(config, res.access_token)
      t.strictSame(info.aud, ['orders-api'])
      t.equal(info.scope, 'tokens:introspect')
    })

    t.test('a wrong client secret is refused (openid-client surfaces the 401)', async (t) => {
      const config = await oidc.discovery(new URL(issuer), 'gateway', undefined, oidc.ClientSecretBasic('nope'), {
        algorithm: 'oauth2',
        execute: [oidc.allowInsecureRequests]
      })
      await t.rejects(oidc.tokenIntrospection(config, await makePat(ta, 'x')))
    })
  })

  t.test(`RFC 8414 with ISSUER_URL set on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend, { env: { ISSUER_URL: 'https://auth.example.com/ta' } })
    const res = await ta.app.inject({ url: WELL_KNOWN, headers: { host: 'evil.example' } })
    t.equal(res.statusCode, 200)
    const m = res.json()
    t.equal(m.issuer, 'https://auth.example.com/ta', 'the configured issuer, whatever the Host header says')
    t.equal(m.introspection_endpoint, 'https://auth.example.com/ta/introspect')
    t.equal(res.headers['cache-control'], 'public, max-age=300')
  })
}
