import { Writable } from 'node:stream'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { bootApp } from '../../services/authority/src/boot.js'
import { frozenClock, type Clock } from '../../services/authority/src/clock.js'
import { loadConfig, type Config } from '../../services/authority/src/config.js'
import type { Keys } from '../../services/authority/src/keys.js'
import { loggerOptions } from '../../services/authority/src/logging.js'
import { createBackend, SECRET_SCAN_DIR, type Backend } from './backends.js'
import { SecretsSeen } from './secret-scan-recording.js'

export const ADMIN = { username: 'root-admin', password: 'admin-password-123' }

export interface TestAuthority {
  app: FastifyInstance
  config: Config
  backend: Backend
  clock: ReturnType<typeof frozenClock> | Clock
  /** every log line the app wrote (level debug) */
  logs: string[]
  /** a login token of the first admin */
  adminToken: string
  /** builds another app on the same database and cache settings (a second replica) */
  replica(): Promise<FastifyInstance>
  /** the signing keys and pepper the first app booted with (to write rows as the service does: bulk seeding) */
  keys: Keys
}

type TapLike = { teardown(fn: () => unknown): void }

/**
 * One authority per call on a backend of its own (database, Redis prefix, data folder), with the
 * first admin created and logged in. Torn down with the test.
 */
export async function startAuthority(
  t: TapLike,
  backendName: Backend['name'],
  opts: { env?: Record<string, string>; frozen?: number; backend?: Backend } = {}
): Promise<TestAuthority> {
  const backend = opts.backend ?? (await createBackend(backendName))
  const config = loadConfig({
    BCRYPT_COST: '4',
    LOG_LEVEL: 'debug',
    PRUNE_INTERVAL_SECONDS: '0',
    // a loaded CI machine must not shed test requests; operations.test.ts turns it on
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    // A Redis command slower than this is a cache miss (production default 250 ms). On the loaded
    // CI machine a round trip now and then took longer, and a test counting cache hits or database
    // reads then saw one read too many. The tests of that bound (faults, the Sentinel failover)
    // set the production value themselves.
    REDIS_COMMAND_TIMEOUT_MS: '1000',
    // Likewise the connect: an event loop stalled past the connect timeout while the socket opens
    // counts as an outage seen, and entries filled in the second after it are re-read (by design;
    // reproduced with a 2.5 s stall against the 2 s bound). CI's loaded machine stalls that long.
    REDIS_CONNECT_TIMEOUT_MS: '5000',
    ...backend.env,
    ...opts.env
  })
  const clock = opts.frozen !== undefined ? frozenClock(opts.frozen) : undefined
  const logs: string[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean))
      cb()
    }
  })
  const apps: FastifyInstance[] = []
  const seen = SECRET_SCAN_DIR !== undefined ? new SecretsSeen() : undefined
  let keys: Keys | undefined
  const make = async (): Promise<FastifyInstance> => {
    const { app, booted } = await bootApp(config, {
      migrate: 'latest',
      logger: { ...loggerOptions(config), stream },
      ...(clock ? { clock } : {}),
      // the recorder's hooks must precede the routes to see their requests
      ...(seen ? { instrument: (app: FastifyInstance) => seen.watchRequests(app) } : {})
    })
    seen?.watchServices(app)
    keys ??= booted.keys
    apps.push(app)
    return app
  }
  const app = await make()
  t.teardown(async () => {
    for (const a of apps) await a.close()
    if (seen) seen.write(backend.name, config.LOG_LEVEL, logs)
    if (opts.backend === undefined) await backend.cleanup()
  })
  await app.authority.accounts.ensureFirstAdmin(ADMIN.username, ADMIN.password)
  const adminToken = await login(app, 'admin', ADMIN.username, ADMIN.password)
  return { app, config, backend, clock: clock ?? app.authority.clock, logs, adminToken, replica: make, keys: keys! }
}

export async function login(
  app: FastifyInstance,
  realm: 'admin' | 'customer',
  username: string,
  password: string
): Promise<string> {
  const res = await app.inject({ method: 'POST', url: `/v1/auth/${realm}/token`, payload: { username, password } })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
  return res.json().access_token as string
}

/** Database reads on the introspection path so far (ta_token_store_reads_total). */
export function dbReads(app: FastifyInstance): Promise<number> {
  return app.authority.metrics.count('ta_token_store_reads_total')
}

/** Caller credentials answered from the in-process reuse so far (ta_introspection_caller_reuse_total). */
export function callerHits(app: FastifyInstance): Promise<number> {
  return app.authority.metrics.count('ta_introspection_caller_reuse_total')
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}

/** Creates an account through the API (as the admin) and returns its id. */
export async function createAccount(
  ta: TestAuthority,
  body: { username: string; password: string; kind: 'admin' | 'customer' | 'service'; permissions?: string[] }
): Promise<string> {
  const res = await ta.app.inject({
    method: 'POST',
    url: '/v1/accounts',
    headers: bearer(ta.adminToken),
    payload: { ...body, current_password: ADMIN.password }
  })
  if (res.statusCode !== 201) throw new Error(`create account failed: ${res.statusCode} ${res.body}`)
  return res.json().id as string
}

/** A service account holding `permissions`, and one service token for it. */
export async function createService(
  ta: TestAuthority,
  username: string,
  permissions: string[]
): Promise<{ id: string; token: string }> {
  const id = await createAccount(ta, { username, password: `${username}-password-1`, kind: 'service', permissions })
  const res = await ta.app.inject({
    method: 'POST',
    url: `/v1/accounts/${id}/tokens`,
    headers: bearer(ta.adminToken),
    payload: { name: `${username} token`, scopes: permissions, password: ADMIN.password }
  })
  if (res.statusCode !== 201) throw new Error(`service token failed: ${res.statusCode} ${res.body}`)
  return { id, token: res.json().access_token as string }
}

export async function introspect(
  ta: TestAuthority,
  serviceToken: string,
  token: string
): Promise<Record<string, unknown>> {
  const res = await ta.app.inject({
    method: 'POST',
    url: '/introspect',
    headers: bearer(serviceToken),
    payload: { token }
  })
  if (res.statusCode !== 200) throw new Error(`introspect failed: ${res.statusCode} ${res.body}`)
  return res.json()
}

export function errorCode(res: LightMyRequestResponse): string | undefined {
  try {
    return (res.json() as { code?: string }).code
  } catch {
    return undefined
  }
}
