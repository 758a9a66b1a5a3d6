/** fast-check arbitraries built from the document's schemas, hints aimed at live state, and schema-violating request variants. (test/features/openapi-fuzz.test.ts) */
import fc from 'fast-check'
import { ADMIN } from '../authority.js'
import { type Operation, type Schema, deref } from './document.js'
import { ABSENT, Deferred, type Kind, PAD_ID, RawSegment, liveIssuedBy, nth, ownedBy } from './state.js'

// ---------------------------------------------------------------------------------------------
// Arbitraries from schemas
// ---------------------------------------------------------------------------------------------

export const NOW = Date.now()
export const YEAR = 365 * 86400_000
export const dateTime = fc.oneof(
  // mostly before the default lifetime (90 days: an edit may only bring an expiry earlier), then
  // within the maximum (TOKEN_MAX_LIFETIME_DAYS = 365), past it sometimes
  {
    weight: 6,
    arbitrary: fc.integer({ min: NOW + 60_000, max: NOW + 80 * 86400_000 }).map((ms) => new Date(ms).toISOString())
  },
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: NOW + 80 * 86400_000, max: NOW + 365 * 86400_000 })
      .map((ms) => new Date(ms).toISOString())
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: NOW + YEAR + 86400_000, max: NOW + 2 * YEAR }).map((ms) => new Date(ms).toISOString())
  },
  { weight: 1, arbitrary: fc.integer({ min: NOW - 2 * YEAR, max: NOW }).map((ms) => new Date(ms).toISOString()) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '9999-12-31T23:59:59Z',
      '1970-01-01T00:00:00Z',
      '2100-01-01T00:00:00+14:00',
      '0001-01-01T00:00:00.000Z'
    )
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('tomorrow', '2030-02-30T00:00:00Z', '2030-01-01', '2030-01-01T25:00:00Z', '', '1e3')
  }
)
/** a value of some JSON type, for wrong-type substitutions */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 20 }),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 5 })), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 })
)
export const textUnit = fc.constantFrom<'grapheme' | 'grapheme-ascii' | 'binary'>(
  'grapheme',
  'grapheme-ascii',
  'binary'
)

export function stringArb(s: Schema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0
  const max = s.maxLength ?? 80
  if (s.format === 'date-time') return dateTime
  if (s.format === 'uuid')
    return fc.oneof({ weight: 6, arbitrary: fc.uuid() }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) })
  if (s.pattern !== undefined) {
    const matching = fc.stringMatching(new RegExp(s.pattern, 'u'), { size: 'small' }).map((x) => x.slice(0, max))
    return fc.oneof(
      { weight: 5, arbitrary: matching },
      {
        weight: 1,
        arbitrary: textUnit.chain((unit) => fc.string({ unit, minLength: min, maxLength: Math.min(max, 40) }))
      }
    )
  }
  return textUnit.chain((unit) => fc.string({ unit, minLength: min, maxLength: Math.min(max, 60) }))
}

/** where a value sits, for the hints */
export interface Where {
  op: Operation
  at: 'path' | 'query' | 'body'
  name: string
}
export type Hint = (s: Schema, w: Where) => fc.Arbitrary<unknown> | undefined

export function schemaArb(schema: Schema, w: Where, hint: Hint, depth = 0): fc.Arbitrary<unknown> {
  const s = deref(schema)
  const hinted = hint(s, w)
  if (hinted !== undefined) return hinted
  let base: fc.Arbitrary<unknown>
  if (s.const !== undefined) base = fc.constant(s.const)
  else if (s.enum !== undefined) base = fc.constantFrom(...s.enum)
  else if (s.anyOf !== undefined || s.oneOf !== undefined) {
    base = fc.oneof(...(s.anyOf ?? s.oneOf ?? []).map((x) => schemaArb(x, w, hint, depth + 1)))
  } else if (s.allOf !== undefined && s.allOf.length > 0) base = schemaArb(s.allOf[0]!, w, hint, depth + 1)
  else {
    switch (s.type) {
      case 'string':
        base = stringArb(s)
        break
      case 'integer':
        base = fc.integer({ min: s.minimum ?? -1_000_000, max: s.maximum ?? 1_000_000 })
        break
      case 'number':
        base = fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true })
        break
      case 'boolean':
        base = fc.boolean()
        break
      case 'array': {
        const item = schemaArb(s.items ?? {}, { ...w, name: `${w.name}[]` }, hint, depth + 1)
        const constraints = { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 5, 5) }
        base = s.uniqueItems ? fc.uniqueArray(item, constraints) : fc.array(item, constraints)
        break
      }
      case 'object':
        base = depth > 4 ? fc.constant({}) : objectArb(s, w, hint, depth)
        break
      default:
        base = anyJson
    }
  }
  return s.nullable ? fc.oneof({ weight: 5, arbitrary: base }, { weight: 1, arbitrary: fc.constant(null) }) : base
}

