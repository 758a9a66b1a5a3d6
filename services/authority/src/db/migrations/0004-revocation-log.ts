import { sql, type Kysely } from 'kysely'
import type { MigrationContext } from '../migrations.js'

// Frozen in time: never edit a migration that has shipped, add a new one.
// The revocation log: one row per change that can deny access, written in the change's own
// transaction; `seq` only grows (AUTO_INCREMENT / SQLite AUTOINCREMENT never reuse a value).
export function make({ mysql }: MigrationContext) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      let table = db.schema
        .createTable('revocation_events')
        // SQLite: only INTEGER PRIMARY KEY AUTOINCREMENT never reuses a rowid
        .addColumn('seq', mysql ? 'bigint' : 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('account_id', 'varchar(36)')
        .addColumn('token_ids', 'text', (c) => c.notNull())
        .addColumn('reason', 'varchar(32)', (c) => c.notNull())
      if (mysql) table = table.modifyEnd(sqlTableOptions())
      await table.execute()
      await db.schema.createIndex('revocation_events_at_idx').on('revocation_events').column('at').execute()
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('revocation_events').execute()
    }
  }
}

const sqlTableOptions = () => sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
