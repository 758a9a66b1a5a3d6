import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { TokenCache } from './cache/token-cache.js'
import type { DatabaseHandle } from './db/database.js'

/** Prometheus metrics, one registry per app instance (tests build many apps in one process). */
export class AuthorityMetrics {
  readonly registry = new Registry()
  readonly requestDuration: Histogram<'method' | 'route' | 'status_code'>
  readonly introspections: Counter<'result' | 'reason'>
  readonly loadShed: Counter
  /** cache entries read back from Redis and not trusted (tampered, foreign, stale, replayed) */
  readonly cacheRejected: Counter<'reason'>
  /** database reads on the introspection path (cache misses that reached the database) */
  readonly tokenStoreReads: Counter
  /** database calls that failed or timed out (answered 503): the database fault policy counts them */
  readonly databaseFaults: { inc(): void }
  /** caller credentials of /introspect and /revoke answered from the in-process reuse (no lookup) */
  readonly callerReuse: Counter
  /** round trips the fishing guard made to its shared (Redis) budget */
  readonly fishingSharedCalls: Counter
  /** last-use recording (tokens/last-used.ts): tokens written, UPDATE statements, drops, failed writes */
  readonly lastUsed: { written: Counter; batches: Counter; dropped: Counter; failed: Counter }
  /** tokens whose last use waits for the next write (set by createServices) */
  lastUsedPending: () => number = () => 0