const EXCHANGE_CORE = ['grant_type', 'subject_token', 'subject_token_type', 'audience']

/** confirmation fields are present 9 times out of 10, other optional fields half the time */
export const isConfirmation = (s: Schema) => s.description?.startsWith('your current password') === true

export function objectArb(s: Schema, w: Where, hint: Hint, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const required = new Set(s.required ?? [])
  const model: Record<string, fc.Arbitrary<unknown>> = {}
  for (const [name, ps] of Object.entries(s.properties ?? {})) {
    const value = schemaArb(ps, { ...w, name }, hint, depth + 1)
    // a token exchange needs four of its optional fields at once: those are present 9 times out of 10
    const exchangeCore = w.op.id === 'exchangeToken' && EXCHANGE_CORE.includes(name)
    const present = required.has(name) ? 1 : isConfirmation(deref(ps)) || exchangeCore ? 0.9 : 0.5
    model[name] = required.has(name)
      ? value
      : fc.oneof(
          { weight: Math.round(present * 10), arbitrary: value },
          { weight: Math.round((1 - present) * 10), arbitrary: fc.constant(ABSENT) }
        )
  }
  const known = fc.record(model)
  if (typeof s.additionalProperties === 'object') {
    const extra = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 12 }),
      schemaArb(s.additionalProperties, w, hint, depth + 1),
      { maxKeys: 3 }
    )
    return fc.tuple(known, extra).map(([k, e]) => ({ ...e, ...k }))
  }
  return known
}

// ---------------------------------------------------------------------------------------------
// Hints: aim the generated values at real state
// ---------------------------------------------------------------------------------------------

export const forgedTokenValue = fc.stringMatching(/^tka_(pat|lgn|svc)_[A-Za-z0-9_-]{132}$/)
export const garbageText = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }))

/** a live id owned by the caller (most useful), any of its ids, any known id, or a well-formed random one */
export const tokenIdArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .nat()
      .map(
        (n) => new Deferred((s, c) => nth(liveIssuedBy(s, c.accountId), n) ?? nth([...s.tokens.keys()], n) ?? PAD_ID)
      )
  },
  {
    weight: 1,
    arbitrary: fc
      .nat()
      .map(
        (n) => new Deferred((s, c) => nth(ownedBy(s, c.accountId, true), n) ?? nth([...s.tokens.keys()], n) ?? PAD_ID)
      )
  },
  {
    weight: 2,
    arbitrary: fc
      .nat()
      .map((n) => new Deferred((s, c) => nth(ownedBy(s, c.accountId), n) ?? nth([...s.tokens.keys()], n) ?? PAD_ID))
  },
  { weight: 2, arbitrary: fc.nat().map((n) => new Deferred((s) => nth([...s.tokens.keys()], n) ?? PAD_ID)) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{22}$/) }
)
/** a webhook endpoint the fuzz created, or a well-formed random one */
export const webhookIdArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.nat().map((n) => new Deferred((s) => nth(s.webhooks, n) ?? '00000000-0000-4000-8000-000000000000'))
  },
  { weight: 1, arbitrary: fc.uuid() }
)
export const accountIdArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .nat()
      .map((n) => new Deferred((s) => nth([...s.accounts.keys()], n) ?? '00000000-0000-4000-8000-000000000000'))
  },
  { weight: 1, arbitrary: fc.uuid() }
)
/** a live token value (the credentials themselves included), a dead or foreign one, or a forgery */
export const tokenValueArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.nat().map(
      (n) =>
        new Deferred(
          (s) =>
            nth(
              [...s.tokens.values()]
                .filter((k) => k.live)
                .map((k) => k.value)
                .filter((v) => v !== undefined),
              n
            ) ?? 'none'
        )
    )
  },
  {
    weight: 1,
    arbitrary: fc.nat().map(
      (n) =>
        new Deferred(
          (s) =>
            nth(
              [...s.tokens.values()].map((k) => k.value).filter((v) => v !== undefined),
              n
            ) ?? 'none'
        )
    )
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<Kind>('admin', 'customer', 'service')
      .map((k) => new Deferred((s) => s.principals[k].token))
  },
  { weight: 1, arbitrary: forgedTokenValue },
  { weight: 1, arbitrary: garbageText.filter((x) => x.length > 0) }
)
/** the caller's own password, mostly: a wrong one spends the failure budgets (see ipArb) */
export const callerPassword = fc.oneof(
  { weight: 14, arbitrary: fc.constant(new Deferred((_s, c) => c.password ?? 'no-caller-password')) },
  { weight: 1, arbitrary: fc.constant(ADMIN.password) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) }
)
/**
 * scope lists: mostly within what the target token has (edits narrow), or what the target account
 * and the caller both hold (nobody grants more than they hold), else from the whole catalogue
 * (plus unknown ones)
 */
