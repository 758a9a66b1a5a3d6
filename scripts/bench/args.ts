/**
 * Command line of `npm run bench -- …`, with the operator CLI's conventions (scripts/authority-cli.ts):
 * options by their exact names, `--name value` or `--name=value` (a value may start with "-"),
 * -h/--help prints the usage on stdout and exits 0 (and wins over other mistakes), "--" ends the
 * options, and a usage error is reported on stderr with the usage and exit code 2.
 */

export const SCENARIO_KEYS = [
  'baseline',
  'baseline-full',
  'hello',
  'warm',
  'forged',
  'cold',
  'verifier-public',
  'verifier',
  'peer',
  'create',
  'create-confirmed',
  'regenerate',
  'login',
  'warm-1m',
  'cold-1m',
  'baseline-end'
] as const
export type ScenarioKey = (typeof SCENARIO_KEYS)[number]

export interface BenchArgs {
  /** seconds measured per scenario */
  duration: number
  /** seconds of warm-up before each measured run */
  warmup: number
  connections: number
  /** the scenario list is run this many times; the table shows medians */
  rounds: number
  /** tokens seeded for the main runs */
  seed: number
  /** size of the introspected set (warm / cold / baseline / peer) */
  warmSet: number
  seed1m: boolean
  bcryptCost: number
  backends: ('embedded' | 'mysql+redis')[] | 'auto'
  only: Set<ScenarioKey> | null
  profile: ScenarioKey | null
  outDir: string | null
  /** also write docs/performance-results.md from this run's results */
  writeDocs: boolean
}

/** a command line the bench cannot run: exit 2, with the usage */
export class BenchUsageError extends Error {
  override name = 'BenchUsageError'
}

export const BENCH_USAGE = `usage: npm run bench -- [options]
  --duration N        seconds measured per scenario (default 5)
  --warmup N          seconds of warm-up before each (default 2)
  --connections N     concurrent connections of the load generator (default 32)
  --rounds N          run the scenario list N times and report medians (default 1; use 3 on a
                      shared, noisy machine: each round's ratios are taken against its own baseline)
  --seed N            tokens seeded for the main runs (default 10000)
  --warm-set N        tokens introspected in the warm/cold/baseline runs (default min(seed, 10000))
  --seed-1m           also grow the table to 1,000,000 tokens and rerun warm and cold introspection
  --bcrypt-cost N     BCRYPT_COST of the authority (default 12, as deployed)
  --backend NAME      embedded | mysql | all (default: embedded, plus MySQL + Redis when
                      BENCH_DATABASE_URL/BENCH_REDIS_URL or TEST_DATABASE_URL/TEST_REDIS_URL are set)
  --only a,b,c        run only these scenarios (the POST baseline always runs): ${SCENARIO_KEYS.join(', ')}
  --profile KEY       CPU-profile the server process during that scenario's measured run
                      (writes bench/results/<time>-<backend>-<KEY>.cpuprofile and prints a summary)
  --out DIR           where the JSON goes (default bench/results)
  --write-docs        also write docs/performance-results.md from this run (commit it with a full run)
  -h, --help          this help; exit 0
  --                  end of options (the bench takes no arguments)
exit codes: 0 done, 1 failed, 2 usage error`

