import { CompiledQuery, sql, type ExpressionBuilder, type Kysely, type RawBuilder } from 'kysely'
import type { Database, TokenRow, TokenUpdate } from '../db/tables.js'
import { REGENERATED, REUSE_DETECTED, ROTATED } from './rotation.js'
import type { TokenKind } from './token-format.js'
import { toToken, toTokenRow, type LastUse, type Token, type TokenChanges, type TokenState } from './token.js'

/** The tokens table. Functions take `db` first, so a transaction drops in; rows leave as Tokens. */

export type { TokenState }

/** What introspection reads behind a cache miss: the token and what it needs of its owner. */
export interface TokenWithOwner {
  id: string
  accountId: string
  kind: TokenKind
  hash: string
  /** null = all of the owner's permissions (login tokens) */
  scopes: string[] | null
  createdAt: number
  expiresAt: number | null
  revokedAt: number | null
  /** what the rotation rules read (tokens/rotation.ts) */
  revokedReason: string | null
  /** the token it was regenerated or copied from; for an exchanged token (kind xch), its subject */
  parentId: string | null
  replacedBy: string | null
  rotationEndsAt: number | null
  supersedesUntil: number | null
  /** exchanged tokens: the audiences they are bound to */
  audience: string[] | null
  owner: {
    username: string
    kind: 'admin' | 'customer' | 'service'
    permissions: string[]
    disabled: boolean
    /** the account's current token generation */
    tokenGeneration: number
    /** unix ms: tokens created before it are inactive (revoke-before); null = none */
    tokensRevokedBefore: number | null
  }
  /** the account's generation when this token was inserted */
  accountGeneration: number
}

interface TokenWithOwnerRow extends TokenRow {
  username: string
  account_kind: 'admin' | 'customer' | 'service'
  permissions: string
  disabled: number
  token_generation: number
  tokens_revoked_before: number | null
}

const tokenWithOwner = (db: Kysely<Database>, id: string) =>
  db
    .selectFrom('tokens')
    .innerJoin('accounts', 'accounts.id', 'tokens.account_id')
    .selectAll('tokens')
    .select([
      'accounts.username',
      'accounts.kind as account_kind',
      'accounts.permissions',
      'accounts.disabled',
      'accounts.token_generation',
      'accounts.tokens_revoked_before'
    ])
    .where('tokens.id', '=', id)

// the precompiled rows are typed by hand below: keep that type what the builder itself returns
type BuiltRow = NonNullable<Awaited<ReturnType<ReturnType<typeof tokenWithOwner>['executeTakeFirst']>>>
const _sameShape: (row: BuiltRow) => TokenWithOwnerRow = (row) => row
void _sameShape

/** the introspection miss path's SQL, compiled once per database (building it costs more than SQLite runs it) */
const compiledLookups = new WeakMap<Kysely<Database>, string>()

/** The token and what introspection needs of its owner: the read behind every cache miss. */
export async function findTokenWithOwner(db: Kysely<Database>, id: string): Promise<TokenWithOwner | undefined> {
  let text = compiledLookups.get(db)
  if (text === undefined) {
    const compiled = tokenWithOwner(db, id).compile()
    if (compiled.parameters.length !== 1) throw new Error('token lookup: expected one parameter')
    text = compiled.sql
    compiledLookups.set(db, text)
  }
  const result = await db.executeQuery<TokenWithOwnerRow>(CompiledQuery.raw(text, [id]))
  const row = result.rows[0]
  if (row === undefined) return undefined
  return {
    id: row.id,
    accountId: row.account_id,
    kind: row.kind,
    hash: row.hash,
    scopes: row.scopes === null ? null : (JSON.parse(row.scopes) as string[]),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    parentId: row.parent_id,
    replacedBy: row.replaced_by,
    rotationEndsAt: row.rotation_ends_at === null ? null : Number(row.rotation_ends_at),
    supersedesUntil: row.supersedes_until === null ? null : Number(row.supersedes_until),
    audience: row.audience === null ? null : (JSON.parse(row.audience) as string[]),
    accountGeneration: Number(row.account_generation),
    owner: {
      username: row.username,
      kind: row.account_kind,
      permissions: JSON.parse(row.permissions) as string[],
      disabled: row.disabled === 1,
      tokenGeneration: Number(row.token_generation),
      tokensRevokedBefore: row.tokens_revoked_before === null ? null : Number(row.tokens_revoked_before)
    }
  }
}

