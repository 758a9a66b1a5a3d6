import { hash as oneShotHash } from 'node:crypto'
import type { Kysely } from 'kysely'
import { LRUCache } from 'lru-cache'
import type { CachedToken, TokenCache } from '../cache/token-cache.js'
import { seconds, type Clock } from '../clock.js'
import type { QueryGuard } from '../db/fault-policy.js'
import type { Database } from '../db/tables.js'
import { effectiveScopes } from '../scopes/catalogue.js'
import { SingleFlight } from '../single-flight.js'
import { hashesEqual, type TokenKind } from './token-format.js'
import type { Count, TokenKeys } from './token-keys.js'
import { REUSE_DETECTED, rotationState } from './rotation.js'
import { findTokenWithOwner, type TokenWithOwner } from './token.repository.js'
import { VerifiedValues } from './verified-values.js'

/**
 * The introspection hot path: verify a presented value (parse, cache, one shared database read per
 * token, fill), reuse verified caller credentials, and forget what a change invalidated. Nothing
 * here writes to the database but rotation's two events (RotationHooks), each once, behind a miss.
 */

/** `reuse_detected`: revoked with its family because a rotated-away value was presented again */
export type InactiveReason = 'expired' | 'revoked' | 'unknown' | 'reuse_detected'

/** A database read, shared by concurrent misses: the cache entry, or why there is none. */
type Loaded = { active: true; entry: CachedToken } | { active: false; reason: InactiveReason }

/** An authenticated, active token: what introspection and route guards work from. */
export interface ActiveToken {
  id: string
  accountId: string
  username: string
  accountKind: 'admin' | 'customer' | 'service'
  tokenKind: TokenKind
  /** effective scopes: the token's scopes ∩ the owner's current permissions */
  scopes: string[]
  iat: number
  exp: number | null
  /** set while the token is superseded: its rotation overlap ends then (unix seconds) */
  rotationEndsAt?: number
  /** exchanged tokens (RFC 8693): the audiences the token is bound to */
  aud?: string[]
  /** exchanged tokens: who exchanged it (RFC 8693 §4.1): the subject token's account and id */
  act?: { sub: string; token_id: string }
}

/**
 * The writes a presented value can set off (tokens/rotation.ts), made by TokenLifecycle; only ever
 * on the database read behind a cache miss, so a cache hit never writes.
 */
export interface RotationHooks {
  /** what presenting this token's value sets off (tokens/rotation.ts onPresented, with the configured grace) */
  onPresented(found: TokenWithOwner, now: number): 'reuse' | 'end_overlap' | null
  /** a successor's first use: its predecessor's open overlap ends now */
  endOverlap(successor: TokenWithOwner): Promise<void>
  /** a rotated-away value presented again: revoke it and every later successor */
  reuse(presented: TokenWithOwner): Promise<void>
}

/** Outcomes, not exceptions, for expected negatives; exceptions are for faults (→ 503). */
export type Verification =
  | { active: true; token: ActiveToken /** seconds since the answer was read from the database */; ageSeconds: number }
  | { active: false; reason: InactiveReason }

export interface IntrospectionOptions {
  db: Kysely<Database>
  guard: QueryGuard
  cache: TokenCache
  clock: Clock
  keys: TokenKeys
  cacheTtlSeconds: number
  /** database reads on this path (ta_token_store_reads_total) */
  dbReads: Count
  /** caller credentials answered from the in-process reuse (ta_introspection_caller_reuse_total) */
  callerHits: Count
  /** signature-verified values remembered (verified-values.ts); 0 = off */
  verifiedValuesMax?: number
}

/** What the revocation follower tells the hot path (set once the follower exists). */
export interface ChangeHooks {
  /** a change committed here: read the log now, so the stream carries it at once */
  committed(): void
}

/** how long a verified caller credential of /introspect and /revoke is trusted without a lookup */
export const CALLER_CACHE_MS = 1000

