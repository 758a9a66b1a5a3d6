import { useEffect, useState } from 'preact/hooks'
import { api, call, type Token } from './api.ts'
import { Link, useShared } from './app.tsx'
import { ErrorText, PasswordDialog, useId } from './dialogs.tsx'
import { ApiError, endsSession, messageOf } from './errors.ts'
import { dateInputValue, endOfDay, type ExpiryChoice, expiryOptions } from './expiry.ts'
import { absolute, daysAhead, duration, isSuperseded } from './format.ts'
import { chosenScopes, ScopePicker, type ScopeChoice } from './scope-picker.tsx'
import { Expiry, LastUsed, StateBadge, StateReason } from './tokens.tsx'

function NameFields(props: {
  name: string
  description: string
  onName: (v: string) => void
  onDescription: (v: string) => void
}) {
  const nameId = useId('token-name')
  const descId = useId('token-description')
  return (
    <>
      <label for={nameId}>Name</label>
      <input
        id={nameId}
        required
        maxLength={100}
        value={props.name}
        onInput={(e) => props.onName(e.currentTarget.value)}
        aria-describedby={`${nameId}-hint`}
      />
      <small id={`${nameId}-hint`} class="hint">
        What the token is for, e.g. “CI deploys”.
      </small>
      <label for={descId}>Description (optional)</label>
      <input
        id={descId}
        maxLength={500}
        value={props.description}
        onInput={(e) => props.onDescription(e.currentTarget.value)}
      />
    </>
  )
}

export function GenerateScreen() {
  const { catalogue, session, navigate, reveal } = useShared()
  const [name, setName] = useState('')
  const [description, setDescription] = useState('')
  const options = expiryOptions(catalogue?.lifetime.max_days ?? null)
  const [expiry, setExpiry] = useState<ExpiryChoice | null>(null)
  const [customDate, setCustomDate] = useState('')
  const [scopes, setScopes] = useState<ScopeChoice>({ mode: 'custom', scopes: [] })
  const [error, setError] = useState('')
  const [confirming, setConfirming] = useState(false)
  const expiryId = useId('expiry')
  const dateId = useId('expiry-date')
  const held = session.account.permissions
  // a preset by default when one fits the account
  useEffect(() => {
    const preset = catalogue?.presets.find((p) => p.scopes.every((s) => held.includes(s)))
    if (preset) setScopes({ mode: 'preset', preset: preset.name })
  }, [catalogue])
  if (!catalogue) return <p class="muted">Loading the scope catalogue…</p>

  const chosen = expiry ?? options.initial
  const expiresAt =
    chosen === 'never'
      ? null
      : chosen === 'custom'
        ? customDate
          ? endOfDay(customDate)
          : ''
        : daysAhead(Number(chosen))
  const tomorrow = dateInputValue(new Date(Date.now() + 86_400_000))
  return (
    <section>
      <h1>Generate a new token</h1>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault()
          setError('')
          if (chosenScopes(catalogue, scopes).length === 0) return setError('Choose at least one scope.')
          if (expiresAt === '') return setError('Pick the day the token expires.')
          setConfirming(true)
        }}
      >
        <NameFields name={name} description={description} onName={setName} onDescription={setDescription} />
        <label for={expiryId}>Expires</label>
        <select
          id={expiryId}
          value={chosen}
          onChange={(e) => setExpiry(e.currentTarget.value as ExpiryChoice)}
          aria-describedby={`${expiryId}-hint`}
        >
          {options.presets.map((d) => (
            <option key={d} value={String(d)}>
              in {d} days
            </option>
          ))}
          <option value="custom">on a date…</option>
          {options.never && <option value="never">never</option>}
        </select>
        {chosen === 'custom' && (
          <>
            <label for={dateId}>Expiry date</label>
            <input
              id={dateId}
              type="date"
              required
              min={tomorrow}
              max={options.lastDay}
              value={customDate}
              onInput={(e) => setCustomDate(e.currentTarget.value)}
            />
          </>
        )}
        <small id={`${expiryId}-hint`} class="hint">
          {expiresAt ? `Expires ${absolute(expiresAt)}.` : expiresAt === null ? 'Never expires.' : ''}
          {catalogue.lifetime.max_days !== null && ` Tokens here last at most ${catalogue.lifetime.max_days} days.`}
        </small>
        <ScopePicker catalogue={catalogue} offered={held} value={scopes} onChange={setScopes} allowPresets />
        <ErrorText error={error} />
        <div class="actions">
          <Link to="" class="button">
            Cancel
          </Link>
          <button type="submit" class="primary">
            Generate token
          </button>
        </div>
      </form>
      {confirming && (
        <PasswordDialog
          title="Confirm: generate token"
          explanation={<p>Generate “{name}”.</p>}
          confirmLabel="Generate"
          onClose={() => setConfirming(false)}
          action={async (password) => {
            const body = {
              name,
              description,
              expires_at: expiresAt,
              password,
              ...(scopes.mode === 'preset' ? { preset: scopes.preset } : { scopes: scopes.scopes })
            }
            const res = await call(api.POST('/v1/tokens', { body }))
            setConfirming(false)
            reveal(res.token.name, res.access_token)
            navigate('')
          }}
        />
      )}
    </section>
  )
}