export async function findToken(db: Kysely<Database>, id: string, now: number): Promise<Token | undefined> {
  const row = await db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst()
  return row === undefined ? undefined : toToken(row, now)
}

/** Tokens by id; only those of `accountId` when given. */
export async function findTokens(
  db: Kysely<Database>,
  ids: readonly string[],
  now: number,
  accountId?: string
): Promise<Token[]> {
  if (ids.length === 0) return []
  let q = db
    .selectFrom('tokens')
    .selectAll()
    .where('id', 'in', [...ids])
  if (accountId !== undefined) q = q.where('account_id', '=', accountId)
  return (await q.execute()).map((r) => toToken(r, now))
}

const TOKEN_COLUMNS = [
  'id',
  'account_id',
  'kind',
  'name',
  'description',
  'scopes',
  'preset',
  'hash',
  'kid',
  'created_at',
  'expires_at',
  'revoked_at',
  'revoked_reason',
  'parent_id',
  'replaced_by',
  'rotation_ends_at',
  'supersedes_until',
  'audience'
] as const satisfies readonly (keyof TokenRow)[]

/**
 * Inserts a token only while its account is enabled (and, for a login, still has the password
 * that was checked): one INSERT … SELECT from the account row, so the check and the insert are one
 * statement. On InnoDB the SELECT takes a shared lock on the account row, so an insert racing a
 * disable or a password reset either lands before it (and is swept by it) or waits and inserts
 * nothing. Returns false when nothing was inserted.
 */
export async function insertTokenIfAccountAllows(
  db: Kysely<Database>,
  token: Token,
  require: { passwordHash?: string; callerTokenId?: string | null } = {}
): Promise<boolean> {
  const row = toTokenRow(token)
  let source = db
    .selectFrom('accounts')
    .select((eb) => [
      ...TOKEN_COLUMNS.map((c) => eb.val(row[c]).as(c)),
      eb.ref('accounts.token_generation').as('account_generation')
    ])
    .where('accounts.id', '=', row.account_id)
    .where('accounts.disabled', '=', 0)
  if (require.passwordHash !== undefined) source = source.where('accounts.password_hash', '=', require.passwordHash)
  // the credential making the call is still live: a revoke-all or password change that commits
  // while this request is in flight ends it, and then this insert inserts nothing
  const callerId = require.callerTokenId
  if (callerId !== undefined && callerId !== null) {
    source = source.where((eb) =>
      eb.exists(
        eb
          .selectFrom('tokens as caller')
          .select('caller.id')
          .where('caller.id', '=', callerId)
          .where('caller.revoked_at', 'is', null)
          // a value superseded by a rotation works only until its overlap ends
          .where((w) =>
            w.or([w('caller.rotation_ends_at', 'is', null), w('caller.rotation_ends_at', '>', row.created_at)])
          )
      )
    )
  }
  const res = await db
    .insertInto('tokens')
    .columns([...TOKEN_COLUMNS, 'account_generation'])
    .expression(source)
    .executeTakeFirst()
  return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1
}

/** Marks live tokens revoked; returns how many this call changed (0 = someone else got there first). */
export async function revokeTokenRows(
  db: Kysely<Database>,
  ids: readonly string[],
  at: number,
  reason: string,
  replacedBy: string | null = null
): Promise<number> {
  if (ids.length === 0) return 0
  // a revoke keeps the link to a successor (the rotation family stays walkable)
  const res = await db
    .updateTable('tokens')
    .set({ revoked_at: at, revoked_reason: reason, ...(replacedBy === null ? {} : { replaced_by: replacedBy }) })
    .where('id', 'in', [...ids])
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  return Number(res.numUpdatedRows)
}

