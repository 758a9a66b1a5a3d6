import { hash as oneShotHash } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Kysely } from 'kysely'
import { LRUCache } from 'lru-cache'
import type { CachedToken, TokenCache } from '../cache/token-cache.js'
import type { Clock } from '../clock.js'
import { seconds } from '../clock.js'
import type { SigningKey } from '../config.js'
import type { Database, TokenRow } from '../db/tables.js'
import { recordAudit, type Actor } from '../audit/audit-log.js'
import { AppError, errors } from '../errors.js'
import { effectiveScopes, missingFrom } from '../scopes/catalogue.js'
import type { ScopeCatalogue } from '../scopes/scope-catalogue.js'
import { SingleFlight, withTimeout } from '../single-flight.js'
import { encodeToken, hashesEqual, hashToken, newTokenId, parseToken, type TokenKind } from './token-format.js'
import {
  findToken,
  findTokenWithOwner,
  insertToken,
  listTokenRows,
  liveTokenIdsOfAccount,
  revokeTokenRows,
  type TokenState,
  type TokenWithOwner
} from './token-store.js'

export type InactiveReason = 'expired' | 'revoked' | 'unknown'

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
}

/** Outcomes, not exceptions, for expected negatives; exceptions are for faults (→ 503). */
export type Verification =
  | { active: true; token: ActiveToken; /** seconds since the answer was read from the database */ ageSeconds: number }
  | { active: false; reason: InactiveReason }

export interface TokenServiceOptions {
  db: Kysely<Database>
  cache: TokenCache
  clock: Clock
  catalogue: ScopeCatalogue
  signingKeys: readonly SigningKey[]
  pepper: Buffer
  prefix: string
  cacheTtlSeconds: number
  dbTimeoutMs: number
  log: FastifyBaseLogger
}

export interface TokenSpecInput {
  name: string
  description?: string | undefined
  scopes?: string[] | undefined
  preset?: string | undefined
  /** unix seconds; null or absent = never expires */
  expiresAt?: number | null | undefined
}

export interface IssuedToken {
  value: string
  row: TokenRow
}

const MAX_EXP = 2 ** 48 - 1
/** how long a verified caller credential of /introspect and /revoke is trusted without a lookup */
export const CALLER_CACHE_MS = 1000
const REGENERATABLE: readonly TokenKind[] = ['pat', 'svc']

export class TokenService {
  readonly #o: TokenServiceOptions
  /**
   * Shared database reads. A result stays shared for 1 s after it settles, but only for requests
   * whose cache lookup failed (a burst whose Redis lookups time out while the event loop lags
   * still costs one read). A revoke made on this replica forgets it at once; while Redis fails, one
   * made on another replica can be missed for at most that second.
   */
  readonly #loads = new SingleFlight<Loaded>(1000)
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
  /** caller-credential lookups answered from #callers (for the benchmark and tests) */
  callerHits = 0
  /** database reads on the introspection path (for metrics and the one-read-per-miss tests) */
  dbReads = 0
  /** database calls that failed or timed out (answered 503) */
  dbErrors = 0

  constructor(opts: TokenServiceOptions) {
    this.#o = opts
  }

  get db(): Kysely<Database> {
    return this.#o.db
  }

  // ---------------------------------------------------------------- verification (hot path)

