/** Seeding the principals the fuzz calls as, learning from responses, and repairing what a request broke. (test/features/openapi-fuzz.test.ts) */
import type { FastifyInstance } from 'fastify'
import { ADMIN, bearer, login } from '../authority.js'
import type { Operation } from './document.js'
import type { Kind, Principal, State } from './state.js'
import { NOW } from './arbitraries.js'
import type { Sent } from './send.js'

// ---------------------------------------------------------------------------------------------
// Seeding, learning and repair
// ---------------------------------------------------------------------------------------------

export const SERVICE_PERMISSIONS = ['tokens:introspect', 'tokens:introspect:reason', 'tokens:revoke']
/**
 * The address the root admin and the repairs call from. The fuzz never uses it, so the failed
 * password budgets it spends (a documented 429 once spent) never block a repair.
 */
export const REPAIR_IP = '127.255.0.1'

export async function call(
  app: FastifyInstance,
  token: string,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: object
) {
  const res = await app.inject({
    method,
    url,
    headers: bearer(token),
    remoteAddress: REPAIR_IP,
    ...(payload ? { payload } : {})
  })
  if (res.statusCode >= 300) throw new Error(`set-up call ${method} ${url}: ${res.statusCode} ${res.body}`)
  return res.json()
}

export async function loginAt(
  app: FastifyInstance,
  realm: 'admin' | 'customer',
  username: string,
  password: string,
  ip: string
): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: `/v1/auth/${realm}/token`,
    payload: { username, password },
    remoteAddress: ip
  })
  if (res.statusCode !== 200) throw new Error(`login ${username} from ${ip}: ${res.statusCode} ${res.body}`)
  return res.json().access_token as string
}

export async function seed(app: FastifyInstance): Promise<State> {
  const rootToken = await loginAt(app, 'admin', ADMIN.username, ADMIN.password, REPAIR_IP)
  const me = await call(app, rootToken, 'GET', '/v1/me')
  const catalogue = await call(app, rootToken, 'GET', '/v1/scopes')
  const all = me.account.permissions as string[]
  const s: State = {
    app,
    rootToken,
    principals: {} as Record<Kind, Principal>,
    tokens: new Map(),
    accounts: new Map(),
    webhooks: [],
    scopes: [...(catalogue.scopes as { name: string }[]).map((x) => x.name), 'orders:read', 'nope:nope'],
    presets: [...(catalogue.presets as { name: string }[]).map((x) => x.name), 'no-such-preset'],
    repairs: 0,
    console: { cookie: '', accountId: '', password: '' }
  }
  const account = async (username: string, kind: Kind, permissions?: string[]) => {
    const password = `${username}-password-1`
    const a = await call(app, rootToken, 'POST', '/v1/accounts', {
      username,
      password,
      kind,
      ...(permissions ? { permissions } : {}),
      current_password: ADMIN.password
    })
    s.accounts.set(a.id, { username, password, permissions: a.permissions })
    return { id: a.id as string, username, password }
  }
  const mint = async (token: string, owner: string, url: string, body: object) => {
    const r = await call(app, token, 'POST', url, body)
    s.tokens.set(r.token.id, { owner, value: r.access_token, live: true, scopes: r.token.scopes })
    return { id: r.token.id as string, value: r.access_token as string }
  }
  for (const [kind, perms] of [
    ['admin', all],
    ['customer', undefined],
    ['service', SERVICE_PERMISSIONS]
  ] as const) {
    const a = await account(`fuzz-${kind}`, kind, perms ? [...perms] : undefined)
    const permissions = perms ? [...perms] : ['tokens:read', 'tokens:write']
    let token: string
    let tokenId: string
    if (kind === 'service') {
      ;({ value: token, id: tokenId } = await mint(rootToken, a.id, `/v1/accounts/${a.id}/tokens`, {
        name: 'fuzz svc',
        scopes: permissions,
        password: ADMIN.password
      }))
    } else {
      // logged in from the repair address (so it is known there) and from the fuzz's main one
      const other = await login(app, kind, a.username, a.password)
      s.tokens.set((await call(app, other, 'GET', '/v1/me')).token.id, { owner: a.id, value: other, live: true })
      token = await loginAt(app, kind, a.username, a.password, REPAIR_IP)
      tokenId = (await call(app, token, 'GET', '/v1/me')).token.id
      s.tokens.set(tokenId, { owner: a.id, value: token, live: true })
    }
    s.principals[kind] = { ...a, accountId: a.id, kind, permissions, token, tokenId, dirty: false }
  }
  // a console session of an account the fuzz does not otherwise know (nothing it sends ends it)
  const consolePassword = 'fuzz-console-password-1'
  const consoleAccount = await call(app, rootToken, 'POST', '/v1/accounts', {
    username: 'fuzz-console',
    password: consolePassword,
    kind: 'customer',
    current_password: ADMIN.password
  })
  const signedIn = await app.inject({
    method: 'POST',
    url: '/v1/auth/session',
    payload: { realm: 'customer', username: 'fuzz-console', password: consolePassword },
    remoteAddress: REPAIR_IP
  })
  if (signedIn.statusCode !== 200) throw new Error(`console sign-in: ${signedIn.statusCode} ${signedIn.body}`)
  const setCookie = signedIn.headers['set-cookie']
  s.console = {
    cookie: (Array.isArray(setCookie) ? setCookie : [String(setCookie)]).map((c) => c.split(';')[0]).join('; '),
    accountId: consoleAccount.id as string,
    password: consolePassword
  }
  // tokens to point at: live, expiring, revoked, of each principal and of spare accounts
  const { admin, customer } = s.principals
  for (const [p, n] of [
    [admin, 6],
    [customer, 4]
  ] as const) {
    for (let i = 0; i < n; i++) {
      const body = {
        name: `seed ${i}`,
        ...(i % 2 ? { preset: 'read-only' } : { scopes: ['tokens:read', 'tokens:write'] }),
        ...(i === 3 ? { expires_at: new Date(NOW + 86400_000).toISOString() } : {}),
        password: p.password
      }
      const m = await mint(p.token, p.accountId, '/v1/tokens', body)
      if (i === 2) {
        await call(app, p.token, 'DELETE', `/v1/tokens/${m.id}`, { password: p.password })
        s.tokens.get(m.id)!.live = false
      }
    }
  }
  for (const [name, kind] of [
    ['spare-admin', 'admin'],
    ['spare-customer-1', 'customer'],
    ['spare-customer-2', 'customer'],
    ['spare-service', 'service']
  ] as const) {
    const a = await account(name, kind)
    for (let i = 0; i < 2; i++) {
      await mint(rootToken, a.id, `/v1/accounts/${a.id}/tokens`, {
        name: `spare ${i}`,
        scopes: kind === 'service' ? ['tokens:introspect'] : ['tokens:read'],
        password: ADMIN.password
      })
    }
  }
  return s
}