/**
 * Revokes the live exchanged tokens (kind xch) whose subject is one of `parentIds`, in the caller's
 * transaction; returns their ids. The UPDATE comes first: it reads the latest committed rows (an
 * exchange that committed while this transaction waited on the subject's row is included, where a
 * plain SELECT on an older snapshot would miss it), and the SELECT after it sees this
 * transaction's own changes.
 */
export async function revokeExchangedChildren(
  db: Kysely<Database>,
  parentIds: readonly string[],
  at: number,
  reason: string
): Promise<string[]> {
  if (parentIds.length === 0) return []
  const res = await db
    .updateTable('tokens')
    .set({ revoked_at: at, revoked_reason: reason })
    .where('parent_id', 'in', [...parentIds])
    .where('kind', '=', 'xch')
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  if (Number(res.numUpdatedRows) === 0) return []
  const rows = await db
    .selectFrom('tokens')
    .select('id')
    .where('parent_id', 'in', [...parentIds])
    .where('kind', '=', 'xch')
    .where('revoked_at', '=', at)
    .where('revoked_reason', '=', reason)
    .execute()
  return rows.map((r) => r.id)
}

/**
 * Compare-and-set: applies `changes` only while the token is live and as `read` saw it (scopes and
 * expiry unchanged, null-safe on both dialects). False = a concurrent change won.
 */
export async function updateTokenIfUnchanged(
  db: Kysely<Database>,
  read: Token,
  changes: TokenChanges
): Promise<boolean> {
  const set: TokenUpdate = {}
  if (changes.name !== undefined) set.name = changes.name
  if (changes.description !== undefined) set.description = changes.description
  if (changes.scopes !== undefined) set.scopes = JSON.stringify(changes.scopes)
  if (changes.preset !== undefined) set.preset = changes.preset
  if (changes.expiresAt !== undefined) set.expires_at = changes.expiresAt
  return compareAndSet(db, read, set)
}

/**
 * Compare-and-set of the regenerate that wins: names the successor once (a token already
 * superseded has one). Without an overlap the token is revoked at once; with one (`rotationEndsAt`,
 * unix ms) it stays unrevoked and works until then (tokens/rotation.ts).
 */
export async function supersedeIfUnchanged(
  db: Kysely<Database>,
  read: Token,
  at: number,
  successor: string,
  rotationEndsAt: number | null
): Promise<boolean> {
  const set: TokenUpdate =
    rotationEndsAt === null
      ? { revoked_at: at, revoked_reason: REGENERATED, replaced_by: successor }
      : { replaced_by: successor, rotation_ends_at: rotationEndsAt }
  return compareAndSet(db, read, set, true)
}

async function compareAndSet(
  db: Kysely<Database>,
  read: Token,
  set: TokenUpdate,
  unreplaced = false
): Promise<boolean> {
  const scopes = read.scopes === null ? null : JSON.stringify(read.scopes)
  let q = db.updateTable('tokens').set(set).where('id', '=', read.id).where('revoked_at', 'is', null)
  if (unreplaced) q = q.where('replaced_by', 'is', null)
  q = scopes === null ? q.where('scopes', 'is', null) : q.where('scopes', '=', scopes)
  q = read.expiresAt === null ? q.where('expires_at', 'is', null) : q.where('expires_at', '=', read.expiresAt)
  const res = await q.executeTakeFirst()
  return Number(res.numUpdatedRows) === 1
}

/** Live token ids of an account, optionally only of some kinds and without one id (the caller's). */
export async function liveTokenIdsOfAccount(
  db: Kysely<Database>,
  accountId: string,
  now: number,
  only: { kinds?: readonly TokenKind[]; except?: string | null; createdBefore?: number } = {}
): Promise<string[]> {
  let q = db
    .selectFrom('tokens')
    .select('id')
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
  if (only.kinds !== undefined) {
    if (only.kinds.length === 0) return []
    q = q.where('kind', 'in', [...only.kinds])
  }
  if (only.except !== undefined && only.except !== null) q = q.where('id', '!=', only.except)
  if (only.createdBefore !== undefined) q = q.where('created_at', '<', only.createdBefore)
  const rows = await q.execute()
  return rows.map((r) => r.id)
}

