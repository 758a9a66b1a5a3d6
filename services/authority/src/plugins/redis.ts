import fp from 'fastify-plugin'
import { createRedisClient, type RedisClient, type RedisClientOptions } from '../cache/redis-client.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** one node, the primary Sentinel names, or a Cluster (cache/redis-client.ts) */
    redis: RedisClient
  }
}

/**
 * Either a client (its owner closes it) or where to connect (then closed with the app), as
 * @fastify/redis. Where to connect is the config's target (REDIS_URL, REDIS_SENTINELS or
 * REDIS_CLUSTER_NODES): the same factory as boot.ts.
 */
export type RedisPluginOptions = { client: RedisClient } | RedisClientOptions

/**
 * Decorates `app.redis`. A client it creates is waited for (ready, or the first error fails the
 * registration) and closed in onClose; a lent client is neither: the hot path answers from the
 * database while Redis is down, so a lent client need not be up at start.
 */
export const redisPlugin = fp<RedisPluginOptions>(
  async (app, opts) => {
    if ('client' in opts) {
      app.decorate<RedisClient>('redis', opts.client)
      return
    }
    const client = createRedisClient(opts)
    app.decorate<RedisClient>('redis', client)
    app.addHook('onClose', async () => {
      await client.quit().catch(() => client.disconnect())
    })
    if (client.status === 'ready') return
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        client.off('ready', onReady)
        client.disconnect()
        reject(err)
      }
      const onReady = () => {
        client.off('error', onError)
        resolve()
      }
      client.once('ready', onReady)
      client.once('error', onError)
    })
  },
  { name: 'authority-redis', fastify: '5.x' }
)
