import { useState } from 'preact/hooks'
import { PasswordDialog, useId } from './dialogs.tsx'
import { absolute, plural } from './format.ts'

export interface RevokeBeforeResult {
  tokens_revoked_before: string
  revoked: number
}

/** a datetime-local value (the browser's zone, to the minute) for a moment */
function localValue(ms: number): string {
  return new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16)
}

/** a moment for people: the local date and time, and the exact UTC one */
function moment(iso: string): string {
  return `${absolute(iso)} (${iso.slice(0, 19).replace('T', ' ')} UTC)`
}

/**
 * "Revoke every token issued before a time" (the account's revoke-before watermark: POST
 * /v1/accounts/{id}/revoke-before or /v1/me/revoke-before). By default "now": the request leaves
 * `before` out and the authority takes the moment it acts, by its own clock (a browser's clock may
 * run ahead of it). Or a time in the browser's zone, to the minute. The dialog repeats the choice and
 * asks for the password. The watermark only moves forward; the result says the one in force.
 */
export function RevokeBefore(props: {
  /** whose tokens, as the dialog says it: "alice’s" or "your" */
  whose: string
  /** the account's current watermark, if known */
  watermark: string | null
  /** a sentence under the heading: what else happens (your own session ends, …) */
  note?: string
  /** sends the request: `before` is left out for now */
  revoke: (body: { before?: string; password: string }) => Promise<RevokeBeforeResult>
  onDone: (message: string) => void | Promise<void>
}) {
  const [mode, setMode] = useState<'now' | 'time'>('now')
  const [value, setValue] = useState('')
  const [error, setError] = useState('')
  /** undefined: now; a string: that ISO time */
  const [confirming, setConfirming] = useState<null | { before: string | undefined }>(null)
  const id = useId('revoke-before')
  return (
    <>
      <form
        class="panel stack"
        aria-labelledby={`${id}-title`}
        onSubmit={(e) => {
          e.preventDefault()
          if (mode === 'now') {
            setError('')
            setConfirming({ before: undefined })
            return
          }
          const input = e.currentTarget.querySelector<HTMLInputElement>('input[type="datetime-local"]')
          const before = new Date(value)
          // a half-typed time has the value '': refuse rather than guess
          if (input?.validity.badInput || value === '' || Number.isNaN(before.getTime())) {
            setError('Enter a complete date and time.')
            return
          }
          if (before.getTime() > Date.now()) {
            setError('The time must be now or in the past.')
            return
          }
          setError('')
          setConfirming({ before: before.toISOString() })
        }}
      >
        <h2 id={`${id}-title`}>Revoke tokens issued before</h2>
        <p class="muted">
          Every token issued before the moment chosen stops working for good, those not listed too, and any token
          exchanged from them.{props.note ? ` ${props.note}` : ''}
        </p>
        {props.watermark && <p class="muted">Tokens issued before {moment(props.watermark)} already stop working.</p>}
        <fieldset class="when">
          <legend class="sr-only">Issued before</legend>
          <label class="inline">
            <input type="radio" name={`${id}-mode`} checked={mode === 'now'} onChange={() => setMode('now')} />
            Now (the moment you confirm)
          </label>
          <label class="inline">
            <input
              type="radio"
              name={`${id}-mode`}
              checked={mode === 'time'}
              onChange={() => {
                setMode('time')
                if (value === '') setValue(localValue(Date.now()))
              }}
            />
            A time
          </label>
        </fieldset>
        {mode === 'time' && (
          <>
            <label for={id}>Issued before (your local time)</label>
            <input
              id={id}
              type="datetime-local"
              required
              max={localValue(Date.now() + 60_000)}
              aria-invalid={error !== '' ? 'true' : undefined}
              aria-describedby={error !== '' ? `${id}-error` : undefined}
              value={value}
              onInput={(e) => {
                setValue(e.currentTarget.value)
                setError('')
              }}
            />
          </>
        )}
        {error && (
          <p class="error" role="alert" id={`${id}-error`}>
            {error}
          </p>
        )}
        <button type="submit" class="danger">
          Revoke tokens issued before…
        </button>
      </form>
      {confirming && (
        <PasswordDialog
          title="Revoke tokens issued before"
          explanation={
            <p>
              Every one of {props.whose} tokens issued before{' '}
              {confirming.before === undefined ? 'now (the moment you confirm)' : moment(confirming.before)} stops
              working at once and for good, including any not listed and any token exchanged from them.
              {props.note ? ` ${props.note}` : ''}
            </p>
          }
          confirmLabel="Revoke"
          danger
          onClose={() => setConfirming(null)}
          action={async (password) => {
            const { before } = confirming
            const res = await props.revoke(before === undefined ? { password } : { before, password })
            setConfirming(null)
            await props.onDone(
              `Revoked ${plural(res.revoked, 'token')}; every token issued before ${moment(res.tokens_revoked_before)} stops working.`
            )
          }}
        />
      )}
    </>
  )
}
