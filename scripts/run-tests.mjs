#!/usr/bin/env node
// `npm test` after the type-check: the tap suite under c8, recording every secret the tests use
// and every backend dump and log into .secret-scan/, then the suite-wide secret scan over it
// (scripts/secret-scan.ts), then the coverage gate (.c8rc.json). The folder is removed afterwards
// whatever happens; when tap fails neither the scan nor the gate runs (a partial run proves
// nothing). The last line says which step failed, if any.
//
// The coverage gate measures what this run could reach: without TEST_DATABASE_URL and
// TEST_REDIS_URL (the embedded backend only) the modules that only a Redis server exercises are
// left out of the measurement; with them set every module counts. Same thresholds either way.
//
// Arguments are passed on to tap and make the run partial: `npm test -- test/unit/config.test.ts`
// runs that file (and the secret scan over what it recorded); its coverage is summarised, not gated.
// SECRET_SCAN_KEEP=1 keeps the folder (it holds secrets: test ones only) to look into a hit.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { failedTests } from './tap-failures.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dir = join(root, '.secret-scan')
const bin = (name) => join(root, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name)
const preload = pathToFileURL(join(root, 'test', 'support', 'secret-scan-child.mjs')).href

/** modules only a Redis server runs (test/support/backends.ts: the mysql+redis backend) */
const REDIS_ONLY_MODULES = [
  'services/authority/src/cache/redis-cache.ts',
  'services/authority/src/cache/invalidation-listener.ts'
]
for (const file of REDIS_ONLY_MODULES) {
  if (!existsSync(join(root, file)))
    throw new Error(`scripts/run-tests.mjs: ${file} is gone; update REDIS_ONLY_MODULES`)
}

const set = (name) => process.env[name] !== undefined && process.env[name] !== ''
const serviceBackends = set('TEST_DATABASE_URL') && set('TEST_REDIS_URL')
const tapArgs = process.argv.slice(2)
const partial = tapArgs.length > 0
const rc = JSON.parse(readFileSync(join(root, '.c8rc.json'), 'utf8'))
// c8's --exclude replaces the .c8rc.json list, so the whole list is passed
const exclude = [...rc.exclude, ...(serviceBackends ? [] : REDIS_ONLY_MODULES)].flatMap((glob) => ['--exclude', glob])
const measured = serviceBackends
  ? 'embedded + MySQL + Redis backends, every module'
  : 'embedded backend only, Redis-only modules not measured'

const keep = process.env.SECRET_SCAN_KEEP === '1'
const clean = (force = false) => {
  if (force || !keep) rmSync(dir, { recursive: true, force: true })
  else process.stderr.write(`secret scan: kept ${dir} (SECRET_SCAN_KEEP=1)\n`)
}
clean(true)
mkdirSync(dir, { recursive: true, mode: 0o700 })
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    clean()
    process.exit(130)
  })
}

/** runs a tool; a tool that cannot be started is reported, never thrown */
const run = (command, args, env) => {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit', env })
  if (r.error) process.stderr.write(`\ncannot run ${command}: ${r.error.message}\n`)
  return r.status ?? 1
}
const finish = (lines, status) => {
  process.stderr.write(`\n${lines.map((l) => `npm test: ${l}`).join('\n')}\n`)
  process.exit(status)
}

const env = {
  ...process.env,
  SECRET_SCAN_DIR: dir,
  NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${preload}`].filter(Boolean).join(' ')
}
const c8Report = partial ? ['--reporter', 'text-summary'] : []
const started = Date.now()
const tap = run(bin('c8'), ['--check-coverage=false', ...c8Report, ...exclude, 'tap', ...tapArgs], env)
if (tap !== 0) {
  clean()
  const failed = failedTests(join(root, '.tap', 'test-results'), started)
  if (failed.length > 0)
    process.stderr.write(`\nnpm test: the failed tests (tap's report above has them in full):\n${failed.join('\n')}\n`)
  finish([`tests FAILED (tap exit ${tap}); the secret scan and the coverage gate were not run`], tap)
}

// a file that starts no authority and no backend (a unit test) records nothing: nothing to scan;
// the whole suite always records, so there an empty folder is a failure of the scan's own
const nothingRecorded = partial && readdirSync(dir).length === 0
const scan = nothingRecorded ? 0 : run(bin('tsx'), [join(root, 'scripts', 'secret-scan.ts'), dir], process.env)
clean()
const lines = [
  'tests passed',
  nothingRecorded
    ? 'secret scan not run: these tests recorded no secrets, dumps or logs'
    : scan === 0
      ? 'secret scan passed'
      : `secret scan FAILED (exit ${scan}; its report is above)`
]

let gate = 0
if (partial) {
  lines.push(`coverage not gated: a partial run (${tapArgs.join(' ')}); the gate applies to the whole suite`)
} else {
  gate = run(bin('c8'), ['check-coverage', ...exclude], process.env)
  const thresholds = `lines ${rc.lines}%, statements ${rc.statements}%, functions ${rc.functions}%, branches ${rc.branches}%`
  lines.push(
    gate === 0
      ? `coverage gate passed (${thresholds}; ${measured})`
      : `coverage gate FAILED: below ${thresholds} (${measured}); the ERROR lines above say which`
  )
}
finish(lines, scan !== 0 || gate !== 0 ? 1 : 0)
