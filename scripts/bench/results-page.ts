/**
 * `npm run bench:page [-- FILE]`: writes docs/performance-results.md from a results file of
 * `npm run bench` (default: the newest bench/results/*.json), as `npm run bench -- --write-docs`
 * does at the end of a run. The page is the file's figures, nothing copied by hand.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { resultsPage, RESULTS_PAGE, sourceName, type ResultFile } from './report.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const args = process.argv.slice(2).filter((a) => a !== '--')
if (args.includes('-h') || args.includes('--help')) {
  process.stdout.write(
    `usage: npm run bench:page [-- FILE]\n  writes ${RESULTS_PAGE} from FILE (default: the newest bench/results/*.json)\nexit codes: 0 done, 1 failed, 2 usage error\n`
  )
  process.exit(0)
}
if (args.length > 1) {
  process.stderr.write('bench:page: one results file at most\n')
  process.exit(2)
}
let file = args[0]
if (file === undefined) {
  const dir = join(ROOT, 'bench', 'results')
  let names: string[] = []
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort()
  } catch {
    // no results yet
  }
  if (names.length === 0) {
    process.stderr.write('bench:page: no bench/results/*.json; run `npm run bench` first\n')
    process.exit(1)
  }
  file = join(dir, names[names.length - 1]!)
}
const result = JSON.parse(readFileSync(resolve(file), 'utf8')) as ResultFile
const source = sourceName(ROOT, resolve(file))
writeFileSync(join(ROOT, RESULTS_PAGE), resultsPage(result, source))
process.stdout.write(`${RESULTS_PAGE}: written from ${source}\n`)
