import type { LightMyRequestResponse } from 'fastify'
import { bearer, createAccount, createService, login, startAuthority, type TestAuthority } from './authority.js'
import type { Backend } from './backends.js'

/**
 * Shared by the RFC 7662 and RFC 7009 spec files (test/spec/): the two media types, the three ways
 * a service caller authenticates, and one authority with the callers and the customer they ask about.
 */

export const PW = 'customer-password-1'
export const REALM = 'token-authority'
export const HOUR = 3600_000

export type Media = 'form' | 'json'
export const MEDIA: Media[] = ['form', 'json']

export function basic(username: string, secret: string): string {
  // RFC 6749 §2.3.1: form-urlencode each part, then Basic-encode.
  return `Basic ${Buffer.from(`${encodeURIComponent(username)}:${encodeURIComponent(secret)}`).toString('base64')}`
}

export type Frozen = { now(): number; advance(ms: number): void; set(ms: number): void }
export function frozenOf(ta: TestAuthority): Frozen {
  const c = ta.clock as Partial<Frozen>
  if (typeof c.advance !== 'function' || typeof c.set !== 'function')
    throw new Error('this authority has no frozen clock')
  return ta.clock as Frozen
}

/** POSTs `body` to an RFC endpoint as a form (a string with the content type) or as JSON. */
export function rfcPost(
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

export function sortedKeys(o: object): string[] {
  return Object.keys(o).sort()
}

type TapLike = Parameters<typeof startAuthority>[0]

/**
 * An authority on a frozen clock with no maximum lifetime (a never-expiring PAT is one of the
 * cases), three service callers — `verifier` (tokens:introspect + :reason), `plain-verifier`
 * (tokens:introspect), `revoker` (tokens:revoke) — and the customer `carol` with a login token.
 */
export async function rfcFixture(t: TapLike, backend: Backend['name']) {
  const startMs = Date.now()
  const startSec = Math.floor(startMs / 1000)
  const ta = await startAuthority(t, backend, { frozen: startMs, env: { TOKEN_MAX_LIFETIME_DAYS: '0' } })
  const { app } = ta
  const verifier = await createService(ta, 'verifier', ['tokens:introspect', 'tokens:introspect:reason'])
  const plain = await createService(ta, 'plain-verifier', ['tokens:introspect'])
  const revoker = await createService(ta, 'revoker', ['tokens:revoke'])
  const carolId = await createAccount(ta, {
    username: 'carol',
    password: PW,
    kind: 'customer',
    permissions: ['tokens:read', 'tokens:write']
  })
  const session = await login(app, 'customer', 'carol', PW)

  const makePat = async (
    payload: Record<string, unknown>,
    token = session,
    password = PW
  ): Promise<{ value: string; id: string }> => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: bearer(token),
      payload: { password, ...payload }
    })
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
  return { ta, app, startMs, startSec, verifier, plain, revoker, carolId, session, makePat, intro, introJson }
}
