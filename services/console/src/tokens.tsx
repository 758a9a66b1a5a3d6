import { useEffect, useRef, useState } from 'preact/hooks'
import { api, call, type Token, type TokenState } from './api.ts'
import { Link, useShared } from './app.tsx'
import { ErrorText, PasswordDialog, useId } from './dialogs.tsx'
import { endsSession, messageOf } from './errors.ts'
import {
  absolute,
  expiresSoon,
  fromNow,
  isSuperseded,
  lastUsedDetail,
  lastUsedOf,
  revokedReasonText,
  scopeSummary
} from './format.ts'

type Filter = '' | TokenState

/** Loads a token list page by page (newest first); `fetchPage` is the account's own list or an admin's view of one. */
export function useTokenList(
  fetchPage: (state: Filter, cursor: string | undefined) => Promise<{ items: Token[]; next_cursor: string | null }>,
  state: Filter
) {
  const [tokens, setTokens] = useState<Token[] | null>(null)
  const [next, setNext] = useState<string | null>(null)
  const [error, setError] = useState('')
  const [loading, setLoading] = useState(false)
  const load = async (more = false) => {
    setLoading(true)
    setError('')
    try {
      const page = await fetchPage(state, more ? (next ?? undefined) : undefined)
      setTokens((old) => (more && old ? [...old, ...page.items] : page.items))
      setNext(page.next_cursor)
    } catch (e) {
      if (!endsSession(e)) setError(messageOf(e))
    } finally {
      setLoading(false)
    }
  }
  useEffect(() => {
    void load()
  }, [state])
  return { tokens, next, error, loading, load }
}

