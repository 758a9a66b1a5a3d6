import { sql, type Kysely } from 'kysely'
import type { MigrationContext } from '../migrations.js'

// Frozen in time: never edit a migration that has shipped, add a new one.
//
// One username, one spelling (docs/security-model.md, "Usernames"):
// 1. On MySQL/MariaDB, accounts.username moves to a NO PAD binary collation. utf8mb4_bin pads
//    (MariaDB, and MySQL 8 too), so `'victim ' = 'victim'` held and a trailing space logged into
//    the account. MySQL 8 calls it utf8mb4_0900_bin, MariaDB utf8mb4_nopad_bin; the migration
//    takes whichever the server has and checks that it does not pad. SQLite never pads.
//    Tightening the comparison never makes two stored names equal: the unique index holds.
// 2. Every stored name is put in its canonical form (NFKC, lower case, NFKC: the rule as it
//    stands in this migration, copied, not imported, so later changes do not rewrite history),
//    oldest account first, where no other account holds that form already. A name left as it was
//    cannot be reached by login (login looks up canonical forms) until an operator renames it.
//    Names outside today's pattern are left as they are, canonical: they keep logging in.

const NO_PAD_BINARY = ['utf8mb4_0900_bin', 'utf8mb4_nopad_bin'] as const

function canonical(name: string): string {
  return name.normalize('NFKC').toLowerCase().normalize('NFKC')
}

async function noPadCollation(db: Kysely<any>): Promise<string> {
  const { rows } = await sql<{
    Collation: string
  }>`SHOW COLLATION WHERE Collation IN (${sql.join([...NO_PAD_BINARY])})`.execute(db)
  const have = new Set(rows.map((r) => r.Collation))
  const found = NO_PAD_BINARY.find((c) => have.has(c))
  if (found === undefined)
    throw new Error(`this server has neither ${NO_PAD_BINARY.join(' nor ')}: a NO PAD binary collation is required`)
  return found
}

async function setUsernameCollation(db: Kysely<any>, collation: string): Promise<void> {
  await sql`ALTER TABLE accounts MODIFY username VARCHAR(128) CHARACTER SET utf8mb4 COLLATE ${sql.raw(collation)} NOT NULL`.execute(
    db
  )
}

export function make({ mysql }: MigrationContext) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      if (mysql) {
        const collation = await noPadCollation(db)
        await setUsernameCollation(db, collation)
        const { rows } = await sql<{
          padded: number | string
        }>`SELECT COUNT(*) AS padded FROM accounts WHERE username = CONCAT(username, ' ')`.execute(db)
        const probe = await sql<{
          padded: number | string
        }>`SELECT (CONVERT('a' USING utf8mb4) COLLATE ${sql.raw(collation)}) = 'a ' AS padded`.execute(db)
        if (Number(rows[0]?.padded ?? 0) !== 0 || Number(probe.rows[0]?.padded ?? 1) !== 0) {
          throw new Error(`accounts.username still compares with padding under ${collation}`)
        }
      }
      const accounts = await db
        .selectFrom('accounts')
        .select(['id', 'username'])
        .orderBy('created_at')
        .orderBy('id')
        .execute()
      const taken = new Set(accounts.map((a) => a.username as string))
      for (const a of accounts as { id: string; username: string }[]) {
        const to = canonical(a.username)
        if (to === a.username || taken.has(to)) continue
        await db.updateTable('accounts').set({ username: to }).where('id', '=', a.id).execute()
        taken.delete(a.username)
        taken.add(to)
      }
    },

    async down(db: Kysely<any>): Promise<void> {
      // back to the padding collation of 0001 (the canonical names stay: they were valid before)
      if (mysql) await setUsernameCollation(db, 'utf8mb4_bin')
    }
  }
}
