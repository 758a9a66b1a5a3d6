import type { ComponentChildren } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { useId } from './dialogs.tsx'
import { endsSession, messageOf } from './errors.ts'
import { absolute, fromNow } from './format.ts'

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

/**
 * A list the API hands out page by page: the first page loads whenever one of `deps` (the
 * filters) changes, `load(true)` appends the next page, `load()` starts over (Refresh).
 *
 * Only the answer to the latest request is shown: switching a filter while a page is on its way
 * must not let the slower, older answer replace the list the filter asked for.
 */
export function usePagedList<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>, deps: unknown[]) {
  const [items, setItems] = useState<T[] | null>(null)
  const [next, setNext] = useState<string | null>(null)
  const [error, setError] = useState('')
  const [loading, setLoading] = useState(false)
  const latest = useRef(0)
  const load = async (more = false) => {
    const request = ++latest.current
    setLoading(true)
    setError('')
    try {
      const page = await fetchPage(more ? (next ?? undefined) : undefined)
      if (request !== latest.current) return
      setItems((old) => (more && old ? [...old, ...page.items] : page.items))
      setNext(page.next_cursor)
    } catch (e) {
      if (request === latest.current && !endsSession(e)) setError(messageOf(e))
    } finally {
      if (request === latest.current) setLoading(false)
    }
  }
  useEffect(() => {
    // another filter: nothing of the old list stays on screen, and its cursor is not reused
    setItems(null)
    setNext(null)
    void load()
  }, deps)
  return { items, next, error, loading, load }
}

/** A labelled <select> of a list's filter; the first option, "all", is the empty value. */
export function FilterSelect<V extends string>(props: {
  label: string
  idPrefix: string
  value: '' | V
  options: readonly V[]
  onChange: (value: '' | V) => void
}) {
  const id = useId(props.idPrefix)
  return (
    <span class="field">
      <label for={id}>{props.label}</label>
      <select id={id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value as '' | V)}>
        <option value="">all</option>
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </span>
  )
}

/** A labelled search box that filters the rows already loaded. */
export function SearchField(props: { label: string; idPrefix: string; value: string; onInput: (v: string) => void }) {
  const id = useId(props.idPrefix)
  return (
    <span class="field">
      <label for={id}>{props.label}</label>
      <input id={id} type="search" value={props.value} onInput={(e) => props.onInput(e.currentTarget.value)} />
    </span>
  )
}

/** "Load more" under a list while the API has another page. */
export function LoadMore(props: { list: { next: string | null; loading: boolean; load: (more: boolean) => unknown } }) {
  if (!props.list.next) return null
  return (
    <button type="button" onClick={() => props.list.load(true)} disabled={props.list.loading}>
      Load more
    </button>
  )
}

/**
 * "Loading…" until the first page is in (nothing when it failed: the error says why), then `empty`
 * when there is nothing to show, else the table.
 */
export function ListBody(props: {
  list: { items: unknown[] | null; error: string }
  empty: ComponentChildren | false
  children: ComponentChildren
}) {
  if (props.list.items === null) return props.list.error ? null : <p class="muted">Loading…</p>
  if (props.empty !== false) return <p class="empty">{props.empty}</p>
  return <div class="table-wrap">{props.children}</div>
}

/** A table's column headings; a heading may be an element (the select-all checkbox). */
export function TableHead(props: { columns: ComponentChildren[] }) {
  return (
    <thead>
      <tr>
        {props.columns.map((c, i) => (
          <th key={i} scope="col">
            {c}
          </th>
        ))}
      </tr>
    </thead>
  )
}

/** "3 hours ago", with the exact time on hover and for machines. */
export function Ago(props: { at: string }) {
  return (
    <time dateTime={props.at} title={absolute(props.at)}>
      {fromNow(props.at)}
    </time>
  )
}
