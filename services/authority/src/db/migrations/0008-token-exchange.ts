import type { Kysely } from 'kysely'
import type { MigrationContext } from '../migrations.js'

// Frozen in time: never edit a migration that has shipped, add a new one.
// RFC 8693 token exchange: an exchanged token (kind `xch`) names its subject token in `parent_id`
// and carries the audiences it is bound to (`audience`, a JSON array). Revoking a token revokes its
// exchanged children in the same transaction (they are found by parent_id, hence the index), so
// introspection needs no extra read for them.
export function make(_ctx: MigrationContext) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('tokens').addColumn('audience', 'text').execute()
      await db.schema.createIndex('tokens_parent_idx').on('tokens').column('parent_id').execute()
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('tokens_parent_idx').on('tokens').execute()
      await db.schema.alterTable('tokens').dropColumn('audience').execute()
    }
  }
}
