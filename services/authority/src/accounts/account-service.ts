import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import { recordAudit, type Actor } from '../audit/audit.repository.js'
import { appendRevocation } from '../revocations/revocation.repository.js'
import type { Clock } from '../clock.js'
import type { QueryGuard } from '../db/fault-policy.js'
import type { Database } from '../db/tables.js'
import { type AppError, err } from '../errors.js'
import { DEFAULT_PERMISSIONS, missingFrom, normalizeScopes } from '../scopes/catalogue.js'
import type { ScopeCatalogue } from '../scopes/scope-catalogue.js'
import { SingleFlight } from '../single-flight.js'
import { actorFacts, recordEvent } from '../webhooks/events.js'
import type { TokenKind } from '../tokens/token-format.js'
import type { ActiveToken } from '../tokens/introspection.js'
import type { IssuedToken, TokenLifecycle } from '../tokens/token-lifecycle.js'
import { SUBJECT_REVOKED } from '../tokens/token-lifecycle.js'
import { liveTokenIdsOfAccount, revokeExchangedChildren, revokeTokenRows } from '../tokens/token.repository.js'
import type { Account, AccountKind } from './account.js'
import {
  anyAdminExists,
  findAccount,
  findLoginByUsername,
  findPasswordOf,
  insertAccount,
  isDuplicateUsername,
  listAccounts,
  lockAccount,
  otherEnabledAdmins,
  raiseTokensRevokedBefore,
  updateAccount,
  usernameTaken,
  type AccountChanges
} from './account.repository.js'
import type { AllowedAttempt, LoginThrottle } from './login-throttle.js'
import { PASSWORD_MAX_BYTES, passwordFits, type PasswordHasher } from './passwords.js'
import { canonicalUsername, throttleName, USERNAME_MAX_LENGTH, usernameForCreation } from './username.js'

export type { Account, AccountKind }
export type Realm = 'admin' | 'customer'

/** The canonical form of a typed username (accounts/username.ts): NFKC and lower case. */
export function normalizeUsername(username: string): string {
  return canonicalUsername(username)
}

const ACCOUNTS_WRITE = 'accounts:write'
const tooLong = (): AppError =>
  err.validation_failed(
    `a password may be at most ${PASSWORD_MAX_BYTES} bytes in UTF-8 (bcrypt reads no more): choose a shorter one`
  )

/** Which kinds of account may hold which permissions: admin rights never reach a customer. */
function kindMayHold(kind: AccountKind, scope: string): boolean {
  // webhooks see every account's token events
  if (scope.startsWith('accounts:') || scope.startsWith('webhooks:')) return kind === 'admin'
  if (scope.startsWith('tokens:introspect') || scope === 'tokens:revoke' || scope === 'tokens:revocations')
    return kind !== 'customer'
  return true
}

export interface AccountServiceOptions {
  /** the primary: changes, logins, and the account reads a decision rests on (assertMayActOn) */
  db: Kysely<Database>
  /** the account list only (a read replica when DATABASE_READ_URL is set): may lag */
  readDb?: Kysely<Database> | undefined
  /** the database fault policy (timeouts, deadlocks, 503) */
  guard: QueryGuard
  clock: Clock
  hasher: PasswordHasher
  catalogue: ScopeCatalogue
  tokens: TokenLifecycle
  throttle: LoginThrottle
  loginTtlSeconds: Record<Realm, number>
  /** lock the rows a change reads (MySQL/MariaDB: SELECT … FOR UPDATE); SQLite serialises writers */
  rowLocks: boolean
}

/** What ends when a password is set: login tokens always, every other token on request. */
function passwordSweep(
  revokeTokens: boolean,
  keep: string | null
): { kinds?: readonly TokenKind[]; except: string | null } {
  return revokeTokens ? { except: keep } : { kinds: ['lgn'], except: keep }
}

export class AccountService {
  readonly #o: AccountServiceOptions
  /** after a change that recorded webhook events committed (the local delivery worker looks at once) */
  hooks: { eventsCommitted: () => void } = { eventsCommitted: () => {} }
  /**
   * Identical password checks in flight share one (same account or name, address and password):
   * a client's burst of correct confirmations or logins is one check and one throttle count, not
   * fifty that each hold a point of the budgets until bcrypt answers. Keyed by an HMAC under a
   * per-process key: the password is never kept as typed.
   */
  readonly #loginFlights = new SingleFlight<{ account: Account; passwordHash: string }>()
  readonly #confirmFlights = new SingleFlight<void>()
  readonly #flightKey = randomBytes(32)
  constructor(opts: AccountServiceOptions) {
    this.#o = opts
  }

