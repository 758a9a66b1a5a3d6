import { readFileSync } from 'node:fs'
import t from 'tap'
import { parseArgs, type BenchArgs } from '../../scripts/bench/args.js'
import {
  commandOf,
  partialReasons,
  resultsPage,
  RESULTS_PAGE,
  sourceName,
  type ResultFile
} from '../../scripts/bench/report.js'

/**
 * The bench writes docs/performance-results.md from its results file (`--write-docs`, or
 * `npm run bench:page`), instead of medians copied by hand. The fixture is the JSON of a real, tiny
 * run (`--duration 1 --warmup 0 --connections 4 --seed 100 --warm-set 10 --bcrypt-cost 4`).
 */
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/bench-result.json', import.meta.url), 'utf8')
) as ResultFile
const SOURCE = 'bench/results/2026-12-03T15-19-07-508Z.json'

t.test('the page holds the run’s own figures, and only those', async (t) => {
  const page = resultsPage(fixture, SOURCE)
  t.equal(resultsPage(fixture, SOURCE), page, 'the same file gives the same page')
  t.match(page, /^<!-- Written by the bench/)
  t.match(page, `results file \`${SOURCE}\``)
  t.match(page, 'node v20.20.2, 2 × AMD EPYC')
  for (const b of fixture.backends) {
    t.match(page, `\n## ${b.backend}\n`)
    for (const r of b.rows) {
      const line = page.split('\n').find((l) => l.startsWith(`| ${r.scenario} | `))
      t.ok(line, r.scenario)
      t.match(line!, `| ${Math.round(r.rps).toLocaleString('en')} | `, `${r.key}: its req/s`)
      t.match(line!, `| ${r.errors} | `, `${r.key}: its errors`)
    }
    for (const target of b.targets) t.match(page, `${target.target}: ${target.measured}`)
  }
  t.match(page, '| introspect warm (10 of 100) | 2,642 | 1.88 | 0.94 | 9.41 | 339 | 0 |')
  t.match(page, 'Memory: cache in-process LRU')
  t.match(page, 'Seeding: 100 tokens in 0.0 s')
})

t.test('the page says how to repeat the run, and that a short run is partial', async (t) => {
  const command = commandOf(fixture)
  t.equal(
    command,
    'npm run bench -- --duration 1 --warmup 0 --connections 4 --seed 100 --warm-set 10 --bcrypt-cost 4 --backend embedded'
  )
  const again = parseArgs(command.replace('npm run bench -- ', '').split(' ')) as BenchArgs
  const s = fixture.settings
  t.same(
    {
      duration: again.duration,
      warmup: again.warmup,
      connections: again.connections,
      seed: again.seed,
      warmSet: again.warmSet,
      bcryptCost: again.bcryptCost,
      seed1m: again.seed1m
    },
    {
      duration: s.duration,
      warmup: s.warmup,
      connections: s.connections,
      seed: s.seed,
      warmSet: s.warmSet,
      bcryptCost: s.bcryptCost,
      seed1m: s.seed1m
    },
    'the command line parses back to the run’s settings'
  )
  t.match(resultsPage(fixture, SOURCE), '**A partial run**, not comparable with the targets: short runs')
  t.ok(partialReasons(fixture).length >= 4)

  const full: ResultFile = {
    ...fixture,
    settings: {
      ...s,
      duration: 5,
      warmup: 2,
      connections: 32,
      rounds: 3,
      seed: 10_000,
      warmSet: 10_000,
      seed1m: true,
      bcryptCost: 12
    },
    backends: [...fixture.backends, { ...fixture.backends[0]!, backend: 'mysql+redis' }]
  }
  t.same(partialReasons(full), [], 'the run the performance page asks for is not partial')
  t.notMatch(resultsPage(full, SOURCE), 'A partial run')
  t.equal(commandOf(full), 'npm run bench -- --rounds 3 --seed-1m --backend all')
  t.match(resultsPage(full, SOURCE), '3 round(s) (req/s the median of the rounds')

  const only: ResultFile = { ...full, settings: { ...full.settings, only: ['warm', 'cold'] } }
  t.same(partialReasons(only), ['only some scenarios (warm, cold)'])
  t.match(commandOf(only), '--only warm,cold')

  // a file written before `rounds` was recorded: read from the rows' rounds
  const { rounds: _r, ...noRounds } = full.settings
  const rows = fixture.backends[0]!.rows.map((r) => ({ ...r, rpsRounds: [r.rps, r.rps, r.rps] }))
  t.match(commandOf({ ...full, settings: noRounds, backends: [{ ...fixture.backends[0]!, rows }] }), '--rounds 3')
})

t.test('the bench option that writes the page', async (t) => {
  t.equal((parseArgs(['--write-docs']) as BenchArgs).writeDocs, true)
  t.equal((parseArgs([]) as BenchArgs).writeDocs, false)
  t.throws(() => parseArgs(['--write-docs=yes']), /--write-docs takes no value/)
  t.equal(RESULTS_PAGE, 'docs/performance-results.md')
  t.equal(sourceName('/repo', '/repo/bench/results/x.json'), 'bench/results/x.json')
  t.equal(sourceName('/repo', '/tmp/x.json'), '/tmp/x.json', 'outside the repository: absolute')
})
