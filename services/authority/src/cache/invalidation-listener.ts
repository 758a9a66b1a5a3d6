import type { FastifyBaseLogger } from 'fastify'
import type { RedisTarget } from '../config.js'
import { invalidationChannel } from './redis-cache.js'
import { createRedisClient, type RedisClient } from './redis-client.js'

export interface InvalidationListenerOptions {
  /** where Redis is (the config's target, or a `redis://` URL): the same factory as the hot path */
  target: RedisTarget | string
  keyPrefix: string
  connectTimeoutMs: number
  log: FastifyBaseLogger
  /** token ids another replica (or this one) invalidated */
  onIds(ids: readonly string[]): void
  /** the subscription was (re)established: anything published meanwhile may have been missed */
  onReset(): void
}

/**
 * Listens on `<prefix>invalidate`, where every replica publishes the ids of tokens a change denied
 * access to, so what a replica keeps in process (reused caller verifications) is dropped within
 * milliseconds of a change made elsewhere. After a reconnect everything kept is dropped: messages
 * sent while the subscription was down are lost.
 */
export class InvalidationListener {
  readonly #client: RedisClient
  #closed = false

  constructor(o: InvalidationListenerOptions) {
    const channel = invalidationChannel(o.keyPrefix)
    // subscribed by hand on every 'ready' (no auto-resubscribe), so what was kept is dropped only
    // once SUBSCRIBE holds. In a Redis Cluster a PUBLISH reaches the subscribers of every node.
    this.#client = createRedisClient(
      { target: o.target, connectTimeoutMs: o.connectTimeoutMs, commandTimeoutMs: 0 },
      'subscriber'
    )
    this.#client.on('error', (err: NodeJS.ErrnoException) => {
      o.log.warn({ code: err.code }, 'invalidation subscriber error')
    })
    this.#client.on('ready', () => {
      this.#client.subscribe(channel).then(
        () => o.onReset(),
        (err: NodeJS.ErrnoException) => {
          o.log.warn({ code: err.code }, 'invalidation subscribe failed; reconnecting')
          o.onReset()
          if (!this.#closed) this.#client.disconnect(true)
        }
      )
    })
    this.#client.on('close', () => {
      if (!this.#closed) o.onReset()
    })
    this.#client.on('message', (ch: string, message: string) => {
      if (ch !== channel) return
      try {
        const { ids } = JSON.parse(message) as { ids?: unknown }
        if (Array.isArray(ids)) o.onIds(ids.filter((id): id is string => typeof id === 'string'))
      } catch {
        o.log.warn('malformed invalidation message ignored')
      }
    })
  }

  async close(): Promise<void> {
    this.#closed = true
    // An unreachable or paused Redis never answers QUIT (and a queued QUIT never settles after a
    // disconnect): do not hold shutdown on it.
    if (this.#client.status !== 'ready') {
      this.#client.disconnect()
      return
    }
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 1000)
    })
    try {
      await Promise.race([this.#client.quit(), late])
    } catch {
      // closing anyway
    } finally {
      clearTimeout(timer)
      this.#client.disconnect()
    }
  }
}
