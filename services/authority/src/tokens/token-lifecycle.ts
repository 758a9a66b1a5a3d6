import type { Kysely } from 'kysely'
import { recordAudit, type Actor } from '../audit/audit.repository.js'
import { appendRevocation } from '../revocations/revocation.repository.js'
import { lockAccount } from '../accounts/account.repository.js'
import { seconds, type Clock } from '../clock.js'
import { retryOnDeadlock, type QueryGuard } from '../db/fault-policy.js'
import type { Database } from '../db/tables.js'
import { type AppError, err } from '../errors.js'
import { actorFacts, recordEvent, tokenFacts } from '../webhooks/events.js'
import { missingFrom } from '../scopes/catalogue.js'
import type { ScopeCatalogue } from '../scopes/scope-catalogue.js'
import type { ActiveToken, Introspection } from './introspection.js'
import { recordLeakEvent } from './leak-events.js'
import { hashesEqual, hashToken, newTokenId, parseToken, type TokenKind } from './token-format.js'
import type { TokenKeys } from './token-keys.js'
import {
  checkExpiry,
  checkScopes,
  decodeCursor,
  encodeCursor,
  lifetime,
  mint,
  type LifetimePolicy
} from './token-policy.js'
import type { Token, TokenChanges, TokenState } from './token.js'
import {
  findToken,
  findTokens,
  insertTokenIfAccountAllows,
  listTokens,
  liveTokenIdsOfAccount,
  endOverlapOf,
  familyFrom,
  revokeFamilyRows,
  revokeExchangedChildren,
  revokeTokenRows,
  supersedeIfUnchanged,
  type TokenWithOwner,
  updateTokenIfUnchanged,
  findMatchingTokens,
  type TokenSelector
} from './token.repository.js'
import { onPresented, overlapEnd, REGENERATED, REUSE_DETECTED, ROTATED, type RotationFields } from './rotation.js'

/**
 * Token management: issue (login, create, copy), read, edit, regenerate and revoke, each change
 * audited in its own transaction; after the commit the change reaches the caches (Introspection).
 */

export interface TokenLifecycleOptions {
  /** the primary: changes, and every read a change or a token check rests on */
  db: Kysely<Database>
  /** lists only (a read replica when DATABASE_READ_URL is set): may lag, never decides anything */
  readDb?: Kysely<Database> | undefined
  guard: QueryGuard
  clock: Clock
  catalogue: ScopeCatalogue
  keys: TokenKeys
  /** lifetime policy of PATs and service tokens (login tokens have their own TTLs) */
  lifetime: LifetimePolicy
  /** where invalidations go after a commit */
  introspection: Introspection
  /** lock the account row a revoke-all reads under (MySQL/MariaDB); SQLite runs one writer at a time */
  rowLocks: boolean
  /** longest rotation overlap a regenerate may give (ROTATION_MAX_OVERLAP_SECONDS) */
  maxOverlapSeconds: number
  /** how long after a stop presenting the stopped value is not yet reuse (ROTATION_REUSE_GRACE_SECONDS) */
  reuseGraceSeconds: number
}

export interface TokenSpecInput {
  name: string
  description?: string | undefined
  scopes?: string[] | undefined
  preset?: string | undefined
  /** unix seconds; null = never (only without a maximum lifetime); absent = the default lifetime */
  expiresAt?: number | null | undefined
}

export interface IssuedToken {
  value: string
  token: Token
}

/** The account a token is minted for, as read for this request. */
export interface TokenOwner {
  id: string
  kind: 'admin' | 'customer' | 'service'
  permissions: string[]
  disabled: boolean
}

export interface RevokeResult {
  revoked: string[]
  alreadyInactive: string[]
  notFound: string[]
  /** exchanged tokens (RFC 8693) revoked with their subject tokens */
  cascaded: string[]
}

/** What an RFC 8693 exchange asks for, checked by the route (scopes ⊆ the subject's, audiences well-formed). */
export interface ExchangeInput {
  scopes: string[]
  audience: string[]
  /** unix seconds; already capped by the subject's own expiry */
  expiresAt: number
}

/** the reason exchanged tokens carry when they die with their subject token */
export const SUBJECT_REVOKED = 'subject_revoked'
/** stands in for the stored hash when a reported value names no token (the comparison runs anyway) */
const NO_HASH = Buffer.alloc(32)

export type { TokenSelector }

/** tokens revoked per transaction by revoke-by-selector (and scanned per page by its dry run) */
export const SELECTOR_BATCH = 500
/** tokens one revoke-by-selector call scans at most; past it the reply says where to continue */
export const SELECTOR_MAX_SCANNED = 10_000
/** ids a revoke-by-selector reply lists at most */
export const SELECTOR_SAMPLE = 100