export function StateBadge(props: { token: Token }) {
  const t = props.token
  if (isSuperseded(t))
    return (
      <span class="badge superseded">
        replaced{t.rotation_ends_at ? `, old value works until ${absolute(t.rotation_ends_at)}` : ''}
      </span>
    )
  if (expiresSoon(t) && t.expires_at) return <span class="badge soon">expires {fromNow(t.expires_at)}</span>
  return <span class={`badge ${t.state}`}>{t.state}</span>
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** the state's explanation under the badge: why it was revoked */
export function StateReason(props: { token: Token }) {
  const reason = props.token.state === 'revoked' ? revokedReasonText(props.token.revoked_reason) : null
  return reason ? <small class="state-reason">{reason}</small> : null
}

/** "2 hours ago" with the address and client underneath, or "never" */
export function LastUsed(props: { token: Token }) {
  const used = lastUsedOf(props.token)
  if (!used) return <span>never</span>
  const detail = lastUsedDetail(used)
  return (
    <span>
      <time dateTime={used.at} title={absolute(used.at)}>
        {fromNow(used.at)}
      </time>
      {detail && <small class="used-detail">{detail}</small>}
    </span>
  )
}

export function Expiry(props: { token: Token }) {
  const t = props.token
  if (t.expires_at === null) return <span>never</span>
  return (
    <span class={expiresSoon(t) ? 'soon-text' : undefined}>
      <time dateTime={t.expires_at} title={absolute(t.expires_at)}>
        {fromNow(t.expires_at)}
      </time>
      <small>{absolute(t.expires_at)}</small>
    </span>
  )
}

export function TokensScreen() {
  const { reveal } = useShared()
  const [state, setState] = useState<Filter>('')
  const [search, setSearch] = useState('')
  const [selected, setSelected] = useState<Set<string>>(new Set())
  const [message, setMessage] = useState('')
  const [dialog, setDialog] = useState<null | { kind: 'remove' } | { kind: 'copy'; token: Token }>(null)
  const lastClicked = useRef<number | null>(null)
  const list = useTokenList(
    (s, cursor) =>
      call(api.GET('/v1/tokens', { params: { query: { limit: 200, ...(s ? { state: s } : {}), cursor } } })),
    state
  )
  const searchId = useId('token-search')
  const stateId = useId('token-state')
  const all = list.tokens ?? []
  const q = search.trim().toLowerCase()
  const pats = all.filter((t) => t.kind !== 'lgn' && (!q || t.name.toLowerCase().includes(q)))
  const sessions = all.filter((t) => t.kind === 'lgn')
  const selectable = pats.filter((t) => t.state === 'active')
  const chosen = selectable.filter((t) => selected.has(t.id))

  const refresh = async () => {
    setSelected(new Set())
    lastClicked.current = null
    await list.load()
  }
  const onCheck = (index: number, checked: boolean, shift: boolean) => {
    const next = new Set(selected)
    const from = shift && lastClicked.current !== null ? Math.min(lastClicked.current, index) : index
    const to = shift && lastClicked.current !== null ? Math.max(lastClicked.current, index) : index
    for (let i = from; i <= to; i++) {
      const t = pats[i]
      if (t?.state !== 'active') continue
      if (checked) next.add(t.id)
      else next.delete(t.id)
    }
    lastClicked.current = index
    setSelected(next)
  }

  return (
    <section>
      <div class="heading">
        <h1>Your tokens</h1>
        <Link to="tokens/new" class="button primary">
          Generate new token
        </Link>
      </div>
      <div class="toolbar">
        <span class="field">
          <label for={stateId}>State</label>
          <select id={stateId} value={state} onChange={(e) => setState(e.currentTarget.value as Filter)}>
            <option value="">all</option>
            <option value="active">active</option>
            <option value="expired">expired</option>
            <option value="revoked">revoked</option>
          </select>
        </span>
        <span class="field">
          <label for={searchId}>Search by name</label>
          <input id={searchId} type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </span>
        <button type="button" onClick={refresh} disabled={list.loading}>
          Refresh
        </button>
        <button
          type="button"
          class="danger"
          disabled={chosen.length === 0}
          onClick={() => setDialog({ kind: 'remove' })}
        >
          Remove selected ({chosen.length})
        </button>
      </div>
      <p class="status" role="status" aria-live="polite">
        {message}
      </p>
      <ErrorText error={list.error} />
      {list.tokens === null ? (
        <p class="muted">Loading…</p>
      ) : pats.length === 0 ? (
        <p class="empty">{q || state ? 'No token matches.' : 'You have no personal access tokens yet.'}</p>
      ) : (
        <div class="table-wrap">
          <table class="tokens selectable">
            <caption class="sr-only">Personal access tokens</caption>
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select all active tokens"
                    checked={selectable.length > 0 && chosen.length === selectable.length}
                    disabled={selectable.length === 0}
                    onChange={(e) =>
                      setSelected(e.currentTarget.checked ? new Set(selectable.map((t) => t.id)) : new Set())
                    }
                  />
                </th>
                <th scope="col">Name</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {pats.map((t, i) => {
                return (
                  <tr key={t.id} class={selected.has(t.id) ? 'selected' : undefined}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Select ${t.name}`}
                        disabled={t.state !== 'active'}
                        checked={selected.has(t.id)}
                        onClick={(e) => onCheck(i, e.currentTarget.checked, e.shiftKey)}
                      />
                    </td>
                    <th scope="row" class="name">
                      <span class="token-name">{t.name}</span>
                      {t.description && <small class="token-description">{t.description}</small>}
                    </th>
                    <td data-label="Scopes">{scopeSummary(t)}</td>
                    <td data-label="Created">
                      <time dateTime={t.created_at} title={absolute(t.created_at)}>
                        {fromNow(t.created_at)}
                      </time>
                    </td>
                    <td data-label="Expires">
                      <Expiry token={t} />
                    </td>
                    <td data-label="Last used">
                      <LastUsed token={t} />
                    </td>
                    <td data-label="State">
                      <StateBadge token={t} />
                      <StateReason token={t} />
                    </td>
                    <td class="row-actions">
                      {t.state === 'active' && (
                        <Link to={`tokens/${t.id}`} class="button small">
                          Edit<span class="sr-only"> {t.name}</span>
                        </Link>
                      )}
                      <button type="button" class="small" onClick={() => setDialog({ kind: 'copy', token: t })}>
                        Copy<span class="sr-only"> {t.name}</span>
                      </button>
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
      {list.next && (
        <button type="button" onClick={() => list.load(true)} disabled={list.loading}>
          Load more
        </button>
      )}
      {sessions.length > 0 && (
        <details class="sessions">
          <summary>Sign-in sessions ({sessions.length})</summary>
          <p class="muted">Each sign-in (here or through the API) is a short-lived login token.</p>
          <ul>
            {sessions.map((t) => (
              <li key={t.id}>
                started <time dateTime={t.created_at}>{absolute(t.created_at)}</time>
                {t.expires_at && (
                  <>
                    , ends <time dateTime={t.expires_at}>{fromNow(t.expires_at)}</time>
                  </>
                )}{' '}
                <span class={`badge ${t.state}`}>{t.state}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
      {dialog?.kind === 'remove' && (
        <PasswordDialog
          title={`Remove ${plural(chosen.length, 'token')}`}
          explanation={
            <>
              <p>These tokens stop working at once:</p>
              <ul>
                {chosen.map((t) => (
                  <li key={t.id}>{t.name}</li>
                ))}
              </ul>
            </>
          }
          confirmLabel="Remove"
          danger
          onClose={() => setDialog(null)}
          action={async (password) => {
            const res = await call(api.POST('/v1/tokens/revoke', { body: { ids: chosen.map((t) => t.id), password } }))
            setDialog(null)
            setMessage(`Removed ${plural(res.revoked.length, 'token')}.`)
            await refresh()
          }}
        />
      )}
      {dialog?.kind === 'copy' && (
        <PasswordDialog
          title="Copy token"
          explanation={
            <p>A new token with the scopes and lifetime of “{dialog.token.name}”. The original keeps working.</p>
          }
          confirmLabel="Create copy"
          onClose={() => setDialog(null)}
          action={async (password) => {
            const res = await call(
              api.POST('/v1/tokens/{id}/copy', { params: { path: { id: dialog.token.id } }, body: { password } })
            )
            setDialog(null)
            reveal(res.token.name, res.access_token)
            await refresh()
          }}
        />
      )}
    </section>
  )
}
