/**
 * `npm run bench:burst`: bursts of concurrent warm introspections and a sustained overload against
 * one authority process (embedded default), under two load-shedding rules, side by side:
 *
 *   before  LOAD_SHED_SUSTAINED_MS=500: shed once two 250 ms samples in a row are past the limit
 *           (the rule the authority had before: two samples in a row)
 *   after   the shipped default (LOAD_SHED_SUSTAINED_MS=3000)
 *
 * For each: bursts of 1,000 / 2,000 / 5,000 requests at once (each on its own connection), then
 * the capacity (closed loop, 5 s), then twice that offered open-loop for `--seconds` (default 30).
 * Reports answered / shed / other and latency p50 / p99 of the answered ones. The load runs in a
 * child process (burst-client.mjs). Writes bench/results/<time>-burst.json; prints a Markdown table.
 *
 *   npm run bench:burst -- [--seconds 30] [--bursts 1000,2000,5000] [--rules before,after]
 */
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startAuthority, createFixtures } from './authority.js'
import { createBenchBackend } from './backend.js'
import { seedOwners, seedTokens } from './seed.js'
import { checkSideBenchArgs } from './args.js'

const run = promisify(execFile)
const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..', '..')
const argv = process.argv.slice(2)
checkSideBenchArgs(
  argv,
  `usage: npm run bench:burst -- [--seconds 30] [--bursts 1000,2000,5000] [--rules before,after]
  bursts of concurrent warm introspections, then twice the capacity for --seconds, per load-shedding
  rule (before: the old 500 ms rule, after: the shipped default, off: no shedding); embedded backend
exit codes: 0 done, 1 failed, 2 usage error`,
  ['--seconds', '--bursts', '--rules']
)
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1]! : dflt
}
const SECONDS = Number(opt('--seconds', '30'))
const BURSTS = opt('--bursts', '1000,2000,5000').split(',').map(Number)
const RULES: Record<string, Record<string, string>> = {
  before: { LOAD_SHED_SUSTAINED_MS: '500' },
  after: {},
  off: { LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0' }
}
const WANTED = opt('--rules', 'before,after').split(',')
const log = (s: string) => process.stderr.write(`${s}\n`)
const jobDir = mkdtempSync(join(tmpdir(), 'ta-load-'))
process.on('exit', () => rmSync(jobDir, { recursive: true, force: true }))
let jobs = 0
/** the load child's job, in a file (@path): thousands of bodies do not fit an argument list */
function jobFile(job: unknown): string {
  const file = join(jobDir, `job-${++jobs}.json`)
  writeFileSync(file, JSON.stringify(job))
  return `@${file}`
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface ClientResult {
  sent: number
  answered: number
  shed: number
  other: number
  p50Ms: number | null
  p99Ms: number | null
  wallMs: number
  rps?: number
  offeredRps?: number
}

async function client(job: Record<string, unknown>): Promise<ClientResult> {
  // The open-loop overload queues hundreds of thousands of requests in the client, which shares
  // the two cores with the server: room for them, and time to work them off after the sending ends.
  try {
    const { stdout } = await run(
      process.execPath,
      ['--max-old-space-size=8192', join(HERE, 'burst-client.mjs'), jobFile(job)],
      { maxBuffer: 1 << 20, timeout: (SECONDS * 8 + 120) * 1000 }
    )
    return JSON.parse(stdout) as ClientResult
  } catch (cause) {
    const e = cause as Error & { stderr?: string; killed?: boolean; signal?: string }
    throw new Error(
      `the load client failed (${e.killed ? `killed: ${e.signal}, past its time limit` : e.message}): ${(e.stderr ?? '').slice(-2000)}`
    )
  }
}

async function rule(name: string, env: Record<string, string>) {
  const saved = { ...process.env }
  for (const [k, v] of Object.entries(env)) process.env[`BENCH_TA_${k}`] = v
  const backend = await createBenchBackend('embedded')
  const ta = await startAuthority(backend, { bcryptCost: 4, logLevel: 'silent' })
  process.env = saved
  try {
    const fx = await createFixtures(ta, 1)
    const owners = await seedOwners(ta.database.db, 20, 4, name)
    const { kept } = await seedTokens({
      db: ta.database.db,
      dialect: ta.database.dialect,
      prefix: ta.config.TOKEN_PREFIX,
      signingKey: ta.signingKeys[0]!,
      pepper: ta.pepper,
      count: 5000,
      owners,
      keep: () => true,
      label: name
    })
    for (const t of kept) await ta.app.authority.introspection.verify(t.value)
    const base = {
      url: ta.url,
      path: '/introspect',
      headers: { authorization: `Bearer ${fx.serviceToken}`, 'content-type': 'application/x-www-form-urlencoded' },
      bodies: kept.map((t) => `token=${t.value}`)
    }
    const shedTotal = async () => ta.app.authority.metrics.count('ta_load_shed_total')
    // a quiet moment: the seeding above blocked the loop; the shedder must see it idle first
    await sleep(1500)
    const rows: Record<string, unknown>[] = []
    for (const count of BURSTS) {
      const r = await client({ ...base, mode: 'burst', count })
      log(`${name}: burst ${count}: ${JSON.stringify(r)}`)
      rows.push({ rule: name, load: `burst ${count.toLocaleString('en')}`, ...r })
      await sleep(1500)
    }
    const cap = await client({ ...base, mode: 'closed', connections: 32, seconds: 5 })
    log(`${name}: capacity ${Math.round(cap.rps ?? 0)} req/s`)
    await sleep(1000)
    const rate = Math.round(2 * (cap.rps ?? 0))
    const shed0 = await shedTotal()
    const over = await client({ ...base, mode: 'rate', rate, seconds: SECONDS, timeoutMs: 10000 })
    log(
      `${name}: overload ${rate}/s for ${SECONDS} s: ${JSON.stringify(over)}; shed counter +${(await shedTotal()) - shed0}`
    )
    rows.push({
      rule: name,
      load: `2× capacity (${rate.toLocaleString('en')}/s of ${Math.round(cap.rps ?? 0).toLocaleString('en')}) for ${SECONDS} s`,
      ...over
    })
    return rows
  } finally {
    await ta.close()
    await backend.cleanup()
  }
}

const ms = (v: unknown) =>
  typeof v === 'number' ? (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`) : '-'

async function main() {
  const started = new Date()
  const rows: Record<string, unknown>[] = []
  for (const name of WANTED) {
    if (RULES[name] === undefined) throw new Error(`unknown rule ${name}`)
    rows.push(...(await rule(name, RULES[name])))
  }
  const lines = [
    `bursts and sustained overload, one process (embedded), node ${process.version}, ${started.toISOString()}`,
    '| rule | load | sent | answered 200 | shed 503 | other | p50 (200s) | p99 (200s) | all done in |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|'
  ]
  for (const r of rows)
    lines.push(
      `| ${r.rule} | ${r.load} | ${r.sent} | ${r.answered} | ${r.shed} | ${r.other} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${ms(r.wallMs)} |`
    )
  const dir = join(ROOT, 'bench', 'results', 'burst')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, `${JSON.stringify({ started: started.toISOString(), node: process.version, rows }, null, 2)}\n`)
  process.stdout.write(`${lines.join('\n')}\nJSON: ${file}\n`)
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    log(`bench:burst failed: ${(e as Error).stack ?? String(e)}`)
    process.exit(1)
  }
)
