import { mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { ConfigError, loadConfig } from '../../services/authority/src/config.js'
import { resolveKeys } from '../../services/authority/src/keys.js'

const key = (kid: string) => `${kid}:${randomBytes(32).toString('base64')}`

t.test('defaults', async (t) => {
  const c = loadConfig({})
  t.equal(c.PORT, 3000)
  t.equal(c.HOST, '0.0.0.0')
  t.equal(c.BCRYPT_COST, 12)
  t.equal(c.ADMIN_TOKEN_TTL_SECONDS, 14400)
  t.equal(c.CUSTOMER_TOKEN_TTL_SECONDS, 3600)
  t.equal(c.REQUIRE_PASSWORD_CONFIRMATION, true)
  t.equal(c.ALLOW_QUERY_TOKENS, false)
  t.equal(c.DATABASE_URL, undefined)
  t.ok(Object.isFrozen(c), 'parsed once, frozen')
})

t.test('bad configuration fails with a message naming the variable', async (t) => {
  const bad: Record<string, string>[] = [
    { PORT: 'abc' },
    { PORT: '70000' },
    { LOG_LEVEL: 'loud' },
    { DATABASE_URL: 'postgres://x' },
    { BCRYPT_COST: '3' },
    { REQUIRE_PASSWORD_CONFIRMATION: 'maybe' },
    { LOGIN_ACCOUNT_FAILURES_PER_HOUR: '101' },
    { DATABASE_URL: 'mysql://root@db/x' },
    { TOKEN_SIGNING_KEYS: 'nocolon' },
    { TOKEN_SIGNING_KEYS: `k1:${randomBytes(8).toString('base64')}` },
    { TOKEN_SIGNING_KEYS: `${key('k1')},${key('k1')}` },
    { TOKEN_PEPPER: 'c2hvcnQ=' },
    { BOOTSTRAP_ADMIN_USERNAME: 'admin' },
    { EXTRA_SCOPES: 'not a scope' }
  ]
  for (const env of bad) {
    t.throws(() => loadConfig(env), ConfigError, JSON.stringify(env))
  }
  t.throws(() => loadConfig({ PORT: 'abc' }), /PORT/)
  t.throws(() => loadConfig({ DATABASE_URL: 'mysql://root@db/x' }), /TOKEN_SIGNING_KEYS and TOKEN_PEPPER are required/)
})

t.test('keys: newest first signs, *_FILE secrets, both forms refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ta-cfg-'))
  const pepperFile = join(dir, 'pepper')
  writeFileSync(pepperFile, `${randomBytes(32).toString('base64')}\n`)
  const c = loadConfig({
    TOKEN_SIGNING_KEYS: `${key('new')},${key('old')}`,
    TOKEN_PEPPER_FILE: pepperFile,
    DATABASE_URL: 'mysql://u@h/db'
  })
  t.same(
    c.signingKeys?.map((k) => k.kid),
    ['new', 'old']
  )
  t.equal(c.pepper?.length, 32)
  t.throws(() => loadConfig({ TOKEN_PEPPER: 'x', TOKEN_PEPPER_FILE: pepperFile }), /not both/)
  t.throws(() => loadConfig({ TOKEN_PEPPER_FILE: join(dir, 'missing') }), /cannot read/)
  t.same(loadConfig({ EXTRA_SCOPES: 'orders:read=Read orders,orders:write' }).extraScopes, [
    { name: 'orders:read', description: 'Read orders' },
    { name: 'orders:write', description: 'orders:write' }
  ])
})

t.test('embedded default: keys generated once into the data folder with mode 0600', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ta-keys-'))
  const first = resolveKeys(loadConfig({ DATA_DIR: dir }))
  t.equal(first.generated, true)
  t.equal(statSync(first.file!).mode & 0o777, 0o600)
  const second = resolveKeys(loadConfig({ DATA_DIR: dir }))
  t.equal(second.generated, false)
  t.same(second.signingKeys[0]!.secret, first.signingKeys[0]!.secret, 'tokens survive restarts')
  t.same(second.pepper, first.pepper)
})
