import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Cluster, Redis } from 'ioredis'
import t from 'tap'
import { createRedisClient } from '../../services/authority/src/cache/redis-client.js'
import { ConfigError, loadConfig } from '../../services/authority/src/config.js'

/** Where Redis is (REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES) and what the one factory makes of it. */

t.test('no Redis configured: in-process cache', async (t) => {
  t.equal(loadConfig({}).redis, undefined)
})

t.test('one node: REDIS_URL; rediss:// turns TLS on', async (t) => {
  t.same(loadConfig({ REDIS_URL: 'redis://r:6379' }).redis, {
    mode: 'single',
    url: 'redis://r:6379',
    username: undefined,
    password: undefined,
    tls: undefined
  })
  t.same(loadConfig({ REDIS_URL: 'rediss://r:6380' }).redis?.tls, { ca: undefined })
})

t.test('sentinel: addresses, master name, credentials, TLS with a CA file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ta-redis-ca-'))
  writeFileSync(join(dir, 'ca.pem'), 'PEM')
  const c = loadConfig({
    REDIS_SENTINELS: 's1:26379,s2:26380',
    REDIS_SENTINEL_NAME: 'mymaster',
    REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    REDIS_USERNAME: 'authority',
    REDIS_PASSWORD: 'node-secret',
    REDIS_TLS: 'true',
    REDIS_TLS_CA_FILE: join(dir, 'ca.pem')
  })
  const r = c.redis!
  t.equal(r.mode, 'sentinel')
  if (r.mode !== 'sentinel') return
  t.same(r.sentinels, [
    { host: 's1', port: 26379 },
    { host: 's2', port: 26380 }
  ])
  t.equal(r.name, 'mymaster')
  t.equal(r.sentinelPassword, 'sentinel-secret')
  t.equal(r.username, 'authority')
  t.equal(r.password, 'node-secret')
  t.equal(r.tls?.ca?.toString(), 'PEM')
})

t.test('cluster: seed nodes', async (t) => {
  const r = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379' }).redis!
  t.equal(r.mode, 'cluster')
  if (r.mode === 'cluster') t.equal(r.nodes.length, 3)
})

t.test('contradictions and gaps stop the process with a message naming the variables', async (t) => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ REDIS_URL: 'redis://a:1', REDIS_CLUSTER_NODES: 'b:2' }, /REDIS_URL, REDIS_CLUSTER_NODES/],
    [{ REDIS_URL: 'redis://a:1', REDIS_SENTINELS: 'b:2', REDIS_SENTINEL_NAME: 'm' }, /not several/],
    [{ REDIS_SENTINELS: 'b:2' }, /REDIS_SENTINEL_NAME/],
    [{ REDIS_URL: 'redis://a:1', REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINELS is not/],
    [{ REDIS_PASSWORD: 'x' }, /no Redis is/],
    [{ REDIS_SENTINELS: 'no-port', REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINELS/],
    [{ REDIS_CLUSTER_NODES: 'a:1,,b:2' }, /REDIS_CLUSTER_NODES/],
    [{ REDIS_URL: 'redis://a:1', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' }, /REDIS_TLS_CA_FILE: cannot read/],
    [{ DATABASE_READ_URL: 'mysql://r/db' }, /DATABASE_READ_URL needs DATABASE_URL/],
    [{ DATABASE_URL: 'mysql://p/db', DATABASE_READ_URL: 'postgres://r/db' }, /DATABASE_READ_URL/]
  ]
  for (const [env, message] of bad) {
    t.throws(() => loadConfig(env), { name: ConfigError.name, message }, JSON.stringify(env))
  }
})

t.test('passwords may come from mounted files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ta-redis-pw-'))
  writeFileSync(join(dir, 'pw'), 'from-file\n')
  const c = loadConfig({ REDIS_CLUSTER_NODES: 'a:1', REDIS_PASSWORD_FILE: join(dir, 'pw') })
  t.equal(c.redis?.password, 'from-file')
})

t.test('the factory: URL credentials win, sentinel and cluster options as configured', async (t) => {
  const timeouts = { commandTimeoutMs: 250, connectTimeoutMs: 100 }
  // unreachable addresses: only the options are looked at, then the clients are dropped
  const single = createRedisClient({
    ...timeouts,
    target: { mode: 'single', url: 'redis://u1:p%401@127.0.0.1:1/3', username: 'other', password: 'other' }
  }) as Redis
  single.on('error', () => undefined)
  t.teardown(() => single.disconnect())
  t.match(single.options, { host: '127.0.0.1', port: 1, username: 'u1', password: 'p@1', db: 3 })
  t.match(single.options, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 250 })

  const sentinel = createRedisClient({
    ...timeouts,
    target: {
      mode: 'sentinel',
      sentinels: [{ host: '127.0.0.1', port: 1 }],
      name: 'mymaster',
      sentinelPassword: 'sp',
      password: 'np',
      tls: { ca: undefined }
    }
  }) as Redis
  sentinel.on('error', () => undefined)
  t.teardown(() => sentinel.disconnect())
  t.match(sentinel.options, {
    name: 'mymaster',
    role: 'master',
    sentinelPassword: 'sp',
    password: 'np',
    enableTLSForSentinelMode: true,
    failoverDetector: false
  })

  const subscriber = createRedisClient({ ...timeouts, target: 'redis://127.0.0.1:1' }, 'subscriber') as Redis
  subscriber.on('error', () => undefined)
  t.teardown(() => subscriber.disconnect())
  t.match(subscriber.options, { maxRetriesPerRequest: null, autoResubscribe: false })
  t.notOk(subscriber.options.commandTimeout, 'a subscriber waits for as long as it takes')

  const cluster = createRedisClient({
    ...timeouts,
    target: { mode: 'cluster', nodes: [{ host: '127.0.0.1', port: 1 }], password: 'cp' }
  }) as Cluster
  cluster.on('error', () => undefined)
  t.teardown(() => cluster.disconnect())
  t.equal(cluster.isCluster, true)
  t.match(cluster.options, { scaleReads: 'master', enableOfflineQueue: false, redisOptions: { password: 'cp' } })
})
