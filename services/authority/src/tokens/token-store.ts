import { CompiledQuery, sql, type Kysely } from 'kysely'
import type { Database, NewToken, TokenRow } from '../db/tables.js'

/** Repository functions: `db` first, so a transaction drops in. */

export type TokenState = 'active' | 'expired' | 'revoked'

export interface TokenWithOwner extends TokenRow {
  username: string
  account_kind: 'admin' | 'customer' | 'service'
  permissions: string
  disabled: number
}

const tokenWithOwner = (db: Kysely<Database>, id: string) =>
  db
    .selectFrom('tokens')
    .innerJoin('accounts', 'accounts.id', 'tokens.account_id')
    .selectAll('tokens')
    .select(['accounts.username', 'accounts.kind as account_kind', 'accounts.permissions', 'accounts.disabled'])
    .where('tokens.id', '=', id)

// the precompiled rows are typed by hand below: keep that type what the builder itself returns
type BuiltRow = NonNullable<Awaited<ReturnType<ReturnType<typeof tokenWithOwner>['executeTakeFirst']>>>
const _sameShape: (row: BuiltRow) => TokenWithOwner = (row) => row
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
  const result = await db.executeQuery<TokenWithOwner>(CompiledQuery.raw(text, [id]))
  return result.rows[0]
}

export async function findToken(db: Kysely<Database>, id: string): Promise<TokenRow | undefined> {
  return db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function insertToken(db: Kysely<Database>, row: NewToken): Promise<void> {
  await db.insertInto('tokens').values(row).execute()
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
  const res = await db
    .updateTable('tokens')
    .set({ revoked_at: at, revoked_reason: reason, replaced_by: replacedBy })
    .where('id', 'in', [...ids])
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  return Number(res.numUpdatedRows)
}

export async function liveTokenIdsOfAccount(db: Kysely<Database>, accountId: string, now: number): Promise<string[]> {
  const rows = await db
    .selectFrom('tokens')
    .select('id')
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute()
  return rows.map((r) => r.id)
}

export interface ListOptions {
  state?: TokenState
  limit: number
  after?: { createdAt: number; id: string }
}

/** Newest first; keyset pagination on (created_at, id) so pages never skip or repeat. */
export async function listTokenRows(db: Kysely<Database>, accountId: string, now: number, opts: ListOptions): Promise<TokenRow[]> {
  let q = db.selectFrom('tokens').selectAll().where('account_id', '=', accountId)
  if (opts.state === 'revoked') q = q.where('revoked_at', 'is not', null)
  if (opts.state === 'active') {
    q = q.where('revoked_at', 'is', null).where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
  }
  if (opts.state === 'expired') q = q.where('revoked_at', 'is', null).where('expires_at', '<=', now)
  if (opts.after) {
    const { createdAt, id } = opts.after
    q = q.where((eb) => eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]))
  }
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute()
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
    const res = await db.deleteFrom('tokens').where('id', 'in', ids.map((r) => r.id)).executeTakeFirst()
    total += Number(res.numDeletedRows)
    if (ids.length < batch) return total
  }
}

export async function countTokens(db: Kysely<Database>): Promise<number> {
  const r = await db.selectFrom('tokens').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()
  return Number(r.n)
}
