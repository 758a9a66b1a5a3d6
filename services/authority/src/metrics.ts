import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { TokenCache } from './cache/token-cache.js'
import type { DatabaseHandle } from './db/database.js'
import type { TokenService } from './tokens/token-service.js'

/** Prometheus metrics, one registry per app instance (tests build many apps in one process). */
export class AuthorityMetrics {
  readonly registry = new Registry()
  readonly requestDuration: Histogram<'method' | 'route' | 'status_code'>
  readonly introspections: Counter<'result' | 'reason'>
  readonly loadShed: Counter

  constructor(deps: { cache: TokenCache; tokens: TokenService; database: DatabaseHandle }) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'ta_process_' })
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
    this.loadShed = new Counter({ name: 'ta_load_shed_total', help: 'Requests refused with 503 under event-loop pressure', registers })
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
      name: 'ta_dependency_errors_total',
      help: 'Errors talking to Redis (the cache) and the database',
      labelNames: ['dependency'],
      registers,
      collect() {
        this.reset()
        this.inc({ dependency: deps.cache.kind === 'redis' ? 'redis' : 'memory' }, deps.cache.stats.errors)
        this.inc({ dependency: 'database' }, deps.tokens.dbErrors)
      }
    })
    new Counter({
      name: 'ta_token_store_reads_total',
      help: 'Database reads on the introspection path (cache misses that reached the database)',
      registers,
      collect() {
        this.reset()
        this.inc(deps.tokens.dbReads)
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

  /** Latency of every request, labelled by the route pattern (never the raw URL). */
  instrument(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      this.requestDuration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000
      )
    })
  }
}
