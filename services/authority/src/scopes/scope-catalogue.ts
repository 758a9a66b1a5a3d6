import type { Kysely } from 'kysely'
import type { Config } from '../config.js'
import type { Database } from '../db/tables.js'
import { BUILTIN_PRESETS, BUILTIN_SCOPES, normalizeScopes } from './catalogue.js'
import { AppError } from '../errors.js'

export interface Scope {
  name: string
  description: string
  builtin: boolean
}
export interface Preset {
  name: string
  description: string
  scopes: string[]
}

/** Scopes and presets, read once at start (they change only with configuration). */
export class ScopeCatalogue {
  constructor(
    readonly scopes: ReadonlyMap<string, Scope>,
    readonly presets: ReadonlyMap<string, Preset>
  ) {}

  get names(): string[] {
    return [...this.scopes.keys()]
  }

  /** Resolves `scopes` or `preset` from a request into a checked, sorted, non-empty list. */
  resolve(input: { scopes?: readonly string[] | undefined; preset?: string | undefined }): { scopes: string[]; preset: string | null } {
    if (input.scopes !== undefined && input.preset !== undefined) {
      throw new AppError('invalid_request', 'give either scopes or preset, not both')
    }
    if (input.preset !== undefined) {
      const preset = this.presets.get(input.preset)
      if (preset === undefined) throw new AppError('unknown_preset', `unknown preset "${input.preset}"; see GET /v1/scopes`)
      return { scopes: normalizeScopes(preset.scopes), preset: preset.name }
    }
    if (input.scopes === undefined || input.scopes.length === 0) {
      throw new AppError('invalid_request', 'a token needs at least one scope (scopes or preset)')
    }
    this.assertKnown(input.scopes)
    return { scopes: normalizeScopes(input.scopes), preset: null }
  }

  assertKnown(names: readonly string[]): void {
    const unknown = names.filter((s) => !this.scopes.has(s))
    if (unknown.length > 0) {
      throw new AppError('unknown_scope', `unknown scope ${unknown.map((s) => JSON.stringify(s)).join(', ')}; see GET /v1/scopes`)
    }
  }
}

/** Writes the built-in and configured scopes and presets (idempotent) and loads the catalogue. */
export async function loadScopeCatalogue(db: Kysely<Database>, config: Pick<Config, 'extraScopes'>): Promise<ScopeCatalogue> {
  const wanted = [
    ...BUILTIN_SCOPES.map((s) => ({ ...s, builtin: 1 })),
    ...config.extraScopes.map((s) => ({ ...s, builtin: 0 }))
  ]
  await db.transaction().execute(async (trx) => {
    const have = new Map((await trx.selectFrom('scopes').selectAll().execute()).map((s) => [s.name, s]))
    for (const s of wanted) {
      const cur = have.get(s.name)
      if (cur === undefined) await trx.insertInto('scopes').values(s).execute()
      else if (cur.description !== s.description || cur.builtin !== s.builtin) {
        await trx.updateTable('scopes').set({ description: s.description, builtin: s.builtin }).where('name', '=', s.name).execute()
      }
    }
    const presets = new Set((await trx.selectFrom('presets').select('name').execute()).map((p) => p.name))
    for (const p of BUILTIN_PRESETS) {
      const row = { name: p.name, description: p.description, scopes: JSON.stringify(p.scopes) }
      if (presets.has(p.name)) await trx.updateTable('presets').set(row).where('name', '=', p.name).execute()
      else await trx.insertInto('presets').values(row).execute()
    }
  })
  const scopes = await db.selectFrom('scopes').selectAll().orderBy('name').execute()
  const presets = await db.selectFrom('presets').selectAll().orderBy('name').execute()
  return new ScopeCatalogue(
    new Map(scopes.map((s) => [s.name, { name: s.name, description: s.description, builtin: s.builtin === 1 }])),
    new Map(presets.map((p) => [p.name, { name: p.name, description: p.description, scopes: JSON.parse(p.scopes) as string[] }]))
  )
}
