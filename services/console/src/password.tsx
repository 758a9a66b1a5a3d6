import { useState } from 'preact/hooks'
import { api, call } from './api.ts'
import { ErrorText } from './dialogs.tsx'
import { endsSession, messageOf } from './errors.ts'

/** The self-service route: needs the current password; ends the other sessions, and on request the PATs. */
export function PasswordScreen() {
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [again, setAgain] = useState('')
  const [revoke, setRevoke] = useState(false)
  const [error, setError] = useState('')
  const [done, setDone] = useState('')
  const [busy, setBusy] = useState(false)
  return (
    <section>
      <h1>Change your password</h1>
      <form
        class="stack narrow"
        onSubmit={async (e) => {
          e.preventDefault()
          setError('')
          setDone('')
          if (next !== again) return setError('The two new passwords differ.')
          setBusy(true)
          try {
            await call(
              api.POST('/v1/me/password', {
                body: { current_password: current, new_password: next, revoke_tokens: revoke }
              })
            )
            setCurrent('')
            setNext('')
            setAgain('')
            setDone(
              revoke
                ? 'Password changed. Your other sessions and all your tokens have been revoked.'
                : 'Password changed. Your other sessions have been signed out.'
            )
          } catch (err) {
            if (!endsSession(err)) setError(messageOf(err))
          } finally {
            setBusy(false)
          }
        }}
      >
        <label for="current-password">Current password</label>
        <input
          id="current-password"
          type="password"
          autocomplete="current-password"
          required
          value={current}
          onInput={(e) => setCurrent(e.currentTarget.value)}
        />
        <label for="new-password">New password</label>
        <input
          id="new-password"
          type="password"
          autocomplete="new-password"
          required
          minLength={12}
          value={next}
          onInput={(e) => setNext(e.currentTarget.value)}
          aria-describedby="new-password-hint"
        />
        <small id="new-password-hint" class="hint">
          At least 12 characters.
        </small>
        <label for="new-password-again">New password again</label>
        <input
          id="new-password-again"
          type="password"
          autocomplete="new-password"
          required
          value={again}
          onInput={(e) => setAgain(e.currentTarget.value)}
        />
        <label class="inline">
          <input type="checkbox" checked={revoke} onChange={(e) => setRevoke(e.currentTarget.checked)} />
          Also revoke all my personal access tokens
        </label>
        <ErrorText error={error} />
        {done && (
          <p class="notice" role="status">
            {done}
          </p>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Change password
          </button>
        </div>
      </form>
    </section>
  )
}
