/**
 * `npm run bench`: the token authority's benchmark.
 *
 * Starts what it needs on loopback (the authority via buildApp, the orders demo, an
 * oidc-provider peer), seeds tokens in bulk, and runs each scenario after a warm-up with
 * autocannon in a child process (load-child.ts), so the servers (this process) and the load
 * generator each get a core. Prints one table per backend and writes bench/results/<time>.json.
 * See `npm run bench -- --help` for the options.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { runInNewContext } from 'node:vm'
import v8 from 'node:v8'
import type { FastifyInstance } from 'fastify'
import bcrypt from 'bcrypt'
import { Redis } from 'ioredis'
import { buildOrdersApp } from '../../services/orders-demo/src/app.js'
import { encodeToken, parseToken } from '../../services/authority/src/tokens/token-format.js'
import { countTokens } from '../../services/authority/src/tokens/token.repository.js'
import { BenchUsageError, parseArgs, type BenchArgs, type ScenarioKey } from './args.js'
import { createBenchBackend, serviceUrlsFromEnv, type BenchBackend, type ServiceUrls } from './backend.js'
import {
  createFixtures,
  startAuthority,
  USER_NAME,
  USER_PASSWORD,
  type BenchAuthority,
  type Fixtures
} from './authority.js'
import { LoadGenerator } from './load.js'
import type { LoadJob, LoadRequest, LoadResult } from './load-protocol.js'
import { startPeer } from './peer.js'
import { CpuProfiler, formatSummary, summarize, writeProfile, type ProfileSummary } from './profile.js'
import {
  aggregate,
  errorsOf,
  formatMemory,
  formatSeeding,
  formatTable,
  formatTargets,
  median,
  resultsPage,
  RESULTS_PAGE,
  sourceName,
  type ResultFile,
  type Row,
  type Target
} from './report.js'
import { seedOwners, seedTokens, type SeededToken } from './seed.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const log = (line: string) => process.stderr.write(`${line}\n`)
const mb = (bytes: number) => bytes / (1024 * 1024)

// gc() for the in-process cache memory estimate (no --expose-gc flag needed on the command line)
v8.setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Cleanups run once, last first, also on Ctrl-C. */
const cleanups: (() => Promise<unknown>)[] = []
async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!
    try {
      await fn()
    } catch (err) {
      log(`cleanup failed: ${(err as Error).message}`)
    }
  }
}

interface Counters {
  dbReads: number
  dbQueries: number
  redisCommands: number
  redisRoundTrips: number
  callerLookups: number
  otherLookups: number
  hits: number
  misses: number
  cacheErrors: number
  authorityCalls: number
}

interface BackendReport {
  backend: BenchBackend['name']
  rows: Row[]
  /** every round's rows, when there were several */
  allRounds?: Row[]
  targets: Target[]
  seeding: { label: string; tokens: number; seconds: number; rowsPerSecond: number }[]
  memory: Record<string, unknown>
  profiles: { scenario: string; file: string; summary: ProfileSummary }[]
}

class Runner {
  readonly rows: Row[] = []
  readonly profiles: BackendReport['profiles'] = []
  /** the baseline of the current round (ratios are taken against it) */
  baseline: Row | undefined
  round = 1
  orders: FastifyInstance | undefined

  constructor(
    readonly args: BenchArgs,
    readonly load: LoadGenerator,
    readonly ta: BenchAuthority,
    readonly backend: BenchBackend['name'],
    readonly stamp: string
  ) {}

  wants(key: ScenarioKey): boolean {
    return key === 'baseline' || this.args.only === null || this.args.only.has(key)
  }

  async counters(): Promise<Counters> {
    const s = this.ta.cache.stats
    const reads = (app: FastifyInstance) => app.authority.metrics.count('ta_token_store_reads_total')
    const dbReads = await reads(this.ta.app)
    return {
      dbReads,
      // the plugin sees built queries; the introspection lookup runs precompiled, counted by dbReads
      dbQueries: this.ta.counter.dbQueries + dbReads + (await reads(this.ta.writer)),
      redisCommands: this.ta.counter.redisCommands,
      redisRoundTrips: this.ta.counter.redisRoundTrips,
      callerLookups: this.ta.counter.callerLookups,
      otherLookups: this.ta.counter.otherLookups,
      hits: s.hits,
      misses: s.misses,
      cacheErrors: s.errors,
      authorityCalls: this.orders?.tokenVerifier.stats.authorityCalls() ?? 0
    }
  }

  /** 503s answered by the load shedder of both authority instances */
  async shedCount(): Promise<number> {
    let n = 0
    for (const app of [this.ta.app, this.ta.writer]) {
      const m = (
        app.authority as unknown as { metrics?: { loadShed?: { get(): Promise<{ values: { value: number }[] }> } } }
      ).metrics
      if (m?.loadShed) n += (await m.loadShed.get()).values.reduce((a, v) => a + v.value, 0)
    }
    return n
  }