export const scopeListArb = (min: number, max: number) =>
  fc.tuple(fc.uniqueArray(fc.nat(), { minLength: Math.max(min, 1), maxLength: Math.max(max, 1) }), fc.nat(3)).map(
    ([idx, mode]) =>
      new Deferred((s, c) => {
        let from = s.scopes
        if (mode > 0) {
          const token = c.targetToken !== undefined ? s.tokens.get(c.targetToken)?.scopes : undefined
          const account = c.targetAccount !== undefined ? s.accounts.get(c.targetAccount)?.permissions : undefined
          const mine = c.scopes
          const fit =
            token ??
            (account !== undefined && mine !== null ? account.filter((x) => mine.includes(x)) : (account ?? mine))
          if (fit && fit.length > 0) from = fit
        }
        return [...new Set(idx.map((i) => from[i % from.length]!))]
      })
  )

export const HINTS: Hint = (s, w) => {
  const { op, at, name } = w
  if (at === 'path' && (name === 'tokenId' || (name === 'id' && op.path.startsWith('/v1/tokens')))) return tokenIdArb
  if (at === 'path' && name === 'id' && op.path.startsWith('/v1/accounts')) return accountIdArb
  if (at === 'path' && name === 'id' && op.path.startsWith('/v1/webhooks')) return webhookIdArb
  if (at === 'body' && name === 'ids[]') return tokenIdArb
  // revoke-before takes a moment in the past (or now): mostly one, a future one sometimes
  if (at === 'body' && name === 'before' && s.format === 'date-time')
    return fc.oneof(
      {
        weight: 4,
        arbitrary: fc.integer({ min: NOW - 30 * 86400_000, max: NOW - 1000 }).map((ms) => new Date(ms).toISOString())
      },
      { weight: 1, arbitrary: dateTime }
    )
  if (at === 'body' && isConfirmation(s)) return callerPassword
  // a new password: mostly the caller's own again, so a 204 does not lock the other principals' confirmations out
  if (at === 'body' && name === 'new_password')
    return fc.oneof({ weight: 6, arbitrary: callerPassword }, { weight: 1, arbitrary: stringArb(s) })
  if (at === 'body' && (name === 'scopes' || name === 'permissions') && s.type === 'array') {
    return fc.oneof(
      { weight: 4, arbitrary: scopeListArb(s.minItems ?? 0, Math.min(s.maxItems ?? 4, 4)) },
      {
        weight: 1,
        arbitrary: fc.uniqueArray(stringArb(deref(s.items ?? {})), { minLength: s.minItems ?? 0, maxLength: 3 })
      }
    )
  }
  if (at === 'body' && name === 'preset') {
    return fc.oneof(
      { weight: 4, arbitrary: fc.nat().map((n) => new Deferred((st) => nth(st.presets, n))) },
      { weight: 1, arbitrary: stringArb(s) }
    )
  }
  if (at === 'body' && name === 'token' && op.path.match(/^\/(introspect|revoke)$/)) return tokenValueArb
  // RFC 8693 token exchange: mostly the parameters it takes, so the deep path (an issued token) is reached
  if (at === 'body' && op.id === 'exchangeToken') {
    const mostly = (value: string) =>
      fc.oneof({ weight: 4, arbitrary: fc.constant(value) }, { weight: 1, arbitrary: stringArb(s) })
    if (name === 'subject_token') return tokenValueArb
    if (name === 'grant_type') return mostly('urn:ietf:params:oauth:grant-type:token-exchange')
    if (name === 'subject_token_type' || name === 'requested_token_type')
      return mostly('urn:ietf:params:oauth:token-type:access_token')
    if (name === 'audience' || name === 'resource') return mostly('orders-api')
    if (name === 'scope') return mostly('')
  }
  if (at === 'body' && name === 'client_id') {
    return fc.oneof(
      { weight: 3, arbitrary: fc.constant(new Deferred((st) => st.principals.service.username)) },
      { weight: 1, arbitrary: stringArb(s) }
    )
  }
  if (at === 'body' && name === 'client_secret') {
    return fc.oneof(
      { weight: 3, arbitrary: fc.constant(new Deferred((st) => st.principals.service.token)) },
      { weight: 1, arbitrary: tokenValueArb }
    )
  }
  if (at === 'body' && name === 'username' && op.id === 'createAccount') {
    return fc.oneof(
      { weight: 4, arbitrary: fc.stringMatching(/^[a-z][a-z0-9._-]{2,20}$/) },
      {
        weight: 1,
        arbitrary: fc.nat().map(
          (n) =>
            new Deferred((st) =>
              nth(
                [...st.accounts.values()].map((a) => a.username),
                n
              )
            )
        )
      },
      { weight: 1, arbitrary: stringArb(s) }
    )
  }
  if (at === 'query' && name === 'cursor') {
    return fc.oneof(
      { weight: 2, arbitrary: stringArb(s) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.double()), fc.string({ maxLength: 30 }))
          .map((v) => Buffer.from(JSON.stringify(v)).toString('base64url'))
      },
      {
        weight: 1,
        arbitrary: fc.nat().map(
          (n) =>
            new Deferred((st) =>
              nth(
                [...st.accounts.values()].map((a) => a.username),
                n
              )
            )
        )
      }
    )
  }
  return undefined
}

