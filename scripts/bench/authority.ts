import formbody from '@fastify/formbody'
import type { FastifyInstance } from 'fastify'
import type { RedisClient } from '../../services/authority/src/cache/redis-client.js'
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow
} from 'kysely'
import { pino } from 'pino'
import { bootApp } from '../../services/authority/src/boot.js'
import type { Account } from '../../services/authority/src/accounts/account-service.js'
import type { Actor } from '../../services/authority/src/audit/audit.repository.js'
import { MemoryTokenCache } from '../../services/authority/src/cache/memory-cache.js'
import { cacheEntryKey, RedisTokenCache } from '../../services/authority/src/cache/redis-cache.js'
import type { CacheLookup, TokenCache } from '../../services/authority/src/cache/token-cache.js'
import { loadConfig, type Config, type SigningKey } from '../../services/authority/src/config.js'
import { openDatabase, type DatabaseHandle } from '../../services/authority/src/db/database.js'
import { loggerOptions } from '../../services/authority/src/logging.js'
import type { BenchBackend } from './backend.js'

export const USER_PASSWORD = 'bench-user-password-1'
export const USER_NAME = 'bench-user'
const OPERATOR: Actor = { accountId: null, tokenId: null, ip: null }

/**
 * Counts cache lookups per token id, so the forged scenario can show that a forged token never
 * reaches the store (the caller's own credential is looked up once per request, as it must be).
 * A subclass of the real cache, same options as buildApp uses; `get` adds one comparison and one
 * increment, no extra promise.
 */
export interface LookupCounter {
  /** the id of the caller's service token: its lookups are counted apart */
  callerId: string | null
  callerLookups: number
  otherLookups: number
  /** every query the apps send through Kysely (a pass-through plugin) */
  dbQueries: number
  /** every command on the authority's Redis connection (token cache, login throttle, fishing guard) */
  redisCommands: number
  /** network round trips among them: a MULTI…EXEC block or a pipeline is one */
  redisRoundTrips: number
  redisByName: Record<string, number>
}

/** Counts queries without touching them. */
function countingPlugin(counter: LookupCounter): KyselyPlugin {
  return {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      counter.dbQueries++
      return args.node
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      return args.result
    }
  }
}

/** Counts commands on an ioredis client (wraps its sendCommand; pipelines pass a shared fake stream). */
function countRedis(client: RedisClient, counter: LookupCounter): void {
  const original = client.sendCommand.bind(client) as (command: { name: string }, stream?: unknown) => unknown
  const pipelines = new WeakSet<object>()
  ;(client as unknown as { sendCommand: typeof original }).sendCommand = (command, stream) => {
    counter.redisCommands++
    counter.redisByName[command.name] = (counter.redisByName[command.name] ?? 0) + 1
    const s = stream as { isPipeline?: boolean } | undefined
    if (s?.isPipeline === true) {
      if (!pipelines.has(s)) {
        pipelines.add(s)
        counter.redisRoundTrips++
      }
    } else counter.redisRoundTrips++
    return original(command, stream)
  }
}

function countingCache(
  config: Config,
  counter: LookupCounter,
  redis: RedisClient | undefined,
  pepper: Buffer
): TokenCache {
  if (redis !== undefined) {
    class CountingRedisCache extends RedisTokenCache {
      override get(id: string): Promise<CacheLookup> {
        if (id === counter.callerId) counter.callerLookups++
        else counter.otherLookups++
        return super.get(id)
      }
    }
    return new CountingRedisCache({
      client: redis,
      keyPrefix: config.REDIS_KEY_PREFIX,
      ttlSeconds: config.CACHE_TTL_SECONDS,
      log: pino({ level: 'warn' }),
      entryKey: cacheEntryKey(pepper)
    })
  }
  class CountingMemoryCache extends MemoryTokenCache {
    override get(id: string): Promise<CacheLookup> {
      if (id === counter.callerId) counter.callerLookups++
      else counter.otherLookups++
      return super.get(id)
    }
  }
  return new CountingMemoryCache({ maxEntries: config.CACHE_MAX_ENTRIES, ttlSeconds: config.CACHE_TTL_SECONDS })
}

export interface BenchAuthority {
  config: Config
  database: DatabaseHandle
  cache: TokenCache
  counter: LookupCounter
  signingKeys: readonly SigningKey[]
  pepper: Buffer
  /** the authority under test: default settings, plus the baseline routes */
  app: FastifyInstance
  url: string
  /**
   * The same authority built a second time on the same database and cache with
   * REQUIRE_PASSWORD_CONFIRMATION=false: create/regenerate throughput without a bcrypt compare
   * per request. Same process, idle while the main app is measured.
   */
  writer: FastifyInstance
  writerUrl: string
  close(): Promise<void>
}

