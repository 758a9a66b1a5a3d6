import { randomUUID } from 'node:crypto'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import AjvCompiler from '@fastify/ajv-compiler'
import SerializerSelector from '@fastify/fast-json-stringify-compiler'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { authenticatePlugin } from './auth/authenticate.js'
import type { Config } from './config.js'
import { errorBody, frameworkErrorHandler, registerErrorHandling } from './error-handler.js'
import { ErrorSchema } from './errors.js'
import { registerLoadShedding, type LoadShedder } from './load-shedding.js'
import { registerOpenApi } from './openapi.js'
import { databasePlugin } from './plugins/database.js'
import type { RedisClient } from './cache/redis-client.js'
import { redisPlugin } from './plugins/redis.js'
import { accountRoutes } from './routes/accounts.routes.js'
import { authRoutes } from './routes/auth.routes.js'
import { consoleRoutes } from './routes/console.routes.js'
import { discoveryRoutes } from './routes/discovery.routes.js'
import { healthRoutes } from './routes/health.routes.js'
import { meRoutes } from './routes/me.routes.js'
import { revocationRoutes } from './routes/revocations.routes.js'
import { leakedTokenRoutes } from './routes/leaked-tokens.routes.js'
import { rfcRoutes } from './routes/rfc.routes.js'
import { tokenExchangeRoutes } from './routes/token-exchange.routes.js'
import { SHARED_SCHEMAS } from './routes/schemas.js'
import { sessionRoutes } from './routes/session.routes.js'
import { tokenAdminRoutes } from './routes/token-admin.routes.js'
import { tokenRoutes } from './routes/tokens.routes.js'
import { webhookRoutes } from './routes/webhooks.routes.js'
import type { AuthorityServices } from './services.js'

export { loggerOptions, REDACT_PATHS, safePath } from './logging.js'
export type { AuthorityServices } from './services.js'

declare module 'fastify' {
  interface FastifyInstance {
    authority: AuthorityServices
    /** set when shutdown begins: readiness turns 503 while in-flight requests finish */
    markShuttingDown(): void
  }
}

/** What the app is built from (boot.ts): the services, their logger, the Redis client if any. */
export interface AppInput {
  services: AuthorityServices
  log: Logger
  redis?: RedisClient | undefined
}

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,64}$/

/**
 * Compiled validators and serializers, shared by every app this process builds. The server builds
 * one; the tests, the CLI and the OpenAPI generator build many, and compiling every route's
 * schemas again (Ajv, its meta-schema, fast-json-stringify) was ≈ 0.4 s of each build. A compiled
 * function depends only on its schema, the shared schemas and the options, so those are the key.
 */
type Compiled<F> = Map<string, F>
const compiledValidators = new Map<string, Compiled<unknown>>()
const compiledSerializers = new Map<string, Compiled<unknown>>()
const ajvPool = AjvCompiler()
const serializerSelector = SerializerSelector()

function memo<R extends { schema?: unknown }, F>(
  pools: Map<string, Compiled<unknown>>,
  poolKey: string,
  compile: (route: R) => F
): (route: R) => F {
  let pool = pools.get(poolKey) as Compiled<F> | undefined
  if (pool === undefined) {
    pool = new Map()
    pools.set(poolKey, pool as Compiled<unknown>)
  }
  const cache = pool
  return (route) => {
    const key = JSON.stringify(route.schema)
    let fn = cache.get(key)
    if (fn === undefined) {
      fn = compile(route)
      cache.set(key, fn)
    }
    return fn
  }
}

/**
 * Validators: query strings and path parameters are text, so they are coerced to the schema's
 * types; JSON bodies mean what they say (no coercion: `{"disabled": null}` or `expires_at: ""`
 * is a 400, not false or "never").
 */
function validatorFactory() {
  type Build = ReturnType<typeof AjvCompiler>
  return (externalSchemas: Parameters<Build>[0], options: NonNullable<Parameters<Build>[1]>) => {
    const strictOptions = {
      ...options,
      customOptions: { ...options.customOptions, coerceTypes: false }
    } as typeof options
    const externals = JSON.stringify(externalSchemas)
    const coercing = memo(
      compiledValidators,
      `${externals}${JSON.stringify(options)}`,
      ajvPool(externalSchemas, options)
    )
    const strict = memo(
      compiledValidators,
      `${externals}${JSON.stringify(strictOptions)}`,
      ajvPool(externalSchemas, strictOptions)
    )
    return (route: Parameters<ReturnType<Build>>[0]) => (route.httpPart === 'body' ? strict : coercing)(route)
  }
}