  /** Warm-up, then the measured run (RSS sampled, optionally profiled); one table row. */
  async scenario(
    key: ScenarioKey,
    label: string,
    job: Omit<LoadJob, 'title' | 'duration' | 'connections'> & { connections?: number },
    describe: (r: LoadResult, d: Counters, rssPeakMb: number) => string = () => ''
  ): Promise<Row | undefined> {
    if (!this.wants(key)) return undefined
    const connections = job.connections ?? this.args.connections
    const full: LoadJob = { ...job, connections, title: key, duration: this.args.duration }
    const roundNote = this.args.rounds > 1 && this.round > 0 ? ` [round ${this.round}/${this.args.rounds}]` : ''
    log(
      `▶ ${this.backend}: ${label}${roundNote} — warm-up ${this.args.warmup} s, run ${this.args.duration} s, ${connections} connections`
    )
    // each scenario starts from a collected heap (seeding and the previous run leave garbage)
    gc()
    if (this.args.warmup > 0) {
      const warmupJob = { ...full, title: `${key} warm-up`, duration: this.args.warmup }
      if (job.consumable) {
        const split = Math.floor((job.requests.length * this.args.warmup) / (this.args.warmup + this.args.duration))
        warmupJob.requests = job.requests.slice(0, split)
        full.requests = job.requests.slice(split)
      }
      await this.load.run(warmupJob)
    }
    const before = await this.counters()
    const byName0 = { ...this.ta.counter.redisByName }
    const machine0 = machineCpu()
    let rssPeak = process.memoryUsage.rss()
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss())
    }, 200)
    const shed0 = await this.shedCount()
    const eld = monitorEventLoopDelay({ resolution: 10 })
    eld.enable()
    const profiler =
      this.args.profile === key && !this.profiles.some((p) => p.scenario === key) ? new CpuProfiler() : undefined
    await profiler?.start()
    const cpu0 = process.cpuUsage()
    const wall0 = performance.now()
    let r: LoadResult
    try {
      r = await this.load.run(full)
    } finally {
      clearInterval(sampler)
    }
    eld.disable()
    const shed = (await this.shedCount()) - shed0
    const eventLoop = { p99Ms: eld.percentile(99) / 1e6, maxMs: eld.max / 1e6, meanMs: eld.mean / 1e6 }
    const cpu = process.cpuUsage(cpu0)
    const wallMs = performance.now() - wall0
    // CPU time of this process (the servers) ÷ wall time: ~1.0 = the server's one thread was saturated
    const serverCpu = (cpu.user + cpu.system) / 1e3 / wallMs
    // everything else on the machine (MySQL, Redis, and whatever else runs), in cores
    const machine = machineCpu()
    // server CPU per response: robust to other load on the machine (unlike req/s)
    const cpuPerRequestUs = (cpu.user + cpu.system) / Math.max(1, r.completed)
    const othersCpu =
      Math.max(0, (machine.busy - machine0.busy) / Math.max(1, machine.total - machine0.total)) * os.cpus().length -
      serverCpu -
      r.clientCpu
    if (profiler) {
      const profile = await profiler.stop()
      const file = join(outDir(this.args), `${this.stamp}-${this.backend.replace('+', '-')}-${key}.cpuprofile`)
      writeProfile(file, profile)
      const summary = summarize(profile)
      this.profiles.push({ scenario: key, file, summary })
      log(formatSummary(`${label} on ${this.backend}`, summary))
      log(`  profile written to ${file}`)
    }
    const after = await this.counters()
    const d = Object.fromEntries(
      Object.keys(after).map((k) => [k, after[k as keyof Counters] - before[k as keyof Counters]])
    ) as unknown as Counters
    const per = (n: number) => (n / Math.max(1, r.completed)).toFixed(2)
    const stores = `per request: ${per(d.dbQueries)} db queries${this.ta.config.redis !== undefined ? `, ${per(d.redisRoundTrips)} Redis round trips` : ''}`
    const blocked = eventLoop.maxMs >= 100 ? `event loop blocked up to ${Math.round(eventLoop.maxMs)} ms` : ''
    const shedNote = shed > 0 ? `${shed} shed by the load shedder (503)` : ''
    const notes = [
      describe(r, d, mb(rssPeak)),
      stores,
      shedNote,
      blocked,
      `server ${Math.round(cpuPerRequestUs)} µs CPU/req`,
      `CPU server ${pctOf(serverCpu)}/client ${pctOf(r.clientCpu)}/others ${pctOf(othersCpu)}`,
      profiler ? 'PROFILED (slower)' : ''
    ]
      .filter(Boolean)
      .join('; ')
    if (key === 'baseline') this.baseline = undefined
    const row: Row = {
      key,
      round: this.round,
      scenario: label,
      rps: r.rps,
      xBaseline: null,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      errors: errorsOf(r),
      notes,
      connections,
      rssPeakMb: mb(rssPeak),
      load: r,
      extra: {
        counters: d,
        redisByName: Object.fromEntries(
          Object.entries(this.ta.counter.redisByName)
            .map(([k, v]) => [k, v - (byName0[k] ?? 0)])
            .filter(([, v]) => v !== 0)
        ),
        serverCpu,
        eventLoop,
        shed,
        clientCpu: r.clientCpu,
        othersCpu,
        cpuPerRequestUs
      }
    }
    if (key === 'baseline') this.baseline = row
    row.xBaseline = this.baseline ? row.rps / this.baseline.rps : null
    this.rows.push(row)
    const codes = Object.entries(r.statusCodes)
      .map(([c, n]) => `${c}×${n}`)
      .join(' ')
    log(
      `  ${Math.round(r.rps).toLocaleString('en')} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, errors ${row.errors} [${codes}] ${notes}`
    )
    return row
  }
}