/** Introspection-request-shaped body schema (the TokenRequest of rfc.routes.ts). */
const BaselineBody = {
  type: 'object',
  required: ['token'],
  additionalProperties: false,
  properties: {
    token: { type: 'string', minLength: 1, maxLength: 4096 },
    token_type_hint: { type: 'string', maxLength: 64 },
    client_id: { type: 'string', minLength: 1, maxLength: 128 },
    client_secret: { type: 'string', minLength: 1, maxLength: 4096 }
  }
} as const

/**
 * The ceiling for /introspect on this machine: on the same instance (so the same global hooks,
 * request ids, logger and error handler), a route that parses an introspection-shaped form body
 * against the same schema and answers a small JSON through a response schema. No auth, no
 * cache, no crypto.
 */
async function addBaselineRoutes(app: FastifyInstance, bodyLimit: number): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(formbody, { bodyLimit })
    scope.post(
      '/bench/baseline',
      {
        schema: {
          body: BaselineBody,
          response: {
            200: { type: 'object', properties: { active: { type: 'boolean' } }, additionalProperties: false }
          }
        }
      },
      async () => ({ active: true })
    )
  })
  // The same baseline answering what a warm introspection answers: the reply's size and fields,
  // through a response schema of the same shape, and its cache-control header. Against it, the
  // introspection's own work shows apart from the cost of writing a bigger answer.
  await app.register(async (scope) => {
    await scope.register(formbody, { bodyLimit })
    const now = Math.floor(Date.now() / 1000)
    const reply = {
      active: true,
      scope: 'orders:read orders:write',
      client_id: 'Vq3bX0mH1o6rY2dJk8sLwA',
      username: 'bench-owner-0007',
      token_type: 'Bearer',
      exp: now + 86_400,
      iat: now,
      sub: 'Vq3bX0mH1o6rY2dJk8sLwA',
      iss: 'token-authority',
      jti: 'c1XkQ9pZr7TfW3bN5yHgEw',
      kind: 'customer',
      token_kind: 'pat',
      permissions: ['orders:read', 'orders:write']
    }
    const str = { type: 'string' }
    const int = { type: 'integer' }
    scope.post(
      '/bench/baseline-full',
      {
        schema: {
          body: BaselineBody,
          response: {
            200: {
              type: 'object',
              additionalProperties: false,
              properties: {
                active: { type: 'boolean' },
                scope: str,
                client_id: str,
                username: str,
                token_type: str,
                exp: int,
                iat: int,
                sub: str,
                iss: str,
                jti: str,
                kind: str,
                token_kind: str,
                permissions: { type: 'array', items: str }
              }
            }
          }
        }
      },
      async (_request, res) => {
        res.header('cache-control', 'private, max-age=60')
        return reply
      }
    )
  })
  app.get(
    '/bench/hello',
    { schema: { response: { 200: { type: 'object', properties: { hello: { type: 'string' } } } } } },
    async () => ({ hello: 'world' })
  )
}