export const MAX_POOL = 300
/** Token views anywhere in a response tell which known tokens are still live. */
export function learnStates(v: unknown, s: State): void {
  if (Array.isArray(v)) for (const x of v) learnStates(x, s)
  else if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>
    if (typeof o.id === 'string' && typeof o.state === 'string') {
      const k = s.tokens.get(o.id)
      if (k) {
        k.live = o.state === 'active'
        if (o.scopes === null || Array.isArray(o.scopes)) k.scopes = o.scopes as string[] | null
      }
    }
    if (typeof o.id === 'string' && typeof o.username === 'string' && Array.isArray(o.permissions)) {
      const a = s.accounts.get(o.id)
      if (a) a.permissions = o.permissions as string[]
    }
    for (const x of Object.values(o)) learnStates(x, s)
  }
}

export function learn(op: Operation, sent: Sent, status: number, rawBody: string, s: State): void {
  if (status < 200 || status >= 300) return
  // biome-ignore lint/suspicious/noExplicitAny: a reply of any operation, read defensively below
  let json: any
  try {
    json = JSON.parse(rawBody)
  } catch {
    return
  }
  learnStates(json, s)
  if (op.id === 'createWebhook' && typeof json?.endpoint?.id === 'string') s.webhooks.push(json.endpoint.id)
  if (op.id === 'deleteWebhook') s.webhooks = s.webhooks.filter((id) => id !== String(sent.params.id))
  // `revoked` is a list of ids (revoke-all) or a count (revoke-before, revoke-matching)
  const revokedIds: unknown[] = Array.isArray(json?.revoked) ? json.revoked : []
  for (const id of revokedIds) if (typeof id === 'string' && s.tokens.has(id)) s.tokens.get(id)!.live = false
  if (op.id === 'regenerateToken' && s.tokens.has(String(sent.params.id)))
    s.tokens.get(String(sent.params.id))!.live = false
  if (op.id === 'revokeTokenByValue') {
    const value = (sent.body as { token?: unknown } | undefined)?.token
    for (const k of s.tokens.values()) if (k.value === value) k.live = false
  }
  if (op.id === 'editAccount' && (sent.body as { disabled?: unknown })?.disabled === true) {
    for (const k of s.tokens.values()) if (k.owner === String(sent.params.id)) k.live = false
  }
  if (status === 201 && typeof json?.access_token === 'string' && typeof json?.token?.id === 'string') {
    const owner = op.id === 'createAccountToken' ? String(sent.params.id) : sent.caller.accountId
    if (owner !== null)
      s.tokens.set(json.token.id, { owner, value: json.access_token, live: true, scopes: json.token.scopes })
    if (s.tokens.size > MAX_POOL) s.tokens.delete(s.tokens.keys().next().value!)
  }
  if (op.id === 'createAccount' && status === 201) {
    const b = sent.body as { password: string; username: string }
    s.accounts.set(json.id, { username: json.username, password: b.password, permissions: json.permissions })
  }
  if (op.id === 'changeMyPassword') {
    // the caller's account has a new password; its other login tokens (all its tokens with
    // revoke_tokens) are revoked: repair its principals
    const b = sent.body as { new_password?: unknown }
    const id = sent.caller.accountId
    if (id !== null && typeof b?.new_password === 'string') {
      const known = s.accounts.get(id)
      if (known) known.password = b.new_password
      for (const p of Object.values(s.principals)) {
        if (p.accountId !== id) continue
        p.password = b.new_password
        p.dirty = true
      }
      for (const k of s.tokens.values())
        if (k.owner === id && sent.headers.authorization !== `Bearer ${k.value}`) k.live = false
    }
  }
  if (op.id === 'editAccount') {
    const id = String(sent.params.id)
    const b = sent.body as { password?: string }
    const known = s.accounts.get(id)
    if (known && typeof b?.password === 'string') known.password = b.password
    for (const p of Object.values(s.principals)) if (p.accountId === id) p.dirty = true
  }
}

