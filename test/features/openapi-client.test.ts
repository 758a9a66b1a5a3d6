import t from 'tap'
import { createAuthorityClient } from '../../openapi/client/index.js'
import { BACKEND_NAMES } from '../support/backends.js'
import { ADMIN, startAuthority } from '../support/authority.js'

/** The real, listening authority driven only through the generated client. */
for (const backend of BACKEND_NAMES()) {
  t.test(`generated client against the authority on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend)
    const base = await ta.app.listen({ port: 0, host: '127.0.0.1' })

    const anonymous = createAuthorityClient(base)
    const login = await anonymous.POST('/v1/auth/admin/token', {
      body: { username: ADMIN.username, password: ADMIN.password }
    })
    t.equal(login.response.status, 200)
    const admin = createAuthorityClient(base, { token: login.data!.access_token })
    t.equal(login.data!.token_type, 'Bearer')

    // a service account that may introspect
    const svcAccount = await admin.POST('/v1/accounts', {
      body: {
        username: 'gateway',
        password: 'gateway-password-1',
        kind: 'service',
        permissions: ['tokens:introspect'],
        current_password: ADMIN.password
      }
    })
    t.equal(svcAccount.response.status, 201)
    const svcToken = await admin.POST('/v1/accounts/{id}/tokens', {
      params: { path: { id: svcAccount.data!.id } },
      body: { name: 'gateway', preset: 'introspection', password: ADMIN.password }
    })
    // the preset holds tokens:introspect:reason, which this account lacks
    t.equal(svcToken.response.status, 403)
    t.equal(svcToken.error?.code, 'scope_not_permitted', 'typed error body: scope_not_permitted')
    const svc = await admin.POST('/v1/accounts/{id}/tokens', {
      params: { path: { id: svcAccount.data!.id } },
      body: { name: 'gateway', scopes: ['tokens:introspect'], password: ADMIN.password }
    })
    t.equal(svc.response.status, 201)
    const service = createAuthorityClient(base, { token: svc.data!.access_token })

    const created = await admin.POST('/v1/tokens', {
      body: {
        name: 'ci',
        description: 'pipeline',
        scopes: ['tokens:read', 'tokens:write'],
        expires_at: new Date(Date.now() + 86400_000).toISOString(),
        password: ADMIN.password
      }
    })
    t.equal(created.response.status, 201)
    const pat = created.data!
    t.match(pat.access_token, /^tka_pat_/)

    const list = await admin.GET('/v1/tokens', { params: { query: { state: 'active', limit: 50 } } })
    t.ok(list.data!.items.some((i) => i.id === pat.token.id))

    const edited = await admin.PATCH('/v1/tokens/{id}', {
      params: { path: { id: pat.token.id } },
      body: { name: 'ci (edited)', scopes: ['tokens:read'], password: ADMIN.password }
    })
    t.equal(edited.data!.name, 'ci (edited)')
    t.same(edited.data!.scopes, ['tokens:read'])

    const regenerated = await admin.POST('/v1/tokens/{id}/regenerate', {
      params: { path: { id: pat.token.id } },
      body: { password: ADMIN.password }
    })
    t.equal(regenerated.response.status, 201)
    const copy = await admin.POST('/v1/tokens/{id}/copy', {
      params: { path: { id: regenerated.data!.token.id } },
      body: { password: ADMIN.password }
    })
    t.equal(copy.response.status, 201)
    t.equal(copy.data!.token.name, 'ci (edited) (copy)')

    const introspect = (token: string) => service.POST('/introspect', { body: { token } })
    t.equal((await introspect(pat.access_token)).data!.active, false, 'the regenerated-away value is dead')
    const live = (await introspect(regenerated.data!.access_token)).data!
    t.equal(live.active, true)
    t.equal(live.jti, regenerated.data!.token.id)

    const revoked = await admin.DELETE('/v1/tokens/{id}', {
      params: { path: { id: copy.data!.token.id } },
      body: { password: ADMIN.password }
    })
    t.equal(revoked.data!.state, 'revoked')
    t.same((await introspect(copy.data!.access_token)).data, { active: false })
    const rfcRevoke = await createAuthorityClient(base, { token: regenerated.data!.access_token }).POST('/revoke', {
      body: { token: regenerated.data!.access_token }
    })
    t.equal(rfcRevoke.response.status, 200)

    // typed error bodies
    const noToken = await anonymous.GET('/v1/me')
    t.equal(noToken.response.status, 401)
    t.equal(noToken.error?.code, 'unauthorized')
    const notFound = await admin.GET('/v1/tokens/{id}', { params: { path: { id: 'AAAAAAAAAAAAAAAAAAAAAA' } } })
    t.equal(notFound.error?.code, 'not_found')
    const badBody = await admin.POST('/v1/tokens', {
      body: { name: '', scopes: ['tokens:read'], password: ADMIN.password }
    })
    t.equal(badBody.response.status, 400)
    t.equal(badBody.error?.code, 'validation_failed')
    const wrongPassword = await anonymous.POST('/v1/auth/admin/token', {
      body: { username: ADMIN.username, password: 'wrong-password' }
    })
    t.equal(wrongPassword.error?.code, 'invalid_credentials')
    t.equal(typeof wrongPassword.error?.requestId, 'string')
  })
}