function outDir(args: BenchArgs): string {
  const dir = args.outDir ? resolve(args.outDir) : join(ROOT, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  return dir
}

const FORM = 'application/x-www-form-urlencoded'
const JSON_TYPE = 'application/json'

function introspectRequests(
  path: string,
  callerToken: string,
  values: readonly string[],
  extraBody = ''
): LoadRequest[] {
  const headers = { authorization: `Bearer ${callerToken}`, 'content-type': FORM }
  // token values are base64url after a fixed prefix: nothing to percent-encode
  return values.map((v) => ({ method: 'POST', path, headers, body: `token=${v}${extraBody}` }))
}

/** Introspects each value once through the service (fills the cache), in bounded parallel chunks. */
async function prewarm(ta: BenchAuthority, values: readonly string[]): Promise<void> {
  const CHUNK = 64
  let inactive = 0
  for (let i = 0; i < values.length; i += CHUNK) {
    const results = await Promise.all(values.slice(i, i + CHUNK).map((v) => ta.app.authority.introspection.verify(v)))
    inactive += results.filter((r) => !r.active).length
  }
  if (inactive > 0) throw new Error(`prewarm: ${inactive} of ${values.length} seeded tokens are not active`)
}

/** Replaces the cache entries with invalidation markers: every later lookup is a miss that reads the database. */
async function markCold(ta: BenchAuthority, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 1000) await ta.app.authority.tokens.invalidate(ids.slice(i, i + 1000))
}

/** Drops cached entries and markers of these tokens (Redis: UNLINK; in-process: the LRU is emptied). */
async function clearTokenCache(ta: BenchAuthority, backend: BenchBackend, ids: readonly string[]): Promise<void> {
  if (backend.redisUrl !== undefined && backend.redisPrefix !== undefined) {
    const redis = new Redis(backend.redisUrl, { maxRetriesPerRequest: 1 })
    try {
      for (let i = 0; i < ids.length; i += 1000)
        await redis.unlink(...ids.slice(i, i + 1000).map((id) => `${backend.redisPrefix}tok:${id}`))
    } finally {
      await redis.quit().catch(() => redis.disconnect())
    }
  } else {
    // MemoryTokenCache.close() only clears its LRU; the cache stays usable
    await ta.cache.close()
  }
}

async function redisUsedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory')
  const m = /^used_memory:(\d+)/m.exec(info)
  return m ? Number(m[1]) : NaN
}

/** Fills the cache with the warm set and says what one cached token costs in memory. */
async function fillAndMeasure(
  ta: BenchAuthority,
  backend: BenchBackend,
  warm: readonly SeededToken[]
): Promise<Record<string, unknown>> {
  const values = warm.map((t) => t.value)
  if (backend.redisUrl !== undefined && backend.redisPrefix !== undefined) {
    const redis = new Redis(backend.redisUrl, { maxRetriesPerRequest: 1 })
    try {
      const before = await redisUsedMemory(redis)
      await prewarm(ta, values)
      const after = await redisUsedMemory(redis)
      const sample = warm.slice(0, 200)
      let usage = 0
      for (const t of sample)
        usage += Number(await redis.call('MEMORY', 'USAGE', `${backend.redisPrefix}tok:${t.id}`, 'SAMPLES', '0'))
      const valueBytes = Buffer.byteLength((await redis.get(`${backend.redisPrefix}tok:${warm[0]!.id}`)) ?? '')
      return {
        kind: 'redis',
        entries: values.length,
        usedMemoryBefore: before,
        usedMemoryAfter: after,
        bytesPerEntryInfo: (after - before) / values.length,
        bytesPerEntryMemoryUsage: usage / sample.length,
        valueBytes,
        note: 'INFO memory used_memory before/after filling the entries (shared Redis: other clients add noise); MEMORY USAGE averaged over 200 keys'
      }
    } finally {
      await redis.quit().catch(() => redis.disconnect())
    }
  }
  gc()
  const before = process.memoryUsage().heapUsed
  await prewarm(ta, values)
  gc()
  const after = process.memoryUsage().heapUsed
  return {
    kind: 'memory',
    entries: values.length,
    heapBefore: before,
    heapAfter: after,
    bytesPerEntryHeap: (after - before) / values.length,
    note: 'V8 heapUsed after gc(), before/after filling the in-process LRU'
  }
}

