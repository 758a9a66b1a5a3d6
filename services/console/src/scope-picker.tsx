import { useState } from 'preact/hooks'
import type { ScopeCatalogue } from './api.ts'
import { useId } from './dialogs.tsx'

export type ScopeChoice = { mode: 'preset'; preset: string } | { mode: 'custom'; scopes: string[] }

/**
 * Scopes from a preset or a custom checklist of the catalogue (each with its description), with a
 * search field and an "only checked" filter. Only `offered` scopes appear: what the account holds
 * (generate) or what the token has (edit: narrower only).
 */
export function ScopePicker(props: {
  catalogue: ScopeCatalogue
  offered: readonly string[]
  value: ScopeChoice
  onChange: (v: ScopeChoice) => void
  allowPresets: boolean
}) {
  const [search, setSearch] = useState('')
  const [onlyChecked, setOnlyChecked] = useState(false)
  const searchId = useId('scope-search')
  const held = new Set(props.offered)
  const presets = props.allowPresets ? props.catalogue.presets.filter((p) => p.scopes.every((s) => held.has(s))) : []
  const scopes = props.catalogue.scopes.filter((s) => held.has(s.name))
  const checked = new Set(props.value.mode === 'custom' ? props.value.scopes : [])
  const q = search.trim().toLowerCase()
  const shown = scopes.filter(
    (s) =>
      (!onlyChecked || checked.has(s.name)) &&
      (!q || s.name.toLowerCase().includes(q) || s.description.toLowerCase().includes(q))
  )
  const toggle = (name: string, on: boolean) => {
    const next = new Set(checked)
    if (on) next.add(name)
    else next.delete(name)
    props.onChange({ mode: 'custom', scopes: scopes.map((s) => s.name).filter((n) => next.has(n)) })
  }
  return (
    <fieldset class="scopes">
      <legend>Scopes</legend>
      {presets.length > 0 && (
        <div class="mode" role="radiogroup" aria-label="How to choose scopes">
          <label class="inline">
            <input
              type="radio"
              name="scope-mode"
              checked={props.value.mode === 'preset'}
              onChange={() => props.onChange({ mode: 'preset', preset: presets[0]!.name })}
            />
            A preset
          </label>
          <label class="inline">
            <input
              type="radio"
              name="scope-mode"
              checked={props.value.mode === 'custom'}
              onChange={() => props.onChange({ mode: 'custom', scopes: [] })}
            />
            Custom scopes
          </label>
        </div>
      )}
      {props.value.mode === 'preset' ? (
        <ul class="choices">
          {presets.map((p) => (
            <li key={p.name}>
              <label class="choice">
                <input
                  type="radio"
                  name="preset"
                  value={p.name}
                  checked={props.value.mode === 'preset' && props.value.preset === p.name}
                  onChange={() => props.onChange({ mode: 'preset', preset: p.name })}
                />
                <span>
                  <strong>{p.name}</strong> — {p.description}
                  <small>{p.scopes.join(', ')}</small>
                </span>
              </label>
            </li>
          ))}
        </ul>
      ) : (
        <>
          <div class="filters">
            <label for={searchId}>Search scopes</label>
            <input
              id={searchId}
              type="search"
              value={search}
              onInput={(e) => setSearch(e.currentTarget.value)}
              placeholder="name or description"
            />
            <label class="inline">
              <input type="checkbox" checked={onlyChecked} onChange={(e) => setOnlyChecked(e.currentTarget.checked)} />
              Only checked
            </label>
          </div>
          <ul class="choices">
            {shown.map((s) => (
              <li key={s.name}>
                <label class="choice">
                  <input
                    type="checkbox"
                    name="scope"
                    value={s.name}
                    checked={checked.has(s.name)}
                    onChange={(e) => toggle(s.name, e.currentTarget.checked)}
                  />
                  <span>
                    <code>{s.name}</code> — {s.description}
                  </span>
                </label>
              </li>
            ))}
            {shown.length === 0 && <li class="muted">No scope matches.</li>}
          </ul>
          <p class="muted">{checked.size} checked</p>
        </>
      )}
    </fieldset>
  )
}

export function chosenScopes(catalogue: ScopeCatalogue, v: ScopeChoice): string[] {
  if (v.mode === 'custom') return v.scopes
  return catalogue.presets.find((p) => p.name === v.preset)?.scopes ?? []
}