// ---------------------------------------------------------------- rotation (tokens/rotation.ts)

/**
 * Ends the open overlap of `successorId`'s predecessor now: clears the successor's
 * `supersedes_until` (only the first caller changes it, so the work is done once whatever the
 * number of replicas) and stops the predecessor (revoked, reason `rotated`). Returns the stopped
 * predecessor's id, or null when there was nothing to end (already ended, or the overlap is over).
 */
export async function endOverlapOf(
  db: Kysely<Database>,
  successorId: string,
  predecessorId: string | null,
  now: number
): Promise<string | null> {
  const cleared = await db
    .updateTable('tokens')
    .set({ supersedes_until: null })
    .where('id', '=', successorId)
    .where('supersedes_until', 'is not', null)
    .executeTakeFirst()
  if (Number(cleared.numUpdatedRows) === 0 || predecessorId === null) return null
  const stopped = await db
    .updateTable('tokens')
    // rotation_ends_at keeps the scheduled end: reuse is not armed before it (tokens/rotation.ts)
    .set({ revoked_at: now, revoked_reason: ROTATED })
    .where('id', '=', predecessorId)
    .where('replaced_by', '=', successorId)
    .where('revoked_at', 'is', null)
    .where('rotation_ends_at', '>', now)
    .executeTakeFirst()
  return Number(stopped.numUpdatedRows) === 1 ? predecessorId : null
}

/** a family longer than this is cut there (a chain of regenerates this long is not a real one) */
export const FAMILY_MAX = 1000

/**
 * A token and every later successor (following `replaced_by`), oldest first, read for update on
 * MySQL/MariaDB so a regenerate of the newest that commits meanwhile is either seen or waits.
 */
export async function familyFrom(db: Kysely<Database>, id: string, now: number, lock: boolean): Promise<Token[]> {
  const family: Token[] = []
  const seen = new Set<string>()
  let next: string | null = id
  while (next !== null && family.length < FAMILY_MAX && !seen.has(next)) {
    seen.add(next)
    const q = db.selectFrom('tokens').selectAll().where('id', '=', next)
    const row: TokenRow | undefined = await (lock ? q.forUpdate() : q).executeTakeFirst()
    if (row === undefined) break
    const token = toToken(row, now)
    family.push(token)
    next = token.replacedBy
  }
  return family
}

/**
 * Revokes a family for reuse: live members now, members a rotation stopped get the reason too (so
 * presenting any of them again answers `reuse_detected` and sets nothing off). Members a person
 * revoked keep their reason. Returns the ids changed.
 */
export async function revokeFamilyRows(db: Kysely<Database>, ids: readonly string[], now: number): Promise<string[]> {
  if (ids.length === 0) return []
  const changed = await db
    .selectFrom('tokens')
    .select('id')
    .where('id', 'in', [...ids])
    .where((eb) => eb.or([eb('revoked_at', 'is', null), eb('revoked_reason', 'in', [REGENERATED, ROTATED])]))
    .execute()
  const changedIds = changed.map((r) => r.id)
  if (changedIds.length === 0) return []
  await db
    .updateTable('tokens')
    .set({
      revoked_at: sql<number>`coalesce(revoked_at, ${now})`,
      revoked_reason: REUSE_DETECTED,
      supersedes_until: null
    })
    .where('id', 'in', changedIds)
    .execute()
  return changedIds
}

export interface ListOptions {
  state?: TokenState
  /** unix ms: only tokens last used at or after it */
  usedSince?: number
  /** unix ms: only tokens not used at or after it (never used included) */
  unusedSince?: number
  limit: number
  after?: { createdAt: number; id: string }
  /** only live tokens expiring at or before this (unix ms) */
  expiringBy?: number
}

