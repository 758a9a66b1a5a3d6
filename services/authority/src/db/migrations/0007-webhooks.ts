import { sql, type Kysely } from 'kysely'
import type { MigrationContext } from '../migrations.js'

// Frozen in time: never edit a migration that has shipped, add a new one.
// Webhooks (docs/webhooks.md): endpoints with an encrypted signing secret; the outbox of events,
// written in the transaction of the change they describe; one delivery row per (endpoint, event),
// claimed by a worker under a lease; token notices, one row per (token, notice) so an expiry
// notice is emitted once across replicas and restarts (the primary key is the arbiter).
export function make({ mysql }: MigrationContext) {
  const options = (t: { modifyEnd(s: ReturnType<typeof sql>): any }) =>
    mysql ? t.modifyEnd(sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`) : t
  return {
    async up(db: Kysely<any>): Promise<void> {
      await options(
        db.schema
          .createTable('webhook_endpoints')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('url', 'varchar(2048)', (c) => c.notNull())
          .addColumn('description', 'varchar(200)', (c) => c.notNull())
          .addColumn('event_types', 'text', (c) => c.notNull())
          .addColumn('secret_sealed', 'text', (c) => c.notNull())
          .addColumn('enabled', 'integer', (c) => c.notNull())
          .addColumn('created_by', 'varchar(36)')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
      ).execute()
      await options(
        db.schema
          .createTable('outbox_events')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('type', 'varchar(64)', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
      ).execute()
      await db.schema.createIndex('outbox_events_created_idx').on('outbox_events').column('created_at').execute()
      await options(
        db.schema
          .createTable('webhook_deliveries')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('endpoint_id', 'varchar(36)', (c) => c.notNull())
          .addColumn('event_id', 'varchar(36)', (c) => c.notNull())
          .addColumn('status', 'varchar(16)', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
          .addColumn('claimed_by', 'varchar(64)')
          .addColumn('lease_until', 'bigint')
          .addColumn('last_http_status', 'integer')
          .addColumn('last_error', 'varchar(200)')
          .addColumn('last_latency_ms', 'integer')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('delivered_at', 'bigint')
          .addUniqueConstraint('webhook_deliveries_endpoint_event_uq', ['endpoint_id', 'event_id'])
      ).execute()
      await db.schema
        .createIndex('webhook_deliveries_due_idx')
        .on('webhook_deliveries')
        .columns(['status', 'next_attempt_at'])
        .execute()
      await db.schema
        .createIndex('webhook_deliveries_endpoint_idx')
        .on('webhook_deliveries')
        .columns(['endpoint_id', 'created_at'])
        .execute()
      await options(
        db.schema
          .createTable('token_notices')
          .addColumn('token_id', 'varchar(36)', (c) => c.notNull())
          .addColumn('notice', 'varchar(16)', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('token_notices_pk', ['token_id', 'notice'])
      ).execute()
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('token_notices').execute()
      await db.schema.dropTable('webhook_deliveries').execute()
      await db.schema.dropTable('outbox_events').execute()
      await db.schema.dropTable('webhook_endpoints').execute()
    }
  }
}
