import t from 'tap'
import { BACKEND_NAMES } from '../support/backends.js'
import { ADMIN, bearer, createAccount, createService, introspect, login, startAuthority } from '../support/authority.js'

/**
 * After a run of every kind of issuing call, no token value and no password is anywhere at rest
 * (tables, SQLite file, Redis keys and values) or in the debug-level logs.
 */
for (const backend of BACKEND_NAMES()) {
  t.test(`no secret at rest or in logs on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend, { env: { ALLOW_QUERY_TOKENS: 'true' } })
    const { app } = ta
    const values: string[] = [ta.adminToken]
    const passwords = [ADMIN.password, 'customer-secret-pw-1', 'replacement-pw-22', 'svc-account-pw-1']
    const svc = await createService(ta, 'svc-account', ['tokens:introspect', 'tokens:revoke'])
    values.push(svc.token)
    const carolId = await createAccount(ta, { username: 'carol', password: passwords[1]!, kind: 'customer' })
    const session = await login(app, 'customer', 'carol', passwords[1]!)
    values.push(session)
    const issue = async (url: string, payload: Record<string, unknown>) => {
      const res = await app.inject({
        method: 'POST',
        url,
        headers: bearer(session),
        payload: { password: passwords[1], ...payload }
      })
      t.equal(res.statusCode, 201, url)
      values.push(res.json().access_token)
      return res.json()
    }
    const pat = await issue('/v1/tokens', { name: 'one', scopes: ['tokens:read'] })
    const regen = await issue(`/v1/tokens/${pat.token.id}/regenerate`, {})
    await issue(`/v1/tokens/${regen.token.id}/copy`, {})
    for (const v of values) await introspect(ta, svc.token, v)
    // a token in the query string (enabled here) and a wrong password attempt
    await app.inject({ url: `/v1/me?access_token=${encodeURIComponent(session)}` })
    await app.inject({
      method: 'POST',
      url: '/v1/auth/customer/token',
      payload: { username: 'carol', password: 'wrong-guess-password' }
    })
    passwords.push('wrong-guess-password')
    await app.inject({
      method: 'PATCH',
      url: `/v1/accounts/${carolId}`,
      headers: bearer(ta.adminToken),
      payload: { password: passwords[2], current_password: ADMIN.password }
    })
    await app.inject({
      method: 'POST',
      url: '/revoke',
      headers: bearer(svc.token),
      payload: { token: regen.access_token }
    })
    // the query-string token and its percent-encoded form must be absent too
    const stored = await ta.backend.dump()
    const logs = ta.logs.join('\n')
    t.ok(ta.logs.length > 20, `scanned ${ta.logs.length} log lines`)
    t.ok(stored.length > 1000, `scanned ${stored.length} stored bytes`)
    let hits = 0
    for (const secret of [...values, ...passwords]) {
      for (const form of new Set([secret, encodeURIComponent(secret)])) {
        if (stored.includes(form)) {
          hits++
          t.fail(`a secret is stored in clear: ${form.slice(0, 12)}…`)
        }
        if (logs.includes(form)) {
          hits++
          t.fail(`a secret reached the logs: ${form.slice(0, 12)}…`)
        }
      }
    }
    t.notOk(/\$2[aby]\$/.test(logs), 'no bcrypt hash in the logs')
    t.equal(hits, 0, `searched ${values.length} token values and ${passwords.length} passwords: zero hits`)
    t.comment(
      `searched ${values.length} token values and ${passwords.length} passwords in ${stored.length} stored bytes and ${ta.logs.length} log lines`
    )
  })
}
