import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { tokenShapeOk } from '../../services/verifier/src/token-shape.js'
import {
  ADMIN,
  bearer,
  createAccount,
  createService,
  errorCode,
  introspect,
  login,
  startAuthority,
  type TestAuthority
} from '../support/authority.js'
import { BACKEND_NAMES } from '../support/backends.js'
import { assertNotLogged } from '../support/http-contract.js'

/**
 * The public leaked-token report (issue 17.3): live values are revoked (reason `leaked`, audited
 * under the reporter's address), the answer is the same whatever the values were, the work per
 * value is the same, reports are limited per address, values never reach a log. And the published
 * gitleaks rule (docs/scanners/gitleaks.toml) against real and corrupted tokens.
 */

const PW = 'leaky-password-1'

/** the rule's regex, read from the TOML file (a Go RE2 pattern that is also valid JavaScript) */
function gitleaksRegex(): RegExp {
  const toml = readFileSync(new URL('../../docs/scanners/gitleaks.toml', import.meta.url), 'utf8')
  const m = /^regex = '''(.+)'''$/m.exec(toml)
  if (m === null) throw new Error('no regex in docs/scanners/gitleaks.toml')
  const group = /^secretGroup = (\d+)$/m.exec(toml)
  if (group?.[1] !== '1') throw new Error('the rule reports its first group')
  return new RegExp(m[1]!, 'gm')
}

/** what gitleaks would report in `text`: the secret group of every match */
function scan(text: string): string[] {
  return [...text.matchAll(gitleaksRegex())].map((m) => m[1]!)
}

function report(
  ta: TestAuthority,
  tokens: unknown,
  ip = '203.0.113.7',
  headers: Record<string, string> = {}
): Promise<LightMyRequestResponse> {
  return ta.app.inject({
    method: 'POST',
    url: '/v1/leaked-tokens',
    remoteAddress: ip,
    headers,
    payload: { tokens }
  })
}

/** a value of our shape and checksum that is no token (random id, no valid signature) */
function forged(prefix = 'tka'): string {
  const v = `${prefix}_pat_${randomBytes(99).toString('base64url')}`
  return v
}

