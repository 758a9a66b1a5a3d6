import { sql, type Kysely } from 'kysely'
import type { MigrationContext } from '../migrations.js'

// Frozen in time: never edit a migration that has shipped, add a new one.
export function make({ mysql }: MigrationContext) {
  // On MySQL/MariaDB, binary utf8mb4 so comparisons are exact and case-sensitive, as on SQLite.
  const tableOptions = mysql ? sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin` : sql``
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('accounts')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('username', 'varchar(128)', (c) => c.notNull().unique())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('password_hash', 'varchar(100)', (c) => c.notNull())
        .addColumn('permissions', 'text', (c) => c.notNull())
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .modifyEnd(tableOptions)
        .execute()

      await db.schema
        .createTable('tokens')
        .addColumn('id', 'varchar(22)', (c) => c.primaryKey())
        .addColumn('account_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('kind', 'varchar(3)', (c) => c.notNull())
        .addColumn('name', 'varchar(100)', (c) => c.notNull())
        .addColumn('description', 'varchar(500)', (c) => c.notNull())
        .addColumn('scopes', 'text')
        .addColumn('preset', 'varchar(64)')
        .addColumn('hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('kid', 'varchar(8)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('revoked_reason', 'varchar(32)')
        .addColumn('parent_id', 'varchar(22)')
        .addColumn('replaced_by', 'varchar(22)')
        // a table constraint, not an inline REFERENCES (which MySQL 8 parses and ignores)
        .addForeignKeyConstraint('tokens_account_fk', ['account_id'], 'accounts', ['id'])
        .modifyEnd(tableOptions)
        .execute()
      await db.schema
        .createIndex('tokens_account_created_idx')
        .on('tokens')
        .columns(['account_id', 'created_at', 'id'])
        .execute()
      await db.schema.createIndex('tokens_expires_idx').on('tokens').column('expires_at').execute()
      await db.schema.createIndex('tokens_revoked_idx').on('tokens').column('revoked_at').execute()

      await db.schema
        .createTable('audit_events')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('action', 'varchar(32)', (c) => c.notNull())
        .addColumn('token_id', 'varchar(22)')
        .addColumn('account_id', 'varchar(36)')
        .addColumn('actor_account_id', 'varchar(36)')
        .addColumn('actor_token_id', 'varchar(22)')
        .addColumn('ip', 'varchar(64)')
        .addColumn('details', 'text', (c) => c.notNull())
        .modifyEnd(tableOptions)
        .execute()
      await db.schema.createIndex('audit_token_idx').on('audit_events').columns(['token_id', 'at']).execute()
      await db.schema.createIndex('audit_account_idx').on('audit_events').columns(['account_id', 'at']).execute()

      await db.schema
        .createTable('scopes')
        .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('description', 'varchar(255)', (c) => c.notNull())
        .addColumn('builtin', 'integer', (c) => c.notNull().defaultTo(0))
        .modifyEnd(tableOptions)
        .execute()

      await db.schema
        .createTable('presets')
        .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('description', 'varchar(255)', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .modifyEnd(tableOptions)
        .execute()
    },

    async down(db: Kysely<any>): Promise<void> {
      for (const table of ['presets', 'scopes', 'audit_events', 'tokens', 'accounts']) {
        await db.schema.dropTable(table).execute()
      }
    }
  }
}
