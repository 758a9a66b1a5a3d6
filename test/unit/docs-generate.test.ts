import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { ConfigSchema, FILE_VARS } from '../../services/authority/src/config.js'
import { ERROR_CODES } from '../../services/authority/src/errors.js'
import {
  anchorsOf,
  configurationPage,
  CONFIGURATION_PAGE,
  docsDrift,
  errorEntries,
  errorsPage,
  ERRORS_PAGE,
  generatedDocs,
  linkedPages,
  linkProblems,
  ROOT
} from '../../scripts/docs-generate.js'

/**
 * docs/configuration.md and docs/errors.md are generated from the config schema and the error
 * catalogue (`npm run docs`); `npm run docs:check` (CI) and this test fail when a committed page
 * differs from what the code generates, or a link of the README or docs/ is broken.
 */
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')

t.test('the committed generated pages are what the code generates', async (t) => {
  t.same(docsDrift(), [])
})

t.test('the configuration page: every schema variable once, its default, † exactly for NAME_FILE', async (t) => {
  const page = read(CONFIGURATION_PAGE)
  const rows = page.split('\n').filter((l) => l.startsWith('| `'))
  const names = rows.map((r) => /^\| `([A-Z0-9_]+)`/.exec(r)?.[1])
  t.same(names, Object.keys(ConfigSchema.properties), 'one row per variable, in schema order')
  for (const row of rows) {
    const name = /^\| `([A-Z0-9_]+)`/.exec(row)![1]!
    t.equal(
      row.startsWith(`| \`${name}\` † |`),
      (FILE_VARS as readonly string[]).includes(name),
      `${name}: † iff it accepts ${name}_FILE`
    )
  }
  t.match(page, '| `BCRYPT_COST` | `12` | integer 4–15 |')
  t.match(page, '| `EXTRA_SCOPES` | empty |')
  t.match(page, '| `DATABASE_URL` † | unset | string matching `^mysql://` |')
})

t.test('the errors page: every code of the catalogue with its status', async (t) => {
  const page = read(ERRORS_PAGE)
  for (const [code, status] of Object.entries(ERROR_CODES)) t.match(page, `| \`${code}\` | ${status} | `, code)
})

t.test('the check fails on drift (so the test above can fail)', async (t) => {
  const files = generatedDocs()
  const committed = new Map(files.map((f) => [f.path, f.content]))
  const reader = (m: Map<string, string>) => (path: string) => m.get(path)
  t.same(docsDrift(files, reader(committed)), [], 'identical: no drift')

  const edited = new Map(committed)
  edited.set(
    CONFIGURATION_PAGE,
    committed.get(CONFIGURATION_PAGE)!.replace('| `BCRYPT_COST` | `12` |', '| `BCRYPT_COST` | `10` |')
  )
  t.not(edited.get(CONFIGURATION_PAGE), committed.get(CONFIGURATION_PAGE), 'the row was there to edit')
  t.same(docsDrift(files, reader(edited)), [
    `${CONFIGURATION_PAGE}: differs from what the code generates; run "npm run docs" and commit it`
  ])

  const missing = new Map(committed)
  missing.delete(ERRORS_PAGE)
  t.same(docsDrift(files, reader(missing)), [`${ERRORS_PAGE}: missing; run "npm run docs" and commit it`])

  // a schema change (a new variable, a changed default) changes the page the check compares with
  const schema = {
    properties: { ...ConfigSchema.properties, NEW_SETTING: { type: 'integer', default: 7, description: 'new' } }
  }
  t.not(configurationPage(schema), configurationPage(), 'a new variable changes the page')
  t.match(configurationPage(schema), '| `NEW_SETTING` | `7` | integer | new |')
  t.throws(
    () => configurationPage({ properties: { UNDESCRIBED: { type: 'string' } } }),
    /UNDESCRIBED: the config schema has no description/
  )
})

t.test('the errors page follows the catalogue, today’s shape or a fuller one', async (t) => {
  t.same(errorEntries({ a: 400 }, { a: 'the a' }), [{ code: 'a', status: 400, description: 'the a' }])
  t.same(errorEntries({ a: { status: 409, description: 'own' } }, {}), [{ code: 'a', status: 409, description: 'own' }])
  t.same(errorEntries({ a: { statusCode: 503 } }, { a: 'from the map' }), [
    { code: 'a', status: 503, description: 'from the map' }
  ])
  t.throws(() => errorEntries({ a: 400 }, {}), /a: no description/)
  t.throws(() => errorEntries({ a: {} }, { a: 'x' }), /a: no HTTP status/)
  t.match(errorsPage([{ code: 'x_y', status: 418, description: 'a | b' }]), '| `x_y` | 418 | a \\| b |')
})

t.test('links of the README and docs/ stay in the repository and resolve', async (t) => {
  const pages = linkedPages()
  t.ok(
    pages.includes('README.md') && pages.includes(CONFIGURATION_PAGE) && pages.includes('docs/design.md'),
    `${pages.length} pages`
  )
  t.same(linkProblems(), [])
  t.ok(Buffer.byteLength(read('README.md')) < 12 * 1024, 'the README stays a front page')
  for (const command of ['npm start', 'npm test']) t.match(read('README.md'), command)
})

t.test('the link check catches what it is for (so the test above can fail)', async (t) => {
  const pages = new Map<string, string>([
    [
      'README.md',
      [
        '# Title',
        '## Set-up: two commands',
        '[ok](docs/a.md) [ok anchor](docs/a.md#a-heading) [self](#set-up-two-commands) [code](`x`)',
        '[gone](docs/missing.md) [bad anchor](docs/a.md#nope) [web](https://example.com/x) [up](../outside.md)',
        'bare https://example.org in prose; `https://in.code` and a fenced one:',
        '```sh',
        'curl http://localhost:3000 [not](a-link.md)',
        '```'
      ].join('\n')
    ],
    ['docs/a.md', '# A heading\n[back](../README.md#title)\n']
  ])
  const problems = linkProblems(
    [...pages.keys()],
    (p) => pages.get(p),
    (p) => pages.has(p)
  )
  t.same(problems.sort(), [
    'README.md: ../outside.md: points outside the repository',
    'README.md: docs/a.md#nope: docs/a.md has no heading #nope',
    'README.md: docs/missing.md: no such file (docs/missing.md)',
    'README.md: https://example.com/x: points outside the repository',
    'README.md: https://example.org: points outside the repository'
  ])
  t.same(
    anchorsOf('# A heading\n## Set-up: two commands\n## A heading\n```\n# not\n```'),
    new Set(['a-heading', 'set-up-two-commands', 'a-heading-1'])
  )
})

t.test('npm run docs:check: exit 0 on the committed pages', async (t) => {
  const r = spawnSync(process.execPath, ['--import=tsx', 'scripts/docs-generate.ts', '--check'], {
    cwd: ROOT,
    encoding: 'utf8'
  })
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, `${CONFIGURATION_PAGE}: up to date`)
  t.match(r.stdout, 'none broken')
})
