import { useEffect, useState } from 'preact/hooks'
import { api, call, type Account, type Token } from './api.ts'
import { Link, useShared } from './app.tsx'
import { ErrorText, Modal, PasswordDialog, useId } from './dialogs.tsx'
import { endsSession, messageOf } from './errors.ts'
import { absolute, plural } from './format.ts'
import { TableHead, FilterSelect, ListBody, LoadMore, SearchField, usePagedList } from './lists.tsx'
import { TokenCells } from './tokens.tsx'
import { RevokeBefore } from './revoke-before.tsx'
import { RevokeMatching } from './revoke-matching.tsx'

type Kind = Account['kind']
const KINDS: readonly Kind[] = ['admin', 'customer', 'service']
const DEFAULTS: Record<Kind, (held: string[]) => string[]> = {
  admin: (held) => held,
  customer: () => ['tokens:read', 'tokens:write'],
  service: () => ['tokens:introspect']
}

export function AccountsScreen() {
  const { session, catalogue } = useShared()
  const [kind, setKind] = useState<'' | Kind>('')
  const [search, setSearch] = useState('')
  const [creating, setCreating] = useState(false)
  const [message, setMessage] = useState('')
  const list = usePagedList(
    (cursor) => call(api.GET('/v1/accounts', { params: { query: { limit: 200, ...(kind ? { kind } : {}), cursor } } })),
    [kind]
  )
  const q = search.trim().toLowerCase()
  const shown = (list.items ?? []).filter((a) => !q || a.username.toLowerCase().includes(q))
  const mayWrite = session.account.permissions.includes('accounts:write')
  return (
    <section>
      <div class="heading">
        <h1>Accounts</h1>
        {mayWrite && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Create account
          </button>
        )}
      </div>
      <div class="toolbar">
        <FilterSelect label="Kind" idPrefix="account-kind-filter" value={kind} options={KINDS} onChange={setKind} />
        <SearchField label="Search by username" idPrefix="account-search" value={search} onInput={setSearch} />
        <button type="button" onClick={() => list.load()} disabled={list.loading}>
          Refresh
        </button>
      </div>
      <p class="status" role="status" aria-live="polite">
        {message}
      </p>
      <ErrorText error={list.error} />
      <ListBody list={list} empty={shown.length === 0 && 'No account matches.'}>
        <table class="accounts">
          <caption class="sr-only">Accounts</caption>
          <TableHead columns={['Username', 'Kind', 'Permissions', 'Created', 'Status']} />
          <tbody>
            {shown.map((a) => (
              <tr key={a.id}>
                <th scope="row">
                  <Link to={`accounts/${a.id}`}>{a.username}</Link>
                </th>
                <td data-label="Kind">{a.kind}</td>
                <td data-label="Permissions">{a.permissions.join(', ') || 'none'}</td>
                <td data-label="Created">{absolute(a.created_at)}</td>
                <td data-label="Status">
                  <span class={`badge ${a.disabled ? 'revoked' : 'active'}`}>
                    {a.disabled ? 'disabled' : 'enabled'}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ListBody>
      <LoadMore list={list} />
      {mayWrite && catalogue && <RevokeMatching scopes={catalogue.scopes} />}
      {creating && catalogue && (
        <CreateAccount
          held={session.account.permissions}
          scopes={catalogue.scopes}
          onClose={() => setCreating(false)}
          onCreated={(a) => {
            setCreating(false)
            setMessage(`Account “${a.username}” created.`)
            void list.load()
          }}
        />
      )}
    </section>
  )
}

function CreateAccount(props: {
  held: string[]
  scopes: { name: string; description: string }[]
  onClose: () => void
  onCreated: (a: Account) => void
}) {
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [kind, setKind] = useState<Kind>('customer')
  const [permissions, setPermissions] = useState<string[]>(DEFAULTS.customer(props.held))
  const [confirming, setConfirming] = useState(false)
  const offered = props.scopes.filter((s) => props.held.includes(s.name))
  if (confirming)
    return (
      <PasswordDialog
        title="Confirm: create account"
        explanation={
          <p>
            Create the {kind} account “{username}”.
          </p>
        }
        confirmLabel="Create account"
        onClose={() => setConfirming(false)}
        action={async (current) => {
          const a = await call(
            api.POST('/v1/accounts', { body: { username, password, kind, permissions, current_password: current } })
          )
          props.onCreated(a)
        }}
      />
    )
  const usernameId = useId('new-username')
  const passwordId = useId('new-account-password')
  const kindId = useId('new-kind')
  return (
    <Modal title="Create account" onCancel={props.onClose} wide>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault()
          setConfirming(true)
        }}
      >
        <label for={usernameId}>Username</label>
        <input
          id={usernameId}
          required
          maxLength={128}
          pattern="[A-Za-z0-9][A-Za-z0-9._@\-]*"
          autocomplete="off"
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <label for={passwordId}>Initial password</label>
        <input
          id={passwordId}
          type="password"
          required
          minLength={12}
          autocomplete="new-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <label for={kindId}>Kind</label>
        <select
          id={kindId}
          value={kind}
          onChange={(e) => {
            const k = e.currentTarget.value as Kind
            setKind(k)
            setPermissions(DEFAULTS[k](props.held).filter((p) => props.held.includes(p)))
          }}
        >
          <option value="customer">customer</option>
          <option value="admin">admin</option>
          <option value="service">service</option>
        </select>
        <PermissionList offered={offered} value={permissions} onChange={setPermissions} />
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Create…
          </button>
        </div>
      </form>
    </Modal>
  )
}