/** login: a known username with its password (usually), or anything */
export const loginBodyArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.tuple(fc.nat(), fc.boolean()).map(
      ([n, right]) =>
        new Deferred((s) => {
          const a = nth([...s.accounts.values()], n)!
          return { username: a.username, password: right ? a.password : `${a.password}x` }
        })
    )
  },
  {
    weight: 1,
    arbitrary: fc.record({
      username: stringArb({ minLength: 1, maxLength: 128 }),
      password: stringArb({ minLength: 1, maxLength: 1024 })
    })
  }
)

/** console sign-in: a login body and a realm (right for the account about half the time) */
export const signInBodyArb = fc
  .tuple(loginBodyArb, fc.constantFrom('admin', 'customer'))
  .map(([body, realm]) =>
    body instanceof Deferred
      ? new Deferred((s, c) => ({ realm, ...(body.pick(s, c) as object) }))
      : { realm, ...(body as object) }
  )

// ---------------------------------------------------------------------------------------------
// Requests: valid-ish and schema-violating
// ---------------------------------------------------------------------------------------------

export type Mutation =
  | { kind: 'wrong-type'; at: number; value: unknown }
  | { kind: 'missing-required'; at: number }
  | { kind: 'extra-property'; key: string; value: unknown }
  | { kind: 'oversize'; at: number; extra: number }
  | { kind: 'not-an-object'; value: unknown }

export type BodyGen =
  | { kind: 'none' }
  | { kind: 'value'; media: string; value: unknown; mutation?: Mutation; contentType?: string }
  | { kind: 'raw'; payload: string | Uint8Array; contentType?: string }

export type QueryGen =
  | { kind: 'none' }
  | { kind: 'params'; value: unknown; mutation?: Mutation }
  | { kind: 'raw'; raw: string }

export type CredGen =
  | { kind: 'admin' | 'customer' | 'service' | 'none' | 'service-basic' | 'query-token' | 'session' }
  | { kind: 'pool-token'; n: number }
  | { kind: 'garbage'; header: string | string[] }

export interface RequestGen {
  label: string
  cred: CredGen
  params: Record<string, unknown>
  query: QueryGen
  body: BodyGen
  headers: Record<string, string>
  ip: string
}

