/** The live state generated requests point into, resolved at send time. (test/features/openapi-fuzz.test.ts) */
import type { FastifyInstance } from 'fastify'

// ---------------------------------------------------------------------------------------------
// Live state the generated requests point into (resolved at send time)
// ---------------------------------------------------------------------------------------------

export type Kind = 'admin' | 'customer' | 'service'
export interface Principal {
  username: string
  password: string
  accountId: string
  kind: Kind
  permissions: string[]
  token: string
  tokenId: string
  /** a change to this account (password, disabled, permissions) was answered 2xx: repair it */
  dirty: boolean
}
export interface KnownToken {
  owner: string
  value: string | undefined
  /** as far as the responses tell: revoked, regenerated or expired tokens are not */
  live: boolean
  scopes?: string[] | null
}
export interface KnownAccount {
  username: string
  password: string
  permissions?: string[]
}
export interface State {
  app: FastifyInstance
  rootToken: string
  principals: Record<Kind, Principal>
  tokens: Map<string, KnownToken>
  accounts: Map<string, KnownAccount>
  /** webhook endpoint ids answered by createWebhook */
  webhooks: string[]
  scopes: string[]
  presets: string[]
  repairs: number
  /** the console session (cookie header) of an account of its own, for the cookie-only operations */
  console: { cookie: string; accountId: string; password: string }
}

/** Who is calling, as resolved at send time: used by the hints (own tokens, own password). */
export interface Caller {
  accountId: string | null
  password: string | null
  /** what the credential may hold, when known */
  scopes: string[] | null
  /** the account and token the path names, once resolved */
  targetAccount?: string
  targetToken?: string
}

/** A value chosen at send time from the live state, by a generated number. */
export class Deferred {
  constructor(readonly pick: (s: State, c: Caller) => unknown) {}
}
/** A path segment sent verbatim (malformed percent-encoding, dot segments…). */
export class RawSegment {
  constructor(readonly raw: string) {}
}
export const ABSENT = Symbol('absent')

export function nth<T>(items: readonly T[], n: number): T | undefined {
  return items.length === 0 ? undefined : items[n % items.length]
}
export const ownedBy = (s: State, accountId: string | null, live?: boolean) =>
  [...s.tokens].filter(([, k]) => k.owner === accountId && (live === undefined || k.live === live)).map(([id]) => id)
/** live PATs and service tokens of an account (login tokens cannot be regenerated, copied or narrowed) */
export const liveIssuedBy = (s: State, accountId: string | null) =>
  [...s.tokens].filter(([, k]) => k.owner === accountId && k.live && !k.value?.startsWith('tka_lgn_')).map(([id]) => id)
export const PAD_ID = 'AAAAAAAAAAAAAAAAAAAAAA'

export function resolve(v: unknown, s: State, c: Caller): unknown {
  if (v instanceof Deferred) return resolve(v.pick(s, c), s, c)
  if (Array.isArray(v)) return v.filter((x) => x !== ABSENT).map((x) => resolve(x, s, c))
  if (v !== null && typeof v === 'object' && !(v instanceof RawSegment) && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) if (x !== ABSENT) out[k] = resolve(x, s, c)
    return out
  }
  return v
}
