#!/usr/bin/env node
// `npm test` after the type-check: the whole tap suite under c8, recording every secret the tests
// use and every backend dump and log into .secret-scan/, then the suite-wide secret scan over it
// (scripts/secret-scan.ts). The folder is removed afterwards whatever happens; when tap fails the
// scan is skipped (a partial run proves nothing) and tap's exit code is returned.
// Arguments are passed on to tap: `npm test -- test/integration/login.test.ts`.
// SECRET_SCAN_KEEP=1 keeps the folder (it holds secrets: test ones only) to look into a hit.
import { spawnSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dir = join(root, '.secret-scan')
const bin = (name) => join(root, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name)
const preload = pathToFileURL(join(root, 'test', 'helpers', 'secret-scan-child.mjs')).href

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

const env = {
  ...process.env,
  SECRET_SCAN_DIR: dir,
  NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${preload}`].filter(Boolean).join(' ')
}
const tap = spawnSync(bin('c8'), ['tap', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env })
if (tap.status !== 0) {
  clean()
  process.stderr.write(`\ntests failed (exit ${tap.status ?? tap.signal}): the secret scan was not run\n`)
  process.exit(tap.status ?? 1)
}
const scan = spawnSync(bin('tsx'), [join(root, 'scripts', 'secret-scan.ts'), dir], { cwd: root, stdio: 'inherit' })
clean()
process.exit(scan.status ?? 1)
