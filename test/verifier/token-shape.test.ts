// The offline shape check (prefix, kind, length, alphabet, CRC32): what cannot be the authority's
// token is refused without a network call.
import t from 'tap'
import { tokenShapeOk } from '@token-authority/fastify-verifier'
import { shapedToken } from './fake-authority.js'

t.test('well-formed tokens of every kind pass, for the default and a custom prefix', async (t) => {
  for (const kind of ['pat', 'lgn', 'svc'] as const) {
    t.ok(tokenShapeOk(shapedToken('tka', kind), 'tka'), `tka ${kind}`)
    t.ok(tokenShapeOk(shapedToken('acme', kind), 'acme'), `acme ${kind}`)
  }
})

t.test('a token of another prefix is refused', async (t) => {
  t.notOk(tokenShapeOk(shapedToken('acme'), 'tka'))
  t.notOk(tokenShapeOk(shapedToken('tka'), 'acme'))
})

t.test('unknown kind, wrong length, bad alphabet, garbage', async (t) => {
  const good = shapedToken()
  t.notOk(tokenShapeOk(good.replace('tka_pat_', 'tka_xyz_'), 'tka'), 'unknown kind')
  t.notOk(tokenShapeOk(good.slice(0, -1), 'tka'), 'one character short')
  t.notOk(tokenShapeOk(`${good}A`, 'tka'), 'one character long')
  t.notOk(tokenShapeOk(`${good.slice(0, -1)}!`, 'tka'), 'outside base64url')
  t.notOk(tokenShapeOk(`${good.slice(0, -1)}=`, 'tka'), 'padding')
  t.notOk(tokenShapeOk('', 'tka'), 'empty')
  t.notOk(tokenShapeOk('garbage', 'tka'), 'garbage')
  t.notOk(tokenShapeOk(`tka_pat_${'A'.repeat(132)}`, 'tka'), 'right length and alphabet, wrong CRC')
})

t.test('every single-character corruption of the body is caught by the CRC', async (t) => {
  const good = shapedToken('tka', 'svc')
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  let caught = 0
  let tried = 0
  for (let i = 'tka_svc_'.length; i < good.length; i++) {
    const c = good[i]!
    const replacement = alphabet[(alphabet.indexOf(c) + 1 + i) % alphabet.length]!
    const corrupted = good.slice(0, i) + replacement + good.slice(i + 1)
    if (corrupted === good) continue
    tried++
    // 99 bytes are exactly 132 base64url characters (no padding bits): every change is a change
    // of at most 6 bits, a burst CRC32 always detects
    if (!tokenShapeOk(corrupted, 'tka')) caught++
    else t.fail(`corruption at ${i} passed`)
  }
  t.equal(caught, tried, `${caught} of ${tried} corruptions refused`)
})
