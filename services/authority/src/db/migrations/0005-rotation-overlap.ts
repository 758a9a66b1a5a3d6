import type { Kysely } from 'kysely'
import type { MigrationContext } from '../migrations.js'

// Frozen in time: never edit a migration that has shipped, add a new one.
// Rotation with an overlap (docs/tokens.md, "Rotation"). On the token that was regenerated:
// `rotation_ends_at`, the end of the overlap during which its value still works (unix ms; its row
// stays unrevoked, so revoke-all and disable still reach it). On its successor:
// `supersedes_until`, the same moment while the predecessor's overlap is still open, cleared by
// the first use of the successor (which ends the overlap at once). Both are read in the row
// introspection already reads, so the hot path adds no I/O.
export function make(_ctx: MigrationContext) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // SQLite adds one column per statement
      await db.schema.alterTable('tokens').addColumn('rotation_ends_at', 'bigint').execute()
      await db.schema.alterTable('tokens').addColumn('supersedes_until', 'bigint').execute()
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('tokens').dropColumn('supersedes_until').execute()
      await db.schema.alterTable('tokens').dropColumn('rotation_ends_at').execute()
    }
  }
}