/**
 * A root call during repair; a concurrent change to the same row may answer 409 once or twice, and
 * a concurrent fuzz request may revoke the root's own token between the repair's check and its call
 * (a revoke by selector or revoke-before across the accounts the fuzzing admin may act on: a CI run
 * answered 401 "revoked" here): the root signs in again, from its own address, and retries.
 */
export async function rootCall(s: State, method: 'POST' | 'PATCH', url: string, payload: object) {
  for (let i = 0; ; i++) {
    try {
      return await call(s.app, s.rootToken, method, url, payload)
    } catch (err) {
      if (i >= 4 || !/: (401|409|503) /.test(String(err))) throw err
      if (/: 401 /.test(String(err)))
        s.rootToken = await loginAt(s.app, 'admin', ADMIN.username, ADMIN.password, REPAIR_IP)
    }
  }
}

export let repairing: Promise<void> = Promise.resolve()
/** After a change that may have hurt a principal: check each, and restore what is broken. */
export function ensurePrincipals(s: State): Promise<void> {
  repairing = repairing
    .catch(() => undefined)
    .then(async () => {
      const { introspection } = s.app.authority
      const healthy = async (p: Principal) => {
        const r = await introspection.verify(p.token)
        return r.active && p.permissions.every((x) => r.token.scopes.includes(x))
      }
      const rootOk = await introspection.verify(s.rootToken)
      if (!rootOk.active) s.rootToken = await loginAt(s.app, 'admin', ADMIN.username, ADMIN.password, REPAIR_IP)
      for (const p of Object.values(s.principals)) {
        if (!p.dirty && (await healthy(p))) continue
        s.repairs++
        // the fuzz keeps running meanwhile and may undo a step (disable, narrow): retry the sequence
        for (let attempt = 0; ; attempt++) {
          try {
            await rootCall(s, 'PATCH', `/v1/accounts/${p.accountId}`, {
              disabled: false,
              permissions: p.permissions,
              password: p.password,
              current_password: ADMIN.password
            })
            s.accounts.set(p.accountId, { username: p.username, password: p.password, permissions: p.permissions })
            p.dirty = false
            if (await healthy(p)) break
            if (p.kind === 'service') {
              const m = await rootCall(s, 'POST', `/v1/accounts/${p.accountId}/tokens`, {
                name: 'fuzz svc',
                scopes: p.permissions,
                password: ADMIN.password
              })
              p.token = m.access_token
              p.tokenId = m.token.id
            } else {
              p.token = await loginAt(s.app, p.kind, p.username, p.password, REPAIR_IP)
              p.tokenId = (await call(s.app, p.token, 'GET', '/v1/me')).token.id
            }
            s.tokens.set(p.tokenId, { owner: p.accountId, value: p.token, live: true })
            if (await healthy(p)) break
          } catch (err) {
            if (attempt >= 5) throw err
          }
        }
      }
    })
  return repairing
}

/**
 * Hostile requests spend the principals' failed-password budgets (a documented 429 once spent), so
 * an operation that needs a confirmation can go without a 2xx for the rest of a run. Before a
 * top-up round the admin and customer principals are replaced by fresh accounts of the same kind
 * and permissions, whose budgets are whole.
 */
export async function freshPrincipals(s: State, round: number): Promise<void> {
  await ensurePrincipals(s)
  for (const kind of ['admin', 'customer'] as const) {
    const old = s.principals[kind]
    const username = `fuzz-${kind}-r${round}`
    const password = `${username}-password-1`
    const a = await rootCall(s, 'POST', '/v1/accounts', {
      username,
      password,
      kind,
      permissions: old.permissions,
      current_password: ADMIN.password
    })
    s.accounts.set(a.id, { username, password, permissions: a.permissions })
    const token = await loginAt(s.app, kind, username, password, REPAIR_IP)
    const tokenId = (await call(s.app, token, 'GET', '/v1/me')).token.id as string
    s.tokens.set(tokenId, { owner: a.id, value: token, live: true })
    s.principals[kind] = { ...old, username, password, accountId: a.id, token, tokenId, dirty: false }
  }
}
