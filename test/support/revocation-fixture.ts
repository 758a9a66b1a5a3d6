// Shared set-up of the revocation-by-policy tests (revoke-before.test.ts, revoke-selector.test.ts):
// an authority on a frozen clock that starts at the real time of its set-up, a gateway service, a
// customer with a session, and the helpers both files use.
import {
  bearer,
  createAccount,
  createService,
  introspect,
  login,
  startAuthority,
  type TestAuthority
} from './authority.js'
import type { BACKEND_NAMES } from './backends.js'

export const PW = 'customer-password-1'
export const OPS_PW = 'ops-admin-password-1'
// each authority's frozen clock starts at the real time of its setup: the Redis cache judges an
// entry's age by the real clock (a frozen clock far from it would make every entry stale)
export let START = 0

export async function newPat(
  ta: TestAuthority,
  session: string,
  name: string,
  scopes = ['tokens:read']
): Promise<{ id: string; value: string }> {
  const res = await ta.app.inject({
    method: 'POST',
    url: '/v1/tokens',
    headers: bearer(session),
    payload: { name, scopes, password: PW }
  })
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`)
  return { id: res.json().token.id as string, value: res.json().access_token as string }
}

export async function events(ta: TestAuthority, reason: string) {
  const rows = await ta.app.authority.database.db
    .selectFrom('revocation_events')
    .selectAll()
    .where('reason', '=', reason)
    .execute()
  return rows.flatMap((r) => JSON.parse(r.token_ids) as string[]).sort()
}

export async function setup(
  t: { teardown(fn: () => unknown): void },
  backend: ReturnType<typeof BACKEND_NAMES>[number]
) {
  START = Math.floor(Date.now() / 1000) * 1000
  const ta = await startAuthority(t, backend, { frozen: START })
  const svc = await createService(ta, 'gateway', ['tokens:introspect', 'tokens:introspect:reason'])
  const customerId = await createAccount(ta, {
    username: 'casey',
    password: PW,
    kind: 'customer',
    permissions: ['tokens:read', 'tokens:write']
  })
  const session = await login(ta.app, 'customer', 'casey', PW)
  return { ta, svc, customerId, session }
}

export const active = async (ta: TestAuthority, svc: string, value: string) => (await introspect(ta, svc, value)).active