export const mutationArb = (s: Schema): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ kind: fc.constant('wrong-type' as const), at: fc.nat(), value: anyJson }),
    fc.record({ kind: fc.constant('missing-required' as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant('extra-property' as const),
      key: fc.string({ minLength: 1, maxLength: 16 }).filter((k) => !(k in (s.properties ?? {})) && k !== '__proto__'),
      value: anyJson
    }),
    fc.record({
      kind: fc.constant('oversize' as const),
      at: fc.nat(),
      extra: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1000, max: 5000 }))
    }),
    fc.record({
      kind: fc.constant('not-an-object' as const),
      value: fc.oneof(
        anyJson.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)),
        fc.constant([])
      )
    })
  )

export function applyMutation(value: unknown, schema: Schema, m: Mutation): unknown {
  if (m.kind === 'not-an-object') return m.value
  const obj: Record<string, unknown> =
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? { ...(value as Record<string, unknown>) }
      : {}
  const props = Object.keys(schema.properties ?? {})
  switch (m.kind) {
    case 'wrong-type': {
      const key = nth(props, m.at)
      if (key !== undefined) obj[key] = m.value
      return obj
    }
    case 'missing-required': {
      const key = nth(schema.required ?? [], m.at) ?? nth(Object.keys(obj), m.at)
      if (key !== undefined) delete obj[key]
      return obj
    }
    case 'extra-property':
      obj[m.key] = m.value
      return obj
    case 'oversize': {
      const sized = props.filter((p) => {
        const ps = deref(schema.properties![p]!)
        return ps.maxLength !== undefined || ps.maxItems !== undefined || ps.maximum !== undefined
      })
      const key = nth(sized, m.at)
      if (key === undefined) return obj
      const ps = deref(schema.properties![key]!)
      if (ps.maxLength !== undefined) obj[key] = 'x'.repeat(ps.maxLength + m.extra)
      else if (ps.maxItems !== undefined)
        obj[key] = Array.from({ length: ps.maxItems + Math.min(m.extra, 200) }, (_, i) => `item-${i}`)
      else obj[key] = ps.maximum! + m.extra
      return obj
    }
  }
}

export const WRONG_CONTENT_TYPES = [
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  'text/html; charset=utf-8',
  'application/json; charset=utf-16',
  'application/jsonx',
  'application/x-www-form-urlencoded',
  '*/*',
  ';;;'
]

/** `wellFormed`: only bodies the schema accepts (their values may still be semantically wrong) */
export function bodyArb(op: Operation, wellFormed: boolean): fc.Arbitrary<BodyGen> {
  const medias = Object.keys(op.bodies)
  if (medias.length === 0) return fc.constant({ kind: 'none' as const })
  const isLogin = op.id === 'loginAdmin' || op.id === 'loginCustomer'
  const perMedia = medias.map((media) => {
    const schema = deref(op.bodies[media]!)
    let valid = isLogin
      ? loginBodyArb
      : op.id === 'signIn'
        ? signInBodyArb
        : schemaArb(schema, { op, at: 'body', name: '' }, HINTS)
    const props = schema.properties ?? {}
    if (props.scopes !== undefined && props.preset !== undefined) {
      // a token takes scopes or a preset: one of the two, mostly (both or neither are a 400)
      const scopes = schemaArb(props.scopes, { op, at: 'body', name: 'scopes' }, HINTS)
      const preset = schemaArb(props.preset, { op, at: 'body', name: 'preset' }, HINTS)
      // modes 0-2: scopes, 3-4: preset, 5: both, 6: neither
      valid = fc.tuple(valid, scopes, preset, fc.nat(6)).map(([v, sc, pr, mode]) => ({
        ...(v as Record<string, unknown>),
        scopes: mode < 3 || mode === 5 ? sc : ABSENT,
        preset: mode === 3 || mode === 4 || mode === 5 ? pr : ABSENT
      }))
    }
    if (wellFormed) return valid.map((value): BodyGen => ({ kind: 'value', media, value }))
    return fc.oneof(
      { weight: 14, arbitrary: valid.map((value): BodyGen => ({ kind: 'value', media, value })) },
      {
        weight: 7,
        arbitrary: fc
          .tuple(valid, mutationArb(schema))
          .map(([value, mutation]): BodyGen => ({ kind: 'value', media, value, mutation }))
      },
      {
        weight: 1,
        arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value): BodyGen => ({ kind: 'value', media, value }))
      },
      // the right shape, announced as another type
      {
        weight: 2,
        arbitrary: fc
          .tuple(valid, fc.constantFrom(...WRONG_CONTENT_TYPES))
          .map(([value, contentType]): BodyGen => ({ kind: 'value', media, value, contentType }))
      }
    )
  })
  if (wellFormed) return fc.oneof(...perMedia)
  const json = 'application/json'
  return fc.oneof(
    { weight: 30, arbitrary: fc.oneof(...perMedia) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.uint8Array({ maxLength: 400 }), fc.constantFrom(...medias))
        .map(([b, contentType]): BodyGen => ({ kind: 'raw', payload: b, contentType }))
    },
    {
      weight: 1,
      arbitrary: garbageText.map((x): BodyGen => ({ kind: 'raw', payload: x, contentType: medias[0] ?? json }))
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          '{',
          '{"a":',
          '[1,2',
          'null',
          '""',
          '{"__proto__":{"x":1}}',
          '{"constructor":{"prototype":{"x":1}}}',
          '\u0000',
          '{}garbage'
        )
        .map((x): BodyGen => ({ kind: 'raw', payload: x, contentType: json }))
    },
    { weight: 1, arbitrary: fc.constant<BodyGen>({ kind: 'none' }) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 17_000, max: 40_000 })
        .map((n): BodyGen => ({ kind: 'raw', payload: JSON.stringify({ name: 'x'.repeat(n) }), contentType: json }))
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 100, max: 5000 })
        .map((n): BodyGen => ({ kind: 'raw', payload: '['.repeat(n) + ']'.repeat(n), contentType: json }))
    },
    {
      weight: 1,
      arbitrary: fc
        .string({ maxLength: 80 })
        .map((x): BodyGen => ({ kind: 'raw', payload: x, contentType: 'application/x-www-form-urlencoded' }))
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((x): BodyGen => ({ kind: 'raw', payload: x })) }
  )
}

