import { useState } from 'preact/hooks'
import { session as sessionApi, type Realm, type Session } from './api.ts'
import { ErrorText } from './dialogs.tsx'
import { messageOf } from './errors.ts'

export function SignIn(props: { notice: string; onSignedIn: (s: Session) => void }) {
  const [realm, setRealm] = useState<Realm>('customer')
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  return (
    <main id="main" class="signin">
      <h1>Token console</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault()
          setBusy(true)
          setError('')
          try {
            const s = await sessionApi.signIn(realm, username, password)
            setPassword('')
            props.onSignedIn(s)
          } catch (err) {
            setError(messageOf(err))
            setBusy(false)
          }
        }}
      >
        {props.notice && (
          <p class="notice" role="status">
            {props.notice}
          </p>
        )}
        <fieldset>
          <legend>Sign in as</legend>
          <label class="inline">
            <input type="radio" name="realm" checked={realm === 'customer'} onChange={() => setRealm('customer')} />
            Customer
          </label>
          <label class="inline">
            <input type="radio" name="realm" checked={realm === 'admin'} onChange={() => setRealm('admin')} />
            Administrator
          </label>
        </fieldset>
        <label for="username">Username</label>
        <input
          id="username"
          autocomplete="username"
          required
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <label for="password">Password</label>
        <input
          id="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <ErrorText error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}
