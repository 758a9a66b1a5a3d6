import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import envSchema from 'env-schema'
import Type from 'typebox'

/**
 * The one configuration schema. Every setting comes from the environment (or a `*_FILE`
 * mounted secret), is validated here once at start, and the `Config` type derives from it.
 */
export const ConfigSchema = Type.Object({
  PORT: Type.Integer({
    description: 'port of the API (management, RFC endpoints, probes, /docs)',
    minimum: 0,
    maximum: 65535,
    default: 3000
  }),
  HOST: Type.String({ description: 'address the API listens on', default: '0.0.0.0' }),
  /** Prometheus metrics (GET /metrics) on a port of their own, never the API port; 0 = off */
  METRICS_PORT: Type.Integer({
    description: '`GET /metrics` (Prometheus) on this port only, never on `PORT`; `0` = off',
    minimum: 0,
    maximum: 65535,
    default: 9464
  }),
  /** the metrics listener's address (default: HOST) */
  METRICS_HOST: Type.Optional(
    Type.String({ description: 'address the metrics port listens on; unset = the same as `HOST`', minLength: 1 })
  ),
  LOG_LEVEL: Type.Unsafe<'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'>({
    description: 'pino level (`fatal` … `trace`, `silent`)',
    type: 'string',
    enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info'
  }),
  DATABASE_URL: Type.Optional(
    Type.String({
      description: '`mysql://user:pass@host:3306/db`; unset = embedded SQLite in `DATA_DIR`',
      pattern: '^mysql://'
    })
  ),
  DATA_DIR: Type.String({ description: 'embedded database and generated keys', default: './data', minLength: 1 }),
  DB_POOL_SIZE: Type.Integer({ description: 'MySQL pool size', minimum: 1, maximum: 200, default: 10 }),
  DB_QUEUE_LIMIT: Type.Integer({
    description: 'bounded wait queue behind the MySQL pool; past it a call is refused at once (503)',
    minimum: 1,
    default: 2000
  }),
  DB_CONNECT_TIMEOUT_MS: Type.Integer({
    description: 'past this a database connection attempt is a 503, never a pass',
    minimum: 100,
    default: 2000
  }),
  DB_QUERY_TIMEOUT_MS: Type.Integer({
    description: 'past this a database call is a 503, never a pass',
    minimum: 100,
    default: 3000
  }),
  DATABASE_READ_URL: Type.Optional(
    Type.String({
      description:
        '`mysql://…` of a read replica, for lists only (own and account token lists, account lists): they may lag. Writes and every read that decides whether a token is active stay on `DATABASE_URL`; unset = everything on `DATABASE_URL`',
      pattern: '^mysql://'
    })
  ),
  REDIS_URL: Type.Optional(
    Type.String({
      description:
        'one Redis node: `redis://[user:pass@]host:6379[/db]`, `rediss://…` for TLS; unset (and no `REDIS_SENTINELS` / `REDIS_CLUSTER_NODES`) = in-process cache',
      pattern: '^rediss?://'
    })
  ),
  REDIS_SENTINELS: Type.Optional(
    Type.String({
      description:
        'Redis behind Sentinel: `host:port,host:port,…` of the sentinels (with `REDIS_SENTINEL_NAME`); the primary is asked of them and followed through failovers. Exclusive with `REDIS_URL` and `REDIS_CLUSTER_NODES`',
      pattern: '^[^,:\\s]+:[0-9]{1,5}(,[^,:\\s]+:[0-9]{1,5})*$'
    })
  ),
  REDIS_SENTINEL_NAME: Type.Optional(
    Type.String({ description: 'the master name the sentinels monitor (`mymaster`)', minLength: 1 })
  ),
  REDIS_SENTINEL_USERNAME: Type.Optional(
    Type.String({ description: 'ACL user of the sentinels, if they require one', minLength: 1 })
  ),
  REDIS_SENTINEL_PASSWORD: Type.Optional(
    Type.String({ description: 'password of the sentinels (`requirepass` / ACL), if they require one', minLength: 1 })
  ),
  REDIS_CLUSTER_NODES: Type.Optional(
    Type.String({
      description:
        'Redis Cluster: `host:port,host:port,…` seed nodes (the rest is discovered). Exclusive with `REDIS_URL` and `REDIS_SENTINELS`; do not put `{…}` in `REDIS_KEY_PREFIX` (it would pin every key to one slot)',
      pattern: '^[^,:\\s]+:[0-9]{1,5}(,[^,:\\s]+:[0-9]{1,5})*$'
    })
  ),
  REDIS_USERNAME: Type.Optional(
    Type.String({
      description:
        'ACL user of the Redis nodes (Sentinel and Cluster set-ups; with `REDIS_URL` it may instead be in the URL, which wins)',
      minLength: 1
    })
  ),
  REDIS_PASSWORD: Type.Optional(
    Type.String({
      description: "password of the Redis nodes (as `REDIS_USERNAME`; the URL's password wins)",
      minLength: 1
    })
  ),
  REDIS_TLS: Type.Boolean({
    description:
      'TLS to the Redis nodes (and the sentinels); `rediss://` in `REDIS_URL` turns it on too. The server certificate is always verified',
    default: false
  }),
  REDIS_TLS_CA_FILE: Type.Optional(
    Type.String({
      description: 'PEM file of the CA(s) that signed the Redis certificates; unset = the system CAs',
      minLength: 1
    })
  ),
  REDIS_KEY_PREFIX: Type.String({
    description: 'prefix of every Redis key and of the invalidation channel',
    default: 'ta:'
  }),
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({
    description: 'a slower Redis command is a cache miss, not a stall',
    minimum: 10,
    default: 250
  }),
  REDIS_CONNECT_TIMEOUT_MS: Type.Integer({
    description: 'Redis connection timeout; a Redis that does not answer is a cache miss, not a stall',
    minimum: 100,
    default: 1000
  }),
  CACHE_TTL_SECONDS: Type.Integer({
    description: 'longest time a verified token is cached (also ≤ its time left)',
    minimum: 1,
    maximum: 86400,
    default: 60
  }),
  CACHE_MAX_ENTRIES: Type.Integer({ description: 'in-process cache bound (LRU)', minimum: 100, default: 100000 }),
  VERIFIED_VALUES_MAX_ENTRIES: Type.Integer({
    description:
      'token values whose signature this process has verified, remembered (LRU) with their storage hash so a repeat skips both HMACs; holds no token state (revocation is unaffected) and never a forged value; `0` = off',
    minimum: 0,
    maximum: 1000000,
    default: 10000
  }),
  TOKEN_SIGNING_KEYS: Type.Optional(
    Type.String({
      description:
        '`kid:base64secret,kid:base64secret`: the first signs, all verify; ≥ 32 bytes each; required with `DATABASE_URL`; unset on the embedded backend = generated into `DATA_DIR/keys.json`',
      minLength: 1
    })
  ),
  TOKEN_PEPPER: Type.Optional(
    Type.String({
      description:
        'base64, ≥ 32 bytes: key of the hash stored for each token; required with `DATABASE_URL`; unset on the embedded backend = generated into `DATA_DIR/keys.json`',
      minLength: 1
    })
  ),
  TOKEN_PREFIX: Type.String({
    description: 'token prefix (`tka_pat_…`, `tka_lgn_…`, `tka_svc_…`)',
    pattern: '^[a-z]{2,8}$',
    default: 'tka'
  }),
  TOKEN_ISSUER: Type.String({
    description: '`iss` in introspection answers',
    minLength: 1,
    default: 'token-authority'
  }),
  ISSUER_URL: Type.Optional(
    Type.String({
      description:
        'the authority’s public base URL, the RFC 8414 `issuer` (`/.well-known/oauth-authorization-server` and the endpoint URLs in it derive from it); unset = derived from each request’s scheme and `Host` (fine behind a trusted proxy or locally; set it in production)',
      pattern: '^https?://[^/?#\\s]+(/[^?#\\s]*[^/?#\\s])?$'
    })
  ),
  TOKEN_EXCHANGE_TTL_SECONDS: Type.Integer({
    description:
      'lifetime of a token issued by RFC 8693 exchange (`POST /token`); never past its subject token’s expiry',
    minimum: 30,
    maximum: 3600,
    default: 300
  }),
  TOKEN_EXCHANGE_AUDIENCES: Type.String({
    description:
      'comma-separated audiences `POST /token` may bind a token to (others are `invalid_target`); empty = any audience of printable ASCII without spaces',
    default: ''
  }),
  LEAK_REPORTS_PER_MINUTE: Type.Integer({
    description:
      'leaked-token reports (`POST /v1/leaked-tokens`, up to 100 values each) one client address may send a minute, shared by the replicas through Redis; past it 429',
    minimum: 1,
    maximum: 10000,
    default: 10
  }),
  AUTH_REALM: Type.String({
    description: 'realm in `WWW-Authenticate`',
    pattern: '^[^"\\\\]+$',
    default: 'token-authority'
  }),
  ADMIN_TOKEN_TTL_SECONDS: Type.Integer({
    description: 'lifetime of an admin login token',
    minimum: 60,
    default: 4 * 3600
  }),
  CUSTOMER_TOKEN_TTL_SECONDS: Type.Integer({
    description: 'lifetime of a customer login token',
    minimum: 60,
    default: 3600
  }),
  TOKEN_DEFAULT_LIFETIME_DAYS: Type.Integer({
    description: 'lifetime of a PAT or service token created without `expires_at`',
    minimum: 1,
    maximum: 36500,
    default: 90
  }),
  TOKEN_MAX_LIFETIME_DAYS: Type.Integer({
    description:
      'longest lifetime a PAT or service token may be given (400 past it); `0` = no maximum, and only then `expires_at: null` (never)',
    minimum: 0,
    maximum: 36500,
    default: 365
  }),
  ROTATION_MAX_OVERLAP_SECONDS: Type.Integer({
    description:
      'longest overlap a regenerate may give the old value (`old_valid_for_seconds`, 400 past it); the old value stops earlier, at the first use of the new one; `0` = no overlaps',
    minimum: 0,
    maximum: 2592000,
    default: 86400
  }),
  ROTATION_REUSE_GRACE_SECONDS: Type.Integer({
    description:
      'how long after a rotation stopped a value presenting it again is answered `revoked` rather than treated as reuse (which revokes its whole family): requests in flight when the client switched; reuse is never armed before an overlap’s scheduled end either',
    minimum: 0,
    maximum: 3600,
    default: 60
  }),
  BCRYPT_COST: Type.Integer({ description: 'bcrypt cost of passwords', minimum: 4, maximum: 15, default: 12 }),
  REQUIRE_PASSWORD_CONFIRMATION: Type.Boolean({
    description: "management changes need the caller's current password",
    default: true
  }),
  ALLOW_QUERY_TOKENS: Type.Boolean({
    description: 'accept `?access_token=` / `?session=` (never logged either way)',
    default: false
  }),
  LOGIN_ACCOUNT_FAILURES_PER_HOUR: Type.Integer({
    description: 'failed logins checked per account an hour',
    minimum: 1,
    maximum: 100,
    default: 100
  }),
  LOGIN_IP_FAILURES: Type.Integer({
    description: 'failed logins per client address per `LOGIN_IP_WINDOW_SECONDS`',
    minimum: 1,
    default: 30
  }),
  LOGIN_IP_WINDOW_SECONDS: Type.Integer({ description: 'window of `LOGIN_IP_FAILURES`', minimum: 1, default: 900 }),
  PRUNE_RETENTION_DAYS: Type.Integer({
    description: 'expired and revoked rows are deleted this long after',
    minimum: 0,
    default: 30
  }),
  PRUNE_INTERVAL_SECONDS: Type.Integer({
    description: 'how often the background prune runs; `0` = no background job',
    minimum: 0,
    default: 3600
  }),
  LAST_USED_FLUSH_SECONDS: Type.Integer({
    description:
      'how often the last use of each token (time, client address, user agent, calling service) is written to the database, in one batch: at most one write per token per interval, never one per request; also what a replica that dies without a graceful shutdown can lose. `0` = do not record last use',
    minimum: 0,
    maximum: 3600,
    default: 60
  }),
  LAST_USED_MAX_PENDING: Type.Integer({
    description:
      'tokens whose last use waits in memory for the next write, at most; uses of further tokens are dropped until then (counted in `ta_last_used_dropped_total`)',
    minimum: 100,
    maximum: 10000000,
    default: 100000
  }),
  REVOCATION_LOG_POLL_MS: Type.Integer({
    description:
      "how often each authority process reads the revocation log when nothing nudges it (a local change or, with Redis, another replica's message reads it at once): the bound for a change made by the CLI or by a replica that died after its commit",
    minimum: 20,
    maximum: 60000,
    default: 250
  }),
  REVOCATION_STREAM_HEARTBEAT_SECONDS: Type.Integer({
    description:
      "how often `GET /v1/revocations` sends a `: heartbeat` comment and checks the consumer's credential again (a revoked one ends the stream); keep it under the idle timeout of any proxy between consumers and the authority",
    minimum: 1,
    maximum: 300,
    default: 15
  }),
  REVOCATION_LOG_RETENTION_HOURS: Type.Integer({
    description:
      'how long revocation events are kept; a consumer resuming from further back gets a `reset` (drops its whole cache)',
    minimum: 1,
    maximum: 8760,
    default: 24
  }),
  WEBHOOK_POLL_MS: Type.Integer({
    description:
      'how often each authority process looks for webhook deliveries that are due (a change made in this process looks at once); `0` = this process sends none',
    minimum: 0,
    maximum: 60000,
    default: 500
  }),
  WEBHOOK_CONCURRENCY: Type.Integer({
    description:
      'webhook deliveries in flight at once per process (a quarter of them, at least 1, to any one endpoint)',
    minimum: 1,
    maximum: 256,
    default: 8
  }),
  WEBHOOK_CONNECT_TIMEOUT_MS: Type.Integer({
    description: 'a webhook receiver must accept the connection (TCP and TLS) within this',
    minimum: 50,
    maximum: 60000,
    default: 3000
  }),
  WEBHOOK_TIMEOUT_MS: Type.Integer({
    description:
      'a webhook receiver must answer (status line) within this, counted from the start; else the attempt failed',
    minimum: 100,
    maximum: 120000,
    default: 10000
  }),
  WEBHOOK_RETRY_BASE_MS: Type.Integer({
    description:
      'retries wait a random time up to `WEBHOOK_RETRY_BASE_MS × 2^(attempt−1)` (full jitter), capped by `WEBHOOK_RETRY_MAX_DELAY_MS`',
    minimum: 10,
    default: 10000
  }),
  WEBHOOK_RETRY_MAX_DELAY_MS: Type.Integer({
    description: 'the longest wait between two attempts of one delivery',
    minimum: 10,
    default: 3600000
  }),
  WEBHOOK_RETRY_FOR_SECONDS: Type.Integer({
    description: 'a delivery not accepted this long after its event is marked failed',
    minimum: 1,
    maximum: 604800,
    default: 86400
  }),
  WEBHOOK_LOG_RETENTION_DAYS: Type.Integer({
    description: 'delivered and failed deliveries (the delivery log) and their events are pruned after this',
    minimum: 1,
    default: 30
  }),
  EXPIRY_NOTICE_INTERVAL_SECONDS: Type.Integer({
    description:
      'how often each process looks for tokens due a `token.expiring` (30, 7, 1 days before) or `token.expired` event; `0` = this process does not',
    minimum: 0,
    maximum: 86400,
    default: 60
  }),
  INTROSPECT_UNKNOWN_PER_MINUTE: Type.Integer({
    description:
      'unknown (forged or guessed) tokens one introspection caller may ask about a minute, shared by the replicas through Redis; past it 429',
    minimum: 1,
    default: 300
  }),
  SHUTDOWN_DELAY_MS: Type.Integer({
    description:
      'after SIGTERM: readiness 503 at once, keep serving this long (endpoints drop the pod), then drain in-flight requests (≤ 10 s more) and close pools; SIGINT (Ctrl-C) skips it',
    minimum: 0,
    maximum: 60000,
    default: 5000
  }),
  LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({
    description:
      'mean event-loop delay (sampled every 250 ms, counted from the start of listening) which, held past for all of `LOAD_SHED_SUSTAINED_MS`, makes requests get 503 + `Retry-After: 1` and `/readyz` 503 until a sample is under it; probes are never shed; `0` = off',
    minimum: 0,
    default: 1000
  }),
  LOAD_SHED_SUSTAINED_MS: Type.Integer({
    description:
      'how long the event-loop delay must stay past `LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS` before requests are shed: a burst the process works off within it is answered, not shed; an over-limit stretch starting within this long after shedding stopped sheds at once',
    minimum: 250,
    maximum: 60000,
    default: 3000
  }),
  BODY_LIMIT_BYTES: Type.Integer({
    description: 'request body limit (413 past it)',
    minimum: 1024,
    maximum: 1048576,
    default: 16384
  }),
  TRUST_PROXY: Type.String({
    description: '`true`, a hop count, or addresses/CIDRs of trusted proxies (client address from `X-Forwarded-For`)',
    default: 'false'
  }),
  EXTRA_SCOPES: Type.String({
    description: "this deployment's scopes: `orders:read=Read orders,orders:write=…`",
    default: ''
  }),
  CONSOLE_SESSION_TTL_SECONDS: Type.Integer({
    description:
      'lifetime of a console sign-in (the login token in the `HttpOnly` session cookie, and the cookie’s `Max-Age`), whatever the realm',
    minimum: 60,
    maximum: 7 * 86400,
    default: 8 * 3600
  }),
  CONSOLE_SESSION_IDLE_SECONDS: Type.Integer({
    description:
      'a console session with no authenticated request for this long ends (401 `session_expired`, its token revoked); tracked in a sealed cookie, no database write per request',
    minimum: 10,
    maximum: 7 * 86400,
    default: 1800
  }),
  CONSOLE_DIR: Type.Optional(
    Type.String({
      description:
        'folder of the built console served at `/console/` (`index.html` + assets); unset = `dist/console` under the package root (`npm run build` writes it)',
      minLength: 1
    })
  ),
  BOOTSTRAP_ADMIN_USERNAME: Type.Optional(
    Type.String({
      description: 'create the first admin at start if no admin exists (with `BOOTSTRAP_ADMIN_PASSWORD`)',
      minLength: 1
    })
  ),
  BOOTSTRAP_ADMIN_PASSWORD: Type.Optional(
    Type.String({ description: 'password of `BOOTSTRAP_ADMIN_USERNAME`', minLength: 12 })
  )
})

