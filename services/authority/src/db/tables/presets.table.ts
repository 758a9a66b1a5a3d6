/** Storage shape: unix ms in BIGINT columns, lists as JSON text (one meaning on MySQL and SQLite). */
import type { Selectable } from 'kysely'

export interface PresetsTable {
  name: string
  description: string
  scopes: string
}

export type PresetRow = Selectable<PresetsTable>
