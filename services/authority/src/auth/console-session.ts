import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Actor } from '../audit/audit.repository.js'
import { seconds, type Clock } from '../clock.js'
import type { ActiveToken, Introspection } from '../tokens/introspection.js'
import type { TokenLifecycle } from '../tokens/token-lifecycle.js'

/**
 * Console sessions: a login token held in an `HttpOnly` cookie (auth/console-cookies.ts), plus a
 * second cookie carrying the time of the session's last authenticated request, sealed with an
 * HMAC bound to the token's id. The idle timeout is read from that cookie, so no request writes
 * to the database to keep a session alive; the one write is the revoke when a session ends.
 */

/** The key of the activity seal, derived from the pepper (never the pepper itself, never stored). */
export function consoleActivityKey(pepper: Buffer): Buffer {
  return createHmac('sha256', pepper).update('token-authority console activity MAC v1').digest()
}

/** `v1.<unix seconds>.<base64url HMAC-SHA256 over "<token id>.<seconds>">` */
const SEALED = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/

/** How far ahead of this process's clock a sealed time may be (another replica's clock). */
const CLOCK_SKEW_SECONDS = 60

export type SessionEnd = 'expired' | 'revoked' | 'unknown' | 'idle' | 'activity'

export type SessionOutcome =
  | { ok: true; token: ActiveToken /** the refreshed activity cookie value */; activity: string }
  | { ok: false; reason: SessionEnd }

export interface ConsoleSessionsOptions {
  key: Buffer
  clock: Clock
  introspection: Introspection
  tokens: TokenLifecycle
  idleSeconds: number
  ttlSeconds: number
}

/** Revocation reasons (tokens.revoked_reason, the revocation log), at most 32 characters. */
const REVOKE_REASON: Record<'idle' | 'activity' | 'signed_out', string> = {
  idle: 'session_idle',
  activity: 'session_activity_invalid',
  signed_out: 'signed_out'
}

export class ConsoleSessions {
  readonly #o: ConsoleSessionsOptions
  constructor(opts: ConsoleSessionsOptions) {
    this.#o = opts
  }

  now(): number {
    return this.#o.clock.now()
  }

  get idleSeconds(): number {
    return this.#o.idleSeconds
  }

  get ttlSeconds(): number {
    return this.#o.ttlSeconds
  }

  #mac(tokenId: string, at: number): Buffer {
    return createHmac('sha256', this.#o.key).update(`${tokenId}.${at}`).digest()
  }

  /** The activity cookie value for a session's token, stamped now. */
  seal(tokenId: string): string {
    const at = seconds(this.#o.clock.now())
    return `v1.${at}.${this.#mac(tokenId, at).toString('base64url')}`
  }

  /** The sealed time (unix seconds) if the value is this token's and untampered, else null. */
  open(value: string | undefined, tokenId: string): number | null {
    if (value === undefined) return null
    const m = SEALED.exec(value)
    if (m === null) return null
    const at = Number(m[1])
    const given = Buffer.from(m[2]!, 'base64url')
    const expected = this.#mac(tokenId, at)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
    if (at > seconds(this.#o.clock.now()) + CLOCK_SKEW_SECONDS) return null
    return at
  }

  /**
   * Resumes a session from its cookies: the token must be an active login token and the activity
   * seal good and recent. An idle session, or one whose seal is missing or forged, is revoked
   * here (so a stolen session cookie alone is worth nothing once its owner's activity stopped).
   */
  async resume(value: string, activity: string | undefined, ip: string): Promise<SessionOutcome> {
    const verified = await this.#o.introspection.verify(value)
    // (login tokens are never rotated: reuse_detected cannot be a session's, but it is revoked all the same)
    if (!verified.active)
      return { ok: false, reason: verified.reason === 'reuse_detected' ? 'revoked' : verified.reason }
    const token = verified.token
    // Only the sign-in route sets the cookie, and it holds a login token: anything else is not a session.
    if (token.tokenKind !== 'lgn') return { ok: false, reason: 'unknown' }
    const at = this.open(activity, token.id)
    const end: SessionEnd | null =
      at === null ? 'activity' : seconds(this.#o.clock.now()) - at > this.#o.idleSeconds ? 'idle' : null
    if (end !== null) {
      await this.end(token, end === 'idle' ? 'idle' : 'activity', ip)
      return { ok: false, reason: end }
    }
    return { ok: true, token, activity: this.seal(token.id) }
  }

  /** Ends a session: revokes its login token (committed, then the caches invalidated). */
  async end(token: Pick<ActiveToken, 'id' | 'accountId'>, why: keyof typeof REVOKE_REASON, ip: string): Promise<void> {
    const actor: Actor = { accountId: token.accountId, tokenId: token.id, ip }
    await this.#o.tokens.revoke(token.accountId, [token.id], REVOKE_REASON[why], actor)
  }

  /** Ends the session held by a cookie value, if its token is still active (sign-out); false if none. */
  async endByValue(value: string, ip: string): Promise<boolean> {
    const verified = await this.#o.introspection.verify(value)
    if (!verified.active || verified.token.tokenKind !== 'lgn') return false
    await this.end(verified.token, 'signed_out', ip)
    return true
  }
}
