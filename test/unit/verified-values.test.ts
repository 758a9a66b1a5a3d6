import { randomBytes } from 'node:crypto'
import t from 'tap'
import { encodeToken, hashToken, newTokenId, parseToken } from '../../services/authority/src/tokens/token-format.js'
import type { TokenKeys } from '../../services/authority/src/tokens/token-keys.js'
import { VerifiedValues } from '../../services/authority/src/tokens/verified-values.js'

/**
 * The memo of verified values (issue 18): a warm repeat skips the two keyed hashes, and it can
 * never answer differently from a full read — forged values are never kept, its answer for a
 * kept value is exactly the full read's, and it is bounded.
 */
const keys: TokenKeys = {
  prefix: 'tka',
  signingKeys: [{ kid: 'k1', secret: randomBytes(32) }],
  pepper: randomBytes(32)
}
const mint = (exp: number | null = null) => encodeToken('tka', 'pat', keys.signingKeys[0]!, newTokenId(), exp)

/** the same answer a reader without the memo gives */
function fullRead(value: string) {
  const parsed = parseToken(value, keys.prefix, keys.signingKeys)
  return parsed.ok ? { ok: true, value: { claims: parsed.claims, hash: hashToken(keys.pepper, value) } } : parsed
}

t.test('a verified value read again answers exactly what a full read answers', async (t) => {
  const memo = new VerifiedValues(keys, 100)
  const value = mint(1_900_000_000)
  const first = memo.read(value)
  t.equal(memo.size, 1, 'kept after its signature checked out')
  const again = memo.read(value)
  t.same(again, fullRead(value), 'claims and storage hash as a full read gives them')
  t.same(again, first)
  t.equal(memo.size, 1, 'one entry per value')
})

t.test('nothing that fails the full check is ever kept, and a kept value does not vouch for a neighbour', async (t) => {
  const memo = new VerifiedValues(keys, 100)
  const good = mint()
  t.ok(memo.read(good).ok)
  const last = good.at(-1) === 'A' ? 'B' : 'A'
  const forged = [
    `${good.slice(0, -1)}${last}`, // one character off: checksum
    encodeToken('tka', 'pat', { kid: 'k1', secret: randomBytes(32) }, newTokenId(), null), // another key
    encodeToken('tka', 'pat', { kid: 'k9', secret: randomBytes(32) }, newTokenId(), null), // unknown kid
    'tka_pat_short',
    `${good} `,
    'x'.repeat(300),
    ''
  ]
  for (const value of forged) {
    for (let i = 0; i < 2; i++) {
      const r = memo.read(value)
      t.same(r, fullRead(value), `refused as a full read refuses it: ${JSON.stringify(r)}`)
      t.notOk(r.ok)
    }
  }
  for (const value of [42, null, undefined, { value: good }, [good]]) {
    t.notOk(memo.read(value).ok, `a ${typeof value} is refused`)
  }
  t.equal(memo.size, 1, 'only the good value is remembered')
})

t.test('another process with other keys does not accept what this one verified', async (t) => {
  const value = mint()
  const mine = new VerifiedValues(keys, 100)
  t.ok(mine.read(value).ok)
  const theirs = new VerifiedValues(
    { prefix: 'tka', signingKeys: [{ kid: 'k1', secret: randomBytes(32) }], pepper: randomBytes(32) },
    100
  )
  t.notOk(theirs.read(value).ok, 'the memo is per key set: nothing is shared')
})

t.test('bounded by entry count, least recently used out first; 0 turns it off', async (t) => {
  const memo = new VerifiedValues(keys, 3)
  const values = [mint(), mint(), mint(), mint(), mint()]
  for (const v of values) t.ok(memo.read(v).ok)
  t.equal(memo.size, 3, 'never more than the bound')
  for (const v of values) t.same(memo.read(v), fullRead(v), 'evicted or not, the answer is the same')

  const off = new VerifiedValues(keys, 0)
  const v = mint()
  t.same(off.read(v), fullRead(v), 'off: reads in full')
  t.equal(off.size, 0, 'and keeps nothing')
})