export class Introspection {
  readonly #o: IntrospectionOptions
  /**
   * Shared database reads: concurrent misses of one token wait on one read, joined only by requests
   * that began before it finished (see introspect); nothing is kept once it settles. A revoke made
   * on this replica, or heard from another, forgets the running read at once.
   */
  readonly #loads = new SingleFlight<Loaded>()
  /** per token with a load in flight: when its database read finished */
  readonly #readDone = new Map<string, { at: number }>()
  /**
   * Caller credentials of /introspect and /revoke verified in the last CALLER_CACHE_MS, keyed by
   * the SHA-256 of the value (a map lookup then compares digests, not secrets). Active answers only;
   * a change on this replica drops the entry at once (invalidate), one on another replica through
   * the invalidation channel (forgetCallers), or at worst when the entry times out.
   */
  readonly #callers = new LRUCache<string, { verification: Verification & { active: true }; id: string }>({
    max: 10_000,
    ttl: CALLER_CACHE_MS,
    dispose: (v, key) => {
      if (this.#callerKeys.get(v.id) === key) this.#callerKeys.delete(v.id)
    }
  })
  readonly #callerKeys = new Map<string, string>()
  /** bumped by every forget: a verification that started before one is not kept */
  #callerGeneration = 0

  /** signature checks and storage hashes of values already seen (no token state: see verified-values.ts) */
  readonly #values: VerifiedValues

  constructor(opts: IntrospectionOptions) {
    this.#o = opts
    this.#values = new VerifiedValues(opts.keys, opts.verifiedValuesMax ?? 10_000)
  }

  /**
   * Verifies a presented value. Shape, checksum, HMAC and signed expiry are checked first, in
   * constant time and with no I/O; only then the cache, then (once per token) the database.
   */
  async verify(value: unknown): Promise<Verification> {
    const began = performance.now()
    const read = this.#values.read(value)
    if (!read.ok) return { active: false, reason: 'unknown' }
    const { claims, hash } = read.value
    const nowSec = seconds(this.#o.clock.now())
    if (claims.exp !== null && claims.exp <= nowSec) return { active: false, reason: 'expired' }

    const cached = await this.#o.cache.get(claims.id)
    // an entry of a superseded token whose overlap is over: the database decides (reuse)
    if (cached.hit && !overlapOver(cached.entry, nowSec)) return answer(cached.entry, hash, nowSec)

    // One database read per token at a time, joined only by requests that began before that read
    // finished: a request that began later (while the flight fills the cache, which takes up to
    // the Redis command timeout when Redis fails over) might come after a revoke that another
    // replica committed and returned meanwhile, so it reads for itself. Joining a finished read,
    // or a settled one, answered "active" after a revoke had returned (the Sentinel failover test).
    const loaded = await this.#loads.run(
      claims.id,
      () => this.#loadAndFill(claims.id, claims.exp, nowSec, hash),
      () => {
        const read = this.#readDone.get(claims.id)
        return read === undefined || read.at >= began
      }
    )
    if (!loaded.active) return loaded
    if (!hashesEqual(Buffer.from(loaded.entry.hash, 'hex'), hash)) return { active: false, reason: 'unknown' }
    return answer(loaded.entry, hash, nowSec)
  }

  /**
   * Verifies the credential a service presents to /introspect or /revoke: the same checks as
   * verify, but an active answer is reused for up to CALLER_CACHE_MS (a gateway presents the same
   * credential on every call). Inactive answers are never reused.
   */
  async verifyCaller(value: string): Promise<Verification> {
    if (value.length > 1024) return { active: false, reason: 'unknown' }
    const key = oneShotHash('sha256', value, 'base64')
    const reused = this.#reuseCaller(key)
    if (reused !== undefined) return reused
    return this.#verifyCallerFully(value, key)
  }

  /**
   * The same as verifyCaller, without a promise when the credential is reused (the hot path's
   * hooks then finish synchronously): an answer, or a promise of one.
   */
  verifyCallerNow(value: string): Verification | Promise<Verification> {
    if (value.length > 1024) return { active: false, reason: 'unknown' }
    const key = oneShotHash('sha256', value, 'base64')
    return this.#reuseCaller(key) ?? this.#verifyCallerFully(value, key)
  }

  #reuseCaller(key: string): Verification | undefined {
    const hit = this.#callers.get(key)
    if (hit === undefined) return undefined
    const { exp, rotationEndsAt } = hit.verification.token
    const nowSec = seconds(this.#o.clock.now())
    if ((exp === null || exp > nowSec) && (rotationEndsAt === undefined || rotationEndsAt > nowSec)) {
      this.#o.callerHits.inc()
      return hit.verification
    }
    this.#callers.delete(key)
    return undefined
  }

  async #verifyCallerFully(value: string, key: string): Promise<Verification> {
    const generation = this.#callerGeneration
    const verification = await this.verify(value)
    if (verification.active && generation === this.#callerGeneration) {
      const id = verification.token.id
      const previous = this.#callerKeys.get(id)
      if (previous !== undefined && previous !== key) this.#callers.delete(previous)
      this.#callers.set(key, { verification, id })
      this.#callerKeys.set(id, key)
    }
    return verification
  }

  /**
   * A change made on another replica (its invalidation message), or `null` when messages may have
   * been missed: drops what this process keeps of those tokens (shared reads, caller verifications).
   */
  forgetRemote(ids: readonly string[] | null): void {
    if (ids === null) this.#loads.forgetAll()
    else for (const id of ids) this.#loads.forget(id)
    this.forgetCallers(ids)
  }

  /** Forgets reused caller verifications of these tokens (all of them when `ids` is null). */
  forgetCallers(ids: readonly string[] | null): void {
    this.#callerGeneration++
    if (ids === null) {
      this.#callers.clear()
      return
    }
    for (const id of ids) {
      const key = this.#callerKeys.get(id)
      if (key !== undefined) this.#callers.delete(key)
    }
  }

  /** set by createServices once the revocation follower exists */
  hooks: ChangeHooks | undefined
  /** set by createServices once the token lifecycle exists */
  rotation: RotationHooks | undefined

  /** Drops cached entries and in-flight loads of these tokens, and tells the other verifiers. */
  async invalidate(ids: readonly string[]): Promise<void> {
    this.hooks?.committed()
    if (ids.length === 0) return
    // A load that started before the change must not answer requests that start after it.
    for (const id of ids) this.#loads.forget(id)
    this.forgetCallers(ids)
    try {
      await this.#o.cache.invalidate(ids)
    } finally {
      // a caller verification that read the old entry while the marker was being written is not kept
      this.forgetCallers(ids)
    }
  }

  async #loadAndFill(id: string, signedExp: number | null, nowSec: number, hash: Buffer): Promise<Loaded> {
    // when this flight's database read finished (Infinity: not yet), for verify's joining rule
    const read = { at: Number.POSITIVE_INFINITY }
    this.#readDone.set(id, read)
    try {
      return await this.#loadAndFillOnce(id, signedExp, nowSec, hash, read)
    } finally {
      if (this.#readDone.get(id) === read) this.#readDone.delete(id)
    }
  }

  async #loadAndFillOnce(
    id: string,
    signedExp: number | null,
    nowSec: number,
    hash: Buffer,
    read: { at: number }
  ): Promise<Loaded> {
    this.#o.dbReads.inc()
    const found = await this.#o.guard(findTokenWithOwner(this.#o.db, id))
    read.at = performance.now()
    if (found === undefined) return { active: false, reason: 'unknown' }
    const { owner } = found
    // disabled accounts have no active tokens; a token of an older account generation was issued
    // before a disable and stays dead after an enable
    if (owner.disabled || found.accountGeneration < owner.tokenGeneration) return { active: false, reason: 'revoked' }
    // issued before the account's revoke-before watermark (read in the same join: no extra I/O)
    if (owner.tokensRevokedBefore !== null && found.createdAt < owner.tokensRevokedBefore)
      return { active: false, reason: 'revoked' }
    // rotation (tokens/rotation.ts): nothing to do for a token outside one, and no await
    const rotation = this.#rotation(found, hash)
    if (rotation !== null) {
      const rotated = await rotation
      if (rotated !== null) return rotated
    }
    if (found.revokedAt !== null)
      return { active: false, reason: found.revokedReason === REUSE_DETECTED ? 'reuse_detected' : 'revoked' }
    const exp = minExp(signedExp, found.expiresAt === null ? null : seconds(found.expiresAt))
    if (exp !== null && exp <= nowSec) return { active: false, reason: 'expired' }
    const entry: CachedToken = {
      id: found.id,
      accountId: found.accountId,
      username: owner.username,
      accountKind: owner.kind,
      tokenKind: found.kind,
      hash: found.hash,
      scopes: found.scopes,
      permissions: owner.permissions,
      iat: seconds(found.createdAt),
      exp,
      ...(found.audience === null ? {} : { aud: found.audience }),
      ...(found.kind === 'xch' && found.parentId !== null ? { actTokenId: found.parentId } : {}),
      filledAt: nowSec
    }
    if (found.rotationEndsAt !== null) entry.rotationEndsAt = seconds(found.rotationEndsAt)
    // the entry's life counts from the read, not from when the fill lands (a slow read must not
    // stretch how long an answer can outlive a change); a superseded one's ends with its overlap
    const age = Math.max(0, seconds(this.#o.clock.now()) - nowSec)
    const left = Math.min(exp === null ? Infinity : exp, entry.rotationEndsAt ?? Infinity) - nowSec
    await this.#o.cache.fill(entry, Math.min(this.#o.cacheTtlSeconds, left) - age)
    return { active: true, entry }
  }

  /**
   * Rotation on the database read: a stopped value presented again (reuse armed) revokes its
   * family; a successor's first use ends its predecessor's overlap (then the answer goes on as for
   * any token). Only for the holder of the value (its hash matched). Null: not in a rotation.
   */
  #rotation(found: TokenWithOwner, hash: Buffer): Promise<Loaded | null> | null {
    if (found.replacedBy === null && found.supersedesUntil === null) return null
    const now = this.#o.clock.now()
    const hooks = this.rotation
    const step = hooks === undefined ? null : hooks.onPresented(found, now)
    if (hooks !== undefined && step !== null && hashesEqual(Buffer.from(found.hash, 'hex'), hash)) {
      if (step === 'reuse') return hooks.reuse(found).then(() => ({ active: false, reason: 'reuse_detected' }))
      return hooks.endOverlap(found).then(() => null)
    }
    // an overlap that is over (reuse not armed yet, or the value not matched): no longer active
    if (rotationState(found, now) === 'stopped') return Promise.resolve({ active: false, reason: 'revoked' })
    return null
  }
}

