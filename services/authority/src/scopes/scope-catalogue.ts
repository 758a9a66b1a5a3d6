import type { Kysely } from 'kysely'
import type { Config } from '../config.js'
import type { Database } from '../db/tables.js'
import { BUILTIN_PRESETS, BUILTIN_SCOPES, normalizeScopes } from './catalogue.js'
import { err } from '../errors.js'
import { readCatalogue, upsertCatalogue } from './scope.repository.js'

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
  resolve(input: { scopes?: readonly string[] | undefined; preset?: string | undefined }): {
    scopes: string[]
    preset: string | null
  } {
    if (input.scopes !== undefined && input.preset !== undefined) {
      throw err.invalid_request('give either scopes or preset, not both')
    }
    if (input.preset !== undefined) {
      const preset = this.presets.get(input.preset)
      if (preset === undefined) throw err.unknown_preset(`unknown preset "${input.preset}"; see GET /v1/scopes`)
      return { scopes: normalizeScopes(preset.scopes), preset: preset.name }
    }
    if (input.scopes === undefined || input.scopes.length === 0) {
      throw err.invalid_request('a token needs at least one scope (scopes or preset)')
    }
    this.assertKnown(input.scopes)
    return { scopes: normalizeScopes(input.scopes), preset: null }
  }

  assertKnown(names: readonly string[]): void {
    const unknown = names.filter((s) => !this.scopes.has(s))
    if (unknown.length > 0) {
      throw err.unknown_scope(`unknown scope ${unknown.map((s) => JSON.stringify(s)).join(', ')}; see GET /v1/scopes`)
    }
  }
}

/** Writes the built-in and configured scopes and presets (idempotent) and loads the catalogue. */
export async function loadScopeCatalogue(
  db: Kysely<Database>,
  config: Pick<Config, 'extraScopes'>
): Promise<ScopeCatalogue> {
  const wanted = [
    ...BUILTIN_SCOPES.map((s) => ({ ...s, builtin: true })),
    ...config.extraScopes.map((s) => ({ ...s, builtin: false }))
  ]
  await upsertCatalogue(db, wanted, BUILTIN_PRESETS)
  const { scopes, presets } = await readCatalogue(db)
  return new ScopeCatalogue(new Map(scopes.map((s) => [s.name, s])), new Map(presets.map((p) => [p.name, p])))
}
