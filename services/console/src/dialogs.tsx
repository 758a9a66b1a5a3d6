import type { ComponentChildren } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { messageOf } from './errors.ts'

let ids = 0
export function useId(prefix: string): string {
  const ref = useRef('')
  if (!ref.current) ref.current = `${prefix}-${++ids}`
  return ref.current
}

/**
 * A modal <dialog> opened with showModal(): the browser keeps focus inside it and makes the rest of
 * the page inert. `onCancel` runs on Escape; without it Escape does nothing (deliberate close only).
 */
export function Modal(props: { title: string; onCancel?: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId('dialog-title')
  useEffect(() => {
    const d = ref.current
    if (d && !d.open) d.showModal()
    return () => d?.close()
  }, [])
  return (
    <dialog
      ref={ref}
      class={props.wide ? 'wide' : undefined}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault()
        props.onCancel?.()
      }}
    >
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
    </dialog>
  )
}

/**
 * Every change asks for the account password. `action` gets it and does the change; an error keeps
 * the dialog open with the API's answer as a sentence (wrong password, throttling, …).
 */
export function PasswordDialog(props: {
  title: string
  explanation: ComponentChildren
  confirmLabel: string
  danger?: boolean
  action: (password: string) => Promise<void>
  onClose: () => void
}) {
  const [password, setPassword] = useState('')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const fieldId = useId('confirm-password')
  return (
    <Modal title={props.title} onCancel={busy ? undefined : props.onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault()
          setBusy(true)
          setError('')
          try {
            await props.action(password)
          } catch (err) {
            setError(messageOf(err))
            setBusy(false)
          }
        }}
      >
        <div class="explain">{props.explanation}</div>
        <label for={fieldId}>Your password</label>
        <input
          id={fieldId}
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="button" onClick={props.onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" class={props.danger ? 'danger' : 'primary'} disabled={busy || !password}>
            {busy ? 'Working…' : props.confirmLabel}
          </button>
        </div>
      </form>
    </Modal>
  )
}

export type SecretKind = 'token' | 'webhook'

/**
 * The new token value (or webhook signing secret), shown this once. It lives only in this component's props (the caller's
 * state); it is never written to storage, a URL or the console, and the caller drops it on close.
 */
export function ValueDialog(props: { name: string; value: string; kind?: SecretKind; onClose: () => void }) {
  const [status, setStatus] = useState('')
  const fieldId = useId('token-value')
  const webhook = props.kind === 'webhook'
  return (
    <Modal title={webhook ? 'Webhook signing secret' : 'Your new token'} wide>
      <p class="warning">
        Copy it now: <strong>it will not be shown again</strong>.{' '}
        {webhook
          ? 'The receiver needs it to check the Webhook-Signature of every event; anyone who has it can forge events.'
          : 'Anyone who has it can act as you within its scopes.'}
      </p>
      <label for={fieldId}>
        {webhook ? 'Signing secret for' : 'Token value for'} “{props.name}”
      </label>
      <textarea
        id={fieldId}
        class="secret"
        readOnly
        rows={3}
        value={props.value}
        spellcheck={false}
        autocomplete="off"
        onFocus={(e) => e.currentTarget.select()}
      />
      <p class="status" role="status" aria-live="polite">
        {status}
      </p>
      <div class="actions">
        <button
          type="button"
          autofocus
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(props.value)
              setStatus('Copied to the clipboard.')
            } catch {
              setStatus('The browser did not allow copying: select the value and copy it yourself.')
            }
          }}
        >
          Copy to clipboard
        </button>
        <button type="button" onClick={() => setStatus(download(props.name, props.value))}>
          Download as .txt
        </button>
        <button type="button" class="primary" onClick={props.onClose}>
          I have saved it, close
        </button>
      </div>
    </Modal>
  )
}

/** a small text file through a Blob URL that is revoked right after the click */
function download(name: string, value: string): string {
  const url = URL.createObjectURL(new Blob([`${value}\n`], { type: 'text/plain' }))
  const a = document.createElement('a')
  a.href = url
  a.download = `${name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'token'}.txt`
  document.body.append(a)
  a.click()
  a.remove()
  URL.revokeObjectURL(url)
  return 'Downloaded.'
}

export function ErrorText(props: { error: string }) {
  if (!props.error) return null
  return (
    <p class="error" role="alert">
      {props.error}
    </p>
  )
}
