import type { FastifyBaseLogger } from 'fastify'
import { AccountService } from './accounts/account-service.js'
import { Counter, LoginThrottle } from './accounts/login-throttle.js'
import { PasswordHasher } from './accounts/passwords.js'
import { ConsoleSessions, consoleActivityKey } from './auth/console-session.js'
import { FishingGuard } from './auth/fishing-guard.js'
import { InvalidationListener } from './cache/invalidation-listener.js'
import { MemoryTokenCache } from './cache/memory-cache.js'
import { cacheEntryKey, RedisTokenCache, type RejectReason } from './cache/redis-cache.js'
import type { RedisClient } from './cache/redis-client.js'
import type { TokenCache } from './cache/token-cache.js'
import { systemClock, type Clock } from './clock.js'
import type { Config } from './config.js'
import type { DatabaseHandle } from './db/database.js'
import { databaseFaultPolicy } from './db/fault-policy.js'
import { startPruneJob } from './jobs/prune-job.js'
import { AuthorityMetrics } from './metrics.js'
import { loadScopeCatalogue, type ScopeCatalogue } from './scopes/scope-catalogue.js'
import { Introspection } from './tokens/introspection.js'
import type { TokenKeys } from './tokens/token-keys.js'
import { LastUsedRecorder } from './tokens/last-used.js'
import { TokenLifecycle } from './tokens/token-lifecycle.js'
import { RevocationFollower } from './revocations/revocation-follower.js'
import { lastUsedAtOf, liveTokenIdsOfAccount } from './tokens/token.repository.js'
import { DeliveryWorker } from './webhooks/delivery-worker.js'
import { ExpiryNotices } from './webhooks/expiry-notices.js'
import { SecretBox } from './webhooks/secret-box.js'
import { WebhookService } from './webhooks/webhook-service.js'

/** What the services are built from: open clients (their owner closes them) and the keys. */
export interface ServiceDeps {
  database: DatabaseHandle
  /** the hot-path Redis client (config.redis): cache, login throttle, fishing guard */
  redis?: RedisClient | undefined
  /** a cache to use instead of the one made from `redis` or in process (closed by whoever made it) */
  cache?: TokenCache | undefined
  keys: Pick<TokenKeys, 'signingKeys' | 'pepper'>
  clock?: Clock | undefined
  log: FastifyBaseLogger
  /**
   * false: a one-shot command (the CLI): do not follow the revocation log, and run no background
   * work (webhook delivery, expiry notices); events it records are sent by the server processes
   */
  followRevocations?: boolean | undefined
}

/** The domain services, built once per process (or per test replica); no Fastify in them. */
export interface AuthorityServices {
  config: Config
  database: DatabaseHandle
  cache: TokenCache
  clock: Clock
  metrics: AuthorityMetrics
  catalogue: ScopeCatalogue
  /** the introspection hot path: verify, verifyCaller, invalidate */
  introspection: Introspection
  /** token management: issue, edit, regenerate, copy, revoke */
  tokens: TokenLifecycle
  /** last use of each token, kept in memory and written behind in batches */
  lastUsed: LastUsedRecorder
  accounts: AccountService
  fishing: FishingGuard
  /** console sessions: the login token in a cookie, the idle timeout in a sealed one */
  sessions: ConsoleSessions
  /** leaked-token reports per client address (POST /v1/leaked-tokens) */
  leakReports: Counter
  /** follows the revocation log: applies every event here, and orders them for the stream */
  revocations: RevocationFollower
  /** webhook endpoints (admin) */
  webhooks: WebhookService
  /** sends due webhook deliveries (null when this process sends none) */
  deliveries: DeliveryWorker | null
  /** emits token.expiring / token.expired (runOnce() is public for tests and the CLI) */
  expiryNotices: ExpiryNotices
  /** stops what the services started (listener, prune job, guard, the cache they made); not the clients */
  close(): Promise<void>
}