export interface RevokeMatchingResult {
  /** tokens matched that the caller may act on (revoked ones, in a real run) */
  matched: number
  /** in a real run, how many this call revoked (a concurrent revoke may have got some first) */
  revoked: number
  /** matched tokens of accounts holding more than the caller: left alone */
  /** the first SELECTOR_SAMPLE matched ids */
  ids: string[]
  /** null = every match was seen; otherwise give it as `cursor` to continue */
  nextCursor: string | null
}

const REGENERATABLE: readonly TokenKind[] = ['pat', 'svc']
const accountDisabled = (): AppError => err.forbidden('the account is disabled')
/** the conditional insert inserted nothing: the account was disabled, or the calling credential revoked, meanwhile */
const accountOrCallerGone = (): AppError =>
  err.forbidden('the account was disabled or the calling credential revoked while this request ran')

function assertEnabled(owner: TokenOwner): void {
  if (owner.disabled) throw accountDisabled()
}

function assertLive(token: Token): void {
  if (token.state !== 'active') throw err.token_inactive(`the token is ${token.state}`)
}

/** A token this call is about to insert (state active). */
function newToken(
  fields: Omit<
    Token,
    | 'state'
    | 'rotation'
    | 'revokedAt'
    | 'revokedReason'
    | 'replacedBy'
    | 'rotationEndsAt'
    | 'supersedesUntil'
    | 'audience'
    | 'lastUsed'
  > & { audience?: string[] | null }
): Token {
  return {
    audience: null,
    ...fields,
    revokedAt: null,
    revokedReason: null,
    replacedBy: null,
    rotationEndsAt: null,
    supersedesUntil: null,
    state: 'active',
    rotation: 'none',
    lastUsed: null
  }
}

/** Token kinds that webhook events are about (login tokens come and go with sessions: no events). */
const EVENTFUL: readonly TokenKind[] = ['pat', 'svc']

export class TokenLifecycle {
  readonly #o: TokenLifecycleOptions
  /** after a change that recorded webhook events committed (the local delivery worker looks at once) */
  hooks: { eventsCommitted: () => void } = { eventsCommitted: () => {} }

  constructor(opts: TokenLifecycleOptions) {
    this.#o = opts
  }

  // ---------------------------------------------------------------- issuing

