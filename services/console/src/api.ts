/**
 * The console talks to the public API only, through the generated OpenAPI types (openapi-fetch).
 * The session is an HttpOnly cookie the page never sees; every request names the console in
 * `X-Requested-By`, which the authority requires before it accepts the cookie (CSRF).
 */
import createClient from 'openapi-fetch'
import type { components, paths } from '../../../openapi/client/schema.ts'
import { ApiError, endsSession } from './errors.ts'

export type Token = components['schemas']['Token']
export type IssuedToken = components['schemas']['IssuedToken']
export type Account = components['schemas']['Account']
export type ScopeCatalogue = components['schemas']['ScopeCatalogue']
export type TokenState = Token['state']
export type Realm = 'admin' | 'customer'

export type Session = components['schemas']['ConsoleSession']

const HEADERS = { 'X-Requested-By': 'token-console' }

export const api = createClient<paths>({ baseUrl: location.origin, credentials: 'same-origin', headers: HEADERS })

let onSessionLost: (e: ApiError) => void = () => {}
/** the app registers how a 401 returns to sign-in */
export function whenSessionLost(fn: (e: ApiError) => void): void {
  onSessionLost = fn
}

async function toApiError(response: Response, body: unknown): Promise<ApiError> {
  const b = (body ?? {}) as { code?: unknown; message?: unknown }
  const retry = Number(response.headers.get('retry-after'))
  return new ApiError(
    response.status,
    typeof b.code === 'string' ? b.code : `http_${response.status}`,
    typeof b.message === 'string' ? b.message : '',
    Number.isFinite(retry) && retry > 0 ? retry : null
  )
}

/** Unwraps an openapi-fetch answer: the data, or an ApiError. */
async function unwrap<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await p
  if (response.ok) return data as T
  throw await toApiError(response, error)
}

/** The same for the console's calls: a lost session (401) also returns the app to sign-in. */
export async function call<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  try {
    return await unwrap(p)
  } catch (e) {
    if (endsSession(e)) onSessionLost(e)
    throw e
  }
}

/**
 * The console's sign-in routes: they set and clear the HttpOnly cookie, and a 401 on them is an
 * answer (wrong password, not signed in yet), not a lost session.
 */
export const session = {
  signIn: (realm: Realm, username: string, password: string): Promise<Session> =>
    unwrap(api.POST('/v1/auth/session', { body: { realm, username, password } })),
  current: (): Promise<Session> => unwrap(api.GET('/v1/auth/session', { cache: 'no-store' })),
  signOut: (): Promise<void> => unwrap(api.DELETE('/v1/auth/session', {})).then(() => undefined)
}
