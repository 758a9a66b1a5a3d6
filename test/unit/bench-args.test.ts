import t from 'tap'
import { BENCH_USAGE, BenchUsageError, parseArgs, type BenchArgs } from '../../scripts/bench/args.js'

/** the conventions of the operator CLI (test/features/cli.test.ts), for `npm run bench -- …` */
const args = (argv: string[]): BenchArgs => {
  const a = parseArgs(argv)
  if ('help' in a) throw new Error(`expected options, got help for ${argv.join(' ')}`)
  return a
}

t.test('bench --help: the usage, wherever it is, even beside a mistake', async (t) => {
  for (const argv of [['--help'], ['-h'], ['--duration', '3', '--help'], ['--bogus', '-h']])
    t.same(parseArgs(argv), { help: BENCH_USAGE }, argv.join(' '))
  t.match(BENCH_USAGE, /^usage: npm run bench -- \[options\]/)
  t.match(BENCH_USAGE, /-h, --help/)
  t.match(BENCH_USAGE, /exit codes: 0 done, 1 failed, 2 usage error/)
  t.throws(() => parseArgs(['--', '--help']), BenchUsageError, 'after --, --help is an (unexpected) argument')
})

t.test('bench options: --name value, --name=value, "--" ends them', async (t) => {
  const a = args(['--duration', '3', '--rounds=2', '--only', 'warm,cold', '--out=-results', '--seed-1m', '--'])
  t.equal(a.duration, 3)
  t.equal(a.rounds, 2)
  t.same([...(a.only ?? [])], ['warm', 'cold'])
  t.equal(a.outDir, '-results', 'a value may start with "-"')
  t.equal(a.seed1m, true)
  t.equal(args(['--out', '-x']).outDir, '-x', 'also as the next word')
  t.same(args([]).backends, 'auto')
})

t.test('bench usage errors: BenchUsageError (exit 2) with the usage', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--bogus'], /^unknown option --bogus\nusage: npm run bench/],
    [['warm'], /^unexpected argument warm/],
    [['--', 'warm'], /^unexpected argument warm/],
    [['--duration'], /^--duration needs a value/],
    [['--out'], /^--out needs a value/],
    [['--duration', 'x'], /^--duration must be a number in 1\.\.600/],
    [['--seed-1m=yes'], /^--seed-1m takes no value/],
    [['--backend', 'postgres'], /^--backend must be embedded, mysql or all/],
    [['--profile', 'nope'], /^unknown scenario "nope"/],
    [['--seed', '100', '--warm-set', '200'], /^--warm-set cannot exceed --seed/]
  ]
  for (const [argv, re] of cases) {
    try {
      parseArgs(argv)
      t.fail(`${argv.join(' ')}: no error`)
    } catch (err) {
      t.ok(err instanceof BenchUsageError, `${argv.join(' ')}: a usage error`)
      t.match((err as Error).message, re)
    }
  }
})

t.test('the side benches (burst, hot, fleet, revocations) hold to the same conventions', async (t) => {
  const { checkSideBenchArgs } = await import('../../scripts/bench/args.js')
  const usage = 'usage: npm run bench:x -- [--rounds 3] [--no-build]'
  const outcome = (argv: string[]): { code: number | null; out: string; err: string } => {
    const out: string[] = []
    const err: string[] = []
    const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) }
    process.stdout.write = ((s: string) => out.push(s) > 0) as typeof process.stdout.write
    process.stderr.write = ((s: string) => err.push(s) > 0) as typeof process.stderr.write
    try {
      checkSideBenchArgs(argv, usage, ['--rounds'], ['--no-build'], (code) => {
        throw Object.assign(new Error('exit'), { code })
      })
      return { code: null, out: out.join(''), err: err.join('') }
    } catch (e) {
      return { code: (e as { code: number }).code, out: out.join(''), err: err.join('') }
    } finally {
      process.stdout.write = write.out
      process.stderr.write = write.err
    }
  }
  for (const argv of [['--help'], ['-h'], ['--rounds', '3', '--help'], ['--bogus', '-h']]) {
    const r = outcome(argv)
    t.equal(r.code, 0, `${argv.join(' ')}: exit 0`)
    t.match(r.out, /^usage: npm run bench:x/, `${argv.join(' ')}: the usage on stdout`)
  }
  t.equal(outcome(['--rounds', '3', '--no-build']).code, null, 'known options pass')
  t.equal(outcome(['--rounds', '3', '--']).code, null, '"--" may end them')
  const cases: [string[], RegExp][] = [
    [['--bogus'], /^unknown option --bogus\nusage:/],
    [['warm'], /^unexpected argument warm\n/],
    [['--rounds'], /^--rounds needs a value\n/],
    [['--', '--help'], /^unexpected argument --help\n/]
  ]
  for (const [argv, message] of cases) {
    const r = outcome(argv)
    t.equal(r.code, 2, `${argv.join(' ')}: exit 2`)
    t.match(r.err, message, `${argv.join(' ')}: says what is wrong`)
  }
})