  /**
   * Verifies a presented value. Shape, checksum, HMAC and signed expiry are checked first, in
   * constant time and with no I/O; only then the cache, then (once per token) the database.
   */
  async verify(value: unknown): Promise<Verification> {
    const parsed = parseToken(value, this.#o.prefix, this.#o.signingKeys)
    if (!parsed.ok) return { active: false, reason: 'unknown' }
    const { claims } = parsed
    const now = this.#o.clock.now()
    const nowSec = seconds(now)
    if (claims.exp !== null && claims.exp <= nowSec) return { active: false, reason: 'expired' }
    const hash = hashToken(this.#o.pepper, value as string)

    const cached = await this.#o.cache.get(claims.id)
    if (cached.hit) return this.#answer(cached.entry, hash, nowSec)

    // One database read per token at a time; the flight ends only once the cache is filled, so a
    // request whose cache lookup missed just before the fill still joins it (no second read).
    const loaded = await this.#loads.run(claims.id, () => this.#loadAndFill(claims.id, claims.exp, nowSec), cached.error === true)
    if (!loaded.active) return loaded
    if (!hashesEqual(Buffer.from(loaded.entry.hash, 'hex'), hash)) return { active: false, reason: 'unknown' }
    return this.#answer(loaded.entry, hash, nowSec)
  }

  /**
   * Verifies the credential a service presents to /introspect or /revoke: the same checks as
   * verify, but an active answer is reused for up to CALLER_CACHE_MS (a gateway presents the same
   * credential on every call). Inactive answers are never reused.
   */
  async verifyCaller(value: string): Promise<Verification> {
    if (value.length > 1024) return { active: false, reason: 'unknown' }
    const key = oneShotHash('sha256', value, 'base64')
    const hit = this.#callers.get(key)
    if (hit !== undefined) {
      const exp = hit.verification.token.exp
      if (exp === null || exp > seconds(this.#o.clock.now())) {
        this.callerHits++
        return hit.verification
      }
      this.#callers.delete(key)
    }
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

  async #loadAndFill(id: string, signedExp: number | null, nowSec: number): Promise<Loaded> {
    const row = await this.#load(id)
    if (row === undefined) return { active: false, reason: 'unknown' }
    if (row.revoked_at !== null || row.disabled === 1) return { active: false, reason: 'revoked' }
    const exp = minExp(signedExp, row.expires_at === null ? null : seconds(row.expires_at))
    if (exp !== null && exp <= nowSec) return { active: false, reason: 'expired' }
    const entry: CachedToken = {
      id: row.id,
      accountId: row.account_id,
      username: row.username,
      accountKind: row.account_kind,
      tokenKind: row.kind,
      hash: row.hash,
      scopes: row.scopes === null ? null : (JSON.parse(row.scopes) as string[]),
      permissions: JSON.parse(row.permissions) as string[],
      iat: seconds(row.created_at),
      exp,
      filledAt: nowSec
    }
    // the entry's life counts from the read, not from when the fill lands (a slow read must not
    // stretch how long an answer can outlive a change)
    const age = Math.max(0, seconds(this.#o.clock.now()) - nowSec)
    await this.#o.cache.fill(entry, Math.min(this.#o.cacheTtlSeconds, exp === null ? Infinity : exp - nowSec) - age)
    return { active: true, entry }
  }

  #answer(entry: CachedToken, hash: Buffer, nowSec: number): Verification {
    if (!hashesEqual(Buffer.from(entry.hash, 'hex'), hash)) return { active: false, reason: 'unknown' }
    if (entry.exp !== null && entry.exp <= nowSec) return { active: false, reason: 'expired' }
    return {
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
        exp: entry.exp
      }
    }
  }

  async #load(id: string): Promise<TokenWithOwner | undefined> {
    this.dbReads++
    return this.guard(findTokenWithOwner(this.#o.db, id))
  }

  /** Database calls fail closed within a bound: a slow or dead database is a 503, never a pass. */
  guard<T>(p: Promise<T>): Promise<T> {
    return withTimeout(
      p.catch((err: unknown) => {
        if (err instanceof AppError) throw err
        // InnoDB chose this transaction as a deadlock victim: a concurrent change won (409, retryable).
        if ((err as NodeJS.ErrnoException).code === 'ER_LOCK_DEADLOCK') {
          throw new AppError('conflict', 'a concurrent change to the same token won; read it again and retry')
        }
        this.dbErrors++
        this.#o.log.error({ code: (err as NodeJS.ErrnoException).code, msg_: (err as Error).message }, 'database error')
        throw errors.unavailable('the token store')
      }),
      this.#o.dbTimeoutMs,
      () => {
        this.dbErrors++
        return errors.unavailable('the token store')
      }
    )
  }

  // ---------------------------------------------------------------- issuing

  #mint(kind: TokenKind, expSec: number | null): { id: string; value: string; hash: string; kid: string } {
    const key = this.#o.signingKeys[0]!
    const id = newTokenId()
    const value = encodeToken(this.#o.prefix, kind, key, id, expSec)
    return { id, value, hash: hashToken(this.#o.pepper, value).toString('hex'), kid: key.kid }
  }

  #checkExpiry(expSec: number | null | undefined, nowSec: number): number | null {
    if (expSec === undefined || expSec === null) return null
    if (!Number.isInteger(expSec) || expSec <= nowSec) throw new AppError('invalid_expiry', 'expires_at must be in the future')
    if (expSec > MAX_EXP) throw new AppError('invalid_expiry', 'expires_at is too far in the future')
    return expSec
  }

  /**
   * Scopes of a new token must lie within the owner's permissions and within the calling
   * credential's effective scopes: a token never mints a broader one, for itself or for others.
   */
  #checkScopes(scopes: readonly string[], ownerPermissions: readonly string[], caller: ActiveToken | null): void {
    const beyondOwner = missingFrom(scopes, ownerPermissions)
    if (beyondOwner.length > 0) {
      throw new AppError('scope_not_permitted', `the account does not hold ${beyondOwner.join(', ')}`)
    }
    if (caller !== null) {
      const beyondCaller = missingFrom(scopes, caller.scopes)
      if (beyondCaller.length > 0) {
        throw new AppError('scope_not_permitted', `the calling credential does not hold ${beyondCaller.join(', ')}`)
      }
    }
  }

  /** Login token: carries the owner's full current permissions (scopes = null). */
  async issueLoginToken(accountId: string, ttlSeconds: number, actor: Actor): Promise<IssuedToken> {
    const now = this.#o.clock.now()
    const exp = seconds(now) + ttlSeconds
    const m = this.#mint('lgn', exp)
    const row: TokenRow = {
      id: m.id,
      account_id: accountId,
      kind: 'lgn',
      name: 'login',
      description: '',
      scopes: null,
      preset: null,
      hash: m.hash,
      kid: m.kid,
      created_at: now,
      expires_at: exp * 1000,
      revoked_at: null,
      revoked_reason: null,
      parent_id: null,
      replaced_by: null
    }
    await this.guard(
      this.#o.db.transaction().execute(async (trx) => {
        await insertToken(trx, row)
        await recordAudit(trx, now, actor, 'token.login', { tokenId: m.id, accountId }, { kind: 'lgn', expires_at: exp })
      })
    )
    return { value: m.value, row }
  }

  /**
   * Creates a PAT (or a service token for a service account). `caller` is the credential making
   * the call (its scopes bound the new token's), or null for the operator (CLI).
   */
  async createToken(
    owner: TokenOwner,
    input: TokenSpecInput,
    caller: ActiveToken | null,
    actor: Actor,
    copyOf: string | null = null
  ): Promise<IssuedToken> {
    const now = this.#o.clock.now()
    assertEnabled(owner)
    const { scopes, preset } = this.#o.catalogue.resolve(input)
    this.#checkScopes(scopes, owner.permissions, caller)
    const exp = this.#checkExpiry(input.expiresAt, seconds(now))
    const kind: TokenKind = owner.kind === 'service' ? 'svc' : 'pat'
    const m = this.#mint(kind, exp)
    const row: TokenRow = {
      id: m.id,
      account_id: owner.id,
      kind,
      name: input.name,
      description: input.description ?? '',
      scopes: JSON.stringify(scopes),
      preset,
      hash: m.hash,
      kid: m.kid,
      created_at: now,
      expires_at: exp === null ? null : exp * 1000,
      revoked_at: null,
      revoked_reason: null,
      parent_id: copyOf,
      replaced_by: null
    }
    await this.guard(
      this.#o.db.transaction().execute(async (trx) => {
        await insertToken(trx, row)
        await recordAudit(trx, now, actor, copyOf === null ? 'token.create' : 'token.copy', { tokenId: m.id, accountId: owner.id }, {
          kind,
          name: row.name,
          scopes,
          preset,
          expires_at: exp,
          ...(copyOf === null ? {} : { source: copyOf })
        })
      })
    )
    return { value: m.value, row }
  }

