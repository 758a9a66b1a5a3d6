import { err } from '../errors.js'
import { missingFrom } from '../scopes/catalogue.js'
import type { ActiveToken } from './introspection.js'
import { encodeToken, hashToken, newTokenId, type TokenKind } from './token-format.js'
import type { TokenKeys } from './token-keys.js'

/** Pure rules of issuing and changing tokens: minting, expiry, lifetime and scope checks. */

const MAX_EXP = 2 ** 48 - 1

export interface LifetimePolicy {
  defaultDays: number
  /** 0 = no maximum ("never" allowed) */
  maxDays: number
}

/** A fresh token value with the current key: its id, value, stored hash and key id. */
export function mint(
  keys: TokenKeys,
  kind: TokenKind,
  expSec: number | null
): { id: string; value: string; hash: string; kid: string } {
  const key = keys.signingKeys[0]!
  const id = newTokenId()
  const value = encodeToken(keys.prefix, kind, key, id, expSec)
  return { id, value, hash: hashToken(keys.pepper, value).toString('hex'), kid: key.kid }
}

export function checkExpiry(expSec: number | null | undefined, nowSec: number): number | null {
  if (expSec === undefined || expSec === null) return null
  if (!Number.isInteger(expSec) || expSec <= nowSec) throw err.invalid_expiry('expires_at must be in the future')
  if (expSec > MAX_EXP) throw err.invalid_expiry('expires_at is too far in the future')
  return expSec
}

/**
 * The lifetime policy of PATs and service tokens (docs/design.md, "Accounts, permissions, scopes"). `requested`: what the call
 * asked for (undefined = nothing); `carried`: the expiry a regenerate or copy inherits when the
 * call names none. Asked-for values past the maximum are refused, naming the limit; an inherited
 * one is brought within it; "never" only when there is no maximum.
 */
export function lifetime(
  policy: LifetimePolicy,
  requested: number | null | undefined,
  nowSec: number,
  carried?: number | null
): number | null {
  const { defaultDays, maxDays } = policy
  const latest = maxDays > 0 ? nowSec + maxDays * 86400 : null
  const byDefault = (): number =>
    latest === null ? nowSec + defaultDays * 86400 : Math.min(latest, nowSec + defaultDays * 86400)
  if (requested === undefined) {
    if (carried === undefined) return byDefault()
    if (carried === null) return latest === null ? null : byDefault()
    const exp = checkExpiry(carried, nowSec)!
    return latest === null ? exp : Math.min(exp, latest)
  }
  if (requested === null) {
    if (latest !== null) {
      throw err.invalid_expiry(
        `tokens must expire: give expires_at at most ${maxDays} days ahead (TOKEN_MAX_LIFETIME_DAYS)`
      )
    }
    return null
  }
  const exp = checkExpiry(requested, nowSec)!
  if (latest !== null && exp > latest) {
    throw err.invalid_expiry(`expires_at is past the maximum lifetime of ${maxDays} days (TOKEN_MAX_LIFETIME_DAYS)`)
  }
  return exp
}

/**
 * Scopes of a new token must lie within the owner's permissions and within the calling
 * credential's effective scopes: a token never mints a broader one, for itself or for others.
 */
export function checkScopes(
  scopes: readonly string[],
  ownerPermissions: readonly string[],
  caller: ActiveToken | null
): void {
  const beyondOwner = missingFrom(scopes, ownerPermissions)
  if (beyondOwner.length > 0) {
    throw err.scope_not_permitted(`the account does not hold ${beyondOwner.join(', ')}`)
  }
  if (caller !== null) {
    const beyondCaller = missingFrom(scopes, caller.scopes)
    if (beyondCaller.length > 0) {
      throw err.scope_not_permitted(`the calling credential does not hold ${beyondCaller.join(', ')}`)
    }
  }
}

export function encodeCursor(token: { createdAt: number; id: string }): string {
  return Buffer.from(JSON.stringify([token.createdAt, token.id])).toString('base64url')
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      Number.isSafeInteger(v[0]) &&
      typeof v[1] === 'string' &&
      v[1].length <= 22
    ) {
      return { createdAt: v[0] as number, id: v[1] }
    }
  } catch {
    // fall through
  }
  throw err.invalid_request('cursor is not one this service issued')
}

/** The longest `expiring_within` asked for: ten years. */
const MAX_WITHIN_SECONDS = 10 * 366 * 86400

/**
 * `expiring_within`: whole seconds (`86400`) or an ISO 8601 duration in weeks, days, hours, minutes
 * and seconds (`P30D`, `P1W`, `PT12H`, `P1DT6H`). Years and months are refused: their length
 * depends on the date.
 */
export function parseWithinSeconds(value: string): number {
  let total: number | undefined
  if (/^\d{1,10}$/.test(value)) total = Number(value)
  else {
    const m = /^P(?:(\d{1,5})W)?(?:(\d{1,5})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,8})M)?(?:(\d{1,10})S)?)?$/i.exec(value)
    if (m !== null && value.length > 1 && !/T$/i.test(value)) {
      const [w, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number]
      total = w * 604800 + d * 86400 + h * 3600 + mi * 60 + s
    }
  }
  if (total === undefined) {
    throw err.validation_failed(
      'expiring_within must be seconds (86400) or an ISO 8601 duration in weeks, days, hours, minutes, seconds (P30D, PT12H)'
    )
  }
  if (total > MAX_WITHIN_SECONDS) throw err.validation_failed('expiring_within is longer than ten years')
  return total
}
