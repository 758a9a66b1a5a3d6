import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import { recordAudit, type Actor } from '../audit/audit-log.js'
import type { Clock } from '../clock.js'
import type { AccountRow, Database } from '../db/tables.js'
import { AppError, errors } from '../errors.js'
import { DEFAULT_PERMISSIONS, missingFrom, normalizeScopes } from '../scopes/catalogue.js'
import type { ScopeCatalogue } from '../scopes/scope-catalogue.js'
import type { ActiveToken, IssuedToken, TokenService } from '../tokens/token-service.js'
import type { AllowedAttempt, LoginThrottle } from './login-throttle.js'
import { passwordFits, type PasswordHasher } from './passwords.js'

export type AccountKind = 'admin' | 'customer' | 'service'
export type Realm = 'admin' | 'customer'

export interface Account {
  id: string
  username: string
  kind: AccountKind
  permissions: string[]
  disabled: boolean
  createdAt: number
  updatedAt: number
}

export function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    username: row.username,
    kind: row.kind,
    permissions: JSON.parse(row.permissions) as string[],
    disabled: row.disabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at
  }
}

/** Usernames are compared lower-case; stored as given after that normalisation. */
export function normalizeUsername(username: string): string {
  return username.normalize('NFKC').toLowerCase()
}

/** Which kinds of account may hold which permissions: admin rights never reach a customer. */
function kindMayHold(kind: AccountKind, scope: string): boolean {
  if (scope.startsWith('accounts:')) return kind === 'admin'
  if (scope.startsWith('tokens:introspect') || scope === 'tokens:revoke') return kind !== 'customer'
  return true
}

export interface AccountServiceOptions {
  db: Kysely<Database>
  clock: Clock
  hasher: PasswordHasher
  catalogue: ScopeCatalogue
  tokens: TokenService
  throttle: LoginThrottle
  loginTtlSeconds: Record<Realm, number>
}

export class AccountService {
  readonly #o: AccountServiceOptions
  constructor(opts: AccountServiceOptions) {
    this.#o = opts
  }