export function EditScreen(props: { id: string }) {
  const { catalogue, navigate, reveal } = useShared()
  const [token, setToken] = useState<Token | null>(null)
  const [loadError, setLoadError] = useState('')
  useEffect(() => {
    call(api.GET('/v1/tokens/{id}', { params: { path: { id: props.id } } }))
      .then(setToken)
      .catch((e) => {
        if (!endsSession(e)) setLoadError(messageOf(e))
      })
  }, [props.id])
  if (loadError)
    return (
      <section>
        <h1>Edit token</h1>
        <ErrorText error={loadError} />
        <Link to="">Back to your tokens</Link>
      </section>
    )
  if (!token || !catalogue) return <p class="muted">Loading…</p>
  return <EditForm token={token} onSaved={() => navigate('')} reveal={reveal} navigate={navigate} />
}

function EditForm(props: {
  token: Token
  onSaved: () => void
  reveal: (name: string, value: string) => void
  navigate: (to: string) => void
}) {
  const { catalogue } = useShared()
  const t = props.token
  const [name, setName] = useState(t.name)
  const [description, setDescription] = useState(t.description)
  const [scopes, setScopes] = useState<ScopeChoice>({ mode: 'custom', scopes: t.scopes ?? [] })
  const [date, setDate] = useState('')
  const [error, setError] = useState('')
  const [dialog, setDialog] = useState<'save' | 'regenerate' | null>(null)
  const dateId = useId('edit-expiry')
  if (!catalogue) return null
  const editable = t.state === 'active' && t.kind !== 'lgn' && !isSuperseded(t)
  const max = t.expires_at ? dateInputValue(new Date(t.expires_at)) : undefined
  const changes = () => {
    const body: { name?: string; description?: string; scopes?: string[]; expires_at?: string } = {}
    if (name !== t.name) body.name = name
    if (description !== t.description) body.description = description
    const picked = chosenScopes(catalogue, scopes)
    if (t.scopes && picked.slice().sort().join(' ') !== t.scopes.slice().sort().join(' ')) body.scopes = picked
    if (date) body.expires_at = endOfDay(date)
    return body
  }
  return (
    <section>
      <div class="heading">
        <h1>Edit token</h1>
        <StateBadge token={t} />
      </div>
      <p class="muted">
        Created {absolute(t.created_at)} · expires <Expiry token={t} />
      </p>
      <p class="muted last-used">
        Last used: <LastUsed token={t} />
      </p>
      <StateReason token={t} />
      {isSuperseded(t) && (
        <p class="notice" role="status">
          This token has been regenerated. Its old value keeps working
          {t.rotation_ends_at ? ` until ${absolute(t.rotation_ends_at)}` : ''} or until the new value is first used,
          whichever comes first.
        </p>
      )}
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault()
          setError('')
          if (scopes.mode === 'custom' && scopes.scopes.length === 0) return setError('Keep at least one scope.')
          if (Object.keys(changes()).length === 0) return setError('Nothing has changed.')
          setDialog('save')
        }}
      >
        <NameFields name={name} description={description} onName={setName} onDescription={setDescription} />
        <label for={dateId}>Earlier expiry (optional)</label>
        <input
          id={dateId}
          type="date"
          min={dateInputValue(new Date())}
          max={max}
          value={date}
          onInput={(e) => setDate(e.currentTarget.value)}
          aria-describedby={`${dateId}-hint`}
        />
        <small id={`${dateId}-hint`} class="hint">
          A token’s expiry can only move earlier.
        </small>
        {t.scopes && (
          <ScopePicker
            catalogue={catalogue}
            offered={t.scopes}
            value={scopes}
            onChange={setScopes}
            allowPresets={false}
          />
        )}
        <p class="hint">Scopes can only be narrowed: uncheck the ones this token no longer needs.</p>
        <ErrorText error={error} />
        <div class="actions">
          <Link to="" class="button">
            Cancel
          </Link>
          <button type="button" onClick={() => setDialog('regenerate')} disabled={!editable}>
            Regenerate…
          </button>
          <button type="submit" class="primary" disabled={!editable}>
            Save changes
          </button>
        </div>
      </form>
      {dialog === 'save' && (
        <PasswordDialog
          title="Confirm: save changes"
          explanation={<p>Save your changes to “{t.name}”.</p>}
          confirmLabel="Save"
          onClose={() => setDialog(null)}
          action={async (password) => {
            await call(
              api.PATCH('/v1/tokens/{id}', { params: { path: { id: t.id } }, body: { ...changes(), password } })
            )
            setDialog(null)
            props.onSaved()
          }}
        />
      )}
      {dialog === 'regenerate' && (
        <RegenerateDialog
          token={t}
          onClose={() => setDialog(null)}
          onDone={(name, value) => {
            setDialog(null)
            props.reveal(name, value)
            props.navigate('')
          }}
        />
      )}
    </section>
  )
}