/** Parses the bench's options, or asks for the help text; throws BenchUsageError. */
export function parseArgs(argv: readonly string[]): BenchArgs | { help: string } {
  const a: BenchArgs = {
    duration: 5,
    warmup: 2,
    connections: 32,
    rounds: 1,
    seed: 10_000,
    warmSet: 0,
    seed1m: false,
    bcryptCost: 12,
    backends: 'auto',
    only: null,
    profile: null,
    outDir: null,
    writeDocs: false
  }
  // --help wins over any mistake on the same line, as with the operator CLI
  const options = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv
  if (options.includes('--help') || options.includes('-h')) return { help: BENCH_USAGE }
  const usage = (message: string) => new BenchUsageError(`${message}\n${BENCH_USAGE}`)
  const num = (name: string, v: string, min: number, max: number): number => {
    const n = Number(v)
    if (v === '' || !Number.isFinite(n) || n < min || n > max) throw usage(`${name} must be a number in ${min}..${max}`)
    return n
  }
  const key = (v: string): ScenarioKey => {
    if (!(SCENARIO_KEYS as readonly string[]).includes(v)) throw usage(`unknown scenario "${v}"`)
    return v as ScenarioKey
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      if (i + 1 < argv.length) throw usage(`unexpected argument ${argv[i + 1]!}`)
      break
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined]
    /** the option's value: after "=", else the next word whatever it looks like */
    const value = (): string => {
      const v = inline ?? argv[++i]
      if (v === undefined) throw usage(`${flag} needs a value`)
      return v
    }
    const flagOnly = () => {
      if (inline !== undefined) throw usage(`${flag} takes no value`)
    }
    switch (flag) {
      case '--duration':
        a.duration = num(flag, value(), 1, 600)
        break
      case '--warmup':
        a.warmup = num(flag, value(), 0, 120)
        break
      case '--connections':
        a.connections = Math.floor(num(flag, value(), 1, 1000))
        break
      case '--rounds':
        a.rounds = Math.floor(num(flag, value(), 1, 20))
        break
      case '--seed':
        a.seed = Math.floor(num(flag, value(), 100, 1_000_000))
        break
      case '--warm-set':
        a.warmSet = Math.floor(num(flag, value(), 10, 100_000))
        break
      case '--seed-1m':
        flagOnly()
        a.seed1m = true
        break
      case '--bcrypt-cost':
        a.bcryptCost = Math.floor(num(flag, value(), 4, 15))
        break
      case '--backend': {
        const v = value()
        if (v === 'embedded') a.backends = ['embedded']
        else if (v === 'mysql' || v === 'mysql+redis') a.backends = ['mysql+redis']
        else if (v === 'all') a.backends = ['embedded', 'mysql+redis']
        else throw usage('--backend must be embedded, mysql or all')
        break
      }
      case '--only':
        a.only = new Set(value().split(',').filter(Boolean).map(key))
        break
      case '--profile':
        a.profile = key(value())
        break
      case '--out':
        a.outDir = value()
        break
      case '--write-docs':
        flagOnly()
        a.writeDocs = true
        break
      default:
        throw usage(arg.startsWith('-') ? `unknown option ${arg}` : `unexpected argument ${arg}`)
    }
  }
  if (a.warmSet === 0) a.warmSet = Math.min(a.seed, 10_000)
  if (a.warmSet > a.seed) throw usage('--warm-set cannot exceed --seed')
  return a
}

/**
 * The side benches (`bench:burst`, `bench:hot`, `bench:fleet`, `bench:revocations`) read their few
 * options themselves; this holds them to the same conventions as `npm run bench` and the operator
 * CLI before they start anything: `-h`/`--help` prints the usage and exits 0 wherever it is; an
 * unknown option, a value missing or an unexpected argument prints what is wrong and the usage and
 * exits 2.
 */
export function checkSideBenchArgs(
  argv: readonly string[],
  usage: string,
  valued: readonly string[],
  flags: readonly string[] = [],
  exit: (code: number) => never = (code) => process.exit(code)
): void {
  const end = argv.indexOf('--')
  const options = end === -1 ? argv : argv.slice(0, end)
  if (options.includes('--help') || options.includes('-h')) {
    process.stdout.write(usage.endsWith('\n') ? usage : `${usage}\n`)
    exit(0)
  }
  const fail = (problem: string) => {
    process.stderr.write(`${problem}\n${usage.endsWith('\n') ? usage : `${usage}\n`}`)
    exit(2)
  }
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!
    if (word === '--') {
      if (i + 1 < argv.length) fail(`unexpected argument ${argv[i + 1]}`)
      break
    }
    if (valued.includes(word)) {
      if (i + 1 >= argv.length) fail(`${word} needs a value`)
      i++
    } else if (!flags.includes(word)) {
      fail(word.startsWith('-') ? `unknown option ${word}` : `unexpected argument ${word}`)
    }
  }
}
