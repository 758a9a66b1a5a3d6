/**
 * A typed client for the token authority, from the committed OpenAPI document:
 * openapi-typescript types (schema.ts, generated) + openapi-fetch (a 6 kB fetch wrapper).
 *
 *   const authority = createAuthorityClient('http://token-authority:3000', { token })
 *   const { data, error } = await authority.GET('/v1/tokens', { params: { query: { state: 'active' } } })
 */
import createClient, { type Client } from 'openapi-fetch'
import type { components, paths } from './schema.js'

export type { components, paths } from './schema.js'
export type AuthorityError = components['schemas']['Error']
export type Token = components['schemas']['Token']
export type IssuedToken = components['schemas']['IssuedToken']
export type Introspection = components['schemas']['Introspection']

export interface AuthorityClientOptions {
  /** a login token, PAT or service token, sent as `Authorization: Bearer` */
  token?: string
  fetch?: typeof globalThis.fetch
}

export function createAuthorityClient(baseUrl: string, opts: AuthorityClientOptions = {}): Client<paths> {
  return createClient<paths>({
    baseUrl,
    headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
    ...(opts.fetch ? { fetch: opts.fetch } : {})
  })
}
