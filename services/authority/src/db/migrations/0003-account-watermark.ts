import type { Kysely } from 'kysely'
import type { MigrationContext } from '../migrations.js'

// Frozen in time: never edit a migration that has shipped, add a new one.
// A per-account token generation: every token records the account's generation when it was
// inserted (copied by the INSERT … SELECT that also checks the account is enabled), and a disable
// moves the account's on. A token from an older generation is inactive ("revoked") whatever its
// row says, so nothing issued before a disable comes back when the account is enabled again. A
// counter, not a time: replicas' clocks never have to agree. Read in the same join as the token,
// so introspection adds no I/O.
export function make(_ctx: MigrationContext) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('accounts')
        .addColumn('token_generation', 'integer', (c) => c.notNull().defaultTo(0))
        .execute()
      await db.schema
        .alterTable('tokens')
        .addColumn('account_generation', 'integer', (c) => c.notNull().defaultTo(0))
        .execute()
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('tokens').dropColumn('account_generation').execute()
      await db.schema.alterTable('accounts').dropColumn('token_generation').execute()
    }
  }
}