async function runBackend(
  args: BenchArgs,
  name: BenchBackend['name'],
  urls: ServiceUrls | undefined,
  load: LoadGenerator,
  stamp: string
): Promise<BackendReport> {
  log(`\n=== backend: ${name} ===`)
  const backend = await createBenchBackend(name, urls)
  cleanups.push(() => backend.cleanup())
  const ta = await startAuthority(backend, { bcryptCost: args.bcryptCost, logLevel: 'warn' })
  cleanups.push(() => ta.close())
  const t0 = performance.now()
  const fx: Fixtures = await createFixtures(ta, 100)
  log(
    `fixtures (two service accounts, a user, 100 order PATs) in ${((performance.now() - t0) / 1000).toFixed(1)} s (bcrypt cost ${args.bcryptCost})`
  )

  const db = ta.database.db
  const dialect = ta.database.dialect
  const key = ta.signingKeys[0]!
  const prefix = ta.config.TOKEN_PREFIX
  const progress = (line: string, done: boolean) => {
    if (process.stderr.isTTY) process.stderr.write(`\r${line}${done ? '\n' : '   '}`)
    else log(line)
  }
  const seeding: BackendReport['seeding'] = []
  const seed = async (label: string, count: number, owners: readonly string[], keep: (i: number) => boolean) => {
    const r = await seedTokens({
      db,
      dialect,
      prefix,
      signingKey: key,
      pepper: ta.pepper,
      count,
      owners,
      keep,
      label,
      progress
    })
    seeding.push({ label, tokens: count, seconds: r.seconds, rowsPerSecond: count / r.seconds })
    return r.kept
  }

  const owners = await seedOwners(db, Math.max(10, Math.ceil(args.seed / 100)), args.bcryptCost, 'main')
  const main = await seed(`${args.seed.toLocaleString('en')} tokens`, args.seed, owners, () => true)
  // the introspected set, spread evenly over what was seeded
  const step = main.length / args.warmSet
  const warm = Array.from({ length: args.warmSet }, (_, i) => main[Math.floor(i * step)]!)
  const memory: Record<string, unknown> = { cachePerEntry: await fillAndMeasure(ta, backend, warm) }
  memory.rssAfterSeedMb = mb(process.memoryUsage.rss())

  const runner = new Runner(args, load, ta, name, stamp)
  const svc = fx.serviceToken
  const warmValues = warm.map((t) => t.value)

  // forged: same id, prefix, kind, kid, expiry; the tag made with another secret; CRC recomputed
  const forgedValues = warm.map((t) => {
    const parsed = parseToken(t.value, prefix, ta.signingKeys)
    if (!parsed.ok) throw new Error('seeded token does not parse')
    return encodeToken(prefix, 'pat', { kid: key.kid, secret: Buffer.alloc(32, 7) }, t.id, parsed.claims.exp)
  })
  if (parseToken(forgedValues[0], prefix, ta.signingKeys).ok) throw new Error('forged token verifies?!')

  const userHeaders = { authorization: `Bearer ${fx.userToken}`, 'content-type': JSON_TYPE }
  const loginConnections = 4
  let bcryptMs = NaN
  for (let round = 1; round <= args.rounds; round++) {
    runner.round = round
    if (round > 1) {
      // the previous round's cold run left invalidation markers on the set: clear them, fill again
      await clearTokenCache(
        ta,
        backend,
        warm.map((t) => t.id)
      )
      await prewarm(ta, warmValues)
    }
    // ------------------------------------------------------------------ baselines
    await runner.scenario('baseline', 'baseline POST (introspection-shaped body, no work)', {
      url: ta.url,
      requests: introspectRequests('/bench/baseline', svc, warmValues),
      expect: 'active'
    })
    await runner.scenario('baseline-full', 'baseline POST answering a full introspection reply (no work)', {
      url: ta.url,
      requests: introspectRequests('/bench/baseline-full', svc, warmValues),
      expect: 'active'
    })
    await runner.scenario('hello', 'baseline GET hello', {
      url: ta.url,
      requests: [{ method: 'GET', path: '/bench/hello' }]
    })

    // ------------------------------------------------------------------ introspection
    await runner.scenario(
      'warm',
      `introspect warm (${args.warmSet.toLocaleString('en')} of ${args.seed.toLocaleString('en')})`,
      { url: ta.url, requests: introspectRequests('/introspect', svc, warmValues), expect: 'active' },
      (_r, d, rss) =>
        `token cache hits ${pct(d.hits - d.callerLookups, d.otherLookups)}; db reads ${d.dbReads}; server RSS peak ${rss.toFixed(0)} MB`
    )
    const forged = await runner.scenario(
      'forged',
      'introspect forged (valid CRC + kid, bad HMAC)',
      { url: ta.url, requests: introspectRequests('/introspect', svc, forgedValues), expect: 'inactive' },
      (_r, d) =>
        `forged tokens: ${d.otherLookups} token-cache lookups, ${d.dbQueries} db queries (the caller's own credential: ${d.callerLookups} cache lookups, re-verified at most once a second)`
    )
    if (forged) forged.extra = { ...forged.extra, forgedStoreCalls: forged.extra!.counters }
    // cold: invalidation markers on the whole set, so every lookup misses and reads the database
    if (runner.wants('cold'))
      await markCold(
        ta,
        warm.map((t) => t.id)
      )
    await runner.scenario(
      'cold',
      `introspect cold (cache miss → database, ${args.seed.toLocaleString('en')} rows)`,
      { url: ta.url, requests: introspectRequests('/introspect', svc, warmValues), expect: 'active' },
      (r, d) => `db reads/request ${(d.dbReads / Math.max(1, r.completed)).toFixed(2)}; token cache misses ${d.misses}`
    )

    // ------------------------------------------------------------------ verifier (orders demo)
    if (runner.wants('verifier') || runner.wants('verifier-public')) {
      // on both backends the verifier follows the authority's revocation stream (its default)
      const orders = await buildOrdersApp({ authorityUrl: ta.url, credential: fx.ordersServiceToken })
      runner.orders = orders
      const ordersUrl = await orders.listen({ port: 0, host: '127.0.0.1' })
      for (const t of fx.orderTokens) {
        const res = await orders.inject({ url: '/orders', headers: { authorization: `Bearer ${t}` } })
        if (res.statusCode !== 200) throw new Error(`orders demo prewarm: ${res.statusCode} ${res.body}`)
      }
      // same Authorization headers on both routes: the only difference is the verification
      const headersFor = (t: string) => ({ authorization: `Bearer ${t}` })
      const pub = await runner.scenario('verifier-public', 'orders demo: GET /health (public)', {
        url: ordersUrl,
        requests: fx.orderTokens.map((t) => ({ method: 'GET', path: '/health', headers: headersFor(t) }))
      })
      const cached = await runner.scenario(
        'verifier',
        `orders demo: GET /orders (protected, ${fx.orderTokens.length} PATs, cache warm)`,
        {
          url: ordersUrl,
          requests: fx.orderTokens.map((t) => ({ method: 'GET', path: '/orders', headers: headersFor(t) }))
        },
        (_r, d) => `calls to the authority ${d.authorityCalls}`
      )
      if (pub && cached) cached.notes = `${(cached.rps / pub.rps).toFixed(2)}× the public route; ${cached.notes}`
      await orders.close()
      runner.orders = undefined
    }

    // ------------------------------------------------------------------ peer
    if (runner.wants('peer')) {
      const t1 = performance.now()
      const peer = await startPeer(args.warmSet)
      log(
        `peer: oidc-provider with ${args.warmSet} opaque client-credentials tokens minted in ${((performance.now() - t1) / 1000).toFixed(1)} s`
      )
      try {
        const headers = { authorization: peer.authorization, 'content-type': FORM }
        await runner.scenario(
          'peer',
          'peer: oidc-provider /token/introspection',
          {
            url: peer.url,
            requests: peer.tokens.map((v) => ({
              method: 'POST',
              path: '/token/introspection',
              headers,
              body: `token=${v}&token_type_hint=access_token`
            })),
            expect: 'active'
          },
          () => 'in-memory Map adapter, client_secret_basic'
        )
      } finally {
        await peer.close()
      }
    }

    // ------------------------------------------------------------------ writes
    const create = await runner.scenario(
      'create',
      'create PAT (POST /v1/tokens, no password confirmation)',
      {
        url: ta.writerUrl,
        requests: [
          {
            method: 'POST',
            path: '/v1/tokens',
            headers: userHeaders,
            body: JSON.stringify({ name: 'bench', scopes: ['orders:read'] })
          }
        ]
      },
      () => 'row + audit row per request; REQUIRE_PASSWORD_CONFIRMATION=false instance'
    )
    if (round === 1 && (runner.wants('login') || runner.wants('create-confirmed'))) {
      const hash = await bcrypt.hash(USER_PASSWORD, args.bcryptCost)
      const t = performance.now()
      await bcrypt.compare(USER_PASSWORD, hash)
      bcryptMs = performance.now() - t
      log(`one bcrypt compare at cost ${args.bcryptCost}: ${bcryptMs.toFixed(0)} ms here`)
    }
    await runner.scenario(
      'create-confirmed',
      `create PAT, password-confirmed (bcrypt cost ${args.bcryptCost})`,
      {
        url: ta.url,
        connections: loginConnections,
        requests: [
          {
            method: 'POST',
            path: '/v1/tokens',
            headers: userHeaders,
            body: JSON.stringify({ name: 'bench', scopes: ['orders:read'], password: USER_PASSWORD })
          }
        ]
      },
      () =>
        `default config: one bcrypt compare (${bcryptMs.toFixed(0)} ms idle) per request; ${loginConnections} connections`
    )
    if (runner.wants('regenerate')) {
      // every request regenerates a different live token owned by the caller: a pool sized from
      // the create rate (regenerate does more work per request), seeded in bulk
      const budget = (create?.rps ?? 3000) * (args.warmup + args.duration) * 3
      const pool = Math.min(500_000, Math.max(5000, Math.ceil(budget)))
      const regen = await seed(`regenerate pool (${pool.toLocaleString('en')})`, pool, [fx.user.id], () => true)
      await runner.scenario(
        'regenerate',
        'regenerate PAT (POST /v1/tokens/:id/regenerate, no confirmation)',
        {
          url: ta.writerUrl,
          requests: regen.map((t) => ({
            method: 'POST',
            path: `/v1/tokens/${t.id}/regenerate`,
            headers: userHeaders,
            body: '{}'
          })),
          consumable: true
        },
        () => `CAS update + insert + audit + cache invalidation per request; pool ${pool.toLocaleString('en')} tokens`
      )
    }
    await runner.scenario(
      'login',
      `login (POST /v1/auth/customer/token, bcrypt cost ${args.bcryptCost})`,
      {
        url: ta.url,
        connections: loginConnections,
        requests: [
          {
            method: 'POST',
            path: '/v1/auth/customer/token',
            headers: { 'content-type': JSON_TYPE },
            body: JSON.stringify({ username: USER_NAME, password: USER_PASSWORD })
          }
        ]
      },
      () =>
        `BCRYPT_COST ${args.bcryptCost} (one compare ${bcryptMs.toFixed(0)} ms idle); ${loginConnections} connections; libuv pool ${process.env.UV_THREADPOOL_SIZE ?? 4}; ${os.cpus().length} cores`
    )
  }
  runner.round = 0
  // later scenarios are compared with the median baseline of the rounds
  runner.baseline = medianBaseline(runner.rows)

  // ------------------------------------------------------------------ 1M tokens
  if (args.seed1m && (runner.wants('warm-1m') || runner.wants('cold-1m'))) {
    const have = await countTokens(db)
    const more = Math.max(0, 1_000_000 - have)
    const sampleWanted = args.warmSet * 6
    const stride = Math.max(1, Math.floor(more / sampleWanted))
    const owners1m = await seedOwners(db, Math.ceil(more / 100), args.bcryptCost, 'big')
    const kept = await seed(`to 1M (+${more.toLocaleString('en')})`, more, owners1m, (i) => i % stride === 0)
    const total = await countTokens(db)
    const warm1m = kept.filter((_, j) => j % 6 === 0).slice(0, args.warmSet)
    const cold1m = kept.filter((_, j) => j % 6 !== 0)
    await prewarm(
      ta,
      warm1m.map((t) => t.value)
    )
    memory.rssAfter1mSeedMb = mb(process.memoryUsage.rss())
    await runner.scenario(
      'warm-1m',
      `introspect warm (${args.warmSet.toLocaleString('en')} of ${total.toLocaleString('en')})`,
      {
        url: ta.url,
        requests: introspectRequests(
          '/introspect',
          svc,
          warm1m.map((t) => t.value)
        ),
        expect: 'active'
      },
      (_r, d) => `token cache hits ${pct(d.hits - d.callerLookups, d.otherLookups)}; db reads ${d.dbReads}`
    )
    if (runner.wants('cold-1m'))
      await markCold(
        ta,
        cold1m.map((t) => t.id)
      )
    await runner.scenario(
      'cold-1m',
      `introspect cold (${cold1m.length.toLocaleString('en')} spread over ${total.toLocaleString('en')} rows)`,
      {
        url: ta.url,
        requests: introspectRequests(
          '/introspect',
          svc,
          cold1m.map((t) => t.value)
        ),
        expect: 'active'
      },
      (r, d) => `db reads/request ${(d.dbReads / Math.max(1, r.completed)).toFixed(2)}`
    )
  }

  await runner.scenario('baseline-end', 'baseline POST, again at the end (drift check)', {
    url: ta.url,
    requests: introspectRequests('/bench/baseline', svc, warmValues),
    expect: 'active'
  })

  memory.rssPeakUnderLoadMb = Math.max(...runner.rows.map((r) => r.rssPeakMb))
  return {
    backend: name,
    rows: aggregate(runner.rows),
    allRounds: args.rounds > 1 ? runner.rows : undefined,
    targets: targetsFor(runner.rows),
    seeding,
    memory,
    profiles: runner.profiles
  }
}

