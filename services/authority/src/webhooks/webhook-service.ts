import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import { recordAudit, type Actor } from '../audit/audit.repository.js'
import type { Clock } from '../clock.js'
import type { QueryGuard } from '../db/fault-policy.js'
import type { Database, WebhookDeliveriesTable, WebhookEndpointRow } from '../db/tables.js'
import { err } from '../errors.js'
import { EVENT_TYPES, type EventType } from './events.js'
import { newWebhookSecret, type SecretBox } from './secret-box.js'
import {
  deleteEndpoint,
  findEndpoint,
  insertDeliveries,
  insertEndpoint,
  insertOutboxEvent,
  listDeliveries,
  listEndpoints,
  updateEndpoint,
  type DeliveryLogRow
} from './webhook.repository.js'

/** The event types an endpoint may subscribe to (webhook.test is only sent on request). */
export const SUBSCRIBABLE_EVENTS = EVENT_TYPES.filter((t) => t !== 'webhook.test')

export interface WebhookEndpoint {
  id: string
  url: string
  description: string
  eventTypes: string[]
  enabled: boolean
  createdBy: string | null
  createdAt: number
  updatedAt: number
}

export interface DeliveryLogEntry {
  id: string
  eventId: string
  eventType: string
  status: WebhookDeliveriesTable['status']
  attempts: number
  nextAttemptAt: number | null
  lastHttpStatus: number | null
  lastError: string | null
  lastLatencyMs: number | null
  createdAt: number
  updatedAt: number
  deliveredAt: number | null
}

function toEndpoint(r: WebhookEndpointRow): WebhookEndpoint {
  return {
    id: r.id,
    url: r.url,
    description: r.description,
    eventTypes: JSON.parse(r.event_types) as string[],
    enabled: Number(r.enabled) === 1,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at)
  }
}

function toLogEntry(r: DeliveryLogRow): DeliveryLogEntry {
  return {
    id: r.id,
    eventId: r.event_id,
    eventType: r.type,
    status: r.status,
    attempts: Number(r.attempts),
    nextAttemptAt: r.status === 'pending' ? Number(r.next_attempt_at) : null,
    lastHttpStatus: r.last_http_status === null ? null : Number(r.last_http_status),
    lastError: r.last_error,
    lastLatencyMs: r.last_latency_ms === null ? null : Number(r.last_latency_ms),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at)
  }
}

/**
 * A receiver URL: absolute http(s), no user:password part (a credential in a URL ends up in logs),
 * no fragment. Private and loopback addresses are allowed on purpose (docs/webhooks.md: SSRF).
 */
export function checkWebhookUrl(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw err.invalid_webhook_url('url is not an absolute URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw err.invalid_webhook_url('url must be http or https')
  if (url.username !== '' || url.password !== '')
    throw err.invalid_webhook_url('url must not carry a user name or password; authenticate with the signature')
  if (url.hash !== '') throw err.invalid_webhook_url('url must not have a fragment')
  return url.href
}

function checkEventTypes(types: readonly string[]): string[] {
  const unknown = types.filter((t) => !(SUBSCRIBABLE_EVENTS as readonly string[]).includes(t))
  if (unknown.length > 0) throw err.validation_failed(`unknown event type ${unknown.join(', ')}`)
  return [...new Set(types)].sort()
}

const encodeCursor = (r: { createdAt: number; id: string }) =>
  Buffer.from(JSON.stringify([r.createdAt, r.id])).toString('base64url')

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      Number.isSafeInteger(v[0]) &&
      typeof v[1] === 'string' &&
      v[1].length <= 36
    )
      return { createdAt: v[0] as number, id: v[1] }
  } catch {
    // falls through
  }
  throw err.validation_failed('cursor is not one this service issued')
}

/** Admin management of webhook endpoints (docs/webhooks.md); every change audited in its transaction. */
export class WebhookService {
  constructor(
    private readonly o: {
      db: Kysely<Database>
      guard: QueryGuard
      clock: Clock
      box: SecretBox
      /** the local delivery worker looks at once (a test event) */
      nudge: () => void
    }
  ) {}

