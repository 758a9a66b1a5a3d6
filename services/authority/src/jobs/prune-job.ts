import type { FastifyBaseLogger } from 'fastify'
import type { Kysely } from 'kysely'
import type { Clock } from '../clock.js'
import type { Database } from '../db/tables.js'
import { pruneTokenRows } from '../tokens/token-store.js'

/**
 * Deletes token rows that expired or were revoked longer ago than the retention window. A pruned
 * token still introspects inactive: its expiry is signed into the value (reason `expired`).
 */
export async function pruneNow(db: Kysely<Database>, clock: Clock, retentionMs: number): Promise<number> {
  return pruneTokenRows(db, clock.now() - retentionMs)
}

export function startPruneJob(o: { db: Kysely<Database>; clock: Clock; retentionMs: number; intervalMs: number; log: FastifyBaseLogger }): {
  stop(): void
} {
  let running: Promise<void> | null = null
  const timer = setInterval(() => {
    if (running) return
    running = pruneNow(o.db, o.clock, o.retentionMs)
      .then((n) => {
        if (n > 0) o.log.info({ pruned: n }, 'pruned expired and revoked tokens')
      })
      .catch((err: Error) => o.log.warn({ msg_: err.message }, 'prune failed; will retry'))
      .finally(() => {
        running = null
      })
  }, o.intervalMs)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