for (const backend of BACKEND_NAMES()) {
  t.test(`leaked-token reports on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend, { env: { LEAK_REPORTS_PER_MINUTE: '1000' } })
    const { app } = ta
    const verifier = await createService(ta, 'leak-verifier', ['tokens:introspect', 'tokens:introspect:reason'])
    await createAccount(ta, {
      username: 'dana',
      password: PW,
      kind: 'customer',
      permissions: ['tokens:read', 'tokens:write']
    })
    const session = await login(app, 'customer', 'dana', PW)
    const makePat = async (name: string): Promise<{ value: string; id: string }> => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(session),
        payload: { name, scopes: ['tokens:read'], password: PW }
      })
      if (res.statusCode !== 201) throw new Error(res.body)
      return { value: res.json().access_token, id: res.json().token.id }
    }
    const state = async (value: string) => introspect(ta, verifier.token, value)

    t.test('a live token reported is revoked (reason leaked), audited under the reporter’s address', async (t) => {
      const pat = await makePat('leaked one')
      const res = await report(ta, [pat.value])
      t.equal(res.statusCode, 202)
      t.strictSame(res.json(), { received: 1 })
      t.equal(res.headers['cache-control'], 'no-store')
      t.strictSame(await state(pat.value), { active: false, reason: 'revoked' })
      const row = await app.authority.database.db
        .selectFrom('tokens')
        .select('revoked_reason')
        .where('id', '=', pat.id)
        .executeTakeFirstOrThrow()
      t.equal(row.revoked_reason, 'leaked')
      const audit = await app.authority.database.db
        .selectFrom('audit_events')
        .selectAll()
        .where('token_id', '=', pat.id)
        .where('action', '=', 'token.revoke')
        .executeTakeFirstOrThrow()
      t.equal(audit.ip, '203.0.113.7', 'the reporter’s address')
      t.equal(audit.actor_account_id, null, 'no account: the report is anonymous')
      t.match(JSON.parse(audit.details), { reason: 'leaked' })
      t.notOk(audit.details.includes(pat.value), 'the value is not in the audit row')
    })

    t.test('the answer is the same whatever the values were', async (t) => {
      const live = await makePat('live in a batch')
      const batches: string[][] = [
        ['not a token at all'],
        [forged()],
        [`${live.value.slice(0, -1)}${live.value.endsWith('A') ? 'B' : 'A'}`],
        [live.value]
      ]
      const answers = []
      for (const b of batches) {
        const res = await report(ta, b)
        answers.push({ status: res.statusCode, body: res.body, type: res.headers['content-type'] })
      }
      for (const a of answers) t.strictSame(a, answers[0], 'identical status, body and type')
      t.strictSame(await state(live.value), { active: false, reason: 'revoked' })
      const mixed = await report(ta, ['x', forged(), 'y'])
      t.strictSame(mixed.json(), { received: 3 })
    })

    t.test('exchanged tokens die with a reported subject; an exchanged token can be reported itself', async (t) => {
      const pat = await makePat('subject of an exchange')
      const ex = async () => {
        const res = await app.inject({
          method: 'POST',
          url: '/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({
            grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
            subject_token: pat.value,
            subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
            audience: 'orders-api'
          }).toString()
        })
        return res.json().access_token as string
      }
      const a = await ex()
      const b = await ex()
      await report(ta, [a])
      t.strictSame(await state(a), { active: false, reason: 'revoked' }, 'the exchanged token reported')
      t.equal((await state(pat.value)).active, true, 'its subject stays (only what leaked is revoked)')
      await report(ta, [pat.value])
      t.strictSame(await state(b), { active: false, reason: 'revoked' }, 'its sibling died with the subject')
    })

    t.test('each value costs the same work: similar time for garbage, forged and dead tokens', async (t) => {
      const dead: string[] = []
      for (let i = 0; i < 100; i++) dead.push(`${(await makePat(`dead ${i}`)).value}`)
      await report(ta, dead)
      const kinds: Record<string, () => string[]> = {
        garbage: () => Array.from({ length: 100 }, () => randomBytes(70).toString('hex')),
        forged: () => Array.from({ length: 100 }, () => forged()),
        'revoked tokens': () => dead
      }
      // interleaved rounds, so drift on a shared machine falls on every kind alike
      const times: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]))
      for (let round = 0; round < 9; round++) {
        for (const [name, make] of Object.entries(kinds)) {
          const values = make()
          const start = process.hrtime.bigint()
          const res = await report(ta, values)
          times[name]!.push(Number(process.hrtime.bigint() - start) / 1e6)
          t.equal(res.statusCode, 202)
        }
      }
      const medians: Record<string, number> = {}
      for (const [name, list] of Object.entries(times)) medians[name] = list.sort((x, y) => x - y)[4]!
      const values = Object.values(medians)
      const ratio = Math.max(...values) / Math.min(...values)
      t.comment(`median ms per report of 100 values: ${JSON.stringify(medians)}; max/min ${ratio.toFixed(2)}`)
      // generous: a shared 2-core machine; what matters is no order-of-magnitude gap
      t.ok(ratio < 4, `within 4× of each other (${ratio.toFixed(2)})`)
    })

    t.test('bad input is a 400 that revokes nothing', async (t) => {
      const pat = await makePat('kept')
      for (const [label, tokens] of [
        ['101 values', Array.from({ length: 101 }, () => pat.value)],
        ['no values', []],
        ['a number among them', [pat.value, 42]],
        ['a value over 512 characters', [pat.value, 'x'.repeat(513)]],
        ['not a list', pat.value]
      ] as const) {
        const res = await report(ta, tokens)
        t.equal(res.statusCode, 400, label)
        t.equal(errorCode(res), 'validation_failed', label)
        t.notOk(res.body.includes(pat.value), `${label}: the value is not echoed`)
      }
      t.equal((await state(pat.value)).active, true)
    })

    t.test('reported values and the body are never logged', async (t) => {
      const pat = await makePat('logged?')
      const fake = forged()
      await report(ta, [pat.value, fake])
      assertNotLogged(t, ta, pat.value, 'a reported live token')
      assertNotLogged(t, ta, fake, 'a reported forged value')
      assertNotLogged(t, ta, pat.value.slice(8, 60), 'a part of the reported token')
    })

    t.test('no credential is needed, and one given is neither checked nor used', async (t) => {
      const pat = await makePat('with a bearer')
      const res = await report(ta, [pat.value], '203.0.113.8', bearer('garbage'))
      t.equal(res.statusCode, 202)
      t.strictSame(await state(pat.value), { active: false, reason: 'revoked' })
      t.ok(ADMIN.username)
    })
  })

  t.test(`leak reports are limited per client address on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend, { env: { LEAK_REPORTS_PER_MINUTE: '3' } })
    for (let i = 0; i < 3; i++) t.equal((await report(ta, ['x'], '198.51.100.1')).statusCode, 202)
    const over = await report(ta, ['x'], '198.51.100.1')
    t.equal(over.statusCode, 429)
    t.equal(errorCode(over), 'too_many_requests')
    t.ok(Number(over.headers['retry-after']) >= 1, 'Retry-After')
    t.equal((await report(ta, ['x'], '198.51.100.2')).statusCode, 202, 'another address has its own budget')
  })

  t.test(`the published gitleaks rule on real and corrupted tokens (${backend})`, async (t) => {
    const ta = await startAuthority(t, backend)
    const { app } = ta
    const svc = await createService(ta, 'scanner-svc', ['tokens:introspect'])
    const pat = (
      await app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: 'scan me', scopes: ['tokens:read'], password: ADMIN.password }
      })
    ).json().access_token as string
    const xch = (
      await app.inject({
        method: 'POST',
        url: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token: svc.token,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          audience: 'orders-api'
        }).toString()
      })
    ).json().access_token as string
    const real = { lgn: ta.adminToken, pat, svc: svc.token, xch }

    for (const [kind, value] of Object.entries(real)) {
      t.match(value, new RegExp(`^tka_${kind}_`))
      for (const text of [
        value,
        `export TOKEN=${value}\n`,
        `{"token":"${value}"}`,
        `Authorization: Bearer ${value}`,
        `url?access_token=${value}&x=1`
      ]) {
        t.strictSame(scan(text), [value], `${kind}: found in ${JSON.stringify(text.slice(0, 14))}…`)
      }
      t.ok(tokenShapeOk(value, 'tka'), `${kind}: its checksum checks`)
    }

    const v = real.pat
    const flip = (s: string, i: number) => `${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`
    const checksumFlipped = flip(v, v.length - 2)
    t.strictSame(scan(checksumFlipped), [checksumFlipped], 'checksum flipped: the regex still matches the shape…')
    t.notOk(tokenShapeOk(checksumFlipped, 'tka'), '…and the checksum check (offline, or the endpoint) rejects it')
    t.strictSame(scan(v.slice(0, -1)), [], 'truncated by one character: no match')
    t.strictSame(scan(`${v}A`), [], 'one character too long: no match')
    t.strictSame(scan(`tkb${v.slice(3)}`), [], 'wrong prefix: no match')
    t.strictSame(scan(v.replace('tka_pat_', 'tka_abc_')), [], 'unknown kind: no match')
    t.strictSame(scan(`xtka${v.slice(3)}`), [], 'glued to a word: no match')
    t.strictSame(scan(v.replace('tka_pat_', 'TKA_PAT_')), [], 'upper-case prefix: no match')
    t.strictSame(scan(`${v} ${real.svc}`), [v, real.svc], 'two tokens on one line: both')
  })
}