/** Runs this backend's cleanups (authority close, then drop database / prefix / folder). */
async function runCleanupsDownTo(n: number): Promise<void> {
  while (cleanups.length > n) {
    const fn = cleanups.pop()!
    try {
      await fn()
    } catch (err) {
      log(`cleanup failed: ${(err as Error).message}`)
    }
  }
}

/** Busy and total jiffies of all CPUs (/proc/stat; zeros where there is none). */
function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
    const f = line.trim().split(/\s+/).slice(1).map(Number)
    const total = f.reduce((a, b) => a + b, 0)
    const idle = (f[3] ?? 0) + (f[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return { busy: 0, total: 0 }
  }
}

const pctOf = (x: number) => `${Math.round(100 * x)}%`

function pct(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-'
}

/** The baseline row of the round whose baseline req/s is the median. */
function medianBaseline(rows: readonly Row[]): Row | undefined {
  const b = rows.filter((r) => r.key === 'baseline').sort((x, y) => x.rps - y.rps)
  return b[Math.floor((b.length - 1) / 2)]
}

function targetsFor(allRows: Row[]): Target[] {
  const rows = aggregate(allRows)
  const get = (k: ScenarioKey) => rows.find((r) => r.key === k)
  const base = get('baseline')!
  const out: Target[] = []
  // a/b per round (each round against itself), then the median; rows run once pair with the median
  const ratio = (a: Row | undefined, b: Row | undefined) => {
    if (!a || !b) return NaN
    const ra = allRows.filter((r) => r.key === a.key && r.round > 0)
    const rb = allRows.filter((r) => r.key === b.key && r.round > 0)
    if (ra.length > 1 && rb.length > 1) {
      return median(ra.map((x) => x.rps / (rb.find((y) => y.round === x.round)?.rps ?? NaN)))
    }
    return a.rps / b.rps
  }
  // the same comparison by server CPU per request: what the ratio would be with the server's core
  // to itself (less sensitive to other load on a shared machine than req/s)
  const cpuOf = (r: Row | undefined) => (r?.extra?.cpuPerRequestUs as number | undefined) ?? NaN
  const byCpu = (a: Row | undefined, b: Row | undefined) =>
    `; by server CPU/request ${(cpuOf(b) / cpuOf(a)).toFixed(2)}× (${Math.round(cpuOf(a))} vs ${Math.round(cpuOf(b))} µs)`
  const add = (target: string, value: number, ok: (v: number) => boolean, text: string) =>
    out.push({
      target,
      measured: Number.isFinite(value) ? text : 'not run',
      met: Number.isFinite(value) ? ok(value) : null
    })

  const warm = get('warm')
  const w = ratio(warm, base)
  add(
    'warm introspect ≥ 0.8× POST baseline',
    w,
    (v) => v >= 0.8,
    `${w.toFixed(2)}× (${fmt(warm?.rps)} vs ${fmt(base.rps)} req/s)${byCpu(warm, base)}`
  )
  const p = warm ? warm.p99Ms / base.p99Ms : NaN
  add(
    'warm introspect p99 ≤ 2× baseline p99',
    p,
    (v) => v <= 2,
    `${p.toFixed(2)}× (${warm?.p99Ms.toFixed(2)} vs ${base.p99Ms.toFixed(2)} ms)`
  )
  const cold = get('cold')
  const c = ratio(cold, base)
  add(
    'cold introspect ≥ 0.3× baseline',
    c,
    (v) => v >= 0.3,
    `${c.toFixed(2)}× (${fmt(cold?.rps)} req/s)${byCpu(cold, base)}`
  )
  const forged = get('forged')
  const f = ratio(forged, base)
  const fc = forged?.extra?.counters as
    | {
        dbQueries: number
        dbReads: number
        otherLookups: number
        callerLookups: number
        redisRoundTrips: number
        redisCommands: number
      }
    | undefined
  const fr = forged?.load.completed ?? 1
  // Redis round trips not explained by the caller's own token-cache lookups: the fishing guard's
  // batched flushes (one per caller every 250 ms, whatever the request rate)
  const guardTrips = fc && fc.redisRoundTrips > 0 ? Math.max(0, fc.redisRoundTrips - fc.callerLookups) : 0
  add(
    'forged ≥ 0.9× baseline',
    f,
    (v) => v >= 0.9,
    `${f.toFixed(2)}× (${fmt(forged?.rps)} req/s)${byCpu(forged, base)}`
  )
  // Store calls a forged token causes: token-store reads on the introspection path and token-cache
  // lookups of ids other than the caller's. Other queries in the window (the revocation-log
  // follower's poll, a few a second whatever the traffic) are shown, not counted.
  const fcReads = fc ? fc.dbReads : NaN
  add(
    'forged: zero store calls',
    fc ? fcReads + fc.otherLookups : NaN,
    (v) => v === 0,
    fc
      ? `${fcReads} token-store reads, ${fc.otherLookups} token-cache lookups for forged tokens (background queries in the window, e.g. the revocation-log poll: ${fc.dbQueries - fcReads})` +
          (guardTrips > 0
            ? `; the fishing guard's batched counter flushes: ${guardTrips} Redis round trips over ${fmt(fr)} requests (${(guardTrips / fr).toFixed(4)}/request)`
            : '')
      : ''
  )
  const vr = ratio(get('verifier'), get('verifier-public'))
  add(
    'verifier cached ≥ 0.9× the consumer’s public route',
    vr,
    (v) => v >= 0.9,
    `${vr.toFixed(2)}× (${fmt(get('verifier')?.rps)} vs ${fmt(get('verifier-public')?.rps)} req/s)${byCpu(get('verifier'), get('verifier-public'))}`
  )
  const m = ratio(get('warm-1m'), warm)
  add(
    'warm introspect at 1M ≥ 0.9× at 10k',
    m,
    (v) => v >= 0.9,
    `${m.toFixed(2)}× (${fmt(get('warm-1m')?.rps)} vs ${fmt(warm?.rps)} req/s)${byCpu(get('warm-1m'), warm)}`
  )
  const pr = ratio(warm, get('peer'))
  add(
    'warm introspect ≥ 3× the peer',
    pr,
    (v) => v >= 3,
    `${pr.toFixed(2)}× (${fmt(warm?.rps)} vs ${fmt(get('peer')?.rps)} req/s)${byCpu(warm, get('peer'))}`
  )
  // Information: the same comparisons against a baseline that writes what an introspection writes
  // (the same reply, header and response schema, no work): what is left is the introspection's own
  // work, apart from the cost of sending a 350-byte answer instead of a 15-byte one.
  const full = get('baseline-full')
  if (full) {
    const wf = ratio(warm, full)
    const ff = ratio(forged, full)
    out.push({
      target: 'warm / forged vs the baseline that answers a full introspection reply (information)',
      measured: `${wf.toFixed(2)}× / ${ff.toFixed(2)}×; full-reply baseline ${ratio(full, base).toFixed(2)}× the POST baseline${byCpu(full, base)}; warm${byCpu(warm, full)}`,
      met: null
    })
  }
  const end = get('baseline-end')
  if (end)
    out.push({
      target: 'drift: baseline at the end vs start (information)',
      measured: `${(end.rps / base.rps).toFixed(2)}×`,
      met: null
    })
  return out
}

