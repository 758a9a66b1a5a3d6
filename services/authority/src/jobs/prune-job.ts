import type { FastifyBaseLogger } from 'fastify'
import type { Kysely } from 'kysely'
import type { Clock } from '../clock.js'
import type { Database } from '../db/tables.js'
import { pruneRevocations } from '../revocations/revocation.repository.js'
import { pruneTokenRows } from '../tokens/token.repository.js'
import { pruneWebhookRows } from '../webhooks/webhook.repository.js'

/**
 * Deletes token rows that expired or were revoked longer ago than the retention window. A pruned
 * token still introspects inactive: its expiry is signed into the value (reason `expired`).
 */
export async function pruneNow(db: Kysely<Database>, clock: Clock, retentionMs: number): Promise<number> {
  return pruneTokenRows(db, clock.now() - retentionMs)
}

export function startPruneJob(o: {
  db: Kysely<Database>
  clock: Clock
  retentionMs: number
  /** how long the revocation log keeps its events (a consumer further behind gets a reset) */
  revocationRetentionMs: number
  /** how long the webhook delivery log (delivered and failed) and its events are kept */
  webhookRetentionMs: number
  intervalMs: number
  log: FastifyBaseLogger
}): {
  stop(): void
} {
  let running: Promise<void> | null = null
  const timer = setInterval(() => {
    if (running) return
    running = Promise.all([
      pruneNow(o.db, o.clock, o.retentionMs),
      pruneRevocations(o.db, o.clock.now() - o.revocationRetentionMs),
      pruneWebhookRows(o.db, o.clock.now() - o.webhookRetentionMs)
    ])
      .then(([n, events, webhookRows]) => {
        if (webhookRows > 0) o.log.info({ pruned: webhookRows }, 'pruned webhook deliveries and events past retention')
        if (n > 0) o.log.info({ pruned: n }, 'pruned expired and revoked tokens')
        if (events > 0) o.log.info({ pruned: events }, 'pruned revocation log events past retention')
      })
      .catch((err: Error) => o.log.warn({ msg_: err.message }, 'prune failed; will retry'))
      .finally(() => {
        running = null
      })
  }, o.intervalMs)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