/** a cached superseded token whose overlap has ended */
function overlapOver(entry: CachedToken, nowSec: number): boolean {
  return entry.rotationEndsAt !== undefined && entry.rotationEndsAt <= nowSec
}

function answer(entry: CachedToken, hash: Buffer, nowSec: number): Verification {
  if (!hashesEqual(Buffer.from(entry.hash, 'hex'), hash)) return { active: false, reason: 'unknown' }
  if (entry.exp !== null && entry.exp <= nowSec) return { active: false, reason: 'expired' }
  const verification: Verification & { active: true } = {
    active: true,
    ageSeconds: Math.max(0, nowSec - entry.filledAt),
    token: {
      id: entry.id,
      accountId: entry.accountId,
      username: entry.username,
      accountKind: entry.accountKind,
      tokenKind: entry.tokenKind,
      scopes: effectiveScopes(entry.scopes, entry.permissions),
      iat: entry.iat,
      exp: entry.exp,
      ...(entry.aud === undefined ? {} : { aud: entry.aud }),
      ...(entry.actTokenId === undefined ? {} : { act: { sub: entry.accountId, token_id: entry.actTokenId } })
    }
  }
  if (entry.rotationEndsAt !== undefined) verification.token.rotationEndsAt = entry.rotationEndsAt
  return verification
}

function minExp(a: number | null, b: number | null): number | null {
  if (a === null) return b
  if (b === null) return a
  return Math.min(a, b)
}
