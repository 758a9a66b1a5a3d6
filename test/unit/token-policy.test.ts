import { randomBytes } from 'node:crypto'
import t from 'tap'
import { frozenClock, seconds } from '../../services/authority/src/clock.js'
import { AppError } from '../../services/authority/src/errors.js'
import type { ActiveToken } from '../../services/authority/src/tokens/introspection.js'
import { hashToken, parseToken } from '../../services/authority/src/tokens/token-format.js'
import {
  checkExpiry,
  checkScopes,
  decodeCursor,
  encodeCursor,
  lifetime,
  mint
} from '../../services/authority/src/tokens/token-policy.js'

/**
 * The pure lifecycle rules of services/authority/src/tokens/token-policy.ts (what the API tests in
 * test/features/lifecycle.test.ts reach through HTTP): expiry, the lifetime policy, scope bounds,
 * list cursors and minting — on a frozen clock, no app, no database.
 */

const DAY = 86400
const START = Date.UTC(2026, 0, 1, 12, 0, 0)
const MAX_EXP = 2 ** 48 - 1

/** a clock and "now" in unix seconds, as the lifecycle reads them */
function at(ms = START) {
  const clock = frozenClock(ms)
  return { clock, now: () => seconds(clock.now()) }
}

/** the AppError `fn` throws, for its exact code and message */
function refusal(fn: () => unknown): AppError {
  try {
    fn()
  } catch (err) {
    if (err instanceof AppError) return err
    throw err
  }
  throw new Error('expected an AppError, nothing was thrown')
}

t.test('checkExpiry: none means never', async (t) => {
  const { now } = at()
  t.equal(checkExpiry(undefined, now()), null)
  t.equal(checkExpiry(null, now()), null)
})

t.test('checkExpiry: a future whole second is kept as it is', async (t) => {
  const { now } = at()
  t.equal(checkExpiry(now() + 1, now()), now() + 1, 'one second ahead')
  t.equal(checkExpiry(MAX_EXP, now()), MAX_EXP, 'the largest expiry a token value can carry')
})

t.test('checkExpiry: now, the past, fractions and past 2^48 are invalid_expiry', async (t) => {
  const { now } = at()
  for (const [label, exp] of [
    ['now', now()],
    ['a second ago', now() - 1],
    ['the epoch', 0],
    ['a fraction', now() + 1.5],
    ['NaN', Number.NaN]
  ] as const) {
    const err = refusal(() => checkExpiry(exp, now()))
    t.equal(err.code, 'invalid_expiry', label)
    t.equal(err.statusCode, 400, label)
    t.equal(err.message, 'expires_at must be in the future', label)
  }
  const far = refusal(() => checkExpiry(MAX_EXP + 1, now()))
  t.equal(far.code, 'invalid_expiry')
  t.equal(far.message, 'expires_at is too far in the future')
})

t.test('checkExpiry: the same expiry turns invalid once the clock passes it', async (t) => {
  const { clock, now } = at()
  const exp = now() + 60
  t.equal(checkExpiry(exp, now()), exp)
  clock.advance(59_999)
  t.equal(checkExpiry(exp, now()), exp, 'still ahead 59.999 s later')
  clock.advance(1)
  t.equal(refusal(() => checkExpiry(exp, now())).code, 'invalid_expiry', 'due at exp itself')
})

t.test('lifetime with a maximum: nothing asked means the default lifetime', async (t) => {
  const { now } = at()
  t.equal(lifetime({ defaultDays: 90, maxDays: 365 }, undefined, now()), now() + 90 * DAY)
  t.equal(
    lifetime({ defaultDays: 365, maxDays: 365 }, undefined, now()),
    now() + 365 * DAY,
    'a default equal to the maximum'
  )
  t.equal(
    lifetime({ defaultDays: 400, maxDays: 365 }, undefined, now()),
    now() + 365 * DAY,
    'a default past the maximum is brought within it'
  )
})