  async create(
    input: { url: string; description?: string | undefined; eventTypes: string[]; enabled?: boolean | undefined },
    actor: Actor
  ): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const url = checkWebhookUrl(input.url)
    const eventTypes = checkEventTypes(input.eventTypes)
    const now = this.o.clock.now()
    const id = randomUUID()
    const secret = newWebhookSecret()
    const row: WebhookEndpointRow = {
      id,
      url,
      description: input.description ?? '',
      event_types: JSON.stringify(eventTypes),
      secret_sealed: this.o.box.seal(secret, id),
      enabled: input.enabled === false ? 0 : 1,
      created_by: actor.accountId,
      created_at: now,
      updated_at: now
    }
    await this.o.guard(
      this.o.db.transaction().execute(async (trx) => {
        await insertEndpoint(trx, row)
        await recordAudit(trx, now, actor, 'webhook.create', {}, { endpoint: id, url: redactedUrl(url), eventTypes })
      })
    )
    return { endpoint: toEndpoint(row), secret }
  }

  async get(id: string): Promise<WebhookEndpoint> {
    const row = await this.o.guard(findEndpoint(this.o.db, id))
    if (row === undefined) throw err.not_found('webhook endpoint not found')
    return toEndpoint(row)
  }

  async list(opts: {
    limit: number
    cursor?: string | undefined
  }): Promise<{ endpoints: WebhookEndpoint[]; nextCursor: string | null }> {
    const after = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor)
    const rows = await this.o.guard(listEndpoints(this.o.db, { limit: opts.limit + 1, after }))
    const page = rows.slice(0, opts.limit).map(toEndpoint)
    const last = page[page.length - 1]
    return { endpoints: page, nextCursor: rows.length > opts.limit && last ? encodeCursor(last) : null }
  }

  async update(
    id: string,
    patch: {
      url?: string | undefined
      description?: string | undefined
      eventTypes?: string[] | undefined
      enabled?: boolean | undefined
    },
    actor: Actor
  ): Promise<WebhookEndpoint> {
    const set: Parameters<typeof updateEndpoint>[2] = {}
    const details: Record<string, unknown> = {}
    if (patch.url !== undefined) {
      set.url = checkWebhookUrl(patch.url)
      details.url = redactedUrl(set.url)
    }
    if (patch.description !== undefined) set.description = patch.description
    if (patch.eventTypes !== undefined) {
      const types = checkEventTypes(patch.eventTypes)
      set.event_types = JSON.stringify(types)
      details.eventTypes = types
    }
    if (patch.enabled !== undefined) {
      set.enabled = patch.enabled ? 1 : 0
      details.enabled = patch.enabled
    }
    const now = this.o.clock.now()
    set.updated_at = now
    await this.o.guard(
      this.o.db.transaction().execute(async (trx) => {
        if (!(await updateEndpoint(trx, id, set))) throw err.not_found('webhook endpoint not found')
        await recordAudit(trx, now, actor, 'webhook.edit', {}, { endpoint: id, ...details })
      })
    )
    if (patch.enabled === true) this.o.nudge()
    return this.get(id)
  }

  async remove(id: string, actor: Actor): Promise<void> {
    const now = this.o.clock.now()
    await this.o.guard(
      this.o.db.transaction().execute(async (trx) => {
        if (!(await deleteEndpoint(trx, id))) throw err.not_found('webhook endpoint not found')
        await recordAudit(trx, now, actor, 'webhook.delete', {}, { endpoint: id })
      })
    )
  }

  /** A new secret, shown once; the old one stops signing at once (receivers accept both meanwhile: docs). */
  async rotateSecret(id: string, actor: Actor): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const secret = newWebhookSecret()
    const now = this.o.clock.now()
    await this.o.guard(
      this.o.db.transaction().execute(async (trx) => {
        if (!(await updateEndpoint(trx, id, { secret_sealed: this.o.box.seal(secret, id), updated_at: now })))
          throw err.not_found('webhook endpoint not found')
        await recordAudit(trx, now, actor, 'webhook.rotate_secret', {}, { endpoint: id })
      })
    )
    return { endpoint: await this.get(id), secret }
  }

  /** Queues a `webhook.test` event to this endpoint only (even a paused one gets it once enabled). */
  async sendTest(id: string, actor: Actor): Promise<{ eventId: string }> {
    const now = this.o.clock.now()
    const eventId = randomUUID()
    const type: EventType = 'webhook.test'
    await this.o.guard(
      this.o.db.transaction().execute(async (trx) => {
        if ((await findEndpoint(trx, id)) === undefined) throw err.not_found('webhook endpoint not found')
        await insertOutboxEvent(trx, {
          id: eventId,
          type,
          payload: JSON.stringify({ endpoint_id: id, requested_by: actor.accountId }),
          created_at: now
        })
        await insertDeliveries(trx, eventId, [id], now)
      })
    )
    this.o.nudge()
    return { eventId }
  }

  async deliveries(
    id: string,
    opts: { limit: number; cursor?: string | undefined; status?: WebhookDeliveriesTable['status'] | undefined }
  ): Promise<{ deliveries: DeliveryLogEntry[]; nextCursor: string | null }> {
    await this.get(id)
    const after = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor)
    const rows = await this.o.guard(
      listDeliveries(this.o.db, id, { limit: opts.limit + 1, status: opts.status, after })
    )
    const page = rows.slice(0, opts.limit).map(toLogEntry)
    const last = page[page.length - 1]
    return { deliveries: page, nextCursor: rows.length > opts.limit && last ? encodeCursor(last) : null }
  }
}

/** The URL for the audit log: scheme, host and path (a query string may carry a receiver's token). */
function redactedUrl(url: string): string {
  const u = new URL(url)
  return `${u.protocol}//${u.host}${u.pathname}`
}