export function paramsArb(op: Operation, wellFormed: boolean): fc.Arbitrary<Record<string, unknown>> {
  if (op.pathParams.length === 0) return fc.constant({})
  const valid = fc.record(
    Object.fromEntries(op.pathParams.map((p) => [p.name, schemaArb(p.schema, { op, at: 'path', name: p.name }, HINTS)]))
  )
  const choices: fc.WeightedArbitrary<Record<string, unknown>>[] = wellFormed
    ? [{ weight: 12, arbitrary: valid }]
    : [
        { weight: 12, arbitrary: valid },
        // any text (encoded), a malformed segment sent verbatim, or one past the router's length bound
        {
          weight: 1,
          arbitrary: fc
            .tuple(valid, fc.nat(), garbageText)
            .map(([v, i, x]) => ({ ...v, [op.pathParams[i % op.pathParams.length]!.name]: x }))
        },
        {
          weight: 1,
          arbitrary: fc
            .tuple(
              valid,
              fc.nat(),
              fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%AF', '%00', '%2F', '.', '..', '%2e%2e', '%u0041', 'a%', '%%')
            )
            .map(([v, i, raw]) => ({ ...v, [op.pathParams[i % op.pathParams.length]!.name]: new RawSegment(raw) }))
        },
        {
          weight: 1,
          arbitrary: fc
            .tuple(valid, fc.nat(), fc.integer({ min: 150, max: 400 }))
            .map(([v, i, n]) => ({ ...v, [op.pathParams[i % op.pathParams.length]!.name]: 'A'.repeat(n) }))
        }
      ]
  // revokeAccountToken: an (account, token of that account) pair reaches the deep path
  if (op.pathParams.length === 2) {
    choices.push({
      weight: 8,
      arbitrary: fc.nat().map((n) => ({
        __pair: new Deferred((s) => {
          const pool = [...s.tokens].filter(([, k]) => k.live || n % 4 === 0)
          const [id, k] = nth(pool, n) ?? [PAD_ID, { owner: '00000000-0000-4000-8000-000000000000' }]
          return { id: k.owner, tokenId: id }
        })
      }))
    })
  }
  return fc.oneof(...choices)
}