function PermissionList(props: {
  offered: { name: string; description: string }[]
  value: string[]
  onChange: (v: string[]) => void
}) {
  const set = new Set(props.value)
  return (
    <fieldset class="scopes">
      <legend>Permissions</legend>
      <ul class="choices">
        {props.offered.map((s) => (
          <li key={s.name}>
            <label class="choice">
              <input
                type="checkbox"
                checked={set.has(s.name)}
                onChange={(e) => {
                  const next = new Set(set)
                  if (e.currentTarget.checked) next.add(s.name)
                  else next.delete(s.name)
                  props.onChange(props.offered.map((o) => o.name).filter((n) => next.has(n)))
                }}
              />
              <span>
                <code>{s.name}</code> — {s.description}
              </span>
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  )
}

type AccountDialog =
  | { kind: 'toggle' }
  | { kind: 'reset' }
  | { kind: 'revoke-one'; token: Token }
  | { kind: 'revoke-all' }
  | null

export function AccountScreen(props: { id: string }) {
  const { session } = useShared()
  const [account, setAccount] = useState<Account | null>(null)
  const [error, setError] = useState('')
  const [message, setMessage] = useState('')
  const [dialog, setDialog] = useState<AccountDialog>(null)
  const [newPassword, setNewPassword] = useState('')
  const [revokeTokens, setRevokeTokens] = useState(false)
  const resetId = useId('reset-password')
  const list = usePagedList(
    (cursor) =>
      call(api.GET('/v1/accounts/{id}/tokens', { params: { path: { id: props.id }, query: { limit: 200, cursor } } })),
    [props.id]
  )
  const loadAccount = () =>
    call(api.GET('/v1/accounts/{id}', { params: { path: { id: props.id } } }))
      .then(setAccount)
      .catch((e) => {
        if (!endsSession(e)) setError(messageOf(e))
      })
  useEffect(() => {
    void loadAccount()
  }, [props.id])
  const mayWrite = session.account.permissions.includes('accounts:write')
  const patch = async (body: { disabled?: boolean; password?: string; revoke_tokens?: boolean }, current: string) => {
    const a = await call(
      api.PATCH('/v1/accounts/{id}', {
        params: { path: { id: props.id } },
        body: { ...body, current_password: current }
      })
    )
    setAccount(a)
  }
  if (error)
    return (
      <section>
        <h1>Account</h1>
        <ErrorText error={error} />
        <Link to="accounts">Back to accounts</Link>
      </section>
    )
  if (!account) return <p class="muted">Loading…</p>
  const live = (list.items ?? []).filter((t) => t.state === 'active')
  const tokens = (list.items ?? []).filter((t) => t.kind !== 'lgn')
  const sessions = (list.items ?? []).filter((t) => t.kind === 'lgn')
  return (
    <section>
      <p>
        <Link to="accounts">← Accounts</Link>
      </p>
      <div class="heading">
        <h1>{account.username}</h1>
        <span class={`badge ${account.disabled ? 'revoked' : 'active'}`}>
          {account.disabled ? 'disabled' : 'enabled'}
        </span>
      </div>
      <dl class="facts">
        <dt>Kind</dt>
        <dd>{account.kind}</dd>
        <dt>Permissions</dt>
        <dd>{account.permissions.join(', ') || 'none'}</dd>
        <dt>Created</dt>
        <dd>{absolute(account.created_at)}</dd>
        {account.tokens_revoked_before && (
          <>
            <dt>Tokens revoked before</dt>
            <dd>{absolute(account.tokens_revoked_before)}</dd>
          </>
        )}
      </dl>
      <p class="status" role="status" aria-live="polite">
        {message}
      </p>
      {mayWrite && (
        <div class="panels">
          <div class="panel">
            <h2>{account.disabled ? 'Enable' : 'Disable'}</h2>
            <p class="muted">
              {account.disabled
                ? 'The account can sign in again; its old tokens stay revoked.'
                : 'The account can no longer sign in and every token it has stops working for good.'}
            </p>
            <button
              type="button"
              class={account.disabled ? undefined : 'danger'}
              onClick={() => setDialog({ kind: 'toggle' })}
            >
              {account.disabled ? 'Enable account' : 'Disable account'}
            </button>
          </div>
          <form
            class="panel stack"
            onSubmit={(e) => {
              e.preventDefault()
              setDialog({ kind: 'reset' })
            }}
          >
            <h2>Reset password</h2>
            <label for={resetId}>New password</label>
            <input
              id={resetId}
              type="password"
              required
              minLength={12}
              autocomplete="new-password"
              value={newPassword}
              onInput={(e) => setNewPassword(e.currentTarget.value)}
            />
            <label class="inline">
              <input
                type="checkbox"
                checked={revokeTokens}
                onChange={(e) => setRevokeTokens(e.currentTarget.checked)}
              />
              Also revoke its personal access and service tokens
            </label>
            <button type="submit">Reset password…</button>
          </form>
          <RevokeBefore
            whose={`${account.username}’s`}
            watermark={account.tokens_revoked_before}
            {...(account.id === session.account.id
              ? { note: 'This is your own account: your sign-in session here ends too if it is older.' }
              : {})}
            revoke={(body) =>
              call(api.POST('/v1/accounts/{id}/revoke-before', { params: { path: { id: account.id } }, body }))
            }
            onDone={async (done) => {
              setMessage(done)
              await Promise.all([loadAccount(), list.load()])
            }}
          />
        </div>
      )}
      <div class="heading">
        <h2>Tokens</h2>
        <button type="button" onClick={() => list.load()}>
          Refresh
        </button>
        {mayWrite && (
          <button
            type="button"
            class="danger"
            disabled={live.length === 0 && !list.next}
            onClick={() => setDialog({ kind: 'revoke-all' })}
          >
            Revoke all ({live.length}
            {list.next ? '+' : ''})
          </button>
        )}
      </div>
      <ErrorText error={list.error} />
      {list.items && list.items.length === 0 && <p class="empty">This account has no tokens.</p>}
      {tokens.length > 0 && (
        <AccountTokens
          caption={`Tokens of ${account.username}`}
          tokens={tokens}
          mayWrite={mayWrite}
          onRevoke={(token) => setDialog({ kind: 'revoke-one', token })}
        />
      )}
      {sessions.length > 0 && (
        <details class="sessions">
          <summary>Sign-in sessions ({sessions.length})</summary>
          <AccountTokens
            caption={`Sign-in sessions of ${account.username}`}
            tokens={sessions}
            mayWrite={mayWrite}
            onRevoke={(token) => setDialog({ kind: 'revoke-one', token })}
          />
        </details>
      )}
      <LoadMore list={list} />
      {dialog?.kind === 'toggle' && (
        <PasswordDialog
          title={account.disabled ? 'Enable account' : 'Disable account'}
          explanation={
            <p>
              {account.disabled
                ? `Enable “${account.username}”.`
                : `Disable “${account.username}”: all its tokens stop working.`}
            </p>
          }
          confirmLabel={account.disabled ? 'Enable' : 'Disable'}
          danger={!account.disabled}
          onClose={() => setDialog(null)}
          action={async (current) => {
            await patch({ disabled: !account.disabled }, current)
            setDialog(null)
            setMessage(account.disabled ? 'Account enabled.' : 'Account disabled.')
            await list.load()
          }}
        />
      )}
      {dialog?.kind === 'reset' && (
        <PasswordDialog
          title="Reset password"
          explanation={
            <p>
              Set a new password for “{account.username}”. Its sign-in sessions end
              {revokeTokens ? ', and its tokens are revoked' : ''}.
            </p>
          }
          confirmLabel="Reset password"
          onClose={() => setDialog(null)}
          action={async (current) => {
            await patch({ password: newPassword, revoke_tokens: revokeTokens }, current)
            setDialog(null)
            setNewPassword('')
            setMessage('Password reset.')
            await list.load()
          }}
        />
      )}
      {dialog?.kind === 'revoke-one' && (
        <PasswordDialog
          title="Revoke token"
          explanation={
            <p>
              “{dialog.token.name}” of {account.username} stops working at once.
            </p>
          }
          confirmLabel="Revoke"
          danger
          onClose={() => setDialog(null)}
          action={async (current) => {
            await call(
              api.DELETE('/v1/accounts/{id}/tokens/{tokenId}', {
                params: { path: { id: account.id, tokenId: dialog.token.id } },
                body: { password: current }
              })
            )
            setDialog(null)
            setMessage('Token revoked.')
            await list.load()
          }}
        />
      )}
      {dialog?.kind === 'revoke-all' && (
        <PasswordDialog
          title="Revoke all tokens"
          explanation={
            <p>
              Every live token of {account.username} ({plural(live.length, 'token')}
              {list.next ? ' listed, and those not loaded yet' : ''}) stops working at once.
            </p>
          }
          confirmLabel="Revoke all"
          danger
          onClose={() => setDialog(null)}
          action={async (current) => {
            const res = await call(
              api.DELETE('/v1/accounts/{id}/tokens', {
                params: { path: { id: account.id } },
                body: { password: current }
              })
            )
            setDialog(null)
            setMessage(`Revoked ${plural(res.revoked.length, 'token')}.`)
            await list.load()
          }}
        />
      )}
    </section>
  )
}

function AccountTokens(props: { caption: string; tokens: Token[]; mayWrite: boolean; onRevoke: (t: Token) => void }) {
  return (
    <div class="table-wrap">
      <table class="tokens">
        <caption class="sr-only">{props.caption}</caption>
        <TableHead columns={['Name', 'Kind', 'Scopes', 'Created', 'Expires', 'Last used', 'State', 'Actions']} />
        <tbody>
          {props.tokens.map((t) => (
            <tr key={t.id}>
              <th scope="row" class="name">
                <span class="token-name">{t.kind === 'lgn' ? 'sign-in session' : t.name}</span>
                {t.description && <small class="token-description">{t.description}</small>}
              </th>
              <td data-label="Kind">{KIND_NAMES[t.kind]}</td>
              <TokenCells token={t} />
              <td class="row-actions">
                {props.mayWrite && t.state === 'active' && (
                  <button type="button" class="small danger" onClick={() => props.onRevoke(t)}>
                    Revoke<span class="sr-only"> {t.name}</span>
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

const KIND_NAMES: Record<Token['kind'], string> = { pat: 'personal', lgn: 'sign-in', svc: 'service', xch: 'exchanged' }