  #flight(...parts: string[]): string {
    return createHmac('sha256', this.#flightKey).update(JSON.stringify(parts)).digest('base64url')
  }

  #guard<T>(p: Promise<T>): Promise<T> {
    return this.#o.guard(p)
  }

  /**
   * Permissions an account may be given: known, fit for its kind, and held by the credential that
   * grants them (`caller` null = the operator: CLI or bootstrap). Nobody grants what they lack,
   * themselves included.
   */
  #checkPermissions(kind: AccountKind, permissions: readonly string[], caller: ActiveToken | null): string[] {
    this.#o.catalogue.assertKnown(permissions)
    const refused = permissions.filter((p) => !kindMayHold(kind, p))
    if (refused.length > 0) {
      throw err.scope_not_permitted(`a ${kind} account cannot hold ${refused.join(', ')}`)
    }
    const notHeld = caller === null ? [] : missingFrom(permissions, caller.scopes)
    if (notHeld.length > 0) {
      throw err.scope_not_permitted(`you cannot grant ${notHeld.join(', ')}: your credential does not hold it`)
    }
    return normalizeScopes(permissions)
  }

  async create(
    input: { username: string; password: string; kind: AccountKind; permissions?: string[] | undefined },
    caller: ActiveToken | null,
    actor: Actor
  ): Promise<Account> {
    if (!passwordFits(input.password)) throw tooLong()
    const username = usernameForCreation(input.username)
    if (username === null) {
      throw err.validation_failed(
        `username must be 1 to ${USERNAME_MAX_LENGTH} characters: letters a-z (either case), digits, and . _ @ - after the first`
      )
    }
    // Without a list: the kind's defaults, limited to what the granting credential holds.
    const defaults = DEFAULT_PERMISSIONS[input.kind](this.#o.catalogue.names).filter(
      (p) => kindMayHold(input.kind, p) && (caller === null || caller.scopes.includes(p))
    )
    const permissions = this.#checkPermissions(input.kind, input.permissions ?? defaults, caller)
    const now = this.#o.clock.now()
    const account: Account = {
      id: randomUUID(),
      username,
      kind: input.kind,
      permissions,
      disabled: false,
      tokensRevokedBefore: null,
      createdAt: now,
      updatedAt: now
    }
    const passwordHash = await this.#o.hasher.hash(input.password)
    await this.#guard(
      this.#o.db.transaction().execute(async (trx) => {
        if (await usernameTaken(trx, account.username)) throw err.username_taken()
        try {
          await insertAccount(trx, account, passwordHash)
        } catch (cause) {
          // a concurrent create of the same name loses on the unique index
          if (isDuplicateUsername(cause)) throw err.username_taken()
          throw cause
        }
        await recordAudit(
          trx,
          now,
          actor,
          'account.create',
          { accountId: account.id },
          { username: account.username, kind: account.kind, permissions }
        )
      })
    )
    return account
  }

  async get(id: string): Promise<Account> {
    const account = await this.#guard(findAccount(this.#o.db, id))
    if (account === undefined) throw err.not_found('account not found')
    return account
  }

  async list(opts: {
    limit: number
    after?: string | undefined
    kind?: AccountKind | undefined
  }): Promise<{ accounts: Account[]; next: string | null }> {
    const found = await this.#guard(listAccounts(this.#o.readDb ?? this.#o.db, { ...opts, limit: opts.limit + 1 }))
    const page = found.slice(0, opts.limit)
    return { accounts: page, next: found.length > opts.limit ? (page[page.length - 1]?.username ?? null) : null }
  }

  /**
   * The privilege boundary (docs/design.md, "Accounts, permissions, scopes"): a credential acts on another account (changes it,
   * mints or lists or revokes its tokens) only when that account holds nothing the credential
   * lacks. `caller` null = the operator (CLI, bootstrap).
   */
  assertMayActOn(caller: ActiveToken | null, target: Account): void {
    if (caller === null || this.mayActOn(caller, target.permissions)) return
    const beyond = missingFrom(target.permissions, caller.scopes)
    if (beyond.length > 0) {
      throw err.account_more_privileged(
        `that account holds ${beyond.join(', ')}, which your credential does not: you cannot act on it`
      )
    }
  }

  /** The same rule as a yes/no, for an account known only by its permissions (revoke by selector). */
  mayActOn(caller: ActiveToken | null, permissions: readonly string[]): boolean {
    return caller === null || missingFrom(permissions, caller.scopes).length === 0
  }

  /** Reads an account the caller may act on (404 if none, 403 account_more_privileged if above it). */
  async getActable(id: string, caller: ActiveToken | null): Promise<Account> {
    const account = await this.get(id)
    this.assertMayActOn(caller, account)
    return account
  }

  async #lockAccount(trx: Kysely<Database>, id: string): Promise<Account> {
    const account = await lockAccount(trx, id, this.#o.rowLocks)
    if (account === undefined) throw err.not_found('account not found')
    return account
  }

  /**
   * Some other enabled account must still hold accounts:write after this one loses it. The other
   * admins' rows are locked, so two admins disabling each other at once cannot both succeed
   * (InnoDB picks a deadlock victim: 409).
   */
  async #assertAnotherAccountsAdmin(trx: Kysely<Database>, id: string): Promise<void> {
    const others = await otherEnabledAdmins(trx, id, this.#o.rowLocks)
    if (!others.some((o) => o.permissions.includes(ACCOUNTS_WRITE))) {
      throw err.last_admin()
    }
  }

  /**
   * Admin edit: permissions, a new password (ends the account's login tokens, and all its tokens
   * with `revokeTokens`), disabled (ends every token, for good: a watermark keeps anything issued
   * before it dead after a re-enable). One transaction on the locked account row; anything that
   * can deny access invalidates caches after the commit.
   */
  async update(
    id: string,
    patch: {
      permissions?: string[] | undefined
      password?: string | undefined
      disabled?: boolean | undefined
      revokeTokens?: boolean | undefined
    },
    caller: ActiveToken | null,
    actor: Actor
  ): Promise<Account> {
    if (patch.password !== undefined && !passwordFits(patch.password)) throw tooLong()
    if (patch.revokeTokens !== undefined && patch.password === undefined) {
      throw err.invalid_request(
        'revoke_tokens goes with password (a reset); to revoke tokens use DELETE /v1/accounts/{id}/tokens'
      )
    }
    if (actor.accountId === id && patch.disabled === true)
      throw err.forbidden('an admin cannot disable their own account')
    // bcrypt before the transaction: no row lock is held for its ~250 ms
    const passwordHash = patch.password === undefined ? undefined : await this.#o.hasher.hash(patch.password)
    const now = this.#o.clock.now()
    const work = this.#o.db.transaction().execute(async (trx) => {
      const current = await this.#lockAccount(trx, id)
      this.assertMayActOn(caller, current)
      const set: AccountChanges = { updatedAt: now }
      const details: Record<string, unknown> = {}
      let permissionsChanged = false
      if (patch.permissions !== undefined) {
        const next = this.#checkPermissions(current.kind, patch.permissions, caller)
        if (missingFrom(current.permissions, next).length > 0 || missingFrom(next, current.permissions).length > 0) {
          set.permissions = next
          details.permissions = { from: current.permissions, to: next }
          permissionsChanged = true
        }
      }
      const disabling = patch.disabled === true && !current.disabled
      const enabling = patch.disabled === false && current.disabled
      if (disabling || enabling) set.disabled = disabling
      // every disable request (a retry too) moves the watermark: nothing issued before it revives
      if (patch.disabled === true) set.bumpTokenGeneration = true
      const losesAdmin =
        !current.disabled &&
        current.permissions.includes(ACCOUNTS_WRITE) &&
        (disabling || (set.permissions !== undefined && !set.permissions.includes(ACCOUNTS_WRITE)))
      if (losesAdmin) await this.#assertAnotherAccountsAdmin(trx, id)
      if (passwordHash !== undefined) {
        set.passwordHash = passwordHash
        details.password = patch.revokeTokens === true ? 'reset, all tokens revoked' : 'reset, login tokens revoked'
      }
      await updateAccount(trx, id, set)
      if (Object.keys(details).length > 0)
        await recordAudit(trx, now, actor, 'account.edit', { accountId: id }, details)
      if (disabling) {
        await recordAudit(trx, now, actor, 'account.disable', { accountId: id }, {})
        await recordEvent(
          trx,
          'account.disabled',
          { account_id: id, username: current.username, kind: current.kind, ...actorFacts(actor) },
          now
        )
      }
      if (enabling) await recordAudit(trx, now, actor, 'account.enable', { accountId: id }, {})
      // every token of the account is concerned: consumers drop what they cached about any of them
      if (permissionsChanged || disabling) {
        await appendRevocation(trx, {
          at: now,
          tokenIds: [],
          accountId: id,
          reason: disabling ? 'account_disabled' : 'permissions_changed'
        })
      }
      const revoked: string[] = []
      // Asking for disabled:true again sweeps whatever is still live (a retry after a timeout is safe).
      if (patch.disabled === true) {
        const r = await this.#o.tokens.revokeIn(trx, id, null, 'account_disabled', actor)
        revoked.push(...r.revoked, ...r.cascaded)
      } else if (passwordHash !== undefined) {
        const sweep = passwordSweep(patch.revokeTokens === true, null)
        const r = await this.#o.tokens.revokeIn(trx, id, null, 'password_reset', actor, sweep)
        revoked.push(...r.revoked, ...r.cascaded)
        await recordEvent(
          trx,
          'account.password_changed',
          {
            account_id: id,
            username: current.username,
            by: 'admin',
            tokens_revoked: patch.revokeTokens === true ? 'all' : 'login',
            ...actorFacts(actor)
          },
          now
        )
      }
      return { revoked, permissionsChanged }
    })
    // After the commit (chained to it, even if we stop waiting): revoked tokens leave the caches;
    // changed permissions reach every token (fewer narrow them, more widen login tokens).
    await this.#guard(
      work.then(async ({ revoked, permissionsChanged }) => {
        await this.#o.tokens.invalidate(revoked)
        if (permissionsChanged) await this.#o.tokens.invalidateAccount(id)
      })
    )
    this.hooks.eventsCommitted()
    return this.get(id)
  }

  /**
   * "Revoke everything issued before T" (Magento's watermark): stored on the account row (it only
   * moves forward), so any token created before it is inactive at introspection, read in the same
   * join as the token; the live ones are also marked revoked and published through the revocation
   * log in the same transaction, so caches drop them. `caller` null = the account acting on itself
   * (/v1/me) or the operator: no privilege check. `before` may not be in the future.
   */
  async revokeBefore(
    id: string,
    /** unix ms; undefined = now */
    at: number | undefined,
    caller: ActiveToken | null,
    actor: Actor
  ): Promise<{ tokensRevokedBefore: number; revoked: number }> {
    const now = this.#o.clock.now()
    const before = at ?? now
    if (!Number.isFinite(before) || before > now)
      throw err.validation_failed('before must be a time in the past (or now)')
    const work = this.#o.db.transaction().execute(async (trx) => {
      // the account row's lock: a token insert racing this (INSERT … SELECT) waits, and whatever it
      // inserts before the watermark is inactive by the watermark
      const current = await this.#lockAccount(trx, id)
      this.assertMayActOn(caller, current)
      const watermark = await raiseTokensRevokedBefore(trx, id, before)
      const ids = await liveTokenIdsOfAccount(trx, id, now, { createdBefore: watermark })
      const revoked = await revokeTokenRows(trx, ids, now, 'revoke_before')
      // tokens exchanged from them (RFC 8693) die with them, whenever they were exchanged
      const cascaded = await revokeExchangedChildren(trx, ids, now, SUBJECT_REVOKED)
      ids.push(...cascaded)
      await appendRevocation(trx, { at: now, tokenIds: ids, reason: 'revoke_before' })
      await recordAudit(
        trx,
        now,
        actor,
        'account.revoke_before',
        { accountId: id },
        { before: new Date(watermark).toISOString(), revoked }
      )
      return { ids, watermark, revoked }
    })
    const r = await this.#guard(
      work.then(async (r) => {
        await this.#o.tokens.invalidate(r.ids)
        return r
      })
    )
    return { tokensRevokedBefore: r.watermark, revoked: r.revoked }
  }

  /**
   * Self-service password change (POST /v1/me/password): confirmed with the current password
   * (throttled like every confirmation); ends every other login token of the account at once, and
   * its PATs and service tokens too with `revokeTokens`. The calling login token stays.
   */
  async changePassword(
    caller: ActiveToken,
    input: { currentPassword: string; newPassword: string; revokeTokens: boolean },
    actor: Actor,
    ip: string
  ): Promise<{ revoked: number }> {
    if (!passwordFits(input.newPassword)) throw tooLong()
    const confirmed = await this.confirmPassword(caller.accountId, input.currentPassword, ip)
    const passwordHash = await this.#o.hasher.hash(input.newPassword)
    const now = this.#o.clock.now()
    const keep = caller.tokenKind === 'lgn' ? caller.id : null
    const work = this.#o.db.transaction().execute(async (trx) => {
      await this.#lockAccount(trx, caller.accountId)
      // compare-and-set: the password confirmed is still the one stored (an admin reset that
      // committed meanwhile wins), and the calling credential is still live
      const current = await findPasswordOf(trx, caller.accountId)
      if (current?.passwordHash !== confirmed || !(await this.#o.tokens.isLive(trx, caller.id))) {
        throw err.conflict('the password or this credential changed while the request ran; sign in again')
      }
      await updateAccount(trx, caller.accountId, { passwordHash, updatedAt: now })
      const sweep = passwordSweep(input.revokeTokens, keep)
      const r = await this.#o.tokens.revokeIn(trx, caller.accountId, null, 'password_changed', actor, sweep)
      await recordAudit(
        trx,
        now,
        actor,
        'account.password_change',
        { accountId: caller.accountId },
        {
          revoke_tokens: input.revokeTokens,
          revoked: r.revoked.length
        }
      )
      await recordEvent(
        trx,
        'account.password_changed',
        {
          account_id: caller.accountId,
          by: 'self',
          tokens_revoked: input.revokeTokens ? 'all_but_this_session' : 'other_sessions',
          ...actorFacts(actor)
        },
        now
      )
      return [...r.revoked, ...r.cascaded]
    })
    const revoked = await this.#guard(
      work.then(async (ids) => {
        await this.#o.tokens.invalidate(ids)
        return ids
      })
    )
    this.hooks.eventsCommitted()
    return { revoked: revoked.length }
  }

  /** exact: the column compares without padding on every backend (migration 0002) */
  async #findByUsername(canonical: string): Promise<{ account: Account; passwordHash: string } | undefined> {
    return this.#guard(findLoginByUsername(this.#o.db, canonical))
  }

  /**
   * Username + password → login token. Unknown user, wrong password, wrong realm, a disabled
   * account and a name outside the username pattern give the same answer after the same work:
   * one throttle count (against the name's throttle name, shared by all its spellings), one
   * lookup, one bcrypt comparison. `ttlSeconds`, `tokenName`: a lifetime other than the realm's
   * and a name other than "login" (a console sign-in: CONSOLE_SESSION_TTL_SECONDS, "console session").
   */
  async login(
    realm: Realm,
    username: string,
    password: string,
    ip: string,
    opts: { ttlSeconds?: number; tokenName?: string } = {}
  ): Promise<IssuedToken> {
    const name = canonicalUsername(username)
    const { account, passwordHash } = await this.#loginFlights.run(
      this.#flight('login', realm, name, ip, password),
      async () => {
        const throttled = throttleName(name)
        const attempt = await this.#throttled(throttled, ip)
        const found = await this.#findByUsername(name)
        const passwordOk = await this.#o.hasher.verify(password, found?.passwordHash)
        if (found === undefined || !passwordOk || found.account.kind !== realm || found.account.disabled) {
          throw err.invalid_credentials()
        }
        await this.#o.throttle.succeeded(throttled, ip, attempt)
        return found
      }
    )
    return this.#o.tokens.issueLoginToken(
      account.id,
      opts.ttlSeconds ?? this.#o.loginTtlSeconds[realm],
      { accountId: account.id, tokenId: null, ip },
      passwordHash,
      opts.tokenName
    )
  }

  /** Counts the attempt before any password check: concurrent guesses cannot outrun the limit. */
  async #throttled(username: string, ip: string): Promise<AllowedAttempt> {
    const attempt = await this.#o.throttle.attempt(username, ip)
    if (!attempt.allowed) {
      throw err.too_many_requests('too many failed password attempts; try again later', {
        retryAfterSeconds: attempt.retryAfterSeconds
      })
    }
    return attempt
  }

  /**
   * Management changes are confirmed with the caller's current password (docs/design.md, "Accounts, permissions, scopes"). The
   * confirmation shares the login's throttle, so a held token is no way to guess the password.
   */
  async confirmPassword(accountId: string, password: string | undefined, ip: string): Promise<string> {
    if (password === undefined || password === '') {
      throw err.password_required()
    }
    // The hash is read outside the shared check and keys it: a request that starts after a
    // password change never joins a check of the old password that began before it.
    const row = await this.#guard(findPasswordOf(this.#o.db, accountId))
    await this.#confirmFlights.run(
      this.#flight('confirm', accountId, ip, password, row?.passwordHash ?? ''),
      async () => {
        // the same throttle name as the account's logins
        const name = row === undefined ? accountId : throttleName(row.username)
        const attempt = await this.#throttled(name, ip)
        if (!(await this.#o.hasher.verify(password, row?.passwordHash))) {
          throw err.password_confirmation_failed()
        }
        await this.#o.throttle.succeeded(name, ip, attempt)
      }
    )
    return row!.passwordHash
  }

  /** First admin: from the CLI or BOOTSTRAP_ADMIN_* at start. Does nothing if an admin exists. */
  async ensureFirstAdmin(username: string, password: string): Promise<Account | null> {
    if (await anyAdminExists(this.#o.db)) return null
    return this.create({ username, password, kind: 'admin' }, null, { accountId: null, tokenId: null, ip: null })
  }
}