  // ---------------------------------------------------------------- reading

  async getOwned(accountId: string, id: string): Promise<TokenRow> {
    const row = await this.guard(findToken(this.#o.db, id))
    // Someone else's token is "not found", so ids cannot be probed across accounts.
    if (row === undefined || row.account_id !== accountId) throw errors.notFound('token')
    return row
  }

  async list(
    accountId: string,
    opts: { state?: TokenState | undefined; limit: number; cursor?: string | undefined }
  ): Promise<{ rows: TokenRow[]; nextCursor: string | null }> {
    const after = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor)
    const rows = await this.guard(
      listTokenRows(this.#o.db, accountId, this.#o.clock.now(), {
        limit: opts.limit + 1,
        ...(opts.state ? { state: opts.state } : {}),
        ...(after ? { after } : {})
      })
    )
    const page = rows.slice(0, opts.limit)
    const last = page[page.length - 1]
    return { rows: page, nextCursor: rows.length > opts.limit && last ? encodeCursor(last) : null }
  }

  stateOf(row: TokenRow): TokenState {
    if (row.revoked_at !== null) return 'revoked'
    if (row.expires_at !== null && row.expires_at <= this.#o.clock.now()) return 'expired'
    return 'active'
  }

  // ---------------------------------------------------------------- changes

  #assertLive(row: TokenRow): void {
    const state = this.stateOf(row)
    if (state !== 'active') throw new AppError('token_inactive', `the token is ${state}`)
  }

