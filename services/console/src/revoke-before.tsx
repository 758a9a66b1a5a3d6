import { useState } from 'preact/hooks'
import { ErrorText, PasswordDialog, useId } from './dialogs.tsx'
import { absolute, plural } from './format.ts'

export interface RevokeBeforeResult {
  tokens_revoked_before: string
  revoked: number
}

/** the browser's local time now, to the minute (so: not in the future), as a datetime-local value */
function localMinuteNow(): string {
  const d = new Date()
  d.setSeconds(0, 0)
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16)
}

/**
 * "Revoke every token issued before a time" (the account's revoke-before watermark: POST
 * /v1/accounts/{id}/revoke-before or /v1/me/revoke-before). The time is the browser's local time,
 * now to the minute by default; the dialog repeats it and asks for the password. The watermark only
 * moves forward, so a time before the current one changes nothing.
 */
export function RevokeBefore(props: {
  /** whose tokens, as the dialog says it: "alice's" or "your" */
  whose: string
  /** the account's current watermark, if any */
  watermark: string | null
  /** a sentence under the heading: what else happens (your own session ends, …) */
  note?: string
  revoke: (before: string, password: string) => Promise<RevokeBeforeResult>
  onDone: (message: string) => void | Promise<void>
}) {
  const [value, setValue] = useState(localMinuteNow)
  const [error, setError] = useState('')
  const [confirming, setConfirming] = useState<null | string>(null)
  const id = useId('revoke-before')
  return (
    <>
      <form
        class="panel stack"
        onSubmit={(e) => {
          e.preventDefault()
          const input = e.currentTarget.querySelector<HTMLInputElement>('input[type="datetime-local"]')
          // a half-typed time has the value '': refuse rather than guess
          if (input?.validity.badInput || value === '') {
            setError('Enter a complete date and time.')
            return
          }
          const before = new Date(value)
          if (Number.isNaN(before.getTime())) {
            setError('Enter a complete date and time.')
            return
          }
          if (before.getTime() > Date.now()) {
            setError('The time must be now or in the past.')
            return
          }
          setError('')
          setConfirming(before.toISOString())
        }}
      >
        <h2>Revoke tokens issued before</h2>
        <p class="muted">
          Every token issued before the time given stops working for good, those not listed too.
          {props.note ? ` ${props.note}` : ''}
        </p>
        {props.watermark && (
          <p class="muted" data-testid="revoke-before-watermark">
            Tokens issued before {absolute(props.watermark)} already stop working.
          </p>
        )}
        <label for={id}>Issued before (your local time)</label>
        <input
          id={id}
          type="datetime-local"
          required
          value={value}
          onInput={(e) => {
            setValue(e.currentTarget.value)
            setError('')
          }}
        />
        <ErrorText error={error} />
        <button type="submit" class="danger">
          Revoke issued before…
        </button>
      </form>
      {confirming && (
        <PasswordDialog
          title="Revoke tokens issued before"
          explanation={
            <p>
              Every one of {props.whose} tokens issued before {absolute(confirming)} stops working at once and for good,
              including any not listed.
            </p>
          }
          confirmLabel="Revoke"
          danger
          onClose={() => setConfirming(null)}
          action={async (password) => {
            const res = await props.revoke(confirming, password)
            setConfirming(null)
            await props.onDone(
              `Revoked ${plural(res.revoked, 'token')}; every token issued before ${absolute(res.tokens_revoked_before)} stops working.`
            )
          }}
        />
      )}
    </>
  )
}