/** Newest first; keyset pagination on (created_at, id) so pages never skip or repeat. */
export async function listTokens(
  db: Kysely<Database>,
  accountId: string,
  now: number,
  opts: ListOptions
): Promise<Token[]> {
  let q = db.selectFrom('tokens').selectAll().where('account_id', '=', accountId)
  // a value whose rotation overlap is over counts as revoked (Token.state), though its row is not marked
  const overlapOver = (eb: ExpressionBuilder<Database, 'tokens'>) =>
    eb.and([eb('rotation_ends_at', 'is not', null), eb('rotation_ends_at', '<=', now)])
  if (opts.state === 'revoked') q = q.where((eb) => eb.or([eb('revoked_at', 'is not', null), overlapOver(eb)]))
  if (opts.state === 'active') {
    q = q
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .where((eb) => eb.not(overlapOver(eb)))
  }
  if (opts.state === 'expired')
    q = q
      .where('revoked_at', 'is', null)
      .where('expires_at', '<=', now)
      .where((eb) => eb.not(overlapOver(eb)))
  if (opts.usedSince !== undefined) q = q.where('last_used_at', '>=', opts.usedSince)
  const unusedSince = opts.unusedSince
  if (unusedSince !== undefined)
    q = q.where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', unusedSince)]))
  if (opts.expiringBy !== undefined) {
    q = q.where('revoked_at', 'is', null).where('expires_at', '>', now).where('expires_at', '<=', opts.expiringBy)
  }
  if (opts.after) {
    const { createdAt, id } = opts.after
    q = q.where((eb) =>
      eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])])
    )
  }
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute()
  return rows.map((r) => toToken(r, now))
}

/** Deletes rows expired or revoked before `before`; returns the count. */
export async function pruneTokenRows(db: Kysely<Database>, before: number, batch = 1000): Promise<number> {
  let total = 0
  for (;;) {
    const ids = await db
      .selectFrom('tokens')
      .select('id')
      .where((eb) => eb.or([eb('expires_at', '<', before), eb('revoked_at', '<', before)]))
      .limit(batch)
      .execute()
    if (ids.length === 0) return total
    const res = await db
      .deleteFrom('tokens')
      .where(
        'id',
        'in',
        ids.map((r) => r.id)
      )
      .executeTakeFirst()
    total += Number(res.numDeletedRows)
    if (ids.length < batch) return total
  }
}

export async function countTokens(db: Kysely<Database>): Promise<number> {
  const r = await db.selectFrom('tokens').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()
  return Number(r.n)
}

/**
 * One UPDATE for a batch of tokens: each column a CASE over the ids. A use only replaces an older
 * one (another replica may have written a later use meanwhile). `last_used_at` is assigned last:
 * MySQL evaluates SET left to right with the new values, SQLite with the old ones; this way both
 * compare against the stored time.
 */
export async function writeLastUses(
  db: Kysely<Database>,
  uses: ReadonlyArray<readonly [string, LastUse]>
): Promise<void> {
  if (uses.length === 0) return
  const newer = (id: string, at: number) => sql`id = ${id} and (last_used_at is null or last_used_at < ${at})`
  const column = <T extends string | number | null>(name: string, value: (u: LastUse) => T): RawBuilder<T> =>
    sql<T>`case ${sql.join(
      uses.map(([id, u]) => sql`when ${newer(id, u.at)} then ${value(u)}`),
      sql` `
    )} else ${sql.ref(name)} end`
  await db
    .updateTable('tokens')
    .set({
      last_used_address: column('last_used_address', (u) => u.address),
      last_used_user_agent: column('last_used_user_agent', (u) => u.userAgent),
      last_used_caller: column('last_used_caller', (u) => u.caller),
      last_used_at: column('last_used_at', (u) => u.at)
    })
    .where(
      'id',
      'in',
      uses.map(([id]) => id)
    )
    .execute()
}