const OVERLAPS = { none: 0, hour: 3600, day: 86_400 } as const
type OverlapChoice = keyof typeof OVERLAPS | 'custom'

/**
 * Regenerate, with an optional overlap: the old value keeps working for a while (or until the new
 * value is first used), so a deployment can switch without downtime. The server caps the overlap
 * (ROTATION_MAX_OVERLAP_SECONDS); past it the answer is overlap_too_long, shown as a sentence.
 */
function RegenerateDialog(props: { token: Token; onClose: () => void; onDone: (name: string, value: string) => void }) {
  const t = props.token
  const [overlap, setOverlap] = useState<OverlapChoice>('none')
  const [custom, setCustom] = useState('')
  const customId = useId('overlap-seconds')
  const group = useId('overlap')
  const seconds = overlap === 'custom' ? Number(custom) : OVERLAPS[overlap]
  const valid = Number.isInteger(seconds) && seconds >= 0
  return (
    <PasswordDialog
      title="Regenerate token"
      explanation={
        <>
          <p>
            “{t.name}” gets a new value with the same parameters;{' '}
            {seconds > 0 && valid ? (
              `the old one keeps working for ${duration(seconds)}, or until the new one is first used.`
            ) : (
              <strong>the old one stops working now</strong>
            )}
          </p>
          <fieldset class="overlap">
            <legend>Keep the old value working for…</legend>
            {(
              [
                ['none', 'no time: stop it now'],
                ['hour', '1 hour'],
                ['day', '24 hours'],
                ['custom', 'a number of seconds…']
              ] as const
            ).map(([value, label]) => (
              <label class="inline" key={value}>
                <input
                  type="radio"
                  name={group}
                  value={value}
                  checked={overlap === value}
                  onChange={() => setOverlap(value)}
                />
                {label}
              </label>
            ))}
            {overlap === 'custom' && (
              <>
                <label for={customId}>Seconds</label>
                <input
                  id={customId}
                  type="number"
                  inputMode="numeric"
                  min={0}
                  step={1}
                  required
                  value={custom}
                  onInput={(e) => setCustom(e.currentTarget.value)}
                  aria-describedby={`${customId}-hint`}
                />
                <small id={`${customId}-hint`} class="hint">
                  The server sets a maximum; it refuses longer overlaps.
                </small>
              </>
            )}
          </fieldset>
        </>
      }
      confirmLabel="Regenerate"
      danger
      onClose={props.onClose}
      action={async (password) => {
        if (!valid) throw new ApiError(400, 'validation_failed', 'the overlap must be a whole number of seconds')
        const res = await call(
          api.POST('/v1/tokens/{id}/regenerate', {
            params: { path: { id: t.id } },
            body: { password, ...(seconds > 0 ? { old_valid_for_seconds: seconds } : {}) }
          })
        )
        props.onDone(res.token.name, res.access_token)
      }}
    />
  )
}
