/**
 * `npm run bench:fleet`: the authority as a fleet. Three replicas (separate processes, as in a
 * Deployment) on loopback behind HAProxy (health checks on /readyz), on MariaDB/MySQL and Redis
 * (a database and key prefix of their own, dropped at the end), under steady introspection and
 * management load, restarted one by one the way a Kubernetes rolling update does: SIGTERM
 * (readiness 503 at once) → SHUTDOWN_DELAY_MS while the balancer takes it out → drain → exit →
 * a new process on the same port → ready → the next one.
 *
 * Counts every request, every failed one (a status other than the expected, a reset, a timeout)
 * and every wrong answer (a revoked token answered active, a live one inactive); both must be 0.
 * Before that, warm introspection throughput through the balancer with 1 and with 2 replicas
 * (alternating, `--rounds`, medians).
 *
 * Needs: haproxy on PATH (Debian: `apt-get install -y haproxy`), BENCH_DATABASE_URL and
 * BENCH_REDIS_URL (or TEST_DATABASE_URL and TEST_REDIS_URL) on loopback. Bounded: ≈ 3–5 minutes (the build included).
 *
 *   npm run bench:fleet -- [--rounds 3] [--seconds 5] [--no-build]
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createBenchBackend, serviceUrlsFromEnv } from './backend.js'
import { checkSideBenchArgs } from './args.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..', '..')
// the built server, as deployed (a replica starts in about a second, not after a TypeScript compile)
const SERVER = join(ROOT, 'dist', 'services', 'authority', 'src', 'server.js')
const CLI = join(ROOT, 'dist', 'scripts', 'authority-cli.js')
const run = promisify(execFile)
const argv = process.argv.slice(2)
checkSideBenchArgs(
  argv,
  `usage: npm run bench:fleet -- [--rounds 3] [--seconds 5] [--no-build]
  three replicas behind HAProxy on MySQL/MariaDB + Redis (BENCH_DATABASE_URL / BENCH_REDIS_URL or the
  TEST_* ones), throughput with 1 and 2 replicas, then a rolling restart under load; needs haproxy
exit codes: 0 done, 1 failed, 2 usage error`,
  ['--rounds', '--seconds'],
  ['--no-build']
)
const opt = (name: string, dflt: number) => {
  const i = argv.indexOf(name)
  return i >= 0 ? Number(argv[i + 1]) : dflt
}
const ROUNDS = opt('--rounds', 3)
const SECONDS = opt('--seconds', 5)
const REPLICAS = 3
const SHUTDOWN_DELAY_MS = 5000
const ADMIN = { username: 'fleet-admin', password: 'fleet-admin-password-1' }
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

async function freePort(): Promise<number> {
  const srv = createServer()
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const { port } = srv.address() as { port: number }
  srv.close()
  return port
}

// ---------------------------------------------------------------- replicas
interface Replica {
  port: number
  child: ChildProcess
  exited: Promise<number | null>
}

function startReplica(env: Record<string, string>, port: number): Replica {
  const child = spawn(process.execPath, [SERVER], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  return { port, child, exited }
}

async function waitReady(port: number, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs
  let last = 'not listening'
  while (Date.now() < until) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`)
      if (r.status === 200) return
      last = `${r.status} ${await r.text()}`
    } catch {
      // not listening yet
    }
    await sleep(100)
  }
  throw new Error(`replica on ${port} not ready in ${timeoutMs} ms (last: ${last})`)
}

// ---------------------------------------------------------------- the balancer
function haproxyConfig(frontPort: number, backends: readonly number[]): string {
  return `global
  maxconn 8192
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 10s
  # a replica that refuses the connection or closes an idle keep-alive connection just as a
  # request goes out: the request is sent again, to another replica
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response
  option http-keep-alive
frontend api
  bind 127.0.0.1:${frontPort}
  default_backend authority
backend authority
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  # a check answered slower than 'timeout check' counts as failed: on a busy 2-core machine a
  # tight one takes healthy replicas out; SIGTERM's readiness 503 is seen within inter × fall
  timeout check 3s
  default-server inter 500 fall 2 rise 2
${backends.map((p, i) => `  server r${i + 1} 127.0.0.1:${p} check`).join('\n')}
`
}

interface Balancer {
  url: string
  stop(): Promise<void>
}

async function startBalancer(dir: string, backends: readonly number[]): Promise<Balancer> {
  const port = await freePort()
  const file = join(dir, `haproxy-${backends.length}.cfg`)
  writeFileSync(file, haproxyConfig(port, backends))
  const child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'inherit'] })
  const url = `http://127.0.0.1:${port}`
  const until = Date.now() + 10_000
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break
    } catch {
      // starting
    }
    if (Date.now() > until) throw new Error('haproxy did not come up')
    await sleep(100)
  }
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
}

// ---------------------------------------------------------------- HTTP helpers
/** an answer body as this script reads it (fields it knows the API returns) */
interface Json {
  id?: string
  active?: boolean
  access_token?: string
  token?: { id: string }
  [k: string]: unknown
}

