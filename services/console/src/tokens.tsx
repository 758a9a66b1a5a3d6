import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { api, call, session as sessionApi, type Token, type TokenState } from './api.ts'
import { Link, useShared } from './app.tsx'
import { ErrorText, PasswordDialog } from './dialogs.tsx'
import {
  absolute,
  expiresSoon,
  fromNow,
  isSuperseded,
  lastUsedDetail,
  lastUsedOf,
  plural,
  revokedReasonText,
  scopeSummary
} from './format.ts'
import { RevokeBefore } from './revoke-before.tsx'
import { Ago, TableHead, FilterSelect, ListBody, LoadMore, SearchField, usePagedList } from './lists.tsx'

const STATES: readonly TokenState[] = ['active', 'expired', 'revoked']
/**
 * The "Use" filter: a recorded use within the last N days (used_since), or none in them
 * (unused_since, which includes tokens never used, however new).
 */
const USE_FILTERS = {
  'used in the last 7 days': { used: true, days: 7 },
  'no use in 30 days (or never)': { used: false, days: 30 },
  'no use in 90 days (or never)': { used: false, days: 90 }
} as const
type Use = keyof typeof USE_FILTERS
const USES = Object.keys(USE_FILTERS) as Use[]
/** the query for a Use filter, its time fixed when the filter is chosen (every page asks the same) */
function useQuery(use: '' | Use): { used_since?: string; unused_since?: string } {
  if (use === '') return {}
  const { used, days } = USE_FILTERS[use]
  const since = new Date(Date.now() - days * 86_400_000).toISOString()
  return used ? { used_since: since } : { unused_since: since }
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
      <Ago at={used.at} />
      {detail && <small class="used-detail">{detail}</small>}
    </span>
  )
}

export function Expiry(props: { token: Token }) {
  const t = props.token
  if (t.expires_at === null) return <span>never</span>
  return (
    <span class={expiresSoon(t) ? 'soon-text' : undefined}>
      <Ago at={t.expires_at} />
      <small>{absolute(t.expires_at)}</small>
    </span>
  )
}

/** A token row's cells from Scopes to State, as every token table shows them. */
export function TokenCells(props: { token: Token }) {
  const t = props.token
  return (
    <>
      <td data-label="Scopes">{scopeSummary(t)}</td>
      <td data-label="Created">
        <Ago at={t.created_at} />
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
    </>
  )
}

export function TokensScreen() {
  const { reveal, signedOut } = useShared()
  const [state, setState] = useState<'' | TokenState>('')
  const [use, setUse] = useState<'' | Use>('')
  const [search, setSearch] = useState('')
  const [selected, setSelected] = useState<Set<string>>(new Set())
  const [message, setMessage] = useState('')
  const [dialog, setDialog] = useState<null | { kind: 'remove' } | { kind: 'copy'; token: Token }>(null)
  const lastClicked = useRef<number | null>(null)
  const useSince = useMemo(() => useQuery(use), [use])
  // another filter, other rows: a selection (and a Shift-click's anchor) of the old ones goes
  useEffect(() => {
    setSelected(new Set())
    lastClicked.current = null
  }, [state, use])
  const list = usePagedList(
    (cursor) =>
      call(
        api.GET('/v1/tokens', {
          params: { query: { limit: 200, ...(state ? { state } : {}), ...useSince, cursor } }
        })
      ),
    [state, use]
  )
  const all = list.items ?? []
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
        <FilterSelect label="State" idPrefix="token-state" value={state} options={STATES} onChange={setState} />
        <FilterSelect label="Use" idPrefix="token-use" value={use} options={USES} onChange={setUse} />
        <SearchField label="Search by name" idPrefix="token-search" value={search} onInput={setSearch} />
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
      <ListBody
        list={list}
        empty={
          pats.length === 0 && (q || state || use ? 'No token matches.' : 'You have no personal access tokens yet.')
        }
      >
        <table class="tokens selectable">
          <caption class="sr-only">Personal access tokens</caption>
          <TableHead
            columns={[
              <input
                key="all"
                type="checkbox"
                aria-label="Select all active tokens"
                checked={selectable.length > 0 && chosen.length === selectable.length}
                disabled={selectable.length === 0}
                onChange={(e) =>
                  setSelected(e.currentTarget.checked ? new Set(selectable.map((t) => t.id)) : new Set())
                }
              />,
              'Name',
              'Scopes',
              'Created',
              'Expires',
              'Last used',
              'State',
              'Actions'
            ]}
          />
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
                  <TokenCells token={t} />
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
      </ListBody>
      <LoadMore list={list} />
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
      <details class="revoke-before-own">
        <summary>Revoke everything issued before a time</summary>
        <RevokeBefore
          whose="your"
          watermark={null}
          note="Sign-in sessions too: if this one started before that moment (always, for now), you are signed out."
          revoke={(body) => call(api.POST('/v1/me/revoke-before', { body }))}
          onDone={async (done) => {
            // this session too, if it was issued before that time: say what happened on the sign-in screen
            const signedIn = await sessionApi.current().then(
              () => true,
              () => false
            )
            if (!signedIn) return signedOut(`${done} This session was issued before that, so you are signed out.`)
            setMessage(done)
            await refresh()
          }}
        />
      </details>
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
