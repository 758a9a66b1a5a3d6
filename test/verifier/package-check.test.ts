// scripts/verifier-package-check.sh, the check CI runs on the verifier's tarball. Here: its
// options, the offline part (--pack-only: pack, then check the tarball's files, exports targets,
// source maps and imports) on the real package and on a broken one, and that it cleans up after
// itself. The whole check (registry install + live authority) runs here only with
// VERIFIER_PACKAGE_CHECK_FULL=1; CI runs the script itself.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const script = join(root, 'scripts', 'verifier-package-check.sh')

function run(args: string[], env: Record<string, string> = {}, timeout = 120_000) {
  const r = spawnSync('bash', [script, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** a TMPDIR of the test's own, to see that the script leaves nothing behind */
/**
 * What the script left in a temporary folder. Node 22 keeps its module compile cache
 * (`node-compile-cache`, used by tsx) in TMPDIR: that is Node's, not the script's.
 */
const leftIn = (dir: string): string[] => readdirSync(dir).filter((f) => f !== 'node-compile-cache')

function ownTmp(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'verifier-check-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('bash syntax, --help, unknown options', async (t) => {
  t.equal(spawnSync('bash', ['-n', script]).status, 0, 'bash -n')
  const help = run(['--help'])
  t.equal(help.status, 0)
  t.match(help.stdout, /--pack-only/)
  const bad = run(['--frobnicate'])
  t.equal(bad.status, 2)
  t.match(bad.stderr, /usage/)
})

t.test('--pack-only on the real package: packs, checks, leaves nothing behind', async (t) => {
  const tmp = ownTmp(t)
  const before = readdirSync(join(root, 'services', 'verifier')).filter((f) => f.endsWith('.tgz'))
  const r = run(['--pack-only'], { TMPDIR: tmp })
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /npm pack -w services\/verifier/)
  t.match(r.stdout, /@token-authority\/fastify-verifier@[\d.]+ \(MIT\): \d+ files/)
  t.match(r.stdout, /pack only\) passed/)
  t.same(leftIn(tmp), [], 'its temporary folder is gone')
  t.same(
    readdirSync(join(root, 'services', 'verifier')).filter((f) => f.endsWith('.tgz')),
    before,
    'no tarball left in the package folder'
  )
})

t.test('--pack-only on a broken tarball: exits 1 naming every problem', async (t) => {
  const tmp = ownTmp(t)
  const pkg = join(tmp, 'fixture', 'package')
  mkdirSync(join(pkg, 'dist'), { recursive: true })
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: '@token-authority/fastify-verifier',
      version: '0.0.0',
      private: true,
      license: 'UNLICENSED',
      type: 'module',
      exports: { '.': { default: './dist/index.js', types: './dist/index.d.ts' } },
      dependencies: { undici: '*' }
    })
  )
  writeFileSync(
    join(pkg, 'dist', 'index.js'),
    "import { x } from '../../authority/src/x.js'\nimport fastify from 'fastify'\nexport default 1\n//# sourceMappingURL=index.js.map\n"
  )
  writeFileSync(
    join(pkg, 'dist', 'index.js.map'),
    JSON.stringify({ version: 3, sources: ['../src/index.ts'], mappings: '' })
  )
  writeFileSync(join(pkg, 'notes.txt'), 'stray file')
  const tarball = join(tmp, 'fixture', 'broken.tgz')
  t.equal(spawnSync('tar', ['-czf', tarball, '-C', join(tmp, 'fixture'), 'package']).status, 0, 'fixture packed')
  const work = join(tmp, 'work')
  mkdirSync(work)
  const r = run(['--pack-only'], { TMPDIR: work, VERIFIER_TARBALL: tarball })
  t.equal(r.status, 1)
  for (const problem of [
    /package\.json says private/,
    /licence UNLICENSED/,
    /no LICENSE file/,
    /unexpected file notes\.txt/,
    /"types" must come before "default"/,
    /exports\["\."\]\["types"\] → \.\/dist\/index\.d\.ts is missing/,
    /dist\/index\.js has no \.d\.ts/,
    /dist\/index\.js\.map: source \.\.\/src\/index\.ts is not in the tarball/,
    /dist\/index\.js imports \.\.\/\.\.\/authority\/src\/x\.js: not in dist\//,
    /dist\/index\.js imports fastify, not a dependency/,
    /FAIL: the tarball is not a usable package/
  ]) {
    t.match(r.stderr, problem)
  }
  t.same(readdirSync(work), [], 'its temporary folder is gone after a failure too')
})

t.test(
  'the whole check: registry install outside the repository, typed consumer, live authority',
  {
    skip:
      process.env.VERIFIER_PACKAGE_CHECK_FULL === '1'
        ? false
        : 'set VERIFIER_PACKAGE_CHECK_FULL=1 (needs the npm registry; CI runs the script itself)'
  },
  async (t) => {
    const tmp = ownTmp(t)
    const r = run([], { TMPDIR: tmp }, 280_000)
    t.equal(r.status, 0, r.stderr)
    t.match(r.stdout, /with the PAT \(tokens:read\) → 200/)
    t.match(r.stdout, /revoked PAT, \d+ ms after the revoke → 401/)
    t.match(r.stdout, /authority down → 503/)
    t.same(leftIn(tmp), [])
  }
)