export function queryArb(op: Operation, wellFormed: boolean): fc.Arbitrary<QueryGen> {
  const junk = fc.oneof(
    fc.string({ maxLength: 60 }).map((x) => encodeURIComponent(x)),
    fc.constantFrom(
      '%',
      '%zz',
      'a=%E0%A4%A',
      '&&&',
      '=',
      'a[b]=1',
      'a[]=1&a[]=2',
      '__proto__[x]=1',
      'constructor[prototype][x]=1',
      'x='.repeat(300)
    ),
    fc.string({ unit: 'binary', maxLength: 40 }).map((x) => encodeURIComponent(x))
  )
  if (op.queryParams.length === 0) {
    if (wellFormed) return fc.constant<QueryGen>({ kind: 'none' })
    return fc.oneof(
      { weight: 9, arbitrary: fc.constant<QueryGen>({ kind: 'none' }) },
      { weight: 1, arbitrary: junk.map((raw): QueryGen => ({ kind: 'raw', raw })) }
    )
  }
  const schema: Schema = {
    type: 'object',
    properties: Object.fromEntries(op.queryParams.map((p) => [p.name, p.schema])),
    required: op.queryParams.filter((p) => p.required).map((p) => p.name)
  }
  // `limit` is required in the document but has a default: absent is valid too
  const valid = schemaArb(schema, { op, at: 'query', name: '' }, HINTS).map((v) => {
    const o = { ...(v as Record<string, unknown>) }
    if ('limit' in o && Math.abs(Number(o.limit)) % 3 === 0) delete o.limit
    return o
  })
  if (wellFormed) return valid.map((value): QueryGen => ({ kind: 'params', value }))
  return fc.oneof(
    { weight: 10, arbitrary: valid.map((value): QueryGen => ({ kind: 'params', value })) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(
          valid,
          mutationArb(schema).filter((m) => m.kind !== 'not-an-object')
        )
        .map(([value, mutation]): QueryGen => ({ kind: 'params', value, mutation }))
    },
    { weight: 1, arbitrary: junk.map((raw): QueryGen => ({ kind: 'raw', raw })) },
    { weight: 1, arbitrary: tokenValueArb.map((v): QueryGen => ({ kind: 'params', value: { access_token: v } })) }
  )
}

export const garbageAuth: fc.Arbitrary<string | string[]> = fc.oneof(
  garbageText.map((x) => `Bearer ${x.replace(/[\r\n]/g, '')}`),
  forgedTokenValue.map((x) => `Bearer ${x}`),
  fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((x) => `Basic ${Buffer.from(x).toString('base64')}`),
  fc.string({ unit: 'grapheme-ascii', maxLength: 30 }).map((x) => `Basic ${x}`),
  fc.constantFrom(
    'Bearer',
    'Bearer ',
    'Bearer a b',
    'Basic',
    'Basic Og==',
    'Basic OmE=',
    'Digest x',
    'bearer\tx',
    'Token abc',
    'Basic %%%'
  ),
  fc.tuple(forgedTokenValue, forgedTokenValue).map(([a, b]) => [`Bearer ${a}`, `Bearer ${b}`])
)

export function credArb(op: Operation, wellFormed: boolean): fc.Arbitrary<CredGen> {
  // the console session's check takes its cookie (sign-out is sent without it: it would end the
  // one session the fuzz holds; it answers 204 either way)
  if (op.id === 'getSession')
    return wellFormed
      ? fc.constant<CredGen>({ kind: 'session' })
      : fc.constantFrom<CredGen>({ kind: 'session' }, { kind: 'none' }, { kind: 'admin' })
  // RFC 8693 exchange: a public client (no credential) or HTTP Basic; a Bearer credential is refused
  // there, so a well-formed request uses one of the two (a seed once never reached a 2xx without it)
  if (op.id === 'exchangeToken' && wellFormed)
    return fc.constantFrom<CredGen>({ kind: 'none' }, { kind: 'none' }, { kind: 'service-basic' })
  const rfc = op.path === '/introspect' || op.path === '/revoke'
  const adminOnly = op.path.startsWith('/v1/accounts')
  if (wellFormed) {
    // a credential that may pass: the service at the RFC endpoints, an admin for accounts
    if (rfc)
      return fc.constantFrom<CredGen>(
        { kind: 'service' },
        { kind: 'service' },
        { kind: 'service-basic' },
        { kind: 'admin' }
      )
    if (adminOnly) return fc.constant<CredGen>({ kind: 'admin' })
    return fc.oneof(
      { weight: 3, arbitrary: fc.constant<CredGen>({ kind: 'admin' }) },
      { weight: 2, arbitrary: fc.constant<CredGen>({ kind: 'customer' }) },
      { weight: 1, arbitrary: fc.nat().map((n): CredGen => ({ kind: 'pool-token', n })) }
    )
  }
  return fc.oneof(
    { weight: rfc ? 2 : adminOnly ? 14 : 8, arbitrary: fc.constant<CredGen>({ kind: 'admin' }) },
    { weight: 3, arbitrary: fc.constant<CredGen>({ kind: 'customer' }) },
    { weight: rfc ? 8 : 2, arbitrary: fc.constant<CredGen>({ kind: 'service' }) },
    { weight: rfc ? 3 : 1, arbitrary: fc.constant<CredGen>({ kind: 'service-basic' }) },
    { weight: 2, arbitrary: fc.nat().map((n): CredGen => ({ kind: 'pool-token', n })) },
    { weight: 2, arbitrary: fc.constant<CredGen>({ kind: 'none' }) },
    { weight: 3, arbitrary: garbageAuth.map((header): CredGen => ({ kind: 'garbage', header })) },
    { weight: 1, arbitrary: fc.constant<CredGen>({ kind: 'query-token' }) }
  )
}