function serializerFactory() {
  return (externalSchemas: unknown, options?: Parameters<typeof serializerSelector>[1]) =>
    memo(
      compiledSerializers,
      `${JSON.stringify(externalSchemas)}${JSON.stringify(options ?? {})}`,
      serializerSelector(externalSchemas, options)
    )
}

function createFastify(config: Config, log: Logger) {
  return Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // a hop count is valid at runtime though Fastify's types omit it
    trustProxy: config.trustProxy as boolean | string,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID()
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    schemaController: {
      compilersFactory: { buildValidator: validatorFactory() as never, buildSerializer: serializerFactory() as never }
    },
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: frameworkErrorHandler
  }).withTypeProvider<TypeBoxTypeProvider>()
}

export interface BuildOptions {
  /**
   * Called with the new instance before anything is registered, so the hooks it adds see every
   * route (the OpenAPI generator's route list, the test suite's secret-scan recorder).
   */
  instrument?: (app: FastifyInstance) => void
}

/** Registration only: plugins, hooks and routes over services built elsewhere (boot.ts); never listens. */
export async function buildApp(input: AppInput, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const { services } = input
  const { config, metrics } = services
  const app = createFastify(config, input.log)
  // before any registration: a hook added after an (awaited) register does not reach its routes
  opts.instrument?.(app)

  // lent clients: their owner (boot) closes them
  await app.register(databasePlugin, { handle: services.database })
  if (input.redis !== undefined) await app.register(redisPlugin, { client: input.redis })
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
  registerErrorHandling(app, config.AUTH_REALM)
  // A route whose body fields are all optional (DELETE with an optional password) may be called
  // without a body: validate it as {} so the answer is about the fields, not "body must be object".
  // (callback hooks: these run on every request, and need no promise)
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.body === undefined && request.routeOptions.schema?.body !== undefined) request.body = {}
    done()
  })
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id)
    // Draining: tell keep-alive clients to reconnect (to another pod), so close() is not held open.
    if (shuttingDown) reply.header('connection', 'close')
    done(null, payload)
  })

  metrics.instrument(app)
  let shedder: LoadShedder | undefined
  if (config.LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS > 0) {
    // Shed load before latency runs away: 503 + Retry-After, the same error shape as the rest.
    // Start-up's own event-loop delay is not counted (see load-shedding.ts).
    shedder = registerLoadShedding(app, {
      maxDelayMs: config.LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS,
      sampleIntervalMs: 250,
      sustainedMs: config.LOAD_SHED_SUSTAINED_MS,
      onShed: (request, reply) => {
        metrics.loadShed.inc()
        void reply
          .code(503)
          .header('retry-after', '1')
          .send(errorBody('service_unavailable', request.id, 'the service is overloaded, try again shortly'))
      }
    })
  }
  await app.register(healthRoutes, {
    checks: { database: () => app.database.ping(), cache: () => services.cache.ping() },
    timeoutMs: 1000,
    isReady: () => !shuttingDown,
    // readiness and shedding agree: not ready while requests would be shed
    overloaded: () => shedder?.overloaded() ?? false
  })
  await app.register(authRoutes, services)
  await app.register(sessionRoutes, services)
  // the RFC routes never read the console cookie: only their own ways of authenticating
  await app.register(rfcRoutes, services)
  await app.register(consoleRoutes, { dir: config.consoleDir })
  await app.register(tokenExchangeRoutes, services)
  await app.register(leakedTokenRoutes, services)
  await app.register(discoveryRoutes, services)
  // Authenticated routes: an encapsulated context whose onRequest hook verifies the Bearer token
  // (or, with none, the console session cookie under the CSRF rule: auth/console-cookies.ts).
  await app.register(async (authed) => {
    await authed.register(authenticatePlugin, {
      introspection: services.introspection,
      allowQuery: config.ALLOW_QUERY_TOKENS,
      sessions: services.sessions,
      lastUsed: services.lastUsed
    })
    await authed.register(meRoutes, services)
    await authed.register(tokenRoutes, services)
    await authed.register(accountRoutes, services)
    await authed.register(tokenAdminRoutes, services)
    await authed.register(revocationRoutes, services)
    await authed.register(webhookRoutes, services)
  })
  return app
}
