import { useRef, useState } from 'preact/hooks'
import { api, call } from './api.ts'
import { ErrorText, PasswordDialog, useId } from './dialogs.tsx'
import { messageOf } from './errors.ts'
import { plural } from './format.ts'

type Kind = 'pat' | 'lgn' | 'svc' | 'xch'
const KINDS: { value: Kind; label: string }[] = [
  { value: 'pat', label: 'personal access tokens' },
  { value: 'lgn', label: 'sign-in sessions' },
  { value: 'svc', label: 'service tokens' },
  { value: 'xch', label: 'exchanged tokens' }
]

interface Form {
  kind: '' | Kind
  scope: string
  namePrefix: string
  createdAfter: string
  createdBefore: string
  lastUsedBefore: string
  includeNeverUsed: boolean
}
const EMPTY: Form = {
  kind: '',
  scope: '',
  namePrefix: '',
  createdAfter: '',
  createdBefore: '',
  lastUsedBefore: '',
  includeNeverUsed: false
}

/** a date input's yyyy-mm-dd as the start of that day, UTC (what the hint under the fields says) */
const day = (ymd: string) => `${ymd}T00:00:00Z`

type Selector = ReturnType<typeof selectorOf>

/** the criteria in words, as the dialog repeats them */
function describe(s: Selector): string {
  const parts = [
    s.kind && `kind ${s.kind}`,
    s.scope && `holding ${s.scope}`,
    s.name_prefix !== undefined && `name starting with “${s.name_prefix}”`,
    s.created_after && `created after ${s.created_after}`,
    s.created_before && `created before ${s.created_before}`,
    s.last_used_before && `last used before ${s.last_used_before}${s.include_never_used ? ' or never' : ''}`
  ]
  return parts.filter(Boolean).join(', ')
}

function selectorOf(f: Form) {
  return {
    ...(f.kind ? { kind: f.kind } : {}),
    ...(f.scope ? { scope: f.scope } : {}),
    ...(f.namePrefix ? { name_prefix: f.namePrefix } : {}),
    ...(f.createdAfter ? { created_after: day(f.createdAfter) } : {}),
    ...(f.createdBefore ? { created_before: day(f.createdBefore) } : {}),
    ...(f.lastUsedBefore ? { last_used_before: day(f.lastUsedBefore) } : {}),
    ...(f.lastUsedBefore && f.includeNeverUsed ? { include_never_used: true } : {})
  }
}

/**
 * Revoke every live token matching a selector (POST /v1/admin/tokens/revoke-matching), for
 * holders of accounts:write: a preview (the API's dry run) first, then the revoke behind the
 * password. The preview belongs to the criteria it was made for: any change asks for a new one.
 */
