/**
 * `npm run bench:hot`: server CPU per request of the introspection hot path, measured in one
 * process through Fastify's inject (no sockets, no load generator), so it holds on a busy shared
 * machine where req/s does not: CPU time counts only while this process runs.
 *
 * Two authorities are built side by side on the embedded backend, A with the settings as given and
 * B with `BENCH_HOT_B_<NAME>=value` applied (default B: VERIFIED_VALUES_MAX_ENTRIES=0, the memo
 * off), and the scenarios run alternately A, B, A, B… for `--rounds` rounds; each figure is the
 * median of the rounds. Scenarios: the POST baseline (same body, same schema, no work), warm
 * introspection, forged tokens (valid CRC and kid, bad HMAC).
 *
 *   npm run bench:hot -- [--rounds 5] [--requests 4000]
 */
import { performance } from 'node:perf_hooks'
import { parseToken, encodeToken } from '../../services/authority/src/tokens/token-format.js'
import { startAuthority, createFixtures, type BenchAuthority } from './authority.js'
import { createBenchBackend } from './backend.js'
import { seedOwners, seedTokens } from './seed.js'
import { checkSideBenchArgs } from './args.js'

const argv = process.argv.slice(2)
checkSideBenchArgs(
  argv,
  `usage: npm run bench:hot -- [--rounds 5] [--requests 4000]
  server CPU per request of the introspection hot path through inject, two authorities side by side
  (A as configured, B with BENCH_HOT_B_<VARIABLE> overrides), alternating rounds, medians
exit codes: 0 done, 1 failed, 2 usage error`,
  ['--rounds', '--requests']
)
const opt = (name: string, dflt: number) => {
  const i = argv.indexOf(name)
  return i >= 0 ? Number(argv[i + 1]) : dflt
}
const ROUNDS = opt('--rounds', 5)
const REQUESTS = opt('--requests', 4000)
const CONCURRENCY = 16
const log = (s: string) => process.stderr.write(`${s}\n`)

interface Side {
  name: string
  cleanup: () => Promise<void>
  ta: BenchAuthority
  svc: string
  warm: string[]
  forged: string[]
}

async function side(name: string, env: Record<string, string>): Promise<Side> {
  const saved = { ...process.env }
  // in-process: seeding blocks the loop; shedding is measured elsewhere (bench:burst)
  process.env.BENCH_TA_LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS = '0'
  for (const [k, v] of Object.entries(env)) process.env[`BENCH_TA_${k}`] = v
  const backend = await createBenchBackend('embedded')
  const ta = await startAuthority(backend, { bcryptCost: 4, logLevel: 'silent' })
  process.env = saved
  const fx = await createFixtures(ta, 1)
  const owners = await seedOwners(ta.database.db, 10, 4, name)
  const key = ta.signingKeys[0]!
  const prefix = ta.config.TOKEN_PREFIX
  const { kept } = await seedTokens({
    db: ta.database.db,
    dialect: ta.database.dialect,
    prefix,
    signingKey: key,
    pepper: ta.pepper,
    count: 1000,
    owners,
    keep: () => true,
    label: name
  })
  const warm = kept.map((t) => t.value)
  const forged = kept.map((t) => {
    const parsed = parseToken(t.value, prefix, ta.signingKeys)
    if (!parsed.ok) throw new Error('seeded token does not parse')
    return encodeToken(prefix, 'pat', { kid: key.kid, secret: Buffer.alloc(32, 7) }, t.id, parsed.claims.exp)
  })
  for (const v of warm) await ta.app.authority.introspection.verify(v)
  return {
    name,
    ta,
    svc: fx.serviceToken,
    warm,
    forged,
    cleanup: async () => {
      await ta.close()
      await backend.cleanup()
    }
  }
}

/** CPU µs per request over REQUESTS injected requests, CONCURRENCY at a time */
async function measure(s: Side, path: string, values: readonly string[], expect: string): Promise<number> {
  const headers = { authorization: `Bearer ${s.svc}`, 'content-type': 'application/x-www-form-urlencoded' }
  const one = async (i: number) => {
    const res = await s.ta.app.inject({
      method: 'POST',
      url: path,
      headers,
      payload: `token=${values[i % values.length]}`
    })
    if (res.statusCode !== 200 || !res.body.includes(expect)) throw new Error(`${path}: ${res.statusCode} ${res.body}`)
  }
  for (let i = 0; i < 200; i++) await one(i)
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < REQUESTS; i += CONCURRENCY)
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, j) => one(i + j)))
  const cpu = process.cpuUsage(cpu0)
  return (cpu.user + cpu.system) / REQUESTS
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor((s.length - 1) / 2)]!
}

async function main() {
  const bEnv: Record<string, string> = { VERIFIED_VALUES_MAX_ENTRIES: '0' }
  const given = Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_HOT_B_'))
  if (given.length > 0) {
    for (const k of Object.keys(bEnv)) delete bEnv[k]
    for (const [k, v] of given) bEnv[k.slice('BENCH_HOT_B_'.length)] = v!
  }
  const a = await side('A', {})
  const b = await side('B', bEnv)
  log(
    `A: settings as given; B: ${Object.entries(bEnv)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`
  )
  const scenarios = [
    { key: 'baseline', path: '/bench/baseline', values: (s: Side) => s.warm, expect: '"active":true' },
    { key: 'warm', path: '/introspect', values: (s: Side) => s.warm, expect: '"active":true' },
    { key: 'forged', path: '/introspect', values: (s: Side) => s.forged, expect: '"active":false' }
  ]
  const results: Record<string, Record<string, number[]>> = { A: {}, B: {} }
  const t0 = performance.now()
  for (let r = 0; r < ROUNDS; r++) {
    for (const sc of scenarios)
      for (const s of r % 2 === 0 ? [a, b] : [b, a]) {
        const us = await measure(s, sc.path, sc.values(s), sc.expect)
        const list = results[s.name]![sc.key] ?? []
        list.push(us)
        results[s.name]![sc.key] = list
      }
  }
  const lines = [
    `server CPU µs/request through inject, median of ${ROUNDS} rounds × ${REQUESTS} requests (${((performance.now() - t0) / 1000).toFixed(0)} s; node ${process.version})`,
    '| scenario | A | B | B − A | A − baseline A | B − baseline B |',
    '|---|---:|---:|---:|---:|---:|'
  ]
  const m = (side: string, key: string) => median(results[side]![key]!)
  for (const sc of scenarios) {
    const ma = m('A', sc.key)
    const mb = m('B', sc.key)
    lines.push(
      `| ${sc.key} | ${ma.toFixed(1)} | ${mb.toFixed(1)} | ${(mb - ma).toFixed(1)} | ${(ma - m('A', 'baseline')).toFixed(1)} | ${(mb - m('B', 'baseline')).toFixed(1)} |`
    )
  }
  process.stdout.write(`${lines.join('\n')}\n`)
  await a.cleanup()
  await b.cleanup()
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    log(`bench:hot failed: ${(e as Error).stack ?? String(e)}`)
    process.exit(1)
  }
)
