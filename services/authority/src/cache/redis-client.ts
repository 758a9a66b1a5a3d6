import type { ConnectionOptions } from 'node:tls'
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import type { RedisTarget } from '../config.js'

/** A Redis connection of the authority: one node (direct or found through Sentinel), or a Cluster. */
export type RedisClient = Redis | Cluster

export interface RedisClientOptions {
  /** where Redis is: the config's target, or a plain `redis://` URL (tests, tools) */
  target: RedisTarget | string
  commandTimeoutMs: number
  connectTimeoutMs: number
}

/**
 * `commands`: the hot path (cache, throttles, fishing guard): offline queue off, short command
 * timeouts, no retries, so a slow or absent Redis is a miss at once and the database decides.
 * `subscriber`: the invalidation channel: waits and reconnects for as long as it takes.
 */
export type RedisRole = 'commands' | 'subscriber'

export function redisTarget(target: RedisTarget | string): RedisTarget {
  return typeof target === 'string' ? { mode: 'single', url: target } : target
}

/** `redis[s]://[user[:pass]@]host[:port][/db]` as connection options (the URL's credentials win). */
function urlOptions(url: string): RedisOptions {
  const u = new URL(url)
  const out: RedisOptions = { host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(u.port || 6379) }
  if (u.username !== '') out.username = decodeURIComponent(u.username)
  if (u.password !== '') out.password = decodeURIComponent(u.password)
  const db = u.pathname.replace(/^\//, '')
  if (db !== '') {
    const n = Number(db)
    if (!Number.isInteger(n) || n < 0) throw new Error(`REDIS_URL: "/${db}" is not a database number`)
    out.db = n
  }
  return out
}

function tlsOptions(t: RedisTarget): ConnectionOptions | undefined {
  if (t.tls === undefined) return undefined
  // rejectUnauthorized stays true (Node's default): a certificate that does not verify is refused
  return t.tls.ca === undefined ? {} : { ca: t.tls.ca }
}

/** What every node connection carries: ACL user and password, TLS, timeouts and retry policy. */
function nodeOptions(t: RedisTarget, o: RedisClientOptions, role: RedisRole): RedisOptions {
  const tls = tlsOptions(t)
  const base: RedisOptions = {
    connectTimeout: o.connectTimeoutMs,
    retryStrategy: (times) => Math.min(100 * times, 1000),
    // after a failover this node may have become a read-only replica: reconnect to the primary
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
    ...(t.username !== undefined ? { username: t.username } : {}),
    ...(t.password !== undefined ? { password: t.password } : {}),
    ...(tls !== undefined ? { tls } : {})
  }
  if (role === 'subscriber') return { ...base, maxRetriesPerRequest: null, autoResubscribe: false }
  return {
    ...base,
    enableOfflineQueue: false,
    // concurrent introspections share one round trip per event-loop tick
    enableAutoPipelining: true,
    commandTimeout: o.commandTimeoutMs,
    maxRetriesPerRequest: 0
  }
}

/**
 * The one Redis factory: every process that writes or follows revocations (server, CLI, tests,
 * bench) connects through it, to one node, to the primary Sentinel names (followed through
 * failovers), or to a Redis Cluster.
 */
export function createRedisClient(o: RedisClientOptions, role: RedisRole = 'commands'): RedisClient {
  const t = redisTarget(o.target)
  const node = nodeOptions(t, o, role)
  if (t.mode === 'single') {
    // the URL's user, password and database win over REDIS_USERNAME / REDIS_PASSWORD
    const fromUrl = urlOptions(t.url)
    return new Redis({ ...node, ...fromUrl, lazyConnect: false })
  }
  if (t.mode === 'sentinel') {
    const tls = tlsOptions(t)
    return new Redis({
      ...node,
      sentinels: t.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: t.name,
      role: 'master',
      ...(t.sentinelUsername !== undefined ? { sentinelUsername: t.sentinelUsername } : {}),
      ...(t.sentinelPassword !== undefined ? { sentinelPassword: t.sentinelPassword } : {}),
      ...(tls !== undefined ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
      sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
      // No failoverDetector: in ioredis 5.11 a +switch-master that arrives while the client is
      // already reconnecting aborts that attempt and leaves the client ended for good (status
      // `end`, never retried; seen in npm run test:ha). A killed primary drops the connection
      // anyway, and a demoted one answers writes READONLY (reconnectOnError above).
      failoverDetector: false,
      lazyConnect: false
    })
  }
  const { enableOfflineQueue, enableAutoPipelining, ...perNode } = node
  const cluster: ClusterOptions = {
    redisOptions: perNode,
    enableOfflineQueue: role === 'subscriber',
    enableAutoPipelining: enableAutoPipelining ?? false,
    enableReadyCheck: true,
    // every read and write on the masters: a replica may be behind a revoke's marker
    scaleReads: 'master',
    clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    slotsRefreshTimeout: o.connectTimeoutMs,
    // TLS to managed clusters: connect by the name the certificate carries, not a resolved address
    ...(t.tls !== undefined ? { dnsLookup: (address, callback) => callback(null, address) } : {})
  }
  return new Cluster(
    t.nodes.map((n) => ({ host: n.host, port: n.port })),
    cluster
  )
}

/** Closes a client, not waiting on a Redis that does not answer. */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect()
    return
  }
  await client.quit().catch(() => client.disconnect())
}
