import type { Kysely } from 'kysely'
import type { AccountUpdate, Database } from '../db/tables.js'
import { toAccount, type Account, type AccountKind } from './account.js'

/** The accounts table. Functions take `db` first, so a transaction drops in; rows leave as Accounts. */

const ACCOUNT_COLUMNS = [
  'id',
  'username',
  'kind',
  'permissions',
  'disabled',
  'tokens_revoked_before',
  'created_at',
  'updated_at'
] as const

export async function findAccount(db: Kysely<Database>, id: string): Promise<Account | undefined> {
  const row = await db.selectFrom('accounts').select(ACCOUNT_COLUMNS).where('id', '=', id).executeTakeFirst()
  return row === undefined ? undefined : toAccount(row)
}

/** Reads an account inside a change; `rowLocks` (MySQL/MariaDB) locks its row: SELECT … FOR UPDATE. */
export async function lockAccount(db: Kysely<Database>, id: string, rowLocks: boolean): Promise<Account | undefined> {
  let q = db.selectFrom('accounts').select(ACCOUNT_COLUMNS).where('id', '=', id)
  if (rowLocks) q = q.forUpdate()
  const row = await q.executeTakeFirst()
  return row === undefined ? undefined : toAccount(row)
}

/** An account and its password hash, by canonical username (exact: no padding, migration 0002). */
export async function findLoginByUsername(
  db: Kysely<Database>,
  username: string
): Promise<{ account: Account; passwordHash: string } | undefined> {
  const row = await db.selectFrom('accounts').selectAll().where('username', '=', username).executeTakeFirst()
  return row === undefined ? undefined : { account: toAccount(row), passwordHash: row.password_hash }
}

/** What a password confirmation needs: the name its throttle counts under, and the hash. */
export async function findPasswordOf(
  db: Kysely<Database>,
  id: string
): Promise<{ username: string; passwordHash: string } | undefined> {
  const row = await db
    .selectFrom('accounts')
    .select(['username', 'password_hash'])
    .where('id', '=', id)
    .executeTakeFirst()
  return row === undefined ? undefined : { username: row.username, passwordHash: row.password_hash }
}

/** An account by id or (canonical) username: the operator's way of naming one. */
export async function findAccountByIdOrUsername(
  db: Kysely<Database>,
  id: string,
  username: string
): Promise<Account | undefined> {
  const row = await db
    .selectFrom('accounts')
    .select(ACCOUNT_COLUMNS)
    .where((eb) => eb.or([eb('id', '=', id), eb('username', '=', username)]))
    .executeTakeFirst()
  return row === undefined ? undefined : toAccount(row)
}

/** By username; keyset pagination on it. */
export async function listAccounts(
  db: Kysely<Database>,
  opts: { limit: number; after?: string | undefined; kind?: AccountKind | undefined }
): Promise<Account[]> {
  let q = db.selectFrom('accounts').select(ACCOUNT_COLUMNS)
  if (opts.kind !== undefined) q = q.where('kind', '=', opts.kind)
  if (opts.after !== undefined) q = q.where('username', '>', opts.after)
  return (await q.orderBy('username').limit(opts.limit).execute()).map(toAccount)
}

export async function usernameTaken(db: Kysely<Database>, username: string): Promise<boolean> {
  return (
    (await db.selectFrom('accounts').select('id').where('username', '=', username).executeTakeFirst()) !== undefined
  )
}

export async function anyAdminExists(db: Kysely<Database>): Promise<boolean> {
  return (
    (await db.selectFrom('accounts').select('id').where('kind', '=', 'admin').limit(1).executeTakeFirst()) !== undefined
  )
}

/** A duplicate username loses on the unique index: that error, whatever the dialect words it as. */
export function isDuplicateUsername(err: unknown): boolean {
  return /unique|duplicate/i.test((err as Error).message)
}

export async function insertAccount(db: Kysely<Database>, account: Account, passwordHash: string): Promise<void> {
  await db
    .insertInto('accounts')
    .values({
      id: account.id,
      username: account.username,
      kind: account.kind,
      password_hash: passwordHash,
      permissions: JSON.stringify(account.permissions),
      disabled: account.disabled ? 1 : 0,
      token_generation: 0,
      tokens_revoked_before: null,
      created_at: account.createdAt,
      updated_at: account.updatedAt
    })
    .execute()
}

export interface AccountChanges {
  updatedAt: number
  permissions?: string[]
  disabled?: boolean
  /** move the account's token generation on: every token it has now stays inactive for good */
  bumpTokenGeneration?: boolean
  passwordHash?: string
}

export async function updateAccount(db: Kysely<Database>, id: string, changes: AccountChanges): Promise<void> {
  const set: AccountUpdate = { updated_at: changes.updatedAt }
  if (changes.permissions !== undefined) set.permissions = JSON.stringify(changes.permissions)
  if (changes.disabled !== undefined) set.disabled = changes.disabled ? 1 : 0
  if (changes.passwordHash !== undefined) set.password_hash = changes.passwordHash
  let q = db.updateTable('accounts').set(set).where('id', '=', id)
  if (changes.bumpTokenGeneration === true) q = q.set((eb) => ({ token_generation: eb('token_generation', '+', 1) }))
  await q.execute()
}

/** The other enabled admins and their permissions; with `rowLocks` their rows are locked. */
export async function otherEnabledAdmins(
  db: Kysely<Database>,
  id: string,
  rowLocks: boolean
): Promise<Array<{ id: string; permissions: string[] }>> {
  let q = db
    .selectFrom('accounts')
    .select(['id', 'permissions'])
    .where('kind', '=', 'admin')
    .where('disabled', '=', 0)
    .where('id', '!=', id)
  if (rowLocks) q = q.forUpdate()
  return (await q.execute()).map((r) => ({ id: r.id, permissions: JSON.parse(r.permissions) as string[] }))
}

/**
 * Moves the account's revoke-before watermark to `before` if that is later (it never moves back:
 * an earlier one would revive tokens). Returns the watermark now stored.
 */
export async function raiseTokensRevokedBefore(db: Kysely<Database>, id: string, before: number): Promise<number> {
  await db
    .updateTable('accounts')
    .set({ tokens_revoked_before: before })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('tokens_revoked_before', 'is', null), eb('tokens_revoked_before', '<', before)]))
    .execute()
  const row = await db
    .selectFrom('accounts')
    .select('tokens_revoked_before')
    .where('id', '=', id)
    .executeTakeFirstOrThrow()
  return Number(row.tokens_revoked_before)
}
