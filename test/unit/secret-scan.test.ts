import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { format, formsOf, scan, type SecretsFile } from '../../scripts/secret-scan.js'

/** The suite-wide scan must bite: planted leaks in every form it claims to find are found. */
const token = (c: string) => `tka_pat_${c.repeat(100)}${'AbCd_-12'.repeat(4)}`
const A = token('a')
const B = token('b')
const UNRECORDED = token('c')

function fixture(t: { teardown(fn: () => unknown): void }, files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ta-scan-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body)
  return dir
}

const secrets = (over: Partial<SecretsFile>): string =>
  JSON.stringify({
    source: 'test/one.test.ts',
    backend: 'embedded',
    logLevel: 'debug',
    tokens: [],
    passwords: [],
    credentials: [],
    public: [],
    ...over
  })

t.test('a clean run: counts, no hits', async (t) => {
  const dir = fixture(t, {
    '1-1-embedded.secrets.json': secrets({ tokens: [A], passwords: ['correct horse battery'] }),
    '1-2-embedded.dump': Buffer.from('# table tokens\nid=abc\thash=\x00\x01\xff'),
    '1-1-embedded.log': '{"msg":"incoming request","password":"[redacted]"}\n{"msg":"done"}\n'
  })
  const r = scan(dir)
  t.same(r.hits, [])
  t.equal(r.searched.tokens, 1)
  t.equal(r.searched.passwords, 1)
  t.equal(r.files.dumps, 1)
  t.equal(r.files.logs, 1)
  t.equal(r.logLines, 2)
  t.equal(r.debugLogs, 1)
  t.match(format(r), /hits: 0/)
})

t.test('leaks in every form, across test files, are found; only a prefix is printed', async (t) => {
  const pw = 'p@ss word/ü "quoted"'
  const dir = fixture(t, {
    '1-1-embedded.secrets.json': secrets({ tokens: [A], passwords: [pw] }),
    '2-1-mysql-redis.secrets.json': secrets({
      source: 'test/two.test.ts',
      tokens: [B],
      credentials: ['client-secret-xyz']
    }),
    // a token from test one in test two's dump, and a password percent-encoded in it
    '2-2-mysql-redis.dump': `ta:x\n${A}\nurl=/v1/me?p=${encodeURIComponent(pw)}\n`,
    // the password JSON-escaped in a log line, form-encoded in another, a bcrypt hash, a token nobody recorded
    '1-3-embedded.log': [
      JSON.stringify({ body: { password: pw } }),
      `form ${encodeURIComponent(pw).replace(/%20/g, '+')}`,
      `hash $2b$04$${'x'.repeat(53)}`,
      `forwarded ${UNRECORDED}`,
      'secret client-secret-xyz'
    ].join('\n')
  })
  const r = scan(dir)
  const kinds = r.hits.map((h) => `${h.kind}@${h.file}`).sort()
  t.same(kinds, [
    'bcrypt hash@1-3-embedded.log',
    'credential@1-3-embedded.log',
    'password@1-3-embedded.log',
    'password@2-2-mysql-redis.dump',
    'token-shaped value@1-3-embedded.log',
    'token@2-2-mysql-redis.dump'
  ])
  const tokenHit = r.hits.find((h) => h.kind === 'token')!
  t.same(tokenHit.sources, ['test/one.test.ts'], 'names the test file that issued it')
  const out = format(r)
  t.notOk(out.includes(A) || out.includes(pw) || out.includes(UNRECORDED), 'never prints a whole secret')
  t.match(out, /hits: 6/)
})

t.test('values too short, too plain, or also used as ordinary fields are not searched', async (t) => {
  const dir = fixture(t, {
    '1-1-embedded.secrets.json': secrets({
      passwords: ['x', 'short', 'aaaaaaaaaaa', 'evil-username-1'],
      public: ['evil-username-1', B]
    }),
    '1-2-embedded.dump': 'x short aaaaaaaaaaa evil-username-1',
    '1-3-embedded.log': `name ${B}`
  })
  const r = scan(dir)
  t.same(r.hits, [])
  t.same(r.skipped, { tooShort: 2, lowVariety: 1, alsoPublic: 1 })
  t.equal(r.publicEchoes, 1, 'a token-shaped value a test sent as a name is reported, not counted')
})

t.test('forms', async (t) => {
  t.same(formsOf('plain-value'), ['plain-value'])
  t.same(formsOf('a b"c'), ['a b"c', 'a%20b%22c', 'a+b%22c', 'a b\\"c'])
})