async function call(
  url: string,
  method: string,
  path: string,
  bearer: string,
  body?: unknown
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' })
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000)
  })
  const text = await res.text()
  let json: Json = {}
  try {
    json = text ? (JSON.parse(text) as Json) : {}
  } catch {
    json = { body: text.slice(0, 80) }
  }
  return { status: res.status, json }
}

async function login(url: string): Promise<string> {
  const res = await fetch(`${url}/v1/auth/admin/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN)
  })
  if (res.status !== 200) throw new Error(`admin login: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { access_token: string }).access_token
}

// ---------------------------------------------------------------- the rolling restart under load
interface Tally {
  requests: number
  failed: number
  wrong: number
  failures: string[]
  byKind: Record<string, number>
}

async function rollingRestart(
  lbUrl: string,
  admin: string,
  svc: string,
  replicas: Replica[],
  env: Record<string, string>
): Promise<Tally & { restartSeconds: number[] }> {
  const tally: Tally = { requests: 0, failed: 0, wrong: 0, failures: [], byKind: {} }
  const fail = (what: string) => {
    tally.failed++
    if (tally.failures.length < 20) tally.failures.push(what)
  }
  const wrong = (what: string) => {
    tally.wrong++
    if (tally.failures.length < 20) tally.failures.push(`WRONG: ${what}`)
  }
  const count = (kind: string) => {
    tally.requests++
    tally.byKind[kind] = (tally.byKind[kind] ?? 0) + 1
  }
  /** tokens known live, and tokens whose revocation was answered (never active again) */
  const live: { id: string; value: string }[] = []
  const revoked: string[] = []
  const introspect = async (value: string): Promise<boolean | null> => {
    count('introspect')
    try {
      const r = await call(lbUrl, 'POST', '/introspect', svc, { token: value })
      if (r.status !== 200) {
        fail(`introspect ${r.status} ${JSON.stringify(r.json)}`)
        return null
      }
      return r.json.active === true
    } catch (e) {
      fail(`introspect ${(e as Error).message}`)
      return null
    }
  }
  const create = async () => {
    count('create')
    try {
      const r = await call(lbUrl, 'POST', '/v1/tokens', admin, { name: 'fleet', scopes: ['tokens:read'] })
      if (r.status !== 201) return fail(`create ${r.status} ${JSON.stringify(r.json)}`)
      const t = { id: r.json.token!.id, value: r.json.access_token as string }
      // read back through the balancer (most likely another replica): live
      if ((await introspect(t.value)) === false) wrong('a token just created answered inactive')
      live.push(t)
    } catch (e) {
      fail(`create ${(e as Error).message}`)
    }
  }
  const revoke = async () => {
    const t = live.splice(Math.floor(Math.random() * live.length), 1)[0]
    if (t === undefined) return
    count('revoke')
    try {
      const r = await call(lbUrl, 'DELETE', `/v1/tokens/${t.id}`, admin)
      if (r.status !== 200 && r.status !== 204) {
        live.push(t)
        return fail(`revoke ${r.status} ${JSON.stringify(r.json)}`)
      }
      revoked.push(t.value)
      // the revocation was answered: from now on no replica may say active
      if ((await introspect(t.value)) === true) wrong('a token answered active right after its revocation')
    } catch (e) {
      // unknown whether it was revoked: never counted as live again
      fail(`revoke ${(e as Error).message}`)
    }
  }
  for (let i = 0; i < 40; i++) await create()
  for (let i = 0; i < 10; i++) await revoke()
  // counted from here
  Object.assign(tally, { requests: 0, failed: 0, wrong: 0, failures: [], byKind: {} })

  let stop = false
  const introspectWorker = async () => {
    while (!stop) {
      if (revoked.length > 0 && Math.random() < 0.3) {
        const v = revoked[Math.floor(Math.random() * revoked.length)]!
        if ((await introspect(v)) === true) wrong('a revoked token answered active')
      } else {
        const t = live[Math.floor(Math.random() * live.length)]
        if (t === undefined) continue
        const active = await introspect(t.value)
        // it may have been revoked meanwhile; only a token still listed live must be active
        if (active === false && live.includes(t)) wrong('a live token answered inactive')
      }
    }
  }
  const managementWorker = async () => {
    while (!stop) {
      await create()
      await revoke()
      await sleep(20)
    }
  }
  const workers = [...Array.from({ length: 8 }, introspectWorker), managementWorker(), managementWorker()]
  const restartSeconds: number[] = []
  await sleep(3000)
  for (let i = 0; i < replicas.length; i++) {
    const old = replicas[i]!
    const t0 = performance.now()
    log(`rolling restart: replica ${i + 1} (port ${old.port}): SIGTERM`)
    old.child.kill('SIGTERM')
    const code = await old.exited
    log(`  exited ${code} after ${((performance.now() - t0) / 1000).toFixed(1)} s; starting its successor`)
    if (code !== 0) fail(`replica ${i + 1} exited ${code}`)
    const next = startReplica(env, old.port)
    replicas[i] = next
    await waitReady(next.port)
    // the balancer marks it up after `rise` good checks
    await sleep(800)
    restartSeconds.push((performance.now() - t0) / 1000)
    log(`  ready again after ${restartSeconds.at(-1)!.toFixed(1)} s`)
  }
  await sleep(3000)
  stop = true
  await Promise.all(workers)
  return { ...tally, restartSeconds }
}