export async function createServices(config: Config, deps: ServiceDeps): Promise<AuthorityServices> {
  const { database, redis, log } = deps
  const clock = deps.clock ?? systemClock
  const ownsCache = deps.cache === undefined
  let rejected: ((reason: RejectReason) => void) | undefined
  const cache =
    deps.cache ??
    (redis !== undefined
      ? new RedisTokenCache({
          client: redis,
          keyPrefix: config.REDIS_KEY_PREFIX,
          ttlSeconds: config.CACHE_TTL_SECONDS,
          log,
          entryKey: cacheEntryKey(deps.keys.pepper),
          onRejected: (reason) => rejected?.(reason)
        })
      : new MemoryTokenCache({ maxEntries: config.CACHE_MAX_ENTRIES, ttlSeconds: config.CACHE_TTL_SECONDS }))
  const metrics = new AuthorityMetrics({ cache, database })
  rejected = (reason) => metrics.cacheRejected.inc({ reason })
  const guard = databaseFaultPolicy({
    timeoutMs: config.DB_QUERY_TIMEOUT_MS,
    log,
    onFault: () => metrics.databaseFaults.inc()
  })
  const keys: TokenKeys = { prefix: config.TOKEN_PREFIX, signingKeys: deps.keys.signingKeys, pepper: deps.keys.pepper }
  const db = database.db

  const catalogue = await loadScopeCatalogue(db, config)
  const introspection = new Introspection({
    db,
    guard,
    cache,
    clock,
    keys,
    cacheTtlSeconds: config.CACHE_TTL_SECONDS,
    dbReads: metrics.tokenStoreReads,
    callerHits: metrics.callerReuse,
    verifiedValuesMax: config.VERIFIED_VALUES_MAX_ENTRIES
  })
  const lastUsed = new LastUsedRecorder({
    db,
    guard,
    clock,
    log,
    intervalMs: config.LAST_USED_FLUSH_SECONDS * 1000,
    maxPending: config.LAST_USED_MAX_PENDING,
    counters: metrics.lastUsed
  })
  metrics.lastUsedPending = () => lastUsed.pendingCount
  const tokens = new TokenLifecycle({
    db,
    guard,
    clock,
    catalogue,
    keys,
    readDb: database.readDb,
    lifetime: { defaultDays: config.TOKEN_DEFAULT_LIFETIME_DAYS, maxDays: config.TOKEN_MAX_LIFETIME_DAYS },
    introspection,
    rowLocks: database.dialect === 'mysql',
    maxOverlapSeconds: config.ROTATION_MAX_OVERLAP_SECONDS,
    reuseGraceSeconds: config.ROTATION_REUSE_GRACE_SECONDS
  })
  introspection.rotation = {
    onPresented: (found, now) => tokens.onPresented(found, now),
    endOverlap: (successor) => tokens.endOverlap(successor),
    reuse: (presented) => tokens.revokeFamilyForReuse(presented)
  }
  const accounts = new AccountService({
    db,
    readDb: database.readDb,
    guard,
    clock,
    hasher: new PasswordHasher(config.BCRYPT_COST),
    catalogue,
    tokens,
    throttle: new LoginThrottle({
      accountFailuresPerHour: config.LOGIN_ACCOUNT_FAILURES_PER_HOUR,
      ipFailures: config.LOGIN_IP_FAILURES,
      ipWindowSeconds: config.LOGIN_IP_WINDOW_SECONDS,
      redis,
      keyPrefix: config.REDIS_KEY_PREFIX,
      secret: deps.keys.pepper
    }),
    loginTtlSeconds: { admin: config.ADMIN_TOKEN_TTL_SECONDS, customer: config.CUSTOMER_TOKEN_TTL_SECONDS },
    rowLocks: database.dialect === 'mysql'
  })
  const sessions = new ConsoleSessions({
    key: consoleActivityKey(deps.keys.pepper),
    clock,
    introspection,
    tokens,
    idleSeconds: config.CONSOLE_SESSION_IDLE_SECONDS,
    ttlSeconds: config.CONSOLE_SESSION_TTL_SECONDS
  })
  const fishing = new FishingGuard({
    unknownPerMinute: config.INTROSPECT_UNKNOWN_PER_MINUTE,
    redis,
    keyPrefix: config.REDIS_KEY_PREFIX,
    sharedCalls: metrics.fishingSharedCalls
  })

  // a minute's budget per client address, in Redis when there is one (shared by the replicas)
  const leakReports = new Counter(
    { redis, keyPrefix: config.REDIS_KEY_PREFIX },
    'leak-report-ip',
    config.LEAK_REPORTS_PER_MINUTE,
    60
  )

  // Every change that can deny access is in the revocation log (written in its transaction). This
  // process applies each event it reads: its in-process state, and the shared cache too (a
  // change whose process died after its commit still reaches it). Idempotent, so every replica
  // applying every event is harmless.
  const revocations = new RevocationFollower({
    db,
    guard,
    clock,
    log,
    pollMs: config.REVOCATION_LOG_POLL_MS,
    replayMs: config.CACHE_TTL_SECONDS * 1000,
    gapTimeoutMs: config.DB_QUERY_TIMEOUT_MS * 2 + 1000,
    apply: async (event) => {
      const ids = [...event.tokenIds]
      if (event.accountId !== null) ids.push(...(await guard(liveTokenIdsOfAccount(db, event.accountId, clock.now()))))
      if (ids.length === 0) return
      introspection.forgetRemote(ids)
      await cache.invalidate(ids)
    }
  })
  introspection.hooks = { committed: () => revocations.nudge() }
  if (deps.followRevocations !== false) await revocations.start()

  // the last uses still in memory are written before the database closes (the owner closes it after this)
  const stops: Array<() => unknown> = [() => fishing.close(), () => revocations.close(), () => lastUsed.close()]
  if (redis !== undefined && config.redis !== undefined) {
    // changes made on other replicas reach what this one keeps in process within milliseconds
    const listener = new InvalidationListener({
      target: config.redis,
      keyPrefix: config.REDIS_KEY_PREFIX,
      connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT_MS,
      log,
      onIds: (ids) => {
        introspection.forgetRemote(ids)
        // another replica committed a change: read the log now (the stream carries it at once)
        revocations.nudge()
      },
      onReset: () => {
        introspection.forgetRemote(null)
        revocations.nudge()
      }
    })
    stops.unshift(() => listener.close())
  }
  const background = deps.followRevocations !== false
  const box = new SecretBox(deps.keys.pepper)
  const deliveries =
    background && config.WEBHOOK_POLL_MS > 0
      ? new DeliveryWorker({
          db,
          clock,
          log,
          box,
          send: {
            connectTimeoutMs: config.WEBHOOK_CONNECT_TIMEOUT_MS,
            timeoutMs: config.WEBHOOK_TIMEOUT_MS,
            userAgent: 'token-authority-webhooks/1'
          },
          retry: {
            baseMs: config.WEBHOOK_RETRY_BASE_MS,
            maxDelayMs: config.WEBHOOK_RETRY_MAX_DELAY_MS,
            retryForMs: config.WEBHOOK_RETRY_FOR_SECONDS * 1000
          },
          pollMs: config.WEBHOOK_POLL_MS,
          concurrency: config.WEBHOOK_CONCURRENCY,
          perEndpoint: Math.max(1, Math.floor(config.WEBHOOK_CONCURRENCY / 4))
        })
      : null
  const nudge = () => deliveries?.nudge()
  tokens.hooks = { eventsCommitted: nudge }
  accounts.hooks = { eventsCommitted: nudge }
  const webhooks = new WebhookService({ db, guard, clock, box, nudge })
  const expiryNotices = new ExpiryNotices({
    db,
    mysql: database.dialect === 'mysql',
    clock,
    log,
    intervalMs: Math.max(1, config.EXPIRY_NOTICE_INTERVAL_SECONDS) * 1000,
    expiredLookbackMs: 86400_000,
    // as written so far (behind by up to LAST_USED_FLUSH_SECONDS: nothing next to a 7-day window)
    lastUsed: lastUsedAtOf,
    onEvents: nudge
  })
  if (deliveries !== null) {
    deliveries.start()
    stops.unshift(() => deliveries.close())
  }
  if (background && config.EXPIRY_NOTICE_INTERVAL_SECONDS > 0) {
    expiryNotices.start()
    stops.unshift(() => expiryNotices.close())
  }
  if (config.PRUNE_INTERVAL_SECONDS > 0) {
    const job = startPruneJob({
      db,
      clock,
      retentionMs: config.PRUNE_RETENTION_DAYS * 86400_000,
      revocationRetentionMs: config.REVOCATION_LOG_RETENTION_HOURS * 3600_000,
      webhookRetentionMs: config.WEBHOOK_LOG_RETENTION_DAYS * 86400_000,
      intervalMs: config.PRUNE_INTERVAL_SECONDS * 1000,
      log
    })
    stops.push(() => job.stop())
  }
  if (ownsCache) stops.unshift(() => cache.close())

  return {
    config,
    database,
    cache,
    clock,
    metrics,
    catalogue,
    introspection,
    tokens,
    lastUsed,
    accounts,
    fishing,
    sessions,
    leakReports,
    revocations,
    webhooks,
    deliveries,
    expiryNotices,
    close: async () => {
      for (const stop of stops) await stop()
    }
  }
}