  constructor(deps: { cache: TokenCache; database: DatabaseHandle }) {
    const registers = [this.registry]
    // The stock names (process_cpu_user_seconds_total, nodejs_eventloop_lag_seconds…): no prefix,
    // so the usual Node.js dashboards find them. Ours are the ta_* below.
    collectDefaultMetrics({ register: this.registry })
    this.requestDuration = new Histogram({
      name: 'ta_http_request_duration_seconds',
      help: 'Request latency by route',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers
    })
    this.introspections = new Counter({
      name: 'ta_introspections_total',
      help: 'Introspection outcomes: result active|inactive, reason for inactive ones',
      labelNames: ['result', 'reason'],
      registers
    })
    this.loadShed = new Counter({
      name: 'ta_load_shed_total',
      help: 'Requests refused with 503 under event-loop pressure',
      registers
    })
    this.cacheRejected = new Counter({
      name: 'ta_token_cache_rejected_total',
      help: 'Entries read from Redis that failed their MAC, were foreign, stale or replayed (answered from the database)',
      labelNames: ['reason'],
      registers
    })
    new Counter({
      name: 'ta_token_cache_requests_total',
      help: 'Token cache lookups by result (hit ratio = hit / (hit + miss))',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset()
        this.inc({ result: 'hit' }, deps.cache.stats.hits)
        this.inc({ result: 'miss' }, deps.cache.stats.misses)
      }
    })
    new Counter({
      name: 'ta_token_cache_suspect_total',
      help: 'Redis cache entries filled before an outage this process saw, re-read from the database instead (also counted as result="miss" in ta_token_cache_requests_total)',
      registers,
      collect() {
        this.reset()
        this.inc(deps.cache.stats.suspect)
      }
    })
    // the cache keeps its own error count (read at scrape time); the database's is counted here
    let cacheErrorsSeen = 0
    const cacheLabel = { dependency: deps.cache.kind === 'redis' ? 'redis' : 'memory' }
    const dependencyErrors = new Counter({
      name: 'ta_dependency_errors_total',
      help: 'Errors talking to Redis (the cache) and the database',
      labelNames: ['dependency'],
      registers,
      collect() {
        const errors = deps.cache.stats.errors
        this.inc(cacheLabel, Math.max(0, errors - cacheErrorsSeen))
        cacheErrorsSeen = errors
      }
    })
    dependencyErrors.inc({ dependency: 'database' }, 0)
    this.databaseFaults = { inc: () => dependencyErrors.inc({ dependency: 'database' }) }
    this.tokenStoreReads = new Counter({
      name: 'ta_token_store_reads_total',
      help: 'Database reads on the introspection path (cache misses that reached the database)',
      registers
    })
    this.callerReuse = new Counter({
      name: 'ta_introspection_caller_reuse_total',
      help: 'Caller credentials of /introspect and /revoke answered from the in-process reuse (no lookup)',
      registers
    })
    this.fishingSharedCalls = new Counter({
      name: 'ta_fishing_guard_shared_calls_total',
      help: 'Round trips the unknown-token guard made to its budget in Redis (batched: at most one per caller per flush)',
      registers
    })
    this.lastUsed = {
      written: new Counter({
        name: 'ta_last_used_written_total',
        help: 'Tokens whose last use was written to the database (at most one per token per LAST_USED_FLUSH_SECONDS)',
        registers
      }),
      batches: new Counter({
        name: 'ta_last_used_writes_total',
        help: 'UPDATE statements that wrote last uses (each covers up to 100 tokens)',
        registers
      }),
      dropped: new Counter({
        name: 'ta_last_used_dropped_total',
        help: 'Uses not recorded because LAST_USED_MAX_PENDING tokens were already waiting for the next write',
        registers
      }),
      failed: new Counter({
        name: 'ta_last_used_write_failures_total',
        help: 'Last-use writes that failed (their uses wait for the next one)',
        registers
      })
    }
    const pending = () => this.lastUsedPending()
    new Gauge({
      name: 'ta_last_used_pending',
      help: 'Tokens whose last use waits in memory for the next write',
      registers,
      collect() {
        this.set(pending())
      }
    })
    new Gauge({
      name: 'ta_db_pool_connections',
      help: 'MySQL pool: connections by state, and requests queued for one (saturation)',
      labelNames: ['state'],
      registers,
      collect() {
        const p = deps.database.poolStats()
        if (p === null) return
        this.set({ state: 'open' }, p.open)
        this.set({ state: 'idle' }, p.idle)
        this.set({ state: 'queued' }, p.queued)
        this.set({ state: 'limit' }, p.limit)
      }
    })
  }

  /** The current value of a counter or gauge of this registry, summed over its labels (tests, the bench). */
  async count(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(name)
    if (metric === undefined) throw new Error(`no metric ${name}`)
    const { values } = await metric.get()
    return values
      .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
      .reduce((sum, v) => sum + v.value, 0)
  }

  /**
   * Latency of every request, labelled by the route pattern (never the raw URL). The labelled
   * child of each method + route + status is looked up once (routes and statuses are few; a
   * labelled observe() hashes its labels on every call), and the hook is a callback (no promise).
   */
  instrument(app: FastifyInstance): void {
    const children = new Map<string, { observe(v: number): void }>()
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched'
      const key = `${request.method} ${reply.statusCode} ${route}`
      let child = children.get(key)
      if (child === undefined) {
        child = this.requestDuration.labels({
          method: request.method,
          route,
          status_code: String(reply.statusCode)
        })
        children.set(key, child)
      }
      child.observe(reply.elapsedTime / 1000)
      done()
    })
  }
}

export interface MetricsListener {
  /** http://host:port/metrics */
  url: string
  port: number
  close(): Promise<void>
}

/**
 * The metrics listener: GET /metrics (Prometheus text) on a port of its own, so the API port never
 * shows it (Node version, per-route outcomes) and a NetworkPolicy can admit only the monitoring
 * namespace to it. Anything else is a 404. Port 0 picks a free port (tests); server.ts treats
 * METRICS_PORT=0 as "off" and never calls this then.
 */
export async function serveMetrics(registry: Registry, opts: { host: string; port: number }): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/metrics') {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('not found: the metrics are at /metrics\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('method not allowed\n')
      return
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType })
        res.end(req.method === 'HEAD' ? undefined : body)
      },
      () => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics collection failed\n')
      }
    )
  })
  // a scraper keeps its connection open between scrapes: do not let it hold the shutdown up
  server.keepAliveTimeout = 5000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port, address, family } = server.address() as AddressInfo
  const host = family === 'IPv6' ? `[${address}]` : address
  return {
    url: `http://${host}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
  }
}