t.test('lifetime with a maximum: an asked-for expiry up to the maximum is kept', async (t) => {
  const { now } = at()
  const policy = { defaultDays: 90, maxDays: 365 }
  t.equal(lifetime(policy, now() + 1, now()), now() + 1)
  t.equal(lifetime(policy, now() + 365 * DAY, now()), now() + 365 * DAY, 'exactly the maximum')
})

t.test('lifetime with a maximum: past the maximum, or never, is refused naming the limit', async (t) => {
  const { now } = at()
  const policy = { defaultDays: 90, maxDays: 365 }
  const past = refusal(() => lifetime(policy, now() + 365 * DAY + 1, now()))
  t.equal(past.code, 'invalid_expiry')
  t.equal(past.message, 'expires_at is past the maximum lifetime of 365 days (TOKEN_MAX_LIFETIME_DAYS)')
  const never = refusal(() => lifetime(policy, null, now()))
  t.equal(never.code, 'invalid_expiry')
  t.equal(never.message, 'tokens must expire: give expires_at at most 365 days ahead (TOKEN_MAX_LIFETIME_DAYS)')
  t.equal(refusal(() => lifetime(policy, now(), now())).code, 'invalid_expiry', 'an expiry of now is not in the future')
})

t.test('lifetime with a maximum: what a regenerate or copy carries is brought within it', async (t) => {
  const { now } = at()
  const policy = { defaultDays: 90, maxDays: 365 }
  t.equal(
    lifetime(policy, undefined, now(), now() + 10 * DAY),
    now() + 10 * DAY,
    'a carried expiry within the maximum is kept'
  )
  t.equal(
    lifetime(policy, undefined, now(), now() + 1000 * DAY),
    now() + 365 * DAY,
    'a carried expiry past it is cut to the maximum'
  )
  t.equal(lifetime(policy, undefined, now(), null), now() + 90 * DAY, 'a carried "never" gets the default lifetime')
  t.equal(
    refusal(() => lifetime(policy, undefined, now(), now() - 1)).code,
    'invalid_expiry',
    'a carried expiry already past is refused'
  )
  t.equal(
    lifetime(policy, now() + DAY, now(), now() + 10 * DAY),
    now() + DAY,
    'an asked-for expiry wins over the carried one'
  )
})

t.test('lifetime without a maximum (0): never is allowed, and carried as never', async (t) => {
  const { now } = at()
  const open = { defaultDays: 90, maxDays: 0 }
  t.equal(lifetime(open, null, now()), null)
  t.equal(lifetime(open, undefined, now()), now() + 90 * DAY, 'nothing asked: still the default')
  t.equal(lifetime(open, undefined, now(), null), null, 'a carried "never" stays never')
  t.equal(
    lifetime(open, undefined, now(), now() + 5000 * DAY),
    now() + 5000 * DAY,
    'a carried expiry is kept whatever its length'
  )
  t.equal(lifetime(open, now() + 10_000 * DAY, now()), now() + 10_000 * DAY, 'any future expiry is kept')
})

t.test('lifetime follows the clock: the default is counted from now', async (t) => {
  const { clock, now } = at()
  const policy = { defaultDays: 90, maxDays: 365 }
  const first = lifetime(policy, undefined, now())
  clock.advance(DAY * 1000)
  t.equal(lifetime(policy, undefined, now()), (first as number) + DAY, 'a day later, a day later')
  const asked = now() + 365 * DAY + 1
  t.equal(refusal(() => lifetime(policy, asked, now())).code, 'invalid_expiry', 'a second past the maximum now')
  clock.advance(1000)
  t.equal(lifetime(policy, asked, now()), asked, 'within it a second later')
})

const caller = (scopes: string[]): ActiveToken => ({
  id: 'AAAAAAAAAAAAAAAAAAAAAA',
  accountId: 'acc',
  username: 'u',
  accountKind: 'admin',
  tokenKind: 'pat',
  scopes,
  iat: 0,
  exp: null
})