export const headersArb = fc.record(
  {
    'x-request-id': fc.oneof(fc.string({ unit: 'grapheme-ascii', maxLength: 80 }), fc.uuid()),
    accept: fc.constantFrom('application/xml', 'text/plain', '*/*', 'application/json;q=0', ''),
    'accept-encoding': fc.constantFrom('gzip', 'br', 'identity;q=0', 'x'),
    'x-forwarded-for': fc.constantFrom('1.2.3.4', 'garbage', '::1, 10.0.0.1')
  },
  { requiredKeys: [] }
)
/**
 * The client address (loopback range only). The authority gives each address 30 failed password
 * attempts per 15 minutes whatever the successes in between (a success only returns its own
 * point), then 429 (documented). So management calls spread over the address the principals
 * logged in from and 16 others, with few wrong confirmations, and keep reaching the deep paths;
 * login guesses come from elsewhere, most of them from random addresses and some from one
 * "hammer" address that does run out, so the throttle's 429 is exercised too.
 */
export const HAMMER_IP = '127.0.2.1'
export const ipArb = (op: Operation) => {
  const spread = fc.integer({ min: 1, max: 16 }).map((n) => `127.0.1.${n}`)
  const any = fc
    .tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 2, max: 254 }))
    .map(([a, b, c]) => `127.${a}.${b}.${c}`)
  return op.id.startsWith('login') || op.id === 'signIn'
    ? fc.oneof(
        { weight: 2, arbitrary: fc.constant(HAMMER_IP) },
        { weight: 1, arbitrary: spread },
        { weight: 4, arbitrary: any }
      )
    : fc.oneof(
        { weight: 2, arbitrary: fc.constant('127.0.0.1') },
        { weight: 4, arbitrary: spread },
        { weight: 1, arbitrary: any }
      )
}

/**
 * A third of the requests are well-formed (a credential that may pass, inputs the schemas accept)
 * so the deep paths are reached often; the rest mix every hostile variant.
 */
export function requestArb(op: Operation): fc.Arbitrary<RequestGen> {
  const shaped = (wellFormed: boolean) =>
    fc
      .record({
        cred: credArb(op, wellFormed),
        params: paramsArb(op, wellFormed),
        query: queryArb(op, wellFormed),
        body: bodyArb(op, wellFormed),
        headers: headersArb,
        ip: ipArb(op)
      })
      .map((r) => ({ ...r, label: `${wellFormed ? 'well-formed' : 'hostile'},${labelOf(r)}` }))
  return fc.oneof({ weight: 1, arbitrary: shaped(true) }, { weight: 2, arbitrary: shaped(false) })
}

export function labelOf(r: Omit<RequestGen, 'label'>): string {
  const parts: string[] = []
  if (r.body.kind === 'value')
    parts.push(
      r.body.mutation
        ? r.body.mutation.kind
        : r.body.contentType
          ? 'wrong-content-type'
          : `valid-${r.body.media === 'application/json' ? 'json' : 'form'}`
    )
  else parts.push(`body-${r.body.kind}`)
  if (r.query.kind !== 'none')
    parts.push(r.query.kind === 'raw' ? 'raw-query' : r.query.mutation ? `query-${r.query.mutation.kind}` : 'query')
  if (Object.values(r.params).some((v) => v instanceof RawSegment)) parts.push('raw-path')
  parts.push(`cred-${r.cred.kind}`)
  return parts.join(',')
}
