import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Cluster } from 'ioredis'
import { pino } from 'pino'
import t from 'tap'
import { InvalidationListener } from '../../services/authority/src/cache/invalidation-listener.js'
import { COMPARE_AND_DELETE, RedisTokenCache } from '../../services/authority/src/cache/redis-cache.js'
import { createRedisClient } from '../../services/authority/src/cache/redis-client.js'
import { loadConfig } from '../../services/authority/src/config.js'
import { ADMIN, bearer, createAccount, createService, introspect, startAuthority } from '../support/authority.js'
import type { Backend } from '../support/backends.js'
import { cacheEntry } from '../support/cache-entry.js'
import { connected, requireBinaries, startCluster, waitFor } from '../../scripts/private-servers.js'

/**
 * Redis Cluster mode (three masters, REDIS_CLUSTER_NODES): the cache, its invalidation markers
 * (keys in different slots: no cross-slot MULTI), the compare-and-delete script, the invalidation
 * channel (PUBLISH reaches subscribers on every node), the login throttle's and fishing guard's
 * counters, and revokes through the API across two authority processes.
 */

if (requireBinaries(t, ['redis-server', 'redis-cli'])) {
  t.test('redis cluster', async (t) => {
    const cluster = await startCluster()
    t.teardown(() => cluster.stop())
    const config = loadConfig({ REDIS_CLUSTER_NODES: cluster.nodeList })
    const target = config.redis!
    t.equal(target.mode, 'cluster')
    const log = pino({ level: 'silent' })
    const opts = { target, commandTimeoutMs: 1000, connectTimeoutMs: 2000 }
    const direct = createRedisClient(opts) as Cluster
    t.teardown(() => direct.quit())
    await waitFor('cluster client ready', async () => direct.status === 'ready')

    t.test('cache: fill, hit, invalidate several ids in different slots, publish', async (t) => {
      const prefix = `ha_${randomBytes(3).toString('hex')}:`
      const cache = new RedisTokenCache({ ...opts, keyPrefix: prefix, ttlSeconds: 60, log, entryKey: randomBytes(32) })
      t.teardown(() => cache.close())
      await waitFor('cache ready', connected(cache))
      const received: string[][] = []
      let subscribed = 0
      const listener = new InvalidationListener({
        target,
        keyPrefix: prefix,
        connectTimeoutMs: 2000,
        log,
        onIds: (ids) => received.push([...ids]),
        onReset: () => subscribed++
      })
      t.teardown(() => listener.close())
      await waitFor('subscribed', async () => subscribed > 0)
      const ids = Array.from({ length: 12 }, () => randomBytes(16).toString('base64url'))
      const slots = new Set(ids.map((id) => clusterSlot(`${prefix}tok:${id}`)))
      t.ok(slots.size > 1, `the ids' keys hash to ${slots.size} different slots`)
      for (const id of ids) await cache.fill(cacheEntry(id), 60)
      for (const id of ids) t.equal((await cache.get(id)).hit, true, 'hit')
      await cache.invalidate(ids)
      t.equal(cache.pendingInvalidations, 0, 'the markers were written (no CROSSSLOT error, nothing deferred)')
      for (const id of ids) t.equal((await cache.get(id)).hit, false, 'invalidated')
      await cache.fill(cacheEntry(ids[0]!), 60)
      t.equal((await cache.get(ids[0]!)).hit, false, 'a stale fill does not overwrite the marker (NX)')
      await waitFor('invalidation message', async () => received.flat().length >= ids.length, 5000)
      t.same(received.flat().sort(), [...ids].sort(), 'the subscriber heard every id')
    })

    t.test('compare-and-delete: the script, and the suspect path that sends it', async (t) => {
      const prefix = `ha_${randomBytes(3).toString('hex')}:`
      await direct.set(`${prefix}x`, 'v1')
      t.equal(await direct.eval(COMPARE_AND_DELETE, 1, `${prefix}x`, 'other'), 0, 'kept when the value changed')
      t.equal(await direct.eval(COMPARE_AND_DELETE, 1, `${prefix}x`, 'v1'), 1, 'deleted when it still holds it')
      let now = Date.now()
      const cache = new RedisTokenCache({
        ...opts,
        keyPrefix: prefix,
        ttlSeconds: 60,
        log,
        entryKey: randomBytes(32),
        now: () => now
      })
      t.teardown(() => cache.close())
      await waitFor('cache ready', connected(cache))
      const id = randomBytes(16).toString('base64url')
      await cache.fill(cacheEntry(id, Math.floor(now / 1000) - 5), 60)
      // the client reconnects (an outage this process saw): entries filled before are suspect
      cache.client.emit('reconnecting')
      now += 100
      t.equal((await cache.get(id)).hit, false, 'a suspect entry is a miss')
      await waitFor('suspect entry deleted', async () => (await direct.exists(`${prefix}tok:${id}`)) === 0, 3000)
      t.pass('the compare-and-delete removed it')
    })

    t.test('authority on the cluster: introspect, revoke, login throttle, two processes', async (t) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'ta-ha-data-'))
      t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
      const prefix = `ha_${randomBytes(3).toString('hex')}:`
      const backend: Backend = {
        name: 'embedded',
        env: { DATA_DIR: dataDir, REDIS_CLUSTER_NODES: cluster.nodeList, REDIS_KEY_PREFIX: prefix },
        dump: async () => '',
        dumpBytes: async () => Buffer.alloc(0),
        cleanup: async () => undefined
      }
      const ta = await startAuthority(t, 'embedded', { backend })
      const other = await ta.replica()
      for (const app of [ta.app, other]) await waitFor('redis ready', connected(app.authority.cache))
      const svc = await createService(ta, 'cl-introspector', ['tokens:introspect', 'tokens:revoke'])
      const ownerId = await createAccount(ta, {
        username: 'cl-owner',
        password: 'cl-owner-password-1',
        kind: 'service',
        permissions: ['tokens:introspect']
      })
      const values: string[] = []
      for (let i = 0; i < 6; i++) {
        const res = await ta.app.inject({
          method: 'POST',
          url: `/v1/accounts/${ownerId}/tokens`,
          headers: bearer(ta.adminToken),
          payload: { name: `c${i}`, scopes: ['tokens:introspect'], password: ADMIN.password }
        })
        values.push(res.json().access_token as string)
      }
      const onOther = { ...ta, app: other }
      for (const v of values) {
        t.equal((await introspect(ta, svc.token, v)).active, true)
        t.equal((await introspect(onOther, svc.token, v)).active, true)
      }
      const hits = ta.app.authority.cache.stats.hits + other.authority.cache.stats.hits
      for (const v of values) await introspect(onOther, svc.token, v)
      t.ok(ta.app.authority.cache.stats.hits + other.authority.cache.stats.hits > hits, 'answered from the cluster')
      // revoke all of the account's tokens at once: markers for keys in several slots
      const del = await ta.app.inject({
        method: 'DELETE',
        url: `/v1/accounts/${ownerId}/tokens`,
        headers: bearer(ta.adminToken),
        payload: { password: ADMIN.password }
      })
      t.equal(del.statusCode, 200, `revoked all (${del.body.slice(0, 80)})`)
      t.equal((ta.app.authority.cache as RedisTokenCache).pendingInvalidations, 0, 'no invalidation deferred')
      for (const v of values) {
        t.equal((await introspect(ta, svc.token, v)).active, false, 'inactive here')
        t.equal((await introspect(onOther, svc.token, v)).active, false, 'inactive on the other process at once')
      }
      // the login throttle's counters (rate-limiter-flexible's script) work on the cluster
      const failures = ta.app.authority.cache.stats.errors
      for (let i = 0; i < 3; i++) {
        const res = await other.inject({
          method: 'POST',
          url: '/v1/auth/admin/token',
          payload: { username: ADMIN.username, password: 'wrong-password-123' }
        })
        t.equal(res.statusCode, 401)
      }
      const throttleKeys = await keysOn(direct, `${prefix}*login*`)
      t.ok(throttleKeys > 0, `login throttle counters are in the cluster (${throttleKeys} keys)`)
      t.equal(ta.app.authority.cache.stats.errors, failures, 'no Redis errors')
    })
  })
}

/** CRC16 (XMODEM) mod 16384 of the key (or its {hash tag}): the slot Redis Cluster puts it in. */
function clusterSlot(key: string): number {
  const open = key.indexOf('{')
  if (open >= 0) {
    const close = key.indexOf('}', open + 1)
    if (close > open + 1) key = key.slice(open + 1, close)
  }
  let crc = 0
  for (const byte of Buffer.from(key)) {
    crc ^= byte << 8
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc % 16384
}

async function keysOn(cluster: Cluster, pattern: string): Promise<number> {
  let n = 0
  for (const node of cluster.nodes('master')) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
      cursor = next
      n += keys.length
    } while (cursor !== '0')
  }
  return n
}