t.test('checkScopes: within the owner and the calling credential passes', async (t) => {
  t.doesNotThrow(() => checkScopes(['tokens:read'], ['tokens:read', 'tokens:write'], caller(['tokens:read'])))
  t.doesNotThrow(() => checkScopes([], ['tokens:read'], caller([])), 'no scopes at all')
  t.doesNotThrow(
    () => checkScopes(['tokens:read', 'tokens:write'], ['tokens:read', 'tokens:write'], null),
    'the operator (no caller) is bounded by the owner only'
  )
})

t.test('checkScopes: beyond the owner is scope_not_permitted, naming what is missing', async (t) => {
  const err = refusal(() => checkScopes(['tokens:read', 'accounts:write'], ['tokens:read'], null))
  t.equal(err.code, 'scope_not_permitted')
  t.equal(err.statusCode, 403)
  t.equal(err.message, 'the account does not hold accounts:write')
})

t.test('checkScopes: beyond the calling credential is scope_not_permitted: no token mints a broader one', async (t) => {
  const err = refusal(() =>
    checkScopes(['tokens:read', 'tokens:write'], ['tokens:read', 'tokens:write'], caller(['tokens:read']))
  )
  t.equal(err.code, 'scope_not_permitted')
  t.equal(err.message, 'the calling credential does not hold tokens:write')
  const both = refusal(() => checkScopes(['accounts:write'], ['tokens:read'], caller([])))
  t.equal(both.message, 'the account does not hold accounts:write', 'the owner is checked first')
})

t.test('cursors: what encodeCursor gives, decodeCursor reads back', async (t) => {
  for (const token of [
    { createdAt: START, id: 'AAAAAAAAAAAAAAAAAAAAAA' },
    { createdAt: 0, id: '' },
    { createdAt: Number.MAX_SAFE_INTEGER, id: 'a-b_c' }
  ]) {
    const cursor = encodeCursor(token)
    t.match(cursor, /^[A-Za-z0-9_-]*$/, 'base64url, no padding')
    t.same(decodeCursor(cursor), token)
  }
})

t.test('cursors: anything this service did not issue is invalid_request', async (t) => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  for (const [label, cursor] of [
    ['empty', ''],
    ['not base64 JSON', 'not-a-cursor'],
    ['an object', b64({ createdAt: 1, id: 'x' })],
    ['three items', b64([1, 'x', 2])],
    ['a fractional time', b64([1.5, 'x'])],
    ['an unsafe integer', b64([2 ** 53, 'x'])],
    ['a numeric id', b64([1, 2])],
    ['an id past 22 characters', b64([1, 'A'.repeat(23)])]
  ] as const) {
    const err = refusal(() => decodeCursor(cursor))
    t.equal(err.code, 'invalid_request', label)
    t.equal(err.message, 'cursor is not one this service issued', label)
  }
})

t.test(
  'mint: a value of the current key that parses back to its id, kind and expiry; the stored hash is the peppered one',
  async (t) => {
    const { now } = at()
    const keys = {
      prefix: 'tka',
      signingKeys: [
        { kid: 'new', secret: randomBytes(32) },
        { kid: 'old', secret: randomBytes(32) }
      ],
      pepper: randomBytes(32)
    }
    for (const [kind, exp] of [
      ['pat', now() + DAY],
      ['svc', null],
      ['lgn', now() + 3600]
    ] as const) {
      const m = mint(keys, kind, exp)
      t.equal(m.kid, 'new', `${kind}: the first key signs`)
      t.match(m.value, new RegExp(`^tka_${kind}_`))
      t.same(
        parseToken(m.value, 'tka', keys.signingKeys),
        { ok: true, claims: { kind, kid: 'new', id: m.id, exp } },
        `${kind}: parses back`
      )
      t.equal(m.hash, hashToken(keys.pepper, m.value).toString('hex'), `${kind}: the stored hash`)
    }
    t.not(mint(keys, 'pat', null).id, mint(keys, 'pat', null).id, 'a fresh id each time')
  }
)