  #guard<T>(p: Promise<T>): Promise<T> {
    return this.#o.tokens.guard(p)
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
      throw new AppError('scope_not_permitted', `a ${kind} account cannot hold ${refused.join(', ')}`)
    }
    const notHeld = caller === null ? [] : missingFrom(permissions, caller.scopes)
    if (notHeld.length > 0) {
      throw new AppError('scope_not_permitted', `you cannot grant ${notHeld.join(', ')}: your credential does not hold it`)
    }
    return normalizeScopes(permissions)
  }

  async create(
    input: { username: string; password: string; kind: AccountKind; permissions?: string[] | undefined },
    caller: ActiveToken | null,
    actor: Actor
  ): Promise<Account> {
    if (!passwordFits(input.password)) throw new AppError('validation_failed', 'password must be at most 72 bytes')
    // Without a list: the kind's defaults, limited to what the granting credential holds.
    const defaults = DEFAULT_PERMISSIONS[input.kind](this.#o.catalogue.names).filter(
      (p) => kindMayHold(input.kind, p) && (caller === null || caller.scopes.includes(p))
    )
    const permissions = this.#checkPermissions(input.kind, input.permissions ?? defaults, caller)
    const now = this.#o.clock.now()
    const row: AccountRow = {
      id: randomUUID(),
      username: normalizeUsername(input.username),
      kind: input.kind,
      password_hash: await this.#o.hasher.hash(input.password),
      permissions: JSON.stringify(permissions),
      disabled: 0,
      created_at: now,
      updated_at: now
    }
    await this.#guard(
      this.#o.db.transaction().execute(async (trx) => {
        const taken = await trx.selectFrom('accounts').select('id').where('username', '=', row.username).executeTakeFirst()
        if (taken !== undefined) throw new AppError('username_taken', 'that username is taken')
        try {
          await trx.insertInto('accounts').values(row).execute()
        } catch (err) {
          // a concurrent create of the same name loses on the unique index
          if (/unique|duplicate/i.test((err as Error).message)) throw new AppError('username_taken', 'that username is taken')
          throw err
        }
        await recordAudit(trx, now, actor, 'account.create', { accountId: row.id }, { username: row.username, kind: row.kind, permissions })
      })
    )
    return toAccount(row)
  }

  async get(id: string): Promise<Account> {
    const row = await this.#guard(this.#o.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst())
    if (row === undefined) throw errors.notFound('account')
    return toAccount(row)
  }

  async list(opts: { limit: number; after?: string | undefined; kind?: AccountKind | undefined }): Promise<{ accounts: Account[]; next: string | null }> {
    let q = this.#o.db.selectFrom('accounts').selectAll()
    if (opts.kind !== undefined) q = q.where('kind', '=', opts.kind)
    if (opts.after !== undefined) q = q.where('username', '>', opts.after)
    const rows = await this.#guard(q.orderBy('username').limit(opts.limit + 1).execute())
    const page = rows.slice(0, opts.limit).map(toAccount)
    return { accounts: page, next: rows.length > opts.limit ? (page[page.length - 1]?.username ?? null) : null }
  }

  /** Admin edit: permissions, password, disabled. Anything that can deny access invalidates caches. */
  async update(
    id: string,
    patch: { permissions?: string[] | undefined; password?: string | undefined; disabled?: boolean | undefined },
    caller: ActiveToken | null,
    actor: Actor
  ): Promise<Account> {
    const current = await this.get(id)
    const now = this.#o.clock.now()
    const set: Partial<AccountRow> = { updated_at: now }
    const details: Record<string, unknown> = {}
    if (patch.permissions !== undefined) {
      const next = this.#checkPermissions(current.kind, patch.permissions, caller)
      if (missingFrom(current.permissions, next).length > 0 || missingFrom(next, current.permissions).length > 0) {
        set.permissions = JSON.stringify(next)
        details.permissions = { from: current.permissions, to: next }
      }
    }
    if (patch.password !== undefined) {
      if (!passwordFits(patch.password)) throw new AppError('validation_failed', 'password must be at most 72 bytes')
      set.password_hash = await this.#o.hasher.hash(patch.password)
      details.password = 'changed'
    }
    const disabling = patch.disabled === true && !current.disabled
    const enabling = patch.disabled === false && current.disabled
    if (disabling || enabling) set.disabled = disabling ? 1 : 0
    if (actor.accountId === id && disabling) throw new AppError('forbidden', 'an admin cannot disable their own account')
    // One transaction: the account is never disabled with live tokens left behind. Asking for
    // disabled:true again sweeps whatever is still live (a retry after a timeout is safe).
    const work = this.#o.db.transaction().execute(async (trx) => {
      await trx.updateTable('accounts').set(set).where('id', '=', id).execute()
      if (Object.keys(details).length > 0) await recordAudit(trx, now, actor, 'account.edit', { accountId: id }, details)
      if (disabling) await recordAudit(trx, now, actor, 'account.disable', { accountId: id }, {})
      if (enabling) await recordAudit(trx, now, actor, 'account.enable', { accountId: id }, {})
      return patch.disabled === true ? (await this.#o.tokens.revokeIn(trx, id, null, 'account_disabled', actor)).revoked : []
    })
    // After the commit (chained to it, even if we stop waiting): revoked tokens leave the caches;
    // changed permissions reach every token (fewer narrow them, more widen login tokens).
    await this.#guard(
      work.then(async (revoked) => {
        await this.#o.tokens.invalidate(revoked)
        if (patch.permissions !== undefined) await this.#o.tokens.invalidateAccount(id)
      })
    )
    return this.get(id)
  }

  async #findByUsername(username: string): Promise<AccountRow | undefined> {
    return this.#guard(this.#o.db.selectFrom('accounts').selectAll().where('username', '=', normalizeUsername(username)).executeTakeFirst())
  }

  /**
   * Username + password → login token. Unknown user, wrong password, wrong realm and a disabled
   * account give the same answer after the same bcrypt work.
   */
  async login(realm: Realm, username: string, password: string, ip: string): Promise<IssuedToken> {
    const name = normalizeUsername(username).slice(0, 128)
    const attempt = await this.#throttled(name, ip)
    const row = await this.#findByUsername(name)
    const passwordOk = await this.#o.hasher.verify(password, row?.password_hash)
    if (row === undefined || !passwordOk || row.kind !== realm || row.disabled === 1) {
      throw new AppError('invalid_credentials', 'invalid username or password')
    }
    await this.#o.throttle.succeeded(name, ip, attempt)
    return this.#o.tokens.issueLoginToken(row.id, this.#o.loginTtlSeconds[realm], { accountId: row.id, tokenId: null, ip })
  }

  /** Counts the attempt before any password check: concurrent guesses cannot outrun the limit. */
  async #throttled(username: string, ip: string): Promise<AllowedAttempt> {
    const attempt = await this.#o.throttle.attempt(username, ip)
    if (!attempt.allowed) {
      throw new AppError('too_many_requests', 'too many failed password attempts; try again later', {
        retryAfterSeconds: attempt.retryAfterSeconds
      })
    }
    return attempt
  }

  /**
   * Management changes are confirmed with the caller's current password (DESIGN.md §5). The
   * confirmation shares the login's throttle, so a held token is no way to guess the password.
   */
  async confirmPassword(accountId: string, password: string | undefined, ip: string): Promise<void> {
    if (password === undefined || password === '') {
      throw new AppError('password_required', 'confirm this change with your current password in the "password" field')
    }
    const row = await this.#guard(
      this.#o.db.selectFrom('accounts').select(['username', 'password_hash']).where('id', '=', accountId).executeTakeFirst()
    )
    const name = row?.username ?? accountId
    const attempt = await this.#throttled(name, ip)
    if (!(await this.#o.hasher.verify(password, row?.password_hash))) {
      throw new AppError('password_confirmation_failed', 'the password does not match')
    }
    await this.#o.throttle.succeeded(name, ip, attempt)
  }

  /** First admin: from the CLI or BOOTSTRAP_ADMIN_* at start. Does nothing if an admin exists. */
  async ensureFirstAdmin(username: string, password: string): Promise<Account | null> {
    const existing = await this.#o.db.selectFrom('accounts').select('id').where('kind', '=', 'admin').limit(1).executeTakeFirst()
    if (existing !== undefined) return null
    return this.create({ username, password, kind: 'admin' }, null, { accountId: null, tokenId: null, ip: null })
  }
}
