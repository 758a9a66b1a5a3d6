import type { FastifyBaseLogger } from 'fastify'
import type { Kysely } from 'kysely'
import type { Clock } from '../clock.js'
import type { Database } from '../db/tables.js'
import { pruneRevocations } from '../revocations/revocation.repository.js'
import { pruneTokenRows } from '../tokens/token.repository.js'
import { pruneWebhookRows } from '../webhooks/webhook.repository.js'

/** How long each kind of row is kept after it stopped mattering. */
export interface Retention {
  /** token rows, after they expired or were revoked */
  retentionMs: number
  /** the revocation log's events (a consumer further behind gets a reset) */
  revocationRetentionMs: number
  /** the webhook delivery log (delivered and failed) and its events */
  webhookRetentionMs: number
}

export interface Pruned {
  /** token rows */
  tokens: number
  /** revocation log events */
  revocationEvents: number
  /** webhook deliveries and events */
  webhookRows: number
}

/**
 * Deletes token rows that expired or were revoked longer ago than the retention window. A pruned
 * token still introspects inactive: its expiry is signed into the value (reason `expired`).
 */
export async function pruneNow(db: Kysely<Database>, clock: Clock, retentionMs: number): Promise<number> {
  return pruneTokenRows(db, clock.now() - retentionMs)
}

/** One pass over everything with a retention: what the job runs, and the CLI's `prune`. */
export async function pruneAll(db: Kysely<Database>, clock: Clock, r: Retention): Promise<Pruned> {
  const now = clock.now()
  const [tokens, revocationEvents, webhookRows] = await Promise.all([
    pruneTokenRows(db, now - r.retentionMs),
    pruneRevocations(db, now - r.revocationRetentionMs),
    pruneWebhookRows(db, now - r.webhookRetentionMs)
  ])
  return { tokens, revocationEvents, webhookRows }
}

export function startPruneJob(
  o: Retention & {
    db: Kysely<Database>
    clock: Clock
    intervalMs: number
    log: FastifyBaseLogger
  }
): {
  stop(): void
} {
  let running: Promise<void> | null = null
  const timer = setInterval(() => {
    if (running) return
    running = pruneAll(o.db, o.clock, o)
      .then(({ tokens, revocationEvents, webhookRows }) => {
        if (webhookRows > 0) o.log.info({ pruned: webhookRows }, 'pruned webhook deliveries and events past retention')
        if (tokens > 0) o.log.info({ pruned: tokens }, 'pruned expired and revoked tokens')
        if (revocationEvents > 0)
          o.log.info({ pruned: revocationEvents }, 'pruned revocation log events past retention')
      })
      .catch((err: Error) => o.log.warn({ msg_: err.message }, 'prune failed; will retry'))
      .finally(() => {
        running = null
      })
  }, o.intervalMs)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