type RawConfig = Type.Static<typeof ConfigSchema>

export interface SigningKey {
  readonly kid: string
  readonly secret: Buffer
}

/** host:port of a Redis node or sentinel */
export interface RedisNode {
  readonly host: string
  readonly port: number
}

/**
 * Where Redis is, from REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES (at most one), with the
 * ACL user/password and TLS settings that apply to the nodes.
 */
export type RedisTarget = (
  | { readonly mode: 'single'; readonly url: string }
  | {
      readonly mode: 'sentinel'
      readonly sentinels: readonly RedisNode[]
      readonly name: string
      readonly sentinelUsername?: string | undefined
      readonly sentinelPassword?: string | undefined
    }
  | { readonly mode: 'cluster'; readonly nodes: readonly RedisNode[] }
) & {
  readonly username?: string | undefined
  readonly password?: string | undefined
  /** undefined = plain TCP; `ca` undefined = the system CAs */
  readonly tls?: { readonly ca?: Buffer | undefined } | undefined
}

export interface Config
  extends Omit<RawConfig, 'TOKEN_SIGNING_KEYS' | 'TOKEN_PEPPER' | 'EXTRA_SCOPES' | 'TRUST_PROXY'> {
  /** Redis, if any (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES); undefined = in-process cache */
  readonly redis: RedisTarget | undefined
  /** newest first: the first key signs, all verify */
  readonly signingKeys: readonly SigningKey[] | undefined
  readonly pepper: Buffer | undefined
  readonly extraScopes: readonly { name: string; description: string }[]
  readonly trustProxy: boolean | number | string
  /** absolute folder of the built console (CONSOLE_DIR, or dist/console under the package root) */
  readonly consoleDir: string
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Variables that may instead be given as `<NAME>_FILE` pointing at a mounted secret. */
export const FILE_VARS = [
  'DATABASE_URL',
  'DATABASE_READ_URL',
  'REDIS_URL',
  'REDIS_PASSWORD',
  'REDIS_SENTINEL_PASSWORD',
  'TOKEN_SIGNING_KEYS',
  'TOKEN_PEPPER',
  'BOOTSTRAP_ADMIN_PASSWORD'
] as const

function withFileSecrets(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env }
  for (const name of FILE_VARS) {
    const file = env[`${name}_FILE`]
    if (file === undefined || file === '') continue
    if (env[name] !== undefined && env[name] !== '') {
      throw new ConfigError(`set either ${name} or ${name}_FILE, not both`)
    }
    try {
      out[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '')
    } catch (err) {
      throw new ConfigError(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  // An empty variable means "unset" for the optional ones (common in manifests and .env files).
  for (const [k, v] of Object.entries(out)) if (v === '') delete out[k]
  return out
}

/** `kid:base64,kid:base64` — ids are short names, secrets at least 32 bytes. */
export function parseSigningKeys(value: string): SigningKey[] {
  const keys = value.split(',').map((part, i) => {
    const m = /^([a-z0-9]{1,8}):([A-Za-z0-9+/_-]+={0,2})$/i.exec(part.trim())
    if (!m)
      throw new ConfigError(
        `TOKEN_SIGNING_KEYS entry ${i + 1} must look like <kid>:<base64 secret> (kid: 1-8 letters or digits)`
      )
    const secret = Buffer.from(m[2]!, 'base64')
    if (secret.length < 32)
      throw new ConfigError(`TOKEN_SIGNING_KEYS entry ${i + 1} (${m[1]}) is shorter than 32 bytes`)
    return { kid: m[1]!, secret }
  })
  const ids = new Set(keys.map((k) => k.kid))
  if (ids.size !== keys.length) throw new ConfigError('TOKEN_SIGNING_KEYS has a duplicate key id')
  return keys
}

export function parsePepper(value: string): Buffer {
  const pepper = Buffer.from(value, 'base64')
  if (pepper.length < 32) throw new ConfigError('TOKEN_PEPPER must be at least 32 bytes, base64-encoded')
  return pepper
}

function parseExtraScopes(value: string): { name: string; description: string }[] {
  if (value.trim() === '') return []
  return value.split(',').map((part) => {
    const [name = '', ...rest] = part.split('=')
    if (!/^[a-z][a-z0-9_-]*(:[a-z0-9_-]+)+$/.test(name.trim())) {
      throw new ConfigError(`EXTRA_SCOPES: "${name.trim()}" is not a scope name like "orders:read"`)
    }
    return { name: name.trim(), description: rest.join('=').trim() || name.trim() }
  })
}

function parseNodes(name: string, value: string): RedisNode[] {
  return value.split(',').map((part) => {
    const i = part.lastIndexOf(':')
    const port = Number(part.slice(i + 1))
    if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535)
      throw new ConfigError(`${name}: "${part}" is not host:port`)
    return { host: part.slice(0, i), port }
  })
}

/** REDIS_* → where Redis is; at most one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES. */
export function parseRedisTarget(raw: RawConfig): RedisTarget | undefined {
  const given = (['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const).filter((n) => raw[n] !== undefined)
  if (given.length > 1) throw new ConfigError(`set one of ${given.join(', ')}, not several`)
  if (raw.REDIS_SENTINELS !== undefined && raw.REDIS_SENTINEL_NAME === undefined)
    throw new ConfigError('REDIS_SENTINELS needs REDIS_SENTINEL_NAME (the master name the sentinels monitor)')
  if (raw.REDIS_SENTINELS === undefined) {
    for (const n of ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD'] as const)
      if (raw[n] !== undefined) throw new ConfigError(`${n} is set but REDIS_SENTINELS is not`)
  }
  if (given.length === 0) {
    for (const n of ['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS_CA_FILE'] as const)
      if (raw[n] !== undefined)
        throw new ConfigError(`${n} is set but no Redis is (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)`)
    return undefined
  }
  let ca: Buffer | undefined
  if (raw.REDIS_TLS_CA_FILE !== undefined) {
    try {
      ca = readFileSync(raw.REDIS_TLS_CA_FILE)
    } catch (err) {
      throw new ConfigError(
        `REDIS_TLS_CA_FILE: cannot read ${raw.REDIS_TLS_CA_FILE} (${(err as NodeJS.ErrnoException).code ?? 'error'})`
      )
    }
  }
  const tlsOn = raw.REDIS_TLS || raw.REDIS_URL?.startsWith('rediss://') === true || ca !== undefined
  const common = {
    username: raw.REDIS_USERNAME,
    password: raw.REDIS_PASSWORD,
    tls: tlsOn ? { ca } : undefined
  }
  if (raw.REDIS_URL !== undefined) return { mode: 'single', url: raw.REDIS_URL, ...common }
  if (raw.REDIS_SENTINELS !== undefined)
    return {
      mode: 'sentinel',
      sentinels: parseNodes('REDIS_SENTINELS', raw.REDIS_SENTINELS),
      name: raw.REDIS_SENTINEL_NAME!,
      sentinelUsername: raw.REDIS_SENTINEL_USERNAME,
      sentinelPassword: raw.REDIS_SENTINEL_PASSWORD,
      ...common
    }
  return { mode: 'cluster', nodes: parseNodes('REDIS_CLUSTER_NODES', raw.REDIS_CLUSTER_NODES!), ...common }
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true
  if (value === 'false') return false
  if (/^\d+$/.test(value)) return Number(value)
  return value
}

const PACKAGE_NAME = 'token-authority'

/**
 * `dist/console` under the package root: the folder holding the package.json named
 * token-authority, found upwards from this file, so the same default works from the sources (tsx)
 * and from the compiled `dist/`. Falls back to the working directory.
 */
export function defaultConsoleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME)
          return join(dir, 'dist', 'console')
      } catch {
        // not ours (unreadable or not JSON): keep looking upwards
      }
    }
    const parent = dirname(dir)
    if (parent === dir) return resolve('dist', 'console')
    dir = parent
  }
}

