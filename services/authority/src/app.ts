import { randomUUID } from 'node:crypto'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions, type RouteOptions } from 'fastify'
import { AccountService } from './accounts/account-service.js'
import { LoginThrottle } from './accounts/login-throttle.js'
import { PasswordHasher } from './accounts/passwords.js'
import { authenticatePlugin } from './auth/authenticate.js'
import { FishingGuard } from './auth/fishing-guard.js'
import { MemoryTokenCache } from './cache/memory-cache.js'
import { InvalidationListener } from './cache/invalidation-listener.js'
import { RedisTokenCache } from './cache/redis-cache.js'
import type { TokenCache } from './cache/token-cache.js'
import { systemClock, type Clock } from './clock.js'
import type { Config, SigningKey } from './config.js'
import { openDatabase, type DatabaseHandle } from './db/database.js'
import { AppError, ErrorSchema, type ErrorBody } from './errors.js'
import { startPruneJob } from './jobs/prune-job.js'
import { accountRoutes } from './routes/accounts.routes.js'
import { authRoutes } from './routes/auth.routes.js'
import type { RouteDeps } from './routes/context.js'
import { healthRoutes } from './routes/health.routes.js'
import { meRoutes } from './routes/me.routes.js'
import { rfcRoutes } from './routes/rfc.routes.js'
import { SHARED_SCHEMAS } from './routes/schemas.js'
import { tokenRoutes } from './routes/tokens.routes.js'
import { loadScopeCatalogue } from './scopes/scope-catalogue.js'
import { AuthorityMetrics } from './metrics.js'
import underPressure from '@fastify/under-pressure'
import { registerOpenApi } from './openapi.js'
import { TokenService } from './tokens/token-service.js'

export interface AppDeps {
  /** an open database (tests share one per file); otherwise opened from config and closed with the app */
  database?: DatabaseHandle
  cache?: TokenCache
  clock?: Clock
  /** keys: required (server.ts resolves them from env, files or the embedded data folder) */
  signingKeys: readonly SigningKey[]
  pepper: Buffer
  /** pino options or an instance, e.g. a stream to capture logs in tests */
  logger?: FastifyServerOptions['logger']
  loggerInstance?: FastifyServerOptions['loggerInstance']
  /** sees every route as it is added (the OpenAPI route-table check) */
  onRoute?: (route: RouteOptions) => void
}

export interface AuthorityServices extends RouteDeps {
  database: DatabaseHandle
  cache: TokenCache
  clock: Clock
}

declare module 'fastify' {
  interface FastifyInstance {
    authority: AuthorityServices
    /** set when shutdown begins: readiness turns 503 while in-flight requests finish */
    markShuttingDown(): void
  }
}

