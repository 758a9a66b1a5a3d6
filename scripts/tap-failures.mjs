// The failed tests of a tap run, from the results tap saves per test file (.tap/test-results), for
// scripts/run-tests.mjs to print last: c8's coverage table comes after tap's own report, and a CI
// log's tail may show only the table.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parse as parseYaml } from 'yaml'

/**
 * Each failed test or assertion in the result files under `results` written at or after `since` (ms),
 * with where it failed and the first lines of what was seen, and each file that ended without its plan;
 * at most `max` lines, then one saying how many more.
 */
export const failedTests = (results, since = 0, max = 80) => {
  const files = []
  const walk = (d) => {
    if (!existsSync(d)) return
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.tap') && statSync(p).mtimeMs >= since) files.push(p)
    }
  }
  walk(results)
  const out = []
  for (const file of files.sort()) {
    const lines = readFileSync(file, 'utf8').split('\n')
    const failed = []
    lines.forEach((line, i) => {
      // a failure marked TODO is expected (and does not fail the run)
      if (!/^\s*not ok /.test(line) || /#\s*TODO\b/i.test(line)) return
      failed.push(`  ${line.trim()}`)
      // a YAML diagnostic may follow: keep where it failed and what was seen
      if (!/^\s*---\s*$/.test(lines[i + 1] ?? '')) return
      const indent = lines[i + 1].indexOf('-')
      const block = []
      // the block ends at `...` at its own indent (a multi-line string inside may hold one deeper)
      const end = `${' '.repeat(indent)}...`
      for (let j = i + 2; j < lines.length && lines[j].trimEnd() !== end; j++) block.push(lines[j].slice(indent))
      let diag
      try {
        diag = parseYaml(block.join('\n'))
      } catch {
        return
      }
      if (diag === null || typeof diag !== 'object') return
      const show = (v) =>
        (typeof v === 'string' ? v : JSON.stringify(v))
          .split('\n')
          .filter((l) => l.trim() !== '')
          .slice(0, 8)
      if (diag.at?.fileName) failed.push(`      at ${diag.at.fileName}:${diag.at.lineNumber}`)
      for (const key of ['message', 'error', 'code', 'timeout', 'signal', 'found', 'wanted', 'diff']) {
        if (diag[key] === undefined) continue
        for (const [n, l] of show(diag[key]).entries())
          failed.push(`      ${n === 0 ? `${key}: ` : '  '}${l}`.slice(0, 200))
      }
    })
    // a file that never printed its plan died before the end (an import error, OOM, a kill)
    if (!lines.some((l) => /^1\.\.\d+/.test(l)))
      failed.push('  no plan: the test process ended before its end (crashed, killed or timed out)')
    if (failed.length > 0) out.push(relative(results, file).replace(/\.tap$/, ''), ...failed)
  }
  return out.length > max ? [...out.slice(0, max), `  … ${out.length - max} more lines in .tap/test-results`] : out
}