/** Parses and validates the environment once; throws ConfigError with every problem found. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const data = withFileSecrets(env)
  let raw: RawConfig
  try {
    raw = envSchema<RawConfig>({ schema: ConfigSchema, data, dotenv: false })
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${(err as Error).message}`)
  }
  const signingKeys = raw.TOKEN_SIGNING_KEYS === undefined ? undefined : parseSigningKeys(raw.TOKEN_SIGNING_KEYS)
  const pepper = raw.TOKEN_PEPPER === undefined ? undefined : parsePepper(raw.TOKEN_PEPPER)
  if (raw.DATABASE_URL !== undefined && (signingKeys === undefined || pepper === undefined)) {
    throw new ConfigError('TOKEN_SIGNING_KEYS and TOKEN_PEPPER are required when DATABASE_URL is set')
  }
  if (raw.TOKEN_MAX_LIFETIME_DAYS > 0 && raw.TOKEN_DEFAULT_LIFETIME_DAYS > raw.TOKEN_MAX_LIFETIME_DAYS) {
    throw new ConfigError('TOKEN_DEFAULT_LIFETIME_DAYS must not exceed TOKEN_MAX_LIFETIME_DAYS (0 = no maximum)')
  }
  if ((raw.BOOTSTRAP_ADMIN_USERNAME === undefined) !== (raw.BOOTSTRAP_ADMIN_PASSWORD === undefined)) {
    throw new ConfigError('set both BOOTSTRAP_ADMIN_USERNAME and BOOTSTRAP_ADMIN_PASSWORD, or neither')
  }
  if (raw.CONSOLE_SESSION_IDLE_SECONDS > raw.CONSOLE_SESSION_TTL_SECONDS) {
    throw new ConfigError('CONSOLE_SESSION_IDLE_SECONDS must not exceed CONSOLE_SESSION_TTL_SECONDS')
  }
  if (raw.DATABASE_READ_URL !== undefined && raw.DATABASE_URL === undefined) {
    throw new ConfigError('DATABASE_READ_URL needs DATABASE_URL (the primary every write and token check goes to)')
  }
  const redis = parseRedisTarget(raw)
  const { TOKEN_SIGNING_KEYS: _k, TOKEN_PEPPER: _p, EXTRA_SCOPES, TRUST_PROXY, ...rest } = raw
  return Object.freeze({
    ...rest,
    redis,
    consoleDir: raw.CONSOLE_DIR === undefined ? defaultConsoleDir() : resolve(raw.CONSOLE_DIR),
    signingKeys,
    pepper,
    extraScopes: parseExtraScopes(EXTRA_SCOPES),
    trustProxy: parseTrustProxy(TRUST_PROXY)
  })
}