export async function startAuthority(
  backend: BenchBackend,
  opts: { bcryptCost: number; logLevel: 'warn' | 'silent' }
): Promise<BenchAuthority> {
  const env = {
    LOG_LEVEL: opts.logLevel,
    BCRYPT_COST: String(opts.bcryptCost),
    PRUNE_INTERVAL_SECONDS: '0',
    EXTRA_SCOPES: 'orders:read=Read orders,orders:write=Create orders',
    // The fishing guard answers 429 to a caller past 300 unknown tokens a minute; the forged
    // scenario sends thousands a second on purpose, to measure the rejection path itself, so its
    // budget is raised here (its Redis calls are still made and counted).
    INTROSPECT_UNKNOWN_PER_MINUTE: '1000000000',
    ...backend.env,
    // A/B of a setting in one run: BENCH_TA_<NAME>=value sets the authority's <NAME>
    ...Object.fromEntries(
      Object.entries(process.env)
        .filter(([k, v]) => k.startsWith('BENCH_TA_') && v !== undefined)
        .map(([k, v]) => [k.slice('BENCH_TA_'.length), v as string])
    )
  }
  const config = loadConfig(env)
  const writerConfig = loadConfig({ ...env, REQUIRE_PASSWORD_CONFIRMATION: 'false' })
  const opened = openDatabase(config)
  const counter: LookupCounter = {
    callerId: null,
    callerLookups: 0,
    otherLookups: 0,
    dbQueries: 0,
    redisCommands: 0,
    redisRoundTrips: 0,
    redisByName: {}
  }
  const database: DatabaseHandle = { ...opened, db: opened.db.withPlugin(countingPlugin(counter)) }
  // the app's boot opens Redis (REDIS_URL) and builds the counting cache on that client; the writer borrows both
  const { app, booted } = await bootApp(config, {
    migrate: 'latest',
    database,
    cache: (redis, keys) => countingCache(config, counter, redis, keys.pepper),
    logger: loggerOptions(config)
  })
  const { keys, services } = booted
  const cache = services.cache
  if (booted.redis !== undefined) countRedis(booted.redis, counter)
  await addBaselineRoutes(app, config.BODY_LIMIT_BYTES)
  const url = await app.listen({ port: 0, host: '127.0.0.1' })

  const { app: writer } = await bootApp(writerConfig, {
    migrate: 'latest',
    database,
    ...(booted.redis !== undefined ? { redis: booted.redis } : {}),
    cache: () => cache,
    logger: loggerOptions(writerConfig)
  })
  const writerUrl = await writer.listen({ port: 0, host: '127.0.0.1' })

  return {
    config,
    database,
    cache,
    counter,
    signingKeys: keys.signingKeys,
    pepper: keys.pepper,
    app,
    url,
    writer,
    writerUrl,
    close: async () => {
      await writer.close()
      await app.close()
      await cache.close()
      await database.close()
    }
  }
}

export interface Fixtures {
  /** the introspecting caller: a service account with tokens:introspect(+reason) and its token */
  service: Account
  serviceToken: string
  serviceTokenId: string
  /** the orders demo's own service token */
  ordersServiceToken: string
  /** a customer with orders:read, tokens:read, tokens:write (password USER_PASSWORD) */
  user: Account
  /** the user's PAT with orders:read + tokens:read + tokens:write: the credential of the create/regenerate runs */
  userToken: string
  /** PATs with orders:read for the verifier scenario */
  orderTokens: string[]
}

/** Accounts and tokens made through the services, as an operator would (caller null). */
export async function createFixtures(ta: BenchAuthority, orderTokenCount: number): Promise<Fixtures> {
  const { accounts, tokens } = ta.app.authority
  const service = await accounts.create(
    {
      username: 'bench-gateway',
      password: 'bench-gateway-password-1',
      kind: 'service',
      permissions: ['tokens:introspect', 'tokens:introspect:reason']
    },
    null,
    OPERATOR
  )
  const svc = await tokens.createToken(
    service,
    { name: 'bench gateway', scopes: ['tokens:introspect', 'tokens:introspect:reason'] },
    null,
    OPERATOR
  )
  ta.counter.callerId = svc.token.id
  // the orders demo is another consumer: its own service account and credential
  const ordersService = await accounts.create(
    {
      username: 'orders-api',
      password: 'orders-api-password-1',
      kind: 'service',
      permissions: ['tokens:introspect', 'tokens:introspect:reason', 'tokens:revocations']
    },
    null,
    OPERATOR
  )
  const ordersSvc = await tokens.createToken(
    ordersService,
    { name: 'orders api', scopes: ['tokens:introspect', 'tokens:introspect:reason', 'tokens:revocations'] },
    null,
    OPERATOR
  )
  const user = await accounts.create(
    {
      username: USER_NAME,
      password: USER_PASSWORD,
      kind: 'customer',
      permissions: ['orders:read', 'tokens:read', 'tokens:write']
    },
    null,
    OPERATOR
  )
  const writer = await tokens.createToken(
    user,
    { name: 'bench writer', scopes: ['orders:read', 'tokens:read', 'tokens:write'] },
    null,
    OPERATOR
  )
  const orderTokens: string[] = []
  for (let i = 0; i < orderTokenCount; i++) {
    orderTokens.push(
      (await tokens.createToken(user, { name: `orders ${i}`, scopes: ['orders:read'] }, null, OPERATOR)).value
    )
  }
  return {
    service,
    serviceToken: svc.value,
    serviceTokenId: svc.token.id,
    ordersServiceToken: ordersSvc.value,
    user,
    userToken: writer.value,
    orderTokens
  }
}
