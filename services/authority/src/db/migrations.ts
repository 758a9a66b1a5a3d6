import { Migrator, MysqlAdapter, type Kysely, type Migration, type MigrationResultSet } from 'kysely'
import * as initial from './migrations/0001-initial.js'
import * as exactUsernames from './migrations/0002-exact-usernames.js'
import * as accountWatermark from './migrations/0003-account-watermark.js'
import * as revocationLog from './migrations/0004-revocation-log.js'
import * as rotationOverlap from './migrations/0005-rotation-overlap.js'
import * as lastUsedAndRevokeBefore from './migrations/0006-last-used-and-revoke-before.js'
import * as webhooks from './migrations/0007-webhooks.js'
import * as tokenExchange from './migrations/0008-token-exchange.js'

export interface MigrationContext {
  mysql: boolean
}

/** In-code provider: works the same from TypeScript sources and compiled `dist/`. */
export function createMigrator(db: Kysely<any>): Migrator {
  const ctx: MigrationContext = { mysql: db.getExecutor().adapter instanceof MysqlAdapter }
  const migrations: Record<string, Migration> = {
    '0001-initial': initial.make(ctx),
    '0002-exact-usernames': exactUsernames.make(ctx),
    '0003-account-watermark': accountWatermark.make(ctx),
    '0004-revocation-log': revocationLog.make(ctx),
    '0005-rotation-overlap': rotationOverlap.make(ctx),
    '0006-last-used-and-revoke-before': lastUsedAndRevokeBefore.make(ctx),
    '0007-webhooks': webhooks.make(ctx),
    '0008-token-exchange': tokenExchange.make(ctx)
  }
  return new Migrator({ db, provider: { getMigrations: async () => migrations } })
}

export class MigrationError extends Error {
  override name = 'MigrationError'
}

function check(set: MigrationResultSet): MigrationResultSet {
  if (set.error !== undefined) {
    const failed = set.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
    throw new MigrationError(`migration ${failed} failed: ${(set.error as Error).message ?? String(set.error)}`)
  }
  return set
}

/** Brings the schema up to date. Kysely takes a lock (GET_LOCK on MySQL), so replicas never race. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const set = check(await createMigrator(db).migrateToLatest())
  return (set.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

export async function migrateDown(db: Kysely<any>): Promise<string[]> {
  const set = check(await createMigrator(db).migrateDown())
  return (set.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

export async function migrationStatus(db: Kysely<any>): Promise<{ name: string; executedAt: Date | null }[]> {
  const list = await createMigrator(db).getMigrations()
  return list.map((m) => ({ name: m.name, executedAt: m.executedAt ?? null }))
}
