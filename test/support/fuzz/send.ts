/** Turning a generated request into an app.inject call, and checking a response against the document. (test/features/openapi-fuzz.test.ts) */
import { type Operation, ajv, deref, responseValidator } from './document.js'
import { type Caller, PAD_ID, type Principal, RawSegment, type State, nth, resolve } from './state.js'
import { type RequestGen, applyMutation } from './arbitraries.js'

// ---------------------------------------------------------------------------------------------
// Sending and checking
// ---------------------------------------------------------------------------------------------

export function encodeForm(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return encodeURIComponent(JSON.stringify(value) ?? '')
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(value)) {
    if (Array.isArray(v)) for (const x of v) p.append(k, typeof x === 'string' ? x : JSON.stringify(x))
    else p.append(k, typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))
  }
  return p.toString()
}

export interface Sent {
  method: string
  url: string
  headers: Record<string, string | string[]>
  payload: string | Buffer | undefined
  caller: Caller
  body: unknown
  params: Record<string, unknown>
}

export function build(op: Operation, g: RequestGen, s: State): Sent {
  // the caller first: the hints for own tokens and own password depend on it
  const headers: Record<string, string | string[]> = { ...g.headers }
  let caller: Caller = { accountId: null, password: null, scopes: null }
  let queryToken: string | undefined
  const as = (p: Principal) => {
    caller = { accountId: p.accountId, password: p.password, scopes: p.permissions }
    return p.token
  }
  switch (g.cred.kind) {
    case 'admin':
    case 'customer':
    case 'service':
      headers.authorization = `Bearer ${as(s.principals[g.cred.kind])}`
      break
    case 'service-basic': {
      const p = s.principals.service
      caller = { accountId: p.accountId, password: p.password, scopes: p.permissions }
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(p.username)}:${encodeURIComponent(p.token)}`).toString('base64')}`
      break
    }
    case 'pool-token': {
      const withValue = [...s.tokens].filter(([, k]) => k.value !== undefined)
      const [, k] = nth(withValue, g.cred.n) ?? [PAD_ID, { owner: '', value: 'none' }]
      const owner = [...Object.values(s.principals)].find((p) => p.accountId === k.owner)
      caller = {
        accountId: k.owner,
        password: owner?.password ?? s.accounts.get(k.owner)?.password ?? null,
        scopes: owner?.permissions ?? null
      }
      headers.authorization = `Bearer ${k.value}`
      break
    }
    case 'query-token':
      queryToken = as(s.principals.admin)
      break
    case 'garbage':
      headers.authorization = g.cred.header
      break
    case 'session':
      caller = { accountId: s.console.accountId, password: s.console.password, scopes: null }
      headers.cookie = s.console.cookie
      headers['x-requested-by'] = 'token-console'
      break
    case 'none':
      break
  }

  let params = resolve(g.params, s, caller) as Record<string, unknown>
  if ('__pair' in params) params = params.__pair as Record<string, unknown>
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
  if (op.path.startsWith('/v1/accounts/')) caller.targetAccount = str(params.id)
  caller.targetToken = op.path.startsWith('/v1/tokens/') ? str(params.id) : str(params.tokenId)
  const path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = g.params[name] instanceof RawSegment ? g.params[name] : params[name]
    if (v instanceof RawSegment) return v.raw
    return encodeURIComponent(typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))
  })

  let query = ''
  if (g.query.kind === 'raw') query = g.query.raw
  else if (g.query.kind === 'params') {
    let value = resolve(g.query.value, s, caller)
    if (g.query.mutation)
      value = applyMutation(
        value,
        {
          type: 'object',
          properties: Object.fromEntries(op.queryParams.map((p) => [p.name, p.schema])),
          required: op.queryParams.filter((p) => p.required).map((p) => p.name)
        },
        g.query.mutation
      )
    query = encodeForm(value)
  }
  if (queryToken !== undefined) query = `${query}${query ? '&' : ''}access_token=${encodeURIComponent(queryToken)}`

  let payload: string | Buffer | undefined
  let body: unknown
  if (g.body.kind === 'value') {
    body = resolve(g.body.value, s, caller)
    if (g.body.mutation) body = applyMutation(body, deref(op.bodies[g.body.media]!), g.body.mutation)
    payload = g.body.media === 'application/x-www-form-urlencoded' ? encodeForm(body) : (JSON.stringify(body) ?? 'null')
    headers['content-type'] = g.body.contentType ?? g.body.media
  } else if (g.body.kind === 'raw') {
    payload = typeof g.body.payload === 'string' ? g.body.payload : Buffer.from(g.body.payload)
    if (g.body.contentType !== undefined) headers['content-type'] = g.body.contentType
  }
  return { method: op.method, url: query ? `${path}?${query}` : path, headers, payload, caller, body, params }
}

export interface Problem {
  kind: '5xx' | 'undocumented status' | 'undocumented content type' | 'schema' | 'inject error'
  op: string
  status: number
  label: string
  request: string
  response: string
  detail?: string
}

export function check(
  op: Operation,
  status: number,
  contentType: string | undefined,
  rawBody: string
): Omit<Problem, 'op' | 'label' | 'request' | 'response'> | null {
  if (status >= 500) return { kind: '5xx', status }
  const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => op.responses[k] !== undefined)
  if (key === undefined) return { kind: 'undocumented status', status }
  const content = op.responses[key]!.content
  if (content === undefined)
    return rawBody === ''
      ? null
      : { kind: 'undocumented content type', status, detail: 'a body where none is declared' }
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  const declared = content[media] !== undefined ? media : content['*/*'] !== undefined ? '*/*' : undefined
  if (declared === undefined)
    return {
      kind: 'undocumented content type',
      status,
      detail: `${contentType} (declared: ${Object.keys(content).join(', ')})`
    }
  let body: unknown = rawBody
  if (media === 'application/json') {
    try {
      body = JSON.parse(rawBody)
    } catch {
      return { kind: 'schema', status, detail: 'not JSON' }
    }
  }
  const validate = responseValidator(op, key, declared)
  if (!validate(body)) return { kind: 'schema', status, detail: ajv.errorsText(validate.errors) }
  return null
}