export function RevokeMatching(props: { scopes: { name: string }[] }) {
  const [form, setForm] = useState<Form>(EMPTY)
  // the preview keeps the criteria it was made for: the revoke sends exactly those
  const [preview, setPreview] = useState<null | { selector: Selector; matched: number; more: boolean }>(null)
  const [error, setError] = useState('')
  const [message, setMessage] = useState('')
  const [busy, setBusy] = useState(false)
  const [confirming, setConfirming] = useState(false)
  const id = useId('selector')
  /** bumped by every change of the criteria: an answer to older criteria is dropped */
  const version = useRef(0)
  const set = <K extends keyof Form>(key: K, value: Form[K]) => {
    version.current++
    setForm((f) => ({ ...f, [key]: value, ...(key === 'lastUsedBefore' && !value ? { includeNeverUsed: false } : {}) }))
    setPreview(null)
    setMessage('')
    setError('')
  }
  const selector = selectorOf(form)
  const empty = Object.keys(selector).length === 0

  const runPreview = async (formElement: HTMLFormElement) => {
    // a half-typed date has the value '' and would silently drop its criterion: refuse instead
    const unfinished = [...formElement.querySelectorAll<HTMLInputElement>('input[type="date"]')].some(
      (d) => d.validity.badInput
    )
    if (unfinished) {
      setError('Finish or clear the date: a half-typed date would widen the match.')
      return
    }
    if (form.createdAfter && form.createdBefore && form.createdAfter >= form.createdBefore) {
      setError('“Created after” must be earlier than “Created before”.')
      return
    }
    const asked = version.current
    const sent = selector
    setBusy(true)
    setError('')
    setMessage('')
    try {
      const res = await call(api.POST('/v1/admin/tokens/revoke-matching', { body: { selector: sent, dry_run: true } }))
      if (asked === version.current)
        setPreview({ selector: sent, matched: res.matched, more: res.next_cursor !== null })
    } catch (e) {
      if (asked === version.current) setError(messageOf(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <details class="revoke-matching">
      <summary>Revoke tokens matching criteria</summary>
      <p class="muted" id={`${id}-hint`}>
        Every live token of every account you may act on that meets all the criteria given. Dates are the start of that
        day, UTC.
      </p>
      <form
        class="selector-form"
        onSubmit={(e) => {
          e.preventDefault()
          void runPreview(e.currentTarget)
        }}
      >
        <label for={`${id}-kind`}>Token kind</label>
        <select
          id={`${id}-kind`}
          value={form.kind}
          onChange={(e) => set('kind', e.currentTarget.value as Form['kind'])}
        >
          <option value="">any</option>
          {KINDS.map((k) => (
            <option key={k.value} value={k.value}>
              {k.label}
            </option>
          ))}
        </select>
        <label for={`${id}-scope`}>Holds scope</label>
        <select id={`${id}-scope`} value={form.scope} onChange={(e) => set('scope', e.currentTarget.value)}>
          <option value="">any</option>
          {props.scopes.map((s) => (
            <option key={s.name} value={s.name}>
              {s.name}
            </option>
          ))}
        </select>
        <label for={`${id}-prefix`}>Name starts with</label>
        <input
          id={`${id}-prefix`}
          maxLength={100}
          autocomplete="off"
          value={form.namePrefix}
          onInput={(e) => set('namePrefix', e.currentTarget.value)}
        />
        <label for={`${id}-after`}>Created after</label>
        <input
          id={`${id}-after`}
          type="date"
          aria-describedby={`${id}-hint`}
          value={form.createdAfter}
          onInput={(e) => set('createdAfter', e.currentTarget.value)}
        />
        <label for={`${id}-before`}>Created before</label>
        <input
          id={`${id}-before`}
          type="date"
          aria-describedby={`${id}-hint`}
          value={form.createdBefore}
          onInput={(e) => set('createdBefore', e.currentTarget.value)}
        />
        <label for={`${id}-used`}>Last used before</label>
        <input
          id={`${id}-used`}
          type="date"
          aria-describedby={`${id}-hint`}
          value={form.lastUsedBefore}
          onInput={(e) => set('lastUsedBefore', e.currentTarget.value)}
        />
        <label class="choice">
          <input
            type="checkbox"
            checked={form.includeNeverUsed}
            disabled={!form.lastUsedBefore}
            onChange={(e) => set('includeNeverUsed', e.currentTarget.checked)}
          />{' '}
          and never-used tokens
        </label>
        <div class="actions">
          <button type="submit" disabled={busy || empty}>
            Preview
          </button>
          {preview && (
            <button type="button" class="danger" disabled={preview.matched === 0} onClick={() => setConfirming(true)}>
              Revoke {preview.more ? `the first ${plural(preview.matched, 'token')}` : plural(preview.matched, 'token')}
              …
            </button>
          )}
        </div>
      </form>
      <p class="status" role="status" aria-live="polite">
        {preview &&
          (preview.more
            ? `At least ${plural(preview.matched, 'token')} match; one call covers that many, revoking again goes on.`
            : `${plural(preview.matched, 'token')} ${preview.matched === 1 ? 'matches' : 'match'}.`)}
        {message}
      </p>
      <ErrorText error={error} />
      {confirming && preview && (
        <PasswordDialog
          title="Revoke matching tokens"
          explanation={
            <>
              <p>
                {preview.more ? `The first ${plural(preview.matched, 'token')}` : plural(preview.matched, 'token')}{' '}
                matching {describe(preview.selector)} stop working at once, including yours if they match.
              </p>
              {preview.more && <p>More match: preview and revoke again afterwards to go on.</p>}
            </>
          }
          confirmLabel="Revoke"
          danger
          onClose={() => setConfirming(false)}
          action={async (password) => {
            const res = await call(
              api.POST('/v1/admin/tokens/revoke-matching', {
                body: { selector: preview.selector, dry_run: false, password }
              })
            )
            setConfirming(false)
            setPreview(null)
            setMessage(
              `Revoked ${plural(res.revoked, 'token')}.${res.next_cursor ? ' More match: preview and revoke again to go on.' : ''}`
            )
          }}
        />
      )}
    </details>
  )
}
