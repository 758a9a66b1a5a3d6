import { useEffect, useRef, useState } from 'preact/hooks'
import type { paths } from '../../../openapi/client/schema.ts'
import { api, call } from './api.ts'
import { Link, useShared } from './app.tsx'
import { ErrorText, PasswordDialog, useId } from './dialogs.tsx'
import { endsSession, messageOf } from './errors.ts'
import { absolute, fromNow, plural } from './format.ts'
import { Ago, TableHead, FilterSelect, ListBody, LoadMore, usePagedList } from './lists.tsx'

type CreateBody = paths['/v1/webhooks']['post']['requestBody']['content']['application/json']
export type Endpoint = paths['/v1/webhooks/{id}']['get']['responses'][200]['content']['application/json']
type DeliveryPage = paths['/v1/webhooks/{id}/deliveries']['get']['responses'][200]['content']['application/json']
type Delivery = DeliveryPage['items'][number]
type DeliveryStatus = Delivery['status']
const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed']
export type EventType = CreateBody['event_types'][number]

/**
 * The event types an endpoint may subscribe to, as the API publishes them (the request schema's
 * enum): a Record over the generated type, so the typecheck fails when the API adds or drops one.
 */
export const EVENT_TYPES: Record<EventType, string> = {
  'token.created': 'a token was generated or copied',
  'token.regenerated': 'a token was regenerated',
  'token.revoked': 'a token was revoked',
  'token.expiring': 'a token expires soon',
  'token.expired': 'a token expired',
  'token.reuse_detected': 'a replaced value was used again: its token family was revoked',
  'token.leaked': 'a token was reported as leaked',
  'account.disabled': 'an account was disabled',
  'account.password_changed': 'an account’s password was changed'
}
const EVENT_NAMES = Object.keys(EVENT_TYPES) as EventType[]

function EndpointState(props: { endpoint: Endpoint }) {
  return props.endpoint.enabled ? <span class="badge active">active</span> : <span class="badge paused">paused</span>
}

