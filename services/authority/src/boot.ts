import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { type BuildOptions, buildApp } from './app.js'
import { createRedisClient, type RedisClient } from './cache/redis-client.js'
import type { TokenCache } from './cache/token-cache.js'
import type { Clock } from './clock.js'
import { ConfigError, type Config } from './config.js'
import { openDatabase, type DatabaseHandle } from './db/database.js'
import { migrateToLatest, migrationStatus } from './db/migrations.js'
import { resolveKeys, type Keys } from './keys.js'
import { createLogger, type LoggerChoice } from './logging.js'
import { createServices, type AuthorityServices } from './services.js'

/**
 * What to do about pending migrations at start:
 * - `latest`: apply them (tests, the bench, the OpenAPI generator);
 * - `check`: the embedded database applies them, MySQL must already be current (the server: the
 *   migration Job or `authority-cli migrate up` does it);
 * - `embedded`: the embedded database applies them, MySQL is left as it is (the CLI).
 */
export type MigratePolicy = 'latest' | 'check' | 'embedded'

export interface BootOptions extends LoggerChoice {
  migrate: MigratePolicy
  /** an open database to use (not closed by this boot) */
  database?: DatabaseHandle
  /** a Redis client to use (not closed by this boot); otherwise opened when Redis is configured */
  redis?: RedisClient
  /** builds the token cache on the Redis client (the bench's counting cache); otherwise the services make it */
  cache?: (redis: RedisClient | undefined, keys: Keys) => TokenCache
  clock?: Clock
  /** false for one-shot commands (the CLI): they write the revocation log, they do not follow it */
  followRevocations?: boolean
  /**
   * A one-shot command's first Redis call comes at once, before a Sentinel or Cluster client has
   * found its nodes: wait up to this long for Redis to be ready (never an error: without it the
   * command still writes the revocation log, which running authorities follow).
   */
  awaitRedisMs?: number
}

export interface Booted {
  config: Config
  keys: Keys
  log: Logger
  database: DatabaseHandle
  redis: RedisClient | undefined
  services: AuthorityServices
  /** closes the services, then what this boot opened (Redis, the database): nothing it was lent */
  close(): Promise<void>
}

async function applyMigrations(database: DatabaseHandle, policy: MigratePolicy): Promise<void> {
  if (policy === 'latest' || database.dialect === 'sqlite') {
    // The embedded default migrates by itself, so a newcomer needs no extra step.
    await migrateToLatest(database.db)
    return
  }
  if (policy === 'embedded') return
  const pending = (await migrationStatus(database.db)).filter((m) => m.executedAt === null)
  if (pending.length > 0) {
    throw new ConfigError(
      `the database needs migrating (${pending.map((m) => m.name).join(', ')}): run "authority-cli migrate up" (or the migration Job) first`
    )
  }
}

/** The one boot sequence: config → keys → logger → database → migrations → Redis → services. */
export async function boot(config: Config, opts: BootOptions): Promise<Booted> {
  const keys = resolveKeys(config)
  const log = createLogger(config, opts)
  const closers: Array<() => Promise<unknown>> = []
  const closeAll = async () => {
    for (const close of closers.reverse()) await close()
  }
  try {
    const database = opts.database ?? openDatabase(config)
    if (opts.database === undefined) closers.push(() => database.close())
    await applyMigrations(database, opts.migrate)
    let redis = opts.redis
    if (redis === undefined && config.redis !== undefined) {
      // one node, the primary Sentinel names, or a Cluster (config.redis): the same factory everywhere
      const opened = createRedisClient({
        target: config.redis,
        commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
        connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT_MS
      })
      closers.push(() => opened.quit().catch(() => opened.disconnect()))
      redis = opened
      if (opts.awaitRedisMs !== undefined) await readyWithin(opened, opts.awaitRedisMs)
    }
    const cache = opts.cache?.(redis, keys)
    const services = await createServices(config, {
      database,
      redis,
      cache,
      keys,
      clock: opts.clock,
      log,
      followRevocations: opts.followRevocations
    })
    closers.push(() => services.close())
    return { config, keys, log, database, redis, services, close: closeAll }
  } catch (err) {
    await closeAll()
    throw err
  }
}

/** boot + buildApp: the app closes what the boot opened. */
export async function bootApp(
  config: Config,
  opts: BootOptions & BuildOptions
): Promise<{ app: FastifyInstance; booted: Booted }> {
  const booted = await boot(config, opts)
  try {
    const app = await buildApp(booted, opts.instrument ? { instrument: opts.instrument } : {})
    app.addHook('onClose', async () => booted.close())
    return { app, booted }
  } catch (err) {
    await booted.close()
    throw err
  }
}

/** Resolves when `client` is ready or after `ms`, whichever is first (its errors are the cache's to report). */
function readyWithin(client: RedisClient, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer)
      client.off('ready', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    client.once('ready', done)
  })
}