/** Headers, query parameters and body fields that may carry secrets: never logged. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.password',
  '*.current_password',
  '*.token',
  '*.access_token',
  '*.client_secret'
]

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,64}$/

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>) {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      // The query string may hold a token (access_token / session): log the path only.
      req: (req: { method: string; url: string; id: string; ip?: string }) => ({
        method: req.method,
        path: req.url.split('?')[0],
        reqId: req.id,
        ip: req.ip
      })
    }
  }
}

/** The app factory: builds the instance, connects what it is not given; never listens. */
export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const clock = deps.clock ?? systemClock
  const app = Fastify({
    ...(deps.loggerInstance ? { loggerInstance: deps.loggerInstance } : { logger: deps.logger ?? loggerOptions(config) }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // a hop count is valid at runtime though Fastify's types omit it
    trustProxy: config.trustProxy as boolean | string,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID()
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: frameworkErrorHandler
  }).withTypeProvider<TypeBoxTypeProvider>()
  if (deps.onRoute) app.addHook('onRoute', deps.onRoute)

  const ownsDatabase = deps.database === undefined
  const database = deps.database ?? openDatabase(config)
  const ownsCache = deps.cache === undefined
  const cache =
    deps.cache ??
    (config.REDIS_URL !== undefined
      ? new RedisTokenCache({
          url: config.REDIS_URL,
          keyPrefix: config.REDIS_KEY_PREFIX,
          ttlSeconds: config.CACHE_TTL_SECONDS,
          commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
          connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT_MS,
          log: app.log
        })
      : new MemoryTokenCache({ maxEntries: config.CACHE_MAX_ENTRIES, ttlSeconds: config.CACHE_TTL_SECONDS }))
  app.addHook('onClose', async () => {
    if (ownsCache) await cache.close()
    if (ownsDatabase) await database.close()
  })

  const catalogue = await loadScopeCatalogue(database.db, config)
  const tokens = new TokenService({
    db: database.db,
    cache,
    clock,
    catalogue,
    signingKeys: deps.signingKeys,
    pepper: deps.pepper,
    prefix: config.TOKEN_PREFIX,
    cacheTtlSeconds: config.CACHE_TTL_SECONDS,
    dbTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
    log: app.log
  })
  if (cache instanceof RedisTokenCache && config.REDIS_URL !== undefined) {
    // changes made on other replicas reach what this one keeps in process within milliseconds
    const listener = new InvalidationListener({
      url: config.REDIS_URL,
      keyPrefix: config.REDIS_KEY_PREFIX,
      connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT_MS,
      log: app.log,
      onIds: (ids) => tokens.forgetRemote(ids),
      onReset: () => tokens.forgetRemote(null)
    })
    app.addHook('onClose', async () => listener.close())
  }
  const accounts = new AccountService({
    db: database.db,
    clock,
    hasher: new PasswordHasher(config.BCRYPT_COST),
    catalogue,
    tokens,
    throttle: new LoginThrottle({
      accountFailuresPerHour: config.LOGIN_ACCOUNT_FAILURES_PER_HOUR,
      ipFailures: config.LOGIN_IP_FAILURES,
      ipWindowSeconds: config.LOGIN_IP_WINDOW_SECONDS,
      redis: cache instanceof RedisTokenCache ? cache.client : undefined,
      keyPrefix: config.REDIS_KEY_PREFIX,
      secret: deps.pepper
    }),
    loginTtlSeconds: { admin: config.ADMIN_TOKEN_TTL_SECONDS, customer: config.CUSTOMER_TOKEN_TTL_SECONDS }
  })
  const metrics = new AuthorityMetrics({ cache, tokens, database })
  const fishing = new FishingGuard({
    unknownPerMinute: config.INTROSPECT_UNKNOWN_PER_MINUTE,
    redis: cache instanceof RedisTokenCache ? cache.client : undefined,
    keyPrefix: config.REDIS_KEY_PREFIX
  })
  app.addHook('onClose', async () => fishing.close())
  const services: AuthorityServices = { config, tokens, accounts, catalogue, database, cache, clock, metrics, fishing }
  app.decorate('authority', services)
  let shuttingDown = false
  app.decorate('markShuttingDown', () => {
    shuttingDown = true
  })
  app.decorateRequest('principal', null)

  // JSON everywhere (form too on the RFC routes); text/plain is not a format any route reads.
  app.removeContentTypeParser('text/plain')

  app.addSchema(ErrorSchema)
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema)
  await registerOpenApi(app)

  app.setErrorHandler(errorHandler(config.AUTH_REALM))
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`, request.id))
  })
  // A route whose body fields are all optional (DELETE with an optional password) may be called
  // without a body: validate it as {} so the answer is about the fields, not "body must be object".
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body !== undefined) request.body = {}
  })
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
    // Draining: tell keep-alive clients to reconnect (to another pod), so close() is not held open.
    if (shuttingDown) reply.header('connection', 'close')
  })

  metrics.instrument(app)
  if (config.LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS > 0) {
    // Shed load before latency runs away: 503 + Retry-After, the same error shape as the rest.
    await app.register(underPressure, {
      maxEventLoopDelay: config.LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS,
      sampleInterval: 250,
      pressureHandler: (request, reply) => {
        metrics.loadShed.inc()
        void reply.code(503).header('retry-after', '1').send(errorBody(503, 'service_unavailable', 'the service is overloaded, try again shortly', request.id))
      }
    })
  }
  await app.register(healthRoutes, {
    metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
    checks: { database: () => database.ping(), cache: () => cache.ping() },
    timeoutMs: 1000,
    isReady: () => !shuttingDown
  })
  await app.register(authRoutes, services)
  await app.register(rfcRoutes, services)
  // Authenticated routes: an encapsulated context whose onRequest hook verifies the Bearer token.
  await app.register(async (authed) => {
    await authed.register(authenticatePlugin, { tokens, allowQuery: config.ALLOW_QUERY_TOKENS })
    await authed.register(meRoutes, services)
    await authed.register(tokenRoutes, services)
    await authed.register(accountRoutes, services)
  })

  if (config.PRUNE_INTERVAL_SECONDS > 0) {
    const job = startPruneJob({
      db: database.db,
      clock,
      retentionMs: config.PRUNE_RETENTION_DAYS * 86400_000,
      intervalMs: config.PRUNE_INTERVAL_SECONDS * 1000,
      log: app.log
    })
    app.addHook('onClose', async () => job.stop())
  }
  return app
}

function errorBody(statusCode: number, code: ErrorBody['code'], message: string, requestId: string): ErrorBody {
  const reason: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    409: 'Conflict',
    413: 'Payload Too Large',
    415: 'Unsupported Media Type',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    503: 'Service Unavailable'
  }
  return { statusCode, code, error: reason[statusCode] ?? 'Error', message, requestId }
}

/**
 * Errors Fastify raises before routing (the fuzz test found both answering Fastify's own body, one
 * with an undocumented 414): a malformed percent-encoding in the path, and a path parameter past
 * maxParamLength (no id is that long). Both get the one error shape, as 400s.
 */
function frameworkErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return reply.code(400).send(errorBody(400, 'validation_failed', 'a path parameter is too long', request.id))
  }
  if (err.code === 'FST_ERR_BAD_URL') return reply.code(400).send(errorBody(400, 'invalid_request', 'malformed URL', request.id))
  request.log.error({ err }, 'framework error')
  return reply.code(500).send(errorBody(500, 'internal_error', 'internal error', request.id))
}

const quote = (s: string): string => s.replace(/[\\"]/g, '')

/** One mapper for every error: stable codes, RFC 6750 challenges, and no internal text on 5xx. */
function errorHandler(realm: string) {
  return (err: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof AppError) {
      const { opts } = err
      if (err.statusCode === 401 || opts.bearerError !== undefined) {
        if (err.code === 'invalid_client') reply.header('www-authenticate', `Basic realm="${quote(realm)}"`)
        else if (opts.challenge || opts.bearerError === undefined) reply.header('www-authenticate', `Bearer realm="${quote(realm)}"`)
        else {
          const scope = opts.scope !== undefined ? `, scope="${quote(opts.scope)}"` : ''
          reply.header(
            'www-authenticate',
            `Bearer realm="${quote(realm)}", error="${opts.bearerError}", error_description="${quote(err.message)}"${scope}`
          )
        }
      }
      if (opts.retryAfterSeconds !== undefined) reply.header('retry-after', String(opts.retryAfterSeconds))
      if (err.statusCode >= 500) request.log.warn({ code: err.code }, err.message)
      return reply.code(err.statusCode).send(errorBody(err.statusCode, err.code, err.message, request.id))
    }
    if (err.validation) {
      return reply.code(400).send(errorBody(400, 'validation_failed', err.message, request.id))
    }
    const status = err.statusCode ?? 500
    if (status === 413) return reply.code(413).send(errorBody(413, 'payload_too_large', 'the request body is too large', request.id))
    if (status === 415) return reply.code(415).send(errorBody(415, 'unsupported_media_type', 'unsupported content type', request.id))
    if (status === 429) return reply.code(429).send(errorBody(429, 'too_many_requests', 'too many requests', request.id))
    if (status >= 400 && status < 500) {
      // Fastify's own 4xx (invalid JSON, empty body, bad header): say what, without echoing input.
      const message = err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError ? 'the body is not valid JSON' : 'malformed request'
      return reply.code(400).send(errorBody(400, 'invalid_request', message, request.id))
    }
    request.log.error({ err }, 'unhandled error')
    return reply.code(500).send(errorBody(500, 'internal_error', 'internal error', request.id))
  }
}
