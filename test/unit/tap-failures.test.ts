import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
// @ts-expect-error: a plain .mjs script of the test runner, without types
import { failedTests } from '../../scripts/tap-failures.mjs'

/** `npm test` ends by naming the failed tests (a CI log's tail otherwise shows only c8's table). */
const FAILED = `TAP version 14
# Subtest: outer
    not ok 1 - one is two
      ---
      compare: ===
      at:
        fileName: test/features/x.test.ts
        lineNumber: 3
        columnNumber: 5
      found: 1
      wanted: 2
      stack: |
        Test.<anonymous> (test/features/x.test.ts:3:5)
      ...
    
    ok 2 - should be equal
    1..2
not ok 1 - outer # time=34.655ms
  ---
  at:
    fileName: test/features/x.test.ts
    lineNumber: 2
  ...

1..1
`
const PASSED = `TAP version 14
ok 1 - fine # time=3ms
1..1
`

t.test('names each failed test with where it failed and what was seen; passed files are not listed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tap-failures-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'test', 'features'), { recursive: true })
  writeFileSync(join(dir, 'test', 'features', 'x.test.ts.tap'), FAILED)
  writeFileSync(join(dir, 'test', 'features', 'y.test.ts.tap'), PASSED)
  const lines: string[] = failedTests(dir)
  t.same(lines, [
    'test/features/x.test.ts',
    '  not ok 1 - one is two',
    '      at test/features/x.test.ts:3',
    '      found: 1',
    '      wanted: 2',
    '  not ok 1 - outer # time=34.655ms',
    '      at test/features/x.test.ts:2'
  ])
})

t.test('results older than this run are left out, and the list is bounded', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tap-failures-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const old = join(dir, 'old.test.ts.tap')
  writeFileSync(old, FAILED)
  utimesSync(old, new Date(1000), new Date(1000))
  t.same(failedTests(dir, Date.now() - 60_000), [])
  t.same(failedTests(dir, 0).length, 7)
  const bounded: string[] = failedTests(dir, 0, 3)
  t.equal(bounded.length, 4)
  t.match(bounded[3], /… 4 more lines/)
})

t.test('a file that ended without its plan (crashed, killed) is named; a TODO failure is not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tap-failures-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'crashed.test.ts.tap'), 'TAP version 14\n# Subtest: half-way\n')
  writeFileSync(join(dir, 'empty.test.ts.tap'), '')
  writeFileSync(join(dir, 'todo.test.ts.tap'), 'TAP version 14\nnot ok 1 - later # TODO not yet\n1..1\n')
  t.same(failedTests(dir), [
    'crashed.test.ts',
    '  no plan: the test process ended before its end (crashed, killed or timed out)',
    'empty.test.ts',
    '  no plan: the test process ended before its end (crashed, killed or timed out)'
  ])
})

t.test('no results folder (tap never started): nothing to name', async (t) => {
  t.same(failedTests(join(tmpdir(), 'no-such-tap-results')), [])
})