  async edit(
    accountId: string,
    id: string,
    patch: { name?: string | undefined; description?: string | undefined; scopes?: string[] | undefined; expiresAt?: number | undefined },
    actor: Actor
  ): Promise<TokenRow> {
    const now = this.#o.clock.now()
    const row = await this.getOwned(accountId, id)
    this.#assertLive(row)
    const changes: Partial<TokenRow> = {}
    const details: Record<string, unknown> = {}
    let deniesAccess = false
    if (patch.name !== undefined && patch.name !== row.name) {
      changes.name = patch.name
      details.name = { from: row.name, to: patch.name }
    }
    if (patch.description !== undefined && patch.description !== row.description) {
      changes.description = patch.description
      details.description = 'changed'
    }
    if (patch.scopes !== undefined) {
      if (row.scopes === null) throw new AppError('invalid_request', 'the scopes of a login token cannot be edited')
      this.#o.catalogue.assertKnown(patch.scopes)
      const current = JSON.parse(row.scopes) as string[]
      const wider = missingFrom(patch.scopes, current)
      if (wider.length > 0) {
        throw new AppError('scope_not_permitted', `edit can only narrow scopes; ${wider.join(', ')} is not on this token (create a new token instead)`)
      }
      if (patch.scopes.length === 0) throw new AppError('invalid_request', 'a token needs at least one scope; revoke it instead')
      const next = [...new Set(patch.scopes)].sort()
      if (next.length !== current.length) {
        changes.scopes = JSON.stringify(next)
        changes.preset = null
        details.scopes = { from: current, to: next }
        deniesAccess = true
      }
    }
    if (patch.expiresAt !== undefined) {
      const exp = this.#checkExpiry(patch.expiresAt, seconds(now))!
      const currentExp = row.expires_at === null ? null : seconds(row.expires_at)
      if (currentExp !== null && exp > currentExp) {
        throw new AppError('invalid_expiry', 'edit can only bring the expiry earlier; regenerate the token to extend it')
      }
      if (exp !== currentExp) {
        changes.expires_at = exp * 1000
        details.expires_at = { from: currentExp, to: exp }
        deniesAccess = true
      }
    }
    if (Object.keys(changes).length === 0) return row
    const work = this.#o.db.transaction().execute(async (trx) => {
      // Compare-and-set on what the checks above read: a concurrent edit cannot be undone.
      const res = await unchangedSince(trx.updateTable('tokens').set(changes), row).executeTakeFirst()
      if (Number(res.numUpdatedRows) !== 1) throw new AppError('conflict', 'the token changed meanwhile; read it again')
      await recordAudit(trx, now, actor, 'token.edit', { tokenId: id, accountId }, details)
      return { ...row, ...changes }
    })
    return this.#commitThenInvalidate(work, () => (deniesAccess ? [id] : []))
  }

  /**
   * Waits (bounded) for a change to commit, then invalidates the cache. The invalidation is chained
   * to the commit, not to our wait: a change that commits after we gave up still reaches the cache.
   */
  #commitThenInvalidate<T>(work: Promise<T>, ids: (result: T) => readonly string[]): Promise<T> {
    return this.guard(
      work.then(async (result) => {
        await this.invalidate(ids(result))
        return result
      })
    )
  }

  /** Drops cached entries and in-flight loads of these tokens, and tells the other verifiers. */
  async invalidate(ids: readonly string[]): Promise<void> {
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

  /** New value, same parameters; the old value is dead at once. Exactly one concurrent call wins. */
  async regenerate(
    owner: TokenOwner,
    id: string,
    input: { expiresAt?: number | null | undefined },
    caller: ActiveToken | null,
    actor: Actor
  ): Promise<IssuedToken> {
    const now = this.#o.clock.now()
    assertEnabled(owner)
    const old = await this.getOwned(owner.id, id)
    if (!REGENERATABLE.includes(old.kind)) throw new AppError('invalid_request', 'login tokens cannot be regenerated; log in again')
    if (old.revoked_at !== null) throw new AppError('token_inactive', 'the token is revoked')
    const scopes = JSON.parse(old.scopes ?? '[]') as string[]
    this.#checkScopes(scopes, owner.permissions, caller)
    const exp =
      input.expiresAt !== undefined
        ? this.#checkExpiry(input.expiresAt, seconds(now))
        : this.#checkExpiry(old.expires_at === null ? null : seconds(old.expires_at), seconds(now))
    const m = this.#mint(old.kind, exp)
    const row: TokenRow = {
      ...old,
      id: m.id,
      hash: m.hash,
      kid: m.kid,
      created_at: now,
      expires_at: exp === null ? null : exp * 1000,
      revoked_at: null,
      revoked_reason: null,
      parent_id: old.id,
      replaced_by: null
    }
    const work = this.#o.db.transaction().execute(async (trx) => {
      // Only the request whose read is still current wins: one successor, built from that read.
      const res = await unchangedSince(
        trx.updateTable('tokens').set({ revoked_at: now, revoked_reason: 'regenerated', replaced_by: m.id }),
        old
      ).executeTakeFirst()
      if (Number(res.numUpdatedRows) !== 1) throw new AppError('conflict', 'the token was regenerated, edited or revoked by another request')
      await insertToken(trx, row)
      await recordAudit(trx, now, actor, 'token.regenerate', { tokenId: old.id, accountId: owner.id }, {
        successor: m.id,
        expires_at: exp
      })
    })
    await this.#commitThenInvalidate(work, () => [old.id])
    return { value: m.value, row }
  }

  /** A new token from this one's parameters; the source stays as it is. */
  async copy(
    owner: TokenOwner,
    id: string,
    input: { name?: string | undefined; description?: string | undefined; expiresAt?: number | null | undefined },
    caller: ActiveToken | null,
    actor: Actor
  ): Promise<IssuedToken> {
    const src = await this.getOwned(owner.id, id)
    if (src.scopes === null) throw new AppError('invalid_request', 'login tokens cannot be copied')
    const nowSec = seconds(this.#o.clock.now())
    const srcExp = src.expires_at === null ? null : seconds(src.expires_at)
    if (input.expiresAt === undefined && srcExp !== null && srcExp <= nowSec) {
      throw new AppError('invalid_expiry', 'the source token has expired; give expires_at for the copy')
    }
    return this.createToken(
      owner,
      {
        name: input.name ?? `${src.name} (copy)`.slice(0, 100),
        description: input.description ?? src.description,
        ...(src.preset !== null ? { preset: src.preset } : { scopes: JSON.parse(src.scopes) as string[] }),
        expiresAt: input.expiresAt !== undefined ? input.expiresAt : srcExp
      },
      caller,
      actor,
      src.id
    )
  }

  /**
   * Revokes tokens of one account (all of them when `ids` is null). Commit first, then
   * invalidate the cache (DESIGN.md §3): if the cache is down the revoke still stands.
   */
  async revoke(accountId: string, ids: readonly string[] | null, reason: string, actor: Actor): Promise<RevokeResult> {
    const work = this.#o.db.transaction().execute((trx) => this.revokeIn(trx, accountId, ids, reason, actor))
    // Every id named is invalidated, already-inactive ones too: a retry after a revoke that
    // committed late (past our timeout) still clears the cache.
    return this.#commitThenInvalidate(work, (r) => [...r.revoked, ...r.alreadyInactive])
  }

  /** The revoke inside a caller's transaction (disabling an account revokes in the same one). */
  async revokeIn(trx: Kysely<Database>, accountId: string, ids: readonly string[] | null, reason: string, actor: Actor): Promise<RevokeResult> {
    const now = this.#o.clock.now()
    let owned: TokenRow[]
    if (ids === null) {
      const live = await liveTokenIdsOfAccount(trx, accountId, now)
      owned = live.length === 0 ? [] : await trx.selectFrom('tokens').selectAll().where('id', 'in', live).execute()
    } else {
      owned =
        ids.length === 0
          ? []
          : await trx.selectFrom('tokens').selectAll().where('id', 'in', [...ids]).where('account_id', '=', accountId).execute()
    }
    const found = new Set(owned.map((r) => r.id))
    const notFound = ids === null ? [] : [...new Set(ids)].filter((i) => !found.has(i))
    const revoked: string[] = []
    const alreadyInactive: string[] = []
    for (const row of owned) {
      if (row.revoked_at !== null) {
        alreadyInactive.push(row.id)
        continue
      }
      if ((await revokeTokenRows(trx, [row.id], now, reason)) === 1) {
        revoked.push(row.id)
        await recordAudit(trx, now, actor, 'token.revoke', { tokenId: row.id, accountId }, { reason })
      } else alreadyInactive.push(row.id)
    }
    return { revoked, alreadyInactive, notFound }
  }

  /** RFC 7009: revoke by value. Unknown, forged or expired values are fine (200) and change nothing. */
  async revokeByValue(value: string, actor: Actor, onlyAccountId: string | null): Promise<boolean> {
    const parsed = parseToken(value, this.#o.prefix, this.#o.signingKeys)
    if (!parsed.ok) return false
    const row = await this.guard(findToken(this.#o.db, parsed.claims.id))
    if (row === undefined || row.revoked_at !== null) return false
    if (!hashesEqual(Buffer.from(row.hash, 'hex'), hashToken(this.#o.pepper, value))) return false
    if (onlyAccountId !== null && row.account_id !== onlyAccountId) return false
    const res = await this.revoke(row.account_id, [row.id], 'revoked', actor)
    return res.revoked.length === 1
  }

  /** Invalidates every live token of an account (after its permissions changed). */
  async invalidateAccount(accountId: string): Promise<void> {
    await this.invalidate(await this.guard(liveTokenIdsOfAccount(this.#o.db, accountId, this.#o.clock.now())))
  }
}

/** The account a token is minted for, as read for this request. */
export interface TokenOwner {
  id: string
  kind: 'admin' | 'customer' | 'service'
  permissions: string[]
  disabled: boolean
}

function assertEnabled(owner: TokenOwner): void {
  if (owner.disabled) throw new AppError('forbidden', 'the account is disabled')
}

export interface RevokeResult {
  revoked: string[]
  alreadyInactive: string[]
  notFound: string[]
}

/** WHERE the row is still live and as read: scopes and expiry unchanged (null-safe on both dialects). */
function unchangedSince<Q extends { where: (...args: any[]) => Q }>(q: Q, row: TokenRow): Q {
  let out = q.where('id', '=', row.id).where('revoked_at', 'is', null)
  out = row.scopes === null ? out.where('scopes', 'is', null) : out.where('scopes', '=', row.scopes)
  out = row.expires_at === null ? out.where('expires_at', 'is', null) : out.where('expires_at', '=', row.expires_at)
  return out
}

function minExp(a: number | null, b: number | null): number | null {
  if (a === null) return b
  if (b === null) return a
  return Math.min(a, b)
}

function encodeCursor(row: TokenRow): string {
  return Buffer.from(JSON.stringify([row.created_at, row.id])).toString('base64url')
}

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string' && v[1].length <= 22) {
      return { createdAt: v[0] as number, id: v[1] }
    }
  } catch {
    // fall through
  }
  throw new AppError('invalid_request', 'cursor is not one this service issued')
}