const fmt = (n: number | undefined) => (n === undefined ? '-' : Math.round(n).toLocaleString('en'))

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  if ('help' in args) {
    process.stdout.write(`${args.help}\n`)
    return
  }
  const urls = serviceUrlsFromEnv()
  let backends: BenchBackend['name'][]
  if (args.backends === 'auto') backends = urls ? ['embedded', 'mysql+redis'] : ['embedded']
  else backends = args.backends
  if (backends.includes('mysql+redis') && !urls)
    throw new Error(
      'MySQL + Redis: set BENCH_DATABASE_URL and BENCH_REDIS_URL (or TEST_DATABASE_URL and TEST_REDIS_URL)'
    )
  if (!urls) log('(BENCH_/TEST_DATABASE_URL and _REDIS_URL not set: embedded backend only)')

  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const started = new Date()
  const loadavgStart = os.loadavg()
  const load = await LoadGenerator.start()
  cleanups.push(() => load.close())
  const baseCleanups = cleanups.length

  const reports: BackendReport[] = []
  for (const name of backends) {
    reports.push(await runBackend(args, name, name === 'mysql+redis' ? urls : undefined, load, stamp))
    await runCleanupsDownTo(baseCleanups)
  }
  await runCleanups()

  const environment = {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGb: +(os.totalmem() / 2 ** 30).toFixed(1),
    loadavgStart,
    loadavgEnd: os.loadavg(),
    loadGenerator: 'autocannon 8 in a child process (same machine, 2 cores shared with the server, MySQL and Redis)'
  }
  const settings = {
    duration: args.duration,
    warmup: args.warmup,
    connections: args.connections,
    rounds: args.rounds,
    seed: args.seed,
    warmSet: args.warmSet,
    seed1m: args.seed1m,
    bcryptCost: args.bcryptCost,
    only: args.only ? [...args.only] : null,
    profile: args.profile
  }

  const out: string[] = []
  out.push(
    `\n## Token authority benchmark — ${started.toISOString()}`,
    `node ${process.version}, ${environment.cpus} × ${environment.cpuModel}, load avg at start ${loadavgStart.map((l) => l.toFixed(2)).join(' ')}`,
    `each scenario: ${args.warmup} s warm-up + ${args.duration} s measured, ${args.connections} connections unless noted; BCRYPT_COST ${args.bcryptCost}; load generator: autocannon in a child process`,
    ''
  )
  for (const r of reports) {
    out.push(formatTable(r.backend, r.rows), '', 'Targets:', formatTargets(r.targets), '')
    out.push(formatMemory(r.memory), formatSeeding(r.seeding), '')
  }
  const dir = outDir(args)
  const file = join(dir, `${stamp}.json`)
  const result: ResultFile = {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    environment,
    settings,
    backends: reports
  }
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`)
  out.push(`JSON: ${file}`)
  if (args.writeDocs) {
    writeFileSync(join(ROOT, RESULTS_PAGE), resultsPage(result, sourceName(ROOT, file)))
    out.push(`results page: ${RESULTS_PAGE} (commit it with the change it measures)`)
  }
  process.stdout.write(`${out.join('\n')}\n`)
}

let interrupted = false
process.on('SIGINT', () => {
  if (interrupted) process.exit(130)
  interrupted = true
  log('\ninterrupted: cleaning up (Ctrl-C again to quit at once)')
  void runCleanups().finally(() => process.exit(130))
})

main().catch(async (err: unknown) => {
  if (err instanceof BenchUsageError) {
    log(`bench: ${err.message}`)
    process.exit(2)
  }
  log(`bench failed: ${(err as Error).stack ?? String(err)}`)
  await runCleanups()
  process.exit(1)
})
