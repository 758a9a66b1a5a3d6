import type { Kysely } from 'kysely'
import type { MigrationContext } from '../migrations.js'

const LAST_USED_COLUMNS = [
  ['last_used_at', 'bigint'],
  ['last_used_address', 'varchar(64)'],
  ['last_used_user_agent', 'varchar(256)'],
  ['last_used_caller', 'varchar(36)']
] as const

// Frozen in time: never edit a migration that has shipped, add a new one.
// Last use of each token (written behind in batches, never per introspection: tokens/last-used.ts)
// and a per-account "revoke everything issued before" watermark, read in the same join as the
// token, so introspection adds no I/O (like the generation of migration 0003).
export function make({ mysql }: MigrationContext) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // one column per ALTER TABLE: SQLite adds no more at once
      for (const [name, type] of LAST_USED_COLUMNS) await db.schema.alterTable('tokens').addColumn(name, type).execute()
      await db.schema
        .createIndex('tokens_account_last_used_idx')
        .on('tokens')
        .columns(['account_id', 'last_used_at'])
        .execute()
      await db.schema.alterTable('accounts').addColumn('tokens_revoked_before', 'bigint').execute()
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('accounts').dropColumn('tokens_revoked_before').execute()
      let drop = db.schema.dropIndex('tokens_account_last_used_idx')
      if (mysql) drop = drop.on('tokens')
      await drop.execute()
      for (const [name] of [...LAST_USED_COLUMNS].reverse())
        await db.schema.alterTable('tokens').dropColumn(name).execute()
    }
  }
}
