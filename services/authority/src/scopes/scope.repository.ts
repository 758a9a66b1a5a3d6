import type { Kysely } from 'kysely'
import type { Database } from '../db/tables.js'
import type { Preset, Scope } from './scope-catalogue.js'

/** The scopes and presets tables. Functions take `db` first, so a transaction drops in. */

/** Writes these scopes and presets (insert or update; idempotent), in one transaction. */
export async function upsertCatalogue(
  db: Kysely<Database>,
  scopes: readonly Scope[],
  presets: readonly { name: string; description: string; scopes: readonly string[] }[]
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const have = new Map((await trx.selectFrom('scopes').selectAll().execute()).map((s) => [s.name, s]))
    for (const scope of scopes) {
      const s = { name: scope.name, description: scope.description, builtin: scope.builtin ? 1 : 0 }
      const cur = have.get(s.name)
      if (cur === undefined) await trx.insertInto('scopes').values(s).execute()
      else if (cur.description !== s.description || cur.builtin !== s.builtin) {
        await trx
          .updateTable('scopes')
          .set({ description: s.description, builtin: s.builtin })
          .where('name', '=', s.name)
          .execute()
      }
    }
    const existing = new Set((await trx.selectFrom('presets').select('name').execute()).map((p) => p.name))
    for (const p of presets) {
      const row = { name: p.name, description: p.description, scopes: JSON.stringify(p.scopes) }
      if (existing.has(p.name)) await trx.updateTable('presets').set(row).where('name', '=', p.name).execute()
      else await trx.insertInto('presets').values(row).execute()
    }
  })
}

/** Every scope and preset, by name. */
export async function readCatalogue(db: Kysely<Database>): Promise<{ scopes: Scope[]; presets: Preset[] }> {
  const scopes = await db.selectFrom('scopes').selectAll().orderBy('name').execute()
  const presets = await db.selectFrom('presets').selectAll().orderBy('name').execute()
  return {
    scopes: scopes.map((s) => ({ name: s.name, description: s.description, builtin: s.builtin === 1 })),
    presets: presets.map((p) => ({
      name: p.name,
      description: p.description,
      scopes: JSON.parse(p.scopes) as string[]
    }))
  }
}