  /**
   * Login token: carries the owner's full current permissions (scopes = null). Issued only if the
   * account is still enabled and still has the password hash that was checked (`passwordHash`): a
   * login racing a disable or a password reset gets nothing.
   */
  async issueLoginToken(
    accountId: string,
    ttlSeconds: number,
    actor: Actor,
    passwordHash: string,
    name = 'login'
  ): Promise<IssuedToken> {
    const now = this.#o.clock.now()
    const exp = seconds(now) + ttlSeconds
    const m = mint(this.#o.keys, 'lgn', exp)
    const token = newToken({
      id: m.id,
      accountId,
      kind: 'lgn',
      name,
      description: '',
      scopes: null,
      preset: null,
      hash: m.hash,
      kid: m.kid,
      createdAt: now,
      expiresAt: exp * 1000,
      parentId: null
    })
    await this.#o.guard(
      this.#o.db.transaction().execute(async (trx) => {
        if (!(await insertTokenIfAccountAllows(trx, token, { passwordHash }))) {
          throw err.invalid_credentials()
        }
        await recordAudit(
          trx,
          now,
          actor,
          'token.login',
          { tokenId: m.id, accountId },
          { kind: 'lgn', expires_at: exp }
        )
      })
    )
    return { value: m.value, token }
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
    copy: { of: string; carriedExpiresAt: number | null } | null = null
  ): Promise<IssuedToken> {
    const now = this.#o.clock.now()
    assertEnabled(owner)
    const { scopes, preset } = this.#o.catalogue.resolve(input)
    checkScopes(scopes, owner.permissions, caller)
    const exp = lifetime(
      this.#o.lifetime,
      input.expiresAt,
      seconds(now),
      copy === null ? undefined : copy.carriedExpiresAt
    )
    const copyOf = copy === null ? null : copy.of
    const kind: TokenKind = owner.kind === 'service' ? 'svc' : 'pat'
    const m = mint(this.#o.keys, kind, exp)
    const token = newToken({
      id: m.id,
      accountId: owner.id,
      kind,
      name: input.name,
      description: input.description ?? '',
      scopes,
      preset,
      hash: m.hash,
      kid: m.kid,
      createdAt: now,
      expiresAt: exp === null ? null : exp * 1000,
      parentId: copyOf
    })
    // concurrent creates for one account can deadlock on MariaDB/InnoDB (the insert reads the
    // account row): the victim was rolled back whole and is run again, so a burst is not a 409
    await this.#o.guard(
      retryOnDeadlock(() =>
        this.#o.db.transaction().execute(async (trx) => {
          if (!(await insertTokenIfAccountAllows(trx, token, { callerTokenId: caller?.id ?? null })))
            throw accountOrCallerGone()
          await recordAudit(
            trx,
            now,
            actor,
            copyOf === null ? 'token.create' : 'token.copy',
            { tokenId: m.id, accountId: owner.id },
            {
              kind,
              name: token.name,
              scopes,
              preset,
              expires_at: exp,
              ...(copyOf === null ? {} : { source: copyOf })
            }
          )
          await recordEvent(
            trx,
            'token.created',
            { ...tokenFacts(token), copied_from: copyOf, ...actorFacts(actor) },
            now
          )
        })
      )
    )
    this.hooks.eventsCommitted()
    return { value: m.value, token }
  }

  // ---------------------------------------------------------------- reading

  async getOwned(accountId: string, id: string): Promise<Token> {
    const token = await this.#o.guard(findToken(this.#o.db, id, this.#o.clock.now()))
    // Someone else's token is "not found", so ids cannot be probed across accounts.
    if (token === undefined || token.accountId !== accountId) throw err.not_found('token not found')
    return token
  }

  async list(
    accountId: string,
    opts: {
      state?: TokenState | undefined
      limit: number
      cursor?: string | undefined
      usedSince?: number | undefined
      unusedSince?: number | undefined
      /** only live tokens expiring within this many seconds */
      expiringWithinSeconds?: number | undefined
    }
  ): Promise<{ tokens: Token[]; nextCursor: string | null }> {
    const after = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor)
    const now = this.#o.clock.now()
    // A list may come from a lagging replica (DATABASE_READ_URL): it shows state, it grants nothing.
    const found = await this.#o.guard(
      listTokens(this.#o.readDb ?? this.#o.db, accountId, now, {
        limit: opts.limit + 1,
        ...(opts.state ? { state: opts.state } : {}),
        ...(opts.usedSince !== undefined ? { usedSince: opts.usedSince } : {}),
        ...(opts.unusedSince !== undefined ? { unusedSince: opts.unusedSince } : {}),
        ...(opts.expiringWithinSeconds !== undefined ? { expiringBy: now + opts.expiringWithinSeconds * 1000 } : {}),
        ...(after ? { after } : {})
      })
    )
    const page = found.slice(0, opts.limit)
    const last = page[page.length - 1]
    return { tokens: page, nextCursor: found.length > opts.limit && last ? encodeCursor(last) : null }
  }

  // ---------------------------------------------------------------- changes

  async edit(
    accountId: string,
    id: string,
    patch: {
      name?: string | undefined
      description?: string | undefined
      scopes?: string[] | undefined
      expiresAt?: number | undefined
    },
    actor: Actor
  ): Promise<Token> {
    const now = this.#o.clock.now()
    const token = await this.getOwned(accountId, id)
    assertLive(token)
    const changes: TokenChanges = {}
    const details: Record<string, unknown> = {}
    let deniesAccess = false
    if (patch.name !== undefined && patch.name !== token.name) {
      changes.name = patch.name
      details.name = { from: token.name, to: patch.name }
    }
    if (patch.description !== undefined && patch.description !== token.description) {
      changes.description = patch.description
      details.description = 'changed'
    }
    if (patch.scopes !== undefined) {
      if (token.scopes === null) throw err.invalid_request('the scopes of a login token cannot be edited')
      this.#o.catalogue.assertKnown(patch.scopes)
      const current = token.scopes
      const wider = missingFrom(patch.scopes, current)
      if (wider.length > 0) {
        throw err.scope_not_permitted(
          `edit can only narrow scopes; ${wider.join(', ')} is not on this token (create a new token instead)`
        )
      }
      if (patch.scopes.length === 0) throw err.invalid_request('a token needs at least one scope; revoke it instead')
      const next = [...new Set(patch.scopes)].sort()
      if (next.length !== current.length) {
        changes.scopes = next
        changes.preset = null
        details.scopes = { from: current, to: next }
        deniesAccess = true
      }
    }
    if (patch.expiresAt !== undefined) {
      const exp = checkExpiry(patch.expiresAt, seconds(now))!
      const currentExp = token.expiresAt === null ? null : seconds(token.expiresAt)
      if (currentExp !== null && exp > currentExp) {
        throw err.invalid_expiry('edit can only bring the expiry earlier; regenerate the token to extend it')
      }
      if (exp !== currentExp) {
        changes.expiresAt = exp * 1000
        details.expires_at = { from: currentExp, to: exp }
        deniesAccess = true
      }
    }
    if (Object.keys(changes).length === 0) return token
    const work = this.#o.db.transaction().execute(async (trx) => {
      // Compare-and-set on what the checks above read: a concurrent edit cannot be undone.
      if (!(await updateTokenIfUnchanged(trx, token, changes)))
        throw err.conflict('the token changed meanwhile; read it again')
      await recordAudit(trx, now, actor, 'token.edit', { tokenId: id, accountId }, details)
      // a narrower or shorter subject token ends the exchanged tokens minted from it
      const cascaded = deniesAccess ? await this.#cascade(trx, [id], accountId, now, actor) : []
      if (deniesAccess) await appendRevocation(trx, { at: now, tokenIds: [id, ...cascaded], reason: 'edited' })
      return { token: { ...token, ...changes }, cascaded }
    })
    const done = await this.#commitThenInvalidate(work, (r) => (deniesAccess ? [id, ...r.cascaded] : []))
    return done.token
  }

  /**
   * Waits (bounded) for a change to commit, then invalidates the cache. The invalidation is chained
   * to the commit, not to our wait: a change that commits after we gave up still reaches the cache.
   */
  #commitThenInvalidate<T>(work: Promise<T>, ids: (result: T) => readonly string[]): Promise<T> {
    return this.#o.guard(
      work.then(async (result) => {
        await this.invalidate(ids(result))
        return result
      })
    )
  }

  /** Drops cached entries and in-flight loads of these tokens, and tells the other verifiers. */
  invalidate(ids: readonly string[]): Promise<void> {
    return this.#o.introspection.invalidate(ids)
  }

  /**
   * New value, same parameters. Without an overlap the old value is dead at once; with one
   * (`oldValidForSeconds`) it keeps working until the overlap ends or the new value is first used,
   * whichever comes first (tokens/rotation.ts). Either way, presenting the old value once it has
   * stopped revokes the family. Exactly one concurrent call wins.
   */
  async regenerate(
    owner: TokenOwner,
    id: string,
    input: { expiresAt?: number | null | undefined; oldValidForSeconds?: number | undefined },
    caller: ActiveToken | null,
    actor: Actor
  ): Promise<IssuedToken> {
    const now = this.#o.clock.now()
    const overlap = input.oldValidForSeconds ?? 0
    if (overlap > this.#o.maxOverlapSeconds) {
      throw err.overlap_too_long(
        `old_valid_for_seconds may be at most ${this.#o.maxOverlapSeconds} (ROTATION_MAX_OVERLAP_SECONDS)`
      )
    }
    assertEnabled(owner)
    const old = await this.getOwned(owner.id, id)
    if (!REGENERATABLE.includes(old.kind)) throw err.invalid_request('login tokens cannot be regenerated; log in again')
    if (old.revokedAt !== null) throw err.token_inactive('the token is revoked')
    if (old.replacedBy !== null) throw err.token_superseded()
    checkScopes(old.scopes ?? [], owner.permissions, caller)
    const exp = lifetime(
      this.#o.lifetime,
      input.expiresAt,
      seconds(now),
      old.expiresAt === null ? null : seconds(old.expiresAt)
    )
    const endsAt = overlap > 0 ? overlapEnd(now, overlap) : null
    const m = mint(this.#o.keys, old.kind, exp)
    const token: Token = {
      ...newToken({
        ...old,
        id: m.id,
        hash: m.hash,
        kid: m.kid,
        createdAt: now,
        expiresAt: exp === null ? null : exp * 1000,
        parentId: old.id
      }),
      supersedesUntil: endsAt
    }
    const work = this.#o.db.transaction().execute(async (trx) => {
      // Only the request whose read is still current wins: one successor, built from that read.
      if (!(await supersedeIfUnchanged(trx, old, now, m.id, endsAt))) {
        throw err.conflict('the token was regenerated, edited or revoked by another request')
      }
      // a token regenerating itself was just proved live by the compare-and-set above (which, with
      // no overlap, has revoked it): its own liveness is not asked again
      const callerTokenId = caller === undefined || caller === null || caller.id === old.id ? null : caller.id
      if (!(await insertTokenIfAccountAllows(trx, token, { callerTokenId }))) throw accountOrCallerGone()
      // the token regenerated may itself be a successor in its predecessor's overlap: one
      // overlap per family at a time, so that one stops now
      const stopped = await endOverlapOf(trx, old.id, old.parentId, now)
      await recordAudit(
        trx,
        now,
        actor,
        'token.regenerate',
        { tokenId: old.id, accountId: owner.id },
        {
          successor: m.id,
          expires_at: exp,
          ...(endsAt === null ? {} : { old_valid_for_seconds: overlap, old_valid_until: seconds(endsAt) })
        }
      )
      if (stopped !== null) {
        await recordAudit(
          trx,
          now,
          actor,
          'token.rotation_end',
          { tokenId: stopped, accountId: owner.id },
          { successor: old.id, cause: 'successor_regenerated' }
        )
      }
      // with an overlap the old value's life got shorter: caches and consumers read it again; the
      // tokens exchanged from it (RFC 8693) end now, overlap or not
      const rotated = stopped === null ? [old.id] : [old.id, stopped]
      const cascaded = await this.#cascade(trx, rotated, owner.id, now, actor)
      const changed = [...rotated, ...cascaded]
      await appendRevocation(trx, { at: now, tokenIds: changed, reason: REGENERATED })
      await recordEvent(
        trx,
        'token.regenerated',
        { ...tokenFacts(token), previous_token_id: old.id, ...actorFacts(actor) },
        now
      )
      return changed
    })
    await this.#commitThenInvalidate(work, (changed) => changed)
    this.hooks.eventsCommitted()
    return { value: m.value, token }
  }

  /** What presenting this token's value sets off (tokens/rotation.ts), with the configured grace. */
  onPresented(token: RotationFields, now: number): 'reuse' | 'end_overlap' | null {
    return onPresented(token, now, this.#o.reuseGraceSeconds * 1000)
  }

  /**
   * The first use of a successor whose predecessor's overlap is open (introspection, behind a
   * cache miss): the predecessor stops now. One conditional write; a concurrent first use on
   * another replica changes nothing.
   */
  async endOverlap(successor: TokenWithOwner): Promise<void> {
    const now = this.#o.clock.now()
    const work = this.#o.db.transaction().execute(async (trx) => {
      const stopped = await endOverlapOf(trx, successor.id, successor.parentId, now)
      if (stopped === null) return []
      await recordAudit(
        trx,
        now,
        { accountId: successor.accountId, tokenId: successor.id, ip: null },
        'token.rotation_end',
        { tokenId: stopped, accountId: successor.accountId },
        { successor: successor.id, cause: 'successor_used' }
      )
      // what was exchanged from the value that stopped (RFC 8693) stops with it
      const cascaded = await this.#cascade(trx, [stopped], successor.accountId, now, {
        accountId: successor.accountId,
        tokenId: successor.id,
        ip: null
      })
      await appendRevocation(trx, { at: now, tokenIds: [stopped, ...cascaded], reason: ROTATED })
      return [stopped, ...cascaded]
    })
    await this.#commitThenInvalidate(work, (stopped) => stopped)
  }

  /**
   * A value a rotation stopped was presented again (introspection, behind a cache miss): someone
   * still holds it who should not, or a client never switched. The whole family (it and every
   * later successor) is revoked in one transaction, reason `reuse_detected`, and published.
   */
  async revokeFamilyForReuse(presented: TokenWithOwner): Promise<void> {
    const now = this.#o.clock.now()
    const work = this.#o.db.transaction().execute(async (trx) => {
      const family = await familyFrom(trx, presented.id, now, this.#o.rowLocks)
      // read again under the lock: a concurrent presentation may have done it already
      const first = family[0]
      if (first === undefined || this.onPresented(first, now) !== 'reuse') return []
      const ids = family.map((t) => t.id)
      const changed = await revokeFamilyRows(trx, ids, now)
      const accountId = presented.accountId
      const actor: Actor = { accountId: null, tokenId: presented.id, ip: null }
      await recordAudit(
        trx,
        now,
        actor,
        'token.reuse_detected',
        { tokenId: presented.id, accountId },
        { family: ids, revoked: changed }
      )
      for (const t of family) {
        if (t.id === presented.id || !changed.includes(t.id)) continue
        await recordAudit(trx, now, actor, 'token.revoke', { tokenId: t.id, accountId }, { reason: REUSE_DETECTED })
      }
      // and what was exchanged from any of them (RFC 8693) dies with them
      const cascaded = await this.#cascade(trx, ids, accountId, now, actor)
      await appendRevocation(trx, { at: now, tokenIds: [...ids, ...cascaded], reason: REUSE_DETECTED })
      await recordEvent(
        trx,
        'token.reuse_detected',
        { token_id: presented.id, account_id: accountId, kind: presented.kind, family: ids, revoked: changed },
        now
      )
      return [...ids, ...cascaded]
    })
    await this.#commitThenInvalidate(work, (ids) => ids)
    this.hooks.eventsCommitted()
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
    if (src.scopes === null) throw err.invalid_request('login tokens cannot be copied')
    if (src.kind === 'xch')
      throw err.invalid_request('exchanged tokens cannot be copied; exchange the subject token again')
    const nowSec = seconds(this.#o.clock.now())
    const srcExp = src.expiresAt === null ? null : seconds(src.expiresAt)
    if (input.expiresAt === undefined && srcExp !== null && srcExp <= nowSec) {
      throw err.invalid_expiry('the source token has expired; give expires_at for the copy')
    }
    return this.createToken(
      owner,
      {
        name: input.name ?? `${src.name} (copy)`.slice(0, 100),
        description: input.description ?? src.description,
        ...(src.preset !== null ? { preset: src.preset } : { scopes: src.scopes }),
        expiresAt: input.expiresAt
      },
      caller,
      actor,
      { of: src.id, carriedExpiresAt: srcExp }
    )
  }

  /**
   * Revokes tokens of one account (all of them when `ids` is null). Commit first, then
   * invalidate the cache (docs/design.md, "Storage"): if the cache is down the revoke still stands.
   */
  async revoke(accountId: string, ids: readonly string[] | null, reason: string, actor: Actor): Promise<RevokeResult> {
    const work = this.#o.db.transaction().execute(async (trx) => {
      // A revoke-all reads the live tokens under the account row's lock: a token insert racing it
      // (INSERT … SELECT takes a shared lock on that row) either commits first and is revoked here,
      // or waits and finds its calling credential revoked.
      if (ids === null) await lockAccount(trx, accountId, this.#o.rowLocks)
      return this.revokeIn(trx, accountId, ids, reason, actor)
    })
    // Every id named is invalidated, already-inactive ones too: a retry after a revoke that
    // committed late (past our timeout) still clears the cache.
    const result = await this.#commitThenInvalidate(work, (r) => [...r.revoked, ...r.alreadyInactive, ...r.cascaded])
    this.hooks.eventsCommitted()
    return result
  }

  /**
   * The revoke inside a caller's transaction (disabling an account or resetting its password
   * revokes in the same one). `ids` null = every live token of the account, narrowed by `only`
   * (some kinds, all but the caller's own token).
   */
  async revokeIn(
    trx: Kysely<Database>,
    accountId: string,
    ids: readonly string[] | null,
    reason: string,
    actor: Actor,
    only: { kinds?: readonly TokenKind[]; except?: string | null } = {}
  ): Promise<RevokeResult> {
    const now = this.#o.clock.now()
    const owned =
      ids === null
        ? await findTokens(trx, await liveTokenIdsOfAccount(trx, accountId, now, only), now)
        : await findTokens(trx, ids, now, accountId)
    const found = new Set(owned.map((r) => r.id))
    const notFound = ids === null ? [] : [...new Set(ids)].filter((i) => !found.has(i))
    const revoked: string[] = []
    const alreadyInactive: string[] = []
    for (const token of owned) {
      if (token.revokedAt !== null) {
        alreadyInactive.push(token.id)
        continue
      }
      if ((await revokeTokenRows(trx, [token.id], now, reason)) === 1) {
        revoked.push(token.id)
        await recordAudit(trx, now, actor, 'token.revoke', { tokenId: token.id, accountId }, { reason })
        if (EVENTFUL.includes(token.kind))
          await recordEvent(trx, 'token.revoked', { ...tokenFacts(token), reason, ...actorFacts(actor) }, now)
      } else alreadyInactive.push(token.id)
    }
    const cascaded = await this.#cascade(trx, revoked, accountId, now, actor)
    // the revocation log, in the same transaction: followers and consumers learn of it whatever
    // happens to this process after the commit
    await appendRevocation(trx, { at: now, tokenIds: [...revoked, ...cascaded], reason })
    return { revoked, alreadyInactive, notFound, cascaded }
  }

  /**
   * Exchanged tokens die with their subject token: revoked in the subject's transaction (and so in
   * the same revocation-log event), so introspection never has to read the subject.
   */
  async #cascade(
    trx: Kysely<Database>,
    parentIds: readonly string[],
    accountId: string,
    now: number,
    actor: Actor
  ): Promise<string[]> {
    const children = await revokeExchangedChildren(trx, parentIds, now, SUBJECT_REVOKED)
    for (const id of children)
      await recordAudit(trx, now, actor, 'token.revoke', { tokenId: id, accountId }, { reason: SUBJECT_REVOKED })
    return children
  }

  // ---------------------------------------------------------------- RFC 8693 token exchange

  /**
   * Mints an exchanged token (kind `xch`) for a live PAT or service token: the subject's account,
   * the scopes and audiences asked for, `parent_id` = the subject. Inserted only while the account
   * is enabled and the subject still live (one INSERT … SELECT), so an exchange racing a revoke of
   * its subject either lands first and is swept by it, or inserts nothing (invalid_grant).
   */
  async exchange(subject: ActiveToken, input: ExchangeInput, actor: Actor): Promise<IssuedToken> {
    const now = this.#o.clock.now()
    const m = mint(this.#o.keys, 'xch', input.expiresAt)
    const token = newToken({
      id: m.id,
      accountId: subject.accountId,
      kind: 'xch',
      name: 'exchanged',
      description: '',
      scopes: input.scopes,
      preset: null,
      hash: m.hash,
      kid: m.kid,
      createdAt: now,
      expiresAt: input.expiresAt * 1000,
      parentId: subject.id,
      audience: input.audience
    })
    await this.#o.guard(
      this.#o.db.transaction().execute(async (trx) => {
        if (!(await insertTokenIfAccountAllows(trx, token, { callerTokenId: subject.id })))
          throw err.invalid_request('the subject_token is not active')
        await recordAudit(
          trx,
          now,
          actor,
          'token.exchange',
          { tokenId: m.id, accountId: subject.accountId },
          { subject: subject.id, scopes: input.scopes, audience: input.audience, expires_at: input.expiresAt }
        )
      })
    )
    return { value: m.value, token }
  }

  // ---------------------------------------------------------------- leaked-token reports

  /**
   * Revokes every reported value that is a live token of ours (reason `leaked`), audited under the
   * reporter's address and never naming the value. Each value costs the same work whatever it is:
   * parsed, hashed, looked up by id in one batch read (a random id stands in when it does not
   * parse) and compared with a stored hash (a stand-in when there is no row); then one transaction.
   * Returns nothing: the caller's answer must not depend on what was found.
   */
  async revokeLeaked(values: readonly string[], ip: string): Promise<void> {
    const { keys } = this.#o
    const now = this.#o.clock.now()
    const actor: Actor = { accountId: null, tokenId: null, ip }
    const candidates = values.map((value) => {
      const parsed = parseToken(value, keys.prefix, keys.signingKeys)
      return { id: parsed.ok ? parsed.claims.id : newTokenId(), hash: hashToken(keys.pepper, value) }
    })
    const work = this.#o.db.transaction().execute(async (trx) => {
      const rows = await findTokens(
        trx,
        candidates.map((c) => c.id),
        now
      )
      const byId = new Map(rows.map((r) => [r.id, r]))
      const live = new Map<string, Token>()
      for (const c of candidates) {
        const row = byId.get(c.id)
        const same = hashesEqual(row === undefined ? NO_HASH : Buffer.from(row.hash, 'hex'), c.hash)
        if (same && row !== undefined && row.state === 'active') live.set(row.id, row)
      }
      const ids: string[] = []
      for (const token of live.values()) {
        if ((await revokeTokenRows(trx, [token.id], now, 'leaked')) !== 1) continue
        ids.push(token.id)
        await recordAudit(
          trx,
          now,
          actor,
          'token.revoke',
          { tokenId: token.id, accountId: token.accountId },
          { reason: 'leaked', reported_from: ip }
        )
        const cascaded = await this.#cascade(trx, [token.id], token.accountId, now, actor)
        ids.push(...cascaded)
        await recordLeakEvent(trx, { at: now, tokenId: token.id, accountId: token.accountId, kind: token.kind })
      }
      await appendRevocation(trx, { at: now, tokenIds: ids, reason: 'leaked' })
      return ids
    })
    await this.#commitThenInvalidate(work, (ids) => ids)
    // the token.leaked events go out now, not at the next poll
    this.hooks.eventsCommitted()
  }

  /**
   * Revoke by selector: every live token matching `sel`, in pages of SELECTOR_BATCH by id, each
   * page revoked and appended to the revocation log in one transaction, up to SELECTOR_MAX_SCANNED
   * tokens per call (then `nextCursor` says where to continue). Tokens of accounts more powerful
   * than the caller (the privilege boundary: `sel.ownerLacks` in the query, `mayActOn` again on
   * each row) are not matched: not revoked, not counted, never a cursor, as if they did not exist. A dry run reads the same pages and
   * changes nothing. One audit row for the whole call, with the counts, in the last page's
   * transaction (or its own, if a page fails after others committed).
   */
  async revokeMatching(
    sel: TokenSelector,
    opts: { dryRun: boolean; cursor: string | null; mayActOn: (ownerPermissions: string[]) => boolean },
    actor: Actor
  ): Promise<RevokeMatchingResult> {
    const now = this.#o.clock.now()
    const out: RevokeMatchingResult = { matched: 0, revoked: 0, ids: [], nextCursor: null }
    let after = opts.cursor
    let scanned = 0
    const details = (complete: boolean, revokedNow = 0) => ({
      selector: selectorDetails(sel),
      revoked: out.revoked + revokedNow,
      complete
    })
    const page = async (db: Kysely<Database>) => {
      const limit = Math.min(SELECTOR_BATCH, SELECTOR_MAX_SCANNED - scanned)
      const rows = await findMatchingTokens(db, sel, now, { afterId: after, limit })
      scanned += rows.length
      const last = rows[rows.length - 1]
      if (last !== undefined) after = last.id
      const ids: string[] = []
      // the query left out more powerful owners (sel.ownerLacks); this is the same rule again, for
      // a permission the catalogue no longer lists: such a token is left alone and not counted
      for (const r of rows) if (opts.mayActOn(r.ownerPermissions)) ids.push(r.id)
      out.matched += ids.length
      for (const id of ids) if (out.ids.length < SELECTOR_SAMPLE) out.ids.push(id)
      const more = rows.length === limit
      return { ids, more, capped: more && scanned >= SELECTOR_MAX_SCANNED }
    }
    for (;;) {
      if (opts.dryRun) {
        const p = await this.#o.guard(page(this.#o.db))
        if (p.capped) out.nextCursor = after
        if (!p.more || p.capped) return out
        continue
      }
      let p: { ids: string[]; more: boolean; capped: boolean; revoked: number }
      try {
        p = await this.#commitThenInvalidate(
          this.#o.db.transaction().execute(async (trx) => {
            const r = await page(trx)
            const revoked = await revokeTokenRows(trx, r.ids, now, 'revoked_by_selector')
            // tokens exchanged from them (RFC 8693) die with them, in the same event
            const cascaded = await revokeExchangedChildren(trx, r.ids, now, SUBJECT_REVOKED)
            await appendRevocation(trx, { at: now, tokenIds: [...r.ids, ...cascaded], reason: 'revoked_by_selector' })
            if (!r.more || r.capped)
              await recordAudit(trx, now, actor, 'token.revoke_matching', {}, details(!r.capped, revoked))
            return { ...r, revoked, cascaded }
          }),
          (r) => [...r.ids, ...r.cascaded]
        )
      } catch (cause) {
        // pages that committed are revoked (and in the log): the audit says so, then the caller hears of the fault
        if (out.revoked > 0) {
          await this.#o
            .guard(recordAudit(this.#o.db, now, actor, 'token.revoke_matching', {}, details(false)))
            .catch(() => {})
        }
        throw cause
      }
      out.revoked += p.revoked
      if (p.capped) out.nextCursor = after
      if (!p.more || p.capped) return out
    }
  }

  /** RFC 7009: revoke by value. Unknown, forged or expired values are fine (200) and change nothing. */
  async revokeByValue(value: string, actor: Actor, onlyAccountId: string | null): Promise<boolean> {
    const { keys } = this.#o
    const parsed = parseToken(value, keys.prefix, keys.signingKeys)
    if (!parsed.ok) return false
    const token = await this.#o.guard(findToken(this.#o.db, parsed.claims.id, this.#o.clock.now()))
    if (token === undefined || token.revokedAt !== null) return false
    if (!hashesEqual(Buffer.from(token.hash, 'hex'), hashToken(keys.pepper, value))) return false
    if (onlyAccountId !== null && token.accountId !== onlyAccountId) return false
    const res = await this.revoke(token.accountId, [token.id], 'revoked', actor)
    return res.revoked.length === 1
  }

  /** Whether a token is live (not revoked, not expired), read inside a caller's transaction. */
  async isLive(trx: Kysely<Database>, id: string): Promise<boolean> {
    const token = await findToken(trx, id, this.#o.clock.now())
    return token !== undefined && token.state === 'active'
  }

  /** The account that owns a token, or undefined (the operator names tokens by id alone). */
  async ownerOf(id: string): Promise<string | undefined> {
    return (await this.#o.guard(findToken(this.#o.db, id, this.#o.clock.now())))?.accountId
  }

  /** Invalidates every live token of an account (after its permissions changed). */
  async invalidateAccount(accountId: string): Promise<void> {
    await this.invalidate(await this.#o.guard(liveTokenIdsOfAccount(this.#o.db, accountId, this.#o.clock.now())))
  }
}

/** The selector as the audit row records it (API names, ISO times). */
function selectorDetails(sel: TokenSelector): Record<string, unknown> {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())
  return Object.fromEntries(
    Object.entries({
      account_id: sel.accountId,
      kind: sel.kind,
      scope: sel.scope,
      created_before: iso(sel.createdBefore),
      created_after: iso(sel.createdAfter),
      last_used_before: iso(sel.lastUsedBefore),
      include_never_used: sel.includeNeverUsed,
      name_prefix: sel.namePrefix
    }).filter(([, v]) => v !== undefined)
  )
}