/** Admin: the webhook endpoints (oldest first), and a form to register one. */
export function WebhooksScreen() {
  const { mayWriteWebhooks } = useShared()
  const [creating, setCreating] = useState(false)
  const list = usePagedList(
    (cursor) => call(api.GET('/v1/webhooks', { params: { query: { limit: 200, cursor } } })),
    []
  )
  const items = list.items ?? []
  return (
    <section>
      <div class="heading">
        <h1>Webhooks</h1>
        {mayWriteWebhooks && !creating && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Add endpoint
          </button>
        )}
      </div>
      <p class="muted">
        Endpoints receive signed POST requests when tokens and accounts change. Each event carries ids and facts, never
        a token value or password.
      </p>
      {creating && (
        <CreateForm
          onCancel={() => setCreating(false)}
          onCreated={async () => {
            setCreating(false)
            await list.load()
          }}
        />
      )}
      <ErrorText error={list.error} />
      <ListBody list={list} empty={items.length === 0 && 'No webhook endpoints yet.'}>
        <table class="tokens webhooks">
          <caption class="sr-only">Webhook endpoints</caption>
          <TableHead columns={['URL', 'Events', 'Created', 'State', 'Actions']} />
          <tbody>
            {items.map((w) => (
              <tr key={w.id}>
                <th scope="row" class="name">
                  <span class="token-name url">{w.url}</span>
                  {w.description && <small class="token-description">{w.description}</small>}
                </th>
                <td data-label="Events">{w.event_types.join(', ')}</td>
                <td data-label="Created">
                  <Ago at={w.created_at} />
                </td>
                <td data-label="State">
                  <EndpointState endpoint={w} />
                </td>
                <td class="row-actions">
                  <Link to={`webhooks/${w.id}`} class="button small">
                    Open<span class="sr-only"> {w.url}</span>
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ListBody>
      <LoadMore list={list} />
    </section>
  )
}

function CreateForm(props: { onCancel: () => void; onCreated: () => Promise<void> }) {
  const { reveal } = useShared()
  const [url, setUrl] = useState('')
  const [description, setDescription] = useState('')
  const [events, setEvents] = useState<Set<EventType>>(new Set())
  const [error, setError] = useState('')
  const [confirming, setConfirming] = useState(false)
  const urlId = useId('webhook-url')
  const descId = useId('webhook-description')
  const chosen = EVENT_NAMES.filter((e) => events.has(e))
  return (
    <>
      <form
        class="stack panel"
        aria-label="New webhook endpoint"
        onSubmit={(e) => {
          e.preventDefault()
          setError('')
          if (chosen.length === 0) return setError('Choose at least one event type.')
          setConfirming(true)
        }}
      >
        <h2>New endpoint</h2>
        <label for={urlId}>URL</label>
        <input
          id={urlId}
          type="url"
          required
          maxLength={2048}
          placeholder="https://hooks.example.com/token-events"
          value={url}
          onInput={(e) => setUrl(e.currentTarget.value)}
          aria-describedby={`${urlId}-hint`}
        />
        <small id={`${urlId}-hint`} class="hint">
          An http(s) address; redirects are not followed.
        </small>
        <label for={descId}>Description (optional)</label>
        <input id={descId} maxLength={500} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        <fieldset class="events">
          <legend>Event types</legend>
          {EVENT_NAMES.map((name) => (
            <label class="inline" key={name}>
              <input
                type="checkbox"
                checked={events.has(name)}
                onChange={(e) => {
                  const s = new Set(events)
                  if (e.currentTarget.checked) s.add(name)
                  else s.delete(name)
                  setEvents(s)
                }}
              />
              <code>{name}</code> <span class="muted">{EVENT_TYPES[name]}</span>
            </label>
          ))}
        </fieldset>
        <ErrorText error={error} />
        <div class="actions">
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Add endpoint
          </button>
        </div>
      </form>
      {confirming && (
        <PasswordDialog
          title="Confirm: add webhook endpoint"
          explanation={
            <p>
              Send {plural(chosen.length, 'event type')} to “{url}”.
            </p>
          }
          confirmLabel="Add"
          onClose={() => setConfirming(false)}
          action={async (password) => {
            const body: CreateBody = { url, description, event_types: chosen, password }
            const res = await call(api.POST('/v1/webhooks', { body }))
            setConfirming(false)
            reveal(res.endpoint.url, res.secret, 'webhook')
            await props.onCreated()
          }}
        />
      )}
    </>
  )
}

type Action = 'pause' | 'resume' | 'delete' | 'rotate'

/** One endpoint: its settings, pause/resume, rotate secret, test event, delete, and the delivery log. */
export function WebhookScreen(props: { id: string }) {
  const { mayWriteWebhooks, reveal, navigate } = useShared()
  const [endpoint, setEndpoint] = useState<Endpoint | null>(null)
  const [error, setError] = useState('')
  const [message, setMessage] = useState('')
  const [dialog, setDialog] = useState<Action | null>(null)
  const [reloadLog, setReloadLog] = useState(0)
  useEffect(() => {
    call(api.GET('/v1/webhooks/{id}', { params: { path: { id: props.id } } }))
      .then(setEndpoint)
      .catch((e) => {
        if (!endsSession(e)) setError(messageOf(e))
      })
  }, [props.id])
  if (!endpoint)
    return (
      <section>
        <h1>Webhook endpoint</h1>
        {error ? <ErrorText error={error} /> : <p class="muted">Loading…</p>}
        <Link to="webhooks">Back to webhooks</Link>
      </section>
    )
  const w = endpoint
  const path = { params: { path: { id: w.id } } }
  return (
    <section>
      <p>
        <Link to="webhooks">← All webhooks</Link>
      </p>
      <div class="heading">
        <h1 class="url">{w.url}</h1>
        <EndpointState endpoint={w} />
      </div>
      {w.description && <p>{w.description}</p>}
      <dl class="facts">
        <dt>Events</dt>
        <dd>{w.event_types.join(', ')}</dd>
        <dt>Created</dt>
        <dd>
          <time dateTime={w.created_at}>{absolute(w.created_at)}</time>
        </dd>
        <dt>Changed</dt>
        <dd>
          <time dateTime={w.updated_at}>{absolute(w.updated_at)}</time>
        </dd>
      </dl>
      {mayWriteWebhooks && (
        <div class="toolbar">
          <button type="button" onClick={() => setDialog(w.enabled ? 'pause' : 'resume')}>
            {w.enabled ? 'Pause' : 'Resume'}
          </button>
          <button
            type="button"
            onClick={async () => {
              setError('')
              setMessage('')
              try {
                await call(api.POST('/v1/webhooks/{id}/test', path))
                setMessage('A test event is queued: watch the delivery log.')
                setReloadLog((n) => n + 1)
              } catch (e) {
                if (!endsSession(e)) setError(messageOf(e))
              }
            }}
          >
            Send test event
          </button>
          <button type="button" onClick={() => setDialog('rotate')}>
            Rotate secret…
          </button>
          <button type="button" class="danger" onClick={() => setDialog('delete')}>
            Delete…
          </button>
        </div>
      )}
      <p class="status" role="status" aria-live="polite">
        {message}
      </p>
      <ErrorText error={error} />
      <DeliveryLog id={w.id} reload={reloadLog} />
      {(dialog === 'pause' || dialog === 'resume') && (
        <PasswordDialog
          title={dialog === 'pause' ? 'Pause endpoint' : 'Resume endpoint'}
          explanation={
            <p>
              {dialog === 'pause'
                ? 'No events are sent to it while it is paused; its queued deliveries wait.'
                : 'Events are sent to it again, queued ones first.'}
            </p>
          }
          confirmLabel={dialog === 'pause' ? 'Pause' : 'Resume'}
          onClose={() => setDialog(null)}
          action={async (password) => {
            const res = await call(api.PATCH('/v1/webhooks/{id}', { ...path, body: { enabled: !w.enabled, password } }))
            setDialog(null)
            setEndpoint(res)
            setMessage(res.enabled ? 'Resumed.' : 'Paused.')
          }}
        />
      )}
      {dialog === 'rotate' && (
        <PasswordDialog
          title="Rotate signing secret"
          explanation={
            <p>
              A new secret signs every event from now on; <strong>the old one stops signing at once</strong>, so update
              the receiver right away.
            </p>
          }
          confirmLabel="Rotate"
          danger
          onClose={() => setDialog(null)}
          action={async (password) => {
            const res = await call(api.POST('/v1/webhooks/{id}/rotate-secret', { ...path, body: { password } }))
            setDialog(null)
            setEndpoint(res.endpoint)
            reveal(res.endpoint.url, res.secret, 'webhook')
          }}
        />
      )}
      {dialog === 'delete' && (
        <PasswordDialog
          title="Delete endpoint"
          explanation={<p>“{w.url}” and its delivery log are deleted; pending deliveries are dropped.</p>}
          confirmLabel="Delete"
          danger
          onClose={() => setDialog(null)}
          action={async (password) => {
            await call(api.DELETE('/v1/webhooks/{id}', { ...path, body: { password } }))
            setDialog(null)
            navigate('webhooks')
          }}
        />
      )}
    </section>
  )
}

function DeliveryLog(props: { id: string; reload: number }) {
  const [status, setStatus] = useState<'' | DeliveryStatus>('')
  const list = usePagedList(
    (cursor) =>
      call(
        api.GET('/v1/webhooks/{id}/deliveries', {
          params: { path: { id: props.id }, query: { limit: 50, ...(status ? { status } : {}), cursor } }
        })
      ),
    [props.id, status]
  )
  // a test event sent: refresh in place (a new filter clears the list; this is the same list)
  const first = useRef(true)
  useEffect(() => {
    if (first.current) first.current = false
    else void list.load()
  }, [props.reload])
  const items = list.items ?? []
  return (
    <>
      <h2>Delivery log</h2>
      <div class="toolbar">
        <FilterSelect
          label="Status"
          idPrefix="delivery-status"
          value={status}
          options={DELIVERY_STATUSES}
          onChange={setStatus}
        />
        <button type="button" onClick={() => list.load()} disabled={list.loading}>
          Refresh log
        </button>
      </div>
      <ErrorText error={list.error} />
      <ListBody list={list} empty={items.length === 0 && `No deliveries${status ? ` with status ${status}` : ''} yet.`}>
        <table class="tokens deliveries">
          <caption class="sr-only">Deliveries to this endpoint, newest first</caption>
          <TableHead columns={['Event', 'Status', 'HTTP status', 'Latency', 'Attempts', 'Queued']} />
          <tbody>
            {items.map((d) => (
              <tr key={d.id}>
                <th scope="row" class="name">
                  <code>{d.event_type}</code>
                  <small class="token-description">{d.event_id}</small>
                </th>
                <td data-label="Status">
                  <span class={`badge delivery-${d.status}`}>{d.status}</span>
                  {d.status === 'pending' && d.next_attempt_at && <small>next try {fromNow(d.next_attempt_at)}</small>}
                  {d.last_error && <small class="delivery-error">{d.last_error}</small>}
                </td>
                <td data-label="HTTP status">{d.last_http_status ?? 'no answer'}</td>
                <td data-label="Latency">{d.last_latency_ms === null ? '—' : `${d.last_latency_ms} ms`}</td>
                <td data-label="Attempts">{d.attempts}</td>
                <td data-label="Queued">
                  <Ago at={d.created_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ListBody>
      <LoadMore list={list} />
    </>
  )
}