/** What revoke-by-selector matches on (all given criteria must hold); times in unix ms. */
export interface TokenSelector {
  accountId?: string | undefined
  kind?: TokenKind | undefined
  /** the token holds it (a login token: its owner holds it) */
  scope?: string | undefined
  createdBefore?: number | undefined
  createdAfter?: number | undefined
  /** last recorded use before it */
  lastUsedBefore?: number | undefined
  /** with lastUsedBefore: never-used tokens match too */
  includeNeverUsed?: boolean | undefined
  /** exact, case-sensitive prefix of the name */
  namePrefix?: string | undefined
  /**
   * the privilege boundary, in the query: the owner holds none of these permissions (the ones the
   * caller's credential lacks), so tokens of more powerful accounts are never read, counted or
   * used as a cursor
   */
  ownerLacks?: readonly string[] | undefined
}

/**
 * A page of live tokens matching a selector, by id after `afterId` (keyset), with their owner's
 * permissions (the privilege boundary is applied in the query by `ownerLacks`; the caller checks
 * them again). Matching is exact on both databases: `instr` and
 * `substr` compare as the column's collation does (utf8mb4_bin on MySQL, binary on SQLite), and
 * scopes are matched as whole JSON strings (scope names hold no quote).
 */
export async function findMatchingTokens(
  db: Kysely<Database>,
  sel: TokenSelector,
  now: number,
  page: { afterId: string | null; limit: number }
): Promise<Array<{ id: string; accountId: string; ownerPermissions: string[] }>> {
  let q = db
    .selectFrom('tokens')
    .innerJoin('accounts', 'accounts.id', 'tokens.account_id')
    .select(['tokens.id', 'tokens.account_id', 'accounts.permissions'])
    .where('tokens.revoked_at', 'is', null)
    .where((eb) => eb.or([eb('tokens.expires_at', 'is', null), eb('tokens.expires_at', '>', now)]))
  if (sel.accountId !== undefined) q = q.where('tokens.account_id', '=', sel.accountId)
  if (sel.kind !== undefined) q = q.where('tokens.kind', '=', sel.kind)
  if (sel.scope !== undefined) {
    const quoted = JSON.stringify(sel.scope)
    q = q.where((eb) =>
      eb.or([
        eb.and([eb('tokens.scopes', 'is not', null), sql<boolean>`instr(${eb.ref('tokens.scopes')}, ${quoted}) > 0`]),
        eb.and([eb('tokens.scopes', 'is', null), sql<boolean>`instr(${eb.ref('accounts.permissions')}, ${quoted}) > 0`])
      ])
    )
  }
  if (sel.createdBefore !== undefined) q = q.where('tokens.created_at', '<', sel.createdBefore)
  if (sel.createdAfter !== undefined) q = q.where('tokens.created_at', '>', sel.createdAfter)
  const lastUsedBefore = sel.lastUsedBefore
  if (lastUsedBefore !== undefined) {
    q = sel.includeNeverUsed
      ? q.where((eb) => eb.or([eb('tokens.last_used_at', 'is', null), eb('tokens.last_used_at', '<', lastUsedBefore)]))
      : q.where('tokens.last_used_at', '<', lastUsedBefore)
  }
  const prefix = sel.namePrefix
  if (prefix !== undefined) {
    q = q.where(sql<boolean>`substr(${sql.ref('tokens.name')}, 1, ${[...prefix].length}) = ${prefix}`)
  }
  for (const permission of sel.ownerLacks ?? []) {
    q = q.where(sql<boolean>`instr(${sql.ref('accounts.permissions')}, ${JSON.stringify(permission)}) = 0`)
  }
  if (page.afterId !== null) q = q.where('tokens.id', '>', page.afterId)
  const rows = await q.orderBy('tokens.id').limit(page.limit).execute()
  return rows.map((r) => ({
    id: r.id,
    accountId: r.account_id,
    ownerPermissions: JSON.parse(r.permissions) as string[]
  }))
}

/** When each of `ids` was last used (unix ms), as written so far; ids never used are absent. */
export async function lastUsedAtOf(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, number>> {
  const used = new Map<string, number>()
  if (ids.length === 0) return used
  const rows = await db
    .selectFrom('tokens')
    .select(['id', 'last_used_at'])
    .where('id', 'in', [...ids])
    .where('last_used_at', 'is not', null)
    .execute()
  for (const r of rows) used.set(r.id, Number(r.last_used_at))
  return used
}
