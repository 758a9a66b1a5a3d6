import { readFileSync } from 'node:fs'
import envSchema from 'env-schema'
import Type from 'typebox'

/**
 * The one configuration schema. Every setting comes from the environment (or a `*_FILE`
 * mounted secret), is validated here once at start, and the `Config` type derives from it.
 */
export const ConfigSchema = Type.Object({
  NODE_ENV: Type.String({ default: 'production' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ default: '0.0.0.0' }),
  LOG_LEVEL: Type.Unsafe<'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'>({
    type: 'string',
    enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info'
  }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^mysql://' })),
  DATA_DIR: Type.String({ default: './data', minLength: 1 }),
  DB_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  DB_QUEUE_LIMIT: Type.Integer({ minimum: 1, default: 2000 }),
  DB_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 2000 }),
  DB_QUERY_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 3000 }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  REDIS_KEY_PREFIX: Type.String({ default: 'ta:' }),
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 250 }),
  REDIS_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 1000 }),
  CACHE_TTL_SECONDS: Type.Integer({ minimum: 1, maximum: 86400, default: 60 }),
  CACHE_MAX_ENTRIES: Type.Integer({ minimum: 100, default: 100000 }),
  TOKEN_SIGNING_KEYS: Type.Optional(Type.String({ minLength: 1 })),
  TOKEN_PEPPER: Type.Optional(Type.String({ minLength: 1 })),
  TOKEN_PREFIX: Type.String({ pattern: '^[a-z]{2,8}$', default: 'tka' }),
  TOKEN_ISSUER: Type.String({ minLength: 1, default: 'token-authority' }),
  AUTH_REALM: Type.String({ pattern: '^[^"\\\\]+$', default: 'token-authority' }),
  ADMIN_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, default: 4 * 3600 }),
  CUSTOMER_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, default: 3600 }),
  BCRYPT_COST: Type.Integer({ minimum: 4, maximum: 15, default: 12 }),
  REQUIRE_PASSWORD_CONFIRMATION: Type.Boolean({ default: true }),
  ALLOW_QUERY_TOKENS: Type.Boolean({ default: false }),
  LOGIN_ACCOUNT_FAILURES_PER_HOUR: Type.Integer({ minimum: 1, maximum: 100, default: 100 }),
  LOGIN_IP_FAILURES: Type.Integer({ minimum: 1, default: 30 }),
  LOGIN_IP_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 900 }),
  PRUNE_RETENTION_DAYS: Type.Integer({ minimum: 0, default: 30 }),
  PRUNE_INTERVAL_SECONDS: Type.Integer({ minimum: 0, default: 3600 }),
  INTROSPECT_UNKNOWN_PER_MINUTE: Type.Integer({ minimum: 1, default: 300 }),
  SHUTDOWN_DELAY_MS: Type.Integer({ minimum: 0, maximum: 60000, default: 5000 }),
  LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1000 }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 1048576, default: 16384 }),
  TRUST_PROXY: Type.String({ default: 'false' }),
  EXTRA_SCOPES: Type.String({ default: '' }),
  BOOTSTRAP_ADMIN_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  BOOTSTRAP_ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 12 }))
})

type RawConfig = Type.Static<typeof ConfigSchema>

export interface SigningKey {
  readonly kid: string
  readonly secret: Buffer
}

export interface Config extends Omit<RawConfig, 'TOKEN_SIGNING_KEYS' | 'TOKEN_PEPPER' | 'EXTRA_SCOPES' | 'TRUST_PROXY'> {
  /** newest first: the first key signs, all verify */
  readonly signingKeys: readonly SigningKey[] | undefined
  readonly pepper: Buffer | undefined
  readonly extraScopes: readonly { name: string; description: string }[]
  readonly trustProxy: boolean | number | string
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Variables that may instead be given as `<NAME>_FILE` pointing at a mounted secret. */
const FILE_VARS = ['DATABASE_URL', 'REDIS_URL', 'TOKEN_SIGNING_KEYS', 'TOKEN_PEPPER', 'BOOTSTRAP_ADMIN_PASSWORD'] as const

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
    if (!m) throw new ConfigError(`TOKEN_SIGNING_KEYS entry ${i + 1} must look like <kid>:<base64 secret> (kid: 1-8 letters or digits)`)
    const secret = Buffer.from(m[2]!, 'base64')
    if (secret.length < 32) throw new ConfigError(`TOKEN_SIGNING_KEYS entry ${i + 1} (${m[1]}) is shorter than 32 bytes`)
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

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true
  if (value === 'false') return false
  if (/^\d+$/.test(value)) return Number(value)
  return value
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
  if ((raw.BOOTSTRAP_ADMIN_USERNAME === undefined) !== (raw.BOOTSTRAP_ADMIN_PASSWORD === undefined)) {
    throw new ConfigError('set both BOOTSTRAP_ADMIN_USERNAME and BOOTSTRAP_ADMIN_PASSWORD, or neither')
  }
  const { TOKEN_SIGNING_KEYS: _k, TOKEN_PEPPER: _p, EXTRA_SCOPES, TRUST_PROXY, ...rest } = raw
  return Object.freeze({
    ...rest,
    signingKeys,
    pepper,
    extraScopes: parseExtraScopes(EXTRA_SCOPES),
    trustProxy: parseTrustProxy(TRUST_PROXY)
  })
}
