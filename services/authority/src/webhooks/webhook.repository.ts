import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import type {
  Database,
  OutboxEventRow,
  WebhookDeliveriesTable,
  WebhookDeliveryRow,
  WebhookEndpointRow
} from '../db/tables.js'

/** Every webhook query (endpoints, outbox, deliveries, token notices); `db` first so a transaction drops in. */

export async function insertOutboxEvent(
  db: Kysely<Database>,
  e: { id: string; type: string; payload: string; created_at: number }
): Promise<void> {
  await db.insertInto('outbox_events').values(e).execute()
}

/** Enabled endpoints subscribed to `type` (the endpoint table is small: read whole, filtered here). */
export async function subscribedEndpointIds(db: Kysely<Database>, type: string): Promise<string[]> {
  const rows = await db.selectFrom('webhook_endpoints').select(['id', 'event_types']).where('enabled', '=', 1).execute()
  return rows.filter((r) => (JSON.parse(r.event_types) as string[]).includes(type)).map((r) => r.id)
}

export async function insertDeliveries(
  db: Kysely<Database>,
  eventId: string,
  endpointIds: readonly string[],
  at: number
): Promise<void> {
  if (endpointIds.length === 0) return
  await db
    .insertInto('webhook_deliveries')
    .values(
      endpointIds.map((endpointId) => ({
        id: randomUUID(),
        endpoint_id: endpointId,
        event_id: eventId,
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: at,
        claimed_by: null,
        lease_until: null,
        last_http_status: null,
        last_error: null,
        last_latency_ms: null,
        created_at: at,
        updated_at: at,
        delivered_at: null
      }))
    )
    .execute()
}

// ------------------------------------------------------------------ endpoints

export async function insertEndpoint(db: Kysely<Database>, row: WebhookEndpointRow): Promise<void> {
  await db.insertInto('webhook_endpoints').values(row).execute()
}

export async function findEndpoint(db: Kysely<Database>, id: string): Promise<WebhookEndpointRow | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function listEndpoints(
  db: Kysely<Database>,
  opts: { limit: number; after?: { createdAt: number; id: string } | undefined }
): Promise<WebhookEndpointRow[]> {
  let q = db.selectFrom('webhook_endpoints').selectAll()
  if (opts.after) {
    const { createdAt, id } = opts.after
    q = q.where((eb) =>
      eb.or([eb('created_at', '>', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '>', id)])])
    )
  }
  return q.orderBy('created_at').orderBy('id').limit(opts.limit).execute()
}