// ---------------------------------------------------------------- throughput, 1 vs 2 replicas
async function closedLoop(url: string, svc: string, values: readonly string[], seconds: number): Promise<number> {
  const { stdout } = await run(
    process.execPath,
    [
      join(HERE, 'burst-client.mjs'),
      jobFile({
        mode: 'closed',
        url,
        path: '/introspect',
        headers: { authorization: `Bearer ${svc}`, 'content-type': 'application/x-www-form-urlencoded' },
        bodies: values.map((v) => `token=${v}`),
        connections: 32,
        seconds
      })
    ],
    { timeout: (seconds + 60) * 1000 }
  )
  const r = JSON.parse(stdout) as { rps: number; other: number; shed: number; statuses: Record<string, number> }
  if (r.other > 0 || r.shed > 0) log(`  (throughput run: ${JSON.stringify(r.statuses)})`)
  return r.rps
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!

async function main() {
  const urls = serviceUrlsFromEnv()
  if (urls === undefined)
    throw new Error('set BENCH_DATABASE_URL and BENCH_REDIS_URL (or TEST_DATABASE_URL and TEST_REDIS_URL)')
  try {
    await run('haproxy', ['-v'])
  } catch {
    throw new Error('haproxy is not on PATH (Debian: apt-get install -y haproxy)')
  }
  if (!argv.includes('--no-build')) {
    log('building (npm run build; --no-build to skip)')
    await run('npm', ['run', '--silent', 'build'], { cwd: ROOT })
  }
  const started = new Date()
  const dir = mkdtempSync(join(tmpdir(), 'ta-fleet-'))
  const backend = await createBenchBackend('mysql+redis', urls)
  const replicas: Replica[] = []
  const balancers: Balancer[] = []
  try {
    const env: Record<string, string> = {
      ...backend.env,
      LOG_LEVEL: 'warn',
      METRICS_PORT: '0',
      BCRYPT_COST: '4',
      REQUIRE_PASSWORD_CONFIRMATION: 'false',
      SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
      PRUNE_INTERVAL_SECONDS: '0',
      // a busy shared machine: a slow connect is not the failure under test
      DB_CONNECT_TIMEOUT_MS: '10000',
      DB_QUERY_TIMEOUT_MS: '10000',
      // what is under test is the restart, not shedding (bench:burst measures that): on a busy
      // shared machine a replica's own start-up delay must not hold its readiness off
      LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
      BOOTSTRAP_ADMIN_USERNAME: ADMIN.username,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password
    }
    // migrations once, by the operator (a Job), never raced by replicas
    await run(process.execPath, [CLI, 'migrate', 'up'], { cwd: ROOT, env: { ...process.env, ...env } })
    // the first replica creates the admin alone; then the others
    const ports = await Promise.all(Array.from({ length: REPLICAS }, freePort))
    replicas.push(startReplica(env, ports[0]!))
    await waitReady(ports[0]!)
    for (const p of ports.slice(1)) replicas.push(startReplica(env, p))
    await Promise.all(ports.map((p) => waitReady(p)))
    log(`${REPLICAS} replicas ready on ports ${ports.join(', ')}`)

    const direct = `http://127.0.0.1:${ports[0]}`
    const admin = await login(direct)
    const svcAccount = await call(direct, 'POST', '/v1/accounts', admin, {
      username: 'fleet-svc',
      password: 'fleet-svc-password-1',
      kind: 'service',
      permissions: ['tokens:introspect']
    })
    if (svcAccount.status !== 201)
      throw new Error(`service account: ${svcAccount.status} ${JSON.stringify(svcAccount.json)}`)
    const svcToken = await call(direct, 'POST', `/v1/accounts/${svcAccount.json.id}/tokens`, admin, {
      name: 'fleet introspection',
      scopes: ['tokens:introspect']
    })
    if (svcToken.status !== 201) throw new Error(`service token: ${svcToken.status} ${JSON.stringify(svcToken.json)}`)
    const svc = svcToken.json.access_token as string
    const warm: string[] = []
    for (let i = 0; i < 200; i++) {
      const r = await call(direct, 'POST', '/v1/tokens', admin, { name: `warm ${i}`, scopes: ['tokens:read'] })
      warm.push(r.json.access_token as string)
    }

    // ---- 1 vs 2 replicas
    const one = await startBalancer(dir, ports.slice(0, 1))
    balancers.push(one)
    const two = await startBalancer(dir, ports.slice(0, 2))
    balancers.push(two)
    for (const lb of [one, two]) await closedLoop(lb.url, svc, warm, 1)
    const rps: { one: number[]; two: number[] } = { one: [], two: [] }
    for (let r = 0; r < ROUNDS; r++) {
      rps.one.push(await closedLoop(one.url, svc, warm, SECONDS))
      rps.two.push(await closedLoop(two.url, svc, warm, SECONDS))
      log(
        `throughput round ${r + 1}: 1 replica ${Math.round(rps.one.at(-1)!)} req/s, 2 replicas ${Math.round(rps.two.at(-1)!)} req/s`
      )
    }
    await one.stop()
    await two.stop()
    balancers.length = 0

    // ---- the rolling restart behind three
    const lb = await startBalancer(dir, ports)
    balancers.push(lb)
    const t0 = performance.now()
    const result = await rollingRestart(lb.url, admin, svc, replicas, env)
    const seconds = (performance.now() - t0) / 1000

    const lines = [
      `fleet: ${REPLICAS} replicas behind HAProxy on loopback, MariaDB + Redis, node ${process.version}, ${started.toISOString()}`,
      '',
      `warm introspection through the balancer (32 connections, ${SECONDS} s, median of ${ROUNDS}): 1 replica ${Math.round(median(rps.one)).toLocaleString('en')} req/s, 2 replicas ${Math.round(median(rps.two)).toLocaleString('en')} req/s (${(median(rps.two) / median(rps.one)).toFixed(2)}×)`,
      '',
      `rolling restart of all ${REPLICAS} under load (${seconds.toFixed(0)} s; each replica back in ${result.restartSeconds.map((s) => s.toFixed(1)).join(', ')} s): ${result.requests.toLocaleString('en')} requests (${Object.entries(
        result.byKind
      )
        .map(([k, n]) => `${k} ${n.toLocaleString('en')}`)
        .join(', ')}), failed ${result.failed}, wrong answers ${result.wrong}`,
      ...result.failures.map((f) => `  ${f}`)
    ]
    const out = join(ROOT, 'bench', 'results', 'fleet')
    mkdirSync(out, { recursive: true })
    const file = join(out, `${started.toISOString().replace(/[:.]/g, '-')}.json`)
    writeFileSync(
      file,
      `${JSON.stringify({ started: started.toISOString(), node: process.version, throughput: rps, rolling: { ...result, seconds } }, null, 2)}\n`
    )
    process.stdout.write(`${lines.join('\n')}\nJSON: ${file}\n`)
    if (result.failed > 0 || result.wrong > 0) process.exitCode = 1
  } finally {
    for (const b of balancers) await b.stop().catch(() => undefined)
    for (const r of replicas) {
      r.child.kill('SIGINT')
      await r.exited
    }
    await backend.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e: unknown) => {
  log(`bench:fleet failed: ${(e as Error).stack ?? String(e)}`)
  process.exit(1)
})
