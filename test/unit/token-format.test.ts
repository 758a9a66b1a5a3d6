import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import {
  encodeToken,
  hashToken,
  hasValidChecksum,
  newTokenId,
  parseToken,
  tokenRegex,
  TOKEN_KINDS
} from '../../services/authority/src/tokens/token-format.js'

const key = { kid: 'k1', secret: randomBytes(32) }
const other = { kid: 'k2', secret: randomBytes(32) }
const PREFIX = 'tka'

t.test('round trip for every kind, with and without expiry', async (t) => {
  for (const kind of TOKEN_KINDS) {
    for (const exp of [null, 1_900_000_000, 2 ** 48 - 1]) {
      const id = newTokenId()
      const value = encodeToken(PREFIX, kind, key, id, exp)
      t.match(value, tokenRegex(PREFIX), 'matches the documented scanner regex')
      t.ok(value.startsWith(`tka_${kind}_`))
      const r = parseToken(value, PREFIX, [key])
      t.same(r, { ok: true, claims: { kind, kid: 'k1', id, exp } })
    }
  }
})

t.test('the secret part carries 256 bits: two tokens with the same id and expiry differ', async (t) => {
  const id = newTokenId()
  const a = encodeToken(PREFIX, 'pat', key, id, null)
  const b = encodeToken(PREFIX, 'pat', key, id, null)
  t.not(a, b)
  t.not(hashToken(randomBytes(32), a).toString('hex'), hashToken(randomBytes(32), b).toString('hex'))
})

t.test('every single-character corruption is rejected', async (t) => {
  // Every other character of the alphabet at every position: none may parse. (An earlier version
  // picked one replacement per position and skipped the position when it came out unchanged, so
  // about 1 run in 32 counted one corruption short.)
  const value = encodeToken(PREFIX, 'pat', key, newTokenId(), 1_900_000_000)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  let tried = 0
  const accepted: string[] = []
  for (let i = 0; i < value.length; i++) {
    for (const replacement of alphabet) {
      if (replacement === value[i]) continue
      tried++
      const corrupted = value.slice(0, i) + replacement + value.slice(i + 1)
      if (parseToken(corrupted, PREFIX, [key]).ok) accepted.push(`${i}:${replacement}`)
    }
  }
  t.equal(tried, value.length * (alphabet.length - 1), 'every position tried with every other character')
  t.same(accepted, [], 'no corruption accepted')
})

t.test('checksum is checked before the signature; a scanner can validate offline', async (t) => {
  const value = encodeToken(PREFIX, 'svc', key, newTokenId(), null)
  t.ok(hasValidChecksum(value, PREFIX))
  const flipped = value.slice(0, 20) + (value[20] === 'A' ? 'B' : 'A') + value.slice(21)
  const r = parseToken(flipped, PREFIX, [key])
  t.same(r, { ok: false, reason: 'checksum' })
  t.notOk(hasValidChecksum(flipped, PREFIX))
})

t.test('wrong or retired key, and a forged tag with a valid checksum', async (t) => {
  const value = encodeToken(PREFIX, 'pat', key, newTokenId(), null)
  t.same(parseToken(value, PREFIX, [other]), { ok: false, reason: 'unknown_key' }, 'a retired key id is rejected')
  const forged = encodeToken(PREFIX, 'pat', { kid: 'k1', secret: randomBytes(32) }, newTokenId(), null)
  t.same(parseToken(forged, PREFIX, [key]), { ok: false, reason: 'signature' }, 'right kid, wrong secret')
  // Rotation: a new key signs, the old one still verifies while it is listed.
  const newer = encodeToken(PREFIX, 'pat', other, newTokenId(), null)
  t.equal(parseToken(newer, PREFIX, [other, key]).ok, true)
  t.equal(parseToken(value, PREFIX, [other, key]).ok, true)
})

t.test('the prefix and kind are signed: relabelling a token fails', async (t) => {
  const value = encodeToken(PREFIX, 'pat', key, newTokenId(), null)
  t.equal(parseToken(value.replace('tka_pat_', 'tka_svc_'), PREFIX, [key]).ok, false)
  t.equal(parseToken(value.replace('tka_', 'tkb_'), 'tkb', [key]).ok, false)
})

t.test('anything else is malformed and never throws', async (t) => {
  const inputs: unknown[] = [
    undefined,
    null,
    42,
    {},
    [],
    '',
    'tka_pat_',
    'Bearer x',
    `tka_pat_${'A'.repeat(131)}`,
    `tka_pat_${'A'.repeat(133)}`,
    `tka_xyz_${'A'.repeat(132)}`,
    `tka_pat_${'='.repeat(132)}`,
    `tka_pat_${'\u0000'.repeat(132)}`,
    'x'.repeat(100_000),
    '\uD800'.repeat(140)
  ]
  for (const input of inputs) {
    const r = parseToken(input, PREFIX, [key])
    t.equal(r.ok, false, `rejects ${typeof input === 'string' ? JSON.stringify(input.slice(0, 20)) : String(input)}`)
  }
  // a non-canonical base64url spelling of a valid body (the last char's spare bits) is refused
  const value = encodeToken(PREFIX, 'pat', key, newTokenId(), null)
  const last = value[value.length - 1]!
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const sibling = alphabet[alphabet.indexOf(last) ^ 1]!
  t.equal(parseToken(value.slice(0, -1) + sibling, PREFIX, [key]).ok, false)
})

t.test('encode refuses bad input', async (t) => {
  t.throws(() => encodeToken(PREFIX, 'pat', key, 'short', null), RangeError)
  t.throws(() => encodeToken(PREFIX, 'pat', key, newTokenId(), -5), RangeError)
  t.throws(() => encodeToken(PREFIX, 'pat', key, newTokenId(), 2 ** 48), RangeError)
  t.throws(() => encodeToken(PREFIX, 'pat', key, newTokenId(), null, randomBytes(16)), RangeError)
})

// (moved from the former adversarial.test.ts)
t.test('property: any input to the token parser is rejected cleanly, never a throw', async (t) => {
  const keys = [{ kid: 'k1', secret: randomBytes(32) }]
  let runs = 0
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.uint8Array({ maxLength: 16384 }).map((b) => Buffer.from(b).toString('latin1')),
        fc.stringMatching(/^tka_(pat|lgn|svc)_[A-Za-z0-9_-]{132}$/),
        fc.string({ maxLength: 16384 })
      ),
      (input) => {
        runs++
        const r = parseToken(input, 'tka', keys)
        return r.ok === false
      }
    ),
    { numRuns: 3000 }
  )
  t.equal(runs, 3000, `${runs} arbitrary inputs, all inactive`)
  t.same(parseToken(undefined, 'tka', keys), { ok: false, reason: 'malformed' })
})