export async function updateEndpoint(
  db: Kysely<Database>,
  id: string,
  set: Partial<Omit<WebhookEndpointRow, 'id' | 'created_at' | 'created_by'>>
): Promise<boolean> {
  const r = await db.updateTable('webhook_endpoints').set(set).where('id', '=', id).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

/** Deletes the endpoint and its delivery log. */
export async function deleteEndpoint(db: Kysely<Database>, id: string): Promise<boolean> {
  await db.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute()
  const r = await db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst()
  return Number(r.numDeletedRows) === 1
}

// ------------------------------------------------------------------ deliveries

export interface DeliveryLogRow extends WebhookDeliveryRow {
  type: string
}

/** An endpoint's delivery log, newest first (cursor: created_at and id of the last row seen). */
export async function listDeliveries(
  db: Kysely<Database>,
  endpointId: string,
  opts: {
    limit: number
    status?: WebhookDeliveriesTable['status'] | undefined
    after?: { createdAt: number; id: string } | undefined
  }
): Promise<DeliveryLogRow[]> {
  let q = db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('outbox_events as e', 'e.id', 'd.event_id')
    .selectAll('d')
    .select('e.type')
    .where('d.endpoint_id', '=', endpointId)
  if (opts.status) q = q.where('d.status', '=', opts.status)
  if (opts.after) {
    const { createdAt, id } = opts.after
    q = q.where((eb) =>
      eb.or([eb('d.created_at', '<', createdAt), eb.and([eb('d.created_at', '=', createdAt), eb('d.id', '<', id)])])
    )
  }
  return q.orderBy('d.created_at', 'desc').orderBy('d.id', 'desc').limit(opts.limit).execute()
}

/** Enabled endpoints with pending deliveries due now (lease unset or run out), longest-waiting first. */
export async function endpointsWithDueDeliveries(db: Kysely<Database>, now: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as w', 'w.id', 'd.endpoint_id')
    .select('d.endpoint_id')
    .where('d.status', '=', 'pending')
    .where('d.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('d.lease_until', 'is', null), eb('d.lease_until', '<', now)]))
    .where('w.enabled', '=', 1)
    .groupBy('d.endpoint_id')
    .orderBy((eb) => eb.fn.min('d.next_attempt_at'))
    .limit(limit)
    .execute()
  return rows.map((r) => r.endpoint_id)
}

/** One endpoint's pending deliveries due now whose lease (if any) has run out: candidates to claim. */
export async function dueDeliveryIds(
  db: Kysely<Database>,
  endpointId: string,
  now: number,
  limit: number
): Promise<string[]> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute()
  return rows.map((r) => r.id)
}

/**
 * Claims one delivery for `worker` until `leaseUntil`: a conditional UPDATE that succeeds for one
 * worker only (the row is still pending and unleased when it runs). Returns whether it did.
 */
export async function claimDelivery(
  db: Kysely<Database>,
  id: string,
  worker: string,
  now: number,
  leaseUntil: number
): Promise<boolean> {
  const r = await db
    .updateTable('webhook_deliveries')
    .set({ claimed_by: worker, lease_until: leaseUntil, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export interface ClaimedDelivery {
  delivery: WebhookDeliveryRow
  event: OutboxEventRow
  endpoint: WebhookEndpointRow
}

export async function loadClaimed(db: Kysely<Database>, id: string): Promise<ClaimedDelivery | undefined> {
  const delivery = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst()
  if (delivery === undefined) return undefined
  const [event, endpoint] = await Promise.all([
    db.selectFrom('outbox_events').selectAll().where('id', '=', delivery.event_id).executeTakeFirst(),
    db.selectFrom('webhook_endpoints').selectAll().where('id', '=', delivery.endpoint_id).executeTakeFirst()
  ])
  if (event === undefined || endpoint === undefined) return undefined
  return { delivery, event, endpoint }
}

/** Records an attempt's outcome, only while `worker` still holds the claim. */
export async function finishAttempt(
  db: Kysely<Database>,
  id: string,
  worker: string,
  set: {
    status: WebhookDeliveriesTable['status']
    attempts: number
    next_attempt_at: number
    last_http_status: number | null
    last_error: string | null
    last_latency_ms: number
    delivered_at: number | null
    updated_at: number
  }
): Promise<boolean> {
  const r = await db
    .updateTable('webhook_deliveries')
    .set({ ...set, claimed_by: null, lease_until: null })
    .where('id', '=', id)
    .where('claimed_by', '=', worker)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

/**
 * Deletes delivered and failed deliveries and events no delivery refers to, older than `before`,
 * and the notice rows of tokens that are gone (pruned).
 */
export async function pruneWebhookRows(db: Kysely<Database>, before: number): Promise<number> {
  const d = await db
    .deleteFrom('webhook_deliveries')
    .where('status', 'in', ['delivered', 'failed'])
    .where('updated_at', '<', before)
    .executeTakeFirst()
  const e = await db
    .deleteFrom('outbox_events')
    .where('created_at', '<', before)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('webhook_deliveries as d').select('d.id').whereRef('d.event_id', '=', 'outbox_events.id')))
    )
    .executeTakeFirst()
  const n = await db
    .deleteFrom('token_notices')
    .where('at', '<', before)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('tokens as t').select('t.id').whereRef('t.id', '=', 'token_notices.token_id')))
    )
    .executeTakeFirst()
  return Number(d.numDeletedRows) + Number(e.numDeletedRows) + Number(n.numDeletedRows)
}

// ------------------------------------------------------------------ token notices

/**
 * Records that `notice` was emitted for a token; false when it already was (a replica or an
 * earlier run did it). The primary key decides: INSERT IGNORE / INSERT OR IGNORE.
 */
export async function claimNotice(
  db: Kysely<Database>,
  mysql: boolean,
  tokenId: string,
  notice: string,
  at: number
): Promise<boolean> {
  const row = { token_id: tokenId, notice, at }
  const q = mysql
    ? db.insertInto('token_notices').values(row).ignore()
    : db.insertInto('token_notices').values(row).orIgnore()
  const r = await q.executeTakeFirst()
  return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1
}

export interface NoticeCandidate {
  id: string
  account_id: string
  kind: string
  name: string
  expires_at: number
}

/**
 * PATs and service tokens, not revoked, expiring in (from, to] that have not had `notice` yet
 * (login tokens live hours, not days: no notices).
 */
export async function tokensWithoutNotice(
  db: Kysely<Database>,
  notice: string,
  from: number,
  to: number,
  limit: number
): Promise<NoticeCandidate[]> {
  const rows = await db
    .selectFrom('tokens as t')
    .select(['t.id', 't.account_id', 't.kind', 't.name', 't.expires_at'])
    .where('t.kind', 'in', ['pat', 'svc'])
    .where('t.revoked_at', 'is', null)
    .where('t.expires_at', '>', from)
    .where('t.expires_at', '<=', to)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('token_notices as n')
            .select('n.token_id')
            .whereRef('n.token_id', '=', 't.id')
            .where('n.notice', '=', notice)
        )
      )
    )
    .orderBy('t.expires_at')
    .limit(limit)
    .execute()
  return rows.map((r) => ({ ...r, expires_at: Number(r.expires_at) }))
}

/** unix ms as a number whichever driver read it */
export const ms = (v: number | string | bigint | null): number | null => (v === null ? null : Number(v))
